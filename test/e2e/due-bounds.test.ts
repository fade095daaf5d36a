/**
 * The bounds of each scope's next due transition (`due_scopes`, migration 020), which let a
 * request learn from one lookup that nothing is due: every kind of schedule lowers its scope's
 * bound, and another account's attachment to an instance its owner's too; settling raises it to
 * what is left; a bound left early (a transition moved later) is raised by the first request
 * that finds it due; a missing one is reported by the checker. On two PostgreSQL nodes, an
 * account's settling does not lose the lowering of another account's concurrent attachments.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AttachNetworkInterfaceCommand, CreateNatGatewayCommand, CreateNetworkInterfacePermissionCommand, DescribeNatGatewaysCommand, DescribeNetworkInterfacesCommand, DetachNetworkInterfaceCommand, TerminateInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { sql } from 'kysely';
import { checkInvariants } from '../../src/check.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { waitForState } from '../helpers/addressing.ts';
import { createTestDatabase, postgresSkipReason, postgresTestUrl, type TestDatabase } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createNetwork, describeEni, describeInstance, launch, pollUntil } from '../helpers/topology.ts';

const OWNER = '000000000000';
const OTHER = '222222222222';

async function boundOf(store: Store, account: string) {
  return store.db.selectFrom('due_scopes').select(['due_at', 'terminated_at']).where('account_id', '=', account).where('region', '=', 'us-east-1').executeTakeFirst();
}

describe('due bounds', () => {
  let server: TestServer;
  let owner: EC2Client;
  let other: EC2Client;
  let block = 40;
  before(async () => {
    server = await startTestServer({
      accounts: { AKIDOTHER: OTHER },
      timings: { instancePendingMs: 300, attachingMs: 300, detachingMs: 300, instanceShuttingDownMs: 300, natGatewayPendingMs: 300 },
    });
    owner = server.client();
    other = server.client({ accessKeyId: 'AKIDOTHER' });
  });
  after(() => server.stop());

  test('a launch lowers its bound to its transition; settled by a read, the bound is what is left', async () => {
    const n = block++;
    const net = await createNetwork(owner, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' } });
    const instance = await launch(owner, { SubnetId: net.subnets.a.SubnetId });
    const row = await server.store.db.selectFrom('instances').select('transition_at').where('id', '=', instance.InstanceId!).executeTakeFirstOrThrow();
    const bound = await boundOf(server.store, OWNER);
    assert.ok(bound?.due_at && row.transition_at && bound.due_at <= row.transition_at, `bound ${JSON.stringify(bound)} for ${row.transition_at}`);
    assert.deepEqual(await checkInvariants(server.store), []);
    await waitForState(owner, instance.InstanceId!, 'running');
    assert.equal((await boundOf(server.store, OWNER))?.due_at, null);
    // Terminated, it leaves terminatedVisibleMs later: the termination is the other bound.
    await owner.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
    await waitForState(owner, instance.InstanceId!, 'terminated');
    const terminated = await server.store.db.selectFrom('instances').select('terminated_at').where('id', '=', instance.InstanceId!).executeTakeFirstOrThrow();
    assert.equal((await boundOf(server.store, OWNER))?.terminated_at, terminated.terminated_at);
    assert.deepEqual(await checkInvariants(server.store), []);
  });

  test("a NAT gateway's pending lowers its bound; a read of it settles it", async () => {
    const n = block++;
    const net = await createNetwork(other, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' } });
    const { NatGateway } = await other.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.a.SubnetId, ConnectivityType: 'private' }));
    const row = await server.store.db.selectFrom('nat_gateways').select('transition_at').where('id', '=', NatGateway!.NatGatewayId!).executeTakeFirstOrThrow();
    const bound = await boundOf(server.store, OTHER);
    assert.ok(bound?.due_at && row.transition_at && bound.due_at <= row.transition_at, `bound ${JSON.stringify(bound)} for ${row.transition_at}`);
    assert.deepEqual(await checkInvariants(server.store), []);
    await pollUntil(
      async () => (await other.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [NatGateway!.NatGatewayId!] }))).NatGateways![0].State,
      (state) => state === 'available',
    );
    assert.equal((await boundOf(server.store, OTHER))?.due_at, null);
  });

  test("another account's attachment to an instance lowers both accounts' bounds, and a read of either settles it", async () => {
    const n = block++;
    const mine = await createNetwork(owner, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' } });
    const theirs = await createNetwork(other, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' } });
    const eni = await createEni(owner, { SubnetId: mine.subnets.a.SubnetId });
    await owner.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, AwsAccountId: OTHER, Permission: 'INSTANCE-ATTACH' }));
    const instance = await launch(other, { SubnetId: theirs.subnets.a.SubnetId });
    await waitForState(other, instance.InstanceId!, 'running');
    await other.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
    const row = await server.store.db.selectFrom('network_interfaces').select('attachment_transition_at').where('id', '=', eni.NetworkInterfaceId!).executeTakeFirstOrThrow();
    for (const account of [OWNER, OTHER]) {
      const bound = await boundOf(server.store, account);
      assert.ok(bound?.due_at && row.attachment_transition_at && bound.due_at <= row.attachment_transition_at, `${account}: ${JSON.stringify(bound)}`);
    }
    assert.deepEqual(await checkInvariants(server.store), []);
    // Only reads, by the instance's owner: its instance shows the interface attached once due.
    await pollUntil(
      async () => (await describeInstance(other, instance.InstanceId!)).NetworkInterfaces?.find((n) => n.NetworkInterfaceId === eni.NetworkInterfaceId)?.Attachment?.Status,
      (status) => status === 'attached',
    );
    assert.equal((await boundOf(server.store, OTHER))?.due_at, null);
    assert.equal((await describeEni(owner, eni.NetworkInterfaceId!)).Attachment?.Status, 'attached');
    assert.deepEqual(await checkInvariants(server.store), []);
  });

  test('a bound left early by a transition moved later is raised by the first request that finds it due', async () => {
    // Never seen running: terminated while pending, its due time moves from the end of pending to the end of shutting down.
    const slow = await startTestServer({ timings: { instancePendingMs: 200, instanceShuttingDownMs: 60_000 } });
    try {
      const ec2 = slow.client();
      const slowNet = await createNetwork(ec2, '10.1.0.0/16', { a: { cidr: '10.1.1.0/24', zone: 'us-east-1a' } });
      const instance = await launch(ec2, { SubnetId: slowNet.subnets.a.SubnetId });
      const pendingEnd = (await slow.store.db.selectFrom('instances').select('transition_at').where('id', '=', instance.InstanceId!).executeTakeFirstOrThrow()).transition_at;
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      const { transition_at } = await slow.store.db.selectFrom('instances').select('transition_at').where('id', '=', instance.InstanceId!).executeTakeFirstOrThrow();
      assert.ok(pendingEnd && transition_at && pendingEnd < transition_at);
      assert.equal((await boundOf(slow.store, OWNER))?.due_at, pendingEnd, 'the bound stays at the end of pending');
      await new Promise((r) => setTimeout(r, 250));
      // A read: nothing is due, and it answers so; the bound is now the shutting-down's end.
      assert.equal((await describeInstance(ec2, instance.InstanceId!)).State?.Name, 'shutting-down');
      assert.equal((await boundOf(slow.store, OWNER))?.due_at, transition_at);
      assert.deepEqual(await checkInvariants(slow.store), []);
    } finally {
      await slow.stop();
    }
  });

  test('a bound missing for something scheduled is reported by the checker', async () => {
    const n = block++;
    const net = await createNetwork(owner, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' } });
    const instance = await launch(owner, { SubnetId: net.subnets.a.SubnetId });
    await server.store.db.deleteFrom('due_scopes').where('account_id', '=', OWNER).execute();
    const violations = await checkInvariants(server.store);
    assert.ok(violations.some((v) => v.rule === 'due-bound-late' && v.detail.includes(instance.InstanceId!)), JSON.stringify(violations));
  });
});

describe('migration 020 on a store that has transitions scheduled', () => {
  test('the bounds it makes are those the triggers had kept', async () => {
    // A store with an instance pending, one shutting down, one terminated, and another account's
    // attachment still attaching; migration 020 then undone, and run again as a node's start would.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'eni-local-migrate-'));
    const own = postgresTestUrl() ? await createTestDatabase(postgresTestUrl()!) : undefined;
    const database = own?.url ?? `sqlite:${path.join(dataDir, 'store.sqlite')}`;
    const timings = { instancePendingMs: 60_000, attachingMs: 60_000, instanceShuttingDownMs: 0 };
    const server = await startTestServer({ database, dataDir, accounts: { AKIDOTHER: OTHER }, timings });
    try {
      const owner = server.client();
      const other = server.client({ accessKeyId: 'AKIDOTHER' });
      const mine = await createNetwork(owner, '10.7.0.0/16', { a: { cidr: '10.7.1.0/24', zone: 'us-east-1a' } });
      const theirs = await createNetwork(other, '10.7.0.0/16', { a: { cidr: '10.7.1.0/24', zone: 'us-east-1a' } });
      await launch(owner, { SubnetId: mine.subnets.a.SubnetId });
      const gone = await launch(owner, { SubnetId: mine.subnets.a.SubnetId });
      await owner.send(new TerminateInstancesCommand({ InstanceIds: [gone.InstanceId!] }));
      await waitForState(owner, gone.InstanceId!, 'terminated');
      const eni = await createEni(owner, { SubnetId: mine.subnets.a.SubnetId });
      await owner.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, AwsAccountId: OTHER, Permission: 'INSTANCE-ATTACH' }));
      const host = await launch(other, { SubnetId: theirs.subnets.a.SubnetId, MinCount: 1 });
      // Running at once, as if its pending time had passed, so that it takes the attachment (its
      // primary interface's attachment, due when its pending was, still holds the account's bound).
      await server.store.db.updateTable('instances').set({ state: 'running', transition_at: null }).where('id', '=', host.InstanceId!).execute();
      await other.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: host.InstanceId, DeviceIndex: 1 }));
      const kept = await server.store.db.selectFrom('due_scopes').selectAll().orderBy('account_id').execute();
      assert.equal(kept.length, 2, JSON.stringify(kept));
      await server.store.db.schema.dropTable('due_scopes').execute();
      // Its triggers: one per table on PostgreSQL, one per table and event on SQLite.
      for (const table of ['instances', 'network_interfaces', 'nat_gateways']) {
        for (const trigger of [`${table}_due`, `${table}_due_insert`, `${table}_due_update`]) {
          await sql.raw(postgresTestUrl() ? `drop trigger if exists ${trigger} on ${table}` : `drop trigger if exists ${trigger}`).execute(server.store.db);
        }
      }
      await server.store.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '020-due-scopes' as never).execute();
      const reopened = await openStore({ database, dataDir });
      try {
        assert.deepEqual(await reopened.db.selectFrom('due_scopes').selectAll().orderBy('account_id').execute(), kept);
        assert.deepEqual(await checkInvariants(reopened), []);
      } finally {
        await reopened.close();
      }
    } finally {
      await server.stop();
      await own?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

const skip = postgresSkipReason();

describe("due bounds on two PostgreSQL nodes: an account's settling beside another account's attachments", { skip }, () => {
  let database: TestDatabase;
  let nodes: TestServer[];
  before(async () => {
    database = await createTestDatabase(postgresTestUrl()!);
    nodes = await Promise.all(
      [0, 1].map(() => startTestServer({ database: database.url, accounts: { AKIDOTHER: OTHER }, timings: { attachingMs: 20, detachingMs: 20 } })),
    );
  });
  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await database?.drop();
  });

  test("every attachment the other account makes settles in the owner's reads alone; the bounds stay no later than what they bound", async () => {
    // The owner's interfaces, attached by the other account (node 0) to its instances, while the
    // owner's own requests (node 1) settle its scope again and again: a settling that raised the
    // owner's bound past an attachment committed beside it would leave that attachment
    // `attaching` in the owner's reads for good.
    const owner = nodes[1].client();
    const other = nodes[0].client({ accessKeyId: 'AKIDOTHER' });
    const mine = await createNetwork(owner, '10.9.0.0/16', { a: { cidr: '10.9.1.0/24', zone: 'us-east-1a' } });
    const theirs = await createNetwork(other, '10.9.0.0/16', { a: { cidr: '10.9.1.0/24', zone: 'us-east-1a' } });
    const enis = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(() => createEni(owner, { SubnetId: mine.subnets.a.SubnetId })));
    for (const eni of enis) await owner.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, AwsAccountId: OTHER, Permission: 'INSTANCE-ATTACH' }));
    const instances = await Promise.all(enis.map(() => launch(other, { SubnetId: theirs.subnets.a.SubnetId })));
    for (const i of instances) await waitForState(other, i.InstanceId!, 'running');
    const ids = enis.map((e) => e.NetworkInterfaceId!);
    const ownerStatuses = async () => {
      const { NetworkInterfaces } = await owner.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ids }));
      return NetworkInterfaces!.map((e) => e.Attachment?.Status ?? e.Status).sort();
    };
    for (let round = 0; round < 4; round++) {
      let busy = true;
      const settling = (async () => {
        while (busy) await ownerStatuses();
      })();
      try {
        // One after another, so that the owner's settling of the first ones runs while the last are made.
        const attachments = [];
        for (const [i, id] of ids.entries()) {
          attachments.push(await other.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: id, InstanceId: instances[i].InstanceId, DeviceIndex: 1 })));
          await new Promise((r) => setTimeout(r, 5));
        }
        await pollUntil(ownerStatuses, (s) => s.every((x) => x === 'attached'), { timeoutMs: 3000 });
        for (const a of attachments) {
          await other.send(new DetachNetworkInterfaceCommand({ AttachmentId: a.AttachmentId }));
          await new Promise((r) => setTimeout(r, 5));
        }
        await pollUntil(ownerStatuses, (s) => s.every((x) => x === 'available'), { timeoutMs: 3000 });
      } finally {
        busy = false;
        await settling;
      }
      assert.deepEqual(await checkInvariants(nodes[0].store), [], `round ${round}`);
    }
  });
});
