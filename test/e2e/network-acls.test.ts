/**
 * Network ACLs end to end through the SDK: every VPC's default ACL (allow-all, the `*` rules,
 * every subnet associated), custom ACLs, entry validation, replacing and deleting entries,
 * moving a subnet to another ACL, deleting ACLs, the describe filters — and, through the data
 * plane, that the ACL a subnet is associated with is the one that decides.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AssociateVpcCidrBlockCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateSubnetCommand,
  DeleteNetworkAclCommand,
  DeleteNetworkAclEntryCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeNetworkAclsCommand,
  ReplaceNetworkAclAssociationCommand,
  ReplaceNetworkAclEntryCommand,
  type CreateNetworkAclEntryCommandInput,
  type EC2Client,
  type NetworkAclEntry,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createNetwork, launch, type Network } from '../helpers/topology.ts';
import { aclAssociationOf, aclIds, assertDelivered, assertDropped, blockingHop, defaultAclOf, describeAcl, probe } from '../helpers/dataplane.ts';

const ACCOUNT = '000000000000';
const ACL_ID = /^acl-[0-9a-f]{17}$/;
const ASSOCIATION_ID = /^aclassoc-[0-9a-f]{17}$/;

/** An entry as a comparable tuple: [egress, rule, protocol, action, cidr, ipv6 cidr, ports]. */
const entryKey = (e: NetworkAclEntry) => [
  e.Egress,
  e.RuleNumber,
  e.Protocol,
  e.RuleAction,
  e.CidrBlock ?? null,
  e.Ipv6CidrBlock ?? null,
  e.PortRange ? `${e.PortRange.From}-${e.PortRange.To}` : null,
];
const sortedKeys = (entries: NetworkAclEntry[]) => entries.map(entryKey).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));

