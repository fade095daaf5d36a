/**
 * Several nodes on one PostgreSQL database: two servers share all state, so what one creates the
 * other describes at once, and races between them end as they would on AWS — one winner, the
 * others refused with AWS's error, never a duplicate address, MAC or attachment.
 * Runs under `npm run test:postgres`; skipped (with the reason) on the other stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from '../helpers/suite.ts';
import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { sql } from 'kysely';
import { Ec2Error, fromStoreError } from '../../src/cloud/errors.ts';
import { TransactionRetriesExhaustedError } from '../../src/store/errors.ts';
import type { Store } from '../../src/store/index.ts';
import { openPostgresStore } from '../../src/store/postgres.ts';
import { createTestDatabase, postgresSkipReason, postgresTestUrl, type TestDatabase } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createNetwork, describeEni, describeInstance, IMAGE_ID } from '../helpers/topology.ts';

const skip = postgresSkipReason();

/** The EC2 error code of a settled call, or 'ok'. */
const outcome = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name);

function tally(results: PromiseSettledResult<unknown>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[outcome(r)] = (out[outcome(r)] ?? 0) + 1;
  return out;
}

describe('two nodes on one PostgreSQL database', { skip }, () => {
  let database: TestDatabase;
  let nodes: TestServer[];
  let a: EC2Client;
  let b: EC2Client;

  before(async () => {
    database = await createTestDatabase(postgresTestUrl()!);
    // Both start at once on the empty database: the migrations must run once, not race.
    nodes = await Promise.all([startTestServer({ database: database.url }), startTestServer({ database: database.url })]);
    [a, b] = nodes.map((n) => n.client());
  });

  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await database?.drop();
  });

  test('both nodes report the shared store', async () => {
    for (const node of nodes) {
      const health = (await (await fetch(`${node.url}/_eni/health`)).json()) as { store: { kind: string; location: string } };
      assert.equal(health.store.kind, 'postgres');
      assert.ok(health.store.location.includes(database.name), health.store.location);
      assert.ok(!health.store.location.includes(':eni@') || health.store.location.includes('***'), 'the password is not shown');
    }
  });

  test('what one node creates the other describes at once: VPC, interface, attachment', async () => {
    const net = await createNetwork(a, '10.10.0.0/16', { app: { cidr: '10.10.1.0/24', zone: 'us-east-1a' } });
    const { Vpcs } = await b.send(new DescribeVpcsCommand({ VpcIds: [net.vpcId] }));
    assert.equal(Vpcs![0].CidrBlock, '10.10.0.0/16');

    const eni = await createEni(b, { SubnetId: net.subnets.app.SubnetId!, Description: 'made on b' });
    const seenOnA = await describeEni(a, eni.NetworkInterfaceId!);
    assert.equal(seenOnA.Description, 'made on b');
    assert.equal(seenOnA.PrivateIpAddress, eni.PrivateIpAddress);
    assert.equal(seenOnA.MacAddress, eni.MacAddress);

    const instance = (await a.send(new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: net.subnets.app.SubnetId! })))
      .Instances![0];
    assert.equal((await describeInstance(b, instance.InstanceId!)).InstanceId, instance.InstanceId);
    const { AttachmentId } = await b.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId!, InstanceId: instance.InstanceId!, DeviceIndex: 1 }));
    const attached = await describeEni(a, eni.NetworkInterfaceId!);
    assert.equal(attached.Status, 'in-use');
    assert.equal(attached.Attachment?.AttachmentId, AttachmentId);
    assert.equal(attached.Attachment?.InstanceId, instance.InstanceId);
    const onA = await describeInstance(a, instance.InstanceId!);
    assert.deepEqual(onA.NetworkInterfaces!.map((n) => n.Attachment!.DeviceIndex).sort(), [0, 1]);
  });

  test('a first call to a new region from both nodes at once makes one default VPC', async () => {
    const clients = nodes.flatMap((n) => [n.client({ region: 'eu-west-3' }), n.client({ region: 'eu-west-3' })]);
    const results = await Promise.allSettled(
      clients.flatMap((c) => [0, 1].map(() => c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] })))),
    );
    assert.deepEqual(tally(results), { ok: results.length });
    const ids = new Set(results.flatMap((r) => (r.status === 'fulfilled' ? r.value.Vpcs!.map((v) => v.VpcId) : [])));
    assert.equal(ids.size, 1, `every call saw the same single default VPC: ${[...ids].join(', ')}`);
  });

  test('16 concurrent attaches of one interface, split across both nodes: exactly one wins, the others are InUse', async () => {
    const net = await createNetwork(a, '10.20.0.0/16', { app: { cidr: '10.20.1.0/24', zone: 'us-east-1b' } });
    const subnetId = net.subnets.app.SubnetId!;
    const { Instances } = await a.send(new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 't3.micro', MinCount: 16, MaxCount: 16, SubnetId: subnetId }));
    assert.equal(Instances!.length, 16);
    const eni = await createEni(b, { SubnetId: subnetId });

    const results = await Promise.allSettled(
      Instances!.map((instance, i) =>
        (i % 2 ? b : a).send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId!, InstanceId: instance.InstanceId!, DeviceIndex: 1 })),
      ),
    );
    assert.deepEqual(tally(results), { ok: 1, 'InvalidNetworkInterface.InUse': 15 });
    const winner = Instances![results.findIndex((r) => r.status === 'fulfilled')].InstanceId!;
    for (const node of [a, b]) {
      const seen = await describeEni(node, eni.NetworkInterfaceId!);
      assert.equal(seen.Attachment?.InstanceId, winner);
      assert.equal(seen.Attachment?.AttachmentId, (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ AttachmentId?: string }>).value.AttachmentId);
    }
    const attachedTo = await b.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.device-index', Values: ['1'] }, { Name: 'vpc-id', Values: [net.vpcId] }] }));
    assert.deepEqual(attachedTo.NetworkInterfaces!.map((n) => n.Attachment!.InstanceId), [winner]);
  });

  test('concurrent CreateNetworkInterface in one small subnet, from both nodes, never hands out an address or MAC twice', async () => {
    // A /28 has 11 usable addresses; 16 concurrent creates want more than there are.
    const net = await createNetwork(b, '10.30.0.0/16', { tiny: { cidr: '10.30.1.0/28', zone: 'us-east-1c' } });
    const subnetId = net.subnets.tiny.SubnetId!;
    const results = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? b : a).send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: `racer ${i}` }))),
    );
    // Writers queue (they do not collide and retry): the subnet fills, the rest are refused as AWS refuses them.
    assert.deepEqual(tally(results), { ok: 11, InsufficientFreeAddressesInSubnet: 5 });
    const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.NetworkInterface!] : []));

    const ips = created.map((n) => n.PrivateIpAddress!);
    const macs = created.map((n) => n.MacAddress!);
    assert.equal(new Set(ips).size, ips.length, `private IPs handed out twice: ${ips.sort().join(' ')}`);
    assert.equal(new Set(macs).size, macs.length, 'a MAC handed out twice');
    for (const ip of ips) assert.match(ip, /^10\.30\.1\.([4-9]|1[0-4])$/, 'inside the usable range of the /28');

    // Both nodes agree with what was answered, and the subnet's count is exact.
    for (const node of [a, b]) {
      const { NetworkInterfaces } = await node.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }));
      assert.deepEqual(NetworkInterfaces!.map((n) => n.PrivateIpAddress).sort(), [...ips].sort());
      const { Subnets } = await node.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
      assert.equal(Subnets![0].AvailableIpAddressCount, 0);
    }
  });
});

