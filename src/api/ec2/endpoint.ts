/**
 * The EC2 Query endpoint: `POST /` (form body) and `GET /?Action=…`. Decode → one store
 * transaction around the action → encode. Every failure is an EC2 error envelope.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CloudConfig } from '../../cloud/config.ts';
import type { EventBus } from '../../events.ts';
import type { Store } from '../../store/index.ts';
import { Rollback, runInContext } from '../run.ts';
import { ACTIONS, RESOURCES } from './actions/index.ts';
import { Ec2Error, Errors, fromStoreError } from '../../cloud/errors.ts';
import type { Authenticator } from './auth.ts';
import { credentialScope } from './identity.ts';
import { answerIdentityService, encodeIdentityServiceError, identityServiceOfScope, identityServiceOfVersion } from '../sts/query.ts';
import type { RequestThrottle, ThrottledCall } from './throttle.ts';
import { ec2Model } from './model.ts';
import { decodeInput, parseFormParameters } from './query-decode.ts';
import { encodeError, encodeResponse } from './xml-encode.ts';

export interface Ec2EndpointOptions {
  store: Store;
  config: CloudConfig;
  /** Who is calling (open mode: the credential scope; sigv4 mode: a verified signature). */
  authenticator: Authenticator;
  /** EC2's request token buckets; absent when throttling is off. */
  throttle?: RequestThrottle;
  /** Largest accepted request body, bytes. */
  bodyLimit: number;
  /** Where committed state changes are published. */
  events?: EventBus;
  /** A data plane every committed change is synced to before the answer (the linux one). */
  plane?: { sync(): Promise<void> };
}

/** What the request log line says about an EC2 call. */
export interface Ec2CallLog {
  action?: string;
  code?: string;
  account?: string;
  region?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    ec2?: Ec2CallLog;
    /** The body bytes as received, for signature verification. */
    rawBody?: Buffer;
  }
}


const EMPTY = Buffer.alloc(0);

const REGION_SHAPE = /^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/;

/** Actions that only read: a shared store runs them beside the writers (see Store.transaction). */
const READ_ONLY_ACTION = /^(Describe|Get)[A-Z]/;

