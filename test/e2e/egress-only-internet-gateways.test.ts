/**
 * Egress-only internet gateways end to end: create (ClientToken, tags), describe (ids, tag
 * filters, pagination), delete (ReturnCode), routes to them (IPv6 destinations only; blackholes
 * once the gateway is gone), the VPC they keep from deletion, and the simulated data plane:
 * IPv6 out through the gateway with its answers back, nothing initiated from the internet in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateEgressOnlyInternetGatewayCommand,
  CreateManagedPrefixListCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteEgressOnlyInternetGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeEgressOnlyInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  ReplaceRouteCommand,
  type EC2Client,
  type EgressOnlyInternetGateway,
  type Instance,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createGroup, launch } from '../helpers/topology.ts';
import { createGateway, subnet64 } from '../helpers/addressing.ts';
import { assertDelivered, assertDropped, blockingHop, describeRouteTable, probe, routeTableIds } from '../helpers/dataplane.ts';

const EIGW_ID = /^eigw-[0-9a-f]{17}$/;
const UNKNOWN_EIGW = 'eigw-0123456789abcdef0';
const INTERNET_V6 = '2001:db8:ffff::10';

describe('egress-only internet gateways', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let block = 10;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50, internetGatewaysPerRegion: 50, egressOnlyInternetGatewaysPerRegion: 50 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  const newVpc = async (ipv6 = false) =>
    (await ec2.send(new CreateVpcCommand({ CidrBlock: `10.${block++}.0.0/16`, AmazonProvidedIpv6CidrBlock: ipv6 || undefined }))).Vpc!;
  const createEigw = async (vpcId: string, extra: { ClientToken?: string; Name?: string } = {}) =>
    (
      await ec2.send(
        new CreateEgressOnlyInternetGatewayCommand({
          VpcId: vpcId,
          ClientToken: extra.ClientToken,
          TagSpecifications: extra.Name ? [{ ResourceType: 'egress-only-internet-gateway', Tags: [{ Key: 'Name', Value: extra.Name }] }] : undefined,
        }),
      )
    ).EgressOnlyInternetGateway!;
  const describeEigw = async (id: string): Promise<EgressOnlyInternetGateway> => {
    const { EgressOnlyInternetGateways } = await ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ EgressOnlyInternetGatewayIds: [id] }));
    assert.equal(EgressOnlyInternetGateways!.length, 1);
    return EgressOnlyInternetGateways![0];
  };

  test('CreateEgressOnlyInternetGateway gives an eigw- id attached to its VPC (State attached), with its tags; DescribeEgressOnlyInternetGateways answers the same', async () => {
    const vpc = await newVpc();
    const gateway = await createEigw(vpc.VpcId!, { Name: 'v6-out' });
    assert.match(gateway.EgressOnlyInternetGatewayId!, EIGW_ID);
    assert.deepEqual(gateway.Attachments, [{ State: 'attached', VpcId: vpc.VpcId }]);
    assert.deepEqual(gateway.Tags, [{ Key: 'Name', Value: 'v6-out' }]);
    assert.deepEqual(await describeEigw(gateway.EgressOnlyInternetGatewayId!), gateway);
  });

  test('a ClientToken makes the create idempotent: the same token and parameters give the same gateway, other parameters IdempotentParameterMismatch', async () => {
    const vpc = await newVpc();
    const other = await newVpc();
    const first = await ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpc.VpcId, ClientToken: 'eigw-token-1' }));
    assert.equal(first.ClientToken, 'eigw-token-1');
    const again = await ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpc.VpcId, ClientToken: 'eigw-token-1' }));
    assert.equal(again.EgressOnlyInternetGateway!.EgressOnlyInternetGatewayId, first.EgressOnlyInternetGateway!.EgressOnlyInternetGatewayId);
    const { EgressOnlyInternetGateways } = await ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({}));
    assert.equal(EgressOnlyInternetGateways!.filter((g) => g.Attachments![0].VpcId === vpc.VpcId).length, 1, 'one gateway was made');
    await expectEc2Error(ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: other.VpcId, ClientToken: 'eigw-token-1' })), 'IdempotentParameterMismatch');
  });

  test('refusals: no VpcId is MissingParameter, an unknown VPC InvalidVpcID.NotFound, a malformed one InvalidVpcID.Malformed, another resource type in TagSpecifications InvalidParameterValue', async () => {
    await expectEc2Error(ec2.send(new CreateEgressOnlyInternetGatewayCommand({} as { VpcId: string })), 'MissingParameter');
    await expectEc2Error(ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: 'vpc-0123456789abcdef0' })), 'InvalidVpcID.NotFound');
    await expectEc2Error(ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: 'vpc-nothex' })), 'InvalidVpcID.Malformed');
    const vpc = await newVpc();
    await expectEc2Error(
      ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpc.VpcId, TagSpecifications: [{ ResourceType: 'internet-gateway', Tags: [{ Key: 'a', Value: 'b' }] }] })),
      'InvalidParameterValue',
    );
    const { EgressOnlyInternetGateways } = await ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({}));
    assert.ok(!EgressOnlyInternetGateways!.some((g) => g.Attachments![0].VpcId === vpc.VpcId), 'nothing was made');
  });

  test('DescribeEgressOnlyInternetGateways: an unknown id is InvalidEgressOnlyInternetGatewayId.NotFound, a malformed one .Malformed; tag filters match; another filter name is InvalidParameterValue', async () => {
    await expectEc2Error(ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ EgressOnlyInternetGatewayIds: [UNKNOWN_EIGW] })), 'InvalidEgressOnlyInternetGatewayId.NotFound');
    await expectEc2Error(ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ EgressOnlyInternetGatewayIds: ['igw-0123456789abcdef0'] })), 'InvalidEgressOnlyInternetGatewayId.Malformed');
    const a = await createEigw((await newVpc()).VpcId!, { Name: 'filter-a' });
    const b = await createEigw((await newVpc()).VpcId!, { Name: 'filter-b' });
    const ids = async (filters: { Name: string; Values: string[] }[]) =>
      ((await ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ Filters: filters }))).EgressOnlyInternetGateways ?? []).map((g) => g.EgressOnlyInternetGatewayId).sort();
    assert.deepEqual(await ids([{ Name: 'tag:Name', Values: ['filter-a'] }]), [a.EgressOnlyInternetGatewayId]);
    assert.deepEqual(await ids([{ Name: 'tag:Name', Values: ['filter-*'] }]), [a.EgressOnlyInternetGatewayId, b.EgressOnlyInternetGatewayId].sort());
    assert.ok((await ids([{ Name: 'tag-key', Values: ['Name'] }])).includes(b.EgressOnlyInternetGatewayId));
    await expectEc2Error(ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ Filters: [{ Name: 'vpc-idd', Values: ['x'] }] })), 'InvalidParameterValue');
  });

  test('DescribeEgressOnlyInternetGateways pages with MaxResults (5 to 255) and NextToken, every gateway once', async () => {
    for (let i = 0; i < 6; i++) await createEigw((await newVpc()).VpcId!);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ MaxResults: 5, NextToken: token }));
      assert.ok(page.EgressOnlyInternetGateways!.length <= 5);
      seen.push(...page.EgressOnlyInternetGateways!.map((g) => g.EgressOnlyInternetGatewayId!));
      token = page.NextToken;
      pages++;
    } while (token);
    assert.ok(pages >= 2);
    assert.equal(new Set(seen).size, seen.length);
    const all = (await ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({}))).EgressOnlyInternetGateways!.map((g) => g.EgressOnlyInternetGatewayId!);
    assert.deepEqual([...seen].sort(), [...all].sort());
    await expectEc2Error(ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ MaxResults: 4 })), 'InvalidParameterValue');
  });

  test('a VPC takes one gateway (a second is InvalidParameterValue); the Region takes 5 by default (EgressOnlyInternetGatewayLimitExceeded)', async () => {
    const vpc = await newVpc();
    await createEigw(vpc.VpcId!);
    await expectEc2Error(ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpc.VpcId })), 'InvalidParameterValue');
    const small = await startTestServer({ quotas: { vpcsPerRegion: 10 } });
    try {
      const client = small.client();
      for (let i = 0; i < 5; i++) {
        const id = (await client.send(new CreateVpcCommand({ CidrBlock: `10.${i}.0.0/16` }))).Vpc!.VpcId!;
        await client.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: id }));
      }
      const sixth = (await client.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
      await expectEc2Error(client.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: sixth })), 'EgressOnlyInternetGatewayLimitExceeded');
    } finally {
      await small.stop();
    }
  });

  test('DeleteEgressOnlyInternetGateway answers ReturnCode true; the gateway is gone, a second delete is .NotFound', async () => {
    const gateway = await createEigw((await newVpc()).VpcId!, { Name: 'gone' });
    const id = gateway.EgressOnlyInternetGatewayId!;
    const result = await ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: id }));
    assert.equal(result.ReturnCode, true);
    await expectEc2Error(ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ EgressOnlyInternetGatewayIds: [id] })), 'InvalidEgressOnlyInternetGatewayId.NotFound');
    await expectEc2Error(ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: id })), 'InvalidEgressOnlyInternetGatewayId.NotFound');
    await expectEc2Error(ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: 'eigw-x' })), 'InvalidEgressOnlyInternetGatewayId.Malformed');
  });

  test('routes: ::/0 to the gateway is listed with EgressOnlyInternetGatewayId and State active, found by route.egress-only-internet-gateway-id; ReplaceRoute moves it to an internet gateway and back', async () => {
    const vpc = await newVpc(true);
    const gateway = (await createEigw(vpc.VpcId!)).EgressOnlyInternetGatewayId!;
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc.VpcId }))).RouteTable!.RouteTableId!;
    assert.equal((await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: gateway }))).Return, true);
    const route = (await describeRouteTable(ec2, table)).Routes!.find((r) => r.DestinationIpv6CidrBlock === '::/0')!;
    assert.equal(route.EgressOnlyInternetGatewayId, gateway);
    assert.equal(route.GatewayId, undefined);
    assert.equal(route.State, 'active');
    assert.equal(route.Origin, 'CreateRoute');
    assert.deepEqual(await routeTableIds(ec2, [{ Name: 'route.egress-only-internet-gateway-id', Values: [gateway] }]), [table]);

    const igw = await createGateway(ec2, vpc.VpcId!);
    await ec2.send(new ReplaceRouteCommand({ RouteTableId: table, DestinationIpv6CidrBlock: '::/0', GatewayId: igw }));
    const replaced = (await describeRouteTable(ec2, table)).Routes!.find((r) => r.DestinationIpv6CidrBlock === '::/0')!;
    assert.equal(replaced.GatewayId, igw);
    assert.equal(replaced.EgressOnlyInternetGatewayId, undefined);
    await ec2.send(new ReplaceRouteCommand({ RouteTableId: table, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: gateway }));
    assert.equal((await describeRouteTable(ec2, table)).Routes!.find((r) => r.DestinationIpv6CidrBlock === '::/0')!.EgressOnlyInternetGatewayId, gateway);
  });

  test('routes: an IPv4 destination is InvalidParameterValue, a gateway of another VPC InvalidParameterValue, an unknown one .NotFound; nothing is added', async () => {
    const vpc = await newVpc(true);
    const other = await newVpc(true);
    const gateway = (await createEigw(vpc.VpcId!)).EgressOnlyInternetGatewayId!;
    const foreign = (await createEigw(other.VpcId!)).EgressOnlyInternetGatewayId!;
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc.VpcId }))).RouteTable!.RouteTableId!;
    const before = (await describeRouteTable(ec2, table)).Routes;
    await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', EgressOnlyInternetGatewayId: gateway })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: foreign })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: UNKNOWN_EIGW })), 'InvalidEgressOnlyInternetGatewayId.NotFound');
    await expectEc2Error(
      ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: gateway, GatewayId: 'igw-0123456789abcdef0' })),
      'InvalidParameterCombination',
    );
    assert.deepEqual((await describeRouteTable(ec2, table)).Routes, before);
  });

  test('routes: a prefix list of IPv6 entries may lead to the gateway, one of IPv4 entries may not', async () => {
    const vpc = await newVpc(true);
    const gateway = (await createEigw(vpc.VpcId!)).EgressOnlyInternetGatewayId!;
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc.VpcId }))).RouteTable!.RouteTableId!;
    const list = async (family: 'IPv4' | 'IPv6', cidr: string) =>
      (await ec2.send(new CreateManagedPrefixListCommand({ PrefixListName: `eigw-${family}-${block}`, AddressFamily: family, MaxEntries: 2, Entries: [{ Cidr: cidr }] }))).PrefixList!.PrefixListId!;
    const v6 = await list('IPv6', '2600:1f00::/24');
    const v4 = await list('IPv4', '192.0.2.0/24');
    await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationPrefixListId: v6, EgressOnlyInternetGatewayId: gateway }));
    const route = (await describeRouteTable(ec2, table)).Routes!.find((r) => r.DestinationPrefixListId === v6)!;
    assert.equal(route.EgressOnlyInternetGatewayId, gateway);
    assert.equal(route.State, 'active');
    await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationPrefixListId: v4, EgressOnlyInternetGatewayId: gateway })), 'InvalidParameterValue');
  });

  test('a route to a deleted gateway stays, as a blackhole', async () => {
    const vpc = await newVpc(true);
    const gateway = (await createEigw(vpc.VpcId!)).EgressOnlyInternetGatewayId!;
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc.VpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationIpv6CidrBlock: '2600::/16', EgressOnlyInternetGatewayId: gateway }));
    await ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: gateway }));
    const route = (await describeRouteTable(ec2, table)).Routes!.find((r) => r.DestinationIpv6CidrBlock === '2600::/16')!;
    assert.equal(route.EgressOnlyInternetGatewayId, gateway);
    assert.equal(route.State, 'blackhole');
  });

  test('DeleteVpc with a gateway is DependencyViolation ("The vpc \'vpc-…\' has dependencies and cannot be deleted."); without it the VPC goes', async () => {
    const vpc = await newVpc();
    const gateway = (await createEigw(vpc.VpcId!)).EgressOnlyInternetGatewayId!;
    const error = await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpc.VpcId })), 'DependencyViolation');
    assert.equal(error.message, `The vpc '${vpc.VpcId}' has dependencies and cannot be deleted.`);
    await ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: gateway }));
    await ec2.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }));
  });

  describe('the simulated data plane', () => {
    async function dualStackBehindEigw() {
      const vpc = await newVpc(true);
      const subnet = (
        await ec2.send(
          new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: vpc.CidrBlock!.replace('0.0/16', '1.0/24'), Ipv6CidrBlock: subnet64(vpc.Ipv6CidrBlockAssociationSet![0].Ipv6CidrBlock!, 1), AvailabilityZone: 'us-east-1a' }),
        )
      ).Subnet!;
      const gateway = (await createEigw(vpc.VpcId!)).EgressOnlyInternetGatewayId!;
      const main = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }, { Name: 'association.main', Values: ['true'] }] }))).RouteTables![0].RouteTableId!;
      await ec2.send(new CreateRouteCommand({ RouteTableId: main, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: gateway }));
      const group = await createGroup(ec2, vpc.VpcId!, 'v6-web');
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }));
      const instance = await launch(ec2, { SubnetId: subnet.SubnetId, SecurityGroupIds: [group], Ipv6AddressCount: 1 });
      return { vpc, subnet, gateway, main, instance };
    }
    const ipv6Of = (i: Instance) => i.NetworkInterfaces![0].Ipv6Addresses![0].Ipv6Address!;

    test('IPv6 from an instance to the internet goes out through the gateway, untranslated, and its answers come back', async () => {
      const { gateway, instance } = await dualStackBehindEigw();
      const result = assertDelivered(await probe(server.url, { from: instance.InstanceId!, to: INTERNET_V6, port: 443 }));
      assert.equal(result.source.address, ipv6Of(instance));
      assert.equal(result.source.publicAddress, ipv6Of(instance));
      assert.deepEqual(result.destination, { kind: 'internet', address: INTERNET_V6 });
      const hop = result.hops.find((h) => h.component === 'egress-only-internet-gateway');
      assert.equal(hop?.resourceId, gateway);
      assert.equal(hop?.verdict, 'pass');
      // The answer crosses the subnet's ACL inbound (the default ACL allows it).
      assert.ok(result.hops.some((h) => h.component === 'network-acl-reply' && h.verdict === 'pass'), JSON.stringify(result.hops));
    });

    test('a connection from the internet to the instance\'s IPv6 address is refused at the gateway, though its group allows it', async () => {
      const { gateway, instance } = await dualStackBehindEigw();
      const result = assertDropped(await probe(server.url, { from: `internet:${INTERNET_V6}`, to: ipv6Of(instance), port: 22 }), 'no-route');
      const hop = blockingHop(result);
      assert.equal(hop?.component, 'egress-only-internet-gateway');
      assert.equal(hop?.resourceId, gateway);
    });

    test('IPv4 is not carried by the gateway; once the gateway is deleted its route is a blackhole and IPv6 no longer leaves', async () => {
      const { vpc, subnet, gateway, main, instance } = await dualStackBehindEigw();
      assertDropped(await probe(server.url, { from: instance.InstanceId!, to: '203.0.113.10', port: 443 }), 'no-route');
      await ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: gateway }));
      const result = assertDropped(await probe(server.url, { from: instance.InstanceId!, to: INTERNET_V6, port: 443 }), 'no-route');
      assert.equal(blockingHop(result)?.component, 'route-table');
      assert.match(blockingHop(result)?.detail ?? '', /blackhole/);
      void vpc;
      void subnet;
      void main;
    });
  });

  test('a route table whose only routes lead to a deleted gateway can still be deleted, and the subnet and VPC with it', async () => {
    const vpc = await newVpc(true);
    const gateway = (await createEigw(vpc.VpcId!)).EgressOnlyInternetGatewayId!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: vpc.CidrBlock!.replace('0.0/16', '2.0/24'), AvailabilityZone: 'us-east-1a' }))).Subnet!;
    const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc.VpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: gateway }));
    await ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: gateway }));
    await ec2.send(new DeleteRouteTableCommand({ RouteTableId: table }));
    await ec2.send(new DeleteSubnetCommand({ SubnetId: subnet.SubnetId }));
    await ec2.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }));
  });
});
