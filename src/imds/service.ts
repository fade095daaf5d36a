/**
 * The instance metadata service: answers one HTTP request of one instance completely — the
 * IMDSv2 token endpoint, the token rules of the instance's metadata options, the tree, and
 * IMDS's own errors. Two callers: the host URL on the server (src/api/ext/imds.ts) and the linux
 * data plane, which answers at 169.254.169.254 inside each instance's namespace.
 *
 * AWS's rules (Instance metadata service, "Use the Instance Metadata Service to access instance
 * metadata", and the knowledge-center page on IMDS errors):
 * - `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` 1–21600 answers a token
 *   (and the TTL in the same header); a missing or bad TTL is 400; a PUT carrying
 *   `X-Forwarded-For` is 403 (a proxy relayed it).
 * - A GET with `X-aws-ec2-metadata-token` needs a valid, unexpired token of this instance (else
 *   401), whatever HttpTokens says; without one, HttpTokens=required is 401.
 * - HttpEndpoint=disabled: 403 on every request (the plane does not answer at all instead).
 * - Only GET, HEAD and the token PUT: any other method is 405.
 * - Unknown paths are 404; errors carry IMDS's XHTML page.
 */
import type http from 'node:http';
import type { CloudConfig } from '../cloud/config.ts';
import { metadataOptionsOf } from '../cloud/instances.ts';
import type { Transaction } from 'kysely';
import type { Database, Store } from '../store/index.ts';
import { instanceMetadata, listing, metadataInstance, nodeAt, type MetadataNode } from './tree.ts';
import { issueToken, MAX_TOKEN_TTL_SECONDS, tokenAccepted, tokenSecret, type TokenBinding } from './tokens.ts';

export interface ImdsCaller {
  instanceId: string;
  account: string;
  region: string;
}

export interface ImdsDeps {
  store: Store;
  config: CloudConfig;
  /**
   * Also accept tokens of the host URL's shared token endpoint (`PUT /latest/api/token` at the
   * server's root, see src/api/ext/imds.ts). Only the host URL sets it; in the plane a token is
   * always the instance's own.
   */
  acceptHostTokens?: boolean;
}

/**
 * The metadata versions IMDS lists at `/`; each serves the tree below (AWS keeps old versions for
 * old clients: cloud-init asks for dated ones).
 */
export const METADATA_VERSIONS = [
  '1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01',
  '2009-04-04', '2011-01-01', '2011-05-01', '2012-01-12', '2014-02-25', '2014-11-05', '2015-10-20', '2016-04-19',
  '2016-06-30', '2016-09-02', '2018-03-28', '2018-08-17', '2018-09-24', '2019-10-01', '2020-10-27', '2021-01-03',
  '2021-03-23', '2021-07-15', '2022-09-24', 'latest',
];

const TOKEN_PATH = '/latest/api/token';
const TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
};

/** IMDS's error page (as AWS's own metadata mock reproduces it). */
export function errorPage(status: number): string {
  const title = `${status} - ${STATUS_TEXT[status] ?? 'Error'}`;
  return (
    '<?xml version="1.0" encoding="iso-8859-1"?>\n' +
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
    '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
    '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
    '  <head>\n' +
    `    <title>${title}</title>\n` +
    '  </head>\n' +
    '  <body>\n' +
    `    <h1>${title}</h1>\n` +
    '  </body>\n' +
    '</html>'
  );
}

function send(res: http.ServerResponse, status: number, body: string | Buffer, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), server: 'EC2ws', ...headers });
  res.end(body);
}

export function sendImdsError(res: http.ServerResponse, status: number): void {
  send(res, status, errorPage(status), 'text/html');
}

/** The request's path, with runs of `/` collapsed (the SDK for JavaScript asks for `//latest/…`) and no query. */
export function requestPath(url: string | undefined): string {
  const path = (url ?? '/').split('?')[0].replace(/\/{2,}/g, '/');
  return path.startsWith('/') ? path : `/${path}`;
}

