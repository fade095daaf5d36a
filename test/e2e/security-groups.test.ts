import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DeleteVpcCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  type EC2Client,
  type IpPermission,
  type SecurityGroup,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { Ec2Error } from '../../src/cloud/errors.ts';
import { cloudConfig } from '../../src/cloud/config.ts';
import type { Context } from '../../src/cloud/context.ts';
import { groupIdentifiersOf, groupsForInterface } from '../../src/cloud/security-groups.ts';
import { insertVpc } from '../../src/cloud/vpcs.ts';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';

const ACCOUNT = '000000000000';
const OTHER_ACCOUNT = '111111111111';

const tcp = (port: number, cidr = '0.0.0.0/0', Description?: string): IpPermission => ({
  IpProtocol: 'tcp',
  FromPort: port,
  ToPort: port,
  IpRanges: [{ CidrIp: cidr, Description }],
});

/** Runs fn in one store transaction as the given account and region: arranging what no EC2 action can. */
function asAccount<T>(server: TestServer, account: string, region: string, fn: (ctx: Context) => Promise<T>): Promise<T> {
  return server.store.transaction((tx) =>
    fn({ tx, account, region, requestId: 'test', now: new Date(), config: cloudConfig({ quotas: { vpcsPerRegion: 50 } }), afterCommit: () => {}, emit: () => {} }),
  );
}

/**
 * The account's default VPC in the region. eni-local may create it on the first request; if it
 * did not, it is made here through the store, and the account/region marked as initialised so
 * that no second default VPC appears later.
 */
async function ensureDefaultVpc(server: TestServer, client: EC2Client, account: string, region: string): Promise<string> {
  const found = await client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
  if (found.Vpcs?.length) return found.Vpcs[0].VpcId!;
  return asAccount(server, account, region, async (ctx) => {
    await ctx.tx
      .insertInto('account_regions')
      .values({ account_id: account, region, initialized_at: ctx.now.toISOString() })
      .onConflict((oc) => oc.doNothing())
      .execute();
    return insertVpc(ctx, { cidrBlock: '172.31.0.0/16', tenancy: 'default', isDefault: true });
  });
}

/** An account/region without a default VPC (as after a user deleted theirs): marked initialised before its first request. */
async function withoutDefaultVpc(server: TestServer, account: string, region: string): Promise<void> {
  await asAccount(server, account, region, (ctx) =>
    ctx.tx.insertInto('account_regions').values({ account_id: account, region, initialized_at: ctx.now.toISOString() }).execute(),
  );
}

