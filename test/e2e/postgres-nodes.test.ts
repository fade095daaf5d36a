/**
 * Several nodes on one PostgreSQL database: two servers share all state, so what one creates the
 * other describes at once, and races between them end as they would on AWS — one winner, the
 * others refused with AWS's error, never a duplicate address, MAC or attachment.
 * Runs under `npm run test:postgres`; skipped (with the reason) on the other stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
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
    const counts = tally(results);
    const created = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.NetworkInterface!] : []));
    // Every loser is refused as AWS refuses a full subnet, or (contention) told to retry.
    for (const code of Object.keys(counts)) assert.ok(['ok', 'InsufficientFreeAddressesInSubnet', 'RequestLimitExceeded'].includes(code), `unexpected ${code}: ${JSON.stringify(counts)}`);
    assert.ok(created.length >= 1, JSON.stringify(counts));

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
      assert.equal(Subnets![0].AvailableIpAddressCount, 11 - created.length);
    }
    if (counts.InsufficientFreeAddressesInSubnet) assert.equal(created.length, 11, 'the subnet is only refused once it is full');
  });
});
