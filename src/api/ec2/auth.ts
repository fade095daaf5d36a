/**
 * Authentication of EC2 Query requests, in one of two modes:
 *
 * - open: any signature (or none) is accepted; the access key of the credential scope only
 *   chooses the account (identity.ts).
 * - sigv4: every request must carry a valid Signature Version 4, in the `Authorization` header or
 *   as a presigned query (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
 *   `X-Amz-SignedHeaders`, `X-Amz-Expires`, `X-Amz-Signature`), made with a key of the
 *   credentials file. The expected signature is computed by the AWS SDK's own signer
 *   (@smithy/signature-v4) over the request rebuilt from what was received: method, path, raw
 *   query, the signed headers as sent and the raw body bytes.
 *
 * Refusals (errors.ts, "authentication and throttling"): no credentials → MissingParameter
 * (AWSAccessKeyId); unknown key or wrong/missing session token → AuthFailure; malformed header,
 * credential or query parameters → AuthFailure / IncompleteSignature; wrong service, terminator
 * or scope date, altered request, wrong secret → SignatureDoesNotMatch; X-Amz-Date more than
 * 15 minutes off, or a presigned request past its expiry → RequestExpired.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Errors } from '../../cloud/errors.ts';
import { credentialScope, identify, type CredentialEntry, type Identity, type IdentityOptions } from './identity.ts';

/** The request as it came off the wire: everything a signature covers. */
export interface ReceivedRequest {
  method: string;
  /** The request target: path and raw query, exactly as in the request line. */
  url: string;
  /** Header names and values, alternating, as received (Node's `rawHeaders`). */
  rawHeaders: readonly string[];
  /** The body bytes as received; absent when there is none. */
  body?: Uint8Array;
}

export interface Authenticator {
  readonly mode: 'open' | 'sigv4';
  /**
   * The caller's identity, or an `Ec2Error` saying why the request is refused. `service` is the
   * one the credential scope must name (default `ec2`; `sts` for GetCallerIdentity on the same URL).
   */
  authenticate(request: ReceivedRequest, service?: string): Promise<Identity>;
}

export type AuthMode = Authenticator['mode'];

const ALGORITHM = 'AWS4-HMAC-SHA256';
const SERVICE = 'ec2';
const TERMINATOR = 'aws4_request';
/** AWS: a request is refused when its date stamp is more than 15 minutes from the service's clock. */
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** AWS: a presigned request may be valid for at most one week. */
const MAX_PRESIGNED_EXPIRES_S = 7 * 24 * 60 * 60;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const PRESIGN_PARAMETERS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires', 'X-Amz-Signature'] as const;

/** Open mode: the credential scope names the account (by the key → account map) and the region. */
export function openAuthenticator(options: IdentityOptions): Authenticator {
  return {
    mode: 'open',
    authenticate: async (request) => {
      const { rawQuery } = splitTarget(request.url);
      const authorization = headerValues(request.rawHeaders).get('authorization')?.[0];
      return identify(credentialScope(authorization, new URLSearchParams(rawQuery)), options);
    },
  };
}

export interface SigV4Options {
  /** The keys that may sign; each needs its secret. */
  credentials: readonly CredentialEntry[];
  /** The service's clock, ms since the epoch (injected by tests). */
  now?: () => number;
}

/** What a request claims about its signature, from the header or the presigned query. */
interface SignatureClaim {
  credential: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  sessionToken?: string;
  /** Presigned requests only: seconds the signature stays valid after X-Amz-Date. */
  expiresIn?: number;
}

type Query = Record<string, string | string[]>;

