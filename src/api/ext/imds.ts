/**
 * The instance metadata service on the server's own HTTP port, per instance, for agents and
 * tests that run on the host "as" an instance:
 *
 *   AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:4599/_eni/imds/i-0123456789abcdef0
 *
 * The path names the instance (its id is unique across accounts and regions); everything below
 * it is what the instance would see at http://169.254.169.254. botocore (boto3, the AWS CLI)
 * keeps the endpoint's path for every request, token PUT included. The SDK for JavaScript's
 * MetadataService keeps it for its GETs but sends its token PUT to `/latest/api/token` at the
 * server's root, so the root answers that PUT too, with a token of the host URL that every
 * instance's host URL accepts (on the host anyone may pick any instance's path anyway); a token of
 * an instance's own path is that instance's only. The plane never accepts host tokens.
 *
 * In `--auth sigv4` mode, where the server may face a network, the host URL answers only clients
 * on a loopback address (metadata holds user data): others get IMDS's 403.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import ipaddr from 'ipaddr.js';
import { answerTokenRequest, imdsRequestHandler, sendImdsError } from '../../imds/service.ts';
import { tokenSecret } from '../../imds/tokens.ts';
import type { ExtOptions } from './scope.ts';

export const IMDS_HOST_PREFIX = '/_eni/imds/';

function fromLoopback(request: FastifyRequest): boolean {
  const address = request.socket.remoteAddress;
  if (!address || !ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'loopback';
}

export async function imdsHostEndpoint(app: FastifyInstance, options: ExtOptions): Promise<void> {
  const handle = imdsRequestHandler({ store: options.store, config: options.config, acceptHostTokens: true });
  const secret = tokenSecret(options.store);
  // IMDS reads no body: leave it unparsed whatever its type (the handler drains it).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  const allowed = (request: FastifyRequest) => options.authenticator.mode !== 'sigv4' || fromLoopback(request);

  const perInstance = async (request: FastifyRequest<{ Params: { instanceId: string } }>, reply: import('fastify').FastifyReply) => {
    reply.hijack();
    const res = reply.raw;
    if (!allowed(request)) return sendImdsError(res, 403);
    const { instanceId } = request.params;
    const owner = /^i-[0-9a-f]{8,17}$/.test(instanceId)
      ? await options.store.db.selectFrom('instances').select(['account_id', 'region']).where('id', '=', instanceId).executeTakeFirst()
      : undefined;
    if (!owner) return sendImdsError(res, 404);
    // What follows the instance's prefix is the path the instance would ask 169.254.169.254 for.
    const raw = request.raw.url ?? '/';
    const at = raw.indexOf(instanceId) + instanceId.length;
    request.raw.url = raw.slice(at) || '/';
    handle({ instanceId, account: owner.account_id, region: owner.region }, request.raw, res);
  };
  app.all(`${IMDS_HOST_PREFIX}:instanceId`, perInstance);
  app.all(`${IMDS_HOST_PREFIX}:instanceId/*`, perInstance);

  // The SDK for JavaScript's token PUT, which drops the endpoint's path (see above).
  app.all('/latest/*', async (request, reply) => {
    reply.hijack();
    request.raw.resume();
    if (!allowed(request)) return sendImdsError(reply.raw, 403);
    const path = (request.raw.url ?? '').split('?')[0].replace(/\/{2,}/g, '/');
    if (path !== '/latest/api/token') return sendImdsError(reply.raw, 404);
    if (request.method !== 'PUT') return sendImdsError(reply.raw, 405);
    answerTokenRequest(secret, { kind: 'host' }, request.raw, reply.raw);
  });
}
