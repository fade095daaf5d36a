/**
 * Races: many clients asking for the same thing at the same moment get what AWS gives them —
 * one winner and AWS's refusal for the others, never a second winner, a 500, or a
 * RequestLimitExceeded where a clean refusal is due — and the invariant checker (src/check.ts)
 * finds nothing afterwards.
 *
 * One suite, run twice: against the store this run is configured for (memory by default,
 * PostgreSQL under `npm run test:postgres`), and, when a PostgreSQL URL is configured, against two
 * server nodes on one database with the racing clients split across both. Each client has its own
 * connection, opened before the race, so the requests reach the servers together. A second suite
 * (g) races readers that settle due transitions (a Describe that writes) against writers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from '../helpers/suite.ts';
import {
  AllocateAddressCommand,
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DetachNetworkInterfaceCommand,
  RunInstancesCommand,
  type EC2Client,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { checkInvariants } from '../../src/check.ts';
import type { ServerOptions } from '../../src/server.ts';
import { createTestDatabase, postgresSkipReason, postgresTestUrl, type TestDatabase } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createNetwork, describeEni, describeInstance, IMAGE_ID, type Network } from '../helpers/topology.ts';

/** The EC2 error code of a settled call, or 'ok'. */
const outcome = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name);

function tally(results: PromiseSettledResult<unknown>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[outcome(r)] = (out[outcome(r)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

const fulfilled = <T>(results: PromiseSettledResult<T>[]): T[] => results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));

/** The messages of the unexpected failures, for an assertion's message. */
const failures = (results: PromiseSettledResult<unknown>[]) =>
  results
    .flatMap((r) => (r.status === 'rejected' ? [`${(r.reason as Error).name}: ${(r.reason as Error).message}`] : []))
    .slice(0, 5)
    .join('\n');

interface Cluster {
  /** What the suite runs against, for the test names. */
  label: string;
  nodes: TestServer[];
  close(): Promise<void>;
}

async function oneNode(options: ServerOptions = {}): Promise<Cluster> {
  const node = await startTestServer(options);
  return { label: `one node, ${node.store.kind} store`, nodes: [node], close: () => node.stop() };
}

async function twoPostgresNodes(options: ServerOptions = {}): Promise<Cluster> {
  const database: TestDatabase = await createTestDatabase(postgresTestUrl()!);
  let nodes: TestServer[] = [];
  try {
    nodes = await Promise.all([startTestServer({ ...options, database: database.url }), startTestServer({ ...options, database: database.url })]);
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    await database.drop();
    throw error;
  }
  return {
    label: 'two nodes, one PostgreSQL database',
    nodes,
    close: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      await database.drop();
    },
  };
}

/** `n` clients, split round robin across the nodes, each with its connection already open. */
async function racersOf(cluster: Cluster, n: number): Promise<EC2Client[]> {
  const clients = Array.from({ length: n }, (_, i) => cluster.nodes[i % cluster.nodes.length].client());
  await Promise.all(clients.map((c) => c.send(new DescribeAvailabilityZonesCommand({}))));
  return clients;
}

/** Runs the calls at once; reports the outcome and the time taken. */
async function raceOn<T>(cluster: Cluster, t: TestContext, calls: (() => Promise<T>)[]): Promise<PromiseSettledResult<T>[]> {
  const started = performance.now();
  const results = await Promise.allSettled(calls.map((call) => call()));
  t.diagnostic(`${cluster.label}: ${calls.length} racers in ${(performance.now() - started).toFixed(0)} ms: ${JSON.stringify(tally(results))}`);
  return results;
}

/** The invariant checker (src/check.ts) on the cluster's store finds nothing. */
async function invariantsClean(cluster: Cluster): Promise<void> {
  assert.deepEqual(await checkInvariants(cluster.nodes[0].store), [], 'the invariant checker finds nothing');
}

