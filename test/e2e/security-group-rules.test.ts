/**
 * Security group rules as objects, through the SDK: ModifySecurityGroupRules (the rule keeps its
 * id and tags, its match and description replaced), UpdateSecurityGroupRuleDescriptionsIngress/Egress
 * (by permission and by rule id), and DescribeSecurityGroupRules validating the ids its filters name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateVpcCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  ModifySecurityGroupRulesCommand,
  UpdateSecurityGroupRuleDescriptionsEgressCommand,
  UpdateSecurityGroupRuleDescriptionsIngressCommand,
  type EC2Client,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createGroup } from '../helpers/topology.ts';

describe('security group rules as objects', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  let n = 0;

  before(async () => {
    server = await startTestServer();
    ec2 = server.client();
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  });
  after(() => server.stop());

  const ssh = async (groupId: string, cidr = '203.0.113.0/24', description = 'ssh'): Promise<SecurityGroupRule> =>
    (
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: cidr, Description: description }] }],
          TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'k', Value: 'v' }] }],
        }),
      )
    ).SecurityGroupRules![0];
  const ruleOf = async (id: string) => (await ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [id] }))).SecurityGroupRules![0];

  describe('ModifySecurityGroupRules', () => {
    test('replaces the match and the description of a rule, which keeps its id, direction and tags', async () => {
      const groupId = await createGroup(ec2, vpcId, `modify-${++n}`);
      const rule = await ssh(groupId);
      const out = await ec2.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: groupId,
          SecurityGroupRules: [{ SecurityGroupRuleId: rule.SecurityGroupRuleId, SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '198.51.100.0/24', Description: 'https' } }],
        }),
      );
      assert.equal(out.Return, true);
      const after = await ruleOf(rule.SecurityGroupRuleId!);
      assert.equal(after.FromPort, 443);
      assert.equal(after.ToPort, 443);
      assert.equal(after.CidrIpv4, '198.51.100.0/24');
      assert.equal(after.Description, 'https');
      assert.equal(after.IsEgress, false);
      assert.deepEqual(after.Tags, [{ Key: 'k', Value: 'v' }]);
      const group = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }))).SecurityGroups![0];
      assert.deepEqual(group.IpPermissions![0].IpRanges, [{ CidrIp: '198.51.100.0/24', Description: 'https' }]);
      // The peer may change kind: a referenced group.
      const peer = await createGroup(ec2, vpcId, `peer-${n}`);
      await ec2.send(
        new ModifySecurityGroupRulesCommand({ GroupId: groupId, SecurityGroupRules: [{ SecurityGroupRuleId: rule.SecurityGroupRuleId, SecurityGroupRule: { IpProtocol: '-1', ReferencedGroupId: peer } }] }),
      );
      const referencing = await ruleOf(rule.SecurityGroupRuleId!);
      assert.equal(referencing.ReferencedGroupInfo?.GroupId, peer);
      assert.equal(referencing.CidrIpv4, undefined);
      assert.equal(referencing.IpProtocol, '-1');
      assert.equal(referencing.Description, undefined, 'what is not given is not kept');
    });

    test('a rule of another group, an unknown or malformed id, a duplicate and a rule without a peer are refused, changing nothing', async () => {
      const groupId = await createGroup(ec2, vpcId, `refuse-${++n}`);
      const other = await createGroup(ec2, vpcId, `other-${n}`);
      const a = await ssh(groupId, '10.1.0.0/16');
      const b = await ssh(groupId, '10.2.0.0/16');
      const foreign = await ssh(other);
      const modify = (id: string | undefined, rule: object, group = groupId) =>
        ec2.send(new ModifySecurityGroupRulesCommand({ GroupId: group, SecurityGroupRules: [{ SecurityGroupRuleId: id, SecurityGroupRule: rule }] }));
      await expectEc2Error(modify(foreign.SecurityGroupRuleId, { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, CidrIpv4: '10.9.0.0/16' }), 'InvalidSecurityGroupRuleId.NotFound');
      await expectEc2Error(modify('sgr-0123456789abcdef0', { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, CidrIpv4: '10.9.0.0/16' }), 'InvalidSecurityGroupRuleId.NotFound');
      await expectEc2Error(modify('foobar', { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, CidrIpv4: '10.9.0.0/16' }), 'InvalidSecurityGroupRuleId.Malformed');
      await expectEc2Error(modify(a.SecurityGroupRuleId, { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '10.2.0.0/16' }), 'InvalidPermission.Duplicate');
      await expectEc2Error(modify(a.SecurityGroupRuleId, { IpProtocol: 'tcp', FromPort: 22, ToPort: 22 }), 'MissingParameter');
      await expectEc2Error(modify(a.SecurityGroupRuleId, { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '10.3.0.0/16', CidrIpv6: '2001:db8::/32' }), 'InvalidParameterCombination');
      await expectEc2Error(modify(a.SecurityGroupRuleId, { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '10.3.0.0/16' }, 'sg-0123456789abcdef0'), 'InvalidGroup.NotFound');
      assert.equal((await ruleOf(a.SecurityGroupRuleId!)).CidrIpv4, '10.1.0.0/16');
      assert.equal((await ruleOf(b.SecurityGroupRuleId!)).CidrIpv4, '10.2.0.0/16');
    });
  });

  describe('UpdateSecurityGroupRuleDescriptions', () => {
    test('by permission: the matching rules get the new descriptions, an absent description clears one', async () => {
      const groupId = await createGroup(ec2, vpcId, `describe-${++n}`);
      const a = await ssh(groupId, '10.1.0.0/16', 'old a');
      const b = await ssh(groupId, '10.2.0.0/16', 'old b');
      const out = await ec2.send(
        new UpdateSecurityGroupRuleDescriptionsIngressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.1.0.0/16', Description: 'new a' }, { CidrIp: '10.2.0.0/16' }] }],
        }),
      );
      assert.equal(out.Return, true);
      assert.equal((await ruleOf(a.SecurityGroupRuleId!)).Description, 'new a');
      assert.equal((await ruleOf(b.SecurityGroupRuleId!)).Description, undefined);
      await expectEc2Error(
        ec2.send(new UpdateSecurityGroupRuleDescriptionsIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 23, ToPort: 23, IpRanges: [{ CidrIp: '10.1.0.0/16', Description: 'x' }] }] })),
        'InvalidPermission.NotFound',
      );
      await expectEc2Error(
        ec2.send(new UpdateSecurityGroupRuleDescriptionsIngressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.1.0.0/16', Description: 'bad <chars>' }] }] })),
        'InvalidParameterValue',
      );
      assert.equal((await ruleOf(a.SecurityGroupRuleId!)).Description, 'new a');
    });

    test('by rule id, in each direction; an ingress rule is not an egress rule', async () => {
      const groupId = await createGroup(ec2, vpcId, `byid-${++n}`);
      const ingress = await ssh(groupId);
      const egress = (
        await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: [{ IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '10.0.0.2/32' }] }] }))
      ).SecurityGroupRules![0];
      await ec2.send(new UpdateSecurityGroupRuleDescriptionsEgressCommand({ GroupId: groupId, SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: egress.SecurityGroupRuleId, Description: 'dns' }] }));
      assert.equal((await ruleOf(egress.SecurityGroupRuleId!)).Description, 'dns');
      await expectEc2Error(
        ec2.send(new UpdateSecurityGroupRuleDescriptionsEgressCommand({ GroupId: groupId, SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: ingress.SecurityGroupRuleId, Description: 'x' }] })),
        'InvalidSecurityGroupRuleId.NotFound',
      );
      await expectEc2Error(ec2.send(new UpdateSecurityGroupRuleDescriptionsIngressCommand({ GroupId: groupId })), 'MissingParameter');
      await expectEc2Error(
        ec2.send(
          new UpdateSecurityGroupRuleDescriptionsIngressCommand({
            GroupId: groupId,
            SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: ingress.SecurityGroupRuleId, Description: 'x' }],
            IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.0/24' }] }],
          }),
        ),
        'InvalidParameterCombination',
      );
    });
  });

  describe('DescribeSecurityGroupRules filters', () => {
    test('group-id and security-group-rule-id values must be well-formed ids (wildcards pass)', async () => {
      await expectEc2Error(ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: ['foobar'] }] })), 'InvalidGroupId.Malformed');
      await expectEc2Error(ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'security-group-rule-id', Values: ['foobar'] }] })), 'InvalidSecurityGroupRuleId.Malformed');
      const none = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: ['sg-0123456789abcdef0'] }] }));
      assert.deepEqual(none.SecurityGroupRules, []);
      const groupId = await createGroup(ec2, vpcId, `filters-${++n}`);
      const wild = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [`${groupId.slice(0, -3)}*`] }] }));
      assert.ok(wild.SecurityGroupRules!.some((r) => r.GroupId === groupId));
      await expectEc2Error(ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })), 'InvalidParameterValue');
    });
  });
});
