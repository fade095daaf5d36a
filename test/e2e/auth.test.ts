/**
 * Authentication modes end to end: sigv4 (every request verified against a credentials file,
 * through the AWS SDK's real signer), open (any signature; keys only choose the account), the
 * CLI flags, and the start-up warning for open mode on a public interface.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { CreateVpcCommand, DescribeAvailabilityZonesCommand, DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { BIN, spawnServer } from '../helpers/process.ts';
import { ec2Client, errorCode, expectEc2Error, rawEc2, startTestServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);

const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret', accountId: '111111111111' };
const BOB = { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob-secret', accountId: '222222222222' };
const TEMPORARY = { accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary-secret', accountId: '111111111111', sessionToken: 'session-token-1' };

class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

/** The SDK's signer, for what the EC2 client itself will not send (presigned URLs, another service's scope). */
function signer({ accessKeyId, secretAccessKey }: { accessKeyId: string; secretAccessKey: string }, service = 'ec2', region = 'us-east-1') {
  return new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service, sha256: Sha256 });
}

function httpRequest(url: string, init: { method: string; query?: Record<string, string>; body?: string }) {
  const { host, hostname, port } = new URL(url);
  return {
    method: init.method,
    protocol: 'http:',
    hostname,
    port: Number(port),
    path: '/',
    query: init.query ?? {},
    headers: { host, ...(init.body ? { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } : {}) },
    body: init.body,
  };
}

/** Sends a request the SDK signer signed or presigned, as fetch would. */
async function send(url: string, request: { method: string; query?: Record<string, unknown>; headers: Record<string, string>; body?: unknown }) {
  const query = new URLSearchParams(Object.entries(request.query ?? {}).map(([k, v]) => [k, String(v)])).toString().replace(/\+/g, '%20');
  const { host: _host, ...headers } = request.headers;
  const response = await fetch(`${url}/${query ? `?${query}` : ''}`, { method: request.method, headers, body: request.body as string | undefined });
  return { status: response.status, text: await response.text() };
}

/** Rewrites the request body after the SDK has signed it (same length, so Content-Length still holds). */
function tamperAfterSigning(client: EC2Client, from: string, to: string) {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { body?: unknown };
      if (typeof request.body === 'string') request.body = request.body.replace(from, to);
      return next(args);
    },
    // The deserialize step runs after the finalizeRequest step (where the SDK signs), right before sending.
    { step: 'deserialize', priority: 'low', name: 'tamperAfterSigning' },
  );
  return client;
}

