/**
 * VPC endpoints through the SDK: the AWS services of the region, Interface endpoints with one
 * requester-managed interface per subnet carrying the endpoint's groups, Gateway endpoints with
 * their prefix-list routes, ModifyVpcEndpoint, DeleteVpcEndpoints, and the data plane delivering
 * to an endpoint's interface under its groups.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteTableCommand,
  CreateVpcEndpointCommand,
  DeleteNetworkInterfaceCommand,
  DeleteRouteTableCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DeleteVpcEndpointsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeVpcEndpointServicesCommand,
  DescribeVpcEndpointsCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ModifyVpcAttributeCommand,
  ModifyVpcEndpointCommand,
  type EC2Client,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createGroup, createNetwork, describeEni, freeAddresses, launch, type Network } from '../helpers/topology.ts';
import { inIpv4Cidr } from '../helpers/addressing.ts';
import { assertDelivered, assertDropped, describeRouteTable, mainRouteTableOf, probe } from '../helpers/dataplane.ts';

const REGION = 'us-east-1';

describe('VPC endpoints', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let block = 60;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 100 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  /** VPC 10.N.0.0/16 with DNS hostnames on, subnets a (us-east-1a), b (us-east-1b), a2 (us-east-1a). */
  async function network(): Promise<Network & { n: number }> {
    const n = block++;
    const net = await createNetwork(ec2, `10.${n}.0.0/16`, {
      a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' },
      b: { cidr: `10.${n}.2.0/24`, zone: 'us-east-1b' },
      a2: { cidr: `10.${n}.3.0/24`, zone: 'us-east-1a' },
    });
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: net.vpcId, EnableDnsHostnames: { Value: true } }));
    return { ...net, n };
  }
  const describeEndpoint = async (id: string): Promise<VpcEndpoint> => (await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] }))).VpcEndpoints![0];

  test('DescribeVpcEndpointServices lists the AWS services of the region; unknown names are InvalidServiceName', async () => {
    const all = await ec2.send(new DescribeVpcEndpointServicesCommand({}));
    for (const suffix of ['ec2', 's3', 'ssm', 'ssmmessages', 'ec2messages', 'sts', 'logs', 'kms', 'secretsmanager', 'ecr.api', 'ecr.dkr', 'dynamodb', 'sqs', 'sns']) {
      assert.ok(all.ServiceNames!.includes(`com.amazonaws.${REGION}.${suffix}`), suffix);
    }
    const s3 = all.ServiceDetails!.filter((d) => d.ServiceName === `com.amazonaws.${REGION}.s3`);
    assert.deepEqual(s3.map((d) => d.ServiceType![0].ServiceType).sort(), ['Gateway', 'Interface']);
    const ec2Service = all.ServiceDetails!.find((d) => d.ServiceName === `com.amazonaws.${REGION}.ec2`)!;
    assert.equal(ec2Service.Owner, 'amazon');
    assert.equal(ec2Service.PrivateDnsName, `ec2.${REGION}.amazonaws.com`);
    assert.equal(ec2Service.AcceptanceRequired, false);
    assert.deepEqual(ec2Service.AvailabilityZones, ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d', 'us-east-1e', 'us-east-1f']);
    const gateways = await ec2.send(new DescribeVpcEndpointServicesCommand({ Filters: [{ Name: 'service-type', Values: ['Gateway'] }] }));
    assert.deepEqual(gateways.ServiceNames, [`com.amazonaws.${REGION}.dynamodb`, `com.amazonaws.${REGION}.s3`]);
    const named = await ec2.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: [`com.amazonaws.${REGION}.ssm`] }));
    assert.deepEqual(named.ServiceNames, [`com.amazonaws.${REGION}.ssm`]);
    await expectEc2Error(ec2.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: [`com.amazonaws.${REGION}.nothing`] })), 'InvalidServiceName');
    // Other regions have their own names.
    const west = server.client({ region: 'eu-west-1' });
    assert.ok((await west.send(new DescribeVpcEndpointServicesCommand({}))).ServiceNames!.includes('com.amazonaws.eu-west-1.ec2'));
    // Pagination.
    const first = await ec2.send(new DescribeVpcEndpointServicesCommand({ MaxResults: 5 }));
    assert.equal(first.ServiceDetails!.length, 5);
    const second = await ec2.send(new DescribeVpcEndpointServicesCommand({ MaxResults: 5, NextToken: first.NextToken }));
    assert.notEqual(second.ServiceDetails![0].ServiceName, first.ServiceDetails![0].ServiceName);
  });

  test('an Interface endpoint puts one requester-managed interface in each subnet, carrying its groups', async () => {
    const net = await network();
    const group = await createGroup(ec2, net.vpcId, 'endpoints');
    const freeBefore = await freeAddresses(ec2, net.subnets.a.SubnetId!);
    const created = await ec2.send(
      new CreateVpcEndpointCommand({
        VpcId: net.vpcId,
        VpcEndpointType: 'Interface',
        ServiceName: `com.amazonaws.${REGION}.ssm`,
        SubnetIds: [net.subnets.a.SubnetId!, net.subnets.b.SubnetId!],
        SecurityGroupIds: [group],
        TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: [{ Key: 'Name', Value: 'ssm' }] }],
      }),
    );
    const endpoint = created.VpcEndpoint!;
    assert.match(endpoint.VpcEndpointId!, /^vpce-[0-9a-f]{17}$/);
    assert.equal(endpoint.State, 'pending');
    const described = await describeEndpoint(endpoint.VpcEndpointId!);
    assert.equal(described.State, 'available');
    assert.equal(described.VpcEndpointType, 'Interface');
    assert.equal(described.PrivateDnsEnabled, true);
    assert.deepEqual(described.SubnetIds!.sort(), [net.subnets.a.SubnetId, net.subnets.b.SubnetId].sort());
    assert.deepEqual(described.Groups, [{ GroupId: group, GroupName: 'endpoints' }]);
    assert.deepEqual(described.Tags, [{ Key: 'Name', Value: 'ssm' }]);
    assert.equal(described.NetworkInterfaceIds!.length, 2);
    assert.ok(described.DnsEntries!.some((d) => d.DnsName === `ssm.${REGION}.amazonaws.com`));
    assert.match(described.PolicyDocument!, /"Effect":"Allow"/);
    assert.equal(await freeAddresses(ec2, net.subnets.a.SubnetId!), freeBefore - 1);

    const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: described.NetworkInterfaceIds }));
    for (const eni of NetworkInterfaces!) {
      assert.equal(eni.InterfaceType, 'vpc_endpoint');
      assert.equal(eni.RequesterManaged, true);
      assert.equal(eni.RequesterId, '727180483921');
      assert.equal(eni.Description, `VPC Endpoint Interface ${endpoint.VpcEndpointId}`);
      assert.equal(eni.Status, 'in-use');
      assert.deepEqual(eni.Groups, [{ GroupId: group, GroupName: 'endpoints' }]);
      const subnet = eni.SubnetId === net.subnets.a.SubnetId ? net.subnets.a : net.subnets.b;
      assert.ok(inIpv4Cidr(eni.PrivateIpAddress!, subnet.CidrBlock!));
    }
    const found = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'interface-type', Values: ['vpc_endpoint'] }, { Name: 'vpc-id', Values: [net.vpcId] }] }));
    assert.equal(found.NetworkInterfaces!.length, 2);

    // The user may not detach, delete or change them; their subnets and VPC stay.
    const eni = NetworkInterfaces![0];
    await expectEc2Error(ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: eni.Attachment!.AttachmentId })), 'OperationNotPermitted');
    await expectEc2Error(ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId })), 'InvalidNetworkInterface.InUse');
    await expectEc2Error(ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Groups: [net.defaultGroupId] })), 'OperationNotPermitted');
    await expectEc2Error(ec2.send(new DeleteSubnetCommand({ SubnetId: eni.SubnetId })), 'DependencyViolation');
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: net.vpcId })), 'DependencyViolation');

    // Filters.
    const byService = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'service-name', Values: [`com.amazonaws.${REGION}.ssm`] }, { Name: 'vpc-id', Values: [net.vpcId] }] }));
    assert.deepEqual(byService.VpcEndpoints!.map((e) => e.VpcEndpointId), [endpoint.VpcEndpointId]);
    const byTag = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'tag:Name', Values: ['ssm'] }, { Name: 'vpc-endpoint-type', Values: ['Interface'] }, { Name: 'vpc-endpoint-state', Values: ['available'] }] }));
    assert.ok(byTag.VpcEndpoints!.some((e) => e.VpcEndpointId === endpoint.VpcEndpointId));
  });

  test('ModifyVpcEndpoint adds and removes subnets and groups: interfaces come and go, all carry the groups', async () => {
    const net = await network();
    const [g1, g2] = [await createGroup(ec2, net.vpcId, 'g1'), await createGroup(ec2, net.vpcId, 'g2')];
    const endpoint = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, VpcEndpointType: 'Interface', ServiceName: `com.amazonaws.${REGION}.ec2`, SubnetIds: [net.subnets.a.SubnetId!], PrivateDnsEnabled: false }))).VpcEndpoint!;
    // No group given: the VPC's default group.
    assert.deepEqual((await describeEndpoint(endpoint.VpcEndpointId!)).Groups!.map((g) => g.GroupId), [net.defaultGroupId]);
    const firstEni = (await describeEndpoint(endpoint.VpcEndpointId!)).NetworkInterfaceIds![0];

    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: endpoint.VpcEndpointId, AddSubnetIds: [net.subnets.b.SubnetId!], AddSecurityGroupIds: [g1, g2], RemoveSecurityGroupIds: [net.defaultGroupId] }));
    let now = await describeEndpoint(endpoint.VpcEndpointId!);
    assert.equal(now.NetworkInterfaceIds!.length, 2);
    assert.deepEqual(now.Groups!.map((g) => g.GroupId), [g1, g2]);
    for (const id of now.NetworkInterfaceIds!) assert.deepEqual((await describeEni(ec2, id)).Groups!.map((g) => g.GroupId), [g1, g2]);

    // One subnet per zone.
    await expectEc2Error(ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: endpoint.VpcEndpointId, AddSubnetIds: [net.subnets.a2.SubnetId!] })), 'DuplicateSubnetsInSameZone');
    // At least one group.
    await expectEc2Error(ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: endpoint.VpcEndpointId, RemoveSecurityGroupIds: [g1, g2] })), 'InvalidParameter');

    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: endpoint.VpcEndpointId, RemoveSubnetIds: [net.subnets.a.SubnetId!] }));
    now = await describeEndpoint(endpoint.VpcEndpointId!);
    assert.deepEqual(now.SubnetIds, [net.subnets.b.SubnetId]);
    await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [firstEni] })), 'InvalidNetworkInterfaceID.NotFound');
    // The subnet is free to go now.
    await ec2.send(new DeleteSubnetCommand({ SubnetId: net.subnets.a.SubnetId }));
    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: endpoint.VpcEndpointId, PolicyDocument: '{"Statement":[]}' }));
    assert.equal((await describeEndpoint(endpoint.VpcEndpointId!)).PolicyDocument, '{"Statement":[]}');
    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: endpoint.VpcEndpointId, ResetPolicy: true }));
    assert.match((await describeEndpoint(endpoint.VpcEndpointId!)).PolicyDocument!, /"Principal":"\*"/);
  });

  test('a Gateway endpoint (the default type) routes its service prefix list to itself in its route tables', async () => {
    const net = await network();
    const main = await mainRouteTableOf(ec2, net.vpcId);
    const other = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
    const endpoint = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, ServiceName: `com.amazonaws.${REGION}.s3`, RouteTableIds: [main.RouteTableId!] }))).VpcEndpoint!;
    const described = await describeEndpoint(endpoint.VpcEndpointId!);
    assert.equal(described.VpcEndpointType, 'Gateway');
    assert.deepEqual(described.RouteTableIds, [main.RouteTableId]);
    assert.deepEqual(described.NetworkInterfaceIds, []);
    assert.equal(described.PrivateDnsEnabled, false);
    const route = (await describeRouteTable(ec2, main.RouteTableId!)).Routes!.find((r) => r.GatewayId === endpoint.VpcEndpointId)!;
    // The region's AWS-managed list of the service (AWS's own id in us-east-1).
    assert.equal(route.DestinationPrefixListId, 'pl-63a5400a');
    assert.equal(route.DestinationCidrBlock, undefined);
    assert.equal(route.State, 'active');
    assert.equal(route.Origin, 'CreateRoute');
    const byPrefix = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.destination-prefix-list-id', Values: [route.DestinationPrefixListId!] }, { Name: 'vpc-id', Values: [net.vpcId] }] }));
    assert.deepEqual(byPrefix.RouteTables!.map((t) => t.RouteTableId), [main.RouteTableId]);
    // Traffic to the service's addresses leaves through the endpoint, with no public address needed.
    const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const toS3 = assertDelivered(await probe(server.url, { from: instance.InstanceId!, to: '52.216.10.10', port: 443 }));
    assert.ok(toS3.hops.some((h) => h.component === 'vpc-endpoint' && h.resourceId === endpoint.VpcEndpointId));
    assertDropped(await probe(server.url, { from: instance.InstanceId!, to: '203.0.113.10', port: 443 }), 'no-route');
    // The same list in every VPC of the region.
    const dynamo = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, ServiceName: `com.amazonaws.${REGION}.dynamodb`, RouteTableIds: [other] }))).VpcEndpoint!;
    const dynamoRoute = (await describeRouteTable(ec2, other)).Routes!.find((r) => r.GatewayId === dynamo.VpcEndpointId)!;
    assert.notEqual(dynamoRoute.DestinationPrefixListId, route.DestinationPrefixListId);

    await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: endpoint.VpcEndpointId, AddRouteTableIds: [other], RemoveRouteTableIds: [main.RouteTableId!] }));
    assert.equal((await describeRouteTable(ec2, main.RouteTableId!)).Routes!.some((r) => r.GatewayId === endpoint.VpcEndpointId), false);
    assert.equal((await describeRouteTable(ec2, other)).Routes!.some((r) => r.GatewayId === endpoint.VpcEndpointId), true);
    // A second S3 endpoint cannot route the same list in the same table.
    const second = ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, ServiceName: `com.amazonaws.${REGION}.s3`, RouteTableIds: [other] }));
    await expectEc2Error(second, 'RouteAlreadyExists');
    // Interface-only parameters are refused; so is a service without a Gateway type.
    await expectEc2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, ServiceName: `com.amazonaws.${REGION}.s3`, SubnetIds: [net.subnets.a.SubnetId!] })), 'InvalidParameter');
    await expectEc2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, ServiceName: `com.amazonaws.${REGION}.ec2` })), 'InvalidParameter');

    await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [endpoint.VpcEndpointId!] }));
    assert.equal((await describeRouteTable(ec2, other)).Routes!.some((r) => r.GatewayId === endpoint.VpcEndpointId), false);
    // The table goes, and takes the DynamoDB route along.
    await ec2.send(new DeleteRouteTableCommand({ RouteTableId: other }));
    assert.deepEqual((await describeEndpoint(dynamo.VpcEndpointId!)).RouteTableIds, []);
  });

  test('what CreateVpcEndpoint and DeleteVpcEndpoints refuse, in AWS\'s words', async () => {
    const net = await network();
    await expectEc2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.nothing' })), 'InvalidServiceName');
    await expectEc2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, VpcEndpointType: 'Interface' })), 'MissingParameter');
    await expectEc2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: 'vpc-12345678', VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ec2' })), 'InvalidVpcID.NotFound');
    await expectEc2Error(
      ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ec2', SubnetIds: [net.subnets.a.SubnetId!, net.subnets.a2.SubnetId!], PrivateDnsEnabled: false })),
      'DuplicateSubnetsInSameZone',
    );
    await expectEc2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ec2', SecurityGroupIds: ['sg-12345678'], PrivateDnsEnabled: false })), 'InvalidGroup.NotFound');
    // Private DNS (the default) needs the VPC's DNS hostnames.
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: net.vpcId, EnableDnsHostnames: { Value: false } }));
    const dns = await expectEc2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ec2' })), 'InvalidParameter');
    assert.match(dns.message, /enableDnsHostnames/);
    // Nothing was left behind.
    assert.equal((await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }))).VpcEndpoints!.length, 0);
    assert.equal((await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }))).NetworkInterfaces!.length, 0);

    await expectEc2Error(ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: ['vpce-12345678901234567'] })), 'InvalidVpcEndpointId.NotFound');
    await expectEc2Error(ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: ['vpc-1234'] })), 'InvalidVpcEndpointId.Malformed');
    await expectEc2Error(ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: 'vpce-12345678901234567', ResetPolicy: true })), 'InvalidVpcEndpointId.NotFound');
    const result = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: ['vpce-12345678901234567', 'nonsense'] }));
    assert.deepEqual(result.Unsuccessful!.map((u) => [u.ResourceId, u.Error?.Code]), [
      ['vpce-12345678901234567', 'InvalidVpcEndpoint.NotFound'],
      ['nonsense', 'InvalidVpcEndpointId.Malformed'],
    ]);
  });

  test('deleting an Interface endpoint deletes its interfaces and frees their addresses; then the VPC can go', async () => {
    const net = await network();
    const endpoint = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, VpcEndpointType: 'Interface', ServiceName: `com.amazonaws.${REGION}.sts`, SubnetIds: [net.subnets.a.SubnetId!, net.subnets.b.SubnetId!] }))).VpcEndpoint!;
    const enis = (await describeEndpoint(endpoint.VpcEndpointId!)).NetworkInterfaceIds!;
    const free = await freeAddresses(ec2, net.subnets.a.SubnetId!);
    const result = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [endpoint.VpcEndpointId!] }));
    assert.deepEqual(result.Unsuccessful, []);
    await expectEc2Error(ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [endpoint.VpcEndpointId!] })), 'InvalidVpcEndpointId.NotFound');
    for (const id of enis) await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] })), 'InvalidNetworkInterfaceID.NotFound');
    assert.equal(await freeAddresses(ec2, net.subnets.a.SubnetId!), free + 1);
    for (const s of Object.values(net.subnets)) await ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
    await ec2.send(new DeleteVpcCommand({ VpcId: net.vpcId }));
  });

  test("the data plane delivers to an endpoint's interface address as to any interface, under the endpoint's groups", async () => {
    const net = await network();
    const group = await createGroup(ec2, net.vpcId, 'https-from-vpc');
    const endpoint = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: net.vpcId, VpcEndpointType: 'Interface', ServiceName: `com.amazonaws.${REGION}.ssm`, SubnetIds: [net.subnets.b.SubnetId!], SecurityGroupIds: [group] }))).VpcEndpoint!;
    const eni = await describeEni(ec2, (await describeEndpoint(endpoint.VpcEndpointId!)).NetworkInterfaceIds![0]);
    const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    // The group admits nothing yet.
    assertDropped(await probe(server.url, { from: instance.InstanceId!, to: eni.PrivateIpAddress!, port: 443 }), 'sg-ingress-denied');
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: `10.${net.n}.0.0/16` }] }] }));
    const result = assertDelivered(await probe(server.url, { from: instance.InstanceId!, to: eni.PrivateIpAddress!, port: 443 }));
    assert.equal(result.destination?.kind, 'vpc-endpoint');
    assert.equal(result.destination?.vpcEndpointId, endpoint.VpcEndpointId);
    assert.equal(result.destination?.networkInterfaceId, eni.NetworkInterfaceId);
    assert.equal(result.hops.at(-1)!.component, 'vpc-endpoint');
    assertDropped(await probe(server.url, { from: instance.InstanceId!, to: eni.PrivateIpAddress!, port: 22 }), 'sg-ingress-denied');
  });
});
