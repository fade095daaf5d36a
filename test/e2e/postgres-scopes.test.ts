/**
 * Writes scoped to their account and region on PostgreSQL: writers of different accounts never
 * wait for each other (one account's lock, held open, does not stop another account's write),
 * and many writers of several accounts through two nodes leave every invariant clean — with the
 * server-wide unique things (MAC addresses, the shared public IPv4 pool) guarded by the database.
 * Runs under `npm run test:postgres`; skipped (with the reason) on the other stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import pg from 'pg';
import { checkInvariants } from '../../src/check.ts';
import { openPostgresStore, RESOURCE_LOCK, SCOPE_LOCK, scopeLock } from '../../src/store/postgres.ts';
import { createTestDatabase, postgresSkipReason, postgresTestUrl, type TestDatabase } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createGateway } from '../helpers/addressing.ts';
import { createEni, createNetwork, IMAGE_ID } from '../helpers/topology.ts';
import { EventStream } from '../helpers/dataplane.ts';

const skip = postgresSkipReason();

const ACCOUNTS = { AKIDA: '111111111111', AKIDB: '222222222222', AKIDC: '333333333333', AKIDD: '444444444444' };
const KEYS = Object.keys(ACCOUNTS) as (keyof typeof ACCOUNTS)[];

/**
 * A transaction of our own that holds the scope lock of `account` in us-east-1 (begun, not
 * ended): the whole scope's, or as a writer of the named resources takes it.
 */
async function holdScopeLock(url: string, account: string, resources?: string[]): Promise<pg.Client> {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  await holder.query('begin');
  await holder.query(scopeLock({ account, region: 'us-east-1', ...(resources ? { resources } : {}) }).text);
  return holder;
}