const variants: { name: string; skip: string | false; start: (options?: ServerOptions) => Promise<Cluster> }[] = [
  { name: 'one node on the configured store', skip: false, start: oneNode },
  { name: 'two nodes on one PostgreSQL database', skip: postgresSkipReason(), start: twoPostgresNodes },
];

for (const variant of variants) {
  describe(`races: ${variant.name}`, { skip: variant.skip }, () => {
    let cluster: Cluster;
    /** A client for setup and checks (on the first node). */
    let ec2: EC2Client;
    let net: Network;

    before(async () => {
      cluster = await variant.start();
      ec2 = cluster.nodes[0].client();
      net = await createNetwork(ec2, '10.0.0.0/16', {
        attach: { cidr: '10.0.1.0/24', zone: 'us-east-1a' },
        limit: { cidr: '10.0.2.0/24', zone: 'us-east-1b' },
        // 59 usable addresses: the racers below ask for more than that.
        fill: { cidr: '10.0.3.0/26', zone: 'us-east-1c' },
        perEni: { cidr: '10.0.4.0/24', zone: 'us-east-1d' },
        launch: { cidr: '10.0.5.0/24', zone: 'us-east-1e' },
        doomed: { cidr: '10.0.6.0/24', zone: 'us-east-1f' },
      });
    });

    after(async () => {
      await cluster?.close();
    });

    const racers = (n: number) => racersOf(cluster, n);
    const race = <T>(t: TestContext, calls: (() => Promise<T>)[]) => raceOn(cluster, t, calls);
    const assertInvariants = () => invariantsClean(cluster);

    test('(a) 16 clients attach one interface to 16 instances at once: exactly one wins, the others are InvalidNetworkInterface.InUse', async (t) => {
      const subnetId = net.subnets.attach.SubnetId!;
      const { Instances } = await ec2.send(new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 't3.micro', MinCount: 16, MaxCount: 16, SubnetId: subnetId }));
      const eni = await createEni(ec2, { SubnetId: subnetId, Description: 'contended' });
      const clients = await racers(16);

      const results = await race(
        t,
        Instances!.map((instance, i) => () =>
          clients[i].send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId!, InstanceId: instance.InstanceId!, DeviceIndex: 1 })),
        ),
      );
      assert.deepEqual(tally(results), { 'InvalidNetworkInterface.InUse': 15, ok: 1 }, failures(results));

      const winner = Instances![results.findIndex((r) => r.status === 'fulfilled')].InstanceId!;
      const { AttachmentId } = fulfilled(results)[0];
      for (const node of cluster.nodes) {
        const seen = await describeEni(node.client(), eni.NetworkInterfaceId!);
        assert.equal(seen.Status, 'in-use');
        assert.equal(seen.Attachment?.InstanceId, winner);
        assert.equal(seen.Attachment?.AttachmentId, AttachmentId);
      }
      // No loser got the interface nor anything at device index 1.
      const { NetworkInterfaces } = await ec2.send(
        new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }, { Name: 'attachment.device-index', Values: ['1'] }] }),
      );
      assert.deepEqual(NetworkInterfaces!.map((n) => [n.NetworkInterfaceId, n.Attachment!.InstanceId]), [[eni.NetworkInterfaceId, winner]]);
      await assertInvariants();
    });

    test('(b) 12 interfaces attached at once to one m5.large (3 interfaces): exactly 2 win, the limit refuses the rest', async (t) => {
      const subnetId = net.subnets.limit.SubnetId!;
      const instance = (await ec2.send(new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 'm5.large', MinCount: 1, MaxCount: 1, SubnetId: subnetId }))).Instances![0];
      const enis: NetworkInterface[] = [];
      for (let i = 0; i < 12; i++) enis.push(await createEni(ec2, { SubnetId: subnetId, Description: `candidate ${i}` }));
      const clients = await racers(12);

      // Distinct device indexes 1..12: the type's limit decides, not a taken slot.
      const results = await race(
        t,
        enis.map((eni, i) => () =>
          clients[i].send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId!, InstanceId: instance.InstanceId!, DeviceIndex: i + 1 })),
        ),
      );
      assert.deepEqual(tally(results), { AttachmentLimitExceeded: 10, ok: 2 }, failures(results));

      const winners = enis.filter((_, i) => results[i].status === 'fulfilled').map((e) => e.NetworkInterfaceId!);
      const seen = await describeInstance(ec2, instance.InstanceId!);
      assert.equal(seen.NetworkInterfaces!.length, 3, 'the primary and two more, never more');
      assert.deepEqual(
        seen.NetworkInterfaces!.filter((n) => n.Attachment!.DeviceIndex !== 0).map((n) => n.NetworkInterfaceId).sort(),
        [...winners].sort(),
      );
      const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: enis.map((e) => e.NetworkInterfaceId!) }));
      for (const n of NetworkInterfaces!) {
        assert.equal(n.Status, winners.includes(n.NetworkInterfaceId!) ? 'in-use' : 'available', n.NetworkInterfaceId);
        if (!winners.includes(n.NetworkInterfaceId!)) assert.equal(n.Attachment, undefined);
      }
      await assertInvariants();
    });

    test('(c) concurrent CreateNetworkInterface and AssignPrivateIpAddresses in one subnet never hand out an address or MAC twice', async (t) => {
      const subnetId = net.subnets.fill.SubnetId!;
      const existing: NetworkInterface[] = [];
      for (let i = 0; i < 4; i++) existing.push(await createEni(ec2, { SubnetId: subnetId, Description: `existing ${i}` }));
      const clients = await racers(32);

      // 55 free addresses; 32 requests of 2 addresses each want 64: 27 fit, 5 do not.
      const creates = Array.from({ length: 16 }, (_, i) => () =>
        clients[2 * i].send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: `racer ${i}`, SecondaryPrivateIpAddressCount: 1 })),
      );
      const assigns = Array.from({ length: 16 }, (_, i) => () =>
        clients[2 * i + 1].send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: existing[i % 4].NetworkInterfaceId!, SecondaryPrivateIpAddressCount: 2 })),
      );
      const results = await race<unknown>(t, creates.flatMap((c, i) => [c, assigns[i]]));
      assert.deepEqual(tally(results), { InsufficientFreeAddressesInSubnet: 5, ok: 27 }, failures(results));

      // What was answered: distinct addresses and MACs.
      const answered: string[] = [];
      const answeredMacs: string[] = [];
      results.forEach((r, i) => {
        if (r.status !== 'fulfilled') return;
        if (i % 2 === 0) {
          const eni = (r.value as { NetworkInterface: NetworkInterface }).NetworkInterface;
          answered.push(...eni.PrivateIpAddresses!.map((a) => a.PrivateIpAddress!));
          answeredMacs.push(eni.MacAddress!);
        } else {
          answered.push(...(r.value as { AssignedPrivateIpAddresses: { PrivateIpAddress: string }[] }).AssignedPrivateIpAddresses.map((a) => a.PrivateIpAddress));
        }
      });
      assert.equal(answered.length, 54);
      assert.equal(new Set(answered).size, answered.length, `an address answered twice: ${answered.sort().join(' ')}`);
      assert.equal(new Set(answeredMacs).size, answeredMacs.length, 'a MAC answered twice');

      // What is described, on every node: the same, plus the four primaries from before, and an exact count.
      for (const node of cluster.nodes) {
        const client = node.client();
        const { NetworkInterfaces } = await client.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }));
        const described = NetworkInterfaces!.flatMap((n) => n.PrivateIpAddresses!.map((a) => a.PrivateIpAddress!));
        assert.equal(described.length, 58);
        assert.equal(new Set(described).size, 58, 'no address held twice');
        assert.deepEqual([...described].sort(), [...answered, ...existing.map((e) => e.PrivateIpAddress!)].sort());
        const macs = NetworkInterfaces!.map((n) => n.MacAddress!);
        assert.equal(new Set(macs).size, macs.length, 'no MAC held twice');
        const { Subnets } = await client.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
        assert.equal(Subnets![0].AvailableIpAddressCount, 1);
      }
      await assertInvariants();
    });

    test('(c2) concurrent AssignPrivateIpAddresses on one attached interface never pass its instance type\'s limit', async (t) => {
      // t3.micro: 2 IPv4 addresses per interface, so the primary leaves room for one more.
      const subnetId = net.subnets.perEni.SubnetId!;
      const instance = (await ec2.send(new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: subnetId }))).Instances![0];
      const eni = await createEni(ec2, { SubnetId: subnetId });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId!, InstanceId: instance.InstanceId!, DeviceIndex: 1 }));
      const clients = await racers(8);

      const results = await race(
        t,
        clients.map((c) => () => c.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId!, SecondaryPrivateIpAddressCount: 1 }))),
      );
      assert.deepEqual(tally(results), { PrivateIpAddressLimitExceeded: 7, ok: 1 }, failures(results));
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).PrivateIpAddresses!.length, 2);
      await assertInvariants();
    });

    test('(d) concurrent AssociateAddress of one Elastic IP with AllowReassociation=false: exactly one wins, the others are Resource.AlreadyAssociated', async (t) => {
      // The default VPC has an internet gateway, which Elastic IPs need.
      const { Subnets } = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }, { Name: 'availability-zone', Values: ['us-east-1a'] }] }));
      const subnetId = Subnets![0].SubnetId!;
      const enis: NetworkInterface[] = [];
      for (let i = 0; i < 8; i++) enis.push(await createEni(ec2, { SubnetId: subnetId, Description: `eip candidate ${i}` }));
      const { AllocationId, PublicIp } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      const clients = await racers(8);

      const results = await race(
        t,
        enis.map((eni, i) => () =>
          clients[i].send(new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId!, AllowReassociation: false })),
        ),
      );
      assert.deepEqual(tally(results), { 'Resource.AlreadyAssociated': 7, ok: 1 }, failures(results));

      const winner = enis[results.findIndex((r) => r.status === 'fulfilled')];
      const { Addresses } = await ec2.send(new DescribeAddressesCommand({ AllocationIds: [AllocationId!] }));
      assert.equal(Addresses![0].NetworkInterfaceId, winner.NetworkInterfaceId);
      assert.equal(Addresses![0].AssociationId, fulfilled(results)[0].AssociationId);
      const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: enis.map((e) => e.NetworkInterfaceId!) }));
      assert.deepEqual(
        NetworkInterfaces!.filter((n) => n.Association?.PublicIp !== undefined).map((n) => [n.NetworkInterfaceId, n.Association!.PublicIp]),
        [[winner.NetworkInterfaceId, PublicIp]],
      );
      await assertInvariants();

      // With reassociation allowed every call succeeds; the address ends on exactly one of them.
      const moves = await race(
        t,
        enis.map((eni, i) => () => clients[i].send(new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId! }))),
      );
      assert.deepEqual(tally(moves), { ok: 8 }, failures(moves));
      assert.equal(new Set(fulfilled(moves).map((m) => m.AssociationId)).size, 8, 'each association has its own id');
      const last = (await ec2.send(new DescribeAddressesCommand({ AllocationIds: [AllocationId!] }))).Addresses![0];
      assert.ok(fulfilled(moves).some((m) => m.AssociationId === last.AssociationId), 'the current association is one that was answered');
      const holders = (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: enis.map((e) => e.NetworkInterfaceId!) }))).NetworkInterfaces!.filter(
        (n) => n.Association?.PublicIp === PublicIp,
      );
      assert.deepEqual(holders.map((n) => n.NetworkInterfaceId), [last.NetworkInterfaceId]);
      await assertInvariants();
    });

    test('(e) the same ClientToken from 8 clients at once: one reservation, one interface', async (t) => {
      const subnetId = net.subnets.launch.SubnetId!;
      const clients = await racers(8);
      const results = await race(
        t,
        clients.map((c) => () =>
          c.send(new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 't3.micro', MinCount: 2, MaxCount: 2, SubnetId: subnetId, ClientToken: 'race-launch-1' })),
        ),
      );
      assert.deepEqual(tally(results), { ok: 8 }, failures(results));
      const reservations = fulfilled(results);
      assert.equal(new Set(reservations.map((r) => r.ReservationId)).size, 1, 'every caller got the same reservation');
      const ids = reservations[0].Instances!.map((i) => i.InstanceId!).sort();
      for (const r of reservations) assert.deepEqual(r.Instances!.map((i) => i.InstanceId!).sort(), ids);
      const { Reservations } = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }));
      assert.deepEqual(
        Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)).sort(),
        ids,
        'two instances launched, not sixteen',
      );

      // The same for CreateNetworkInterface's ClientToken.
      const creates = await race(
        t,
        clients.map((c) => () => c.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, ClientToken: 'race-eni-1', Description: 'once' }))),
      );
      assert.deepEqual(tally(creates), { ok: 8 }, failures(creates));
      assert.equal(new Set(fulfilled(creates).map((c) => c.NetworkInterface!.NetworkInterfaceId)).size, 1);
      const { NetworkInterfaces } = await ec2.send(
        new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }, { Name: 'description', Values: ['once'] }] }),
      );
      assert.equal(NetworkInterfaces!.length, 1);
      await assertInvariants();
    });

    test('(f) DeleteNetworkInterface against AttachNetworkInterface of the same interface: exactly one of the two wins', async (t) => {
      const subnetId = net.subnets.doomed.SubnetId!;
      const { Instances } = await ec2.send(new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 't3.micro', MinCount: 8, MaxCount: 8, SubnetId: subnetId }));
      const enis: NetworkInterface[] = [];
      for (let i = 0; i < 8; i++) enis.push(await createEni(ec2, { SubnetId: subnetId, Description: `doomed ${i}` }));
      const clients = await racers(16);

      // For each interface an attach and a delete, from different clients (and nodes), at once;
      // sent attach first for half of them, delete first for the others. results[2i] is the attach.
      const calls = enis.map((eni, i) => [
        () => clients[2 * i].send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId!, InstanceId: Instances![i].InstanceId!, DeviceIndex: 1 })),
        () => clients[2 * i + 1].send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId! })),
      ]);
      const order = enis.flatMap((_, i) => (i % 2 ? [2 * i + 1, 2 * i] : [2 * i, 2 * i + 1]));
      const sent = await race<unknown>(t, order.map((k) => calls.flat()[k]));
      const results: PromiseSettledResult<unknown>[] = [];
      order.forEach((k, j) => (results[k] = sent[j]));
      const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }));
      const byId = new Map(NetworkInterfaces!.map((n) => [n.NetworkInterfaceId!, n]));
      enis.forEach((eni, i) => {
        const [attach, del] = [outcome(results[2 * i]), outcome(results[2 * i + 1])];
        const pair = `${eni.NetworkInterfaceId}: attach ${attach}, delete ${del}`;
        if (attach === 'ok') {
          // The attach came first: the delete found it in use, and it is attached.
          assert.equal(del, 'InvalidNetworkInterface.InUse', pair);
          assert.equal(byId.get(eni.NetworkInterfaceId!)?.Attachment?.InstanceId, Instances![i].InstanceId, pair);
        } else {
          // The delete came first: the attach found nothing, and it is gone.
          assert.deepEqual([attach, del], ['InvalidNetworkInterfaceID.NotFound', 'ok'], pair);
          assert.ok(!byId.has(eni.NetworkInterfaceId!), pair);
        }
      });
      // Only the primaries and the attached survivors remain in the subnet.
      const survivors = enis.filter((_, i) => outcome(results[2 * i]) === 'ok').length;
      assert.equal(NetworkInterfaces!.length, 8 + survivors);
      await assertInvariants();
    });

    test('(h) on 6 full instances at once: each attachment detached twice and its slot attached again; one detach wins, the slot holds one interface', async (t) => {
      // Attaches and detaches name what they touch, so on PostgreSQL those of different instances
      // run side by side; those of one instance and one attachment must still come out as if one
      // after the other.
      const subnetId = net.subnets.launch.SubnetId!;
      // t3.micro: 2 interfaces, the primary and one more.
      const { Instances } = await ec2.send(new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 't3.micro', MinCount: 6, MaxCount: 6, SubnetId: subnetId }));
      const olds: NetworkInterface[] = [];
      const news: NetworkInterface[] = [];
      const attachments: string[] = [];
      for (const [i, instance] of Instances!.entries()) {
        olds.push(await createEni(ec2, { SubnetId: subnetId, Description: `old ${i}` }));
        news.push(await createEni(ec2, { SubnetId: subnetId, Description: `new ${i}` }));
        const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: olds[i].NetworkInterfaceId!, InstanceId: instance.InstanceId!, DeviceIndex: 1 }));
        attachments.push(AttachmentId!);
      }
      const clients = await racers(18);
      // results[3i], [3i+1]: the two detaches of instance i's attachment; [3i+2]: the new attach.
      const results = await race<unknown>(
        t,
        Instances!.flatMap((instance, i) => [
          () => clients[3 * i].send(new DetachNetworkInterfaceCommand({ AttachmentId: attachments[i] })),
          () => clients[3 * i + 1].send(new DetachNetworkInterfaceCommand({ AttachmentId: attachments[i] })),
          () => clients[3 * i + 2].send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: news[i].NetworkInterfaceId!, InstanceId: instance.InstanceId!, DeviceIndex: 1 })),
        ]),
      );
      for (const [i, instance] of Instances!.entries()) {
        const [first, second, attach] = [0, 1, 2].map((k) => outcome(results[3 * i + k]));
        const what = `${instance.InstanceId}: detaches ${first}, ${second}; attach ${attach}`;
        assert.deepEqual([first, second].sort(), ['InvalidAttachmentID.NotFound', 'ok'], what);
        // The attach came after the detach (the slot was free) or before it (device index 1 taken).
        assert.ok(attach === 'ok' || attach === 'InvalidParameterValue', what);
        const seen = await describeInstance(ec2, instance.InstanceId!);
        const secondary = seen.NetworkInterfaces!.filter((n) => n.Attachment!.DeviceIndex !== 0).map((n) => n.NetworkInterfaceId);
        assert.deepEqual(secondary, attach === 'ok' ? [news[i].NetworkInterfaceId] : [], what);
        assert.equal((await describeEni(ec2, olds[i].NetworkInterfaceId!)).Status, 'available', what);
        assert.equal((await describeEni(ec2, news[i].NetworkInterfaceId!)).Status, attach === 'ok' ? 'in-use' : 'available', what);
      }
      await assertInvariants();
    });
  });
}