describe('Security groups', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  let otherVpcId: string;
  /** The region's AWS-managed S3 list: rules may only name lists that exist. */
  let s3PrefixListId: string;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50 }, accounts: { AKIDOTHER: OTHER_ACCOUNT } });
    ec2 = server.client({ region: 'eu-west-1' });
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
    otherVpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }))).Vpc!.VpcId!;
    const lists = await ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.eu-west-1.s3'] }] }));
    s3PrefixListId = lists.PrefixLists![0].PrefixListId!;
  });
  after(() => server.stop());

  let counter = 0;
  const createGroup = async (options: { name?: string; vpc?: string; tags?: Record<string, string> } = {}) => {
    const name = options.name ?? `group-${++counter}`;
    const tags = Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    const out = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: name,
        Description: `the ${name} group`,
        VpcId: options.vpc ?? vpcId,
        TagSpecifications: tags.length ? [{ ResourceType: 'security-group', Tags: tags }] : undefined,
      }),
    );
    return out.GroupId!;
  };
  const describeGroup = async (groupId: string, client = ec2): Promise<SecurityGroup> =>
    (await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups![0];
  const rulesOf = async (groupId: string): Promise<SecurityGroupRule[]> =>
    (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }))).SecurityGroupRules!;
  const ingress = (GroupId: string, ...IpPermissions: IpPermission[]) =>
    ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions }));
  const groupIds = async (Filters: { Name: string; Values: string[] }[]) =>
    ((await ec2.send(new DescribeSecurityGroupsCommand({ Filters }))).SecurityGroups ?? []).map((g) => g.GroupId!).sort();

  describe('the default group and CreateSecurityGroup', () => {
    test('CreateVpc gives the VPC a group named default: all inbound from itself, all outbound', async () => {
      const groups = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: ['default'] }] }))).SecurityGroups!;
      assert.equal(groups.length, 1);
      const group = groups[0];
      assert.match(group.GroupId!, /^sg-[0-9a-f]{17}$/);
      assert.equal(group.Description, 'default VPC security group');
      assert.equal(group.OwnerId, ACCOUNT);
      assert.equal(group.VpcId, vpcId);
      assert.deepEqual(group.IpPermissions, [
        { IpProtocol: '-1', IpRanges: [], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [{ GroupId: group.GroupId, UserId: ACCOUNT }] },
      ]);
      assert.deepEqual(group.IpPermissionsEgress, [
        { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] },
      ]);
      const rules = await rulesOf(group.GroupId!);
      assert.equal(rules.length, 2);
      const inbound = rules.find((r) => !r.IsEgress)!;
      assert.deepEqual(inbound.ReferencedGroupInfo, { GroupId: group.GroupId, UserId: ACCOUNT });
      assert.equal(inbound.FromPort, -1, 'a rule always states its ports, -1 for all');
      assert.equal(inbound.ToPort, -1);
      assert.equal(rules.find((r) => r.IsEgress)!.CidrIpv4, '0.0.0.0/0');
    });

    test('a new group has no inbound rule and one outbound rule allowing all IPv4', async () => {
      const out = await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: 'web servers',
          Description: 'HTTP(S) from anywhere: ports 80/443 [prod] {a}!$*',
          VpcId: vpcId,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'team', Value: 'web' }] }],
        }),
      );
      assert.match(out.GroupId!, /^sg-[0-9a-f]{17}$/);
      assert.deepEqual(out.Tags, [{ Key: 'team', Value: 'web' }]);
      const group = await describeGroup(out.GroupId!);
      assert.equal(group.GroupName, 'web servers');
      assert.equal(group.Description, 'HTTP(S) from anywhere: ports 80/443 [prod] {a}!$*');
      assert.equal(group.VpcId, vpcId);
      assert.equal(group.OwnerId, ACCOUNT);
      assert.deepEqual(group.Tags, [{ Key: 'team', Value: 'web' }]);
      assert.deepEqual(group.IpPermissions, []);
      assert.deepEqual(group.IpPermissionsEgress, [
        { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] },
      ]);
      const [egress] = await rulesOf(out.GroupId!);
      assert.match(egress.SecurityGroupRuleId!, /^sgr-[0-9a-f]{17}$/);
      assert.equal(egress.IsEgress, true);
      assert.equal(egress.GroupOwnerId, ACCOUNT);
    });

    test('CreateSecurityGroup and DescribeSecurityGroups carry the group ARN', async () => {
      const out = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'with-arn', Description: 'd', VpcId: vpcId }));
      const arn = `arn:aws:ec2:eu-west-1:${ACCOUNT}:security-group/${out.GroupId}`;
      assert.equal(out.SecurityGroupArn, arn);
      assert.equal((await describeGroup(out.GroupId!)).SecurityGroupArn, arn);
    });

    test('the name default is reserved (InvalidGroup.Reserved), in any case', async () => {
      for (const GroupName of ['default', 'Default']) {
        await expectEc2Error(ec2.send(new CreateSecurityGroupCommand({ GroupName, Description: 'd', VpcId: vpcId })), 'InvalidGroup.Reserved');
      }
    });

    test('a name already used in the VPC is InvalidGroup.Duplicate, case-insensitively; another VPC may reuse it', async () => {
      await createGroup({ name: 'dup-name' });
      await expectEc2Error(ec2.send(new CreateSecurityGroupCommand({ GroupName: 'dup-name', Description: 'd', VpcId: vpcId })), 'InvalidGroup.Duplicate');
      await expectEc2Error(ec2.send(new CreateSecurityGroupCommand({ GroupName: 'DUP-Name', Description: 'd', VpcId: vpcId })), 'InvalidGroup.Duplicate');
      await createGroup({ name: 'dup-name', vpc: otherVpcId });
    });

    test('names and descriptions: at most 255 characters of the allowed set; a name may not start with sg-', async () => {
      const create = (GroupName: string | undefined, Description: string | undefined) =>
        ec2.send(new CreateSecurityGroupCommand({ GroupName, Description, VpcId: vpcId }));
      await expectEc2Error(create('sg-web', 'd'), 'InvalidParameterValue');
      await expectEc2Error(create('x'.repeat(256), 'd'), 'InvalidParameterValue');
      await expectEc2Error(create('ok-name', 'd'.repeat(256)), 'InvalidParameterValue');
      await expectEc2Error(create('café', 'd'), 'InvalidParameterValue');
      await expectEc2Error(create('ok-name', 'tab\there'), 'InvalidParameterValue');
      await expectEc2Error(create(undefined, 'd'), 'MissingParameter');
      await expectEc2Error(create('ok-name', undefined), 'MissingParameter');
      await create('n'.repeat(255), 'd'.repeat(255));
    });

    test('an unknown or malformed VpcId, or a tag specification for another resource type, is refused', async () => {
      await expectEc2Error(ec2.send(new CreateSecurityGroupCommand({ GroupName: 'g', Description: 'd', VpcId: 'vpc-0123456789abcdef0' })), 'InvalidVpcID.NotFound');
      await expectEc2Error(ec2.send(new CreateSecurityGroupCommand({ GroupName: 'g', Description: 'd', VpcId: 'vpc-nope' })), 'InvalidVpcID.Malformed');
      await expectEc2Error(
        ec2.send(new CreateSecurityGroupCommand({ GroupName: 'g', Description: 'd', VpcId: vpcId, TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'a', Value: 'b' }] }] })),
        'InvalidParameterValue',
      );
    });

    test('DryRun answers DryRunOperation and creates nothing', async () => {
      await expectEc2Error(ec2.send(new CreateSecurityGroupCommand({ GroupName: 'dry', Description: 'd', VpcId: vpcId, DryRun: true })), 'DryRunOperation', 412);
      assert.deepEqual(await groupIds([{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: ['dry'] }]), []);
    });
  });

  describe('AuthorizeSecurityGroupIngress and AuthorizeSecurityGroupEgress', () => {
    test('a rule is added and returned with its id; DescribeSecurityGroups shows it as an IpPermission', async () => {
      const groupId = await createGroup();
      const out = await ingress(groupId, tcp(22, '203.0.113.0/24', 'ssh from the office'));
      assert.equal(out.Return, true);
      assert.equal(out.SecurityGroupRules!.length, 1);
      const rule = out.SecurityGroupRules![0];
      assert.match(rule.SecurityGroupRuleId!, /^sgr-[0-9a-f]{17}$/);
      assert.equal(rule.GroupId, groupId);
      assert.equal(rule.GroupOwnerId, ACCOUNT);
      assert.equal(rule.IsEgress, false);
      assert.equal(rule.IpProtocol, 'tcp');
      assert.equal(rule.FromPort, 22);
      assert.equal(rule.ToPort, 22);
      assert.equal(rule.CidrIpv4, '203.0.113.0/24');
      assert.equal(rule.Description, 'ssh from the office');
      assert.deepEqual((await describeGroup(groupId)).IpPermissions, [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.0/24', Description: 'ssh from the office' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] },
      ]);
    });

    test('each CIDR, group and prefix list is one rule; rules of one protocol and port range group into one IpPermission', async () => {
      const groupId = await createGroup();
      const peer = await createGroup();
      const out = await ingress(groupId, {
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        IpRanges: [{ CidrIp: '10.0.0.0/8' }, { CidrIp: '192.168.0.0/16' }],
        Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32', Description: 'v6' }],
        UserIdGroupPairs: [{ GroupId: peer, Description: 'from peers' }],
        PrefixListIds: [{ PrefixListId: s3PrefixListId }],
      });
      assert.equal(out.SecurityGroupRules!.length, 5);
      assert.equal(new Set(out.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId)).size, 5);
      const [permission] = (await describeGroup(groupId)).IpPermissions!;
      assert.equal(permission.IpProtocol, 'tcp');
      assert.deepEqual(permission.IpRanges!.map((r) => r.CidrIp).sort(), ['10.0.0.0/8', '192.168.0.0/16']);
      assert.deepEqual(permission.Ipv6Ranges, [{ CidrIpv6: '2001:db8::/32', Description: 'v6' }]);
      assert.deepEqual(permission.UserIdGroupPairs, [{ GroupId: peer, UserId: ACCOUNT, Description: 'from peers' }]);
      assert.deepEqual(permission.PrefixListIds, [{ PrefixListId: s3PrefixListId }]);
      const referencing = (await rulesOf(groupId)).find((r) => r.ReferencedGroupInfo)!;
      assert.deepEqual(referencing.ReferencedGroupInfo, { GroupId: peer, UserId: ACCOUNT });
    });

    test('CIDRs are canonicalised (host bits cleared); malformed ones are InvalidParameterValue', async () => {
      const groupId = await createGroup();
      const out = await ingress(groupId, {
        IpProtocol: 'udp',
        FromPort: 53,
        ToPort: 53,
        IpRanges: [{ CidrIp: '10.0.0.28/29' }],
        Ipv6Ranges: [{ CidrIpv6: '2001:DB8:0:0:1::5/64' }],
      });
      assert.deepEqual(out.SecurityGroupRules!.map((r) => r.CidrIpv4 ?? r.CidrIpv6).sort(), ['10.0.0.24/29', '2001:db8::/64']);
      for (const CidrIp of ['10.0.0.0/33', '10.0.0.300/24', '10.0.0.1', 'bogus', '2001:db8::/64']) {
        await expectEc2Error(ingress(groupId, { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp }] }), 'InvalidParameterValue');
      }
      for (const CidrIpv6 of ['2001:db8::/129', '10.0.0.0/8', 'fe80::1%eth0/64']) {
        await expectEc2Error(ingress(groupId, { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, Ipv6Ranges: [{ CidrIpv6 }] }), 'InvalidParameterValue');
      }
    });

    test('protocol numbers and names are normalised as AWS answers them', async () => {
      const groupId = await createGroup();
      const add = async (permission: IpPermission) => (await ingress(groupId, permission)).SecurityGroupRules![0];
      const pick = (r: SecurityGroupRule) => [r.IpProtocol, r.FromPort, r.ToPort];
      assert.deepEqual(pick(await add({ IpProtocol: '6', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.1/32' }] })), ['tcp', 80, 80]);
      assert.deepEqual(pick(await add({ IpProtocol: '17', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '10.0.0.1/32' }] })), ['udp', 53, 53]);
      assert.deepEqual(pick(await add({ IpProtocol: '1', FromPort: 8, ToPort: 0, IpRanges: [{ CidrIp: '10.0.0.1/32' }] })), ['icmp', 8, 0]);
      assert.deepEqual(pick(await add({ IpProtocol: '58', Ipv6Ranges: [{ CidrIpv6: '::/0' }] })), ['icmpv6', -1, -1]);
      assert.deepEqual(pick(await add({ IpProtocol: 'TCP', FromPort: 81, ToPort: 82, IpRanges: [{ CidrIp: '10.0.0.1/32' }] })), ['tcp', 81, 82]);
      assert.deepEqual(pick(await add({ IpProtocol: '50', FromPort: 5, ToPort: 6, IpRanges: [{ CidrIp: '10.0.0.1/32' }] })), ['50', -1, -1]);
      assert.deepEqual(pick(await add({ IpProtocol: '-1', FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: '10.0.0.2/32' }] })), ['-1', -1, -1]);
      const permissions = (await describeGroup(groupId)).IpPermissions!;
      const all = permissions.find((p) => p.IpProtocol === '-1')!;
      assert.equal(all.FromPort, undefined, 'an all-traffic permission carries no ports');
      assert.equal(all.ToPort, undefined);
      assert.ok(permissions.some((p) => p.IpProtocol === 'tcp' && p.FromPort === 80));
      // the number form of an existing rule is that rule
      await expectEc2Error(ingress(groupId, { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.1/32' }] }), 'InvalidPermission.Duplicate');
    });

    test('unknown protocols, `all` and a missing protocol are InvalidParameterValue', async () => {
      const groupId = await createGroup();
      for (const IpProtocol of ['all', 'foo', '256', 'esp', undefined]) {
        await expectEc2Error(ingress(groupId, { IpProtocol, FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }), 'InvalidParameterValue');
      }
    });

    test('ports: TCP/UDP need both, within 0–65535, from ≤ to; ICMP needs a type and a code', async () => {
      const groupId = await createGroup();
      const with_ = (IpProtocol: string, FromPort?: number, ToPort?: number) =>
        ingress(groupId, { IpProtocol, FromPort, ToPort, IpRanges: [{ CidrIp: '10.0.0.0/8' }] });
      await expectEc2Error(with_('tcp'), 'InvalidParameterValue');
      await expectEc2Error(with_('udp', 53), 'InvalidParameterValue');
      await expectEc2Error(with_('tcp', 0, 70000), 'InvalidPermission.Malformed');
      await expectEc2Error(with_('tcp', -1, 22), 'InvalidPermission.Malformed');
      await expectEc2Error(with_('tcp', 443, 80), 'InvalidParameterValue');
      await expectEc2Error(with_('icmp'), 'InvalidParameterValue');
      await expectEc2Error(with_('icmp', 300, 0), 'InvalidParameterValue');
      await expectEc2Error(with_('icmp', 3, 256), 'InvalidParameterValue');
      await expectEc2Error(with_('icmp', -1, 0), 'InvalidParameterValue');
      await with_('icmp', 3, -1);
      await with_('icmp', -1, -1);
      await with_('tcp', 0, 65535);
      assert.equal((await describeGroup(groupId)).IpPermissions!.length, 3);
    });

    test('an existing rule is InvalidPermission.Duplicate, whatever its description', async () => {
      const groupId = await createGroup();
      await ingress(groupId, tcp(22, '0.0.0.0/0', 'first'));
      const error = await expectEc2Error(ingress(groupId, tcp(22, '0.0.0.0/0', 'second')), 'InvalidPermission.Duplicate');
      assert.equal(error.message, 'the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists');
      // an IPv4 CIDR that canonicalises to the existing one is the same rule
      await expectEc2Error(ingress(groupId, tcp(22, '0.0.0.1/0')), 'InvalidPermission.Duplicate');
    });

    test('the same rule twice in one request is InvalidParameterValue', async () => {
      const groupId = await createGroup();
      await expectEc2Error(ingress(groupId, tcp(25), tcp(25)), 'InvalidParameterValue');
      assert.deepEqual((await describeGroup(groupId)).IpPermissions, []);
    });

    test('the call is all-or-nothing: one bad permission among good ones adds no rule', async () => {
      const groupId = await createGroup();
      await ingress(groupId, tcp(22));
      await expectEc2Error(ingress(groupId, tcp(80), tcp(443), tcp(8080, '10.0.0.0/99')), 'InvalidParameterValue');
      await expectEc2Error(ingress(groupId, tcp(80), tcp(443), tcp(22)), 'InvalidPermission.Duplicate');
      await expectEc2Error(
        ingress(groupId, tcp(80), { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: 'sg-0123456789abcdef0' }] }),
        'InvalidGroup.NotFound',
      );
      const rules = await rulesOf(groupId);
      assert.deepEqual(rules.filter((r) => !r.IsEgress).map((r) => r.FromPort), [22]);
    });

    test('a referenced group must be the caller’s and in the same VPC; it may be named within the VPC', async () => {
      const groupId = await createGroup();
      const elsewhere = await createGroup({ vpc: otherVpcId });
      const peer = await createGroup({ name: 'peer-by-name' });
      const byGroup = (pair: { GroupId?: string; GroupName?: string; UserId?: string }) =>
        ingress(groupId, { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [pair] });
      await expectEc2Error(byGroup({ GroupId: elsewhere }), 'InvalidGroup.NotFound');
      await expectEc2Error(byGroup({ GroupId: 'sg-nope' }), 'InvalidGroupId.Malformed');
      await expectEc2Error(byGroup({ GroupName: 'no-such-group' }), 'InvalidGroup.NotFound');
      await expectEc2Error(byGroup({ GroupId: peer, UserId: OTHER_ACCOUNT }), 'InvalidGroup.NotFound');
      const out = await byGroup({ GroupName: 'peer-by-name' });
      assert.equal(out.SecurityGroupRules![0].ReferencedGroupInfo!.GroupId, peer);
      // a group may reference itself
      await byGroup({ GroupId: groupId });
    });

    test('prefix list ids must be well-formed', async () => {
      const groupId = await createGroup();
      await expectEc2Error(ingress(groupId, { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, PrefixListIds: [{ PrefixListId: 'pl-zz' }] }), 'InvalidParameterValue');
    });

    test('rule descriptions: at most 255 characters of the allowed set', async () => {
      const groupId = await createGroup();
      await expectEc2Error(ingress(groupId, tcp(1, '10.0.0.0/8', 'd'.repeat(256))), 'InvalidParameterValue');
      await expectEc2Error(ingress(groupId, tcp(1, '10.0.0.0/8', 'no <html>')), 'InvalidParameterValue');
      await ingress(groupId, tcp(1, '10.0.0.0/8', 'd'.repeat(255)));
    });

    test('the legacy flat members: CidrIp with protocol and ports, or a source group granting all ICMP, TCP and UDP', async () => {
      const groupId = await createGroup();
      const source = await createGroup({ name: 'legacy-source' });
      const cidr = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpProtocol: 'tcp', FromPort: 8080, ToPort: 8081, CidrIp: '192.0.2.0/24' }));
      assert.deepEqual(cidr.SecurityGroupRules!.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.CidrIpv4]), [['tcp', 8080, 8081, '192.0.2.0/24']]);
      const bySource = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, SourceSecurityGroupName: 'legacy-source', SourceSecurityGroupOwnerId: ACCOUNT }),
      );
      assert.deepEqual(
        bySource.SecurityGroupRules!.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.ReferencedGroupInfo?.GroupId]).sort(),
        [['icmp', -1, -1, source], ['tcp', 0, 65535, source], ['udp', 0, 65535, source]],
      );
      await expectEc2Error(
        ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, CidrIp: '10.0.0.0/8', IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpPermissions: [tcp(2)] })),
        'InvalidParameterCombination',
      );
      await expectEc2Error(
        ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, SourceSecurityGroupName: 'legacy-source', IpProtocol: 'tcp' })),
        'InvalidParameterCombination',
      );
      await expectEc2Error(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpProtocol: 'tcp', FromPort: 1, ToPort: 1 })), 'MissingParameter');
      await expectEc2Error(
        ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpProtocol: 'tcp', FromPort: 1, ToPort: 1, CidrIp: '10.0.0.0/8' })),
        'InvalidParameterValue',
      );
    });

    test('egress rules: added, duplicate of the default allow-all refused', async () => {
      const groupId = await createGroup();
      const out = await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [tcp(5432, '10.0.5.0/24')] }));
      assert.equal(out.SecurityGroupRules![0].IsEgress, true);
      await expectEc2Error(
        ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] })),
        'InvalidPermission.Duplicate',
      );
      const egress = (await describeGroup(groupId)).IpPermissionsEgress!;
      assert.deepEqual(egress.map((p) => p.IpProtocol).sort(), ['-1', 'tcp']);
      assert.deepEqual((await describeGroup(groupId)).IpPermissions, [], 'egress rules are not ingress rules');
    });

    test('TagSpecifications tag the new rules (resource type security-group-rule)', async () => {
      const groupId = await createGroup();
      const out = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [tcp(3306), tcp(3307)],
          TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'Name', Value: 'mysql' }] }],
        }),
      );
      for (const rule of out.SecurityGroupRules!) assert.deepEqual(rule.Tags, [{ Key: 'Name', Value: 'mysql' }]);
      const tagged = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }, { Name: 'tag:Name', Values: ['mysql'] }] }));
      assert.equal(tagged.SecurityGroupRules!.length, 2);
      await expectEc2Error(
        ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [tcp(1)], TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'a', Value: 'b' }] }] })),
        'InvalidParameterValue',
      );
    });

    test('an unknown or malformed group is InvalidGroup.NotFound / InvalidGroupId.Malformed; no group at all MissingParameter', async () => {
      await expectEc2Error(ingress('sg-0123456789abcdef0', tcp(1)), 'InvalidGroup.NotFound');
      // AWS: a security group id of any length up to 17 hex digits is well-formed.
      await expectEc2Error(ingress('sg-123', tcp(1)), 'InvalidGroup.NotFound');
      await expectEc2Error(ingress('sg-xyz', tcp(1)), 'InvalidGroupId.Malformed');
      await expectEc2Error(ec2.send(new AuthorizeSecurityGroupIngressCommand({ IpPermissions: [tcp(1)] })), 'MissingParameter');
      await expectEc2Error(ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: undefined, IpPermissions: [tcp(1)] })), 'MissingParameter');
    });

    test('DryRun answers DryRunOperation and adds no rule', async () => {
      const groupId = await createGroup();
      await expectEc2Error(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [tcp(22)], DryRun: true })), 'DryRunOperation', 412);
      assert.deepEqual((await describeGroup(groupId)).IpPermissions, []);
    });
  });

  describe('the rules quota', () => {
    let small: TestServer;
    let client: EC2Client;
    let smallVpc: string;
    before(async () => {
      small = await startTestServer({ quotas: { rulesPerSecurityGroup: 2, securityGroupsPerRegion: 8 } });
      client = small.client();
      smallVpc = (await client.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
    });
    after(() => small.stop());
    const newGroup = async (GroupName: string) =>
      (await client.send(new CreateSecurityGroupCommand({ GroupName, Description: 'd', VpcId: smallVpc }))).GroupId!;

    test('rules per group and direction are limited, IPv4 and IPv6 counted apart; group references count in both', async () => {
      const groupId = await newGroup('quota');
      const add = (...IpPermissions: IpPermission[]) => client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions }));
      await add(tcp(1), tcp(2));
      await expectEc2Error(add(tcp(3)), 'RulesPerSecurityGroupLimitExceeded');
      await add({ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, Ipv6Ranges: [{ CidrIpv6: '::/0' }] });
      await expectEc2Error(add({ IpProtocol: 'tcp', FromPort: 5, ToPort: 5, UserIdGroupPairs: [{ GroupId: groupId }] }), 'RulesPerSecurityGroupLimitExceeded');
      await expectEc2Error(
        add({ IpProtocol: 'tcp', FromPort: 2, ToPort: 2, Ipv6Ranges: [{ CidrIpv6: '::/0' }, { CidrIpv6: '2001:db8::/32' }] }),
        'RulesPerSecurityGroupLimitExceeded',
      );
      assert.equal((await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }))).SecurityGroupRules!.length, 4);
      // egress has its own count: the default allow-all plus one
      const egress = (IpPermissions: IpPermission[]) => client.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions }));
      await egress([tcp(443)]);
      await expectEc2Error(egress([tcp(444)]), 'RulesPerSecurityGroupLimitExceeded');
    });

    test('groups per region are limited: SecurityGroupLimitExceeded', async () => {
      const existing = (await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.length;
      for (let i = existing; i < 8; i++) await newGroup(`fill-${i}`);
      await expectEc2Error(newGroup('one-too-many'), 'SecurityGroupLimitExceeded');
    });
  });

  describe('RevokeSecurityGroupIngress and RevokeSecurityGroupEgress', () => {
    test('a rule named by its permission is removed', async () => {
      const groupId = await createGroup();
      await ingress(groupId, tcp(22), tcp(80));
      const out = await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '6', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
      assert.equal(out.Return, true);
      assert.equal(out.UnknownIpPermissions, undefined);
      assert.deepEqual((await describeGroup(groupId)).IpPermissions!.map((p) => p.FromPort), [80]);
    });

    test('the revoked rules are listed in RevokedSecurityGroupRules', async () => {
      const groupId = await createGroup();
      const [rule] = (await ingress(groupId, tcp(22, '10.0.0.0/8', 'ssh'))).SecurityGroupRules!;
      const out = await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [tcp(22, '10.0.0.0/8')] }));
      assert.deepEqual(out.RevokedSecurityGroupRules, [
        { SecurityGroupRuleId: rule.SecurityGroupRuleId, GroupId: groupId, IsEgress: false, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '10.0.0.0/8', Description: 'ssh' },
      ]);
    });

    test('outside a default VPC an unknown rule is InvalidPermission.NotFound and nothing is revoked', async () => {
      const groupId = await createGroup();
      await ingress(groupId, tcp(22));
      await expectEc2Error(ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [tcp(23)] })), 'InvalidPermission.NotFound');
      await expectEc2Error(ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [tcp(22), tcp(23)] })), 'InvalidPermission.NotFound');
      assert.equal((await describeGroup(groupId)).IpPermissions!.length, 1);
    });

    test('rules named by SecurityGroupRuleId are removed, with their tags', async () => {
      const groupId = await createGroup();
      const added = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [tcp(1), tcp(2)], TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'k', Value: 'v' }] }] }),
      );
      const [first, second] = added.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId!);
      await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: [first] }));
      assert.deepEqual((await rulesOf(groupId)).filter((r) => !r.IsEgress).map((r) => r.SecurityGroupRuleId), [second]);
      const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [first] }] }));
      assert.deepEqual(tags.Tags, []);
    });

    test('an unknown, malformed or other-direction rule id is refused; ids and permissions do not mix', async () => {
      const groupId = await createGroup();
      const [rule] = (await ingress(groupId, tcp(1))).SecurityGroupRules!;
      const revokeIds = (ids: string[]) => ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ids }));
      await expectEc2Error(revokeIds(['sgr-0123456789abcdef0']), 'InvalidSecurityGroupRuleId.NotFound');
      await expectEc2Error(revokeIds(['sg-0123456789abcdef0']), 'InvalidSecurityGroupRuleId.Malformed');
      await expectEc2Error(revokeIds([rule.SecurityGroupRuleId!, 'sgr-0123456789abcdef0']), 'InvalidSecurityGroupRuleId.NotFound');
      await expectEc2Error(
        ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, SecurityGroupRuleIds: [rule.SecurityGroupRuleId!] })),
        'InvalidSecurityGroupRuleId.NotFound',
      );
      await expectEc2Error(
        ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: [rule.SecurityGroupRuleId!], IpPermissions: [tcp(1)] })),
        'InvalidParameterCombination',
      );
      await expectEc2Error(ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId })), 'MissingParameter');
      assert.equal((await describeGroup(groupId)).IpPermissions!.length, 1, 'the failed calls revoked nothing');
    });

    test('revoking the allow-all egress rule leaves no egress rule', async () => {
      const groupId = await createGroup();
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
      assert.deepEqual((await describeGroup(groupId)).IpPermissionsEgress, []);
    });

    test('the legacy flat members revoke ingress too', async () => {
      const groupId = await createGroup();
      await ingress(groupId, tcp(8080, '192.0.2.0/24'));
      await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, CidrIp: '192.0.2.0/24' }));
      assert.deepEqual((await describeGroup(groupId)).IpPermissions, []);
    });
  });

  describe('DescribeSecurityGroups and DescribeSecurityGroupRules', () => {
    let web: string;
    let db: string;
    before(async () => {
      web = await createGroup({ name: 'describe-web', tags: { tier: 'web' } });
      db = await createGroup({ name: 'describe-db', tags: { tier: 'db', backup: 'yes' } });
      await ingress(web, tcp(443, '0.0.0.0/0'), { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32' }] });
      await ingress(db, { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: web }] });
      await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: web, IpPermissions: [tcp(5432, '10.0.9.0/24')] }));
    });

    test('by GroupIds; an unknown id is InvalidGroup.NotFound, a malformed one InvalidGroupId.Malformed', async () => {
      const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [db, web] }));
      assert.deepEqual(out.SecurityGroups!.map((g) => g.GroupId).sort(), [db, web].sort());
      await expectEc2Error(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [web, 'sg-0123456789abcdef0'] })), 'InvalidGroup.NotFound');
      await expectEc2Error(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['web'] })), 'InvalidGroupId.Malformed');
    });

    test('filters on the group: group-id, group-name (wildcards), description, vpc-id, owner-id, tags', async () => {
      const inVpc = { Name: 'vpc-id', Values: [vpcId] };
      assert.deepEqual(await groupIds([inVpc, { Name: 'group-name', Values: ['describe-*'] }]), [db, web].sort());
      assert.deepEqual(await groupIds([{ Name: 'group-id', Values: [web] }]), [web]);
      assert.deepEqual(await groupIds([inVpc, { Name: 'description', Values: ['the describe-db group'] }]), [db]);
      assert.deepEqual(await groupIds([inVpc, { Name: 'owner-id', Values: [ACCOUNT] }, { Name: 'group-name', Values: ['describe-web'] }]), [web]);
      assert.deepEqual(await groupIds([inVpc, { Name: 'tag:tier', Values: ['db'] }]), [db]);
      assert.deepEqual(await groupIds([inVpc, { Name: 'tag-key', Values: ['backup'] }]), [db]);
      assert.deepEqual(await groupIds([inVpc, { Name: 'tag-value', Values: ['db'] }]), [db]);
      const inOtherVpc = await groupIds([{ Name: 'vpc-id', Values: [otherVpcId] }]);
      assert.ok(!inOtherVpc.includes(web));
    });

    test('filters on the rules: ip-permission.* and egress.ip-permission.*', async () => {
      const inVpc = { Name: 'vpc-id', Values: [vpcId] };
      const mine = (ids: string[]) => ids.filter((id) => id === web || id === db);
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'ip-permission.from-port', Values: ['443'] }])), [web]);
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'ip-permission.to-port', Values: ['5432'] }])), [db]);
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'ip-permission.cidr', Values: ['0.0.0.0/0'] }])), [web]);
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'ip-permission.ipv6-cidr', Values: ['2001:db8::/32'] }])), [web]);
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'ip-permission.group-id', Values: [web] }])), [db]);
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'ip-permission.group-name', Values: ['describe-w*'] }])), [db]);
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'ip-permission.user-id', Values: [ACCOUNT] }])), [db]);
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'ip-permission.protocol', Values: ['6'] }, { Name: 'group-name', Values: ['describe-*'] }])), [db, web].sort());
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'egress.ip-permission.cidr', Values: ['10.0.9.0/24'] }])), [web]);
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'egress.ip-permission.from-port', Values: ['443'] }])), []);
      assert.deepEqual(mine(await groupIds([inVpc, { Name: 'ip-permission.group-name', Values: ['no-such'] }])), []);
    });

    test('an unknown filter is InvalidParameterValue', async () => {
      await expectEc2Error(ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'ip-permission.colour', Values: ['x'] }] })), 'InvalidParameterValue');
    });

    test('MaxResults and NextToken page through every group of the VPC exactly once', async () => {
      const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.2.0.0/16' }))).Vpc!.VpcId!;
      const created = new Set<string>();
      for (let i = 0; i < 7; i++) created.add(await createGroup({ vpc }));
      const seen: string[] = [];
      let pages = 0;
      for await (const page of paginateDescribeSecurityGroups({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'vpc-id', Values: [vpc] }] })) {
        pages++;
        assert.ok(page.SecurityGroups!.length <= 5);
        seen.push(...page.SecurityGroups!.map((g) => g.GroupId!));
      }
      assert.equal(pages, 2);
      assert.equal(seen.length, 8, 'seven groups and the default one');
      assert.equal(new Set(seen).size, 8);
      for (const id of created) assert.ok(seen.includes(id));
      await expectEc2Error(ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 4 })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: 'garbage' })), 'InvalidNextToken');
    });

    test('DescribeSecurityGroupRules: by id, by group-id and security-group-rule-id, paged', async () => {
      const rules = await rulesOf(web);
      assert.equal(rules.length, 4, 'two inbound, the default outbound and one more');
      const one = rules.find((r) => r.CidrIpv6)!;
      assert.deepEqual(one, {
        SecurityGroupRuleId: one.SecurityGroupRuleId,
        SecurityGroupRuleArn: `arn:aws:ec2:eu-west-1:${ACCOUNT}:security-group-rule/${one.SecurityGroupRuleId}`,
        GroupId: web,
        GroupOwnerId: ACCOUNT,
        IsEgress: false,
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        CidrIpv6: '2001:db8::/32',
        Tags: [],
      });
      const byId = await ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [one.SecurityGroupRuleId!] }));
      assert.deepEqual(byId.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId), [one.SecurityGroupRuleId]);
      const byFilter = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'security-group-rule-id', Values: [one.SecurityGroupRuleId!] }] }));
      assert.equal(byFilter.SecurityGroupRules!.length, 1);
      const seen: string[] = [];
      for await (const page of paginateDescribeSecurityGroupRules({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'group-id', Values: [web, db] }] })) {
        assert.ok(page.SecurityGroupRules!.length <= 5);
        seen.push(...page.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId!));
      }
      assert.equal(seen.length, 6);
      assert.equal(new Set(seen).size, 6);
      await expectEc2Error(ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: ['sgr-0123456789abcdef0'] })), 'InvalidSecurityGroupRuleId.NotFound');
      await expectEc2Error(ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: ['sgr-x'] })), 'InvalidSecurityGroupRuleId.Malformed');
      await expectEc2Error(ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'cidr', Values: ['x'] }] })), 'InvalidParameterValue');
    });
  });

  describe('DeleteSecurityGroup', () => {
    test('deletes the group with its rules and tags; it is then InvalidGroup.NotFound', async () => {
      const groupId = await createGroup({ tags: { doomed: 'yes' } });
      const [rule] = (await ingress(groupId, tcp(22))).SecurityGroupRules!;
      const out = await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
      assert.equal(out.Return, true);
      await expectEc2Error(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })), 'InvalidGroup.NotFound');
      await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId })), 'InvalidGroup.NotFound');
      await expectEc2Error(ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [rule.SecurityGroupRuleId!] })), 'InvalidSecurityGroupRuleId.NotFound');
      assert.deepEqual((await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [groupId] }] }))).Tags, []);
    });

    test('the VPC’s default group cannot be deleted: CannotDelete', async () => {
      const [defaultGroup] = await groupIds([{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: ['default'] }]);
      await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: defaultGroup })), 'CannotDelete');
    });

    test('a group referenced by another group’s rule is a DependencyViolation; a self-reference is not', async () => {
      const target = await createGroup();
      const referrer = await createGroup();
      await ingress(target, { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: target }] });
      await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: referrer, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 2, ToPort: 2, UserIdGroupPairs: [{ GroupId: target }] }] }));
      const error = await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: target })), 'DependencyViolation');
      assert.equal(error.message, `resource ${target} has a dependent object`);
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: referrer, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 2, ToPort: 2, UserIdGroupPairs: [{ GroupId: target }] }] }));
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: target }));
    });

    test('a group is needed; unknown and malformed ids are refused', async () => {
      await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({})), 'MissingParameter');
      await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-0123456789abcdef0' })), 'InvalidGroup.NotFound');
      await expectEc2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-zzz' })), 'InvalidGroupId.Malformed');
    });

    test('DeleteSecurityGroup answers the deleted group id', async () => {
      const groupId = await createGroup();
      const out = await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
      assert.equal(out.Return, true);
      assert.equal(out.GroupId, groupId);
    });

    test('a VPC with a group of its own cannot be deleted; once the group is gone it can, default group and all', async () => {
      const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.3.0.0/16' }))).Vpc!.VpcId!;
      const groupId = await createGroup({ vpc });
      await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpc })), 'DependencyViolation');
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
      await ec2.send(new DeleteVpcCommand({ VpcId: vpc }));
      assert.deepEqual(await groupIds([{ Name: 'vpc-id', Values: [vpc] }]), []);
    });
  });

  describe('groupsForInterface, the check the network-interface module runs on a group set', () => {
    const check = (account: string, groups: string[] | undefined, options?: { subnetId?: string }) =>
      asAccount(server, account, 'eu-west-1', (ctx) => groupsForInterface(ctx, vpcId, groups, options));
    const rejectsWith = (promise: Promise<unknown>, code: string) =>
      assert.rejects(promise, (e: unknown) => e instanceof Ec2Error && e.code === code, `expected ${code}`);

    test('no groups means the VPC’s default group; given ones come back in order, once each', async () => {
      const [defaultGroup] = await groupIds([{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: ['default'] }]);
      assert.deepEqual(await check(ACCOUNT, undefined), [defaultGroup]);
      assert.deepEqual(await check(ACCOUNT, []), [defaultGroup]);
      const a = await createGroup();
      const b = await createGroup();
      assert.deepEqual(await check(ACCOUNT, [b, a, b]), [b, a]);
    });

    test('malformed, unknown, another account’s or another VPC’s group is refused; so is a sixth group', async () => {
      const mine = await createGroup();
      const elsewhere = await createGroup({ vpc: otherVpcId });
      await rejectsWith(check(ACCOUNT, ['sg-x']), 'InvalidGroupId.Malformed');
      await rejectsWith(check(ACCOUNT, ['sg-0123456789abcdef0']), 'InvalidGroup.NotFound');
      await rejectsWith(check(OTHER_ACCOUNT, [mine]), 'InvalidGroup.NotFound');
      await rejectsWith(check(ACCOUNT, [mine, elsewhere]), 'InvalidGroup.NotFound');
      await rejectsWith(check(ACCOUNT, [elsewhere], { subnetId: 'subnet-0123456789abcdef0' }), 'InvalidParameter');
      const six = [mine];
      for (let i = 0; i < 5; i++) six.push(await createGroup());
      await rejectsWith(check(ACCOUNT, six), 'SecurityGroupsPerInterfaceLimitExceeded');
      assert.equal((await check(ACCOUNT, six.slice(0, 5))).length, 5);
    });

    test('groupIdentifiersOf answers an empty groupSet for an interface without groups', async () => {
      const sets = await groupIdentifiersOf(server.store.db, ['eni-0123456789abcdef0']);
      assert.deepEqual([...sets], [['eni-0123456789abcdef0', []]]);
    });
  });

  describe('accounts and the default VPC', () => {
    test('a group of one account is InvalidGroup.NotFound to another', async () => {
      const groupId = await createGroup();
      const other = server.client({ region: 'eu-west-1', accessKeyId: 'AKIDOTHER' });
      await expectEc2Error(other.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })), 'InvalidGroup.NotFound');
      await expectEc2Error(other.send(new DeleteSecurityGroupCommand({ GroupId: groupId })), 'InvalidGroup.NotFound');
      await expectEc2Error(other.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [tcp(1)] })), 'InvalidGroup.NotFound');
      const theirView = await other.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
      assert.deepEqual(theirView.SecurityGroupRules, [], 'another account sees none of the rules');
      const theirVpc = (await other.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
      const theirs = (await other.send(new CreateSecurityGroupCommand({ GroupName: 'theirs', Description: 'd', VpcId: theirVpc }))).GroupId!;
      assert.equal((await describeGroup(theirs, other)).OwnerId, OTHER_ACCOUNT);
      await expectEc2Error(
        other.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: theirs, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: groupId }] }] })),
        'InvalidGroup.NotFound',
      );
      await expectEc2Error(server.client({ region: 'us-west-2' }).send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })), 'InvalidGroup.NotFound');
    });

    test('without a VpcId and without a default VPC, CreateSecurityGroup is VPCIdNotSpecified; names do not resolve', async () => {
      await withoutDefaultVpc(server, ACCOUNT, 'sa-east-1');
      const client = server.client({ region: 'sa-east-1' });
      await expectEc2Error(client.send(new CreateSecurityGroupCommand({ GroupName: 'g', Description: 'd' })), 'VPCIdNotSpecified');
      await expectEc2Error(client.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] })), 'InvalidGroup.NotFound');
    });

    test('in the default VPC: a group may be created without VpcId and named instead of identified', async () => {
      const client = server.client({ region: 'ap-northeast-1' });
      const defaultVpc = await ensureDefaultVpc(server, client, ACCOUNT, 'ap-northeast-1');
      const created = await client.send(new CreateSecurityGroupCommand({ GroupName: 'in-default', Description: 'd' }));
      const byName = await client.send(new DescribeSecurityGroupsCommand({ GroupNames: ['in-default', 'default'] }));
      assert.deepEqual(byName.SecurityGroups!.map((g) => g.VpcId), [defaultVpc, defaultVpc]);
      assert.ok(byName.SecurityGroups!.some((g) => g.GroupId === created.GroupId));
      await expectEc2Error(client.send(new DescribeSecurityGroupsCommand({ GroupNames: ['no-such-group'] })), 'InvalidGroup.NotFound');

      await client.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: 'in-default', IpPermissions: [tcp(22)] }));
      await expectEc2Error(
        client.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: 'in-default', GroupId: created.GroupId, IpPermissions: [tcp(23)] })),
        'InvalidParameterCombination',
      );
      // AWS: in a default VPC, unknown rules are reported, not refused; known ones are revoked
      const revoked = await client.send(new RevokeSecurityGroupIngressCommand({ GroupName: 'in-default', IpPermissions: [tcp(22), tcp(2222, '10.9.9.9/32')] }));
      assert.equal(revoked.Return, true);
      assert.deepEqual(revoked.UnknownIpPermissions, [
        { IpProtocol: 'tcp', FromPort: 2222, ToPort: 2222, IpRanges: [{ CidrIp: '10.9.9.9/32' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] },
      ]);
      assert.deepEqual((await describeGroup(created.GroupId!, client)).IpPermissions, []);

      await client.send(new DeleteSecurityGroupCommand({ GroupName: 'in-default' }));
      await expectEc2Error(client.send(new DescribeSecurityGroupsCommand({ GroupIds: [created.GroupId!] })), 'InvalidGroup.NotFound');
      await expectEc2Error(client.send(new DeleteSecurityGroupCommand({ GroupName: 'default' })), 'CannotDelete');
    });
  });
});