export async function ec2Endpoint(app: FastifyInstance, options: Ec2EndpointOptions): Promise<void> {
  const model = ec2Model();
  // The EC2 endpoint reads every body as text, whatever its content type says.
  app.removeAllContentTypeParsers();
  // The bytes are kept as they came: they are signed, and decoded strictly (parseFormParameters).
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (req, body, done) => {
    req.rawBody = body as Buffer;
    done(null, body);
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const requestId = randomUUID();
    const log: Ec2CallLog = {};
    request.ec2 = log;
    reply.header('x-amzn-requestid', requestId);
    const rawQuery = request.raw.url?.includes('?') ? request.raw.url.slice(request.raw.url.indexOf('?') + 1) : '';
    // STS and IAM share this URL (src/api/sts/query.ts): told apart by the credential scope's service.
    const authorization = typeof request.headers.authorization === 'string' ? request.headers.authorization : undefined;
    const scope = credentialScope(authorization, new URLSearchParams(rawQuery));
    let identityService = identityServiceOfScope(scope?.service);
    try {
      // Authentication comes first: an unsigned or badly signed request learns nothing more.
      const identity = await options.authenticator.authenticate(
        { method: request.raw.method ?? 'GET', url: request.raw.url ?? '/', rawHeaders: request.raw.rawHeaders, body: request.rawBody },
        identityService ?? 'ec2',
      );
      // Node hands the request target over as latin1: back to its bytes, then strict UTF-8.
      const params = parseFormParameters([Buffer.from(rawQuery, 'latin1'), request.rawBody ?? EMPTY]);
      // Unsigned (open mode), an STS or IAM request names its service by its API version.
      if (!scope) identityService = identityServiceOfVersion(params.find(([k]) => k === 'Version')?.[1]);
      if (identityService) {
        log.action = `${identityService}:${params.find(([k]) => k === 'Action')?.[1] ?? ''}`;
        log.account = identity.account;
        log.region = identity.region;
        const caller = { account: identity.account, region: identity.region, accessKeyId: identity.accessKeyId };
        reply.code(200).type('text/xml;charset=UTF-8').send(answerIdentityService(identityService, params, caller, requestId));
        return;
      }
      const action = params.find(([k]) => k === 'Action')?.[1];
      if (!action) throw Errors.missingAction();
      log.action = action;
      const operation = model.operations.get(action);
      const handler = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
      if (!operation || !handler) throw Errors.invalidAction(action);
      const version = params.find(([k]) => k === 'Version')?.[1];
      if (version === undefined) throw Errors.missingParameter('Version');
      if (version !== model.apiVersion) throw Errors.noSuchVersion(version);

      if (!REGION_SHAPE.test(identity.region)) {
        throw Errors.authFailure(`The credential scope names an invalid region '${identity.region}'.`);
      }
      log.account = identity.account;
      log.region = identity.region;
      if (options.throttle && !(await admitted(options.throttle, { account: identity.account, region: identity.region, action, params }))) {
        throw Errors.requestLimitExceeded();
      }

      const input = decodeInput(operation, params);
      let output: object;
      try {
        output = await runInContext(
          options,
          {
            account: identity.account,
            region: identity.region,
            requestId,
            writes: !READ_ONLY_ACTION.test(action),
            ...(Object.hasOwn(RESOURCES, action) ? { resources: RESOURCES[action](input) } : {}),
          },
          async (ctx) => {
            const result = await handler(ctx, input);
            if (input.DryRun === true) throw new Rollback();
            return result;
          },
        );
      } catch (error) {
        if (error instanceof Rollback) throw Errors.dryRunOperation();
        throw error;
      }
      reply
        .code(200)
        .type('text/xml;charset=UTF-8')
        .send(encodeResponse(operation, output as Record<string, unknown>, requestId));
    } catch (error) {
      let ec2Error: Ec2Error;
      if (error instanceof Ec2Error) {
        ec2Error = error;
      } else {
        // Anything else is a bug: the client sees InternalError, the log keeps the stack.
        request.log.error({ err: error, action: log.action }, 'unexpected error in EC2 action');
        ec2Error = Errors.internalError();
      }
      log.code = ec2Error.code;
      const body = identityService ? encodeIdentityServiceError(identityService, ec2Error, requestId) : encodeError(ec2Error, requestId);
      reply.code(ec2Error.status).type('text/xml;charset=UTF-8').send(body);
    }
  };

  // Failures before the handler runs (a body over the limit, a broken stream) are EC2 errors too.
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const requestId = randomUUID();
    const tooLarge = error.statusCode === 413;
    const ec2Error = tooLarge
      ? Errors.bodyTooLarge(options.bodyLimit)
      : error.statusCode && error.statusCode < 500
        ? Errors.malformedQueryString(error.message)
        : Errors.internalError();
    if (ec2Error.status >= 500) request.log.error({ err: error }, 'unexpected error before the EC2 action');
    request.ec2 = { code: ec2Error.code };
    reply.code(ec2Error.status).type('text/xml;charset=UTF-8').send(encodeError(ec2Error, requestId));
  });

  app.post('/', handle);
  app.get('/', handle);
}

/**
 * Fastify's `clientErrorHandler`: what Node refuses before any route runs — a request line and
 * headers over Node's limit (a GET with a huge query string), a request not received completely
 * within `requestTimeout` (a slow or stalled body), bytes that are not HTTP — answered with an EC2
 * error envelope, as every other failure is, and the connection closed.
 */
export function ec2ClientErrorHandler(limits: { requestTimeout: number; maxHeaderSize: number }) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const ec2Error =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? Errors.requestTimeout(limits.requestTimeout)
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? Errors.requestHeadersTooLarge(limits.maxHeaderSize)
          : Errors.malformedQueryString(`The request is not valid HTTP/1.1 (${error.code ?? 'parse error'}).`);
    // Only when no response has begun on this connection, as Node's own handler does.
    const inFlight = (socket as Socket & { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?._headerSent) {
      const body = encodeError(ec2Error, randomUUID());
      socket.write(
        `HTTP/1.1 ${ec2Error.status} ${STATUS_CODES[ec2Error.status] ?? 'Error'}\r\n` +
          `Content-Type: text/xml;charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}

/** The throttle's answer; shared buckets that cannot be reached are the store's refusal (503). */
async function admitted(throttle: RequestThrottle, call: ThrottledCall): Promise<boolean> {
  try {
    return await throttle.admit(call);
  } catch (error) {
    throw fromStoreError(error);
  }
}