/** sigv4 mode: only requests signed by a key of the credentials file get through. */
export function sigv4Authenticator(options: SigV4Options): Authenticator {
  const keys = new Map(options.credentials.map((entry) => [entry.accessKeyId, entry]));
  const now = options.now ?? Date.now;
  // Loading starts now, in the background, so the first request does not wait for it.
  loadSigner().catch(() => {});
  return {
    mode: 'sigv4',
    authenticate: async (request, expectedService = SERVICE) => {
      const { path, rawQuery } = splitTarget(request.url);
      const query = parseQuery(rawQuery);
      const headers = headerValues(request.rawHeaders);
      const authorization = headers.get('authorization');
      const presigned = PRESIGN_PARAMETERS.some((name) => Object.hasOwn(query, name));
      if (!authorization && !presigned) throw Errors.missingAccessKeyId();
      if (authorization && presigned) {
        throw Errors.malformedAuthorization('Only one authentication mechanism is allowed: the Authorization header or the X-Amz-* query parameters.');
      }
      const claim = authorization ? headerClaim(authorization, headers) : presignedClaim(query);

      const parts = claim.credential.split('/');
      if (parts.length !== 5) throw Errors.malformedCredential(claim.credential);
      const [accessKeyId, scopeDate, region, service, terminator] = parts;
      const signingDate = parseAmzDate(claim.amzDate);
      checkScope({ scopeDate, service, expectedService, terminator, amzDate: claim.amzDate });
      checkTime(signingDate.getTime(), now(), claim.expiresIn);

      const entry = keys.get(accessKeyId);
      if (!entry?.secretAccessKey) throw Errors.credentialsNotValidated();
      // AWS: temporary credentials are only valid with their session token, and only theirs.
      if (entry.sessionToken !== claim.sessionToken) throw Errors.credentialsNotValidated();

      const signed = signedHeaderValues(claim.signedHeaders, headers);
      const body = request.body && request.body.byteLength > 0 ? request.body : undefined;
      const declaredPayloadHash = signed['x-amz-content-sha256'];
      if (declaredPayloadHash !== undefined && declaredPayloadHash !== sha256Hex(body ?? new Uint8Array())) {
        throw Errors.signatureDoesNotMatch();
      }
      const { SignatureV4, Sha256 } = await loadSigner();
      const signer = new SignatureV4({
        credentials: { accessKeyId, secretAccessKey: entry.secretAccessKey },
        region,
        service,
        sha256: Sha256,
        // Sign exactly what the client signed: never add a payload-hash header of our own.
        applyChecksum: false,
      });
      const toSign = {
        method: request.method.toUpperCase(),
        protocol: 'http:',
        hostname: hostnameOf(signed.host),
        path: decodePath(path),
        query,
        headers: signed,
        body,
      };
      const names = new Set(claim.signedHeaders);
      const expected =
        claim.expiresIn === undefined
          ? signatureInAuthorization(
              (await signer.sign(toSign, { signingDate, signingRegion: region, signingService: service, signableHeaders: names })).headers,
            )
          : (await signer.presign(toSign, {
              signingDate,
              expiresIn: claim.expiresIn,
              signingRegion: region,
              signingService: service,
              signableHeaders: names,
              unhoistableHeaders: names,
            })).query?.['X-Amz-Signature'];
      if (typeof expected !== 'string' || !sameSignature(claim.signature, expected)) throw Errors.signatureDoesNotMatch();
      return { accessKeyId, region, account: entry.accountId };
    },
  };
}

let signerModule: ReturnType<typeof importSigner> | undefined;

/**
 * The SDK's signer with SHA-256 from Node's crypto (through the SDK's own hash adapter), loaded
 * when first needed: only sigv4 mode verifies signatures, and the modules cost every start.
 */
function loadSigner() {
  return (signerModule ??= importSigner());
}

async function importSigner() {
  const [{ SignatureV4 }, { Hash }] = await Promise.all([import('@smithy/signature-v4'), import('@smithy/hash-node')]);
  class Sha256 extends Hash {
    constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
      super('sha256', secret);
    }
  }
  return { SignatureV4, Sha256 };
}

function headerClaim(authorization: readonly string[], headers: ReadonlyMap<string, string[]>): SignatureClaim {
  if (authorization.length !== 1) throw Errors.malformedAuthorization();
  const match = /^(\S+)\s+(.*)$/s.exec(authorization[0].trim());
  if (!match || match[1] !== ALGORITHM) throw Errors.malformedAuthorization();
  const components = new Map<string, string>();
  for (const part of match[2].split(',')) {
    const component = part.trim();
    if (!component) continue;
    const eq = component.indexOf('=');
    if (eq <= 0) throw Errors.malformedAuthorization();
    const name = component.slice(0, eq);
    if (components.has(name)) throw Errors.malformedAuthorization();
    components.set(name, component.slice(eq + 1));
  }
  for (const name of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!components.get(name)) throw Errors.incompleteSignature(`Authorization header requires '${name}' parameter.`);
  }
  const amzDate = single(headers.get('x-amz-date'));
  if (amzDate === undefined) throw Errors.incompleteSignature("Authorization header requires existence of a 'X-Amz-Date' header.");
  return {
    credential: components.get('Credential')!,
    signedHeaders: components.get('SignedHeaders')!.split(';'),
    signature: components.get('Signature')!,
    amzDate,
    sessionToken: single(headers.get('x-amz-security-token')),
  };
}

