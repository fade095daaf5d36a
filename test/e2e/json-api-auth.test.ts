/**
 * In `--auth sigv4` mode the JSON API under /_eni/ is held to the same signatures as the EC2
 * API, and a signed caller acts only on its own account: no probe, fault, flow log or event
 * of another account is within reach.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateFlowLogsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { ec2Client, startTestServer, type TestServer } from '../helpers/server.ts';

const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret', accountId: '111111111111' };
const BOB = { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob-secret', accountId: '222222222222' };

class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

/** A JSON API call signed the way the SDKs sign EC2 calls. */
async function signedFetch(url: string, who: typeof ALICE, method: string, path: string, body?: unknown) {
  const target = new URL(path, url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const signer = new SignatureV4({ credentials: who, region: 'us-east-1', service: 'ec2', sha256: Sha256 });
  const request = await signer.sign({
    method,
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    query: {},
    headers: { host: target.host, ...(text ? { 'content-type': 'application/json' } : {}) },
    body: text,
  });
  const { host: _host, ...headers } = request.headers as Record<string, string>;
  const response = await fetch(target, { method, headers, body: text });
  return { status: response.status, body: (await response.text()) };
}

describe('the JSON API in sigv4 mode', () => {
  let server: TestServer;
  let aliceInstances: string[];
  let aliceFlowLog: string;
  before(async () => {
    server = await startTestServer({ auth: 'sigv4', credentials: [ALICE, BOB] });
    const alice = ec2Client(server.url, ALICE);
    const launched = (await alice.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 2, MaxCount: 2, InstanceType: 't3.micro' }))).Instances!;
    aliceInstances = launched.map((i) => i.InstanceId!);
    aliceFlowLog = (await alice.send(new CreateFlowLogsCommand({ ResourceType: 'VPC', ResourceIds: [launched[0].VpcId!], TrafficType: 'ALL', LogGroupName: 'x' }))).FlowLogIds![0];
    alice.destroy();
  });
  after(() => server.stop());

  test('an unsigned probe is refused as an unsigned EC2 call is', async () => {
    const response = await fetch(`${server.url}/_eni/probe`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-eni-account': ALICE.accountId }, body: JSON.stringify({ from: aliceInstances[0], to: '172.31.0.5' }) });
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'MissingParameter');
  });

  test('a signed probe acts as its key: the owner probes, another account cannot name the instance', async () => {
    const own = await signedFetch(server.url, ALICE, 'POST', '/_eni/probe', { from: aliceInstances[0], to: '203.0.113.9', protocol: 'tcp', port: 443 });
    assert.equal(own.status, 200, own.body);
    const other = await signedFetch(server.url, BOB, 'POST', '/_eni/probe', { from: aliceInstances[0], to: '203.0.113.9', protocol: 'tcp', port: 443 });
    assert.equal(other.status, 400);
    assert.match(other.body, /not found/);
  });

  test('a wrong secret is SignatureDoesNotMatch; faults and flow logs stay within the account', async () => {
    const forged = await signedFetch(server.url, { ...ALICE, secretAccessKey: 'guess' }, 'POST', `/_eni/instances/${aliceInstances[1]}/fail`, {});
    assert.equal(forged.status, 403);
    assert.match(forged.body, /SignatureDoesNotMatch/);
    const bob = await signedFetch(server.url, BOB, 'POST', `/_eni/instances/${aliceInstances[1]}/fail`, {});
    assert.equal(bob.status, 404);
    assert.match(bob.body, /InvalidInstanceID.NotFound/);
    assert.equal((await signedFetch(server.url, BOB, 'GET', `/_eni/flow-logs/${aliceFlowLog}`)).status, 404);
    assert.equal((await signedFetch(server.url, ALICE, 'GET', `/_eni/flow-logs/${aliceFlowLog}`)).status, 200);
    assert.equal((await fetch(`${server.url}/_eni/flow-logs/${aliceFlowLog}`)).status, 400, 'unsigned');
  });
});
