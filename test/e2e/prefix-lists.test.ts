/**
 * Managed prefix lists end to end through the SDK: create, describe (AWS-managed lists too),
 * versions and entries, CurrentVersion, MaxEntries, AWS-managed lists read-only, delete and what
 * references it, security group rules and routes that name a list — and, through the data plane,
 * that a rule with a prefix list matches its entries and a route to one matches them by longest
 * prefix.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  AssociateRouteTableCommand,
  DeleteManagedPrefixListCommand,
  DeleteRouteCommand,
  DescribeManagedPrefixListsCommand,
  DescribePrefixListsCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  GetManagedPrefixListAssociationsCommand,
  GetManagedPrefixListEntriesCommand,
  ModifyManagedPrefixListCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceRouteCommand,
  RevokeSecurityGroupIngressCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createGroup, createNetwork, launch } from '../helpers/topology.ts';
import { createGateway } from '../helpers/addressing.ts';
import { assertDelivered, assertDropped, describeRouteTable, probe } from '../helpers/dataplane.ts';

const ACCOUNT = '000000000000';
const S3_US_EAST_1 = 'pl-63a5400a';
const primaryEniOf = (i: Instance) => i.NetworkInterfaces!.find((n) => n.Attachment?.DeviceIndex === 0)!.NetworkInterfaceId!;

describe('managed prefix lists', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let n = 0;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50, internetGatewaysPerRegion: 50 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  const create = async (input: { entries?: string[]; max?: number; family?: string; name?: string } = {}) =>
    (
      await ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: input.name ?? `list-${++n}`,
          AddressFamily: input.family ?? 'IPv4',
          MaxEntries: input.max ?? 5,
          Entries: (input.entries ?? []).map((Cidr) => ({ Cidr, Description: `entry ${Cidr}` })),
        }),
      )
    ).PrefixList!;
  const describeList = async (id: string) => (await ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] }))).PrefixLists![0];
  const entriesOf = async (id: string, version?: number) =>
    ((await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, TargetVersion: version }))).Entries ?? []).map((e) => e.Cidr);

  describe('creating and describing', () => {
    test('a new list is version 1, owned by the caller, create-in-progress then create-complete', async () => {
      const list = await create({ entries: ['10.1.0.0/16', '192.0.2.0/24'], name: 'corp' });
      assert.match(list.PrefixListId!, /^pl-[0-9a-f]{17}$/);
      assert.equal(list.State, 'create-in-progress');
      assert.equal(list.Version, 1);
      assert.equal(list.OwnerId, ACCOUNT);
      assert.equal(list.AddressFamily, 'IPv4');
      assert.equal(list.MaxEntries, 5);
      assert.equal(list.PrefixListArn, `arn:aws:ec2:us-east-1:${ACCOUNT}:prefix-list/${list.PrefixListId}`);
      const described = await describeList(list.PrefixListId!);
      assert.equal(described.State, 'create-complete');
      assert.equal(described.PrefixListName, 'corp');
      const { Entries } = await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: list.PrefixListId }));
      assert.deepEqual(Entries, [
        { Cidr: '10.1.0.0/16', Description: 'entry 10.1.0.0/16' },
        { Cidr: '192.0.2.0/24', Description: 'entry 192.0.2.0/24' },
      ]);
    });

    test('the AWS-managed lists of the region are listed, owned by AWS, with their entries', async () => {
      const { PrefixLists } = await ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'owner-id', Values: ['AWS'] }] }));
      const names = PrefixLists!.map((l) => l.PrefixListName).sort();
      assert.deepEqual(names, ['com.amazonaws.global.cloudfront.origin-facing', 'com.amazonaws.us-east-1.dynamodb', 'com.amazonaws.us-east-1.s3']);
      const s3 = PrefixLists!.find((l) => l.PrefixListName === 'com.amazonaws.us-east-1.s3')!;
      assert.equal(s3.PrefixListId, S3_US_EAST_1);
      assert.equal(s3.State, 'create-complete');
      assert.equal(s3.PrefixListArn, `arn:aws:ec2:us-east-1:aws:prefix-list/${S3_US_EAST_1}`);
      assert.ok((await entriesOf(S3_US_EAST_1)).includes('52.216.0.0/15'));
      const legacy = await ec2.send(new DescribePrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.us-east-1.s3'] }] }));
      assert.deepEqual(legacy.PrefixLists!.map((l) => l.PrefixListId), [S3_US_EAST_1]);
      assert.ok(legacy.PrefixLists![0].Cidrs!.includes('54.231.0.0/16'));
    });

    test('another region has its own AWS-managed lists, with other ids', async () => {
      const west = server.client({ region: 'eu-west-1' });
      const { PrefixLists } = await west.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.eu-west-1.*'] }] }));
      assert.equal(PrefixLists!.length, 2);
      assert.ok(PrefixLists!.every((l) => /^pl-[0-9a-f]{8}$/.test(l.PrefixListId!) && l.PrefixListId !== S3_US_EAST_1));
      await expectEc2Error(west.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [S3_US_EAST_1] })), 'InvalidPrefixListID.NotFound');
    });

    test('filters by name, id and tag; unknown and malformed ids fail', async () => {
      const tagged = (
        await ec2.send(
          new CreateManagedPrefixListCommand({
            PrefixListName: 'tagged-list',
            AddressFamily: 'IPv6',
            MaxEntries: 2,
            Entries: [{ Cidr: '2001:db8::/32' }],
            TagSpecifications: [{ ResourceType: 'prefix-list', Tags: [{ Key: 'team', Value: 'net' }] }],
          }),
        )
      ).PrefixList!;
      assert.deepEqual(tagged.Tags, [{ Key: 'team', Value: 'net' }]);
      const byTag = await ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'tag:team', Values: ['net'] }] }));
      assert.deepEqual(byTag.PrefixLists!.map((l) => l.PrefixListId), [tagged.PrefixListId]);
      const byName = await ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['tagged-*'] }] }));
      assert.deepEqual(byName.PrefixLists!.map((l) => l.PrefixListId), [tagged.PrefixListId]);
      await expectEc2Error(ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: ['pl-0123456789abcdef0'] })), 'InvalidPrefixListID.NotFound');
      await expectEc2Error(ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: ['foobar'] })), 'InvalidPrefixListId.Malformed');
      await expectEc2Error(ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })), 'InvalidParameterValue');
    });

    test('bad input is refused: family, MaxEntries, reserved names, CIDRs of the other family or with host bits, too many entries', async () => {
      const base = { PrefixListName: 'bad', AddressFamily: 'IPv4', MaxEntries: 2 };
      await expectEc2Error(ec2.send(new CreateManagedPrefixListCommand({ ...base, AddressFamily: 'IPv5' })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new CreateManagedPrefixListCommand({ ...base, MaxEntries: 0 })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new CreateManagedPrefixListCommand({ ...base, MaxEntries: 1001 })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new CreateManagedPrefixListCommand({ ...base, PrefixListName: 'com.amazonaws.mine' })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new CreateManagedPrefixListCommand({ ...base, Entries: [{ Cidr: '2001:db8::/32' }] })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new CreateManagedPrefixListCommand({ ...base, Entries: [{ Cidr: '10.0.0.1/16' }] })), 'InvalidParameterValue');
      await expectEc2Error(
        ec2.send(new CreateManagedPrefixListCommand({ ...base, Entries: [{ Cidr: '10.0.0.0/16' }, { Cidr: '10.1.0.0/16' }, { Cidr: '10.2.0.0/16' }] })),
        'PrefixListMaxEntriesExceeded',
      );
      const names = (await ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['bad'] }] }))).PrefixLists!;
      assert.equal(names.length, 0, 'nothing was created');
    });

    test('the same ClientToken returns the same list', async () => {
      const input = { PrefixListName: 'idem', AddressFamily: 'IPv4', MaxEntries: 1, ClientToken: 'pl-token-1' };
      const a = (await ec2.send(new CreateManagedPrefixListCommand(input))).PrefixList!;
      const b = (await ec2.send(new CreateManagedPrefixListCommand(input))).PrefixList!;
      assert.equal(a.PrefixListId, b.PrefixListId);
      await expectEc2Error(ec2.send(new CreateManagedPrefixListCommand({ ...input, MaxEntries: 2 })), 'IdempotentParameterMismatch');
    });
  });

  describe('modifying', () => {
    test('adding and removing entries makes a new version; earlier versions stay readable; a rename does not', async () => {
      const list = await create({ entries: ['10.0.0.0/16'] });
      const id = list.PrefixListId!;
      const modified = await ec2.send(
        new ModifyManagedPrefixListCommand({ PrefixListId: id, CurrentVersion: 1, AddEntries: [{ Cidr: '10.1.0.0/16' }], RemoveEntries: [{ Cidr: '10.0.0.0/16' }] }),
      );
      assert.equal(modified.PrefixList!.State, 'modify-in-progress');
      assert.equal(modified.PrefixList!.Version, 2);
      assert.equal((await describeList(id)).State, 'modify-complete');
      assert.deepEqual(await entriesOf(id), ['10.1.0.0/16']);
      assert.deepEqual(await entriesOf(id, 1), ['10.0.0.0/16']);
      await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, PrefixListName: 'renamed' }));
      const renamed = await describeList(id);
      assert.equal(renamed.PrefixListName, 'renamed');
      assert.equal(renamed.Version, 2);
      await expectEc2Error(ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, TargetVersion: 3 })), 'InvalidParameterValue');
    });

    test('a CurrentVersion that is not the current one fails with PrefixListVersionMismatch, changing nothing', async () => {
      const list = await create({ entries: ['10.0.0.0/16'] });
      await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: list.PrefixListId, CurrentVersion: 1, AddEntries: [{ Cidr: '10.5.0.0/16' }] }));
      const error = await expectEc2Error(
        ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: list.PrefixListId, CurrentVersion: 1, AddEntries: [{ Cidr: '10.6.0.0/16' }] })),
        'PrefixListVersionMismatch',
      );
      assert.match(error.message, /prefix list has the incorrect version number/);
      assert.deepEqual(await entriesOf(list.PrefixListId!), ['10.0.0.0/16', '10.5.0.0/16']);
    });

    test('entries beyond MaxEntries, removing an absent entry, and MaxEntries with entry changes are refused', async () => {
      const list = await create({ entries: ['10.0.0.0/16'], max: 2 });
      const id = list.PrefixListId!;
      await expectEc2Error(
        ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, AddEntries: [{ Cidr: '10.1.0.0/16' }, { Cidr: '10.2.0.0/16' }] })),
        'PrefixListMaxEntriesExceeded',
      );
      const absent = await expectEc2Error(ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, RemoveEntries: [{ Cidr: '10.9.0.0/16' }] })), 'InvalidPrefixListModification');
      assert.match(absent.message, /does not exist\./);
      await expectEc2Error(
        ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 4, AddEntries: [{ Cidr: '10.1.0.0/16' }] })),
        'InvalidParameterCombination',
      );
      await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 4 }));
      const resized = await describeList(id);
      assert.equal(resized.MaxEntries, 4);
      assert.equal(resized.Version, 1, 'resizing is not a new version');
      await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, AddEntries: [{ Cidr: '10.1.0.0/16' }, { Cidr: '10.2.0.0/16' }] }));
      await expectEc2Error(ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 2 })), 'InvalidParameterValue');
    });

    test('adding a CIDR the list holds replaces its description in a new version', async () => {
      const list = await create({ entries: ['10.0.0.0/16'] });
      await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: list.PrefixListId, AddEntries: [{ Cidr: '10.0.0.0/16', Description: 'new words' }] }));
      const { Entries } = await ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: list.PrefixListId }));
      assert.deepEqual(Entries, [{ Cidr: '10.0.0.0/16', Description: 'new words' }]);
      assert.equal((await describeList(list.PrefixListId!)).Version, 2);
    });

    test('AWS-managed lists are read-only', async () => {
      await expectEc2Error(ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: S3_US_EAST_1, AddEntries: [{ Cidr: '10.0.0.0/8' }] })), 'InvalidPrefixListModification');
      await expectEc2Error(ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: S3_US_EAST_1 })), 'InvalidPrefixListModification');
      assert.ok(!(await entriesOf(S3_US_EAST_1)).includes('10.0.0.0/8'));
    });
  });

  describe('references and deletion', () => {
    test('security group rules name a list; DescribeSecurityGroups and DescribeSecurityGroupRules show it; the list counts MaxEntries against the rule quota', async () => {
      const net = await createNetwork(ec2, `10.${100 + n}.0.0/16`, {});
      const groupId = await createGroup(ec2, net.vpcId, `pl-rules-${n}`);
      const list = await create({ entries: ['192.0.2.0/24'], max: 10 });
      const { SecurityGroupRules } = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: list.PrefixListId, Description: 'corp' }] }],
        }),
      );
      assert.equal(SecurityGroupRules![0].PrefixListId, list.PrefixListId);
      const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups![0];
      assert.deepEqual(group.IpPermissions![0].PrefixListIds, [{ PrefixListId: list.PrefixListId, Description: 'corp' }]);
      const rules = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
      assert.ok(rules.SecurityGroupRules!.some((r) => r.PrefixListId === list.PrefixListId && r.IsEgress === false));
      const filtered = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'ip-permission.prefix-list-id', Values: [list.PrefixListId!] }] }));
      assert.deepEqual(filtered.SecurityGroups!.map((g) => g.GroupId), [groupId]);
      const { PrefixListAssociations } = await ec2.send(new GetManagedPrefixListAssociationsCommand({ PrefixListId: list.PrefixListId }));
      assert.deepEqual(PrefixListAssociations, [{ ResourceId: groupId, ResourceOwner: ACCOUNT }]);

      // 60 rules a group: a list of 10 entries counts 10; five more of them take 50 more.
      const big = await create({ max: 50 });
      await expectEc2Error(
        ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: groupId,
            IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: big.PrefixListId }] }, { IpProtocol: 'tcp', FromPort: 81, ToPort: 81, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
          }),
        ),
        'RulesPerSecurityGroupLimitExceeded',
      );
      await expectEc2Error(
        ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, PrefixListIds: [{ PrefixListId: 'pl-0123456789abcdef0' }] }] })),
        'InvalidPrefixListID.NotFound',
      );

      // A referenced list cannot go: the deletion fails afterwards (delete-failed), the list stays.
      const deleting = await ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: list.PrefixListId }));
      assert.equal(deleting.PrefixList!.State, 'delete-in-progress');
      const failed = await describeList(list.PrefixListId!);
      assert.equal(failed.State, 'delete-failed');
      assert.match(failed.StateMessage!, new RegExp(groupId));
      await ec2.send(
        new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: list.PrefixListId }] }] }),
      );
      await ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: list.PrefixListId }));
      await expectEc2Error(ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [list.PrefixListId!] })), 'InvalidPrefixListID.NotFound');
    });

    test('routes name a list with DestinationPrefixListId; the list counts MaxEntries against the route quota', async () => {
      const net = await createNetwork(ec2, `10.${100 + n}.0.0/16`, {});
      const igw = await createGateway(ec2, net.vpcId);
      const tableId = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
      const list = await create({ entries: ['198.51.100.0/24'], max: 10 });
      await ec2.send(new CreateRouteCommand({ RouteTableId: tableId, DestinationPrefixListId: list.PrefixListId, GatewayId: igw }));
      const route = (await describeRouteTable(ec2, tableId)).Routes!.find((r) => r.DestinationPrefixListId === list.PrefixListId)!;
      assert.equal(route.GatewayId, igw);
      assert.equal(route.DestinationCidrBlock, undefined);
      assert.equal(route.State, 'active');
      const byFilter = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.destination-prefix-list-id', Values: [list.PrefixListId!] }] }));
      assert.deepEqual(byFilter.RouteTables!.map((t) => t.RouteTableId), [tableId]);
      await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: tableId, DestinationPrefixListId: list.PrefixListId, GatewayId: igw })), 'RouteAlreadyExists');
      await expectEc2Error(
        ec2.send(new CreateRouteCommand({ RouteTableId: tableId, DestinationPrefixListId: list.PrefixListId, DestinationCidrBlock: '10.0.0.0/8', GatewayId: igw })),
        'InvalidParameterCombination',
      );
      await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: tableId, DestinationPrefixListId: S3_US_EAST_1, GatewayId: igw })), 'InvalidParameterValue');
      // 50 routes a table: the local route, this list's 10, and a list of 40 fill it.
      const big = await create({ max: 40 });
      await expectEc2Error(ec2.send(new CreateRouteCommand({ RouteTableId: tableId, DestinationPrefixListId: big.PrefixListId, GatewayId: igw })), 'RouteLimitExceeded');
      const { PrefixListAssociations } = await ec2.send(new GetManagedPrefixListAssociationsCommand({ PrefixListId: list.PrefixListId }));
      assert.deepEqual(PrefixListAssociations, [{ ResourceId: tableId, ResourceOwner: ACCOUNT }]);
      await ec2.send(new DeleteRouteCommand({ RouteTableId: tableId, DestinationPrefixListId: list.PrefixListId }));
      await expectEc2Error(ec2.send(new DeleteRouteCommand({ RouteTableId: tableId, DestinationPrefixListId: list.PrefixListId })), 'InvalidRoute.NotFound');
    });
  });

  describe('the data plane', () => {
    test('a security group rule with a prefix list admits the addresses of its current entries, and no others', async () => {
      const k = 150 + ++n;
      const net = await createNetwork(ec2, `10.${k}.0.0/16`, { a: { cidr: `10.${k}.1.0/24`, zone: 'us-east-1a' }, b: { cidr: `10.${k}.2.0/24`, zone: 'us-east-1a' } });
      const guarded = await createGroup(ec2, net.vpcId, `guarded-${k}`);
      const list = await create({ entries: [`10.${k}.1.0/24`] });
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: guarded, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, PrefixListIds: [{ PrefixListId: list.PrefixListId }] }] }),
      );
      const client = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
      const other = await launch(ec2, { SubnetId: net.subnets.b.SubnetId });
      const target = await launch(ec2, { SubnetId: net.subnets.b.SubnetId, SecurityGroupIds: [guarded] });
      const to = target.PrivateIpAddress!;
      const allowed = assertDelivered(await probe(server.url, { from: client.InstanceId!, to, port: 22 }));
      assert.ok(allowed.hops.some((h) => h.component === 'security-group-ingress' && h.resourceId === guarded));
      assertDropped(await probe(server.url, { from: other.InstanceId!, to, port: 22 }), 'sg-ingress-denied', 'subnet b is not in the list:');
      assertDropped(await probe(server.url, { from: client.InstanceId!, to, port: 23 }), 'sg-ingress-denied');
      // The rule follows the list: swap the entry and the other subnet is the one admitted.
      await ec2.send(
        new ModifyManagedPrefixListCommand({ PrefixListId: list.PrefixListId, AddEntries: [{ Cidr: `10.${k}.2.0/24` }], RemoveEntries: [{ Cidr: `10.${k}.1.0/24` }] }),
      );
      assertDropped(await probe(server.url, { from: client.InstanceId!, to, port: 22 }), 'sg-ingress-denied');
      assertDelivered(await probe(server.url, { from: other.InstanceId!, to, port: 22 }));
    });

    test('a route to a prefix list matches its entries, each entry competing by its own prefix length', async () => {
      const k = 150 + ++n;
      const net = await createNetwork(ec2, `10.${k}.0.0/16`, { a: { cidr: `10.${k}.1.0/24`, zone: 'us-east-1a' } });
      const igw = await createGateway(ec2, net.vpcId);
      const tableId = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
      await ec2.send(new AssociateRouteTableCommand({ RouteTableId: tableId, SubnetId: net.subnets.a.SubnetId }));
      const client = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
      const appliance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
      const applianceEni = primaryEniOf(appliance);
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: applianceEni, SourceDestCheck: { Value: false } }));
      const list = await create({ entries: ['198.51.100.0/24'] });
      await ec2.send(new CreateRouteCommand({ RouteTableId: tableId, DestinationPrefixListId: list.PrefixListId, NetworkInterfaceId: applianceEni }));
      await ec2.send(new CreateRouteCommand({ RouteTableId: tableId, DestinationCidrBlock: '198.51.100.0/25', GatewayId: igw }));

      const viaList = assertDelivered(await probe(server.url, { from: client.InstanceId!, to: '198.51.100.200', port: 443 }));
      assert.equal(viaList.destination?.kind, 'appliance');
      assert.equal(viaList.destination?.networkInterfaceId, applianceEni);
      assert.ok(viaList.hops.some((h) => h.component === 'route-table' && h.rule?.startsWith(`${list.PrefixListId} (198.51.100.0/24)`)));
      // 198.51.100.7: the /25 CIDR route beats the list's /24 entry (to the gateway, without a public address).
      assertDropped(await probe(server.url, { from: client.InstanceId!, to: '198.51.100.7', port: 443 }), 'no-public-ip');
      // A /26 entry beats the /25 route.
      await ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: list.PrefixListId, AddEntries: [{ Cidr: '198.51.100.0/26' }] }));
      assert.equal(assertDelivered(await probe(server.url, { from: client.InstanceId!, to: '198.51.100.7', port: 443 })).destination?.networkInterfaceId, applianceEni);
      // Replacing the route's target moves the list's traffic.
      await ec2.send(new ReplaceRouteCommand({ RouteTableId: tableId, DestinationPrefixListId: list.PrefixListId, GatewayId: igw }));
      assertDropped(await probe(server.url, { from: client.InstanceId!, to: '198.51.100.200', port: 443 }), 'no-public-ip');
    });
  });
});
