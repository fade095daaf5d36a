/**
 * EC2's request throttling end to end: an emptied bucket answers RequestLimitExceeded (503)
 * before the action runs, the SDK's standard retry rides it out, and buckets are per action,
 * account and region. Off unless asked for.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateVpcCommand, DescribeNetworkInterfacesCommand, DescribeSubnetsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { spawnServer } from '../helpers/process.ts';
import { ec2Client, errorCode, expectEc2Error, rawEc2, startTestServer, type TestServer } from '../helpers/server.ts';

describe('custom buckets (library option)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      accounts: { AKIDOTHER: '222222222222' },
      throttle: {
        actions: {
          // Tiny but quick to refill: a token every 20 ms, well within the SDK's retry delays (up to 1 s, then 2 s).
          DescribeVpcs: { capacity: 2, refillRate: 50 },
          // Practically never refills within a test.
          CreateVpc: { capacity: 1, refillRate: 0.001 },
        },
      },
    });
  });
  after(() => server.stop());

  test('the SDK’s standard retry (3 attempts) recovers transparently from an emptied bucket', async () => {
    const client = server.client({ maxAttempts: 3 });
    await client.send(new DescribeSubnetsCommand({})); // warm the client up (credentials, endpoint) on another bucket
    // Bursts of five calls at once: three of them find the bucket empty — unless a slow machine spreads
    // the burst over more than the refill time, in which case the next burst tries again.
    const attempts: number[] = [];
    for (let burst = 0; burst < 20 && !attempts.some((n) => n > 1); burst++) {
      const results = await Promise.all(Array.from({ length: 5 }, () => client.send(new DescribeVpcsCommand({}))));
      for (const result of results) assert.ok(result.Vpcs, 'every call succeeds, retried or not');
      attempts.push(...results.map((r) => r.$metadata.attempts ?? 1));
    }
    assert.ok(attempts.some((n) => n > 1), `some call was throttled and retried (attempts ${attempts.join(', ')})`);
  });

  test('without retries the refusal comes through: RequestLimitExceeded, HTTP 503, and the action did not run', async () => {
    const client = server.client();
    await client.send(new CreateVpcCommand({ CidrBlock: '10.10.0.0/16' }));
    const error = await expectEc2Error(client.send(new CreateVpcCommand({ CidrBlock: '10.11.0.0/16' })), 'RequestLimitExceeded', 503);
    assert.equal(error.message, 'Request limit exceeded.');
    // (DescribeVpcs has its own tiny bucket here: read with retries.)
    const { Vpcs } = await server.client({ maxAttempts: 3 }).send(new DescribeVpcsCommand({ Filters: [{ Name: 'cidr', Values: ['10.11.0.0/16'] }] }));
    assert.deepEqual(Vpcs, [], 'a throttled request changes nothing');
    const raw = await rawEc2(server.url, { Action: 'CreateVpc', CidrBlock: '10.12.0.0/16' });
    assert.equal(raw.status, 503);
    assert.equal(errorCode(raw.text), 'RequestLimitExceeded');
  });

  test('buckets are per account and per region', async () => {
    const other = server.client({ accessKeyId: 'AKIDOTHER' });
    assert.ok((await other.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc);
    const west = server.client({ region: 'us-west-2' });
    assert.ok((await west.send(new CreateVpcCommand({ CidrBlock: '10.21.0.0/16' }))).Vpc);
    await expectEc2Error(server.client().send(new CreateVpcCommand({ CidrBlock: '10.22.0.0/16' })), 'RequestLimitExceeded', 503);
  });
});

describe("AWS's buckets (throttle: 'aws')", () => {
  test('an unfiltered DescribeNetworkInterfaces gets 50 at once; a filtered one still has its own bucket of 100', async () => {
    const server = await startTestServer({ throttle: 'aws' });
    try {
      const client = server.client();
      const settled = await Promise.allSettled(Array.from({ length: 100 }, () => client.send(new DescribeNetworkInterfacesCommand({}))));
      const served = settled.filter((s) => s.status === 'fulfilled').length;
      const throttled = settled.filter((s) => s.status === 'rejected' && (s.reason as Error).name === 'RequestLimitExceeded').length;
      assert.equal(served + throttled, 100);
      // 50 at once, plus 10 a second for however long the burst took to arrive.
      assert.ok(served >= 50 && served < 100, `served ${served}`);
      const filtered = await client.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: ['vpc-12345678'] }] }));
      assert.deepEqual(filtered.NetworkInterfaces, []);
    } finally {
      await server.stop();
    }
  });

  test('off by default: a burst beyond any bucket is served', async () => {
    const server = await startTestServer();
    try {
      const client = server.client();
      const results = await Promise.all(Array.from({ length: 60 }, () => client.send(new DescribeNetworkInterfacesCommand({}))));
      assert.equal(results.length, 60);
    } finally {
      await server.stop();
    }
  });
});

describe('the serve command', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'eni-local-throttle-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--throttle-config FILE turns throttling on with its buckets', async () => {
    const file = path.join(dir, 'throttle.json');
    writeFileSync(file, JSON.stringify({ actions: { DescribeVpcs: { capacity: 1, refillRate: 0.001 } } }));
    const server = await spawnServer(['--port', '0', '--database', 'memory', '--log-level', 'warn', '--throttle-config', file]);
    const client = ec2Client(server.url);
    try {
      await client.send(new DescribeVpcsCommand({}));
      await expectEc2Error(client.send(new DescribeVpcsCommand({})), 'RequestLimitExceeded', 503);
    } finally {
      client.destroy();
      await server.stop();
    }
  });

  test('ENI_LOCAL_THROTTLE=aws applies AWS’s buckets', async () => {
    const server = await spawnServer(['--port', '0', '--database', 'memory', '--log-level', 'warn'], { ENI_LOCAL_THROTTLE: 'aws' });
    const client = ec2Client(server.url);
    try {
      const settled = await Promise.allSettled(Array.from({ length: 100 }, () => client.send(new DescribeNetworkInterfacesCommand({}))));
      assert.ok(settled.some((s) => s.status === 'rejected' && (s.reason as Error).name === 'RequestLimitExceeded'));
    } finally {
      client.destroy();
      await server.stop();
    }
  });
});