describe('network ACLs', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let block = 10;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 100 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  async function network(): Promise<Network & { n: number; cidr: string }> {
    const n = block++;
    const cidr = `10.${n}.0.0/16`;
    const net = await createNetwork(ec2, cidr, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' }, b: { cidr: `10.${n}.2.0/24`, zone: 'us-east-1a' } });
    return { ...net, n, cidr };
  }
  const subnetOf = (net: Network, name: 'a' | 'b') => net.subnets[name].SubnetId!;
  const newAcl = async (vpcId: string) => (await ec2.send(new CreateNetworkAclCommand({ VpcId: vpcId }))).NetworkAcl!.NetworkAclId!;
  const entry = (aclId: string, e: Omit<CreateNetworkAclEntryCommandInput, 'NetworkAclId'>) => ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: aclId, ...e }));
  const allowAll = (egress: boolean, ruleNumber = 100) => ({ RuleNumber: ruleNumber, Protocol: '-1', RuleAction: 'allow' as const, Egress: egress, CidrBlock: '0.0.0.0/0' });

  describe('the default ACL', () => {
    test('every VPC has one default ACL: rule 100 allows and rule * denies all traffic both ways, and every subnet is associated with it', async () => {
      const net = await network();
      const { NetworkAcls } = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }));
      assert.equal(NetworkAcls!.length, 1);
      const [acl] = NetworkAcls!;
      assert.match(acl.NetworkAclId!, ACL_ID);
      assert.equal(acl.IsDefault, true);
      assert.equal(acl.VpcId, net.vpcId);
      assert.equal(acl.OwnerId, ACCOUNT);
      assert.deepEqual(sortedKeys(acl.Entries!), sortedKeys([
        { Egress: false, RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0' },
        { Egress: false, RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', CidrBlock: '0.0.0.0/0' },
        { Egress: true, RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0' },
        { Egress: true, RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', CidrBlock: '0.0.0.0/0' },
      ]));
      assert.deepEqual(acl.Associations!.map((a) => a.SubnetId).sort(), [subnetOf(net, 'a'), subnetOf(net, 'b')].sort());
      for (const association of acl.Associations!) {
        assert.match(association.NetworkAclAssociationId!, ASSOCIATION_ID);
        assert.equal(association.NetworkAclId, acl.NetworkAclId);
      }
      // A subnet made later joins the default ACL.
      const later = (await ec2.send(new CreateSubnetCommand({ VpcId: net.vpcId, CidrBlock: `10.${net.n}.3.0/24`, AvailabilityZone: 'us-east-1b' }))).Subnet!;
      assert.equal((await aclAssociationOf(ec2, later.SubnetId!)).networkAclId, acl.NetworkAclId);
    });

    test('once the VPC has an IPv6 block, the default ACL also allows ::/0 (rule 101) and denies it with a * rule', async () => {
      const net = await network();
      await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: net.vpcId, AmazonProvidedIpv6CidrBlock: true }));
      const acl = await defaultAclOf(ec2, net.vpcId);
      for (const egress of [false, true]) {
        const v6 = acl.Entries!.filter((e) => e.Egress === egress && e.Ipv6CidrBlock === '::/0').map((e) => [e.RuleNumber, e.RuleAction, e.Protocol]);
        assert.deepEqual(v6.sort(), [[101, 'allow', '-1'], [32767, 'deny', '-1']], `egress=${egress}`);
      }
    });
  });

  describe('custom ACLs and their entries', () => {
    test('CreateNetworkAcl: not default, only the * deny entries, no association; tags apply; an unknown VPC is InvalidVpcID.NotFound', async () => {
      const net = await network();
      const { NetworkAcl } = await ec2.send(
        new CreateNetworkAclCommand({ VpcId: net.vpcId, TagSpecifications: [{ ResourceType: 'network-acl', Tags: [{ Key: 'Name', Value: 'locked' }] }] }),
      );
      assert.match(NetworkAcl!.NetworkAclId!, ACL_ID);
      assert.equal(NetworkAcl!.IsDefault, false);
      assert.equal(NetworkAcl!.VpcId, net.vpcId);
      assert.deepEqual(NetworkAcl!.Associations, []);
      assert.deepEqual(sortedKeys(NetworkAcl!.Entries!), sortedKeys([
        { Egress: false, RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', CidrBlock: '0.0.0.0/0' },
        { Egress: true, RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', CidrBlock: '0.0.0.0/0' },
      ]));
      assert.deepEqual(NetworkAcl!.Tags, [{ Key: 'Name', Value: 'locked' }]);
      await expectEc2Error(ec2.send(new CreateNetworkAclCommand({ VpcId: 'vpc-0123456789abcdef0' })), 'InvalidVpcID.NotFound');
    });

    test('CreateNetworkAclEntry adds entries with protocol numbers, port ranges and ICMP type/code, shown in DescribeNetworkAcls', async () => {
      const net = await network();
      const acl = await newAcl(net.vpcId);
      await entry(acl, { RuleNumber: 100, Protocol: '6', RuleAction: 'allow', Egress: false, CidrBlock: '10.0.0.0/8', PortRange: { From: 22, To: 22 } });
      await entry(acl, { RuleNumber: 110, Protocol: '17', RuleAction: 'deny', Egress: false, CidrBlock: '192.0.2.0/24', PortRange: { From: 53, To: 53 } });
      await entry(acl, { RuleNumber: 120, Protocol: '1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: 8, Code: -1 } });
      await entry(acl, { RuleNumber: 130, Protocol: '50', RuleAction: 'allow', Egress: false, CidrBlock: '198.51.100.0/24' });
      await entry(acl, { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: true, Ipv6CidrBlock: '::/0' });
      const described = await describeAcl(ec2, acl);
      const find = (egress: boolean, rule: number) => described.Entries!.find((e) => e.Egress === egress && e.RuleNumber === rule)!;
      assert.deepEqual(entryKey(find(false, 100)), [false, 100, '6', 'allow', '10.0.0.0/8', null, '22-22']);
      assert.deepEqual(entryKey(find(false, 110)), [false, 110, '17', 'deny', '192.0.2.0/24', null, '53-53']);
      assert.deepEqual(find(false, 120).IcmpTypeCode, { Type: 8, Code: -1 });
      assert.equal(find(false, 120).Protocol, '1');
      assert.equal(find(false, 130).Protocol, '50');
      assert.deepEqual(entryKey(find(true, 100)), [true, 100, '-1', 'allow', null, '::/0', null]);
    });

    test('CreateNetworkAclEntry validation: rule numbers 1..32766, duplicates, a TCP entry without PortRange, an ICMP entry without IcmpTypeCode, unknown protocols', async () => {
      const net = await network();
      const acl = await newAcl(net.vpcId);
      const before = await describeAcl(ec2, acl);
      for (const RuleNumber of [0, 32767, 32768]) {
        const error = await expectEc2Error(entry(acl, { ...allowAll(false), RuleNumber }), 'InvalidParameterValue');
        assert.match(error.message, /ruleNumber|rule number/i);
      }
      await entry(acl, allowAll(false, 1));
      await entry(acl, allowAll(false, 32766));
      await expectEc2Error(entry(acl, { ...allowAll(false, 1), RuleAction: 'deny' }), 'NetworkAclEntryAlreadyExists');
      // The same number in the other direction is another entry.
      await entry(acl, allowAll(true, 1));

      await expectEc2Error(entry(acl, { RuleNumber: 200, Protocol: '6', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' }), 'MissingParameter');
      await expectEc2Error(entry(acl, { RuleNumber: 201, Protocol: '1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' }), 'MissingParameter');
      await expectEc2Error(entry(acl, { RuleNumber: 202, Protocol: '256', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' }), 'InvalidParameterValue');
      await expectEc2Error(entry(acl, { RuleNumber: 203, Protocol: '-1', RuleAction: 'allow', Egress: false, CidrBlock: '10.0.0.0/33' }), 'InvalidParameterValue');
      await expectEc2Error(entry('acl-0123456789abcdef0', allowAll(false, 300)), 'InvalidNetworkAclID.NotFound');

      const after = await describeAcl(ec2, acl);
      assert.deepEqual(sortedKeys(after.Entries!), sortedKeys([...before.Entries!, { ...allowAll(false, 1) }, { ...allowAll(false, 32766) }, { ...allowAll(true, 1) }]), 'only the accepted entries were added');
    });

    test('the API takes protocol numbers only: a protocol name such as "tcp" is InvalidParameterValue (the AWS CLI translates names before calling)', async () => {
      const net = await network();
      const acl = await newAcl(net.vpcId);
      for (const [Protocol, i] of [['tcp', 0], ['udp', 1], ['icmp', 2]] as const) {
        const error = await expectEc2Error(
          entry(acl, { RuleNumber: 100 + i, Protocol, RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0', PortRange: { From: 1, To: 2 }, IcmpTypeCode: { Type: -1, Code: -1 } }),
          'InvalidParameterValue',
        );
        assert.match(error.message, /protocol/i);
      }
    });

    test('ReplaceNetworkAclEntry changes an entry in place; an unknown rule number is InvalidNetworkAclEntry.NotFound', async () => {
      const net = await network();
      const acl = await newAcl(net.vpcId);
      await entry(acl, { RuleNumber: 100, Protocol: '6', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0', PortRange: { From: 80, To: 80 } });
      await ec2.send(new ReplaceNetworkAclEntryCommand({ NetworkAclId: acl, RuleNumber: 100, Protocol: '6', RuleAction: 'deny', Egress: false, CidrBlock: '203.0.113.0/24', PortRange: { From: 443, To: 443 } }));
      const replaced = (await describeAcl(ec2, acl)).Entries!.filter((e) => !e.Egress && e.RuleNumber === 100);
      assert.deepEqual(replaced.map(entryKey), [[false, 100, '6', 'deny', '203.0.113.0/24', null, '443-443']]);
      await expectEc2Error(
        ec2.send(new ReplaceNetworkAclEntryCommand({ NetworkAclId: acl, RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: true, CidrBlock: '0.0.0.0/0' })),
        'InvalidNetworkAclEntry.NotFound',
      );
      await expectEc2Error(
        ec2.send(new ReplaceNetworkAclEntryCommand({ NetworkAclId: acl, RuleNumber: 150, Protocol: '-1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' })),
        'InvalidNetworkAclEntry.NotFound',
      );
    });

    test('DeleteNetworkAclEntry removes an entry; an unknown one is InvalidNetworkAclEntry.NotFound', async () => {
      const net = await network();
      const acl = await defaultAclOf(ec2, net.vpcId);
      await ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: acl.NetworkAclId, RuleNumber: 100, Egress: true }));
      const after = await describeAcl(ec2, acl.NetworkAclId!);
      assert.ok(!after.Entries!.some((e) => e.Egress && e.RuleNumber === 100));
      assert.ok(after.Entries!.some((e) => !e.Egress && e.RuleNumber === 100), 'the ingress rule 100 is another entry');
      await expectEc2Error(ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: acl.NetworkAclId, RuleNumber: 100, Egress: true })), 'InvalidNetworkAclEntry.NotFound');
      await expectEc2Error(ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: acl.NetworkAclId, RuleNumber: 555, Egress: false })), 'InvalidNetworkAclEntry.NotFound');
    });

    test('entries are evaluated in rule-number order, first match wins: a lower-numbered allow beats a deny, a lower-numbered deny beats an allow', async () => {
      const net = await network();
      const a = await launch(ec2, { SubnetId: subnetOf(net, 'a') });
      const b = await launch(ec2, { SubnetId: subnetOf(net, 'b') });
      const acl = await newAcl(net.vpcId);
      await entry(acl, allowAll(true, 100));
      await entry(acl, { RuleNumber: 50, Protocol: '6', RuleAction: 'allow', Egress: false, CidrBlock: `10.${net.n}.1.0/24`, PortRange: { From: 22, To: 22 } });
      await entry(acl, { RuleNumber: 60, Protocol: '6', RuleAction: 'deny', Egress: false, CidrBlock: '0.0.0.0/0', PortRange: { From: 0, To: 65535 } });
      await entry(acl, allowAll(false, 100));
      const { associationId } = await aclAssociationOf(ec2, subnetOf(net, 'b'));
      await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: associationId, NetworkAclId: acl }));
      assertDelivered(await probe(server.url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }), 'rule 50 allows before rule 60 denies:');
      const denied = assertDropped(await probe(server.url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 80 }), 'nacl-denied', 'rule 60 denies before rule 100 allows:');
      assert.match(blockingHop(denied).rule ?? '', /60/);
      // UDP is matched by neither tcp rule: rule 100 allows it.
      assertDelivered(await probe(server.url, { from: a.InstanceId!, to: b.PrivateIpAddress!, protocol: 'udp', port: 53 }));
    });
  });

  describe('associations and deletion', () => {
    test('ReplaceNetworkAclAssociation moves the subnet to the new ACL under a new association id — and the new ACL decides its traffic', async () => {
      const net = await network();
      const a = await launch(ec2, { SubnetId: subnetOf(net, 'a') });
      const b = await launch(ec2, { SubnetId: subnetOf(net, 'b') });
      assertDelivered(await probe(server.url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));
      const defaultAcl = await defaultAclOf(ec2, net.vpcId);
      const locked = await newAcl(net.vpcId);
      const current = await aclAssociationOf(ec2, subnetOf(net, 'b'));
      assert.equal(current.networkAclId, defaultAcl.NetworkAclId);

      const { NewAssociationId } = await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: current.associationId, NetworkAclId: locked }));
      assert.match(NewAssociationId!, ASSOCIATION_ID);
      assert.notEqual(NewAssociationId, current.associationId);
      assert.deepEqual(await aclAssociationOf(ec2, subnetOf(net, 'b')), { networkAclId: locked, associationId: NewAssociationId });
      assert.ok(!(await describeAcl(ec2, defaultAcl.NetworkAclId!)).Associations!.some((x) => x.SubnetId === subnetOf(net, 'b')));
      const denied = assertDropped(await probe(server.url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }), 'nacl-denied');
      assert.equal(blockingHop(denied).resourceId, locked);

      // Back to the default ACL.
      await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: NewAssociationId, NetworkAclId: defaultAcl.NetworkAclId }));
      assertDelivered(await probe(server.url, { from: a.InstanceId!, to: b.PrivateIpAddress!, port: 22 }));
      await expectEc2Error(ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: NewAssociationId, NetworkAclId: locked })), 'InvalidAssociationID.NotFound');
      await expectEc2Error(ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: current.associationId, NetworkAclId: 'acl-0123456789abcdef0' })), 'InvalidNetworkAclID.NotFound');
    });

    test('DeleteNetworkAcl: the default ACL is InvalidParameterValue, an associated ACL is DependencyViolation, an unassociated ACL goes', async () => {
      const net = await network();
      const defaultAcl = await defaultAclOf(ec2, net.vpcId);
      const error = await expectEc2Error(ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: defaultAcl.NetworkAclId })), 'InvalidParameterValue');
      assert.match(error.message, /default network ACL/i);

      const acl = await newAcl(net.vpcId);
      const current = await aclAssociationOf(ec2, subnetOf(net, 'a'));
      const { NewAssociationId } = await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: current.associationId, NetworkAclId: acl }));
      await expectEc2Error(ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: acl })), 'DependencyViolation');
      assert.ok(await describeAcl(ec2, acl));

      await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: NewAssociationId, NetworkAclId: defaultAcl.NetworkAclId }));
      await ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: acl }));
      await expectEc2Error(ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [acl] })), 'InvalidNetworkAclID.NotFound');
      await expectEc2Error(ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: acl })), 'InvalidNetworkAclID.NotFound');
    });

    test('a malformed network ACL id is InvalidNetworkAclId.Malformed (AWS\'s casing: lower-case "d", unlike InvalidNetworkAclID.NotFound)', async () => {
      for (const call of [
        () => ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: 'acl-bogus' })),
        () => ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: ['acl-bogus'] })),
        () => entry('acl-bogus', allowAll(false, 100)),
      ]) {
        await expectEc2Error(call(), 'InvalidNetworkAclId.Malformed');
      }
    });

    test('DeleteVpc with a custom ACL is DependencyViolation; without it the VPC goes with its default ACL', async () => {
      const net = await network();
      const defaultAcl = await defaultAclOf(ec2, net.vpcId);
      const acl = await newAcl(net.vpcId);
      for (const name of ['a', 'b'] as const) await ec2.send(new DeleteSubnetCommand({ SubnetId: subnetOf(net, name) }));
      await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: net.vpcId })), 'DependencyViolation');
      await ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: acl }));
      await ec2.send(new DeleteVpcCommand({ VpcId: net.vpcId }));
      await expectEc2Error(ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [defaultAcl.NetworkAclId!] })), 'InvalidNetworkAclID.NotFound');
    });
  });

  test('DescribeNetworkAcls filters: vpc-id, default, association.subnet-id, entry.rule-number, network-acl-id, tag', async () => {
    const net = await network();
    const other = await network();
    const defaultAcl = (await defaultAclOf(ec2, net.vpcId)).NetworkAclId!;
    const custom = (
      await ec2.send(new CreateNetworkAclCommand({ VpcId: net.vpcId, TagSpecifications: [{ ResourceType: 'network-acl', Tags: [{ Key: 'tier', Value: 'db' }] }] }))
    ).NetworkAcl!.NetworkAclId!;
    await entry(custom, { RuleNumber: 4242, Protocol: '6', RuleAction: 'allow', Egress: false, CidrBlock: '10.0.0.0/8', PortRange: { From: 5432, To: 5432 } });
    const current = await aclAssociationOf(ec2, subnetOf(net, 'b'));
    await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: current.associationId, NetworkAclId: custom }));
    const inVpc = { Name: 'vpc-id', Values: [net.vpcId] };

    const cases: [string, { Name: string; Values: string[] }[], string[]][] = [
      ['vpc-id', [inVpc], [defaultAcl, custom]],
      ['vpc-id (two VPCs)', [{ Name: 'vpc-id', Values: [net.vpcId, other.vpcId] }], [defaultAcl, custom, (await defaultAclOf(ec2, other.vpcId)).NetworkAclId!]],
      ['default=true', [inVpc, { Name: 'default', Values: ['true'] }], [defaultAcl]],
      ['default=false', [inVpc, { Name: 'default', Values: ['false'] }], [custom]],
      ['association.subnet-id (a)', [{ Name: 'association.subnet-id', Values: [subnetOf(net, 'a')] }], [defaultAcl]],
      ['association.subnet-id (b)', [{ Name: 'association.subnet-id', Values: [subnetOf(net, 'b')] }], [custom]],
      ['entry.rule-number', [inVpc, { Name: 'entry.rule-number', Values: ['4242'] }], [custom]],
      ['entry.rule-number (100)', [inVpc, { Name: 'entry.rule-number', Values: ['100'] }], [defaultAcl]],
      ['network-acl-id', [{ Name: 'network-acl-id', Values: [custom] }], [custom]],
      ['tag:tier', [{ Name: 'tag:tier', Values: ['db'] }], [custom]],
    ];
    for (const [name, filters, expected] of cases) assert.deepEqual(await aclIds(ec2, filters), [...expected].sort(), name);
  });
});