describe('the PostgreSQL store: retries, types', { skip }, () => {
  let database: TestDatabase;
  let store: Store;

  before(async () => {
    database = await createTestDatabase(postgresTestUrl()!);
    store = await openPostgresStore({ url: database.url, maxAttempts: 3 });
  });

  after(async () => {
    await store?.close();
    await database?.drop();
  });

  const failingWith = (code: string) => Object.assign(new Error(`simulated ${code}`), { code });

  // Serializable readers ran PostgreSQL out of predicate locks under load ("out of shared memory",
  // 53200, seen as InternalError by 5 % of describe-filter requests in the benchmark).
  test('readers get a READ ONLY snapshot (no predicate locks), or one statement; writers READ COMMITTED behind their scope lock', async () => {
    const mode = (tx: Parameters<Parameters<Store['transaction']>[0]>[0]) =>
      sql<{ isolation: string; readOnly: string }>`select current_setting('transaction_isolation') as "isolation", current_setting('transaction_read_only') as "readOnly"`
        .execute(tx)
        .then((r) => r.rows[0]);
    // A reader of more than its first statements: a transaction.
    const afterAnother = async (tx: Parameters<Parameters<Store['transaction']>[0]>[0]) => {
      await sql`select 1`.execute(tx);
      return mode(tx);
    };
    assert.deepEqual(await store.transaction(afterAnother, { writes: false }), { isolation: 'repeatable read', readOnly: 'on' });
    // A reader of one select: that statement alone, PostgreSQL's implicit transaction (test/e2e/postgres-lone-reads.test.ts).
    assert.deepEqual(await store.transaction(mode, { writes: false }), { isolation: 'read committed', readOnly: 'off' });
    assert.deepEqual(await store.transaction(mode, { writes: true }), { isolation: 'read committed', readOnly: 'off' });
  });

  test('every connection plans each statement once, for any values (plan_cache_mode force_generic_plan), readers and writers alike', async () => {
    const planning = (tx: Parameters<Parameters<Store['transaction']>[0]>[0]) =>
      sql<{ mode: string }>`select current_setting('plan_cache_mode') as "mode"`.execute(tx).then((r) => r.rows[0].mode);
    // As many at once as the pool has connections, so that each of them answers.
    const modes = await Promise.all(Array.from({ length: 12 }, (_, i) => store.transaction(planning, { writes: i % 2 === 0 })));
    assert.deepEqual([...new Set(modes)], ['force_generic_plan']);
  });

  test('readers run READ ONLY: two that both write (write skew) each run again as writers, one after the other, and both commit', async () => {
    let runs = 0;
    let arrived = 0;
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    const reader = (account: string) =>
      store.transaction(
        async (tx) => {
          runs++;
          const { n } = await tx.selectFrom('account_regions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
          if (++arrived === 2) release();
          await bothRead;
          await tx.insertInto('account_regions').values({ account_id: account, region: 'xx-test-1', initialized_at: `after ${n}` }).execute();
        },
        { writes: false },
      );
    await Promise.all([reader('111111111111'), reader('222222222222')]);
    // Each: its select alone, then begun (it sent a write after it), refused the write, then a writer.
    assert.equal(runs, 6, 'each reader was refused its write and ran again as a writer');
    const rows = await store.db.selectFrom('account_regions').select(['account_id', 'initialized_at']).where('region', '=', 'xx-test-1').orderBy('account_id').execute();
    assert.deepEqual(rows.map((r) => r.initialized_at).sort(), ['after 0', 'after 1'], 'the second saw the first: as if one after the other');
  });

  test('a transaction that keeps losing is refused after the bounded attempts (RequestLimitExceeded, 503, to the client)', async () => {
    let runs = 0;
    await assert.rejects(
      store.transaction(async () => {
        runs++;
        throw failingWith('40001');
      }),
      (e: unknown) => {
        const ec2 = fromStoreError(e);
        return e instanceof TransactionRetriesExhaustedError && ec2 instanceof Ec2Error && ec2.code === 'RequestLimitExceeded' && ec2.status === 503;
      },
    );
    assert.equal(runs, 3);
    runs = 0;
    const answer = await store.transaction(async () => (runs++ === 0 ? Promise.reject(failingWith('40P01')) : 'ok'));
    assert.equal(answer, 'ok');
    assert.equal(runs, 2, 'a deadlock is retried too');
  });

  test('a unique violation is retried, but one that keeps happening is the database error itself', async () => {
    let runs = 0;
    await assert.rejects(
      store.transaction(async () => {
        runs++;
        throw failingWith('23505');
      }),
      (e: unknown) => !(e instanceof Ec2Error) && (e as { code?: string }).code === '23505',
    );
    assert.equal(runs, 3);
  });

  test('any other error is not retried', async () => {
    let runs = 0;
    await assert.rejects(
      store.transaction(async () => {
        runs++;
        throw failingWith('22P02');
      }),
      /simulated 22P02/,
    );
    assert.equal(runs, 1);
  });

  test('bigint columns and count(*) read back as numbers', async () => {
    const { big, n } = await store.transaction(async (tx) =>
      (await sql<{ big: unknown; n: unknown }>`select ${4294967295}::bigint as big, count(*) as n from account_regions`.execute(tx)).rows[0],
    );
    assert.equal(big, 4294967295);
    assert.equal(typeof n, 'number');
  });
});
