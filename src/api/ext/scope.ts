/**
 * How the JSON API under /_eni/ knows who calls and runs cloud code for them. A request signed
 * with SigV4 (Authorization header or presigned query, service `ec2`) acts as the account its
 * key maps to, in the region of its credential scope — in `--auth sigv4` mode a signature is
 * required, exactly as on the EC2 endpoint. An unsigned request (open mode only) names its
 * account and region in `x-eni-account` / `x-eni-region` (or the same names in the query string
 * or JSON body).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CloudConfig } from '../../cloud/config.ts';
import type { Context } from '../../cloud/context.ts';
import type { EventBus } from '../../events.ts';
import type { Store } from '../../store/index.ts';
import type { Authenticator } from '../ec2/auth.ts';
import { Ec2Error } from '../../cloud/errors.ts';
import { runInContext } from '../run.ts';
import type { LinuxPlane } from '../../dataplane/linux/plane.ts';

export interface ExtOptions {
  store: Store;
  config: CloudConfig;
  events: EventBus;
  defaultRegion: string;
  authenticator: Authenticator;
  plane?: LinuxPlane;
}

/** Keeps a JSON body's bytes, which a signature covers, and parses them. */
export function parseJsonWithRawBody(app: FastifyInstance): void {
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    request.rawBody = bytes;
    try {
      done(null, bytes.length ? JSON.parse(bytes.toString('utf8')) : {});
    } catch {
      done(Object.assign(new Error('The body is not valid JSON.'), { statusCode: 400 }), undefined);
    }
  });
}

const signed = (request: FastifyRequest) =>
  request.headers.authorization !== undefined || (request.raw.url ?? '').includes('X-Amz-Signature=');

function pick(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers[`x-eni-${name}`];
  if (typeof header === 'string' && header) return header;
  const query = (request.query ?? {}) as Record<string, unknown>;
  if (typeof query[name] === 'string') return query[name] as string;
  const body = (request.body ?? {}) as Record<string, unknown>;
  return typeof body[name] === 'string' ? (body[name] as string) : undefined;
}

/** Who calls: a verified signature's account and region, or (open mode, unsigned) the named ones. */
export async function scopeOf(request: FastifyRequest, options: ExtOptions): Promise<{ account: string; region: string }> {
  if (options.authenticator.mode === 'sigv4' || signed(request)) {
    const identity = await options.authenticator.authenticate({
      method: request.raw.method ?? 'GET',
      url: request.raw.url ?? '/',
      rawHeaders: request.raw.rawHeaders,
      body: request.rawBody,
    });
    return { account: identity.account, region: identity.region };
  }
  return { account: pick(request, 'account') ?? options.config.defaultAccount, region: pick(request, 'region') ?? options.defaultRegion };
}

export async function inScope<T>(request: FastifyRequest, options: ExtOptions, fn: (ctx: Context) => Promise<T>): Promise<T> {
  const { account, region } = await scopeOf(request, options);
  return runInContext(options, { account, region, requestId: request.id, writes: request.method !== 'GET' }, fn);
}

/** EC2 errors become JSON with the EC2 code and a 4xx status. */
export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof Ec2Error) {
    const status = error.code.endsWith('.NotFound') ? 404 : error.status;
    return reply.code(status).send({ error: { code: error.code, message: error.message } });
  }
  throw error;
}
