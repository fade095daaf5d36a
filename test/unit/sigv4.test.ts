/**
 * Signature Version 4 verification (src/api/ec2/auth.ts), with the service clock injected:
 * requests are signed by the AWS SDK's own signer, then verified — or tampered with and refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { openAuthenticator, sigv4Authenticator, type ReceivedRequest } from '../../src/api/ec2/auth.ts';
import { Ec2Error } from '../../src/cloud/errors.ts';
import { credentialEntries } from '../../src/api/ec2/identity.ts';
import { isLoopback } from '../../src/server.ts';

class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

const SIGNED_AT = new Date('2024-05-01T12:00:00Z');
const MINUTE = 60_000;
const BODY = 'Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=cidr&Filter.1.Value.1=10.0.0.0%2F16';

const KEYS = [
  { accessKeyId: 'AKIDALPHA', secretAccessKey: 'alpha-secret', accountId: '111111111111' },
  { accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary-secret', accountId: '333333333333', sessionToken: 'the-session-token' },
];

/** The service, one minute after SIGNED_AT unless told otherwise. */
const service = (now = SIGNED_AT.getTime() + MINUTE) => sigv4Authenticator({ credentials: KEYS, now: () => now });

interface SignOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region?: string;
  signingService?: string;
  at?: Date;
  body?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  applyChecksum?: boolean;
}

function signer({ accessKeyId = 'AKIDALPHA', secretAccessKey = 'alpha-secret', sessionToken, region = 'us-east-1', signingService = 'ec2', applyChecksum = false }: SignOptions) {
  return new SignatureV4({ credentials: { accessKeyId, secretAccessKey, sessionToken }, region, service: signingService, sha256: Sha256, applyChecksum });
}

function unsignedRequest({ body, query = {}, headers = {} }: SignOptions) {
  return {
    method: body === undefined ? 'GET' : 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4599,
    path: '/',
    query,
    headers: {
      host: '127.0.0.1:4599',
      ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }),
      ...headers,
    },
    body,
  };
}

/** What the server receives for a request the SDK signed (Authorization header). */
async function signed(options: SignOptions = {}): Promise<ReceivedRequest> {
  const request = await signer(options).sign(unsignedRequest({ body: BODY, ...options }), { signingDate: options.at ?? SIGNED_AT });
  return received(request);
}

/** What the server receives for a URL the SDK presigned. */
async function presigned(options: SignOptions & { expiresIn?: number } = {}): Promise<ReceivedRequest> {
  const request = await signer(options).presign(
    unsignedRequest({ query: { Action: 'DescribeVpcs', Version: '2016-11-15' }, ...options, body: undefined }),
    { signingDate: options.at ?? SIGNED_AT, expiresIn: options.expiresIn ?? 300 },
  );
  return received(request);
}

function received(request: { method: string; path: string; query?: Record<string, string | string[] | null>; headers: Record<string, string>; body?: unknown }): ReceivedRequest {
  const pairs = Object.entries(request.query ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v ?? '']).map((value) => `${escape(k)}=${escape(value)}`));
  return {
    method: request.method,
    url: request.path + (pairs.length ? `?${pairs.join('&')}` : ''),
    rawHeaders: Object.entries(request.headers).flat(),
    body: typeof request.body === 'string' ? Buffer.from(request.body) : undefined,
  };
}

/** RFC 3986 escaping, as the SDK writes query strings. */
const escape = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function withHeader(request: ReceivedRequest, name: string, value: string | undefined): ReceivedRequest {
  const rawHeaders: string[] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    if (request.rawHeaders[i].toLowerCase() !== name) rawHeaders.push(request.rawHeaders[i], request.rawHeaders[i + 1]);
  }
  if (value !== undefined) rawHeaders.push(name, value);
  return { ...request, rawHeaders };
}

const header = (request: ReceivedRequest, name: string) => {
  const i = request.rawHeaders.findIndex((h, index) => index % 2 === 0 && h.toLowerCase() === name);
  return i < 0 ? undefined : request.rawHeaders[i + 1];
};