const header = (req: http.IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const instanceBinding = (caller: ImdsCaller): TokenBinding => ({ kind: 'instance', ...caller });

/** Reads the state in one read-only transaction. */
function read<T>(store: Store, fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
  return store.transaction(fn, { writes: false });
}

/** The request handler of one server over a store; see the module comment for what it answers. */
export function imdsRequestHandler(deps: ImdsDeps): (caller: ImdsCaller, req: http.IncomingMessage, res: http.ServerResponse) => void {
  const secret = tokenSecret(deps.store);
  return (caller, req, res) => {
    // Nothing IMDS answers reads a body: let it flow so the connection stays usable.
    req.resume();
    answer(deps, secret, caller, req, res).catch((error: unknown) => {
      console.error('eni-local imds: unexpected error', error);
      if (!res.headersSent) sendImdsError(res, 500);
      else res.destroy();
    });
  };
}

async function answer(deps: ImdsDeps, secret: Buffer, caller: ImdsCaller, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const path = requestPath(req.url);
  const now = new Date();
  if (method === 'PUT') {
    const instance = await read(deps.store, (tx) => metadataInstance(tx, caller, now));
    if (!instance) return sendImdsError(res, 404);
    if (metadataOptionsOf(instance).httpEndpoint === 'disabled') return sendImdsError(res, 403);
    if (path !== TOKEN_PATH) return sendImdsError(res, 405);
    return answerTokenRequest(secret, instanceBinding(caller), req, res, now);
  }
  if (method !== 'GET' && method !== 'HEAD') return sendImdsError(res, 405);

  const metadata = await read(deps.store, (tx) => instanceMetadata(tx, caller, now, { propagationMs: deps.config.timings.imdsPropagationMs }));
  if (!metadata) return sendImdsError(res, 404);
  if (metadata.options.httpEndpoint === 'disabled') return sendImdsError(res, 403);
  const token = header(req, TOKEN_HEADER);
  if (token !== undefined) {
    const bindings: TokenBinding[] = deps.acceptHostTokens ? [instanceBinding(caller), { kind: 'host' }] : [instanceBinding(caller)];
    if (!tokenAccepted(secret, token, bindings, now)) return sendImdsError(res, 401);
  } else if (metadata.options.httpTokens === 'required') {
    return sendImdsError(res, 401);
  }
  if (path === TOKEN_PATH) return sendImdsError(res, 405);
  const segments = path.split('/').filter((s) => s !== '');
  if (!segments.length) return send(res, 200, METADATA_VERSIONS.join('\n'), 'text/plain');
  if (!METADATA_VERSIONS.includes(segments[0])) return sendImdsError(res, 404);
  const node: MetadataNode | undefined = nodeAt(metadata.root, segments.slice(1));
  if (!node) return sendImdsError(res, 404);
  if (node.kind === 'leaf') return send(res, 200, node.body, node.contentType ?? 'text/plain');
  // AWS: the version's own listing names its categories without slashes (`dynamic`, `meta-data`, `user-data`).
  return send(res, 200, listing(node, { slashes: segments.length > 1 }), 'text/plain');
}

/** `PUT /latest/api/token`: a token for the binding, or IMDS's 400/403. */
export function answerTokenRequest(secret: Buffer, binding: TokenBinding, req: http.IncomingMessage, res: http.ServerResponse, now = new Date()): void {
  // AWS: a token request that came through a proxy (it added X-Forwarded-For) is refused.
  if (header(req, 'x-forwarded-for') !== undefined) return sendImdsError(res, 403);
  const ttlText = header(req, TTL_HEADER);
  const ttl = ttlText !== undefined && /^\d{1,5}$/.test(ttlText.trim()) ? Number(ttlText.trim()) : NaN;
  if (!(ttl >= 1 && ttl <= MAX_TOKEN_TTL_SECONDS)) return sendImdsError(res, 400);
  send(res, 200, issueToken(secret, binding, ttl, now), 'text/plain', { [TTL_HEADER]: String(ttl) });
}

/** The options the plane programs into the kernel (the token reply's hop limit, whether to answer at all). */
export async function imdsOptionsOf(
  store: Store,
  caller: ImdsCaller,
): Promise<{ httpEndpoint: 'enabled' | 'disabled'; httpPutResponseHopLimit: number; httpProtocolIpv6: 'enabled' | 'disabled' }> {
  const instance = await read(store, (tx) => metadataInstance(tx, caller, new Date()));
  // An instance that is gone has no metadata service.
  if (!instance) return { httpEndpoint: 'disabled', httpPutResponseHopLimit: 1, httpProtocolIpv6: 'disabled' };
  const options = metadataOptionsOf(instance);
  return { httpEndpoint: options.httpEndpoint, httpPutResponseHopLimit: options.httpPutResponseHopLimit, httpProtocolIpv6: options.httpProtocolIpv6 };
}