describe('sigv4 mode', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ auth: 'sigv4', credentials: [ALICE, BOB, TEMPORARY] });
  });
  after(() => server.stop());

  test('the SDK signing with a listed key is served as that key’s account, in the region it signs for', async () => {
    const alice = server.client(ALICE);
    const vpc = (await alice.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }))).Vpc!;
    assert.equal(vpc.OwnerId, '111111111111');
    const bob = server.client({ ...BOB, region: 'eu-west-3' });
    const { AvailabilityZones } = await bob.send(new DescribeAvailabilityZonesCommand({}));
    assert.equal(AvailabilityZones![0].RegionName, 'eu-west-3');
    const { Vpcs } = await bob.send(new DescribeVpcsCommand({}));
    assert.ok(Vpcs!.every((v) => v.OwnerId === '222222222222'));
  });

  test('a request without credentials is MissingParameter AWSAccessKeyId (400), as EC2 answers', async () => {
    const post = await rawEc2(server.url, { Action: 'DescribeVpcs' });
    assert.equal(post.status, 400);
    assert.equal(errorCode(post.text), 'MissingParameter');
    assert.match(post.text, /AWSAccessKeyId/);
    const get = await fetch(`${server.url}/?Action=DescribeVpcs&Version=2016-11-15`);
    assert.equal(get.status, 400);
    assert.equal(errorCode(await get.text()), 'MissingParameter');
  });

  test('an access key not in the credentials file is AuthFailure (401)', async () => {
    await expectEc2Error(server.client({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'alice-secret' }).send(new DescribeVpcsCommand({})), 'AuthFailure', 401);
  });

  test('a wrong secret is SignatureDoesNotMatch (403)', async () => {
    await expectEc2Error(server.client({ ...ALICE, secretAccessKey: 'not-alices' }).send(new DescribeVpcsCommand({})), 'SignatureDoesNotMatch', 403);
  });

  test('a body altered after signing is SignatureDoesNotMatch, and nothing happens', async () => {
    const client = tamperAfterSigning(server.client(ALICE), '10.2.0.0', '10.3.0.0');
    await expectEc2Error(client.send(new CreateVpcCommand({ CidrBlock: '10.2.0.0/16' })), 'SignatureDoesNotMatch', 403);
    const { Vpcs } = await server.client(ALICE).send(new DescribeVpcsCommand({ Filters: [{ Name: 'cidr', Values: ['10.2.0.0/16', '10.3.0.0/16'] }] }));
    assert.deepEqual(Vpcs, []);
  });

  test('temporary credentials work with their session token, and are AuthFailure without it or with another', async () => {
    const { Vpcs } = await server.client(TEMPORARY).send(new DescribeVpcsCommand({ Filters: [{ Name: 'cidr', Values: ['10.1.0.0/16'] }] }));
    assert.equal(Vpcs!.length, 1, 'the key belongs to the same account as AKIDALICE');
    const { sessionToken: _token, ...withoutToken } = TEMPORARY;
    await expectEc2Error(server.client(withoutToken).send(new DescribeVpcsCommand({})), 'AuthFailure', 401);
    await expectEc2Error(server.client({ ...TEMPORARY, sessionToken: 'guessed' }).send(new DescribeVpcsCommand({})), 'AuthFailure', 401);
  });

  test('a client whose clock is 20 minutes off is RequestExpired (400); the SDK then corrects its clock from the Date header', async () => {
    const skewed = server.client({ ...ALICE, systemClockOffset: -20 * 60_000 });
    await expectEc2Error(skewed.send(new DescribeVpcsCommand({})), 'RequestExpired', 400);
    const ahead = server.client({ ...ALICE, systemClockOffset: 20 * 60_000 });
    await expectEc2Error(ahead.send(new DescribeVpcsCommand({})), 'RequestExpired', 400);
    // The SDK samples the server's clock from the refusal, so its next call is signed in time.
    assert.ok((await skewed.send(new DescribeVpcsCommand({}))).Vpcs);
  });

  test('a URL presigned by the SDK’s signer is served; once expired it is RequestExpired', async () => {
    const query = { Action: 'DescribeVpcs', Version: '2016-11-15', 'Filter.1.Name': 'cidr', 'Filter.1.Value.1': '10.1.0.0/16' };
    const fresh = await signer(ALICE).presign(httpRequest(server.url, { method: 'GET', query }), { expiresIn: 60 });
    const ok = await send(server.url, fresh);
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /<cidrBlock>10\.1\.0\.0\/16<\/cidrBlock>/);

    const old = await signer(ALICE).presign(httpRequest(server.url, { method: 'GET', query }), { expiresIn: 60, signingDate: new Date(Date.now() - 5 * 60_000) });
    const expired = await send(server.url, old);
    assert.equal(expired.status, 400);
    assert.equal(errorCode(expired.text), 'RequestExpired');

    const tampered = await send(server.url, { ...fresh, query: { ...fresh.query, 'Filter.1.Value.1': '10.9.0.0/16' } });
    assert.equal(tampered.status, 403);
    assert.equal(errorCode(tampered.text), 'SignatureDoesNotMatch');
  });

  test('a signature scoped to another service is SignatureDoesNotMatch (403) naming ec2', async () => {
    const body = 'Action=DescribeVpcs&Version=2016-11-15';
    // (`sts` and `iam` scopes are STS's and IAM's requests on the same URL: test/e2e/sts.test.ts.)
    const signed = await signer(ALICE, 's3').sign(httpRequest(server.url, { method: 'POST', body }));
    const response = await send(server.url, signed);
    assert.equal(response.status, 403);
    assert.equal(errorCode(response.text), 'SignatureDoesNotMatch');
    assert.match(response.text, /correct service: &apos;ec2&apos;|correct service: 'ec2'/);
  });

  test('a malformed Authorization header is AuthFailure (401); one lacking its signature is IncompleteSignature (400)', async () => {
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const headers = (authorization: string) => ({ headers: { authorization, 'x-amz-date': date } });
    const fourParts = await rawEc2(server.url, { Action: 'DescribeVpcs' }, headers(`AWS4-HMAC-SHA256 Credential=AKIDALICE/${date.slice(0, 8)}/us-east-1/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`));
    assert.equal(fourParts.status, 401);
    assert.equal(errorCode(fourParts.text), 'AuthFailure');
    assert.match(fourParts.text, /5 slash-delimited elements/);
    const noSignature = await rawEc2(server.url, { Action: 'DescribeVpcs' }, headers(`AWS4-HMAC-SHA256 Credential=AKIDALICE/${date.slice(0, 8)}/us-east-1/ec2/aws4_request, SignedHeaders=host`));
    assert.equal(noSignature.status, 400);
    assert.equal(errorCode(noSignature.text), 'IncompleteSignature');
  });

  test('the JSON endpoints under /_eni/ stay open', async () => {
    const response = await fetch(`${server.url}/_eni/health`);
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { status: string }).status, 'ok');
  });

  test('sigv4 mode without credentials, or with a key lacking its secret, does not start', async () => {
    await assert.rejects(startTestServer({ auth: 'sigv4' }), /needs credentials/);
    await assert.rejects(startTestServer({ auth: 'sigv4', credentials: [{ accessKeyId: 'AKIDX', accountId: '111111111111' }] }), /secretAccessKey is required/);
    await assert.rejects(startTestServer({ auth: 'sigv4', credentials: [{ ...ALICE, accountId: '42' }] }), /12 digits/);
  });
});

