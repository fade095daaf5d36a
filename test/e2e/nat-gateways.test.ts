/**
 * NAT gateways through the SDK: the gateway's states and failures, its requester-managed
 * interface (what AWS shows, what the user may not do to it), its Elastic IP, routes to it, the
 * data plane translating private instances' traffic through it, and what goes when it goes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssignPrivateNatGatewayAddressCommand,
  AssociateNatGatewayAddressCommand,
  DisassociateNatGatewayAddressCommand,
  UnassignPrivateNatGatewayAddressCommand,
  AssignIpv6AddressesCommand,
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  AssociateRouteTableCommand,
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeRouteTablesCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateTagsCommand,
  DeleteNatGatewayCommand,
  DeleteNetworkInterfaceCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAddressesCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceRouteCommand,
  type EC2Client,
  type NatGateway,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createGroup, createNetwork, describeEni, freeAddresses, launch, pollUntil, type Network } from '../helpers/topology.ts';
import { createGateway, inIpv4Cidr } from '../helpers/addressing.ts';
import { assertDelivered, assertDropped, describeRouteTable, mainRouteTableOf, probe, routeTo } from '../helpers/dataplane.ts';

describe('NAT gateways', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let block = 40;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 100, elasticIpsPerRegion: 50, internetGatewaysPerRegion: 50, natGatewaysPerAvailabilityZone: 100 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  /** VPC 10.N.0.0/16: `public` (10.N.1.0/24, main table → internet gateway) and `private` (10.N.2.0/24, its own table). */
  async function network(options: { gateway?: boolean } = {}): Promise<Network & { igw?: string; privateTable: string; n: number }> {
    const n = block++;
    const net = await createNetwork(ec2, `10.${n}.0.0/16`, {
      public: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' },
      private: { cidr: `10.${n}.2.0/24`, zone: 'us-east-1a' },
    });
    let igw: string | undefined;
    if (options.gateway !== false) {
      igw = await createGateway(ec2, net.vpcId);
      const main = await mainRouteTableOf(ec2, net.vpcId);
      await ec2.send(new CreateRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    }
    const privateTable = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: privateTable, SubnetId: net.subnets.private.SubnetId }));
    return { ...net, igw, privateTable, n };
  }

  const allocate = async () => (await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' })));
  const describeNat = async (id: string): Promise<NatGateway> => (await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [id] }))).NatGateways![0];

  test('a public NAT gateway answers pending, becomes available, and holds a requester-managed interface in its subnet with its Elastic IP', async () => {
    const net = await network();
    const eip = await allocate();
    const freeBefore = await freeAddresses(ec2, net.subnets.public.SubnetId!);
    const created = await ec2.send(
      new CreateNatGatewayCommand({ SubnetId: net.subnets.public.SubnetId, AllocationId: eip.AllocationId, TagSpecifications: [{ ResourceType: 'natgateway', Tags: [{ Key: 'Name', Value: 'nat-a' }] }] }),
    );
    const nat = created.NatGateway!;
    assert.match(nat.NatGatewayId!, /^nat-[0-9a-f]{17}$/);
    assert.equal(nat.State, 'pending');
    assert.equal(nat.ConnectivityType, 'public');
    assert.equal(nat.VpcId, net.vpcId);
    assert.deepEqual(nat.Tags, [{ Key: 'Name', Value: 'nat-a' }]);
    assert.equal(nat.NatGatewayAddresses!.length, 1);
    assert.equal(nat.NatGatewayAddresses![0].Status, 'associating');

    const described = await describeNat(nat.NatGatewayId!);
    assert.equal(described.State, 'available');
    const address = described.NatGatewayAddresses![0];
    assert.equal(address.AllocationId, eip.AllocationId);
    assert.equal(address.PublicIp, eip.PublicIp);
    assert.equal(address.IsPrimary, true);
    assert.equal(address.Status, 'succeeded');
    assert.match(address.AssociationId!, /^eipassoc-/);
    assert.ok(inIpv4Cidr(address.PrivateIp!, net.subnets.public.CidrBlock!), `${address.PrivateIp} is in the subnet`);
    assert.equal(await freeAddresses(ec2, net.subnets.public.SubnetId!), freeBefore - 1);

    const eni = await describeEni(ec2, address.NetworkInterfaceId!);
    assert.equal(eni.InterfaceType, 'nat_gateway');
    assert.equal(eni.RequesterManaged, true);
    assert.equal(eni.RequesterId, '128792236543');
    assert.equal(eni.Description, `Interface for NAT Gateway ${nat.NatGatewayId}`);
    assert.equal(eni.SourceDestCheck, false);
    assert.equal(eni.Status, 'in-use');
    assert.deepEqual(eni.Groups, []);
    assert.equal(eni.SubnetId, net.subnets.public.SubnetId);
    assert.equal(eni.PrivateIpAddress, address.PrivateIp);
    assert.match(eni.Attachment!.AttachmentId!, /^ela-attach-/);
    assert.equal(eni.Attachment!.InstanceOwnerId, 'amazon-aws');
    assert.equal(eni.Attachment!.InstanceId, undefined);
    assert.equal(eni.Association?.PublicIp, eip.PublicIp);
    assert.equal(eni.Association?.AllocationId, eip.AllocationId);

    const [addressRow] = (await ec2.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] }))).Addresses!;
    assert.equal(addressRow.NetworkInterfaceId, eni.NetworkInterfaceId);
    assert.equal(addressRow.PrivateIpAddress, address.PrivateIp);
    assert.equal(addressRow.AssociationId, address.AssociationId);

    // The requester-managed filters find it.
    const managed = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }, { Name: 'requester-managed', Values: ['true'] }, { Name: 'interface-type', Values: ['nat_gateway'] }] }),
    );
    assert.deepEqual(managed.NetworkInterfaces!.map((n) => n.NetworkInterfaceId), [eni.NetworkInterfaceId]);
    // What Terraform looks for to find service-held interfaces.
    const byOwner = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-owner-id', Values: ['amazon-aws'] }, { Name: 'attachment.attachment-id', Values: ['ela-attach-*'] }, { Name: 'vpc-id', Values: [net.vpcId] }] }),
    );
    assert.deepEqual(byOwner.NetworkInterfaces!.map((n) => n.NetworkInterfaceId), [eni.NetworkInterfaceId]);
    const byRequester = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'requester-id', Values: ['128792236543'] }, { Name: 'vpc-id', Values: [net.vpcId] }] }));
    assert.equal(byRequester.NetworkInterfaces!.length, 1);
  });

  test('the user can neither detach, delete nor modify a NAT gateway interface; its subnet and VPC cannot be deleted while it lives', async () => {
    const net = await network();
    const eip = await allocate();
    const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.public.SubnetId, AllocationId: eip.AllocationId }))).NatGateway!;
    const eni = await describeEni(ec2, nat.NatGatewayAddresses![0].NetworkInterfaceId!);
    const detach = await expectEc2Error(ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: eni.Attachment!.AttachmentId })), 'OperationNotPermitted');
    assert.equal(detach.message, "You are not allowed to manage 'ela-attach' attachments.");
    await expectEc2Error(ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: eni.Attachment!.AttachmentId, Force: true })), 'OperationNotPermitted');
    const del = await expectEc2Error(ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId })), 'InvalidNetworkInterface.InUse');
    assert.equal(del.message, `Interface: [${eni.NetworkInterfaceId}] in use.`);
    await expectEc2Error(
      ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Groups: [net.defaultGroupId] })),
      'OperationNotPermitted',
    );
    await expectEc2Error(ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, SourceDestCheck: { Value: true } })), 'OperationNotPermitted');
    await expectEc2Error(ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 1 })), 'OperationNotPermitted');
    await expectEc2Error(ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Ipv6AddressCount: 1 })), 'OperationNotPermitted');
    const other = await allocate();
    await expectEc2Error(ec2.send(new AssociateAddressCommand({ AllocationId: other.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId })), 'OperationNotPermitted');
    // Tags are the user's to set.
    await ec2.send(new CreateTagsCommand({ Resources: [eni.NetworkInterfaceId!], Tags: [{ Key: 'seen', Value: 'yes' }] }));
    assert.deepEqual((await describeEni(ec2, eni.NetworkInterfaceId!)).TagSet, [{ Key: 'seen', Value: 'yes' }]);
    const subnet = await expectEc2Error(ec2.send(new DeleteSubnetCommand({ SubnetId: net.subnets.public.SubnetId })), 'DependencyViolation');
    assert.equal(subnet.message, `The subnet '${net.subnets.public.SubnetId}' has dependencies and cannot be deleted.`);
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: net.vpcId })), 'DependencyViolation');
    // Unchanged.
    const after = await describeEni(ec2, eni.NetworkInterfaceId!);
    assert.deepEqual(after.Attachment, eni.Attachment);
    assert.equal(after.SourceDestCheck, false);
    assert.deepEqual(after.Groups, []);
  });

  test('private instances reach the internet through the NAT gateway, seen from its Elastic IP; the hops show the gateway', async () => {
    const net = await network();
    const eip = await allocate();
    const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.public.SubnetId, AllocationId: eip.AllocationId }))).NatGateway!;
    const natIp = (await describeNat(nat.NatGatewayId!)).NatGatewayAddresses![0].PrivateIp!;
    const instance = await launch(ec2, { SubnetId: net.subnets.private.SubnetId });

    // No route yet: the private subnet has none to the internet.
    assertDropped(await probe(server.url, { from: instance.InstanceId!, to: '203.0.113.10', port: 443 }), 'no-route');

    await ec2.send(new CreateRouteCommand({ RouteTableId: net.privateTable, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat.NatGatewayId }));
    const route = routeTo(await describeRouteTable(ec2, net.privateTable), '0.0.0.0/0')!;
    assert.equal(route.NatGatewayId, nat.NatGatewayId);
    assert.equal(route.GatewayId, undefined);
    assert.equal(route.State, 'active');
    const { RouteTables } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.nat-gateway-id', Values: [nat.NatGatewayId!] }] }));
    assert.deepEqual(RouteTables!.map((t) => t.RouteTableId), [net.privateTable]);

    const result = assertDelivered(await probe(server.url, { from: instance.InstanceId!, to: '203.0.113.10', port: 443 }));
    assert.equal(result.destination?.kind, 'internet');
    assert.equal(result.source.address, instance.PrivateIpAddress);
    assert.equal(result.source.natGatewayId, nat.NatGatewayId);
    assert.equal(result.source.natAddress, natIp);
    assert.equal(result.source.publicAddress, eip.PublicIp);
    const kinds = result.hops.map((h) => `${h.component}:${h.resourceId}`);
    assert.ok(kinds.includes(`nat-gateway:${nat.NatGatewayId}`), kinds.join(' '));
    assert.ok(kinds.includes(`route-table:${net.privateTable}`));
    assert.ok(kinds.includes(`internet-gateway:${net.igw}`));
    const natHop = result.hops.find((h) => h.component === 'nat-gateway')!;
    assert.equal(natHop.detail, `${instance.PrivateIpAddress} → ${natIp}`);
    const igwHop = result.hops.find((h) => h.component === 'internet-gateway')!;
    assert.equal(igwHop.detail, `${natIp} → ${eip.PublicIp}`);

    // Traffic addressed to the gateway's interface itself is not for anyone.
    assertDropped(await probe(server.url, { from: instance.InstanceId!, to: natIp, port: 22 }), 'no-destination');
    // The internet cannot open a connection through the gateway's Elastic IP.
    assert.equal((await probe(server.url, { from: 'internet', to: eip.PublicIp!, port: 22 })).delivered, false);

    // Another public address of the account is reached from the NAT's address.
    const webEip = await allocate();
    const web = await launch(ec2, { SubnetId: net.subnets.public.SubnetId });
    await ec2.send(new AssociateAddressCommand({ AllocationId: webEip.AllocationId, InstanceId: web.InstanceId }));
    const toWeb = await probe(server.url, { from: instance.InstanceId!, to: webEip.PublicIp!, port: 443 });
    assert.equal(toWeb.source.publicAddress, eip.PublicIp);
    assert.equal(toWeb.hops.some((h) => h.component === 'nat-gateway'), true);
  });

  test('a gateway in a subnet without a route to the internet gateway cannot carry traffic out', async () => {
    const net = await network();
    const eip = await allocate();
    const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.private.SubnetId, AllocationId: eip.AllocationId }))).NatGateway!;
    const instance = await launch(ec2, { SubnetId: net.subnets.private.SubnetId });
    await ec2.send(new CreateRouteCommand({ RouteTableId: net.privateTable, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat.NatGatewayId }));
    // The gateway's own subnet routes the internet to the gateway itself.
    const result = assertDropped(await probe(server.url, { from: instance.InstanceId!, to: '203.0.113.10', port: 443 }), 'no-route');
    assert.equal(result.hops.some((h) => h.component === 'nat-gateway'), true);
  });

  test('deleting the gateway disassociates its Elastic IP, deletes its interface and turns its routes into blackholes', async () => {
    const net = await network();
    const eip = await allocate();
    const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.public.SubnetId, AllocationId: eip.AllocationId }))).NatGateway!;
    const eniId = (await describeNat(nat.NatGatewayId!)).NatGatewayAddresses![0].NetworkInterfaceId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: net.privateTable, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat.NatGatewayId }));
    const instance = await launch(ec2, { SubnetId: net.subnets.private.SubnetId });
    const freeBefore = await freeAddresses(ec2, net.subnets.public.SubnetId!);

    const deleted = await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: nat.NatGatewayId }));
    assert.equal(deleted.NatGatewayId, nat.NatGatewayId);
    const gone = await describeNat(nat.NatGatewayId!);
    assert.equal(gone.State, 'deleted');
    assert.ok(gone.DeleteTime instanceof Date);
    assert.equal(gone.NatGatewayAddresses![0].AssociationId, undefined);
    await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })), 'InvalidNetworkInterfaceID.NotFound');
    assert.equal(await freeAddresses(ec2, net.subnets.public.SubnetId!), freeBefore + 1);
    const [address] = (await ec2.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] }))).Addresses!;
    assert.equal(address.AssociationId, undefined);
    assert.equal(address.NetworkInterfaceId, undefined);
    assert.equal(routeTo(await describeRouteTable(ec2, net.privateTable), '0.0.0.0/0')!.State, 'blackhole');
    assertDropped(await probe(server.url, { from: instance.InstanceId!, to: '203.0.113.10', port: 443 }), 'no-route');
    // Deleting again changes nothing; the state filter finds it.
    await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: nat.NatGatewayId }));
    const { NatGateways } = await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'state', Values: ['deleted'] }, { Name: 'vpc-id', Values: [net.vpcId] }] }));
    assert.deepEqual(NatGateways!.map((g) => g.NatGatewayId), [nat.NatGatewayId]);
    // With the gateway gone, its subnet can go (once the instance and the route's table are not in the way).
    await ec2.send(new DeleteSubnetCommand({ SubnetId: net.subnets.public.SubnetId }));
  });

  test('failures AWS reports on the gateway: no internet gateway, an Elastic IP already associated, a subnet out of addresses', async () => {
    const isolated = await network({ gateway: false });
    const eip = await allocate();
    const noIgw = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: isolated.subnets.public.SubnetId, AllocationId: eip.AllocationId }))).NatGateway!;
    const failed = await describeNat(noIgw.NatGatewayId!);
    assert.equal(failed.State, 'failed');
    assert.equal(failed.FailureCode, 'Gateway.NotAttached');
    assert.equal(failed.FailureMessage, `Network ${isolated.vpcId} has no Internet gateway attached`);
    assert.equal((await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [isolated.vpcId] }] }))).NetworkInterfaces!.length, 0);
    // The address was not taken.
    assert.equal((await ec2.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] }))).Addresses![0].AssociationId, undefined);
    // A failed gateway is deleted at once.
    await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: noIgw.NatGatewayId }));
    assert.equal((await describeNat(noIgw.NatGatewayId!)).State, 'deleted');

    const net = await network();
    const eni = await createEni(ec2, { SubnetId: net.subnets.public.SubnetId });
    await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
    const taken = await describeNat((await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.public.SubnetId, AllocationId: eip.AllocationId }))).NatGateway!.NatGatewayId!);
    assert.equal(taken.State, 'failed');
    assert.equal(taken.FailureCode, 'Resource.AlreadyAssociated');
    assert.equal(taken.FailureMessage, `Elastic IP address [${eip.AllocationId}] is already associated`);

    const tiny = await createNetwork(ec2, `10.${block++}.0.0/16`, { full: { cidr: `10.${block - 1}.0.0/28`, zone: 'us-east-1b' } });
    await createGateway(ec2, tiny.vpcId);
    for (let i = 0; i < 11; i++) await createEni(ec2, { SubnetId: tiny.subnets.full.SubnetId });
    const spare = await allocate();
    const full = await describeNat((await ec2.send(new CreateNatGatewayCommand({ SubnetId: tiny.subnets.full.SubnetId, AllocationId: spare.AllocationId }))).NatGateway!.NatGatewayId!);
    assert.equal(full.State, 'failed');
    assert.equal(full.FailureCode, 'InsufficientFreeAddressesInSubnet');
    assert.equal(full.FailureMessage, 'Subnet has insufficient free addresses to create this NAT gateway');
  });

  test('what CreateNatGateway refuses outright', async () => {
    const net = await network();
    const eip = await allocate();
    const subnet = net.subnets.public.SubnetId;
    await expectEc2Error(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnet })), 'MissingParameter');
    await expectEc2Error(ec2.send(new CreateNatGatewayCommand({ SubnetId: 'subnet-12345678', AllocationId: eip.AllocationId })), 'InvalidSubnetID.NotFound');
    await expectEc2Error(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnet, AllocationId: 'eipalloc-12345678' })), 'InvalidAllocationID.NotFound');
    await expectEc2Error(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnet, AllocationId: 'foo' })), 'InvalidAllocationID.Malformed');
    await expectEc2Error(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnet, ConnectivityType: 'private', AllocationId: eip.AllocationId })), 'InvalidParameterCombination');
    await expectEc2Error(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnet, AllocationId: eip.AllocationId, SecondaryPrivateIpAddressCount: 2 })), 'InvalidParameterCombination');
    await expectEc2Error(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnet, AllocationId: eip.AllocationId, TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'a', Value: 'b' }] }] })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: ['nat-12345678901234567'] })), 'NatGatewayNotFound');
    await expectEc2Error(ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: 'nat-12345678901234567' })), 'NatGatewayNotFound');
    await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: net.privateTable, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-12345678901234567' })), 'InvalidNatGatewayID.NotFound');
    assert.equal((await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [net.vpcId] }] }))).NatGateways!.length, 0);
  });

  test('a private NAT gateway takes its addresses from the subnet, has no Elastic IP, and translates traffic to other networks only', async () => {
    const net = await network();
    const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.public.SubnetId, ConnectivityType: 'private', SecondaryPrivateIpAddressCount: 2, PrivateIpAddress: `10.${net.n}.1.50` }))).NatGateway!;
    const described = await describeNat(nat.NatGatewayId!);
    assert.equal(described.ConnectivityType, 'private');
    assert.equal(described.NatGatewayAddresses!.length, 3);
    assert.equal(described.NatGatewayAddresses![0].PrivateIp, `10.${net.n}.1.50`);
    assert.equal(described.NatGatewayAddresses![0].IsPrimary, true);
    for (const a of described.NatGatewayAddresses!) {
      assert.equal(a.AllocationId, undefined);
      assert.ok(inIpv4Cidr(a.PrivateIp!, net.subnets.public.CidrBlock!));
    }
    // To an instance of the VPC routed through the gateway (a middle subnet): the destination sees the gateway's address.
    const target = await launch(ec2, { SubnetId: net.subnets.public.SubnetId });
    const instance = await launch(ec2, { SubnetId: net.subnets.private.SubnetId });
    await ec2.send(new CreateRouteCommand({ RouteTableId: net.privateTable, DestinationCidrBlock: '192.168.0.0/16', NatGatewayId: nat.NatGatewayId }));
    // The internet is not a private gateway's to reach.
    await ec2.send(new CreateRouteCommand({ RouteTableId: net.privateTable, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat.NatGatewayId }));
    const out = assertDropped(await probe(server.url, { from: instance.InstanceId!, to: '203.0.113.10', port: 443 }), 'no-route');
    assert.equal(out.hops.at(-1)!.component, 'nat-gateway');
    // Another network behind an appliance of the gateway's subnet.
    // The gateway has no group to reference: the appliance admits the VPC's addresses.
    const open = await createGroup(ec2, net.vpcId, 'from-vpc');
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: open, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: `10.${net.n}.0.0/16` }] }] }));
    const appliance = await createEni(ec2, { SubnetId: net.subnets.public.SubnetId, Groups: [open] });
    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: appliance.NetworkInterfaceId, SourceDestCheck: { Value: false } }));
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: appliance.NetworkInterfaceId, InstanceId: target.InstanceId, DeviceIndex: 1 }));
    const main = await mainRouteTableOf(ec2, net.vpcId);
    await ec2.send(new CreateRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: '192.168.0.0/16', NetworkInterfaceId: appliance.NetworkInterfaceId }));
    const toOther = assertDelivered(await probe(server.url, { from: instance.InstanceId!, to: '192.168.7.7', port: 443 }));
    assert.equal(toOther.destination?.kind, 'appliance');
    assert.equal(toOther.source.natAddress, `10.${net.n}.1.50`);
    assert.equal(toOther.source.publicAddress, undefined);
    await ec2.send(new ReplaceRouteCommand({ RouteTableId: net.privateTable, DestinationCidrBlock: '192.168.0.0/16', GatewayId: net.igw }));
    assert.equal(routeTo(await describeRouteTable(ec2, net.privateTable), '192.168.0.0/16')!.NatGatewayId, undefined);
  });

  test('secondary Elastic IPs pair with secondary private addresses', async () => {
    const net = await network();
    const [a, b] = [await allocate(), await allocate()];
    const nat = (
      await ec2.send(
        new CreateNatGatewayCommand({ SubnetId: net.subnets.public.SubnetId, AllocationId: a.AllocationId, SecondaryAllocationIds: [b.AllocationId!], SecondaryPrivateIpAddresses: [`10.${net.n}.1.77`] }),
      )
    ).NatGateway!;
    const described = await describeNat(nat.NatGatewayId!);
    assert.equal(described.NatGatewayAddresses!.length, 2);
    const secondary = described.NatGatewayAddresses!.find((x) => !x.IsPrimary)!;
    assert.equal(secondary.AllocationId, b.AllocationId);
    assert.equal(secondary.PrivateIp, `10.${net.n}.1.77`);
    assert.equal(secondary.PublicIp, b.PublicIp);
    const [addr] = (await ec2.send(new DescribeAddressesCommand({ AllocationIds: [b.AllocationId!] }))).Addresses!;
    assert.equal(addr.PrivateIpAddress, `10.${net.n}.1.77`);
  });


  test('addresses change on an available gateway: private ones assigned and unassigned, Elastic IPs associated and disassociated', async () => {
    const net = await network();
    const [a, b] = [await allocate(), await allocate()];
    const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.public.SubnetId, AllocationId: a.AllocationId }))).NatGateway!;
    const id = nat.NatGatewayId!;
    const eniId = (await describeNat(id)).NatGatewayAddresses![0].NetworkInterfaceId!;
    const free = await freeAddresses(ec2, net.subnets.public.SubnetId!);

    const assigned = await ec2.send(new AssignPrivateNatGatewayAddressCommand({ NatGatewayId: id, PrivateIpAddresses: [`10.${net.n}.1.90`] }));
    assert.equal(assigned.NatGatewayAddresses![0].PrivateIp, `10.${net.n}.1.90`);
    assert.equal(assigned.NatGatewayAddresses![0].Status, 'assigning');
    assert.equal(await freeAddresses(ec2, net.subnets.public.SubnetId!), free - 1);
    assert.ok((await describeEni(ec2, eniId)).PrivateIpAddresses!.some((p) => p.PrivateIpAddress === `10.${net.n}.1.90`));

    const associated = await ec2.send(new AssociateNatGatewayAddressCommand({ NatGatewayId: id, AllocationIds: [b.AllocationId!], PrivateIpAddresses: [`10.${net.n}.1.90`] }));
    const association = associated.NatGatewayAddresses![0].AssociationId!;
    assert.equal(associated.NatGatewayAddresses![0].PublicIp, b.PublicIp);
    const [bRow] = (await ec2.send(new DescribeAddressesCommand({ AllocationIds: [b.AllocationId!] }))).Addresses!;
    assert.equal(bRow.PrivateIpAddress, `10.${net.n}.1.90`);
    assert.equal(bRow.NetworkInterfaceId, eniId);
    // An address holding an Elastic IP cannot be unassigned; the primary association cannot go.
    await expectEc2Error(ec2.send(new UnassignPrivateNatGatewayAddressCommand({ NatGatewayId: id, PrivateIpAddresses: [`10.${net.n}.1.90`] })), 'InvalidParameterValue');
    const primaryAssociation = (await describeNat(id)).NatGatewayAddresses!.find((x) => x.IsPrimary)!.AssociationId;
    await expectEc2Error(ec2.send(new DisassociateNatGatewayAddressCommand({ NatGatewayId: id, AssociationIds: [primaryAssociation!] })), 'InvalidParameterValue');
    // An Elastic IP that is taken is refused.
    await expectEc2Error(ec2.send(new AssociateNatGatewayAddressCommand({ NatGatewayId: id, AllocationIds: [b.AllocationId!] })), 'Resource.AlreadyAssociated');

    await ec2.send(new DisassociateNatGatewayAddressCommand({ NatGatewayId: id, AssociationIds: [association] }));
    assert.equal((await ec2.send(new DescribeAddressesCommand({ AllocationIds: [b.AllocationId!] }))).Addresses![0].AssociationId, undefined);
    const secondary = (await describeNat(id)).NatGatewayAddresses!.find((x) => !x.IsPrimary)!;
    assert.equal(secondary.PrivateIp, `10.${net.n}.1.90`);
    assert.equal(secondary.AllocationId, undefined);
    await ec2.send(new UnassignPrivateNatGatewayAddressCommand({ NatGatewayId: id, PrivateIpAddresses: [`10.${net.n}.1.90`] }));
    assert.equal((await describeNat(id)).NatGatewayAddresses!.length, 1);
    assert.equal(await freeAddresses(ec2, net.subnets.public.SubnetId!), free);
    // Without named addresses, associating assigns a new secondary address.
    const auto = await ec2.send(new AssociateNatGatewayAddressCommand({ NatGatewayId: id, AllocationIds: [b.AllocationId!] }));
    assert.ok(inIpv4Cidr(auto.NatGatewayAddresses![0].PrivateIp!, net.subnets.public.CidrBlock!));
    assert.equal((await describeNat(id)).NatGatewayAddresses!.length, 2);
    await expectEc2Error(ec2.send(new AssignPrivateNatGatewayAddressCommand({ NatGatewayId: 'nat-12345678901234567', PrivateIpAddressCount: 1 })), 'NatGatewayNotFound');
  });
});

