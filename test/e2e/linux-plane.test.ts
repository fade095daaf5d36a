/**
 * The linux data plane with real packets: instances are network namespaces, interfaces real
 * veth links that move on attach, and real programs (a Node HTTP server, curl) talk across them.
 * Every request is sent between namespaces the test server made, never anywhere else.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateNetworkAclEntryCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  AssociateRouteTableCommand,
  DeleteRouteCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
  CreateVpcCommand,
  CreateSubnetCommand,
  DescribeVpcsCommand,
  DescribeSecurityGroupsCommand,
  StartInstancesCommand,
  TerminateInstancesCommand,
  AssignPrivateIpAddressesCommand,
  CreateFlowLogsCommand,
  CreateNatGatewayCommand,
  DescribeNatGatewaysCommand,
  CreateManagedPrefixListCommand,
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  ModifyInstanceMetadataOptionsCommand,
  DisassociateAddressCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createGroup, createNetwork, describeEni, launch, type Network } from '../helpers/topology.ts';
import { curl, eventually, execIn, httpServer, keepAliveClient, linuxPlaneSkip, namespacesOf, type RunningProgram, stopCleanly } from '../helpers/plane.ts';

const skip = linuxPlaneSkip();

/** A VPC with an internet gateway as the default route of its main table, and its default group open to HTTP. */
async function publicNetwork(ec2: EC2Client, cidr: string, subnets: Record<string, { cidr: string; zone: string }>): Promise<Network & { gatewayId: string; mainTableId: string }> {
  const network = await createNetwork(ec2, cidr, subnets);
  const gatewayId = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: network.vpcId }));
  const { RouteTables } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [network.vpcId] }] }));
  const mainTableId = RouteTables![0].RouteTableId!;
  await ec2.send(new CreateRouteCommand({ RouteTableId: mainTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: gatewayId }));
  await allowHttp(ec2, network.defaultGroupId, '0.0.0.0/0');
  return { ...network, gatewayId, mainTableId };
}

const allowHttp = (ec2: EC2Client, groupId: string, cidr: string, port = 80) =>
  ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: cidr }] }] }));

async function elasticIp(ec2: EC2Client, target: { NetworkInterfaceId?: string; InstanceId?: string; PrivateIpAddress?: string }): Promise<string> {
  const { AllocationId, PublicIp } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  await ec2.send(new AssociateAddressCommand({ AllocationId, ...target }));
  return PublicIp!;
}