async function refused(promise: Promise<unknown>, code: string, status: number, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof Ec2Error, `expected an Ec2Error, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.status, status);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('sigv4 mode: the Authorization header', () => {
  test('a request signed by a listed key is its account, in the region of its scope', async () => {
    assert.deepEqual(await service().authenticate(await signed({ region: 'eu-west-3' })), {
      accessKeyId: 'AKIDALPHA',
      region: 'eu-west-3',
      account: '111111111111',
    });
  });

  test('headers the client did not sign may change; a payload hash header, when signed, must match the body', async () => {
    const request = await signed({ headers: { 'user-agent': 'aws-sdk-js/3' } });
    assert.equal((await service().authenticate(withHeader(request, 'user-agent', 'something else'))).account, '111111111111');
    const withHash = await signed({ applyChecksum: true });
    assert.ok(header(withHash, 'x-amz-content-sha256'));
    assert.equal((await service().authenticate(withHash)).account, '111111111111');
    await refused(service().authenticate({ ...withHash, body: Buffer.from(BODY.replace('cidr', 'tag')) }), 'SignatureDoesNotMatch', 403);
  });

  test('a request without any credentials is MissingParameter AWSAccessKeyId (400), as EC2 answers', async () => {
    const request = withHeader(await signed(), 'authorization', undefined);
    await refused(service().authenticate(request), 'MissingParameter', 400, /AWSAccessKeyId/);
  });

  test('an access key not in the credentials is AuthFailure (401)', async () => {
    await refused(service().authenticate(await signed({ accessKeyId: 'AKIDNOBODY' })), 'AuthFailure', 401, /not able to validate/);
  });

  test('a wrong secret is SignatureDoesNotMatch (403)', async () => {
    await refused(service().authenticate(await signed({ secretAccessKey: 'not-the-secret' })), 'SignatureDoesNotMatch', 403);
  });

  test('a body, a signed header, the method or the query altered after signing is SignatureDoesNotMatch', async () => {
    const request = await signed();
    await refused(service().authenticate({ ...request, body: Buffer.from(`${BODY}&DryRun=true`) }), 'SignatureDoesNotMatch', 403);
    await refused(service().authenticate(withHeader(request, 'content-type', 'text/plain')), 'SignatureDoesNotMatch', 403);
    await refused(service().authenticate(withHeader(request, 'host', 'elsewhere:4599')), 'SignatureDoesNotMatch', 403);
    await refused(service().authenticate({ ...request, method: 'PUT' }), 'SignatureDoesNotMatch', 403);
    await refused(service().authenticate({ ...request, url: '/?Action=DeleteVpc' }), 'SignatureDoesNotMatch', 403);
    await refused(service().authenticate(withHeader(request, 'content-type', undefined)), 'SignatureDoesNotMatch', 403);
  });

  test('the signature must be the lower-case hex the signer computes', async () => {
    const request = await signed();
    const authorization = header(request, 'authorization')!;
    const upper = authorization.replace(/Signature=([0-9a-f]+)/, (_m, s: string) => `Signature=${s.toUpperCase()}`);
    await refused(service().authenticate(withHeader(request, 'authorization', upper)), 'SignatureDoesNotMatch', 403);
  });

  test('temporary credentials need their own session token: missing or wrong is AuthFailure', async () => {
    const temporary = { accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary-secret' };
    assert.equal((await service().authenticate(await signed({ ...temporary, sessionToken: 'the-session-token' }))).account, '333333333333');
    await refused(service().authenticate(await signed(temporary)), 'AuthFailure', 401);
    await refused(service().authenticate(await signed({ ...temporary, sessionToken: 'another-token' })), 'AuthFailure', 401);
    // A long-term key does not take a session token either.
    await refused(service().authenticate(await signed({ sessionToken: 'the-session-token' })), 'AuthFailure', 401);
  });

  test('X-Amz-Date more than 15 minutes away from the service clock, either way, is RequestExpired (400)', async () => {
    const request = await signed();
    assert.ok(await service(SIGNED_AT.getTime() + 14 * MINUTE).authenticate(request));
    assert.ok(await service(SIGNED_AT.getTime() - 14 * MINUTE).authenticate(request));
    await refused(service(SIGNED_AT.getTime() + 16 * MINUTE).authenticate(request), 'RequestExpired', 400, /Request has expired/);
    await refused(service(SIGNED_AT.getTime() - 16 * MINUTE).authenticate(request), 'RequestExpired', 400);
  });

  test('a scope for another service is SignatureDoesNotMatch naming ec2', async () => {
    await refused(service().authenticate(await signed({ signingService: 'sts' })), 'SignatureDoesNotMatch', 403, /correct service: 'ec2'/);
  });

  test('a scope whose date is not the day of X-Amz-Date is SignatureDoesNotMatch', async () => {
    const request = await signed();
    const authorization = header(request, 'authorization')!.replace('/20240501/', '/20240502/');
    await refused(service().authenticate(withHeader(request, 'authorization', authorization)), 'SignatureDoesNotMatch', 403, /Date in Credential scope/);
  });

  test('a credential without five slash-delimited parts is AuthFailure, in EC2 wording', async () => {
    const request = await signed();
    const authorization = header(request, 'authorization')!.replace('AKIDALPHA/20240501', 'AKIDALPHA/extra/20240501');
    await refused(
      service().authenticate(withHeader(request, 'authorization', authorization)),
      'AuthFailure',
      401,
      /Credential must have exactly 5 slash-delimited elements/,
    );
  });

  test('an Authorization header lacking a component is IncompleteSignature (400); another scheme is AuthFailure', async () => {
    const request = await signed();
    const authorization = header(request, 'authorization')!;
    await refused(
      service().authenticate(withHeader(request, 'authorization', authorization.replace(/, Signature=[0-9a-f]+/, ''))),
      'IncompleteSignature',
      400,
      /'Signature'/,
    );
    await refused(
      service().authenticate(withHeader(request, 'authorization', authorization.replace(/SignedHeaders=[^,]+, /, ''))),
      'IncompleteSignature',
      400,
      /'SignedHeaders'/,
    );
    await refused(service().authenticate(withHeader(request, 'authorization', 'Bearer abc')), 'AuthFailure', 401);
    await refused(service().authenticate(withHeader(request, 'authorization', authorization.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1'))), 'AuthFailure', 401);
  });

  test('X-Amz-Date missing or not ISO 8601 basic format is IncompleteSignature', async () => {
    const request = await signed();
    await refused(service().authenticate(withHeader(request, 'x-amz-date', undefined)), 'IncompleteSignature', 400, /X-Amz-Date/);
    await refused(service().authenticate(withHeader(request, 'x-amz-date', '2024-05-01T12:00:00Z')), 'IncompleteSignature', 400, /basic format/);
    await refused(service().authenticate(withHeader(request, 'x-amz-date', '20240231T120000Z')), 'IncompleteSignature', 400);
  });
});

describe('sigv4 mode: presigned queries', () => {
  test('a presigned URL authenticates until it expires, then is RequestExpired', async () => {
    const request = await presigned({ expiresIn: 300 });
    assert.match(request.url, /X-Amz-Signature=[0-9a-f]{64}/);
    assert.equal((await service(SIGNED_AT.getTime() + 299_000).authenticate(request)).account, '111111111111');
    await refused(service(SIGNED_AT.getTime() + 301_000).authenticate(request), 'RequestExpired', 400);
    await refused(service(SIGNED_AT.getTime() - 16 * MINUTE).authenticate(request), 'RequestExpired', 400);
  });

  test('values with spaces, plus signs, slashes, unicode and repeated names verify as the SDK signed them', async () => {
    const query = { Action: 'DescribeVpcs', Version: '2016-11-15', 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': 'a b+c/d é*', Multi: ['2', '1'] };
    const request = await presigned({ query });
    assert.equal((await service().authenticate(request)).account, '111111111111');
  });

  test('a presigned query altered after signing is SignatureDoesNotMatch', async () => {
    const request = await presigned();
    await refused(service().authenticate({ ...request, url: request.url.replace('DescribeVpcs', 'DeleteVpc') }), 'SignatureDoesNotMatch', 403);
    await refused(service().authenticate({ ...request, url: `${request.url}&DryRun=true` }), 'SignatureDoesNotMatch', 403);
  });

  test('a presigned session token must be the key’s', async () => {
    const temporary = { accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary-secret' };
    assert.equal((await service().authenticate(await presigned({ ...temporary, sessionToken: 'the-session-token' }))).account, '333333333333');
    await refused(service().authenticate(await presigned({ ...temporary, sessionToken: 'stolen' })), 'AuthFailure', 401);
  });

  test('a presigned query lacking a parameter is IncompleteSignature; a bad expiry or algorithm is AuthFailure', async () => {
    const request = await presigned();
    await refused(service().authenticate({ ...request, url: request.url.replace(/&?X-Amz-Expires=\d+/, '') }), 'IncompleteSignature', 400, /X-Amz-Expires/);
    await refused(service().authenticate({ ...request, url: request.url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604801') }), 'AuthFailure', 401);
    await refused(service().authenticate({ ...request, url: request.url.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1') }), 'AuthFailure', 401);
  });

  test('a request may not carry both an Authorization header and a presigned query', async () => {
    const request = await presigned();
    const both = withHeader(request, 'authorization', header(await signed(), 'authorization')!);
    await refused(service().authenticate(both), 'AuthFailure', 401);
  });
});

describe('open mode', () => {
  const open = openAuthenticator({ defaultRegion: 'us-east-1', defaultAccount: '000000000000', accounts: new Map([['AKIDALPHA', '111111111111']]) });

  test('any signature is accepted: the key chooses the account, the scope the region', async () => {
    assert.deepEqual(await open.authenticate(await signed({ secretAccessKey: 'anything', region: 'ap-south-1' })), {
      accessKeyId: 'AKIDALPHA',
      region: 'ap-south-1',
      account: '111111111111',
    });
    assert.equal((await open.authenticate(await signed({ accessKeyId: 'AKIDOTHER' }))).account, '000000000000');
    assert.equal((await open.authenticate(await presigned({ region: 'eu-north-1' }))).region, 'eu-north-1');
  });

  test('an unsigned request belongs to the default account and region', async () => {
    assert.deepEqual(await open.authenticate({ method: 'GET', url: '/?Action=DescribeVpcs', rawHeaders: ['Host', 'x'] }), {
      region: 'us-east-1',
      account: '000000000000',
    });
  });
});

describe('the credentials list', () => {
  test('entries are validated, naming the source and the entry', () => {
    const ok = credentialEntries([{ accessKeyId: 'AKIDA', secretAccessKey: 's', accountId: '111111111111', sessionToken: 't' }], 'file.json', { requireSecrets: true });
    assert.deepEqual(ok, [{ accessKeyId: 'AKIDA', secretAccessKey: 's', accountId: '111111111111', sessionToken: 't' }]);
    assert.deepEqual(credentialEntries([{ accessKeyId: 'AKIDA', accountId: '111111111111' }], 'file.json', { requireSecrets: false }), [
      { accessKeyId: 'AKIDA', accountId: '111111111111' },
    ]);
    const bad: [unknown, RegExp][] = [
      [{}, /file\.json: expected a JSON array/],
      [[{ accessKeyId: 'AKIDA', accountId: '111111111111' }], /entry 0: secretAccessKey is required/],
      [[{ accessKeyId: 'AKIDA', secretAccessKey: 's', accountId: '1111' }], /entry 0: accountId must be 12 digits/],
      [[{ accessKeyId: 'AK/ID', secretAccessKey: 's', accountId: '111111111111' }], /accessKeyId must be/],
      [[{ accessKeyId: 'AKIDA', secretAccessKey: 's', accountId: '111111111111', region: 'x' }], /unknown field "region"/],
      [
        [
          { accessKeyId: 'AKIDA', secretAccessKey: 's', accountId: '111111111111' },
          { accessKeyId: 'AKIDA', secretAccessKey: 't', accountId: '222222222222' },
        ],
        /entry 1: access key AKIDA is listed twice/,
      ],
    ];
    for (const [value, message] of bad) assert.throws(() => credentialEntries(value, 'file.json', { requireSecrets: true }), message);
  });

  test('the hosts that count as this machine, where open mode needs no warning', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopback(host), true, host);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '10.0.0.1']) assert.equal(isLoopback(host), false, host);
  });
});
