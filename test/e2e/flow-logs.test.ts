/**
 * VPC Flow Logs end to end: CreateFlowLogs on interfaces, subnets and VPCs; the records the data
 * plane writes for each probed flow (AWS's default version-2 format, one per interface that saw
 * the flow, filtered by traffic type) at GET /_eni/flow-logs/{id} and in the record file under
 * the data directory; custom log formats; DescribeFlowLogs and DeleteFlowLogs.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  DetachNetworkInterfaceCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  UnassignPrivateIpAddressesCommand,
  CreateFlowLogsCommand,
  CreateRouteCommand,
  DeleteFlowLogsCommand,
  DescribeFlowLogsCommand,
  type CreateFlowLogsCommandInput,
  type DescribeFlowLogsCommandInput,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createGroup, createNetwork, describeEni, describeInstance, launch, pollUntil, type Network } from '../helpers/topology.ts';
import { createGateway } from '../helpers/addressing.ts';
import {
  INTERNET_ADDRESS,
  assertDelivered,
  assertDropped,
  errorOf,
  failInstance,
  flowLogLines,
  mainRouteTableOf,
  newLines,
  parseRecord,
  probe,
  rawFlowLog,
  recoverInstance,
} from '../helpers/dataplane.ts';

const ACCOUNT = '000000000000';
const FLOW_LOG_ID = /^fl-[0-9a-f]{17}$/;
const DEFAULT_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';
const ROLE = 'arn:aws:iam::000000000000:role/flow-logs';

const primaryEniOf = (i: Instance) => i.NetworkInterfaces!.find((n) => n.Attachment?.DeviceIndex === 0)!.NetworkInterfaceId!;

describe('flow logs', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let url: string;
  let block = 10;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 100, internetGatewaysPerRegion: 20 } });
    ec2 = server.client();
    url = server.url;
  });
  after(() => server.stop());

  /** A VPC with subnets a and b; instance `a` in subnet a (default group), instance `b` in subnet b in a group that admits TCP 22 only. */
  async function world(): Promise<{ net: Network; a: Instance; b: Instance; n: number }> {
    const n = block++;
    const net = await createNetwork(ec2, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' }, b: { cidr: `10.${n}.2.0/24`, zone: 'us-east-1a' } });
    const ssh = await createGroup(ec2, net.vpcId, 'ssh');
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: ssh, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    const a = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const b = await launch(ec2, { SubnetId: net.subnets.b.SubnetId, SecurityGroupIds: [ssh] });
    return { net, a, b, n };
  }

  async function createFlowLog(input: Partial<CreateFlowLogsCommandInput> & Pick<CreateFlowLogsCommandInput, 'ResourceType' | 'ResourceIds'>): Promise<string> {
    const result = await ec2.send(new CreateFlowLogsCommand({ TrafficType: 'ALL', LogGroupName: 'flows', DeliverLogsPermissionArn: ROLE, ...input }));
    assert.deepEqual(result.Unsuccessful, []);
    assert.equal(result.FlowLogIds!.length, 1);
    return result.FlowLogIds![0];
  }

  test('CreateFlowLogs for a NetworkInterface, a Subnet and a VPC: fl- ids, described with their settings and AWS\'s default format', async () => {
    const { net, a } = await world();
    const started = Date.now();
    const result = await ec2.send(
      new CreateFlowLogsCommand({ ResourceType: 'NetworkInterface', ResourceIds: [primaryEniOf(a)], TrafficType: 'ALL', LogGroupName: 'eni-flows', DeliverLogsPermissionArn: ROLE, ClientToken: 'token-1' }),
    );
    assert.equal(result.FlowLogIds!.length, 1);
    assert.match(result.FlowLogIds![0], FLOW_LOG_ID);
    assert.deepEqual(result.Unsuccessful, []);
    assert.equal(result.ClientToken, 'token-1');
    const subnetLog = await createFlowLog({ ResourceType: 'Subnet', ResourceIds: [net.subnets.a.SubnetId!], TrafficType: 'REJECT' });
    const vpcLog = await createFlowLog({ ResourceType: 'VPC', ResourceIds: [net.vpcId], TrafficType: 'ACCEPT' });

    const { FlowLogs } = await ec2.send(new DescribeFlowLogsCommand({ FlowLogIds: [result.FlowLogIds![0], subnetLog, vpcLog] }));
    const byId = new Map(FlowLogs!.map((f) => [f.FlowLogId, f]));
    const eniLog = byId.get(result.FlowLogIds![0])!;
    assert.equal(eniLog.ResourceId, primaryEniOf(a));
    assert.equal(eniLog.TrafficType, 'ALL');
    assert.equal(eniLog.LogGroupName, 'eni-flows');
    assert.equal(eniLog.LogDestinationType, 'cloud-watch-logs');
    assert.equal(eniLog.LogFormat, DEFAULT_FORMAT);
    assert.equal(eniLog.FlowLogStatus, 'ACTIVE');
    assert.equal(eniLog.DeliverLogsStatus, 'SUCCESS');
    assert.equal(eniLog.MaxAggregationInterval, 600);
    assert.ok(eniLog.CreationTime instanceof Date && Math.abs(eniLog.CreationTime.getTime() - started) < 60_000);
    assert.deepEqual([byId.get(subnetLog)!.ResourceId, byId.get(subnetLog)!.TrafficType], [net.subnets.a.SubnetId, 'REJECT']);
    assert.deepEqual([byId.get(vpcLog)!.ResourceId, byId.get(vpcLog)!.TrafficType], [net.vpcId, 'ACCEPT']);
    // A new flow log has no records yet.
    assert.deepEqual(await flowLogLines(url, vpcLog), []);
  });

  test('unknown resource ids come back in Unsuccessful, beside the ones that were logged', async () => {
    const { net } = await world();
    const result = await ec2.send(
      new CreateFlowLogsCommand({ ResourceType: 'VPC', ResourceIds: [net.vpcId, 'vpc-0123456789abcdef0'], TrafficType: 'ALL', LogGroupName: 'flows', DeliverLogsPermissionArn: ROLE }),
    );
    assert.equal(result.FlowLogIds!.length, 1);
    assert.equal(result.Unsuccessful!.length, 1);
    assert.equal(result.Unsuccessful![0].ResourceId, 'vpc-0123456789abcdef0');
    assert.equal(typeof result.Unsuccessful![0].Error?.Code, 'string');
    assert.ok(result.Unsuccessful![0].Error!.Message);
    const { FlowLogs } = await ec2.send(new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: ['vpc-0123456789abcdef0'] }] }));
    assert.deepEqual(FlowLogs, []);
  });

  test('a delivered flow writes one default-format record per interface that saw it: version 2, account, interface, addresses, ports, protocol, packets, bytes, start, end, ACCEPT, OK', async () => {
    const { net, a, b } = await world();
    const eniLog = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [primaryEniOf(a)] });
    const subnetLog = await createFlowLog({ ResourceType: 'Subnet', ResourceIds: [net.subnets.b.SubnetId!] });
    const vpcLog = await createFlowLog({ ResourceType: 'VPC', ResourceIds: [net.vpcId] });
    const before = Math.floor(Date.now() / 1000);
    assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22, sourcePort: 50123 }));
    const afterwards = Math.ceil(Date.now() / 1000);

    const [egress] = (await flowLogLines(url, eniLog)).map(parseRecord);
    assert.equal((await flowLogLines(url, eniLog)).length, 1, 'the source interface saw the flow once');
    assert.equal(egress.version, '2');
    assert.equal(egress.accountId, ACCOUNT);
    assert.equal(egress.interfaceId, primaryEniOf(a));
    assert.equal(egress.srcaddr, a.PrivateIpAddress);
    assert.equal(egress.dstaddr, b.PrivateIpAddress);
    assert.equal(egress.srcport, '50123');
    assert.equal(egress.dstport, '22');
    assert.equal(egress.protocol, '6');
    assert.ok(Number(egress.packets) >= 1, 'packets is a positive count');
    assert.ok(Number(egress.bytes) >= 1, 'bytes is a positive count');
    assert.ok(Number(egress.start) >= before - 1 && Number(egress.start) <= afterwards, `start ${egress.start} is the flow's time in Unix seconds`);
    assert.ok(Number(egress.end) >= Number(egress.start) && Number(egress.end) <= afterwards);
    assert.equal(egress.action, 'ACCEPT');
    assert.equal(egress.logStatus, 'OK');

    // The destination subnet's log has the destination interface's record only.
    const subnetRecords = (await flowLogLines(url, subnetLog)).map(parseRecord);
    assert.deepEqual(
      subnetRecords.map((r) => [r.interfaceId, r.srcaddr, r.dstaddr, r.dstport, r.action]),
      [[primaryEniOf(b), a.PrivateIpAddress, b.PrivateIpAddress, '22', 'ACCEPT']],
    );
    // The VPC's log has both.
    assert.deepEqual((await flowLogLines(url, vpcLog)).map(parseRecord).map((r) => r.interfaceId).sort(), [primaryEniOf(a), primaryEniOf(b)].sort());

    // UDP and ICMP carry their protocol numbers.
    const udp = await flowLogLines(url, eniLog);
    await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, protocol: 'udp', port: 53 });
    await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, protocol: 'icmp' });
    assert.deepEqual(newLines(udp, await flowLogLines(url, eniLog)).map(parseRecord).map((r) => r.protocol), ['17', '1']);
  });

  test('ALL, ACCEPT and REJECT flow logs on one interface: the destination\'s group refusing a port writes an ingress REJECT at the destination interface', async () => {
    const { a, b } = await world();
    const eni = primaryEniOf(b);
    const all = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [eni], TrafficType: 'ALL' });
    const accepted = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [eni], TrafficType: 'ACCEPT', LogGroupName: 'accepted' });
    const rejected = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [eni], TrafficType: 'REJECT', LogGroupName: 'rejected' });
    const sourceLog = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [primaryEniOf(a)] });

    assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));
    assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 80 }), 'sg-ingress-denied');

    const allRecords = (await flowLogLines(url, all)).map(parseRecord);
    assert.deepEqual(allRecords.map((r) => [r.dstport, r.action]), [['22', 'ACCEPT'], ['80', 'REJECT']]);
    assert.deepEqual((await flowLogLines(url, accepted)).map(parseRecord).map((r) => [r.dstport, r.action]), [['22', 'ACCEPT']]);
    const [reject] = (await flowLogLines(url, rejected)).map(parseRecord);
    assert.equal((await flowLogLines(url, rejected)).length, 1);
    assert.deepEqual([reject.interfaceId, reject.srcaddr, reject.dstaddr, reject.dstport, reject.action], [eni, a.PrivateIpAddress, b.PrivateIpAddress, '80', 'REJECT']);
    // The source's egress was accepted both times: its group let the packets out.
    assert.deepEqual((await flowLogLines(url, sourceLog)).map(parseRecord).map((r) => [r.dstport, r.action]), [['22', 'ACCEPT'], ['80', 'ACCEPT']]);
  });

  test('traffic from the internet to an Elastic IP is logged at the interface with its private address as dstaddr', async () => {
    const { net, b } = await world();
    const igw = await createGateway(ec2, net.vpcId);
    await ec2.send(new CreateRouteCommand({ RouteTableId: (await mainRouteTableOf(ec2, net.vpcId)).RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: b.InstanceId }));
    const log = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [primaryEniOf(b)] });
    assertDelivered(await probe(url, { from: 'internet', to: eip.PublicIp!, port: 22 }));
    const [record] = (await flowLogLines(url, log)).map(parseRecord);
    assert.deepEqual([record.srcaddr, record.dstaddr, record.dstport, record.action], [INTERNET_ADDRESS, b.PrivateIpAddress, '22', 'ACCEPT']);
  });

  test('the records are also appended to dataDir/flow-logs/<id>.log, line for line', async () => {
    const { net, a, b } = await world();
    const log = await createFlowLog({ ResourceType: 'VPC', ResourceIds: [net.vpcId] });
    assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));
    assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 443 }), 'sg-ingress-denied');
    const file = path.join(server.dataDir, 'flow-logs', `${log}.log`);
    assert.ok(existsSync(file), `${file} exists`);
    const fileLines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.equal(fileLines.length, 4, 'two flows, two interfaces each');
    assert.deepEqual(fileLines, await flowLogLines(url, log));
  });

  test('a custom LogFormat with ${vpc-id} ${subnet-id} ${instance-id} ${flow-direction} writes those fields; an unknown field is InvalidParameterValue', async () => {
    const { net, a, b } = await world();
    const format = '${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${dstport} ${action}';
    const log = await createFlowLog({ ResourceType: 'VPC', ResourceIds: [net.vpcId], LogFormat: format });
    assert.equal((await ec2.send(new DescribeFlowLogsCommand({ FlowLogIds: [log] }))).FlowLogs![0].LogFormat, format);
    assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));
    const records = (await flowLogLines(url, log)).map((l) => l.split(' '));
    assert.deepEqual(records, [
      ['2', net.vpcId, net.subnets.a.SubnetId, a.InstanceId, primaryEniOf(a), 'egress', a.PrivateIpAddress, b.PrivateIpAddress, '22', 'ACCEPT'],
      ['2', net.vpcId, net.subnets.b.SubnetId, b.InstanceId, primaryEniOf(b), 'ingress', a.PrivateIpAddress, b.PrivateIpAddress, '22', 'ACCEPT'],
    ]);
    await expectEc2Error(
      ec2.send(new CreateFlowLogsCommand({ ResourceType: 'VPC', ResourceIds: [net.vpcId], TrafficType: 'ALL', LogGroupName: 'flows', DeliverLogsPermissionArn: ROLE, LogFormat: '${version} ${bogus-field}' })),
      'InvalidParameterValue',
    );
    const { FlowLogs } = await ec2.send(new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: [net.vpcId] }] }));
    assert.deepEqual(FlowLogs!.map((f) => f.FlowLogId), [log], 'the refused call made no flow log');
  });

  test('DescribeFlowLogs by id and by the resource-id and traffic-type filters', async () => {
    const { net, a, b } = await world();
    const vpcAll = await createFlowLog({ ResourceType: 'VPC', ResourceIds: [net.vpcId] });
    const vpcReject = await createFlowLog({ ResourceType: 'VPC', ResourceIds: [net.vpcId], TrafficType: 'REJECT', LogGroupName: 'rejects' });
    const eniAccept = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [primaryEniOf(a)], TrafficType: 'ACCEPT' });
    const ids = async (input: DescribeFlowLogsCommandInput) =>
      ((await ec2.send(new DescribeFlowLogsCommand(input))).FlowLogs ?? []).map((f) => f.FlowLogId!).sort();

    assert.deepEqual(await ids({ FlowLogIds: [vpcAll, eniAccept] }), [vpcAll, eniAccept].sort());
    assert.deepEqual(await ids({ Filter: [{ Name: 'resource-id', Values: [net.vpcId] }] }), [vpcAll, vpcReject].sort());
    assert.deepEqual(await ids({ Filter: [{ Name: 'resource-id', Values: [primaryEniOf(a), primaryEniOf(b)] }] }), [eniAccept]);
    assert.deepEqual(await ids({ Filter: [{ Name: 'resource-id', Values: [net.vpcId, primaryEniOf(a)] }, { Name: 'traffic-type', Values: ['REJECT'] }] }), [vpcReject]);
    assert.deepEqual(await ids({ Filter: [{ Name: 'resource-id', Values: [net.vpcId, primaryEniOf(a)] }, { Name: 'traffic-type', Values: ['ACCEPT', 'ALL'] }] }), [vpcAll, eniAccept].sort());
  });

  test('DeleteFlowLogs: the log and its records go; an unknown id comes back in Unsuccessful with InvalidFlowLogId.NotFound', async () => {
    const { net, a, b } = await world();
    const log = await createFlowLog({ ResourceType: 'VPC', ResourceIds: [net.vpcId] });
    assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));
    assert.equal((await flowLogLines(url, log)).length, 2);

    const unknown = 'fl-0123456789abcdef0';
    const result = await ec2.send(new DeleteFlowLogsCommand({ FlowLogIds: [log, unknown] }));
    assert.equal(result.Unsuccessful!.length, 1);
    assert.equal(result.Unsuccessful![0].ResourceId, unknown);
    assert.equal(result.Unsuccessful![0].Error?.Code, 'InvalidFlowLogId.NotFound');
    assert.deepEqual((await ec2.send(new DescribeFlowLogsCommand({ FlowLogIds: [log] }))).FlowLogs, []);

    const gone = await rawFlowLog(url, log);
    assert.equal(gone.status, 404);
    assert.equal(errorOf(gone.json).code, 'InvalidFlowLogId.NotFound');
    // A deleted flow log records nothing more.
    assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));
    assert.equal((await rawFlowLog(url, log)).status, 404);
    const again = await ec2.send(new DeleteFlowLogsCommand({ FlowLogIds: [log] }));
    assert.deepEqual(again.Unsuccessful!.map((u) => [u.ResourceId, u.Error?.Code]), [[log, 'InvalidFlowLogId.NotFound']]);
  });

  test('flows of another VPC are not in a VPC\'s log', async () => {
    const first = await world();
    const second = await world();
    const log = await createFlowLog({ ResourceType: 'VPC', ResourceIds: [first.net.vpcId] });
    assertDelivered(await probe(url, { from: second.a.InstanceId!, to: second.b.PrivateIpAddress!, port: 22 }));
    assert.deepEqual(await flowLogLines(url, log), []);
  });

  describe('every drop situation, as AWS records it at the interface', () => {
    // AWS records at the interface what its security groups and ACL decided, whatever the
    // instance behind it does with the packet; an address no interface holds leaves no record.
    const records = async (log: string, seen: string[]) => newLines(seen, await flowLogLines(url, log)).map(parseRecord).map((r) => [r.interfaceId, r.dstport, r.action]);

    test('an impaired destination: ACCEPT where its group admits the port, REJECT where it does not; nothing delivered', async () => {
      const { a, b } = await world();
      const eni = primaryEniOf(b);
      const log = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [eni] });
      await failInstance(url, b.InstanceId!);
      const drops = [];
      drops.push(assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }), 'instance-impaired'));
      drops.push(assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 80 }), 'sg-ingress-denied'));
      assert.deepEqual(await records(log, []), [[eni, '22', 'ACCEPT'], [eni, '80', 'REJECT']]);
      assert.deepEqual(drops[0].observations.map((o) => [o.networkInterfaceId, o.direction, o.action]), [[primaryEniOf(a), 'egress', 'ACCEPT'], [eni, 'ingress', 'ACCEPT']]);
      await recoverInstance(url, b.InstanceId!);
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));
    });

    test('a stopped destination: its interface still records the flow (ACCEPT)', async () => {
      const { a, b } = await world();
      const eni = primaryEniOf(b);
      const log = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [eni] });
      await ec2.send(new StopInstancesCommand({ InstanceIds: [b.InstanceId!] }));
      await pollUntil(() => describeInstance(ec2, b.InstanceId!).then((i) => i.State?.Name), (s) => s === 'stopped');
      assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }), 'instance-not-running');
      assert.deepEqual(await records(log, []), [[eni, '22', 'ACCEPT']]);
      await ec2.send(new StartInstancesCommand({ InstanceIds: [b.InstanceId!] }));
    });

    test('a detached (available) interface: the flow to its address is recorded on it; once the address is gone, nothing more is', async () => {
      const { net, a } = await world();
      const floating = await createEni(ec2, { SubnetId: net.subnets.b.SubnetId });
      const eni = floating.NetworkInterfaceId!;
      const log = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [eni] });
      await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, SecondaryPrivateIpAddressCount: 1 }));
      const secondary = (await describeEni(ec2, eni)).PrivateIpAddresses!.find((p) => !p.Primary)!.PrivateIpAddress!;
      assertDropped(await probe(url, { from: a.InstanceId!, to: floating.PrivateIpAddress!, port: 443 }), 'eni-not-attached');
      assertDropped(await probe(url, { from: a.InstanceId!, to: secondary, port: 443 }), 'eni-not-attached');
      const seen = await flowLogLines(url, log);
      assert.deepEqual(seen.map(parseRecord).map((r) => [r.interfaceId, r.dstport, r.action]), [[eni, '443', 'ACCEPT'], [eni, '443', 'ACCEPT']]);
      // AWS ("Flow log limitations"): traffic to a secondary address shows the primary one as dstaddr.
      assert.deepEqual(seen.map(parseRecord).map((r) => r.dstaddr), [floating.PrivateIpAddress, floating.PrivateIpAddress]);

      await ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, PrivateIpAddresses: [secondary] }));
      assertDropped(await probe(url, { from: a.InstanceId!, to: secondary, port: 443 }), 'no-destination');
      assert.deepEqual(await records(log, seen), [], 'an address no interface holds leaves no record on the interface that had it');
    });

    test('an interface moving to a standby: recorded on it through the detach, the gap and the attach', async () => {
      const { net, a } = await world();
      const standby = await launch(ec2, { SubnetId: net.subnets.b.SubnetId });
      const floating = await createEni(ec2, { SubnetId: net.subnets.b.SubnetId });
      const eni = floating.NetworkInterfaceId!;
      const log = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [eni] });
      const to = { from: a.InstanceId!, to: floating.PrivateIpAddress!, port: 22 };
      assertDropped(await probe(url, to), 'eni-not-attached');
      const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni, InstanceId: standby.InstanceId, DeviceIndex: 1 }));
      assertDelivered(await probe(url, to));
      await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
      assertDropped(await probe(url, to), 'eni-not-attached');
      assert.deepEqual(await records(log, []), [[eni, '22', 'ACCEPT'], [eni, '22', 'ACCEPT'], [eni, '22', 'ACCEPT']]);
    });

    test('${pkt-dstaddr} keeps the packet\'s own destination (a secondary address) where ${dstaddr} shows the primary', async () => {
      const { a, b } = await world();
      const eni = primaryEniOf(b);
      await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, SecondaryPrivateIpAddressCount: 1 }));
      const secondary = (await describeEni(ec2, eni)).PrivateIpAddresses!.find((p) => !p.Primary)!.PrivateIpAddress!;
      const log = await createFlowLog({ ResourceType: 'NetworkInterface', ResourceIds: [eni], LogFormat: '${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${action}' });
      assertDelivered(await probe(url, { from: a.InstanceId!, to: secondary, port: 22 }));
      assert.deepEqual(await flowLogLines(url, log), [`${eni} ${a.PrivateIpAddress} ${b.PrivateIpAddress} ${a.PrivateIpAddress} ${secondary} ACCEPT`]);
    });
  });
});
