/**
 * The data plane end to end: POST /_eni/probe against topologies built through the SDK. Every
 * drop reason (security groups both ways, network ACLs both ways and on the reply, routes, an
 * unused address, a detached interface, a stopped or failing instance, source/destination check,
 * the internet gateway's 1:1 NAT), traffic following a moved interface with no stale delivery,
 * IPv6, malformed probes, and account/region scoping.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AssociateRouteTableCommand,
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  type CreateNetworkAclEntryCommandInput,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createGroup, createNetwork, defaultGroupOf, describeEni, launch, pollUntil, type Network } from '../helpers/topology.ts';
import { createGateway, expandIpv6, subnet64, waitForState } from '../helpers/addressing.ts';
import {
  INTERNET_ADDRESS,
  aclAssociationOf,
  assertDelivered,
  assertDropped,
  blockingHop,
  errorOf,
  failInstance,
  mainRouteTableOf,
  probe,
  rawProbe,
  recoverInstance,
} from '../helpers/dataplane.ts';

const OTHER_ACCOUNT = '111111111111';

const primaryEniOf = (i: Instance) => i.NetworkInterfaces!.find((n) => n.Attachment?.DeviceIndex === 0)!.NetworkInterfaceId!;

describe('probes', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let url: string;
  let block = 10;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 100, elasticIpsPerRegion: 50, internetGatewaysPerRegion: 50 }, accounts: { AKIDOTHER: OTHER_ACCOUNT } });
    ec2 = server.client();
    url = server.url;
  });
  after(() => server.stop());

  /** A fresh VPC 10.N.0.0/16 with subnets a (10.N.1.0/24) and b (10.N.2.0/24), optionally with a gateway and a default route to it. */
  async function network(options: { gateway?: boolean; internetRoute?: boolean; client?: EC2Client; zone?: string } = {}): Promise<Network & { n: number; igw?: string }> {
    const client = options.client ?? ec2;
    const zone = options.zone ?? 'us-east-1a';
    const n = block++;
    const net = await createNetwork(client, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone }, b: { cidr: `10.${n}.2.0/24`, zone } });
    let igw: string | undefined;
    if (options.gateway || options.internetRoute) igw = await createGateway(client, net.vpcId);
    if (options.internetRoute) {
      const main = await mainRouteTableOf(client, net.vpcId);
      await client.send(new CreateRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    }
    return { ...net, n, igw };
  }

  const subnet = (net: Network, name: 'a' | 'b') => net.subnets[name].SubnetId!;
  const launchIn = (net: Network, name: 'a' | 'b', groups?: string[], client: EC2Client = ec2) =>
    launch(client, { SubnetId: subnet(net, name), SecurityGroupIds: groups });

  /** A custom ACL with the given entries, made the subnet's ACL; returns its id. */
  async function customAcl(net: Network, name: 'a' | 'b', entries: Omit<CreateNetworkAclEntryCommandInput, 'NetworkAclId'>[]): Promise<string> {
    const aclId = (await ec2.send(new CreateNetworkAclCommand({ VpcId: net.vpcId }))).NetworkAcl!.NetworkAclId!;
    for (const entry of entries) await ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: aclId, ...entry }));
    const { associationId } = await aclAssociationOf(ec2, subnet(net, name));
    await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: associationId, NetworkAclId: aclId }));
    return aclId;
  }
  const allowAll = (egress: boolean, ruleNumber = 100) => ({ RuleNumber: ruleNumber, Protocol: '-1', RuleAction: 'allow' as const, Egress: egress, CidrBlock: '0.0.0.0/0' });

  /** A group that admits TCP on the port from anywhere. */
  async function openGroup(net: Network, name: string, port: number): Promise<string> {
    const id = await createGroup(ec2, net.vpcId, name);
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    return id;
  }

  describe('delivery inside a VPC', () => {
    test('two instances in one subnet and the default group: delivered to the instance holding the address, with every hop passing', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const b = await launchIn(net, 'a');
      const result = assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, protocol: 'tcp', port: 22 }));
      assert.equal(result.protocol, 6);
      assert.equal(result.port, 22);
      assert.deepEqual(result.source, { kind: 'network-interface', address: a.PrivateIpAddress, networkInterfaceId: primaryEniOf(a), instanceId: a.InstanceId });
      assert.equal(result.destination!.kind, 'instance');
      assert.equal(result.destination!.address, b.PrivateIpAddress);
      assert.equal(result.destination!.instanceId, b.InstanceId);
      assert.equal(result.destination!.networkInterfaceId, primaryEniOf(b));
      assert.equal(result.destination!.deviceIndex, 0);
      assert.ok(result.hops.every((h) => h.verdict === 'pass'));
      const components = result.hops.map((h) => h.component);
      for (const c of ['security-group-egress', 'route-table', 'security-group-ingress']) assert.ok(components.includes(c as never), `hops include ${c}`);
      // Inside one subnet the ACL is never consulted.
      assert.ok(!components.some((c) => c.startsWith('network-acl')), `no ACL hop inside one subnet: ${components.join(', ')}`);
      // What each interface saw: the source's egress and the destination's ingress, both accepted.
      assert.deepEqual(
        result.observations.map((o) => [o.networkInterfaceId, o.direction, o.action, o.srcaddr, o.dstaddr, o.dstport]),
        [
          [primaryEniOf(a), 'egress', 'ACCEPT', a.PrivateIpAddress, b.PrivateIpAddress, 22],
          [primaryEniOf(b), 'ingress', 'ACCEPT', a.PrivateIpAddress, b.PrivateIpAddress, 22],
        ],
      );
      // From the interface rather than the instance: the same verdict.
      assertDelivered(await probe(url, { from: primaryEniOf(a), to: b.PrivateIpAddress!, port: 22 }));
    });

    test('across subnets: delivered through both subnets\' ACLs (forward and reply)', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const b = await launchIn(net, 'b');
      const result = assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 443 }));
      assert.equal(result.destination!.instanceId, b.InstanceId);
      const components = result.hops.map((h) => h.component);
      for (const c of ['network-acl-egress', 'network-acl-ingress', 'network-acl-reply']) assert.ok(components.includes(c as never), `hops include ${c}: ${components.join(', ')}`);
      // udp and icmp are evaluated too.
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, protocol: 'udp', port: 53 }));
      const ping = assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, protocol: 'icmp' }));
      assert.equal(ping.protocol, 1);
      assert.equal(ping.port, 8, 'ICMP defaults to echo request');
    });
  });

  describe('security groups', () => {
    test('sg-egress-denied once the source group\'s default egress rule is revoked; restored, delivered again', async () => {
      const net = await network();
      const group = await createGroup(ec2, net.vpcId, 'sender');
      const a = await launchIn(net, 'a', [group]);
      const b = await launchIn(net, 'a');
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: net.defaultGroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }));
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 80 }));

      const all = [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }];
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: group, IpPermissions: all }));
      const result = assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 80 }), 'sg-egress-denied');
      assert.equal(blockingHop(result).component, 'security-group-egress');
      assert.equal(result.destination, undefined, 'nothing was delivered');
      assert.deepEqual(result.observations.map((o) => [o.networkInterfaceId, o.direction, o.action]), [[primaryEniOf(a), 'egress', 'REJECT']]);

      await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: group, IpPermissions: all }));
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 80 }));
    });

    test('sg-ingress-denied when the destination group has no matching rule; a rule for the port or from the source\'s group admits it', async () => {
      const net = await network();
      const serverGroup = await createGroup(ec2, net.vpcId, 'server');
      const a = await launchIn(net, 'a');
      const b = await launchIn(net, 'b', [serverGroup]);
      const denied = assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 5432 }), 'sg-ingress-denied');
      assert.equal(blockingHop(denied).component, 'security-group-ingress');
      assert.deepEqual(
        denied.observations.map((o) => [o.networkInterfaceId, o.direction, o.action]),
        [
          [primaryEniOf(a), 'egress', 'ACCEPT'],
          [primaryEniOf(b), 'ingress', 'REJECT'],
        ],
      );

      // A CIDR rule for another port does not match; one for this port does.
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: serverGroup, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: `10.${net.n}.1.0/24` }] }] }));
      assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 5432 }), 'sg-ingress-denied');
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));

      // AWS: a rule naming a source group admits traffic from interfaces in that group.
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: serverGroup, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: net.defaultGroupId }] }] }),
      );
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 5432 }));
      // An instance outside the referenced group is still refused.
      const stranger = await launchIn(net, 'a', [await createGroup(ec2, net.vpcId, 'stranger')]);
      assertDropped(await probe(url, { from: stranger.InstanceId!, to: b.PrivateIpAddress!, port: 5432 }), 'sg-ingress-denied');
    });
  });

  describe('network ACLs', () => {
    test('nacl-denied inbound: a deny entry in the destination subnet\'s ACL, before its allow', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const b = await launchIn(net, 'b');
      const aclId = await customAcl(net, 'b', [
        { RuleNumber: 90, Protocol: '6', RuleAction: 'deny', Egress: false, CidrBlock: `10.${net.n}.1.0/24`, PortRange: { From: 22, To: 22 } },
        allowAll(false),
        allowAll(true),
      ]);
      const result = assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }), 'nacl-denied');
      const hop = blockingHop(result);
      assert.equal(hop.component, 'network-acl-ingress');
      assert.equal(hop.resourceId, aclId);
      assert.match(hop.rule ?? '', /90/);
      // Another port is not matched by rule 90 and passes rule 100.
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 80 }));
    });

    test('nacl-denied outbound: a deny entry in the source subnet\'s ACL', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const b = await launchIn(net, 'b');
      const aclId = await customAcl(net, 'a', [
        { RuleNumber: 50, Protocol: '17', RuleAction: 'deny', Egress: true, CidrBlock: '0.0.0.0/0', PortRange: { From: 53, To: 53 } },
        allowAll(false),
        allowAll(true),
      ]);
      const result = assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, protocol: 'udp', port: 53 }), 'nacl-denied');
      assert.equal(blockingHop(result).component, 'network-acl-egress');
      assert.equal(blockingHop(result).resourceId, aclId);
      assert.deepEqual(result.observations.map((o) => [o.networkInterfaceId, o.direction, o.action]), [[primaryEniOf(a), 'egress', 'REJECT']]);
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, protocol: 'tcp', port: 53 }));
    });

    test('nacl-denied on the reply: the request is allowed in, but the stateless ACL blocks the ephemeral ports on the way back', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const b = await launchIn(net, 'b');
      // Destination subnet: everything in; out only to well-known ports.
      const aclId = await customAcl(net, 'b', [allowAll(false), { RuleNumber: 100, Protocol: '6', RuleAction: 'allow', Egress: true, CidrBlock: '0.0.0.0/0', PortRange: { From: 0, To: 1023 } }]);
      const result = assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 80, sourcePort: 49152 }), 'nacl-denied');
      const hop = blockingHop(result);
      assert.equal(hop.component, 'network-acl-reply');
      assert.equal(hop.resourceId, aclId);
      // The request itself passed the destination's inbound ACL and its group.
      assert.ok(result.hops.some((h) => h.component === 'network-acl-ingress' && h.verdict === 'pass'));
      // A client whose source port the ACL lets back out is answered.
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 80, sourcePort: 1000 }));
    });

    test('ACLs are not evaluated between instances of one subnet: a deny-all ACL passes same-subnet traffic but stops traffic from another subnet', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const b = await launchIn(net, 'a');
      const c = await launchIn(net, 'b');
      // A new ACL has only the `*` deny entries.
      await customAcl(net, 'a', []);
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }), 'same subnet:');
      assertDropped(await probe(url, { from: c.InstanceId!, to: b.PrivateIpAddress!, port: 22 }), 'nacl-denied', 'from subnet b:');
      assertDropped(await probe(url, { from: a.InstanceId!, to: c.PrivateIpAddress!, port: 22 }), 'nacl-denied', 'to subnet b:');
    });
  });

  describe('routes and addresses', () => {
    test('no-route: a custom route table without a route to an address outside the VPC', async () => {
      const net = await network({ gateway: true });
      const a = await launchIn(net, 'a');
      const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
      await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnet(net, 'a') }));
      const result = assertDropped(await probe(url, { from: a.InstanceId!, to: '8.8.8.8', port: 443 }), 'no-route');
      const hop = blockingHop(result);
      assert.equal(hop.component, 'route-table');
      assert.equal(hop.resourceId, table, 'the subnet\'s explicit table decided');
    });

    test('no-destination: an address of the VPC that no interface holds', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const result = assertDropped(await probe(url, { from: a.InstanceId!, to: `10.${net.n}.2.200`, port: 22 }), 'no-destination');
      assert.equal(blockingHop(result).component, 'route-table');
    });

    test('eni-not-attached: to the address of a detached interface, and through a route whose interface is not attached', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const b = await launchIn(net, 'b');
      const second = await createEni(ec2, { SubnetId: subnet(net, 'b') });
      const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: b.InstanceId, DeviceIndex: 1 }));
      const delivered = assertDelivered(await probe(url, { from: a.InstanceId!, to: second.PrivateIpAddress!, port: 22 }));
      assert.equal(delivered.destination!.deviceIndex, 1);
      await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
      const result = assertDropped(await probe(url, { from: a.InstanceId!, to: second.PrivateIpAddress!, port: 22 }), 'eni-not-attached');
      assert.equal(blockingHop(result).resourceId, second.NetworkInterfaceId);

      // A route to an interface that is attached to nothing is a blackhole.
      const appliance = await createEni(ec2, { SubnetId: subnet(net, 'b') });
      const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
      await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', NetworkInterfaceId: appliance.NetworkInterfaceId }));
      await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnet(net, 'a') }));
      const blackhole = assertDropped(await probe(url, { from: a.InstanceId!, to: '198.51.100.7', port: 443 }), 'eni-not-attached');
      assert.equal(blockingHop(blackhole).component, 'route-table');
    });

    test('instance-not-running: a stopped destination drops; started again, delivered', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const b = await launchIn(net, 'a');
      await ec2.send(new StopInstancesCommand({ InstanceIds: [b.InstanceId!] }));
      await waitForState(ec2, b.InstanceId!, 'stopped');
      const result = assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }), 'instance-not-running');
      assert.equal(blockingHop(result).component, 'instance');
      assert.equal(blockingHop(result).resourceId, b.InstanceId);
      // A stopped source sends nothing either.
      assertDropped(await probe(url, { from: b.InstanceId!, to: a.PrivateIpAddress!, port: 22 }), 'instance-not-running');
      await ec2.send(new StartInstancesCommand({ InstanceIds: [b.InstanceId!] }));
      await waitForState(ec2, b.InstanceId!, 'running');
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));
    });

    test('instance-impaired: a failed instance drops traffic until it recovers', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const b = await launchIn(net, 'a');
      await failInstance(url, b.InstanceId!);
      const result = assertDropped(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }), 'instance-impaired');
      assert.equal(blockingHop(result).resourceId, b.InstanceId);
      await recoverInstance(url, b.InstanceId!);
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));
    });

    test('source-dest-check: a route through an appliance interface drops while the check is on; off, the appliance receives the traffic', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      const appliance = await launchIn(net, 'b');
      const applianceEni = primaryEniOf(appliance);
      const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
      await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '198.51.100.0/24', NetworkInterfaceId: applianceEni }));
      await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnet(net, 'a') }));

      const dropped = assertDropped(await probe(url, { from: a.InstanceId!, to: '198.51.100.7', port: 443 }), 'source-dest-check');
      assert.equal(blockingHop(dropped).resourceId, applianceEni);

      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: applianceEni, SourceDestCheck: { Value: false } }));
      assert.equal((await describeEni(ec2, applianceEni)).SourceDestCheck, false);
      const result = assertDelivered(await probe(url, { from: a.InstanceId!, to: '198.51.100.7', port: 443 }));
      assert.equal(result.destination!.kind, 'appliance');
      assert.equal(result.destination!.address, '198.51.100.7');
      assert.equal(result.destination!.instanceId, appliance.InstanceId);
      assert.equal(result.destination!.networkInterfaceId, applianceEni);
    });
  });

  describe('the internet gateway', () => {
    test('internet → Elastic IP: delivered to the instance, which sees its private address', async () => {
      const net = await network({ internetRoute: true });
      const web = await openGroup(net, 'web', 22);
      const b = await launchIn(net, 'a', [web]);
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: b.InstanceId }));
      const result = assertDelivered(await probe(url, { from: 'internet', to: eip.PublicIp!, port: 22 }));
      assert.deepEqual(result.source, { kind: 'internet', address: INTERNET_ADDRESS });
      assert.equal(result.destination!.address, eip.PublicIp);
      assert.equal(result.destination!.privateAddress, b.PrivateIpAddress);
      assert.equal(result.destination!.instanceId, b.InstanceId);
      assert.ok(result.hops.some((h) => h.component === 'internet-gateway' && h.resourceId === net.igw && h.verdict === 'pass'));
      assert.deepEqual(
        result.observations.map((o) => [o.networkInterfaceId, o.direction, o.action, o.srcaddr, o.dstaddr]),
        [[primaryEniOf(b), 'ingress', 'ACCEPT', INTERNET_ADDRESS, b.PrivateIpAddress]],
      );
      // From a named internet address; and a port the group does not open.
      const named = assertDelivered(await probe(url, { from: 'internet:192.0.2.44', to: eip.PublicIp!, port: 22 }));
      assert.equal(named.source.address, '192.0.2.44');
      assertDropped(await probe(url, { from: 'internet', to: eip.PublicIp!, port: 80 }), 'sg-ingress-denied');
    });

    test('internet → Elastic IP whose subnet\'s route table has no route to the gateway: no-route', async () => {
      const net = await network({ gateway: true });
      const web = await openGroup(net, 'web', 22);
      const b = await launchIn(net, 'a', [web]);
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: b.InstanceId }));
      const result = assertDropped(await probe(url, { from: 'internet', to: eip.PublicIp!, port: 22 }), 'no-route');
      assert.equal(blockingHop(result).component, 'route-table');
      // Adding the route makes it reachable.
      const main = await mainRouteTableOf(ec2, net.vpcId);
      await ec2.send(new CreateRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: net.igw }));
      assertDelivered(await probe(url, { from: 'internet', to: eip.PublicIp!, port: 22 }));
    });

    test('internet → a private address: no-route (the internet cannot address the VPC privately)', async () => {
      const net = await network({ internetRoute: true });
      const b = await launchIn(net, 'a', [await openGroup(net, 'web', 22)]);
      const result = assertDropped(await probe(url, { from: 'internet', to: b.PrivateIpAddress!, port: 22 }), 'no-route');
      assert.equal(blockingHop(result).component, 'internet-gateway');
      assert.deepEqual(result.observations, []);
    });

    test('instance → internet: no-public-ip without a public address; with an Elastic IP, delivered through the gateway\'s NAT', async () => {
      const net = await network({ internetRoute: true });
      const a = await launchIn(net, 'a');
      const denied = assertDropped(await probe(url, { from: a.InstanceId!, to: '8.8.8.8', port: 443 }), 'no-public-ip');
      assert.equal(blockingHop(denied).component, 'internet-gateway');

      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: a.InstanceId }));
      const result = assertDelivered(await probe(url, { from: a.InstanceId!, to: '8.8.8.8', port: 443 }));
      assert.deepEqual(result.destination, { kind: 'internet', address: '8.8.8.8' });
      assert.equal(result.source.address, a.PrivateIpAddress);
      assert.equal(result.source.publicAddress, eip.PublicIp);
      assert.ok(result.hops.some((h) => h.component === 'internet-gateway' && h.verdict === 'pass'));
    });
  });

  test('move the interface and traffic follows: the very next probe after a detach or an attach sees it, never a stale holder', async () => {
    const net = await network({ internetRoute: true });
    const web = await openGroup(net, 'web', 22);
    const a = await launchIn(net, 'a');
    const b = await launchIn(net, 'a');
    const client = await launchIn(net, 'b', [web]);
    const moving = await createEni(ec2, { SubnetId: subnet(net, 'a'), Groups: [web] });
    const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: moving.NetworkInterfaceId }));

    const toPrivate = () => probe(url, { from: client.InstanceId!, to: moving.PrivateIpAddress!, port: 22 });
    const toPublic = () => probe(url, { from: 'internet', to: eip.PublicIp!, port: 22 });

    const first = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: moving.NetworkInterfaceId, InstanceId: a.InstanceId, DeviceIndex: 1 }));
    assert.equal(assertDelivered(await toPrivate()).destination!.instanceId, a.InstanceId);
    const fromInternet = assertDelivered(await toPublic());
    assert.equal(fromInternet.destination!.instanceId, a.InstanceId);
    assert.equal(fromInternet.destination!.privateAddress, moving.PrivateIpAddress);

    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: first.AttachmentId }));
    assertDropped(await toPrivate(), 'eni-not-attached', 'right after the detach:');
    assertDropped(await toPublic(), 'eni-not-attached', 'right after the detach, from the internet:');

    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: moving.NetworkInterfaceId, InstanceId: b.InstanceId, DeviceIndex: 1 }));
    assert.equal(assertDelivered(await toPrivate(), 'right after the attach:').destination!.instanceId, b.InstanceId);
    const moved = assertDelivered(await toPublic(), 'right after the attach, from the internet:');
    assert.equal(moved.destination!.instanceId, b.InstanceId);
    assert.equal(moved.destination!.networkInterfaceId, moving.NetworkInterfaceId);
    assert.equal(moved.destination!.deviceIndex, 1);
  });

  describe('IPv6', () => {
    async function dualStack() {
      const n = block++;
      const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${n}.0.0/16`, AmazonProvidedIpv6CidrBlock: true }))).Vpc!;
      const vpcBlock = vpc.Ipv6CidrBlockAssociationSet![0].Ipv6CidrBlock!;
      const sub = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: `10.${n}.1.0/24`, Ipv6CidrBlock: subnet64(vpcBlock, 1), AvailabilityZone: 'us-east-1a' }))).Subnet!;
      return { vpcId: vpc.VpcId!, subnetId: sub.SubnetId! };
    }
    const ipv6Of = (i: Instance) => i.NetworkInterfaces![0].Ipv6Addresses![0].Ipv6Address!;

    test('between two dual-stack instances in a group allowing IPv6 both ways: delivered from and to IPv6 addresses', async () => {
      const { vpcId, subnetId } = await dualStack();
      const group = await createGroup(ec2, vpcId, 'v6');
      // AWS: a group created in a VPC with an IPv6 block already allows all IPv6 egress.
      await expectEc2Error(
        ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] })),
        'InvalidPermission.Duplicate',
      );
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }));
      const a = await launch(ec2, { SubnetId: subnetId, SecurityGroupIds: [group], Ipv6AddressCount: 1 });
      const b = await launch(ec2, { SubnetId: subnetId, SecurityGroupIds: [group], Ipv6AddressCount: 1 });
      const result = assertDelivered(await probe(url, { from: a.InstanceId!, to: ipv6Of(b), port: 22 }));
      assert.equal(result.source.address, ipv6Of(a));
      assert.equal(result.destination!.address, ipv6Of(b));
      assert.equal(result.destination!.instanceId, b.InstanceId);
      // The full eight-group notation names the same address.
      assert.equal(assertDelivered(await probe(url, { from: a.InstanceId!, to: expandIpv6(ipv6Of(b)), port: 22 })).destination!.instanceId, b.InstanceId);
      // The IPv4 rule set does not admit IPv6: another port is refused.
      assertDropped(await probe(url, { from: a.InstanceId!, to: ipv6Of(b), port: 80 }), 'sg-ingress-denied');
    });

    test('between two dual-stack instances in the default group: delivered (AWS adds ::/0 egress to the default group of a VPC with an IPv6 block)', async () => {
      const { vpcId, subnetId } = await dualStack();
      const group = await defaultGroupOf(ec2, vpcId);
      const a = await launch(ec2, { SubnetId: subnetId, SecurityGroupIds: [group], Ipv6AddressCount: 1 });
      const b = await launch(ec2, { SubnetId: subnetId, SecurityGroupIds: [group], Ipv6AddressCount: 1 });
      assertDelivered(await probe(url, { from: a.InstanceId!, to: ipv6Of(b), port: 22 }));
    });
  });

  describe('malformed probes', () => {
    test('a probe without "from" or "to", with a destination that is no address, or an unknown protocol: 400 InvalidParameterValue', async () => {
      const net = await network();
      const a = await launchIn(net, 'a');
      for (const body of [{ to: '10.0.0.1' }, { from: a.InstanceId }, { from: a.InstanceId, to: 'not-an-address' }, { from: a.InstanceId, to: '10.0.0.1', protocol: 'bogus' }, { from: a.InstanceId, to: 42 }]) {
        const { status, json } = await rawProbe(url, body);
        assert.equal(status, 400, JSON.stringify(body));
        assert.equal(errorOf(json).code, 'InvalidParameterValue', JSON.stringify(json));
        assert.ok(errorOf(json).message, 'the error says what is wrong');
      }
    });

    test('a body that is not JSON: 400 with the JSON API\'s error envelope', async () => {
      const { status, json } = await rawProbe(url, '{"from": ');
      assert.equal(status, 400);
      assert.equal(typeof errorOf(json).code, 'string', `the error carries a code: ${JSON.stringify(json)}`);
    });

    test('an unknown source: 400, for an unknown interface, an unknown instance and a source of no known kind', async () => {
      for (const from of ['eni-0123456789abcdef0', 'i-0123456789abcdef0', 'vpc-0123456789abcdef0', 'internet:not-an-address']) {
        const { status, json } = await rawProbe(url, { from, to: '10.0.0.1', port: 22 });
        assert.equal(status, 400, from);
        assert.equal(errorOf(json).code, 'InvalidParameterValue', `${from}: ${JSON.stringify(json)}`);
      }
    });
  });

  describe('account and region scope', () => {
    test('a probe acts in the account of x-eni-account: another account\'s interfaces are unknown without it, and its Elastic IPs unreachable', async () => {
      const theirs = server.client({ accessKeyId: 'AKIDOTHER' });
      const net = await network({ client: theirs, internetRoute: true });
      const web = await createGroup(theirs, net.vpcId, 'web');
      await theirs.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
      const a = await launchIn(net, 'a', [web], theirs);
      const b = await launchIn(net, 'a', [web], theirs);
      const eip = await theirs.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await theirs.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: b.InstanceId }));

      const unscoped = await rawProbe(url, { from: a.InstanceId, to: b.PrivateIpAddress, port: 22 });
      assert.equal(unscoped.status, 400, 'in the default account the instance does not exist');
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }, { account: OTHER_ACCOUNT }));
      assertDropped(await probe(url, { from: 'internet', to: eip.PublicIp!, port: 22 }), 'no-route', 'another account\'s Elastic IP, unscoped:');
      assertDelivered(await probe(url, { from: 'internet', to: eip.PublicIp!, port: 22 }, { account: OTHER_ACCOUNT }));
    });

    test('a probe acts in the region of x-eni-region: instances of us-west-2 are unknown in us-east-1', async () => {
      const west = server.client({ region: 'us-west-2' });
      const net = await network({ client: west, zone: 'us-west-2a' });
      const a = await launchIn(net, 'a', undefined, west);
      const b = await launchIn(net, 'a', undefined, west);
      assert.equal((await rawProbe(url, { from: a.InstanceId, to: b.PrivateIpAddress, port: 22 })).status, 400);
      assertDelivered(await probe(url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }, { region: 'us-west-2' }));
    });
  });
});

describe('probes while an attachment is in transition (timings: attachingMs, detachingMs)', () => {
  let server: TestServer;
  let ec2: EC2Client;
  // Long enough that the two probes fit inside the window on a loaded machine (the assertion checks they did).
  const ATTACHING_MS = 3000;

  before(async () => {
    server = await startTestServer({ timings: { attachingMs: ATTACHING_MS, detachingMs: ATTACHING_MS } });
    ec2 = server.client();
  });
  after(() => server.stop());

  test('nothing reaches the standby, nor leaves it, until its attachment is attached; nothing once it is detaching', async () => {
    const net = await createNetwork(ec2, '10.77.0.0/16', { a: { cidr: '10.77.1.0/24', zone: 'us-east-1a' } });
    const client = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const standby = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const floating = (await createEni(ec2, { SubnetId: net.subnets.a.SubnetId })).NetworkInterfaceId!;
    const floatingAddress = (await describeEni(ec2, floating)).PrivateIpAddress!;
    const toStandby = { from: client.InstanceId!, to: floatingAddress, port: 22 };
    const fromStandby = { from: floating, to: client.PrivateIpAddress!, port: 22 };

    const started = Date.now();
    const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: floating, InstanceId: standby.InstanceId, DeviceIndex: 1 }));
    assert.equal((await describeEni(ec2, floating)).Attachment?.Status, 'attaching');
    const inbound = assertDropped(await probe(server.url, toStandby), 'eni-not-attached');
    assert.match(blockingHop(inbound).detail ?? '', /attaching/);
    assertDropped(await probe(server.url, fromStandby), 'eni-not-attached');
    assert.ok(Date.now() - started < ATTACHING_MS, 'both probes ran while the attachment was attaching');

    await pollUntil(() => describeEni(ec2, floating).then((e) => e.Attachment?.Status), (s) => s === 'attached');
    assert.equal(assertDelivered(await probe(server.url, toStandby)).destination!.instanceId, standby.InstanceId);
    assertDelivered(await probe(server.url, fromStandby));

    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    assert.equal((await describeEni(ec2, floating)).Attachment?.Status, 'detaching');
    assertDropped(await probe(server.url, toStandby), 'eni-not-attached');
    assertDropped(await probe(server.url, fromStandby), 'eni-not-attached');
  });
});
