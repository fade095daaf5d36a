/**
 * A node that loses its PostgreSQL database: while the database is down every request is answered
 * 503 ServiceUnavailable (which the SDKs retry), never a 500 and never a half-applied change; when
 * the database is back the node answers again by itself. The test starts a throw-away cluster of
 * its own (.ci/postgres-cluster) so that it can stop and restart it under load.
 * Runs under `npm run test:postgres`; skipped (with the reason) on the other stores.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { checkInvariants } from '../../src/check.ts';
import { openPostgresStore } from '../../src/store/postgres.ts';
import { postgresSkipReason } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createNetwork } from '../helpers/topology.ts';

const skip = postgresSkipReason();
const CLUSTER = path.resolve(import.meta.dirname, '../../.ci/postgres-cluster');
const cluster = (command: string, dir: string) => execFileSync(CLUSTER, [command, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

describe('a node whose PostgreSQL database goes away and comes back', { skip }, () => {
  let dir: string;
  let url: string;
  let server: TestServer;
  let ec2: EC2Client;

  before(async () => {
    // Not under a mkdtemp directory: the server runs as the postgres user, which must reach it.
    dir = path.join(tmpdir(), `eni-pg-outage-${process.pid}-${randomBytes(4).toString('hex')}`);
    url = cluster('start', dir);
    server = await startTestServer({ database: url });
    ec2 = server.client();
  });

  after(async () => {
    await server?.stop();
    if (dir) cluster('stop', dir);
  });

  test('down: 503 ServiceUnavailable for every request, nothing half-applied; back: answers again by itself', async () => {
    const net = await createNetwork(ec2, '10.60.0.0/16', { s: { cidr: '10.60.1.0/24', zone: 'us-east-1a' } });
    const subnetId = net.subnets.s.SubnetId!;
    const answered = new Set<string>();
    const errors = new Map<string, number>();
    let okAfterOutage = 0;
    let phase: 'before' | 'down' | 'back' | 'done' = 'before';
    const caller = async (i: number) => {
      while (phase !== 'done') {
        try {
          const write = i % 2 === 0;
          if (write) {
            const { NetworkInterface } = await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
            answered.add(NetworkInterface!.NetworkInterfaceId!);
          } else {
            await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }));
          }
          if (phase === 'back') okAfterOutage++;
        } catch (error) {
          const e = error as { name: string; $metadata?: { httpStatusCode?: number } };
          const key = `${e.name} ${e.$metadata?.httpStatusCode}`;
          errors.set(key, (errors.get(key) ?? 0) + 1);
          // The SDK would retry; the test keeps going at a gentler pace.
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const callers = Promise.all([0, 1, 2, 3].map(caller));
    const until = async (what: string, done: () => boolean) => {
      for (let waited = 0; !done(); waited += 25) {
        if (waited > 60_000) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    try {
      await until('a few answers', () => answered.size >= 5);
      cluster('pause', dir);
      phase = 'down';
      const failures = () => [...errors.values()].reduce((a, b) => a + b, 0);
      await until('refusals while the database is down', () => failures() >= 8);
      cluster('resume', dir);
      phase = 'back';
      await until('answers after the database is back', () => okAfterOutage >= 8);
    } finally {
      phase = 'done';
      await callers;
    }
    assert.deepEqual([...errors.keys()], ['ServiceUnavailable 503'], `every refusal was a retryable 503: ${JSON.stringify([...errors])}`);

    // Nothing by halves: every interface that exists is whole (the invariants), and every one
    // answered exists (a create whose connection broke while committing may exist unanswered).
    const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }));
    const existing = new Set(NetworkInterfaces!.map((n) => n.NetworkInterfaceId!));
    for (const id of answered) assert.ok(existing.has(id), `${id} was answered and exists`);
    for (const n of NetworkInterfaces!) assert.equal(n.PrivateIpAddresses!.length, 1);
    const store = await openPostgresStore({ url });
    try {
      assert.deepEqual(await checkInvariants(store), []);
    } finally {
      await store.close();
    }
  });
});