/**
 * Transitions that come due are settled by whichever request comes first — a Describe too, which
 * is then a read that writes. Many readers on both nodes finding the same due transitions at once
 * must all be answered (each sees them settled), with no RequestLimitExceeded and no 500.
 */
for (const variant of variants) {
  describe(`races with timed transitions: ${variant.name}`, { skip: variant.skip }, () => {
    const DELAY = 250;
    let cluster: Cluster;
    let ec2: EC2Client;
    let net: Network;

    before(async () => {
      cluster = await variant.start({ timings: { instancePendingMs: DELAY, attachingMs: DELAY, detachingMs: DELAY } });
      ec2 = cluster.nodes[0].client();
      net = await createNetwork(ec2, '10.1.0.0/16', { app: { cidr: '10.1.1.0/24', zone: 'us-east-1a' } });
    });

    after(async () => {
      await cluster?.close();
    });

    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    test('(g) readers on every node settle due launches, attaches and detaches at once; writers race them', async (t) => {
      const subnetId = net.subnets.app.SubnetId!;
      const clients = await racersOf(cluster, 16);
      const { Instances } = await ec2.send(new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 't3.micro', MinCount: 4, MaxCount: 4, SubnetId: subnetId }));
      const ids = Instances!.map((i) => i.InstanceId!);
      const enis: NetworkInterface[] = [];
      for (let i = 0; i < 4; i++) enis.push(await createEni(ec2, { SubnetId: subnetId }));
      await pause(DELAY + 50);

      // 16 readers find four launches due.
      const launches = await raceOn(cluster, t, clients.map((c) => () => c.send(new DescribeInstancesCommand({ InstanceIds: ids }))));
      assert.deepEqual(tally(launches), { ok: 16 }, failures(launches));
      for (const r of fulfilled(launches)) {
        assert.deepEqual(r.Reservations!.flatMap((x) => x.Instances!.map((i) => i.State!.Name)), ['running', 'running', 'running', 'running']);
      }

      // Attaches (now attaching), then readers and attaches of more interfaces racing the settling.
      const attachments: string[] = [];
      for (let i = 0; i < 2; i++) {
        attachments.push((await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: enis[i].NetworkInterfaceId!, InstanceId: ids[i], DeviceIndex: 1 }))).AttachmentId!);
      }
      await pause(DELAY + 50);
      const attaches = await raceOn<unknown>(cluster, t, [
        ...clients.slice(0, 14).map((c) => () => c.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }))),
        () => clients[14].send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: enis[2].NetworkInterfaceId!, InstanceId: ids[2], DeviceIndex: 1 })),
        () => clients[15].send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: enis[3].NetworkInterfaceId!, InstanceId: ids[3], DeviceIndex: 1 })),
      ]);
      assert.deepEqual(tally(attaches), { ok: 16 }, failures(attaches));
      for (const r of fulfilled(attaches).slice(0, 14) as { NetworkInterfaces: NetworkInterface[] }[]) {
        const settled = r.NetworkInterfaces.filter((n) => n.NetworkInterfaceId === enis[0].NetworkInterfaceId || n.NetworkInterfaceId === enis[1].NetworkInterfaceId);
        assert.deepEqual(settled.map((n) => n.Attachment?.Status), ['attached', 'attached'], 'every reader sees the due attaches settled');
      }
      await invariantsClean(cluster);

      // Detaches race readers; then readers find the detaches due.
      const detaches = await raceOn<unknown>(cluster, t, [
        ...attachments.map((AttachmentId, i) => () => clients[i].send(new DetachNetworkInterfaceCommand({ AttachmentId }))),
        ...clients.slice(2).map((c) => () => c.send(new DescribeInstancesCommand({ InstanceIds: ids }))),
      ]);
      assert.deepEqual(tally(detaches), { ok: 16 }, failures(detaches));
      await pause(DELAY + 50);
      const settled = await raceOn(cluster, t, clients.map((c) => () => c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: enis.map((e) => e.NetworkInterfaceId!) }))));
      assert.deepEqual(tally(settled), { ok: 16 }, failures(settled));
      for (const r of fulfilled(settled)) {
        const byId = new Map(r.NetworkInterfaces!.map((n) => [n.NetworkInterfaceId!, n]));
        for (const eni of enis.slice(0, 2)) assert.equal(byId.get(eni.NetworkInterfaceId!)!.Status, 'available');
        for (const eni of enis.slice(2)) assert.equal(byId.get(eni.NetworkInterfaceId!)!.Attachment?.Status, 'attached');
      }
      await invariantsClean(cluster);
    });
  });
}