describe('linux data plane', { skip }, () => {
  let server: TestServer;
  let ec2: EC2Client;
  const programs: RunningProgram[] = [];

  before(async () => {
    server = await startTestServer({ dataplane: 'linux', defaultVpc: false, quotas: { vpcsPerRegion: 30, elasticIpsPerRegion: 30, internetGatewaysPerRegion: 30 } });
    ec2 = server.client();
  });
  after(() => stopCleanly(server, programs));

  const serve = async (instanceId: string, name: string, options: { port?: number; host?: string } = {}) => {
    const program = await httpServer(server, instanceId, name, options);
    programs.push(program);
    return program;
  };

  test('an instance is a namespace whose ethN is its interface at device index N, with the interface MAC address and addresses', async () => {
    const net = await publicNetwork(ec2, '10.10.0.0/16', { a: { cidr: '10.10.1.0/24', zone: 'us-east-1a' } });
    const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const eni = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId, SecondaryPrivateIpAddressCount: 1 });
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
    const links = JSON.parse(await execIn(server, instance.InstanceId!, ['ip', '-j', 'address', 'show'])) as { ifname: string; address: string; addr_info: { local: string; family: string }[] }[];
    const eth0 = links.find((l) => l.ifname === 'eth0')!;
    const eth1 = links.find((l) => l.ifname === 'eth1')!;
    const primary = (await describeEni(ec2, instance.NetworkInterfaces![0].NetworkInterfaceId!));
    assert.equal(eth0.address, primary.MacAddress);
    assert.ok(eth0.addr_info.some((a) => a.local === instance.PrivateIpAddress));
    assert.equal(eth1.address, eni.MacAddress);
    const expected = eni.PrivateIpAddresses!.map((a) => a.PrivateIpAddress!).sort();
    assert.deepEqual(eth1.addr_info.filter((a) => a.family === 'inet').map((a) => a.local).sort(), expected);
    // Amazon Linux 2023's policy routing: device 1's addresses route through table 10001.
    const rules = await execIn(server, instance.InstanceId!, ['ip', 'rule', 'show']);
    for (const address of expected) assert.match(rules, new RegExp(`10001:\\s+from ${address.replace(/\./g, '\\.')} lookup 10001`));
  });

  test('HTTP reaches an instance from another instance by private address, and from the internet by its Elastic IP only', async () => {
    const net = await publicNetwork(ec2, '10.11.0.0/16', { a: { cidr: '10.11.1.0/24', zone: 'us-east-1a' } });
    const web = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const client = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    await serve(web.InstanceId!, 'web');
    assert.equal((await curl(server, client.InstanceId!, `http://${web.PrivateIpAddress}/`)).body.trim(), `web ${web.PrivateIpAddress}`);
    // Without a public address the internet cannot reach it, and it cannot reach the internet.
    assert.equal((await curl(server, client.InstanceId!, 'http://203.0.113.10/', { timeoutSeconds: 1 })).ok, false);
    const publicIp = await elasticIp(ec2, { InstanceId: web.InstanceId });
    const answer = await curl(server, 'internet', `http://${publicIp}/`);
    assert.equal(answer.body.trim(), `web ${web.PrivateIpAddress}`, 'behind the gateway the instance sees its private address');
  });

  test('a floating interface with an Elastic IP moves from a failed instance to a standby: the same MAC and addresses answer from the standby', async () => {
    const net = await publicNetwork(ec2, '10.12.0.0/16', { a: { cidr: '10.12.1.0/24', zone: 'us-east-1a' } });
    const primary = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const standby = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const floating = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId, Description: 'floating' });
    const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: floating.NetworkInterfaceId, InstanceId: primary.InstanceId, DeviceIndex: 1 }));
    const publicIp = await elasticIp(ec2, { NetworkInterfaceId: floating.NetworkInterfaceId });
    await serve(primary.InstanceId!, 'primary', { host: floating.PrivateIpAddress });
    assert.equal((await curl(server, 'internet', `http://${publicIp}/`)).body.trim(), `primary ${floating.PrivateIpAddress}`);

    // The primary fails: nothing answers any more.
    await fetch(`${server.url}/_eni/instances/${primary.InstanceId}/fail`, { method: 'POST' });
    assert.equal((await curl(server, 'internet', `http://${publicIp}/`, { timeoutSeconds: 1 })).ok, false, 'a failed instance really stops answering');

    // The failover script: detach, attach to the standby, where a server waits on the same address.
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId, Force: true }));
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: floating.NetworkInterfaceId, InstanceId: standby.InstanceId, DeviceIndex: 1 }));
    const eth1 = JSON.parse(await execIn(server, standby.InstanceId!, ['ip', '-j', 'address', 'show', 'eth1']))[0] as { address: string; addr_info: { local: string }[] };
    assert.equal(eth1.address, floating.MacAddress, 'the same kernel interface, same MAC address');
    assert.ok(eth1.addr_info.some((a) => a.local === floating.PrivateIpAddress));
    await serve(standby.InstanceId!, 'standby', { host: floating.PrivateIpAddress });
    const resumed = await eventually(async () => (await curl(server, 'internet', `http://${publicIp}/`, { timeoutSeconds: 1 })).body.trim() === `standby ${floating.PrivateIpAddress}`);
    assert.ok(resumed, 'connections to the Elastic IP resume on the standby');
  });

  test('a security group rule revoked, a network ACL deny and a blackhole route each cut new connections', async () => {
    const net = await publicNetwork(ec2, '10.13.0.0/16', { a: { cidr: '10.13.1.0/24', zone: 'us-east-1a' }, b: { cidr: '10.13.2.0/24', zone: 'us-east-1a' } });
    const group = await createGroup(ec2, net.vpcId, 'web');
    await allowHttp(ec2, group, '10.13.0.0/16');
    const web = await launch(ec2, { SubnetId: net.subnets.a.SubnetId, SecurityGroupIds: [group] });
    const client = await launch(ec2, { SubnetId: net.subnets.b.SubnetId });
    await serve(web.InstanceId!, 'web');
    const url = `http://${web.PrivateIpAddress}/`;
    assert.equal((await curl(server, client.InstanceId!, url)).ok, true);

    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.13.0.0/16' }] }] }));
    assert.equal((await curl(server, client.InstanceId!, url, { timeoutSeconds: 1 })).ok, false, 'revoked');
    await allowHttp(ec2, group, '10.13.0.0/16');
    assert.equal((await curl(server, client.InstanceId!, url)).ok, true, 'authorized again');

    const { NetworkAcls } = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }));
    const aclId = NetworkAcls![0].NetworkAclId!;
    await ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: aclId, RuleNumber: 50, Protocol: '6', RuleAction: 'deny', Egress: false, CidrBlock: '10.13.2.0/24', PortRange: { From: 80, To: 80 } }));
    assert.equal((await curl(server, client.InstanceId!, url, { timeoutSeconds: 1 })).ok, false, 'the inbound ACL denies port 80 from subnet b');
    // Inside one subnet no ACL applies.
    const neighbour = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    assert.equal((await curl(server, neighbour.InstanceId!, url)).ok, true, 'a neighbour in the same subnet is not subject to the ACL');

    // A route table whose route to the web subnet is a blackhole (an interface that is gone).
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: neighbour.SubnetId }));
    const gone = await createEni(ec2, { SubnetId: net.subnets.b.SubnetId });
    await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '10.13.1.0/24', NetworkInterfaceId: gone.NetworkInterfaceId }));
    assert.equal((await curl(server, neighbour.InstanceId!, url, { timeoutSeconds: 1 })).ok, false, 'a route to a detached interface is a blackhole');
    await ec2.send(new DeleteRouteCommand({ RouteTableId: table, DestinationCidrBlock: '10.13.1.0/24' }));
    assert.equal((await curl(server, neighbour.InstanceId!, url)).ok, true, 'the local route again');
  });

  test('revoking a rule keeps a tracked connection and cuts an untracked one (open to everywhere both ways), as AWS tracks them', async () => {
    const net = await publicNetwork(ec2, '10.25.0.0/16', { a: { cidr: '10.25.1.0/24', zone: 'us-east-1a' } });
    const tracked = await createGroup(ec2, net.vpcId, 'tracked');
    await allowHttp(ec2, tracked, '10.25.0.0/16');
    const untracked = await createGroup(ec2, net.vpcId, 'untracked');
    await allowHttp(ec2, untracked, '0.0.0.0/0'); // with the default egress rule (all, 0.0.0.0/0): not tracked
    const client = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    for (const [group, cidr] of [[tracked, '10.25.0.0/16'], [untracked, '0.0.0.0/0']] as const) {
      const web = await launch(ec2, { SubnetId: net.subnets.a.SubnetId, SecurityGroupIds: [group] });
      await serve(web.InstanceId!, 'web');
      const connection = await keepAliveClient(server, client.InstanceId!, web.PrivateIpAddress!);
      programs.push(connection);
      assert.deepEqual(await connection.next(3), ['ok', 'ok', 'ok']);
      await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: cidr }] }] }));
      assert.equal((await curl(server, client.InstanceId!, `http://${web.PrivateIpAddress}/`, { timeoutSeconds: 1 })).ok, false, 'a new connection is refused either way');
      const after = await connection.next(5);
      if (group === tracked) assert.deepEqual(after, ['ok', 'ok', 'ok', 'ok', 'ok'], 'the tracked connection goes on');
      else assert.ok(after.slice(1).every((r) => r === 'fail'), `the untracked connection is cut (${after.join(' ')})`);
    }
  });

  test('an appliance forwards between two subnets only once its source/destination check is off', async () => {
    const net = await publicNetwork(ec2, '10.14.0.0/16', { front: { cidr: '10.14.1.0/24', zone: 'us-east-1a' }, back: { cidr: '10.14.2.0/24', zone: 'us-east-1a' } });
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: net.defaultGroupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '10.14.0.0/16' }] }] }));
    const appliance = await launch(ec2, { SubnetId: net.subnets.front.SubnetId });
    const backLeg = await createEni(ec2, { SubnetId: net.subnets.back.SubnetId });
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: backLeg.NetworkInterfaceId, InstanceId: appliance.InstanceId, DeviceIndex: 1 }));
    await execIn(server, appliance.InstanceId!, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    const client = await launch(ec2, { SubnetId: net.subnets.front.SubnetId });
    const backend = await launch(ec2, { SubnetId: net.subnets.back.SubnetId });
    await serve(backend.InstanceId!, 'backend');
    // The front subnet's table sends the back subnet through the appliance's front interface.
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: net.subnets.front.SubnetId }));
    await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '10.14.2.0/24', NetworkInterfaceId: appliance.NetworkInterfaces![0].NetworkInterfaceId }));
    const url = `http://${backend.PrivateIpAddress}/`;
    assert.equal((await curl(server, client.InstanceId!, url, { timeoutSeconds: 1 })).ok, false, 'source/destination check drops what is not addressed to the appliance');
    for (const eni of [appliance.NetworkInterfaces![0].NetworkInterfaceId!, backLeg.NetworkInterfaceId!]) {
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, SourceDestCheck: { Value: false } }));
    }
    assert.equal((await curl(server, client.InstanceId!, url)).body.trim(), `backend ${backend.PrivateIpAddress}`, 'forwarded by the appliance');
  });

  test('several secondary addresses on one interface each serve behind their own Elastic IP', async () => {
    const net = await publicNetwork(ec2, '10.15.0.0/16', { a: { cidr: '10.15.1.0/24', zone: 'us-east-1a' } });
    const host = await launch(ec2, { SubnetId: net.subnets.a.SubnetId, InstanceType: 'm5.large' });
    const eniId = host.NetworkInterfaces![0].NetworkInterfaceId!;
    await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 2 }));
    const addresses = (await describeEni(ec2, eniId)).PrivateIpAddresses!.filter((a) => !a.Primary).map((a) => a.PrivateIpAddress!);
    for (const [i, address] of addresses.entries()) {
      await serve(host.InstanceId!, `site${i}`, { host: address });
      const publicIp = await elasticIp(ec2, { NetworkInterfaceId: eniId, PrivateIpAddress: address });
      assert.equal((await curl(server, 'internet', `http://${publicIp}/`)).body.trim(), `site${i} ${address}`);
    }
  });

  test('a dual-homed instance answers on both subnets with AWS guest networking (policy routing)', async () => {
    const net = await publicNetwork(ec2, '10.16.0.0/16', { a: { cidr: '10.16.1.0/24', zone: 'us-east-1a' }, b: { cidr: '10.16.2.0/24', zone: 'us-east-1a' }, c: { cidr: '10.16.3.0/24', zone: 'us-east-1a' } });
    const host = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const second = await createEni(ec2, { SubnetId: net.subnets.b.SubnetId });
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: host.InstanceId, DeviceIndex: 1 }));
    await serve(host.InstanceId!, 'host');
    const client = await launch(ec2, { SubnetId: net.subnets.c.SubnetId });
    // Replies to the second interface's address leave by eth1 (table 10001), so its source/destination check lets them out.
    assert.equal((await curl(server, client.InstanceId!, `http://${second.PrivateIpAddress}/`)).body.trim(), `host ${second.PrivateIpAddress}`);
    assert.equal((await curl(server, client.InstanceId!, `http://${host.PrivateIpAddress}/`)).body.trim(), `host ${host.PrivateIpAddress}`);
  });

  test('stopping an instance takes its interfaces down and keeps its namespace; terminating removes the namespace', async () => {
    const net = await publicNetwork(ec2, '10.17.0.0/16', { a: { cidr: '10.17.1.0/24', zone: 'us-east-1a' } });
    const web = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const client = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    await serve(web.InstanceId!, 'web');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [web.InstanceId!] }));
    const eth0 = JSON.parse(await execIn(server, web.InstanceId!, ['ip', '-j', 'link', 'show', 'eth0']))[0] as { flags: string[] };
    assert.ok(!eth0.flags.includes('UP'), 'eth0 is down while stopped');
    assert.equal((await curl(server, client.InstanceId!, `http://${web.PrivateIpAddress}/`, { timeoutSeconds: 1 })).ok, false);
    await ec2.send(new StartInstancesCommand({ InstanceIds: [web.InstanceId!] }));
    assert.equal((await curl(server, client.InstanceId!, `http://${web.PrivateIpAddress}/`)).ok, true, 'the same process answers again after start');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [web.InstanceId!] }));
    assert.ok(!namespacesOf(server).includes(server.plane!.names.instance(web.InstanceId!)), 'the namespace is gone with the instance');
  });

  test('each instance reads its own metadata at 169.254.169.254, live as an interface moves, and never from the internet side', async () => {
    const net = await publicNetwork(ec2, '10.19.0.0/16', { a: { cidr: '10.19.1.0/24', zone: 'us-east-1a' } });
    const a = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const b = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const imds = (target: string, path: string, headers: string[] = [], method = 'GET') =>
      execIn(server, target, ['curl', '-sS', '--max-time', '2', '-X', method, ...headers.flatMap((h) => ['-H', h]), `http://169.254.169.254${path}`]);
    assert.equal(await imds(a.InstanceId!, '/latest/meta-data/instance-id'), a.InstanceId);
    assert.equal(await imds(b.InstanceId!, '/latest/meta-data/instance-id'), b.InstanceId);
    // IMDSv2: a token from PUT, then GET with it.
    const token = await imds(a.InstanceId!, '/latest/api/token', ['X-aws-ec2-metadata-token-ttl-seconds: 60'], 'PUT');
    assert.equal(await imds(a.InstanceId!, '/latest/meta-data/local-ipv4', [`X-aws-ec2-metadata-token: ${token}`]), a.PrivateIpAddress);
    // An interface hot-attached to a, then moved to b: each tree shows it only while it holds it.
    const eni = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId });
    const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: a.InstanceId, DeviceIndex: 1 }));
    assert.match(await imds(a.InstanceId!, '/latest/meta-data/network/interfaces/macs/'), new RegExp(`${eni.MacAddress}/`));
    assert.equal(await imds(a.InstanceId!, `/latest/meta-data/network/interfaces/macs/${eni.MacAddress}/device-number`), '1');
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: b.InstanceId, DeviceIndex: 1 }));
    assert.doesNotMatch(await imds(a.InstanceId!, '/latest/meta-data/network/interfaces/macs/'), new RegExp(eni.MacAddress!));
    assert.equal(await imds(b.InstanceId!, `/latest/meta-data/network/interfaces/macs/${eni.MacAddress}/local-ipv4s`), eni.PrivateIpAddress);
    // From the second interface's own address b still reads b's tree.
    assert.equal(await execIn(server, b.InstanceId!, ['curl', '-sS', '--max-time', '2', '--interface', eni.PrivateIpAddress!, 'http://169.254.169.254/latest/meta-data/instance-id']), b.InstanceId);
    assert.equal((await curl(server, 'internet', 'http://169.254.169.254/latest/meta-data/', { timeoutSeconds: 1 })).ok, false, 'no metadata from the internet side');
  });

  test('IPv6: the internet reaches an instance by its IPv6 address through the gateway, without translation', async () => {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.22.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
    const vpc = (await ec2.send(new DescribeVpcsCommand({ VpcIds: [Vpc!.VpcId!] }))).Vpcs![0];
    const block = vpc.Ipv6CidrBlockAssociationSet![0].Ipv6CidrBlock!;
    const subnetCidr = block.replace('::/56', '::/64');
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.22.1.0/24', Ipv6CidrBlock: subnetCidr, AvailabilityZone: 'us-east-1a' }))).Subnet!;
    const gatewayId = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: vpc.VpcId }));
    const { RouteTables } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }));
    await ec2.send(new CreateRouteCommand({ RouteTableId: RouteTables![0].RouteTableId, DestinationIpv6CidrBlock: '::/0', GatewayId: gatewayId }));
    const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }));
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: SecurityGroups![0].GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }));
    const web = await launch(ec2, { SubnetId: subnet.SubnetId, Ipv6AddressCount: 1 });
    const address = web.NetworkInterfaces![0].Ipv6Addresses![0].Ipv6Address!;
    await serve(web.InstanceId!, 'web6');
    assert.equal((await curl(server, 'internet', `http://[${address}]/`)).body.trim(), `web6 ${address}`);
    // IPv4 without a public address still does not leave.
    assert.equal((await curl(server, web.InstanceId!, 'http://203.0.113.10/', { timeoutSeconds: 1 })).ok, false);
  });

  test('IPv6 metadata: fd00:ec2::254 answers an instance whose HttpProtocolIpv6 is enabled, over its IPv6 address, and no other', async () => {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.23.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
    const vpc = (await ec2.send(new DescribeVpcsCommand({ VpcIds: [Vpc!.VpcId!] }))).Vpcs![0];
    const subnetCidr = vpc.Ipv6CidrBlockAssociationSet![0].Ipv6CidrBlock!.replace('::/56', '::/64');
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.23.1.0/24', Ipv6CidrBlock: subnetCidr, AvailabilityZone: 'us-east-1a' }))).Subnet!;
    const enabled = await launch(ec2, { SubnetId: subnet.SubnetId, Ipv6AddressCount: 1, MetadataOptions: { HttpProtocolIpv6: 'enabled' } });
    const disabled = await launch(ec2, { SubnetId: subnet.SubnetId, Ipv6AddressCount: 1 });
    const imds6 = (target: string, path: string) => curl(server, target, `http://[fd00:ec2::254]${path}`, { timeoutSeconds: 1 });
    const answer = await imds6(enabled.InstanceId!, '/latest/meta-data/instance-id');
    assert.equal(answer.body, enabled.InstanceId, `IPv6 endpoint enabled: ${answer.error ?? ''}`);
    const eth0 = enabled.NetworkInterfaces![0];
    assert.equal((await imds6(enabled.InstanceId!, `/latest/meta-data/network/interfaces/macs/${eth0.MacAddress}/ipv6s`)).body, eth0.Ipv6Addresses![0].Ipv6Address);
    assert.equal((await imds6(disabled.InstanceId!, '/latest/meta-data/instance-id')).ok, false, "HttpProtocolIpv6 disabled (AWS's default): no answer");
    assert.equal(await execIn(server, disabled.InstanceId!, ['curl', '-sS', '--max-time', '2', 'http://169.254.169.254/latest/meta-data/instance-id']), disabled.InstanceId, 'IPv4 still answers');
  });

  test('an IPv6-only subnet: its instance has no IPv4, talks IPv6 with a dual-stack neighbour and reads its metadata at fd00:ec2::254', async () => {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.24.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
    const vpc = (await ec2.send(new DescribeVpcsCommand({ VpcIds: [Vpc!.VpcId!] }))).Vpcs![0];
    const block = vpc.Ipv6CidrBlockAssociationSet![0].Ipv6CidrBlock!;
    const only6 = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, Ipv6Native: true, Ipv6CidrBlock: block.replace('00::/56', '01::/64'), AvailabilityZone: 'us-east-1a' }))).Subnet!;
    const dual = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.24.2.0/24', Ipv6CidrBlock: block.replace('00::/56', '02::/64'), AvailabilityZone: 'us-east-1a' }))).Subnet!;
    const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }));
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: SecurityGroups![0].GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }));
    const v6 = await launch(ec2, { SubnetId: only6.SubnetId, MetadataOptions: { HttpProtocolIpv6: 'enabled' } });
    const neighbour = await launch(ec2, { SubnetId: dual.SubnetId, Ipv6AddressCount: 1 });
    const address = v6.NetworkInterfaces![0].Ipv6Addresses![0].Ipv6Address!;
    assert.equal(v6.PrivateIpAddress, undefined);
    assert.doesNotMatch(await execIn(server, v6.InstanceId!, ['ip', '-4', 'address', 'show', 'dev', 'eth0']), /inet /, 'no IPv4 on eth0');
    await serve(v6.InstanceId!, 'only6');
    assert.equal((await curl(server, neighbour.InstanceId!, `http://[${address}]/`)).body.trim(), `only6 ${address}`);
    assert.equal((await curl(server, v6.InstanceId!, 'http://[fd00:ec2::254]/latest/meta-data/instance-id')).body, v6.InstanceId);
    // The dual-stack neighbour is unaffected, and the plane applied everything.
    assert.equal(await execIn(server, neighbour.InstanceId!, ['curl', '-sS', '--max-time', '2', 'http://169.254.169.254/latest/meta-data/instance-id']), neighbour.InstanceId);
    assert.deepEqual(server.plane!.errors.filter((e) => e.includes(vpc.VpcId!)), [], 'no kernel change of this VPC failed');
  });

  test('a management interface: SSH-like port 22 only on eth1, in its own subnet and group, only from the admin range', async () => {
    const net = await publicNetwork(ec2, '10.23.0.0/16', { app: { cidr: '10.23.1.0/24', zone: 'us-east-1a' }, mgmt: { cidr: '10.23.9.0/24', zone: 'us-east-1a' }, admin: { cidr: '10.23.100.0/24', zone: 'us-east-1a' } });
    const mgmtGroup = await createGroup(ec2, net.vpcId, 'mgmt');
    await allowHttp(ec2, mgmtGroup, '10.23.100.0/24', 22);
    // The application interface's group serves HTTP only (the default group would let its members in on any port).
    const appGroup = await createGroup(ec2, net.vpcId, 'app');
    await allowHttp(ec2, appGroup, '0.0.0.0/0');
    const host = await launch(ec2, { SubnetId: net.subnets.app.SubnetId, SecurityGroupIds: [appGroup] });
    const mgmt = await createEni(ec2, { SubnetId: net.subnets.mgmt.SubnetId, Groups: [mgmtGroup] });
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: mgmt.NetworkInterfaceId, InstanceId: host.InstanceId, DeviceIndex: 1 }));
    await serve(host.InstanceId!, 'ssh', { port: 22 });
    const admin = await launch(ec2, { SubnetId: net.subnets.admin.SubnetId });
    const other = await launch(ec2, { SubnetId: net.subnets.app.SubnetId });
    assert.equal((await curl(server, admin.InstanceId!, `http://${mgmt.PrivateIpAddress}:22/`)).body.trim(), `ssh ${mgmt.PrivateIpAddress}`);
    assert.equal((await curl(server, admin.InstanceId!, `http://${host.PrivateIpAddress}:22/`, { timeoutSeconds: 1 })).ok, false, 'not on the primary interface');
    assert.equal((await curl(server, other.InstanceId!, `http://${mgmt.PrivateIpAddress}:22/`, { timeoutSeconds: 1 })).ok, false, 'not from outside the admin range');
  });

  test('web and backend: only the back interface of the web server (by group reference) reaches the database', async () => {
    const net = await publicNetwork(ec2, '10.24.0.0/16', { front: { cidr: '10.24.1.0/24', zone: 'us-east-1a' }, back: { cidr: '10.24.2.0/24', zone: 'us-east-1a' } });
    const backGroup = await createGroup(ec2, net.vpcId, 'web-back');
    const dbGroup = await createGroup(ec2, net.vpcId, 'db');
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: dbGroup, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: backGroup }] }] }));
    const web = await launch(ec2, { SubnetId: net.subnets.front.SubnetId, InstanceType: 'm5.large' });
    const back = await createEni(ec2, { SubnetId: net.subnets.back.SubnetId, Groups: [backGroup] });
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: back.NetworkInterfaceId, InstanceId: web.InstanceId, DeviceIndex: 1 }));
    const db = await launch(ec2, { SubnetId: net.subnets.back.SubnetId, SecurityGroupIds: [dbGroup] });
    await serve(db.InstanceId!, 'db', { port: 5432 });
    const url = `http://${db.PrivateIpAddress}:5432/`;
    assert.equal((await curl(server, web.InstanceId!, url, { source: back.PrivateIpAddress })).body.trim(), `db ${db.PrivateIpAddress}`);
    assert.equal((await curl(server, web.InstanceId!, url, { source: web.PrivateIpAddress, timeoutSeconds: 1 })).ok, false, 'the front interface is not in the referenced group');
  });

  test('flow logs from real packets: ACCEPT with the packets and bytes of a real connection, REJECT for what the group or the ACL refused', async () => {
    const net = await publicNetwork(ec2, '10.26.0.0/16', { a: { cidr: '10.26.1.0/24', zone: 'us-east-1a' } });
    const web = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const eniId = web.NetworkInterfaces![0].NetworkInterfaceId!;
    const { FlowLogIds } = await ec2.send(new CreateFlowLogsCommand({ ResourceType: 'NetworkInterface', ResourceIds: [eniId], TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs', LogGroupName: 'plane', DeliverLogsPermissionArn: 'arn:aws:iam::000000000000:role/flow-logs' }));
    await serve(web.InstanceId!, 'web');
    await serve(web.InstanceId!, 'closed', { port: 81 });
    const publicIp = await elasticIp(ec2, { InstanceId: web.InstanceId });
    assert.equal((await curl(server, 'internet', `http://${publicIp}/`)).ok, true);
    assert.equal((await curl(server, 'internet', `http://${publicIp}:81/`, { timeoutSeconds: 1 })).ok, false);
    // The subnet's ACL refuses port 82 although the group would allow it: REJECT too.
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: net.defaultGroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 82, ToPort: 82, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    const { NetworkAcls } = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }));
    await ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: NetworkAcls![0].NetworkAclId, RuleNumber: 40, Protocol: '6', RuleAction: 'deny', Egress: false, CidrBlock: '0.0.0.0/0', PortRange: { From: 82, To: 82 } }));
    assert.equal((await curl(server, 'internet', `http://${publicIp}:82/`, { timeoutSeconds: 1 })).ok, false);
    const fields = (line: string) => line.split(' ');
    let lines: string[] = [];
    const found = await eventually(async () => {
      lines = (await (await fetch(`${server.url}/_eni/flow-logs/${FlowLogIds![0]}`)).text()).split('\n').filter(Boolean);
      const accepted = lines.some((l) => { const f = fields(l); return f[2] === eniId && f[3] === '203.0.113.10' && f[4] === web.PrivateIpAddress && f[6] === '80' && f[12] === 'ACCEPT' && Number(f[8]) >= 3; });
      const rejected = lines.some((l) => { const f = fields(l); return f[3] === '203.0.113.10' && f[6] === '81' && f[12] === 'REJECT'; });
      const deniedByAcl = lines.some((l) => { const f = fields(l); return f[3] === '203.0.113.10' && f[6] === '82' && f[12] === 'REJECT'; });
      const reply = lines.some((l) => { const f = fields(l); return f[3] === web.PrivateIpAddress && f[5] === '80' && f[12] === 'ACCEPT'; });
      return accepted && rejected && deniedByAcl && reply;
    }, 10_000, 500);
    assert.ok(found, `records of the real flows (got:\n${lines.join('\n')})`);
  });

  test('a private subnet reaches the internet through a NAT gateway, seen there from the Elastic IP of the gateway; nothing comes in', async () => {
    const net = await publicNetwork(ec2, '10.27.0.0/16', { public: { cidr: '10.27.1.0/24', zone: 'us-east-1a' }, private: { cidr: '10.27.2.0/24', zone: 'us-east-1a' } });
    const { AllocationId, PublicIp } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.public.SubnetId, AllocationId }))).NatGateway!;
    assert.equal((await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [nat.NatGatewayId!] }))).NatGateways![0].State, 'available');
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: net.subnets.private.SubnetId }));
    await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat.NatGatewayId }));
    const worker = await launch(ec2, { SubnetId: net.subnets.private.SubnetId });
    programs.push(await httpServer(server, 'internet', 'seen-from', { host: '203.0.113.20', tell: 'remote' }));
    assert.equal((await curl(server, worker.InstanceId!, 'http://203.0.113.20/')).body.trim(), `seen-from ${PublicIp}`);
    await serve(worker.InstanceId!, 'worker');
    assert.equal((await curl(server, 'internet', `http://${PublicIp}/`, { timeoutSeconds: 1 })).ok, false, 'a NAT gateway lets nothing in');
  });

  test('an interface endpoint for EC2 serves the SDK in a private subnet at its interface address, as its groups allow, until it is deleted', async () => {
    const net = await createNetwork(ec2, '10.29.0.0/16', { private: { cidr: '10.29.1.0/24', zone: 'us-east-1a' }, other: { cidr: '10.29.2.0/24', zone: 'us-east-1a' } });
    const group = await createGroup(ec2, net.vpcId, 'endpoint');
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.29.1.0/24' }] }] }));
    const endpoint = (
      await ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, ServiceName: 'com.amazonaws.us-east-1.ec2', VpcEndpointType: 'Interface', SubnetIds: [net.subnets.private.SubnetId!], SecurityGroupIds: [group], PrivateDnsEnabled: false }))
    ).VpcEndpoint!;
    const [eniId] = endpoint.NetworkInterfaceIds!;
    const address = (await describeEni(ec2, eniId)).PrivateIpAddress!;
    const worker = await launch(ec2, { SubnetId: net.subnets.private.SubnetId });
    const outsider = await launch(ec2, { SubnetId: net.subnets.other.SubnetId });
    // The AWS SDK inside the instance, with the endpoint's address as its endpoint: no internet gateway, no NAT.
    const describeVpc = (from: string) =>
      execIn(server, from, [
        process.execPath,
        '-e',
        `const { EC2Client, DescribeVpcsCommand } = require('@aws-sdk/client-ec2');
new EC2Client({ endpoint: 'http://${address}', region: 'us-east-1', maxAttempts: 1, requestHandler: { connectionTimeout: 1500, requestTimeout: 3000 }, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' } })
  .send(new DescribeVpcsCommand({ VpcIds: ['${net.vpcId}'] })).then((r) => process.stdout.write(r.Vpcs[0].VpcId), (e) => { process.stderr.write(String(e)); process.exit(1); });`,
      ], 15_000).then((out) => out, (error: { stderr?: string }) => `failed: ${error.stderr ?? error}`);
    assert.equal(await describeVpc(worker.InstanceId!), net.vpcId);
    assert.match(await describeVpc(outsider.InstanceId!), /^failed/, "the endpoint's group allows only the private subnet");
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.29.2.0/24' }] }] }));
    assert.equal(await describeVpc(outsider.InstanceId!), net.vpcId, 'and once it allows the other subnet, that one too');
    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [endpoint.VpcEndpointId!] }));
    assert.match(await describeVpc(worker.InstanceId!), /^failed/, 'a deleted endpoint answers no more');
  });

  test('a security group rule naming a prefix list allows exactly its entries', async () => {
    const net = await publicNetwork(ec2, '10.28.0.0/16', { a: { cidr: '10.28.1.0/24', zone: 'us-east-1a' }, b: { cidr: '10.28.2.0/24', zone: 'us-east-1a' } });
    const list = (await ec2.send(new CreateManagedPrefixListCommand({ PrefixListName: 'office', AddressFamily: 'IPv4', MaxEntries: 5, Entries: [{ Cidr: '10.28.2.0/24' }] }))).PrefixList!.PrefixListId!;
    const group = await createGroup(ec2, net.vpcId, 'by-list');
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: list }] }] }));
    const web = await launch(ec2, { SubnetId: net.subnets.a.SubnetId, SecurityGroupIds: [group] });
    await serve(web.InstanceId!, 'web');
    const inList = await launch(ec2, { SubnetId: net.subnets.b.SubnetId });
    const outside = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    assert.equal((await curl(server, inList.InstanceId!, `http://${web.PrivateIpAddress}/`)).ok, true);
    assert.equal((await curl(server, outside.InstanceId!, `http://${web.PrivateIpAddress}/`, { timeoutSeconds: 1 })).ok, false);
  });

  test('HttpPutResponseHopLimit: a container one hop behind the instance gets no token at limit 1, and one at limit 2', async () => {
    const net = await publicNetwork(ec2, '10.31.0.0/16', { a: { cidr: '10.31.1.0/24', zone: 'us-east-1a' } });
    const host = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    // A container: a namespace behind the instance, routed and masqueraded by it as Docker does (removed with the server's namespaces).
    const container = `eni-${server.plane!.names.prefix}-test-container`;
    const hostNs = server.plane!.names.instance(host.InstanceId!);
    const sh = (...args: string[]) => execFileSync(args[0], args.slice(1));
    sh('ip', 'netns', 'add', container);
    sh('ip', '-n', hostNs, 'link', 'add', 'ctr0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', container);
    sh('ip', '-n', hostNs, 'address', 'add', '172.17.0.1/24', 'dev', 'ctr0');
    sh('ip', '-n', hostNs, 'link', 'set', 'ctr0', 'up');
    sh('ip', '-n', container, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', container, 'address', 'add', '172.17.0.2/24', 'dev', 'eth0');
    sh('ip', '-n', container, 'link', 'set', 'eth0', 'up');
    sh('ip', '-n', container, 'route', 'add', 'default', 'via', '172.17.0.1');
    await execIn(server, host.InstanceId!, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    await execIn(server, host.InstanceId!, ['nft', 'add table ip docker; add chain ip docker post { type nat hook postrouting priority 100; }; add rule ip docker post ip saddr 172.17.0.0/24 oifname "eth0" masquerade']);
    // Asynchronous: the server answering runs in this very process.
    const fromContainer = (method: string, path: string, headers: string[] = []) =>
      new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
        execFile('ip', ['netns', 'exec', container, 'curl', '-sS', '--max-time', '2', '-X', method, ...headers.flatMap((h) => ['-H', h]), `http://169.254.169.254${path}`], (error, stdout, stderr) =>
          resolve({ status: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const tokenAsked = ['X-aws-ec2-metadata-token-ttl-seconds: 60'];
    assert.equal((await fromContainer('GET', '/latest/meta-data/instance-id')).stdout, host.InstanceId, 'IMDSv1 reads cross the hop');
    assert.notEqual((await fromContainer('PUT', '/latest/api/token', tokenAsked)).status, 0, 'at hop limit 1 the token reply dies on the way');
    assert.ok((await execIn(server, host.InstanceId!, ['curl', '-sS', '--max-time', '2', '-X', 'PUT', '-H', tokenAsked[0], 'http://169.254.169.254/latest/api/token'])).length > 10, 'the instance itself gets one');
    await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: host.InstanceId, HttpPutResponseHopLimit: 2 }));
    const put = await fromContainer('PUT', '/latest/api/token', tokenAsked);
    assert.equal(put.status, 0, `at hop limit 2 the container gets a token (${put.stderr})`);
  });

  test('changes land live: the groups of an interface replaced, an Elastic IP reassociated and disassociated, a private address reassigned', async () => {
    const net = await publicNetwork(ec2, '10.32.0.0/16', { a: { cidr: '10.32.1.0/24', zone: 'us-east-1a' } });
    const closed = await createGroup(ec2, net.vpcId, 'closed');
    const a = await launch(ec2, { SubnetId: net.subnets.a.SubnetId, InstanceType: 'm5.large' });
    const b = await launch(ec2, { SubnetId: net.subnets.a.SubnetId, InstanceType: 'm5.large' });
    await serve(a.InstanceId!, 'a');
    await serve(b.InstanceId!, 'b');
    const aEni = a.NetworkInterfaces![0].NetworkInterfaceId!;
    const bEni = b.NetworkInterfaces![0].NetworkInterfaceId!;
    // Groups belong to the interface: replacing them changes what reaches it at once.
    assert.equal((await curl(server, 'internet', `http://${await elasticIp(ec2, { NetworkInterfaceId: bEni })}/`)).ok, true);
    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: aEni, Groups: [closed] }));
    assert.equal((await curl(server, b.InstanceId!, `http://${a.PrivateIpAddress}/`, { timeoutSeconds: 1 })).ok, false, 'the closed group lets nothing in');
    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: aEni, Groups: [net.defaultGroupId] }));
    assert.equal((await curl(server, b.InstanceId!, `http://${a.PrivateIpAddress}/`)).body.trim(), `a ${a.PrivateIpAddress}`);
    // An Elastic IP moved from a to b (AllowReassociation), then disassociated.
    const { AllocationId, PublicIp } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: aEni }));
    assert.equal((await curl(server, 'internet', `http://${PublicIp}/`)).body.trim(), `a ${a.PrivateIpAddress}`);
    const { AssociationId } = await ec2.send(new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: bEni, AllowReassociation: true }));
    assert.equal((await curl(server, 'internet', `http://${PublicIp}/`)).body.trim(), `b ${b.PrivateIpAddress}`);
    await ec2.send(new DisassociateAddressCommand({ AssociationId }));
    assert.equal((await curl(server, 'internet', `http://${PublicIp}/`, { timeoutSeconds: 1 })).ok, false, 'no longer mapped');
    // A secondary address reassigned from a to b: its traffic follows to b.
    await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: aEni, SecondaryPrivateIpAddressCount: 1 }));
    const floating = (await describeEni(ec2, aEni)).PrivateIpAddresses!.find((p) => !p.Primary)!.PrivateIpAddress!;
    assert.equal((await curl(server, b.InstanceId!, `http://${floating}/`)).body.trim(), `a ${floating}`);
    await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: bEni, PrivateIpAddresses: [floating], AllowReassignment: true }));
    assert.equal((await curl(server, a.InstanceId!, `http://${floating}/`)).body.trim(), `b ${floating}`, 'the address answers from b now');
  });

  test('the plane is closed: no link, route or address leads from it to the host', async () => {
    await publicNetwork(ec2, '10.18.0.0/16', { a: { cidr: '10.18.1.0/24', zone: 'us-east-1a' } });
    const mine = new Set(namespacesOf(server));
    assert.ok(mine.size >= 3);
    for (const ns of mine) {
      const links = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show']).toString()) as { ifname: string; link_netnsid?: number; link_type: string }[];
      const ids = JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'netns', 'list-id']).toString() || '[]') as { nsid: number; name?: string }[];
      for (const link of links.filter((l) => l.link_netnsid !== undefined)) {
        const peer = ids.find((i) => i.nsid === link.link_netnsid);
        assert.ok(peer?.name && mine.has(peer.name), `${ns}/${link.ifname}: its peer is in a namespace of the plane (${peer?.name ?? 'the host or another namespace'})`);
      }
      // No default route out of the internet: an address outside the plane is unreachable (ip route get sends nothing).
      if (ns === server.plane!.names.internet) {
        const result = spawnSync('ip', ['-n', ns, 'route', 'get', '8.8.8.8']);
        assert.notEqual(result.status, 0, 'the internet namespace has no route to an outside address');
      }
    }
    const host = execFileSync('ip', ['-j', 'address', 'show']).toString();
    assert.ok(!host.includes('169.254.169.254'), 'the metadata address is never configured in the host namespace');
  });
});
