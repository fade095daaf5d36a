/**
 * Route tables end to end through the SDK: every VPC's main table and its local routes (also for
 * secondary blocks), CreateRouteTable, routes to internet gateways, interfaces and instances
 * (with their blackhole state), Replace/DeleteRoute, associations (explicit and main), deleting
 * tables, the describe filters, and what DeleteVpc says about an extra table — and, through the
 * data plane, that a subnet really uses the table it is associated with.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AssociateRouteTableCommand,
  AssociateVpcCidrBlockCommand,
  AttachNetworkInterfaceCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  DeleteRouteCommand,
  DeleteRouteTableCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DetachNetworkInterfaceCommand,
  DisassociateRouteTableCommand,
  DisassociateVpcCidrBlockCommand,
  ReplaceRouteCommand,
  ReplaceRouteTableAssociationCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createNetwork, launch, pollUntil, type Network } from '../helpers/topology.ts';
import { createGateway } from '../helpers/addressing.ts';
import { assertDelivered, assertDropped, describeRouteTable, mainRouteTableOf, probe, routeTableIds, routeTo } from '../helpers/dataplane.ts';

const ACCOUNT = '000000000000';
const ROUTE_TABLE_ID = /^rtb-[0-9a-f]{17}$/;
const ASSOCIATION_ID = /^rtbassoc-[0-9a-f]{17}$/;

const primaryEniOf = (i: Instance) => i.NetworkInterfaces!.find((n) => n.Attachment?.DeviceIndex === 0)!.NetworkInterfaceId!;

describe('route tables', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let block = 10;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 100, internetGatewaysPerRegion: 50, elasticIpsPerRegion: 20 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  async function network(): Promise<Network & { n: number; cidr: string }> {
    const n = block++;
    const cidr = `10.${n}.0.0/16`;
    const net = await createNetwork(ec2, cidr, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' }, b: { cidr: `10.${n}.2.0/24`, zone: 'us-east-1a' } });
    return { ...net, n, cidr };
  }
  const newTable = async (vpcId: string) => (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
  const subnetOf = (net: Network, name: 'a' | 'b') => net.subnets[name].SubnetId!;

  describe('the main route table', () => {
    test('every new VPC has one main table with the local route of its block, associated as Main', async () => {
      const net = await network();
      const { RouteTables } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }));
      assert.equal(RouteTables!.length, 1);
      const [main] = RouteTables!;
      assert.match(main.RouteTableId!, ROUTE_TABLE_ID);
      assert.equal(main.VpcId, net.vpcId);
      assert.equal(main.OwnerId, ACCOUNT);
      assert.deepEqual(
        main.Routes!.map((r) => ({ DestinationCidrBlock: r.DestinationCidrBlock, GatewayId: r.GatewayId, Origin: r.Origin, State: r.State })),
        [{ DestinationCidrBlock: net.cidr, GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' }],
      );
      assert.equal(main.Associations!.length, 1, 'the subnets are associated implicitly: only the main association is listed');
      const [association] = main.Associations!;
      assert.equal(association.Main, true);
      assert.match(association.RouteTableAssociationId!, ASSOCIATION_ID);
      assert.equal(association.RouteTableId, main.RouteTableId);
      assert.equal(association.SubnetId, undefined);
      assert.equal(association.AssociationState?.State, 'associated');
    });

    test('the default VPC\'s main table sends 0.0.0.0/0 to the default VPC\'s internet gateway', async () => {
      const { Vpcs } = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
      assert.equal(Vpcs!.length, 1);
      const vpcId = Vpcs![0].VpcId!;
      const { InternetGateways } = await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }));
      assert.equal(InternetGateways!.length, 1);
      const main = await mainRouteTableOf(ec2, vpcId);
      const local = routeTo(main, '172.31.0.0/16');
      assert.equal(local?.GatewayId, 'local');
      const internet = routeTo(main, '0.0.0.0/0');
      assert.equal(internet?.GatewayId, InternetGateways![0].InternetGatewayId);
      assert.equal(internet?.State, 'active');
    });

    test('a secondary IPv4 block and an IPv6 block add their local routes to every table of the VPC; removing the block removes its route', async () => {
      const net = await network();
      const custom = await newTable(net.vpcId);
      const secondary = `10.${net.n + 100}.0.0/16`;
      const added = await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: net.vpcId, CidrBlock: secondary }));
      const v6 = await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: net.vpcId, AmazonProvidedIpv6CidrBlock: true }));
      const v6Block = v6.Ipv6CidrBlockAssociation!.Ipv6CidrBlock!;
      const main = await mainRouteTableOf(ec2, net.vpcId);
      for (const table of [main, await describeRouteTable(ec2, custom)]) {
        for (const destination of [net.cidr, secondary]) {
          const route = routeTo(table, destination);
          assert.deepEqual({ GatewayId: route?.GatewayId, Origin: route?.Origin, State: route?.State }, { GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' }, `${table.RouteTableId} → ${destination}`);
        }
        const local6 = table.Routes!.find((r) => r.DestinationIpv6CidrBlock === v6Block);
        assert.equal(local6?.GatewayId, 'local', `${table.RouteTableId} has the IPv6 local route`);
      }
      // A table made after the block was added has its local route too.
      assert.equal(routeTo(await describeRouteTable(ec2, await newTable(net.vpcId)), secondary)?.GatewayId, 'local');

      await ec2.send(new DisassociateVpcCidrBlockCommand({ AssociationId: added.CidrBlockAssociation!.AssociationId }));
      await pollUntil(
        async () => routeTo(await mainRouteTableOf(ec2, net.vpcId), secondary),
        (route) => route === undefined,
      );
    });
  });

  describe('CreateRouteTable and DeleteRouteTable', () => {
    test('CreateRouteTable returns a table with only the local route and no association; tags apply', async () => {
      const net = await network();
      const { RouteTable } = await ec2.send(
        new CreateRouteTableCommand({ VpcId: net.vpcId, TagSpecifications: [{ ResourceType: 'route-table', Tags: [{ Key: 'Name', Value: 'private' }] }] }),
      );
      assert.match(RouteTable!.RouteTableId!, ROUTE_TABLE_ID);
      assert.equal(RouteTable!.VpcId, net.vpcId);
      assert.deepEqual(RouteTable!.Associations, []);
      assert.deepEqual(RouteTable!.Routes!.map((r) => [r.DestinationCidrBlock, r.GatewayId, r.Origin, r.State]), [[net.cidr, 'local', 'CreateRouteTable', 'active']]);
      assert.deepEqual(RouteTable!.Tags, [{ Key: 'Name', Value: 'private' }]);
      assert.deepEqual(await routeTableIds(ec2, [{ Name: 'vpc-id', Values: [net.vpcId] }]), [RouteTable!.RouteTableId!, (await mainRouteTableOf(ec2, net.vpcId)).RouteTableId!].sort());
      await expectEc2Error(ec2.send(new CreateRouteTableCommand({ VpcId: 'vpc-0123456789abcdef0' })), 'InvalidVpcID.NotFound');
      await expectEc2Error(ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId, DryRun: true })), 'DryRunOperation');
      assert.equal((await routeTableIds(ec2, [{ Name: 'vpc-id', Values: [net.vpcId] }])).length, 2, 'the dry run made nothing');
    });

    test('DeleteRouteTable: the main table and an associated table are DependencyViolation; an unassociated table goes', async () => {
      const net = await network();
      const main = await mainRouteTableOf(ec2, net.vpcId);
      await expectEc2Error(ec2.send(new DeleteRouteTableCommand({ RouteTableId: main.RouteTableId })), 'DependencyViolation');
      const associated = await newTable(net.vpcId);
      const { AssociationId } = await ec2.send(new AssociateRouteTableCommand({ RouteTableId: associated, SubnetId: subnetOf(net, 'a') }));
      await expectEc2Error(ec2.send(new DeleteRouteTableCommand({ RouteTableId: associated })), 'DependencyViolation');
      assert.ok(await describeRouteTable(ec2, associated), 'the refused delete left the table');
      await ec2.send(new DisassociateRouteTableCommand({ AssociationId }));
      await ec2.send(new DeleteRouteTableCommand({ RouteTableId: associated }));
      await expectEc2Error(ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [associated] })), 'InvalidRouteTableID.NotFound');
      await expectEc2Error(ec2.send(new DeleteRouteTableCommand({ RouteTableId: associated })), 'InvalidRouteTableID.NotFound');
    });

    test('a malformed route table id is InvalidRouteTableId.Malformed (AWS\'s casing: lower-case "d", unlike InvalidRouteTableID.NotFound)', async () => {
      for (const call of [
        () => ec2.send(new DeleteRouteTableCommand({ RouteTableId: 'rtb-nope' })),
        () => ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: ['rtb-nope'] })),
        () => ec2.send(new CreateRouteCommand({ RouteTableId: 'rtb-nope', DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-0123456789abcdef0' })),
      ]) {
        await expectEc2Error(call(), 'InvalidRouteTableId.Malformed');
      }
    });

    test('DeleteVpc with an extra route table is DependencyViolation; without it, the VPC goes with its main table', async () => {
      const net = await network();
      const main = await mainRouteTableOf(ec2, net.vpcId);
      const extra = await newTable(net.vpcId);
      for (const name of ['a', 'b'] as const) await ec2.send(new DeleteSubnetCommand({ SubnetId: subnetOf(net, name) }));
      await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: net.vpcId })), 'DependencyViolation');
      await ec2.send(new DeleteRouteTableCommand({ RouteTableId: extra }));
      await ec2.send(new DeleteVpcCommand({ VpcId: net.vpcId }));
      await expectEc2Error(ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [main.RouteTableId!] })), 'InvalidRouteTableID.NotFound');
    });
  });

  describe('routes', () => {
    test('CreateRoute to the VPC\'s internet gateway; another VPC\'s gateway is InvalidParameterValue; detached, the route is a blackhole', async () => {
      const net = await network();
      const other = await network();
      const igw = await createGateway(ec2, net.vpcId);
      const otherIgw = await createGateway(ec2, other.vpcId);
      const table = await newTable(net.vpcId);
      assert.equal((await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }))).Return, true);
      const route = routeTo(await describeRouteTable(ec2, table), '0.0.0.0/0');
      assert.deepEqual({ GatewayId: route?.GatewayId, Origin: route?.Origin, State: route?.State }, { GatewayId: igw, Origin: 'CreateRoute', State: 'active' });

      await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '192.0.2.0/24', GatewayId: otherIgw })), 'InvalidParameterValue');
      assert.equal(routeTo(await describeRouteTable(ec2, table), '192.0.2.0/24'), undefined);
      await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: 'rtb-0123456789abcdef0', DestinationCidrBlock: '192.0.2.0/24', GatewayId: igw })), 'InvalidRouteTableID.NotFound');

      await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: net.vpcId }));
      assert.equal(routeTo(await describeRouteTable(ec2, table), '0.0.0.0/0')?.State, 'blackhole');
    });

    test('a route to a network interface shows the instance holding it; detached, it is a blackhole without an instance; attached again, active', async () => {
      const net = await network();
      const a = await launch(ec2, { SubnetId: subnetOf(net, 'a') });
      const b = await launch(ec2, { SubnetId: subnetOf(net, 'a') });
      const eni = await createEni(ec2, { SubnetId: subnetOf(net, 'a') });
      const first = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: a.InstanceId, DeviceIndex: 1 }));
      const table = await newTable(net.vpcId);
      await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '192.168.0.0/16', NetworkInterfaceId: eni.NetworkInterfaceId }));
      const read = async () => routeTo(await describeRouteTable(ec2, table), '192.168.0.0/16')!;

      let route = await read();
      assert.deepEqual(
        { NetworkInterfaceId: route.NetworkInterfaceId, InstanceId: route.InstanceId, InstanceOwnerId: route.InstanceOwnerId, State: route.State, Origin: route.Origin },
        { NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: a.InstanceId, InstanceOwnerId: ACCOUNT, State: 'active', Origin: 'CreateRoute' },
      );
      await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: first.AttachmentId }));
      route = (await pollUntil(read, (r) => r.State === 'blackhole')).at(-1)!;
      assert.equal(route.InstanceId, undefined, 'a detached interface belongs to no instance');
      assert.equal(route.NetworkInterfaceId, eni.NetworkInterfaceId);

      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: b.InstanceId, DeviceIndex: 1 }));
      route = (await pollUntil(read, (r) => r.State === 'active')).at(-1)!;
      assert.equal(route.InstanceId, b.InstanceId, 'the route follows the interface to its new instance');
    });

    test('a route to an instance with one interface targets that interface; an instance with two is InvalidInstanceID', async () => {
      const net = await network();
      const single = await launch(ec2, { SubnetId: subnetOf(net, 'a') });
      const table = await newTable(net.vpcId);
      await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '172.16.0.0/12', InstanceId: single.InstanceId }));
      const route = routeTo(await describeRouteTable(ec2, table), '172.16.0.0/12')!;
      assert.equal(route.NetworkInterfaceId, primaryEniOf(single));
      assert.equal(route.InstanceId, single.InstanceId);
      assert.equal(route.State, 'active');

      const dual = await launch(ec2, { SubnetId: subnetOf(net, 'a') });
      const second = await createEni(ec2, { SubnetId: subnetOf(net, 'a') });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: dual.InstanceId, DeviceIndex: 1 }));
      await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '192.168.0.0/16', InstanceId: dual.InstanceId })), 'InvalidInstanceID');
      assert.equal(routeTo(await describeRouteTable(ec2, table), '192.168.0.0/16'), undefined);
      await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '192.168.0.0/16', InstanceId: 'i-0123456789abcdef0' })), 'InvalidInstanceID.NotFound');
    });

    test('a second route to the same destination is RouteAlreadyExists, whatever its target', async () => {
      const net = await network();
      const igw = await createGateway(ec2, net.vpcId);
      const eni = await createEni(ec2, { SubnetId: subnetOf(net, 'a') });
      const table = await newTable(net.vpcId);
      await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
      await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw })), 'RouteAlreadyExists');
      await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', NetworkInterfaceId: eni.NetworkInterfaceId })), 'RouteAlreadyExists');
      assert.equal(routeTo(await describeRouteTable(ec2, table), '0.0.0.0/0')?.GatewayId, igw, 'the first route stands');
    });

    test('ReplaceRoute changes a route\'s target; DeleteRoute removes it; an unknown destination is InvalidRoute.NotFound for both', async () => {
      const net = await network();
      const igw = await createGateway(ec2, net.vpcId);
      const eni = await createEni(ec2, { SubnetId: subnetOf(net, 'a') });
      const table = await newTable(net.vpcId);
      await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
      await ec2.send(new ReplaceRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', NetworkInterfaceId: eni.NetworkInterfaceId }));
      const replaced = routeTo(await describeRouteTable(ec2, table), '0.0.0.0/0')!;
      assert.equal(replaced.GatewayId, undefined);
      assert.equal(replaced.NetworkInterfaceId, eni.NetworkInterfaceId);
      assert.equal(replaced.State, 'blackhole', 'the interface is attached to nothing');

      await expectEc2Error(ec2.send(new ReplaceRouteCommand({ RouteTableId: table, DestinationCidrBlock: '192.0.2.0/24', GatewayId: igw })), 'InvalidRoute.NotFound');
      await expectEc2Error(ec2.send(new DeleteRouteCommand({ RouteTableId: table, DestinationCidrBlock: '192.0.2.0/24' })), 'InvalidRoute.NotFound');
      await ec2.send(new DeleteRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0' }));
      assert.equal(routeTo(await describeRouteTable(ec2, table), '0.0.0.0/0'), undefined);
      await expectEc2Error(ec2.send(new DeleteRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0' })), 'InvalidRoute.NotFound');
    });

    test('the local route cannot be deleted: InvalidParameterValue, and the route stays', async () => {
      const net = await network();
      const main = await mainRouteTableOf(ec2, net.vpcId);
      await expectEc2Error(ec2.send(new DeleteRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: net.cidr })), 'InvalidParameterValue');
      assert.equal(routeTo(await mainRouteTableOf(ec2, net.vpcId), net.cidr)?.GatewayId, 'local');
    });

    test('the refusal to delete the local route says AWS\'s "cannot remove local route …" (Terraform recognises it by that text)', async () => {
      const net = await network();
      const main = await mainRouteTableOf(ec2, net.vpcId);
      const error = await expectEc2Error(ec2.send(new DeleteRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: net.cidr })), 'InvalidParameterValue');
      assert.match(error.message, new RegExp(`cannot remove local route ${net.cidr.replace(/[./]/g, '\\$&')} in route table ${main.RouteTableId}`));
    });

    test('the local route\'s target can be replaced with a network interface and restored with LocalTarget (AWS: "Replace or restore the target for a local route")', async () => {
      const net = await network();
      const main = await mainRouteTableOf(ec2, net.vpcId);
      const appliance = await launch(ec2, { SubnetId: subnetOf(net, 'b') });
      await ec2.send(new ReplaceRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: net.cidr, NetworkInterfaceId: primaryEniOf(appliance) }));
      assert.equal(routeTo(await mainRouteTableOf(ec2, net.vpcId), net.cidr)?.NetworkInterfaceId, primaryEniOf(appliance));
      await ec2.send(new ReplaceRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: net.cidr, LocalTarget: true }));
      assert.equal(routeTo(await mainRouteTableOf(ec2, net.vpcId), net.cidr)?.GatewayId, 'local');
    });
  });

  describe('associations', () => {
    test('AssociateRouteTable: a subnet of the VPC is associated (and then uses the table); another VPC\'s subnet is InvalidParameterValue; a second explicit association is Resource.AlreadyAssociated', async () => {
      const net = await network();
      const other = await network();
      const table = await newTable(net.vpcId);
      const result = await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnetOf(net, 'a') }));
      assert.match(result.AssociationId!, ASSOCIATION_ID);
      assert.equal(result.AssociationState?.State, 'associated');
      const described = await describeRouteTable(ec2, table);
      assert.deepEqual(
        described.Associations!.map((a) => ({ RouteTableAssociationId: a.RouteTableAssociationId, RouteTableId: a.RouteTableId, SubnetId: a.SubnetId, Main: a.Main, State: a.AssociationState?.State })),
        [{ RouteTableAssociationId: result.AssociationId, RouteTableId: table, SubnetId: subnetOf(net, 'a'), Main: false, State: 'associated' }],
      );

      await expectEc2Error(ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnetOf(other, 'a') })), 'InvalidParameterValue');
      const second = await newTable(net.vpcId);
      await expectEc2Error(ec2.send(new AssociateRouteTableCommand({ RouteTableId: second, SubnetId: subnetOf(net, 'a') })), 'Resource.AlreadyAssociated');
      assert.deepEqual((await describeRouteTable(ec2, second)).Associations, []);
      await expectEc2Error(ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: 'subnet-0123456789abcdef0' })), 'InvalidSubnetID.NotFound');
    });

    test('DisassociateRouteTable returns the subnet to the main table; the main association cannot be disassociated (InvalidParameterValue)', async () => {
      const net = await network();
      const main = await mainRouteTableOf(ec2, net.vpcId);
      const table = await newTable(net.vpcId);
      const { AssociationId } = await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnetOf(net, 'a') }));
      await ec2.send(new DisassociateRouteTableCommand({ AssociationId }));
      assert.deepEqual((await describeRouteTable(ec2, table)).Associations, []);
      assert.deepEqual(await routeTableIds(ec2, [{ Name: 'association.subnet-id', Values: [subnetOf(net, 'a')] }]), []);
      await expectEc2Error(ec2.send(new DisassociateRouteTableCommand({ AssociationId })), 'InvalidAssociationID.NotFound');

      const error = await expectEc2Error(ec2.send(new DisassociateRouteTableCommand({ AssociationId: main.Associations![0].RouteTableAssociationId })), 'InvalidParameterValue');
      assert.match(error.message, /main route table association/);
      assert.equal((await mainRouteTableOf(ec2, net.vpcId)).RouteTableId, main.RouteTableId);
    });

    test('ReplaceRouteTableAssociation moves a subnet to another table with a new association id', async () => {
      const net = await network();
      const first = await newTable(net.vpcId);
      const second = await newTable(net.vpcId);
      const { AssociationId } = await ec2.send(new AssociateRouteTableCommand({ RouteTableId: first, SubnetId: subnetOf(net, 'a') }));
      const replaced = await ec2.send(new ReplaceRouteTableAssociationCommand({ AssociationId, RouteTableId: second }));
      assert.match(replaced.NewAssociationId!, ASSOCIATION_ID);
      assert.notEqual(replaced.NewAssociationId, AssociationId);
      assert.equal(replaced.AssociationState?.State, 'associated');
      assert.deepEqual((await describeRouteTable(ec2, first)).Associations, []);
      assert.deepEqual((await describeRouteTable(ec2, second)).Associations!.map((a) => [a.RouteTableAssociationId, a.SubnetId, a.Main]), [[replaced.NewAssociationId, subnetOf(net, 'a'), false]]);
      await expectEc2Error(ec2.send(new ReplaceRouteTableAssociationCommand({ AssociationId, RouteTableId: first })), 'InvalidAssociationID.NotFound');
    });

    test('ReplaceRouteTableAssociation of the main association makes the new table the main table — and subnets without an explicit table route by it', async () => {
      const net = await network();
      const igw = await createGateway(ec2, net.vpcId);
      const oldMain = await mainRouteTableOf(ec2, net.vpcId);
      const a = await launch(ec2, { SubnetId: subnetOf(net, 'a') });
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: a.InstanceId }));
      assertDropped(await probe(server.url, { from: a.InstanceId!, to: '8.8.8.8', port: 443 }), 'no-route', 'the original main table has no default route:');

      const publicTable = await newTable(net.vpcId);
      await ec2.send(new CreateRouteCommand({ RouteTableId: publicTable, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
      const replaced = await ec2.send(new ReplaceRouteTableAssociationCommand({ AssociationId: oldMain.Associations![0].RouteTableAssociationId, RouteTableId: publicTable }));
      const main = await mainRouteTableOf(ec2, net.vpcId);
      assert.equal(main.RouteTableId, publicTable);
      assert.deepEqual(main.Associations!.map((x) => [x.RouteTableAssociationId, x.Main, x.SubnetId]), [[replaced.NewAssociationId, true, undefined]]);
      assert.deepEqual((await describeRouteTable(ec2, oldMain.RouteTableId!)).Associations, []);
      assertDelivered(await probe(server.url, { from: a.InstanceId!, to: '8.8.8.8', port: 443 }), 'the new main table routes the subnet:');
      // The former main table is an ordinary table now: it can be deleted.
      await ec2.send(new DeleteRouteTableCommand({ RouteTableId: oldMain.RouteTableId }));
    });

    test('an explicitly associated table decides the subnet\'s routes, over the main table', async () => {
      const net = await network();
      const igw = await createGateway(ec2, net.vpcId);
      const main = await mainRouteTableOf(ec2, net.vpcId);
      await ec2.send(new CreateRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
      const a = await launch(ec2, { SubnetId: subnetOf(net, 'a') });
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: a.InstanceId }));
      assertDelivered(await probe(server.url, { from: a.InstanceId!, to: '8.8.8.8', port: 443 }));
      const isolated = await newTable(net.vpcId);
      const { AssociationId } = await ec2.send(new AssociateRouteTableCommand({ RouteTableId: isolated, SubnetId: subnetOf(net, 'a') }));
      assertDropped(await probe(server.url, { from: a.InstanceId!, to: '8.8.8.8', port: 443 }), 'no-route');
      await ec2.send(new DisassociateRouteTableCommand({ AssociationId }));
      assertDelivered(await probe(server.url, { from: a.InstanceId!, to: '8.8.8.8', port: 443 }));
    });
  });

  test('DescribeRouteTables filters: vpc-id, association.subnet-id, association.main, route.destination-cidr-block, route.gateway-id, route.network-interface-id, route.instance-id, tag', async () => {
    const net = await network();
    const igw = await createGateway(ec2, net.vpcId);
    const main = (await mainRouteTableOf(ec2, net.vpcId)).RouteTableId!;
    const instance = await launch(ec2, { SubnetId: subnetOf(net, 'b') });
    const eniTable = (
      await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId, TagSpecifications: [{ ResourceType: 'route-table', Tags: [{ Key: 'tier', Value: 'private' }] }] }))
    ).RouteTable!.RouteTableId!;
    const igwTable = await newTable(net.vpcId);
    await ec2.send(new CreateRouteCommand({ RouteTableId: igwTable, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    await ec2.send(new CreateRouteCommand({ RouteTableId: eniTable, DestinationCidrBlock: '192.168.0.0/16', InstanceId: instance.InstanceId }));
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: igwTable, SubnetId: subnetOf(net, 'a') }));
    const inVpc = { Name: 'vpc-id', Values: [net.vpcId] };

    const cases: [string, { Name: string; Values: string[] }[], string[]][] = [
      ['vpc-id', [inVpc], [main, eniTable, igwTable]],
      ['association.subnet-id', [{ Name: 'association.subnet-id', Values: [subnetOf(net, 'a')] }], [igwTable]],
      ['association.main=true', [inVpc, { Name: 'association.main', Values: ['true'] }], [main]],
      ['association.main=false', [inVpc, { Name: 'association.main', Values: ['false'] }], [igwTable]],
      ['route.destination-cidr-block', [inVpc, { Name: 'route.destination-cidr-block', Values: ['0.0.0.0/0'] }], [igwTable]],
      ['route.destination-cidr-block (local)', [inVpc, { Name: 'route.destination-cidr-block', Values: [net.cidr] }], [main, eniTable, igwTable]],
      ['route.gateway-id', [{ Name: 'route.gateway-id', Values: [igw] }], [igwTable]],
      ['route.network-interface-id', [{ Name: 'route.network-interface-id', Values: [primaryEniOf(instance)] }], [eniTable]],
      ['route.instance-id', [{ Name: 'route.instance-id', Values: [instance.InstanceId!] }], [eniTable]],
      ['tag:tier', [{ Name: 'tag:tier', Values: ['private'] }], [eniTable]],
      ['tag-key', [inVpc, { Name: 'tag-key', Values: ['tier'] }], [eniTable]],
      ['route-table-id', [{ Name: 'route-table-id', Values: [igwTable] }], [igwTable]],
    ];
    for (const [name, filters, expected] of cases) {
      assert.deepEqual(await routeTableIds(ec2, filters), [...expected].sort(), name);
    }
    await expectEc2Error(ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })), 'InvalidParameterValue');
  });
});
