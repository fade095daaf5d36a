/**
 * What several nodes on one PostgreSQL database share beyond the resources: the event stream
 * (`/_eni/events` on either node shows every committed change made through both, in commit order,
 * with ids a client resumes from on any node) and the request throttle's buckets (two nodes admit
 * one bucket's worth, not two).
 * Runs under `npm run test:postgres`; skipped (with the reason) on the other stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateNetworkInterfaceCommand, DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { createTestDatabase, postgresSkipReason, postgresTestUrl, type TestDatabase } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { EventStream } from '../helpers/dataplane.ts';
import { createNetwork } from '../helpers/topology.ts';

const skip = postgresSkipReason();

describe('two nodes share one event stream and one throttle', { skip }, () => {
  let database: TestDatabase;
  let nodes: TestServer[];
  let clients: EC2Client[];

  before(async () => {
    database = await createTestDatabase(postgresTestUrl()!);
    // DescribeVpcs: a bucket of 10, refilled slowly enough not to matter within the test.
    const throttle = { actions: { DescribeVpcs: { capacity: 10, refillRate: 0.01 } } };
    nodes = await Promise.all([0, 1].map(() => startTestServer({ database: database.url, throttle })));
    clients = nodes.map((n) => n.client());
  });

  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await database?.drop();
  });

  test('each node streams the changes made through both, in commit order, resumable on either node', async () => {
    const net = await createNetwork(clients[0], '10.70.0.0/16', { s: { cidr: '10.70.1.0/24', zone: 'us-east-1a' } });
    const streams = await Promise.all(nodes.map((n) => EventStream.open(n.url)));
    try {
      // 12 creates, alternating nodes, 4 at a time.
      const made: string[] = [];
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(
          [0, 1, 2, 3].map((i) => clients[(round + i) % 2].send(new CreateNetworkInterfaceCommand({ SubnetId: net.subnets.s.SubnetId!, Description: `r${round} ${i}` }))),
        );
        made.push(...answers.map((a) => a.NetworkInterface!.NetworkInterfaceId!));
      }
      const created = (s: EventStream) => s.events.filter((e) => e.type === 'network-interface.created' && made.includes(e.networkInterfaceId as string));
      for (const s of streams) await s.waitFor(() => created(s).length === made.length, { timeoutMs: 10_000 });
      const [seenOnA, seenOnB] = streams.map((s) => s.events.filter((e) => e.id > 0));
      // The same events with the same ids, in the same (increasing) order, on both nodes.
      const tail = (events: typeof seenOnA) => events.slice(events.findIndex((e) => e.networkInterfaceId === created(streams[0])[0].networkInterfaceId));
      assert.deepEqual(tail(seenOnA), tail(seenOnB));
      const ids = tail(seenOnA).map((e) => e.id);
      assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
      assert.equal(new Set(ids).size, ids.length);
      assert.deepEqual(new Set(created(streams[0]).map((e) => e.networkInterfaceId)), new Set(made));

      // A client that saw up to the 6th create on node A resumes on node B with exactly what followed.
      const sixth = created(streams[0])[5];
      const resumed = await EventStream.open(nodes[1].url, {}, { lastEventId: sixth.id });
      try {
        await resumed.waitFor(() => resumed.events.filter((e) => e.type === 'network-interface.created').length >= 6, { timeoutMs: 10_000 });
        assert.deepEqual(resumed.events.slice(0, tail(seenOnA).length - tail(seenOnA).indexOf(sixth) - 1), tail(seenOnA).slice(tail(seenOnA).indexOf(sixth) + 1));
      } finally {
        await resumed.close();
      }
    } finally {
      await Promise.all(streams.map((s) => s.close()));
    }
  });

  test("the throttle's buckets are shared: two nodes admit one bucket's worth, not two", async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => clients[i % 2].send(new DescribeVpcsCommand({}))));
    const ok = outcomes.filter((o) => o.status === 'fulfilled').length;
    const refused = outcomes.filter((o) => o.status === 'rejected' && (o.reason as Error).name === 'RequestLimitExceeded').length;
    assert.equal(ok + refused, 30);
    // 10 tokens in the one bucket (plus at most a fraction refilled during the test).
    assert.equal(ok, 10, `admitted ${ok}`);
  });
});