describe('NAT gateway quotas and timings', () => {
  test('pagination, and at most 5 live gateways a zone', async () => {
    const server = await startTestServer();
    const ec2 = server.client();
    const net = await createNetwork(ec2, '10.8.0.0/16', { private: { cidr: '10.8.2.0/24', zone: 'us-east-1a' } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.private.SubnetId, ConnectivityType: 'private' }))).NatGateway!.NatGatewayId!);
    }
    await expectEc2Error(ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.private.SubnetId, ConnectivityType: 'private' })), 'NatGatewayLimitExceeded');
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'subnet-id', Values: [net.subnets.private.SubnetId!] }], MaxResults: 5, NextToken: token }));
      seen.push(...page.NatGateways!.map((g) => g.NatGatewayId!));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(seen.sort(), ids.sort());
    await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: ids[0] }));
    // A deleted gateway no longer counts.
    await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.private.SubnetId, ConnectivityType: 'private' }));
    await server.stop();
  });

  test('with natGatewayPendingMs and natGatewayDeletingMs the gateway is seen pending and deleting', async () => {
    // Long enough that the Describes right after each call see the transition on a loaded CI machine;
    // the end state is polled for rather than slept for.
    const server = await startTestServer({ timings: { natGatewayPendingMs: 1500, natGatewayDeletingMs: 1500 } });
    try {
      const ec2 = server.client();
      const net = await createNetwork(ec2, '10.9.0.0/16', { a: { cidr: '10.9.1.0/24', zone: 'us-east-1a' } });
      const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: net.subnets.a.SubnetId, ConnectivityType: 'private' }))).NatGateway!;
      const state = async () => (await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [nat.NatGatewayId!] }))).NatGateways![0];
      const settled = async (to: string) => pollUntil(async () => (await state()).State, (s) => s === to, { timeoutMs: 6500 });
      assert.equal(nat.State, 'pending');
      assert.equal((await state()).NatGatewayAddresses![0].Status, 'assigning');
      assert.deepEqual(await settled('available'), ['pending', 'available']);
      assert.equal((await state()).NatGatewayAddresses![0].Status, 'succeeded');
      await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: nat.NatGatewayId }));
      assert.equal((await state()).NatGatewayAddresses![0].Status, 'unassigning');
      assert.deepEqual(await settled('deleted'), ['deleting', 'deleted']);
    } finally {
      await server.stop();
    }
  });
});
