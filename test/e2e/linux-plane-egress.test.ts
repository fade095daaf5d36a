/**
 * The linux data plane carries egress-only internet gateways with real packets: an instance's
 * IPv6 connection to a host on the internet side goes out untranslated and its answers come back
 * (conntrack), a connection the internet opens to the instance is dropped although its group
 * allows it; with an internet gateway beside it, a subnet routed to the internet gateway is
 * reachable and one routed to the egress-only gateway is not; once the gateway is deleted its
 * route is a blackhole.
 */
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateEgressOnlyInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteEgressOnlyInternetGatewayCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { launch } from '../helpers/topology.ts';
import { subnet64 } from '../helpers/addressing.ts';
import { curl, eventually, httpServer, linuxPlaneSkip, onlyOnceSkip, stopCleanly, type RunningProgram } from '../helpers/plane.ts';

const skip = linuxPlaneSkip() || onlyOnceSkip();
/** The internet side's own IPv6 address (a server can listen on it). */
const INTERNET_HOST = '2001:db8::10';

describe('linux data plane: egress-only internet gateways', { skip }, () => {
  let server: TestServer;
  let ec2: EC2Client;
  const programs: RunningProgram[] = [];

  before(async () => {
    server = await startTestServer({ dataplane: 'linux', defaultVpc: false });
    ec2 = server.client();
    // The internet side answers with the address it sees the connection come from.
    programs.push(await httpServer(server, 'internet', 'seen-from', { host: INTERNET_HOST, tell: 'remote' }));
  });
  after(() => stopCleanly(server, programs));

  /** A dual-stack VPC whose main table sends ::/0 to a new egress-only gateway; its default group lets HTTP in over IPv6. */
  async function behindEgressOnlyGateway(second: number) {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${second}.0.0/16`, AmazonProvidedIpv6CidrBlock: true }))).Vpc!;
    const block = vpc.Ipv6CidrBlockAssociationSet![0].Ipv6CidrBlock!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: `10.${second}.1.0/24`, Ipv6CidrBlock: subnet64(block, 1), AvailabilityZone: 'us-east-1a' }))).Subnet!;
    const gatewayId = (await ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpc.VpcId }))).EgressOnlyInternetGateway!.EgressOnlyInternetGatewayId!;
    const { RouteTables } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }));
    const mainTableId = RouteTables![0].RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: mainTableId, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: gatewayId }));
    const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }));
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: SecurityGroups![0].GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }),
    );
    return { vpcId: vpc.VpcId!, block, subnetId: subnet.SubnetId!, gatewayId, mainTableId };
  }
  const ipv6Of = (i: Instance) => i.NetworkInterfaces![0].Ipv6Addresses![0].Ipv6Address!;
  const serve = async (instanceId: string, name: string) => {
    const program = await httpServer(server, instanceId, name);
    programs.push(program);
  };

  test('IPv6 out through the gateway works, seen from the instance\'s own address, and the answer comes back; a connection from the internet is dropped; IPv4 does not leave', async () => {
    const net = await behindEgressOnlyGateway(41);
    const worker = await launch(ec2, { SubnetId: net.subnetId, Ipv6AddressCount: 1 });
    const address = ipv6Of(worker);
    assert.equal((await curl(server, worker.InstanceId!, `http://[${INTERNET_HOST}]/`)).body.trim(), `seen-from ${address}`);
    await serve(worker.InstanceId!, 'worker6');
    const inbound = await curl(server, 'internet', `http://[${address}]/`, { timeoutSeconds: 1 });
    assert.equal(inbound.ok, false, 'the egress-only gateway lets no connection in');
    assert.equal((await curl(server, worker.InstanceId!, 'http://203.0.113.10/', { timeoutSeconds: 1 })).ok, false, 'IPv4 has no route out');
  });

  test('with an internet gateway too: a subnet routed to the internet gateway is reachable from the internet, the one routed to the egress-only gateway is not', async () => {
    const net = await behindEgressOnlyGateway(42);
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: net.vpcId }));
    const publicSubnet = (await ec2.send(new CreateSubnetCommand({ VpcId: net.vpcId, CidrBlock: '10.42.2.0/24', Ipv6CidrBlock: subnet64(net.block, 2), AvailabilityZone: 'us-east-1a' }))).Subnet!;
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationIpv6CidrBlock: '::/0', GatewayId: igw }));
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: publicSubnet.SubnetId }));
    const web = await launch(ec2, { SubnetId: publicSubnet.SubnetId, Ipv6AddressCount: 1 });
    const worker = await launch(ec2, { SubnetId: net.subnetId, Ipv6AddressCount: 1 });
    await serve(web.InstanceId!, 'web6');
    await serve(worker.InstanceId!, 'worker6');
    assert.equal((await curl(server, 'internet', `http://[${ipv6Of(web)}]/`)).body.trim(), `web6 ${ipv6Of(web)}`);
    assert.equal((await curl(server, 'internet', `http://[${ipv6Of(worker)}]/`, { timeoutSeconds: 1 })).ok, false);
    assert.equal((await curl(server, worker.InstanceId!, `http://[${INTERNET_HOST}]/`)).body.trim(), `seen-from ${ipv6Of(worker)}`);
  });

  test('once the gateway is deleted its route is a blackhole: IPv6 no longer leaves', async () => {
    const net = await behindEgressOnlyGateway(43);
    const worker = await launch(ec2, { SubnetId: net.subnetId, Ipv6AddressCount: 1 });
    assert.equal((await curl(server, worker.InstanceId!, `http://[${INTERNET_HOST}]/`)).ok, true);
    await ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: net.gatewayId }));
    assert.ok(await eventually(async () => !(await curl(server, worker.InstanceId!, `http://[${INTERNET_HOST}]/`, { timeoutSeconds: 1 })).ok), 'the blackhole cuts new connections');
  });
});
