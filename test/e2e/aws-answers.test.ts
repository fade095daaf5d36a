/**
 * Answers where eni-local differed from AWS (issue 15, "Answers that differ from AWS"), each
 * asserting what AWS answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAddressesCommand,
  DescribeInstanceCreditSpecificationsCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcClassicLinkCommand,
  DescribeVpcClassicLinkDnsSupportCommand,
  DescribeVpcsCommand,
  ReleaseAddressCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, rawEc2, startTestServer, type TestServer } from '../helpers/server.ts';
import { IMAGE_ID, createGroup, createNetwork, describeInstance, launch } from '../helpers/topology.ts';

describe('answers as AWS gives them', () => {
  let server: TestServer;
  let ec2: EC2Client;
  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  describe('empty-string parameters', () => {
    test('RunInstances with Placement.AvailabilityZone empty and a SubnetId launches in the subnet\'s zone (what Terraform sends)', async () => {
      const net = await createNetwork(ec2, '10.20.0.0/16', { b: { cidr: '10.20.1.0/24', zone: 'us-east-1b' } });
      const subnetId = net.subnets.b.SubnetId!;
      const reservation = await ec2.send(
        new RunInstancesCommand({
          ImageId: IMAGE_ID,
          MinCount: 1,
          MaxCount: 1,
          InstanceType: 't3.micro',
          SubnetId: subnetId,
          Placement: { AvailabilityZone: '', Tenancy: 'default' },
          KeyName: '',
          PrivateIpAddress: '',
        }),
      );
      const instance = await describeInstance(ec2, reservation.Instances![0].InstanceId!);
      assert.equal(instance.SubnetId, subnetId);
      assert.equal(instance.Placement?.AvailabilityZone, 'us-east-1b');
      assert.equal(instance.KeyName, undefined);
    });

    test('an empty required string is still refused (DeleteVpc with VpcId empty)', async () => {
      await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: '' })), 'InvalidVpcID.Malformed');
    });

    test('an empty tag value is a value, kept as sent', async () => {
      const net = await createNetwork(ec2, '10.21.0.0/16', {});
      await ec2.send(new CreateTagsCommand({ Resources: [net.vpcId], Tags: [{ Key: 'empty', Value: '' }] }));
      const { Tags } = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [net.vpcId] }] }));
      assert.deepEqual(Tags!.map((t) => [t.Key, t.Value]), [['empty', '']]);
    });
  });

  describe('Elastic IPs', () => {
    test('AllocateAddress with Domain empty or unknown allocates a vpc address; standard (EC2-Classic) is refused', async () => {
      for (const Domain of ['', 'bogus'] as const) {
        const eip = await ec2.send(new AllocateAddressCommand({ Domain: Domain as 'vpc' }));
        assert.equal(eip.Domain, 'vpc', `Domain '${Domain}'`);
        assert.match(eip.AllocationId!, /^eipalloc-[0-9a-f]{17}$/);
        await ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }));
      }
      await expectEc2Error(ec2.send(new AllocateAddressCommand({ Domain: 'standard' })), 'InvalidParameterValue');
    });

    test('ReleaseAddress by PublicIp is InvalidParameterValue (a VPC address needs its allocation id); both is InvalidParameterCombination', async () => {
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      const e = await expectEc2Error(ec2.send(new ReleaseAddressCommand({ PublicIp: eip.PublicIp })), 'InvalidParameterValue');
      assert.equal(e.message, 'You must specify an allocation id when releasing a VPC elastic IP address');
      const both = await expectEc2Error(ec2.send(new ReleaseAddressCommand({ PublicIp: eip.PublicIp, AllocationId: eip.AllocationId })), 'InvalidParameterCombination');
      assert.equal(both.message, 'You may specify public IP or allocation id, but not both in the same call');
      assert.equal((await ec2.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] }))).Addresses!.length, 1);
      await ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }));
    });

    test('ReleaseAddress of an associated address in the default VPC disassociates and releases it; in another VPC it is InvalidIPAddress.InUse', async () => {
      const instance = await launch(ec2, {});
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: instance.InstanceId }));
      await ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }));
      await expectEc2Error(ec2.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] })), 'InvalidAllocationID.NotFound');
      const after = await describeInstance(ec2, instance.InstanceId!);
      // The instance of a default subnet gets an automatic public IPv4 back, as when the address is disassociated.
      assert.notEqual(after.PublicIpAddress, eip.PublicIp);
      assert.ok(after.PublicIpAddress, 'a fresh automatic public IPv4');

      const net = await createNetwork(ec2, '10.22.0.0/16', { a: { cidr: '10.22.1.0/24', zone: 'us-east-1a' } });
      const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
      await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: net.vpcId }));
      const inVpc = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
      const kept = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: kept.AllocationId, InstanceId: inVpc.InstanceId }));
      await expectEc2Error(ec2.send(new ReleaseAddressCommand({ AllocationId: kept.AllocationId })), 'InvalidIPAddress.InUse');
      assert.equal((await ec2.send(new DescribeAddressesCommand({ AllocationIds: [kept.AllocationId!] }))).Addresses![0].InstanceId, inVpc.InstanceId);
    });
  });

  describe('id shapes', () => {
    test('a security group id of other lengths (sg-123abc) is well-formed: InvalidGroup.NotFound, not InvalidGroupId.Malformed', async () => {
      for (const id of ['sg-123abc', 'sg-bbfe0e', 'sg-1', 'sg-0123456789', 'sg-12345678', 'sg-0123456789abcdef0']) {
        await expectEc2Error(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] })), 'InvalidGroup.NotFound');
      }
      for (const id of ['sg-', 'sg-xyz', 'sg-0123456789abcdef01', 'sg-ABCDEF12', 'sg123abc']) {
        await expectEc2Error(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] })), 'InvalidGroupId.Malformed');
      }
    });

    test('other kinds take 8 or 17 hex digits: those are NotFound, other lengths Malformed', async () => {
      const kinds: [string, (id: string) => Promise<unknown>, string, string][] = [
        ['vpc', (id) => ec2.send(new DescribeVpcsCommand({ VpcIds: [id] })), 'InvalidVpcID.NotFound', 'InvalidVpcID.Malformed'],
        ['subnet', (id) => ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] })), 'InvalidSubnetID.NotFound', 'InvalidSubnetID.Malformed'],
        ['eni', (id) => ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] })), 'InvalidNetworkInterfaceID.NotFound', 'InvalidNetworkInterfaceId.Malformed'],
        ['i', (id) => ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })), 'InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed'],
        ['igw', (id) => ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] })), 'InvalidInternetGatewayID.NotFound', 'InvalidInternetGatewayId.Malformed'],
        ['rtb', (id) => ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] })), 'InvalidRouteTableID.NotFound', 'InvalidRouteTableId.Malformed'],
        ['acl', (id) => ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [id] })), 'InvalidNetworkAclID.NotFound', 'InvalidNetworkAclId.Malformed'],
        ['eipalloc', (id) => ec2.send(new DescribeAddressesCommand({ AllocationIds: [id] })), 'InvalidAllocationID.NotFound', 'InvalidAllocationID.Malformed'],
      ];
      for (const [prefix, call, notFound, malformed] of kinds) {
        await expectEc2Error(call(`${prefix}-12345678`), notFound);
        await expectEc2Error(call(`${prefix}-0123456789abcdef0`), notFound);
        await expectEc2Error(call(`${prefix}-012345678`), malformed);
        await expectEc2Error(call(`${prefix}-123abc`), malformed);
      }
    });
  });

  describe('filters', () => {
    test('ip-permission.group-name and egress.ip-permission.group-name match the groups whose rules name the group', async () => {
      const a = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.23.0.0/16' }))).Vpc!.VpcId!;
      const b = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.24.0.0/16' }))).Vpc!.VpcId!;
      const referrer = await createGroup(ec2, a, 'gn-referrer');
      const target = await createGroup(ec2, a, 'gn-target');
      const bystander = await createGroup(ec2, a, 'gn-bystander');
      // A group of the same name in another VPC, referenced by nobody, and one that references it.
      const namesake = await createGroup(ec2, b, 'gn-target');
      const otherReferrer = await createGroup(ec2, b, 'gn-other-referrer');
      await ec2.send(new AuthorizeSecurityGroupEgressCommand({
        GroupId: referrer,
        IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: target, GroupName: 'gn-target' }] }],
      }));
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({
        GroupId: referrer,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, UserIdGroupPairs: [{ GroupId: target }] }],
      }));
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({
        GroupId: otherReferrer,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: namesake }] }],
      }));
      const ids = async (Name: string, Values: string[]) =>
        (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name, Values }] }))).SecurityGroups!.map((g) => g.GroupId!).sort();
      assert.deepEqual(await ids('egress.ip-permission.group-name', ['gn-target']), [referrer]);
      assert.deepEqual(await ids('ip-permission.group-name', ['gn-target']), [referrer, otherReferrer].sort());
      assert.deepEqual(await ids('egress.ip-permission.group-name', ['gn-by*']), []);
      assert.ok(!(await ids('ip-permission.group-name', ['gn-*'])).includes(bystander));
      assert.ok(!(await ids('ip-permission.group-name', ['gn-*'])).includes(target));
    });

    test('DescribeVpcs takes cidr-block as cidr (what Ansible\'s ec2_vpc_net sends) and isDefault as is-default', async () => {
      const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.25.0.0/16' }))).Vpc!.VpcId!;
      const found = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'cidr-block', Values: ['10.25.0.0/16'] }] }));
      assert.deepEqual(found.Vpcs!.map((v) => v.VpcId), [vpcId]);
      const defaults = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }));
      assert.deepEqual(defaults.Vpcs!.map((v) => v.IsDefault), [true]);
    });
  });

  describe('VPCs', () => {
    test('DeleteVpc with dependencies: DependencyViolation, "The vpc \'vpc-…\' has dependencies and cannot be deleted."', async () => {
      const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.26.0.0/16' }))).Vpc!.VpcId!;
      const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.26.1.0/24' }))).Subnet!.SubnetId!;
      const e = await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpcId })), 'DependencyViolation');
      assert.equal(e.message, `The vpc '${vpcId}' has dependencies and cannot be deleted.`);
      await ec2.send(new DeleteSubnetCommand({ SubnetId: subnetId }));
      await ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
    });

    test('DescribeVpcClassicLink: every VPC, ClassicLinkEnabled false, with its tags; is-classic-link-enabled=true matches none', async () => {
      const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.27.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'cl' }] }] }))).Vpc!.VpcId!;
      const one = await ec2.send(new DescribeVpcClassicLinkCommand({ VpcIds: [vpcId] }));
      assert.deepEqual(one.Vpcs, [{ VpcId: vpcId, ClassicLinkEnabled: false, Tags: [{ Key: 'Name', Value: 'cl' }] }]);
      const all = await ec2.send(new DescribeVpcClassicLinkCommand({}));
      const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!;
      assert.deepEqual(all.Vpcs!.map((v) => v.VpcId).sort(), vpcs.map((v) => v.VpcId).sort());
      assert.ok(all.Vpcs!.every((v) => v.ClassicLinkEnabled === false));
      assert.deepEqual((await ec2.send(new DescribeVpcClassicLinkCommand({ Filters: [{ Name: 'is-classic-link-enabled', Values: ['true'] }] }))).Vpcs, []);
      assert.deepEqual((await ec2.send(new DescribeVpcClassicLinkCommand({ Filters: [{ Name: 'is-classic-link-enabled', Values: ['false'] }, { Name: 'tag:Name', Values: ['cl'] }] }))).Vpcs!.map((v) => v.VpcId), [vpcId]);
      await expectEc2Error(ec2.send(new DescribeVpcClassicLinkCommand({ VpcIds: ['vpc-0123456789abcdef0'] })), 'InvalidVpcID.NotFound');
      await expectEc2Error(ec2.send(new DescribeVpcClassicLinkCommand({ VpcIds: ['vpc-x'] })), 'InvalidVpcID.Malformed');
    });

    test('DescribeVpcClassicLinkDnsSupport: ClassicLinkDnsSupported false for every VPC, paged', async () => {
      const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.28.0.0/16' }))).Vpc!.VpcId!;
      const one = await ec2.send(new DescribeVpcClassicLinkDnsSupportCommand({ VpcIds: [vpcId] }));
      assert.deepEqual(one.Vpcs, [{ VpcId: vpcId, ClassicLinkDnsSupported: false }]);
      const seen: string[] = [];
      let NextToken: string | undefined;
      do {
        const page = await ec2.send(new DescribeVpcClassicLinkDnsSupportCommand({ MaxResults: 5, NextToken }));
        seen.push(...page.Vpcs!.map((v) => v.VpcId!));
        NextToken = page.NextToken;
      } while (NextToken);
      const vpcs = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!;
      assert.deepEqual(seen.sort(), vpcs.map((v) => v.VpcId!).sort());
    });

    test('the ClassicLink actions are served through the model (an unknown parameter is UnknownParameter)', async () => {
      const res = await rawEc2(server.url, { Action: 'DescribeVpcClassicLink', Colour: 'blue' });
      assert.match(res.text, /<Code>UnknownParameter<\/Code>/);
    });
  });

  describe('what Terraform reads back', () => {
    test('DescribeInstanceCreditSpecifications: T2 standard, T3 unlimited; other families are not listed; without ids only unlimited ones', async () => {
      const net = await createNetwork(ec2, '10.29.0.0/16', { a: { cidr: '10.29.1.0/24', zone: 'us-east-1a' } });
      const subnet = net.subnets.a.SubnetId!;
      const t2 = (await launch(ec2, { SubnetId: subnet, InstanceType: 't2.micro' })).InstanceId!;
      const t3 = (await launch(ec2, { SubnetId: subnet, InstanceType: 't3.micro' })).InstanceId!;
      const m5 = (await launch(ec2, { SubnetId: subnet, InstanceType: 'm5.large' })).InstanceId!;
      const byIds = await ec2.send(new DescribeInstanceCreditSpecificationsCommand({ InstanceIds: [t2, t3, m5] }));
      assert.deepEqual(
        byIds.InstanceCreditSpecifications!.map((c) => [c.InstanceId, c.CpuCredits]).sort(),
        [[t2, 'standard'], [t3, 'unlimited']].sort(),
      );
      const all = await ec2.send(new DescribeInstanceCreditSpecificationsCommand({ Filters: [{ Name: 'instance-id', Values: [t2, t3, m5] }] }));
      assert.deepEqual(all.InstanceCreditSpecifications!.map((c) => c.InstanceId), [t3]);
      await expectEc2Error(ec2.send(new DescribeInstanceCreditSpecificationsCommand({ InstanceIds: ['i-0123456789abcdef0'] })), 'InvalidInstanceID.NotFound');
      await expectEc2Error(ec2.send(new DescribeInstanceCreditSpecificationsCommand({ InstanceIds: ['i-xyz'] })), 'InvalidInstanceID.Malformed');
    });
  });
});