function presignedClaim(query: Query): SignatureClaim {
  const value = (name: string) => {
    const v = query[name];
    if (Array.isArray(v)) throw Errors.malformedAuthorization(`The query parameter ${name} appears more than once.`);
    return v;
  };
  for (const name of PRESIGN_PARAMETERS) {
    if (!value(name)) throw Errors.incompleteSignature(`Query-string authentication requires the ${name} parameter.`);
  }
  if (value('X-Amz-Algorithm') !== ALGORITHM) throw Errors.malformedAuthorization();
  const expires = value('X-Amz-Expires')!;
  const expiresIn = Number(expires);
  if (!/^[0-9]+$/.test(expires) || expiresIn < 1 || expiresIn > MAX_PRESIGNED_EXPIRES_S) {
    throw Errors.malformedAuthorization(`X-Amz-Expires must be a number of seconds from 1 to ${MAX_PRESIGNED_EXPIRES_S}, got '${expires}'.`);
  }
  return {
    credential: value('X-Amz-Credential')!,
    signedHeaders: value('X-Amz-SignedHeaders')!.split(';'),
    signature: value('X-Amz-Signature')!,
    amzDate: value('X-Amz-Date')!,
    sessionToken: value('X-Amz-Security-Token'),
    expiresIn,
  };
}

function parseAmzDate(amzDate: string): Date {
  const m = AMZ_DATE.exec(amzDate);
  const date = m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : undefined;
  // Reject dates that do not round-trip (20240231T…) as well as those of another shape.
  if (!date || Number.isNaN(date.getTime()) || date.toISOString().replace(/[-:]|\.\d{3}/g, '') !== amzDate) {
    throw Errors.incompleteSignature(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);
  }
  return date;
}

/** The scope must name this service, the SigV4 terminator and the day of X-Amz-Date (AWS's wording). */
function checkScope({ scopeDate, service, expectedService, terminator, amzDate }: { scopeDate: string; service: string; expectedService: string; terminator: string; amzDate: string }) {
  const problems: string[] = [];
  if (service !== expectedService) problems.push(`Credential should be scoped to correct service: '${expectedService}'.`);
  if (terminator !== TERMINATOR) problems.push(`Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${terminator}'.`);
  if (scopeDate !== amzDate.slice(0, 8)) {
    problems.push(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (problems.length) throw Errors.signatureDoesNotMatch(problems.join(' '));
}

/**
 * AWS: RequestExpired when the date stamp is more than 15 minutes away from the service's clock
 * (either way), or when a presigned request is used after X-Amz-Date + X-Amz-Expires.
 */
function checkTime(signedAt: number, now: number, expiresIn: number | undefined) {
  if (signedAt - now > MAX_CLOCK_SKEW_MS) throw Errors.requestExpired();
  if (expiresIn === undefined ? now - signedAt > MAX_CLOCK_SKEW_MS : now > signedAt + expiresIn * 1000) throw Errors.requestExpired();
}

/** The signed headers as received: repeated headers joined with commas, as SigV4 canonicalises them. */
function signedHeaderValues(names: readonly string[], headers: ReadonlyMap<string, string[]>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of names) {
    const values = headers.get(name);
    // A signed header missing from the request simply makes the signatures differ.
    if (values) out[name] = values.map((v) => v.trim()).join(',');
  }
  return out;
}

function signatureInAuthorization(headers: Record<string, string | undefined>): string | undefined {
  return /Signature=([0-9a-f]+)/.exec(headers.authorization ?? '')?.[1];
}

function sameSignature(given: string, expected: string): boolean {
  if (!HEX_SIGNATURE.test(given)) return false;
  return timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(expected, 'hex'));
}

function sha256Hex(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

function hostnameOf(host: string | undefined): string {
  if (!host) return 'localhost';
  return host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.split(':')[0];
}

/** Header values by lower-case name, in the order received. */
export function headerValues(rawHeaders: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const list = out.get(name);
    if (list) list.push(rawHeaders[i + 1]);
    else out.set(name, [rawHeaders[i + 1]]);
  }
  return out;
}

function single(values: readonly string[] | undefined): string | undefined {
  if (!values) return undefined;
  if (values.length !== 1) throw Errors.malformedAuthorization();
  return values[0];
}

function splitTarget(url: string): { path: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, rawQuery: '' } : { path: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

/**
 * The raw query as the signer's query object. Percent-escapes are decoded, `+` is kept as a
 * literal plus: SigV4 canonicalisation re-encodes each name and value, as the SDKs do.
 */
function parseQuery(rawQuery: string): Query {
  const query: Query = Object.create(null) as Query;
  for (const pair of rawQuery.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
    const previous = query[name];
    query[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return query;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw Errors.malformedQueryString(`The query string contains an invalid percent-encoding: '${text}'.`);
  }
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path) || '/';
  } catch {
    return path;
  }
}
