/**
 * The event stream end to end: GET /_eni/events read as server-sent events over HTTP (and the
 * same stream in process through RunningServer.events) while the SDK and the JSON API change
 * things — interfaces created, attached and detached, addresses associated, instance states,
 * failures, flow verdicts — in the order they were committed; the account and region filters;
 * and silence for what was not committed (a DryRun, a refused call).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  StopInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createNetwork, launch, type Network } from '../helpers/topology.ts';
import { createGateway, waitForState } from '../helpers/addressing.ts';
import { EventStream, drain, failInstance, probe, rawProbe, recoverInstance, type CloudEvent } from '../helpers/dataplane.ts';

const ACCOUNT = '000000000000';
const OTHER_ACCOUNT = '111111111111';

const primaryEniOf = (i: Instance) => i.NetworkInterfaces!.find((n) => n.Attachment?.DeviceIndex === 0)!.NetworkInterfaceId!;

describe('the event stream', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let url: string;
  let block = 10;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50, internetGatewaysPerRegion: 20 }, accounts: { AKIDOTHER: OTHER_ACCOUNT } });
    ec2 = server.client();
    url = server.url;
  });
  after(() => server.stop());

  async function network(client: EC2Client = ec2, zone = 'us-east-1a'): Promise<Network> {
    const n = block++;
    return createNetwork(client, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone } });
  }
  /** Any request settles what has come due (attachments, instance states); a read is enough. */
  const settle = async (client: EC2Client = ec2) => {
    await client.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5 }));
    await client.send(new DescribeInstancesCommand({ MaxResults: 5 }));
  };
  /** The id of the last event published so far: a stream opened after it sees only what comes next. */
  const latestId = () => server.events.since(0).at(-1)?.id ?? 0;
  /** A sentinel interface: its creation event proves everything committed before it has arrived. */
  const sentinel = (client: EC2Client, subnetId: string) => async () =>
    (await client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }))).NetworkInterface!.NetworkInterfaceId!;

  test('a life in events, in commit order: interface created, attaching/attached, address associated, detaching/detached, instance states, failure, flows', async () => {
    const net = await network();
    await createGateway(ec2, net.vpcId);
    const subnetId = net.subnets.a.SubnetId!;
    await settle();
    const stream = await EventStream.open(url, {}, { lastEventId: latestId() });
    const inProcess: CloudEvent[] = [];
    const unsubscribe = server.events.subscribe((e) => inProcess.push(e));
    try {
      const a = await launch(ec2, { SubnetId: subnetId });
      const b = await launch(ec2, { SubnetId: subnetId });
      await settle();
      const eni = await createEni(ec2, { SubnetId: subnetId });
      const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: a.InstanceId, DeviceIndex: 1 }));
      await settle();
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
      await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
      await settle();
      await failInstance(url, b.InstanceId!);
      await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 });
      await recoverInstance(url, b.InstanceId!);
      await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 });
      await ec2.send(new StopInstancesCommand({ InstanceIds: [a.InstanceId!] }));
      await waitForState(ec2, a.InstanceId!, 'stopped');
      await stream.waitFor((e) => e.type === 'instance.state' && e.instanceId === a.InstanceId && e.state === 'stopped');

      const ours = new Set([a.InstanceId, b.InstanceId, primaryEniOf(a), primaryEniOf(b), eni.NetworkInterfaceId]);
      const relevant = stream.events.filter((e) => ours.has(e.instanceId as string) || ours.has(e.networkInterfaceId as string) || e.type === 'flow');
      const summary = relevant.map((e) => {
        switch (e.type) {
          case 'instance.state':
            return `${e.type} ${e.instanceId} ${e.state}`;
          case 'instance.failed':
          case 'instance.recovered':
            return `${e.type} ${e.instanceId}`;
          case 'address.associated':
            return `${e.type} ${e.publicIp} ${e.networkInterfaceId}`;
          case 'flow':
            return `${e.type} ${e.delivered} ${e.reason ?? '-'}`;
          default:
            return `${e.type} ${e.networkInterfaceId}`;
        }
      });
      const launched = (i: Instance) => [
        `network-interface.created ${primaryEniOf(i)}`,
        `network-interface.attaching ${primaryEniOf(i)}`,
        `instance.state ${i.InstanceId} pending`,
      ];
      const expected = [
        ...launched(a),
        ...launched(b),
        `network-interface.created ${eni.NetworkInterfaceId}`,
        `network-interface.attaching ${eni.NetworkInterfaceId}`,
        `network-interface.attached ${eni.NetworkInterfaceId}`,
        `address.associated ${eip.PublicIp} ${eni.NetworkInterfaceId}`,
        `network-interface.detaching ${eni.NetworkInterfaceId}`,
        `network-interface.detached ${eni.NetworkInterfaceId}`,
        `instance.failed ${b.InstanceId}`,
        'flow false instance-impaired',
        `instance.recovered ${b.InstanceId}`,
        'flow true -',
        `instance.state ${a.InstanceId} stopping`,
        `instance.state ${a.InstanceId} stopped`,
      ];
      // Each launch's attached/running come when its transitions settle: after its pending, in that order.
      for (const i of [a, b]) {
        const pending = summary.indexOf(`instance.state ${i.InstanceId} pending`);
        const attached = summary.indexOf(`network-interface.attached ${primaryEniOf(i)}`);
        const running = summary.indexOf(`instance.state ${i.InstanceId} running`);
        assert.ok(pending >= 0 && attached > pending && running > pending, `${i.InstanceId}: pending, then attached and running: ${summary.join('\n')}`);
      }
      const settled = new Set([a, b].flatMap((i) => [`network-interface.attached ${primaryEniOf(i)}`, `instance.state ${i.InstanceId} running`]));
      assert.deepEqual(summary.filter((s) => !settled.has(s)), expected);

      // Every event: an increasing id, the time, the account and region it happened in.
      for (let i = 1; i < stream.events.length; i++) assert.ok(stream.events[i].id > stream.events[i - 1].id, 'ids increase');
      for (const e of relevant) {
        assert.equal(e.account, ACCOUNT);
        assert.equal(e.region, 'us-east-1');
        assert.ok(!Number.isNaN(Date.parse(e.time)), 'the time is ISO 8601');
      }
      const flows = relevant.filter((e) => e.type === 'flow');
      assert.deepEqual([flows[1].from, flows[1].to, flows[1].protocol, flows[1].port], [a.InstanceId, b.PrivateIpAddress, 6, 22]);
      assert.equal((flows[1].destination as { instanceId?: string }).instanceId, b.InstanceId);
      const attaching = relevant.find((e) => e.type === 'network-interface.attaching' && e.networkInterfaceId === eni.NetworkInterfaceId)!;
      assert.deepEqual([attaching.instanceId, attaching.attachmentId, attaching.deviceIndex], [a.InstanceId, AttachmentId, 1]);
      const created = relevant.find((e) => e.type === 'network-interface.created' && e.networkInterfaceId === eni.NetworkInterfaceId)!;
      assert.deepEqual([created.subnetId, created.vpcId, created.privateIpAddress], [subnetId, net.vpcId, eni.PrivateIpAddress]);

      // In process, the same events under the same ids.
      const seen = new Map(inProcess.map((e) => [e.id, e]));
      // (JSON drops undefined fields: compare what the wire can carry.)
      for (const e of relevant) assert.deepEqual(JSON.parse(JSON.stringify(seen.get(e.id))), e, `event ${e.id} reached both subscribers alike`);
    } finally {
      unsubscribe();
      await stream.close();
    }
  });

  test('?account= and ?region= keep a stream to one account and one region', async () => {
    const other = server.client({ accessKeyId: 'AKIDOTHER' });
    const west = server.client({ region: 'us-west-2' });
    const mine = await network();
    const theirs = await network(other);
    const western = await network(west, 'us-west-2a');
    await settle();
    await settle(other);
    await settle(west);
    const after = { lastEventId: latestId() };
    const all = await EventStream.open(url, {}, after);
    const onlyOther = await EventStream.open(url, { account: OTHER_ACCOUNT }, after);
    const onlyWest = await EventStream.open(url, { region: 'us-west-2' }, after);
    const mineEast = await EventStream.open(url, { account: ACCOUNT, region: 'us-east-1' }, after);
    try {
      const m = await createEni(ec2, { SubnetId: mine.subnets.a.SubnetId });
      const t = await createEni(other, { SubnetId: theirs.subnets.a.SubnetId });
      const w = await createEni(west, { SubnetId: western.subnets.a.SubnetId });
      const created = (s: EventStream) =>
        s.events.filter((e) => e.type === 'network-interface.created').map((e) => e.networkInterfaceId);
      await all.waitFor((e) => e.networkInterfaceId === w.NetworkInterfaceId);
      // The filtered streams have had everything the unfiltered one had: a last event for each.
      const lastForOther = await drain(onlyOther, sentinel(other, theirs.subnets.a.SubnetId!));
      const lastForWest = await drain(onlyWest, sentinel(west, western.subnets.a.SubnetId!));
      const lastForMine = await drain(mineEast, sentinel(ec2, mine.subnets.a.SubnetId!));
      assert.deepEqual(created(all).slice(0, 3), [m.NetworkInterfaceId, t.NetworkInterfaceId, w.NetworkInterfaceId]);
      assert.deepEqual(lastForOther.map((e) => e.networkInterfaceId), [t.NetworkInterfaceId]);
      assert.ok(onlyOther.events.every((e) => e.account === OTHER_ACCOUNT));
      assert.deepEqual(lastForWest.map((e) => e.networkInterfaceId), [w.NetworkInterfaceId]);
      assert.ok(onlyWest.events.every((e) => e.region === 'us-west-2'));
      assert.deepEqual(lastForMine.map((e) => e.networkInterfaceId), [m.NetworkInterfaceId]);
      assert.ok(mineEast.events.every((e) => e.account === ACCOUNT && e.region === 'us-east-1'));
    } finally {
      await Promise.all([all, onlyOther, onlyWest, mineEast].map((s) => s.close()));
    }
  });

  test('a DryRun call and refused calls publish nothing', async () => {
    const net = await network();
    const subnetId = net.subnets.a.SubnetId!;
    const instance = await launch(ec2, { SubnetId: subnetId });
    const eni = await createEni(ec2, { SubnetId: subnetId });
    await settle();
    const stream = await EventStream.open(url, {}, { lastEventId: latestId() });
    try {
      await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, DryRun: true })), 'DryRunOperation');
      await expectEc2Error(ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1, DryRun: true })), 'DryRunOperation');
      await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: 'subnet-0123456789abcdef0' })), 'InvalidSubnetID.NotFound');
      await expectEc2Error(ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: 'i-0123456789abcdef0', DeviceIndex: 1 })), 'InvalidInstanceID.NotFound');
      await expectEc2Error(ec2.send(new StopInstancesCommand({ InstanceIds: [instance.InstanceId!], DryRun: true })), 'DryRunOperation');
      assert.equal((await rawProbe(url, { from: 'eni-0123456789abcdef0', to: instance.PrivateIpAddress, port: 22 })).status, 400);
      const refusedFail = await fetch(`${url}/_eni/instances/i-0123456789abcdef0/fail`, { method: 'POST' });
      assert.equal(refusedFail.status, 404);
      const before = await drain(stream, sentinel(ec2, subnetId));
      assert.deepEqual(before, [], `nothing before the sentinel: ${JSON.stringify(before.map((e) => e.type))}`);
    } finally {
      await stream.close();
    }
  });

  test('a subscriber reconnecting with Last-Event-ID is sent the events after it, then the live ones', async () => {
    const net = await network();
    const subnetId = net.subnets.a.SubnetId!;
    await settle();
    const mark = latestId();
    const missed = await createEni(ec2, { SubnetId: subnetId });
    const stream = await EventStream.open(url, {}, { lastEventId: mark });
    try {
      const replayed = await stream.waitFor((e) => e.networkInterfaceId === missed.NetworkInterfaceId);
      assert.ok(replayed.id > mark);
      const live = await createEni(ec2, { SubnetId: subnetId });
      await stream.waitFor((e) => e.networkInterfaceId === live.NetworkInterfaceId);
      assert.deepEqual(
        stream.events.map((e) => e.networkInterfaceId),
        [missed.NetworkInterfaceId, live.NetworkInterfaceId],
        'exactly the events after the mark, once each, in order',
      );
    } finally {
      await stream.close();
    }
  });
});