describe('open mode (the default)', () => {
  let server: TestServer;
  before(async () => {
    // The credentials list maps keys to accounts; secrets are not checked.
    server = await startTestServer({ credentials: [ALICE], accounts: { AKIDMAPPED: '333333333333' } });
  });
  after(() => server.stop());

  test('any secret is accepted; keys choose the account through the credentials list or the accounts map', async () => {
    const owner = async (client: EC2Client) => (await client.send(new DescribeVpcsCommand({}))).Vpcs![0].OwnerId;
    assert.equal(await owner(server.client({ accessKeyId: 'AKIDALICE', secretAccessKey: 'whatever' })), '111111111111');
    assert.equal(await owner(server.client({ accessKeyId: 'AKIDMAPPED' })), '333333333333');
    assert.equal(await owner(server.client({ accessKeyId: 'AKIDANYONE' })), '000000000000');
  });

  test('an unsigned request is served for the default account', async () => {
    const response = await rawEc2(server.url, { Action: 'DescribeVpcs' });
    assert.equal(response.status, 200);
    assert.match(response.text, /<ownerId>000000000000<\/ownerId>/);
  });

  test('on 127.0.0.1 there is nothing to warn about; on a public interface the server warns at start', async () => {
    assert.deepEqual(server.warnings, []);
    const exposed = await startTestServer({ host: '0.0.0.0' });
    try {
      assert.equal(exposed.warnings.length, 1);
      assert.match(exposed.warnings[0], /0\.0\.0\.0 in open mode/);
    } finally {
      await exposed.stop();
    }
    const verified = await startTestServer({ host: '0.0.0.0', auth: 'sigv4', credentials: [ALICE] });
    try {
      assert.deepEqual(verified.warnings, []);
    } finally {
      await verified.stop();
    }
  });
});