/** Waits until a writer is seen waiting for one of our advisory locks of class `space` (in pg_locks, not a guess at a delay). */
async function waiterSeen(observer: pg.Client, space: number): Promise<void> {
  for (;;) {
    const { rows } = await observer.query<{ n: number }>(
      "select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and classid = $1::oid",
      [space],
    );
    if (rows[0].n > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Whether a request has been answered (or refused) yet. */
function settledFlag(request: Promise<unknown>): { settled: boolean } {
  const flag = { settled: false };
  void request.then(
    () => (flag.settled = true),
    () => (flag.settled = true),
  );
  return flag;
}

describe('writes scoped to their account on PostgreSQL, two nodes', { skip }, () => {
  let database: TestDatabase;
  let nodes: TestServer[];

  before(async () => {
    database = await createTestDatabase(postgresTestUrl()!);
    nodes = await Promise.all([0, 1].map(() => startTestServer({ database: database.url, accounts: ACCOUNTS })));
  });

  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await database?.drop();
  });

  const client = (node: number, key: keyof typeof ACCOUNTS): EC2Client => nodes[node].client({ accessKeyId: key });

  test("a writer of account A holding its scope's lock does not block account B; A's own write waits for it", async () => {
    const [a, b] = [client(0, 'AKIDA'), client(1, 'AKIDB')];
    // Both accounts exist (default VPC made) and have a subnet, before the lock is taken.
    const netA = await createNetwork(a, '10.1.0.0/16', { s: { cidr: '10.1.1.0/24', zone: 'us-east-1a' } });
    const netB = await createNetwork(b, '10.1.0.0/16', { s: { cidr: '10.1.1.0/24', zone: 'us-east-1a' } });

    // A transaction of our own holds A's scope lock, as a writer of A in the middle of its work would.
    const holder = await holdScopeLock(database.url, ACCOUNTS.AKIDA);
    try {
      const writeOfA = a.send(new CreateNetworkInterfaceCommand({ SubnetId: netA.subnets.s.SubnetId!, Description: 'A, behind the lock' }));
      const aWrite = settledFlag(writeOfA);
      await waiterSeen(holder, SCOPE_LOCK);

      // B writes (a create, an assignment) and gets its answers while A's lock is still held.
      const made = await b.send(new CreateNetworkInterfaceCommand({ SubnetId: netB.subnets.s.SubnetId!, Description: 'B, beside the lock' }));
      await b.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: made.NetworkInterface!.NetworkInterfaceId!, SecondaryPrivateIpAddressCount: 1 }));
      assert.equal(aWrite.settled, false, "A's write is still waiting for A's lock");

      await holder.query('rollback');
      const answered = await writeOfA;
      assert.equal(answered.NetworkInterface!.Description, 'A, behind the lock');
    } finally {
      await holder.end();
    }
  });

  test('an attach or detach waits only for the writes of its interface, instance or attachment, and of the whole account; they wait for it', async () => {
    const a = client(0, 'AKIDC');
    const net = await createNetwork(a, '10.3.0.0/16', { s: { cidr: '10.3.1.0/24', zone: 'us-east-1a' } });
    const subnetId = net.subnets.s.SubnetId!;
    const { Instances } = await a.send(new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 't3.large', MinCount: 2, MaxCount: 2, SubnetId: subnetId }));
    const [i1, i2] = Instances!.map((i) => i.InstanceId!);
    const [e1, e2] = [(await createEni(a, { SubnetId: subnetId })).NetworkInterfaceId!, (await createEni(a, { SubnetId: subnetId })).NetworkInterfaceId!];
    // The other node has served the account once (a node's first write of an account may set it
    // up, and so takes the whole account).
    await client(1, 'AKIDC').send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [e1] }));

    // A transaction of our own holds e1's lock, as an attach of e1 in the middle of its work would.
    const held = await holdScopeLock(database.url, ACCOUNTS.AKIDC, [e1]);
    try {
      // Waits for e1: an attach of it, from the other node.
      const attachOfE1 = client(1, 'AKIDC').send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: e1, InstanceId: i1, DeviceIndex: 1 }));
      const e1Attach = settledFlag(attachOfE1);
      await waiterSeen(held, RESOURCE_LOCK);
      // Runs beside it: an attach of another interface to another instance, and its detach.
      const attachment2 = (await a.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: e2, InstanceId: i2, DeviceIndex: 1 }))).AttachmentId!;
      await a.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachment2 }));
      assert.equal(e1Attach.settled, false, 'the attach of e1 still waits');
      // Waits for every write of named resources: a write of the whole account. (From now on, a
      // write of named resources would queue behind it too: PostgreSQL grants no lock that
      // conflicts with one already waited for, so the account's write cannot be starved.)
      const create = a.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: 'whole account, behind the lock' }));
      const created = settledFlag(create);
      await waiterSeen(held, SCOPE_LOCK);
      assert.deepEqual([e1Attach.settled, created.settled], [false, false], "the attach of e1 and the account's write still wait");

      await held.query('rollback');
      assert.ok((await attachOfE1).AttachmentId);
      assert.equal((await create).NetworkInterface!.Description, 'whole account, behind the lock');
    } finally {
      await held.end();
    }

    // A write of the whole account, held open: an attach waits for it.
    const whole = await holdScopeLock(database.url, ACCOUNTS.AKIDC);
    try {
      const attach = a.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: e2, InstanceId: i2, DeviceIndex: 1 }));
      const attached = settledFlag(attach);
      await waiterSeen(whole, SCOPE_LOCK);
      assert.equal(attached.settled, false);
      await whole.query('rollback');
      assert.ok((await attach).AttachmentId);
    } finally {
      await whole.end();
    }
  });

  test("events need no lock: B commits beside A's open transaction that appended one, and both nodes stream A's event before B's", async () => {
    const b = client(1, 'AKIDB');
    const netB = await createNetwork(b, '10.2.0.0/16', { s: { cidr: '10.2.1.0/24', zone: 'us-east-1a' } });
    const streams = await Promise.all(nodes.map((n) => EventStream.open(n.url)));
    // A transaction of our own, as a writer of A between its event append and its commit: it holds
    // A's scope lock, has its transaction id, and has appended one event (numbered as the log does).
    const holder = await holdScopeLock(database.url, ACCOUNTS.AKIDA);
    const observer = new pg.Client({ connectionString: database.url });
    await observer.connect();
    try {
      const body = JSON.stringify({ type: 'test.held', time: new Date().toISOString(), account: ACCOUNTS.AKIDA, region: 'us-east-1' });
      await holder.query(`insert into "events" ("id", "body") values (pg_current_xact_id()::text::bigint * ${2 ** 20} + 1, $1)`, [body]);

      const writeOfB = b.send(new CreateNetworkInterfaceCommand({ SubnetId: netB.subnets.s.SubnetId!, Description: 'B, beside the open append' }));
      const bWrite = settledFlag(writeOfB);
      // B's change and its event are committed while A's transaction is still open (no log lock)…
      for (;;) {
        const { rows } = await observer.query<{ n: number }>(`select count(*)::int as n from "network_interfaces" where "description" = 'B, beside the open append'`);
        if (rows[0].n === 1) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      // …but not yet delivered: A's transaction is older, and its event could still come before B's.
      assert.equal(bWrite.settled, false, "B's answer waits until its events are delivered, after A's");

      await holder.query('commit');
      const made = (await writeOfB).NetworkInterface!.NetworkInterfaceId!;
      for (const s of streams) {
        await s.waitFor(() => s.events.some((e) => e.type === 'network-interface.created' && e.networkInterfaceId === made), { timeoutMs: 10_000 });
        const held = s.events.findIndex((e) => e.type === 'test.held');
        const created = s.events.findIndex((e) => e.type === 'network-interface.created' && e.networkInterfaceId === made);
        assert.ok(held >= 0 && held < created, 'A (older transaction) before B');
        assert.ok(s.events[held].id < s.events[created].id);
      }
      // B's event was written by B's own transaction (the one that inserted the interface).
      const { rows } = await observer.query<{ xid: string }>(`select "xmin"::text as "xid" from "network_interfaces" where "id" = $1`, [made]);
      const event = streams[0].events.find((e) => e.type === 'network-interface.created' && e.networkInterfaceId === made)!;
      assert.equal(Math.floor(event.id / 2 ** 20), Number(rows[0].xid));
      assert.deepEqual(
        streams[0].events.map((e) => e.id),
        streams[1].events.map((e) => e.id),
      );
    } finally {
      await holder.query('rollback').catch(() => {});
      await Promise.all([holder.end(), observer.end()]);
      await Promise.all(streams.map((s) => s.close()));
    }
  });

  test('16 writers in 4 accounts on 2 nodes: every answer right, every invariant clean, MACs and public IPs unique server-wide', async () => {
    const nets = await Promise.all(
      KEYS.map(async (key, i) => {
        const net = await createNetwork(client(i % 2, key), '10.50.0.0/16', { s: { cidr: '10.50.1.0/24', zone: 'us-east-1b' } });
        await createGateway(client(i % 2, key), net.vpcId);
        return net;
      }),
    );
    // 4 writers per account, 2 on each node; each creates interfaces, assigns addresses, maps a
    // public address of the shared pool and deletes one interface.
    const writer = async (w: number) => {
      const account = w % 4;
      const ec2 = client(Math.floor(w / 4) % 2, KEYS[account]);
      const subnetId = nets[account].subnets.s.SubnetId!;
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { NetworkInterface } = await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: `writer ${w}` }));
        ids.push(NetworkInterface!.NetworkInterfaceId!);
      }
      await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: ids[0], SecondaryPrivateIpAddressCount: 2 }));
      const { AllocationId } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: ids[1] }));
      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: ids[3] }));
      return ids.slice(0, 3);
    };
    const kept = await Promise.all(Array.from({ length: 16 }, (_, w) => writer(w)));

    const macs: string[] = [];
    const publicIps: string[] = [];
    for (const [account, key] of KEYS.entries()) {
      const { NetworkInterfaces } = await client(account % 2 ? 0 : 1, key).send(
        new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [nets[account].subnets.s.SubnetId!] }] }),
      );
      const mine = kept.filter((_, w) => w % 4 === account).flat();
      assert.deepEqual(NetworkInterfaces!.map((n) => n.NetworkInterfaceId).sort(), mine.sort(), `account ${key} sees exactly what its writers kept`);
      for (const n of NetworkInterfaces!) {
        macs.push(n.MacAddress!);
        if (n.Association?.PublicIp) publicIps.push(n.Association.PublicIp);
      }
      const addresses = NetworkInterfaces!.flatMap((n) => n.PrivateIpAddresses!.map((p) => p.PrivateIpAddress));
      assert.equal(new Set(addresses).size, addresses.length, 'no private address twice in a VPC');
      assert.equal(addresses.length, 4 * 3 + 4 * 2);
    }
    assert.equal(new Set(macs).size, macs.length, 'no MAC address twice, across accounts');
    assert.equal(publicIps.length, 16);
    assert.equal(new Set(publicIps).size, 16, 'no public address twice, across accounts');

    // `eni-local check`'s invariants, read beside the running nodes.
    const store = await openPostgresStore({ url: database.url });
    try {
      assert.deepEqual(await checkInvariants(store), []);
    } finally {
      await store.close();
    }
  });
});
