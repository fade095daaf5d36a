/**
 * One truth: the simulated plane (the oracle behind probes and Reachability Analyzer) and the
 * linux plane must agree. Every case of the table is asked of both on one server started with
 * `--dataplane linux`: the probe's verdict (and its drop reason) and what a real TCP connection
 * does (curl to a real HTTP server), for every drop reason, both directions, IPv4 and IPv6.
 */
import {
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkAclEntryCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  AssociateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeNetworkAclsCommand,
  DescribeVpcsCommand,
  DetachNetworkInterfaceCommand,
  RevokeSecurityGroupEgressCommand,
  StopInstancesCommand,
  AllocateAddressCommand,
  AssociateAddressCommand,
  CreateInternetGatewayCommand,
  CreateEgressOnlyInternetGatewayCommand,
  AttachInternetGatewayCommand,
  DescribeRouteTablesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { probe, type DropReason } from '../helpers/dataplane.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createGroup, defaultGroupOf, launch } from '../helpers/topology.ts';
import { curl, httpServer, linuxPlaneSkip, onlyOnceSkip, type RunningProgram } from '../helpers/plane.ts';

const skip = linuxPlaneSkip() || onlyOnceSkip();

interface Case {
  name: string;
  /** `i-…` or `internet`. */
  from: string;
  to: string;
  port?: number;
  /** undefined: delivered. */
  reason?: DropReason;
}

describe('the simulated and the linux plane agree', { skip }, () => {
  let server: TestServer;
  let ec2: EC2Client;
  const programs: RunningProgram[] = [];
  const cases: Case[] = [];

  before(async () => {
    server = await startTestServer({ dataplane: 'linux', defaultVpc: false, quotas: { elasticIpsPerRegion: 20 } });
    ec2 = server.client();
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
    const vpcId = Vpc!.VpcId!;
    const v6 = (await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0].Ipv6CidrBlockAssociationSet![0].Ipv6CidrBlock!;
    const subnet = async (cidr: string, n: number) =>
      (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, Ipv6CidrBlock: v6.replace('00::/56', `0${n}::/64`), AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    const pub = await subnet('10.30.1.0/24', 1);
    const guarded = await subnet('10.30.2.0/24', 2);
    const isolated = await subnet('10.30.3.0/24', 3);
    const gatewayId = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: vpcId }));
    const main = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).RouteTables![0].RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: main, DestinationCidrBlock: '0.0.0.0/0', GatewayId: gatewayId }));
    await ec2.send(new CreateRouteCommand({ RouteTableId: main, DestinationIpv6CidrBlock: '::/0', GatewayId: gatewayId }));
    // The isolated subnet's own table has only the local routes.
    const local = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: local, SubnetId: isolated }));

    const web = await createGroup(ec2, vpcId, 'web');
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: web,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
      }),
    );
    const mute = await createGroup(ec2, vpcId, 'mute');
    await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: mute, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    const aclId = (await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).NetworkAcls![0].NetworkAclId!;
    // The guarded subnet refuses port 80 from the public subnet (the ACL is shared: the rule names the source range).
    await ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: aclId, RuleNumber: 10, Protocol: '6', RuleAction: 'deny', Egress: false, CidrBlock: '10.30.1.0/24', PortRange: { From: 8080, To: 8080 } }));

    const eip = async (target: { InstanceId?: string; NetworkInterfaceId?: string }) => {
      const { AllocationId, PublicIp } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId, ...target }));
      return PublicIp!;
    };
    const start = async (instanceId: string, ports = [80, 81, 8080]) => {
      for (const port of ports) programs.push(await httpServer(server, instanceId, 'up', { port }));
    };
    const launchIn = (SubnetId: string, groups: string[], extra = {}) => launch(ec2, { SubnetId, SecurityGroupIds: groups, Ipv6AddressCount: 1, InstanceType: 'm5.large', ...extra });

    const a = await launchIn(pub, [web]);
    const b = await launchIn(pub, [web]);
    const guard = await launchIn(guarded, [web]);
    const silent = await launchIn(pub, [mute]);
    const hidden = await launchIn(isolated, [web]);
    const stopped = await launchIn(pub, [web]);
    const failed = await launchIn(pub, [web]);
    const appliance = await launchIn(pub, [web]);
    for (const i of [a, b, guard, hidden, stopped, failed, appliance]) await start(i.InstanceId!);
    // (the EC2 API listens on the internet side's 198.51.100.1:80: the test hosts bind their own addresses)
    programs.push(await httpServer(server, 'internet', 'internet', { port: 80, host: '203.0.113.10' }));
    programs.push(await httpServer(server, 'internet', 'internet', { port: 80, host: '2001:db8::10' }));
    const aPublic = await eip({ InstanceId: a.InstanceId });
    const bPublic = await eip({ InstanceId: b.InstanceId });
    const stoppedPublic = await eip({ InstanceId: stopped.InstanceId });
    const failedPublic = await eip({ InstanceId: failed.InstanceId });
    await eip({ InstanceId: silent.InstanceId });
    // An interface with an Elastic IP, detached; and a route through an appliance that keeps its source/destination check.
    const floating = await createEni(ec2, { SubnetId: pub, Groups: [web] });
    const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: floating.NetworkInterfaceId, InstanceId: a.InstanceId, DeviceIndex: 1 }));
    const floatingPublic = await eip({ NetworkInterfaceId: floating.NetworkInterfaceId });
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    const detour = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: detour, DestinationCidrBlock: '0.0.0.0/0', GatewayId: gatewayId }));
    await ec2.send(new CreateRouteCommand({ RouteTableId: detour, DestinationCidrBlock: '10.30.2.0/24', NetworkInterfaceId: appliance.NetworkInterfaces![0].NetworkInterfaceId }));
    const via = await launchIn(await subnet('10.30.4.0/24', 4), [web]);
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: detour, SubnetId: via.SubnetId }));
    // A subnet whose IPv6 leaves through an egress-only internet gateway.
    const eigw = (await ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpcId }))).EgressOnlyInternetGateway!.EgressOnlyInternetGatewayId!;
    const egressOnly = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: egressOnly, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: eigw }));
    const outbound = await launchIn(await subnet('10.30.5.0/24', 5), [web]);
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: egressOnly, SubnetId: outbound.SubnetId }));
    await start(outbound.InstanceId!);
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped.InstanceId!] }));
    await fetch(`${server.url}/_eni/instances/${failed.InstanceId}/fail`, { method: 'POST' });
    assert.ok(await defaultGroupOf(ec2, vpcId));

    const v6Of = (i: typeof a) => i.NetworkInterfaces![0].Ipv6Addresses![0].Ipv6Address!;
    cases.push(
      { name: 'instance to instance in one subnet', from: a.InstanceId!, to: b.PrivateIpAddress! },
      { name: 'a port its group does not open', from: a.InstanceId!, to: b.PrivateIpAddress!, port: 81, reason: 'sg-ingress-denied' },
      { name: 'a source whose group allows no egress', from: silent.InstanceId!, to: b.PrivateIpAddress!, reason: 'sg-egress-denied' },
      { name: 'across subnets, allowed by the ACL', from: a.InstanceId!, to: guard.PrivateIpAddress! },
      { name: 'across subnets, denied by the ACL', from: a.InstanceId!, to: guard.PrivateIpAddress!, port: 8080, reason: 'nacl-denied' },
      { name: 'an address of the VPC that no interface holds', from: a.InstanceId!, to: '10.30.1.250', reason: 'no-destination' },
      { name: 'the internet from a subnet without a route to it', from: hidden.InstanceId!, to: '203.0.113.10', reason: 'no-route' },
      { name: 'the internet from an instance without a public address', from: guard.InstanceId!, to: '203.0.113.10', reason: 'no-public-ip' },
      { name: 'the internet from an instance with an Elastic IP', from: a.InstanceId!, to: '203.0.113.10' },
      { name: 'the internet to an Elastic IP', from: 'internet', to: bPublic },
      { name: 'the internet to a port the group does not open', from: 'internet', to: aPublic, port: 81, reason: 'sg-ingress-denied' },
      { name: 'the internet to the Elastic IP of a detached interface', from: 'internet', to: floatingPublic, reason: 'eni-not-attached' },
      { name: 'the internet to a stopped instance', from: 'internet', to: stoppedPublic, reason: 'instance-not-running' },
      { name: 'the internet to a failed instance', from: 'internet', to: failedPublic, reason: 'instance-impaired' },
      { name: 'through an appliance that keeps its source/destination check', from: via.InstanceId!, to: guard.PrivateIpAddress!, reason: 'source-dest-check' },
      { name: 'IPv6: the internet to an instance', from: 'internet', to: v6Of(b) },
      { name: 'IPv6: a port the group does not open', from: 'internet', to: v6Of(b), port: 81, reason: 'sg-ingress-denied' },
      { name: 'IPv6: instance to instance', from: a.InstanceId!, to: v6Of(b) },
      { name: 'IPv6: the internet from a subnet without a route to it', from: hidden.InstanceId!, to: '2001:db8::10', reason: 'no-route' },
      { name: 'IPv6: a stopped instance', from: 'internet', to: v6Of(stopped), reason: 'instance-not-running' },
      { name: 'IPv6: the internet from behind an egress-only internet gateway', from: outbound.InstanceId!, to: '2001:db8::10' },
      { name: 'IPv6: the internet to an instance behind an egress-only internet gateway', from: 'internet', to: v6Of(outbound), reason: 'no-route' },
    );
  });
  after(async () => {
    for (const p of programs) p.stop();
    await server?.stop();
  });

  test('every case: the probe and a real TCP connection give the same verdict', async () => {
    const disagreements: string[] = [];
    for (const c of cases) {
      const port = c.port ?? 80;
      const verdict = await probe(server.url, { from: c.from, to: c.to, port });
      const host = c.to.includes(':') ? `[${c.to}]` : c.to;
      // A drop is a connection that times out; a delivery may take longer on a loaded machine.
      const real = await curl(server, c.from, `http://${host}:${port}/`, { timeoutSeconds: c.reason ? 1 : 5 });
      const expected = c.reason ? `dropped (${c.reason})` : 'delivered';
      const simulated = verdict.delivered ? 'delivered' : `dropped (${verdict.reason})`;
      if (simulated !== expected) disagreements.push(`${c.name}: the table says ${expected}, the simulated plane ${simulated}`);
      if (real.ok !== !c.reason) disagreements.push(`${c.name}: the table says ${expected}, a real packet was ${real.ok ? 'delivered' : `dropped (${real.error})`}`);
    }
    assert.deepEqual(disagreements, []);
  });
});