describe('the serve command', () => {
  let dir: string;
  let credentialsFile: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'eni-local-auth-'));
    credentialsFile = path.join(dir, 'credentials.json');
    writeFileSync(credentialsFile, JSON.stringify([ALICE, BOB]));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--help documents the authentication and throttling flags and their variables', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'serve', '--help']);
    for (const text of ['--auth', '--credentials', '--accounts', '--throttle', '--throttle-config', 'ENI_LOCAL_AUTH', 'ENI_LOCAL_CREDENTIALS', 'ENI_LOCAL_ACCOUNTS', 'ENI_LOCAL_THROTTLE', 'ENI_LOCAL_THROTTLE_CONFIG']) {
      assert.ok(stdout.includes(text), `help lacks ${text}`);
    }
  });

  test('--auth sigv4 --credentials FILE verifies signatures', async () => {
    const server = await spawnServer(['--port', '0', '--database', 'memory', '--log-level', 'warn', '--auth', 'sigv4', '--credentials', credentialsFile]);
    try {
      const bob = ec2Client(server.url, BOB);
      assert.equal((await bob.send(new DescribeVpcsCommand({}))).Vpcs![0].OwnerId, '222222222222');
      await expectEc2Error(ec2Client(server.url, { ...BOB, secretAccessKey: 'wrong' }).send(new DescribeVpcsCommand({})), 'SignatureDoesNotMatch', 403);
      bob.destroy();
    } finally {
      await server.stop();
    }
  });

  test('ENI_LOCAL_AUTH and ENI_LOCAL_ACCOUNTS configure open mode with an accounts file', async () => {
    const server = await spawnServer(['--port', '0', '--database', 'memory', '--log-level', 'warn'], { ENI_LOCAL_AUTH: 'open', ENI_LOCAL_ACCOUNTS: credentialsFile });
    try {
      const bob = ec2Client(server.url, { accessKeyId: 'AKIDBOB', secretAccessKey: 'not-checked' });
      assert.equal((await bob.send(new DescribeVpcsCommand({}))).Vpcs![0].OwnerId, '222222222222');
      bob.destroy();
    } finally {
      await server.stop();
    }
  });

  test('--auth sigv4 without --credentials, or with a broken file, exits with the reason', async () => {
    const refused = async (args: string[], message: RegExp) => {
      const result = await run(process.execPath, [BIN, 'serve', '--port', '0', '--database', 'memory', ...args]).then(
        () => assert.fail('the server started'),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(result.code, 1);
      assert.match(result.stderr, message);
    };
    await refused(['--auth', 'sigv4'], /--auth sigv4 needs --credentials/);
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '[{"accessKeyId": "AKIDX"}]');
    await refused(['--auth', 'sigv4', '--credentials', broken], /broken\.json: entry 0: accountId must be 12 digits/);
    await refused(['--auth', 'sigv4', '--credentials', path.join(dir, 'missing.json')], /cannot read credentials file/);
  });

  test('open mode on a public interface prints a warning on stderr', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--host', '0.0.0.0', '--port', '0', '--database', 'memory', '--log-level', 'error']);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start:\n${stdout}\n${stderr}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    await exited;
    assert.match(stderr, /eni-local: warning: listening on 0\.0\.0\.0 in open mode/);
  });

  const aws = ['aws', '/usr/bin/aws'].find((p) => p.includes('/') ? existsSync(p) : (process.env.PATH ?? '').split(path.delimiter).some((d) => existsSync(path.join(d, p))));
  test('the AWS CLI (botocore’s signer) is verified too', { skip: aws ? false : 'the AWS CLI is not installed' }, async () => {
    const server = await spawnServer(['--port', '0', '--database', 'memory', '--log-level', 'warn', '--auth', 'sigv4', '--credentials', credentialsFile]);
    const cli = (secret: string) =>
      run(aws!, ['--endpoint-url', server.url, '--output', 'json', 'ec2', 'describe-vpcs', '--filters', 'Name=is-default,Values=true'], {
        env: { ...process.env, AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: secret, AWS_DEFAULT_REGION: 'ap-northeast-1', AWS_PAGER: '', AWS_SESSION_TOKEN: '' },
      });
    try {
      const { stdout } = await cli(ALICE.secretAccessKey);
      const vpcs = (JSON.parse(stdout) as { Vpcs: { OwnerId: string }[] }).Vpcs;
      assert.deepEqual(vpcs.map((v) => v.OwnerId), ['111111111111']);
      await assert.rejects(cli('wrong'), /SignatureDoesNotMatch/);
    } finally {
      await server.stop();
    }
  });
});
