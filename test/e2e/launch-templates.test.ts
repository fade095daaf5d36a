/**
 * Launch templates through the SDK: create (names, duplicates), versions (source version,
 * $Latest/$Default, default version and its deletion refused), describe and filters, and
 * RunInstances with a template — its network interfaces (subnet, groups, private addresses,
 * secondary count, IPv6 count, DeleteOnTermination, description), the request's members winning,
 * interfaces merged by device index.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AssociateSubnetCidrBlockCommand,
  AssociateVpcCidrBlockCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeVpcsCommand,
  ModifyLaunchTemplateCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createGroup, createNetwork, describeInstance, launch, type Network } from '../helpers/topology.ts';

describe('launch templates', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let net: Network;
  let n = 0;

  before(async () => {
    server = await startTestServer();
    ec2 = server.client();
    net = await createNetwork(ec2, '10.40.0.0/16', { a: { cidr: '10.40.1.0/24', zone: 'us-east-1a' }, b: { cidr: '10.40.2.0/24', zone: 'us-east-1a' } });
    await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: net.vpcId, AmazonProvidedIpv6CidrBlock: true }));
    const vpc = (await ec2.send(new DescribeVpcsCommand({ VpcIds: [net.vpcId] }))).Vpcs![0];
    const block = vpc.Ipv6CidrBlockAssociationSet![0].Ipv6CidrBlock!;
    await ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: net.subnets.a.SubnetId, Ipv6CidrBlock: block.replace('/56', '/64') }));
  });
  after(() => server.stop());

  const create = async (data: object, name = `tpl-${++n}`) =>
    (await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: name, LaunchTemplateData: data, VersionDescription: 'first' }))).LaunchTemplate!;

  describe('templates and versions', () => {
    test('a new template has version 1 as default and latest; its name is unique and well-formed', async () => {
      const t = await create({ ImageId: 'ami-12345678', InstanceType: 't3.micro' }, 'web-template');
      assert.match(t.LaunchTemplateId!, /^lt-[0-9a-f]{17}$/);
      assert.equal(t.DefaultVersionNumber, 1);
      assert.equal(t.LatestVersionNumber, 1);
      assert.equal(t.CreatedBy, 'arn:aws:iam::000000000000:root');
      await expectEc2Error(create({ InstanceType: 't3.micro' }, 'web-template'), 'InvalidLaunchTemplateName.AlreadyExistsException');
      await expectEc2Error(create({ InstanceType: 't3.micro' }, 'x'), 'InvalidLaunchTemplateName.MalformedException');
      await expectEc2Error(create({ InstanceType: 't3.micro' }, 'has space'), 'InvalidLaunchTemplateName.MalformedException');
      const byName = await ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['web-template'] }));
      assert.deepEqual(byName.LaunchTemplates!.map((l) => l.LaunchTemplateId), [t.LaunchTemplateId]);
      await expectEc2Error(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['nope'] })), 'InvalidLaunchTemplateName.NotFoundException');
      await expectEc2Error(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['lt-0123456789abcdef0'] })), 'InvalidLaunchTemplateId.NotFound');
      await expectEc2Error(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['foobar'] })), 'InvalidLaunchTemplateId.Malformed');
      const filtered = await ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'launch-template-name', Values: ['web-*'] }] }));
      assert.deepEqual(filtered.LaunchTemplates!.map((l) => l.LaunchTemplateName), ['web-template']);
    });

    test('versions: a source version is inherited and overridden; $Latest, $Default, the default version and deleting versions', async () => {
      const t = await create({ ImageId: 'ami-12345678', InstanceType: 't3.micro', UserData: 'IyEvYmluL3NoCg==' });
      const id = t.LaunchTemplateId!;
      const v2 = (await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, SourceVersion: '1', VersionDescription: 'bigger', LaunchTemplateData: { InstanceType: 'm5.large' } })))
        .LaunchTemplateVersion!;
      assert.equal(v2.VersionNumber, 2);
      assert.equal(v2.DefaultVersion, false);
      assert.equal(v2.LaunchTemplateData!.InstanceType, 'm5.large');
      assert.equal(v2.LaunchTemplateData!.ImageId, 'ami-12345678', 'inherited from the source version');
      assert.equal(v2.LaunchTemplateData!.UserData, 'IyEvYmluL3NoCg==');
      const latest = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['$Latest'] }));
      assert.deepEqual(latest.LaunchTemplateVersions!.map((v) => v.VersionNumber), [2]);
      const byDefault = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Filters: [{ Name: 'is-default-version', Values: ['true'] }] }));
      assert.deepEqual(byDefault.LaunchTemplateVersions!.map((v) => v.VersionNumber), [1]);
      await expectEc2Error(ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['7'] })), 'InvalidLaunchTemplateId.VersionNotFound');

      const modified = await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: '2' }));
      assert.equal(modified.LaunchTemplate!.DefaultVersionNumber, 2);
      await expectEc2Error(ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: id, DefaultVersion: '9' })), 'InvalidLaunchTemplateId.VersionNotFound');

      const deleted = await ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: id, Versions: ['1', '2', '5'] }));
      assert.deepEqual(deleted.SuccessfullyDeletedLaunchTemplateVersions!.map((v) => v.VersionNumber), [1]);
      assert.deepEqual(
        deleted.UnsuccessfullyDeletedLaunchTemplateVersions!.map((v) => [v.VersionNumber, v.ResponseError?.Code]),
        [[2, 'launchTemplateVersionIsDefault'], [5, 'launchTemplateVersionDoesNotExist']],
      );
      const all = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id }));
      assert.deepEqual(all.LaunchTemplateVersions!.map((v) => v.VersionNumber), [2]);
      await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id }));
      await expectEc2Error(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] })), 'InvalidLaunchTemplateId.NotFound');
      await expectEc2Error(ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id, LaunchTemplateName: 'both' })), 'InvalidParameterCombination');
    });
  });

  describe('RunInstances with a launch template', () => {
    test('the template gives image, type, subnet and groups; the request wins where it gives them', async () => {
      const group = await createGroup(ec2, net.vpcId, `lt-group-${++n}`);
      const t = await create({ ImageId: 'ami-12345678', InstanceType: 't3.small', SecurityGroupIds: [group], TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'from', Value: 'template' }] }] });
      const plain = await launch(ec2, { ImageId: undefined, InstanceType: undefined, LaunchTemplate: { LaunchTemplateId: t.LaunchTemplateId }, SubnetId: net.subnets.a.SubnetId });
      assert.equal(plain.InstanceType, 't3.small');
      assert.equal(plain.ImageId, 'ami-12345678');
      assert.deepEqual(plain.SecurityGroups!.map((g) => g.GroupId), [group]);
      assert.deepEqual((await describeInstance(ec2, plain.InstanceId!)).Tags, [{ Key: 'from', Value: 'template' }]);
      const overridden = await launch(ec2, { ImageId: undefined, InstanceType: 'm5.large', LaunchTemplate: { LaunchTemplateName: t.LaunchTemplateName, Version: '$Latest' }, SubnetId: net.subnets.b.SubnetId });
      assert.equal(overridden.InstanceType, 'm5.large');
      assert.equal(overridden.SubnetId, net.subnets.b.SubnetId);
      await expectEc2Error(launch(ec2, { LaunchTemplate: { LaunchTemplateId: t.LaunchTemplateId, Version: '3' } }), 'InvalidLaunchTemplateId.VersionNotFound');
      await expectEc2Error(launch(ec2, { LaunchTemplate: { LaunchTemplateName: 'missing-template' } }), 'InvalidLaunchTemplateName.NotFoundException');
    });

    test('the template\'s network interfaces: subnet, groups, addresses, IPv6 count, DeleteOnTermination, description; merged with the request by device index', async () => {
      const group = await createGroup(ec2, net.vpcId, `lt-eni-${++n}`);
      const t = await create({
        ImageId: 'ami-12345678',
        InstanceType: 'm5.large',
        NetworkInterfaces: [
          { DeviceIndex: 0, SubnetId: net.subnets.a.SubnetId, Groups: [group], PrivateIpAddresses: [{ PrivateIpAddress: '10.40.1.50', Primary: true }], SecondaryPrivateIpAddressCount: 1, Ipv6AddressCount: 1, Description: 'primary from template', DeleteOnTermination: true },
          { DeviceIndex: 1, SubnetId: net.subnets.a.SubnetId, Description: 'second', DeleteOnTermination: false },
        ],
      });
      const instance = await launch(ec2, { ImageId: undefined, InstanceType: undefined, LaunchTemplate: { LaunchTemplateId: t.LaunchTemplateId } });
      const nics = [...instance.NetworkInterfaces!].sort((a, b) => a.Attachment!.DeviceIndex! - b.Attachment!.DeviceIndex!);
      assert.equal(nics.length, 2);
      assert.equal(nics[0].PrivateIpAddress, '10.40.1.50');
      assert.equal(nics[0].PrivateIpAddresses!.length, 2, 'one secondary address');
      assert.equal(nics[0].Ipv6Addresses!.length, 1);
      assert.deepEqual(nics[0].Groups!.map((g) => g.GroupId), [group]);
      assert.equal(nics[0].Description, 'primary from template');
      assert.equal(nics[0].Attachment!.DeleteOnTermination, true);
      assert.equal(nics[1].Description, 'second');
      assert.equal(nics[1].Attachment!.DeleteOnTermination, false);

      // The request's interface at index 1 replaces what it gives; index 0 stays the template's (another address).
      const merged = await launch(ec2, {
        ImageId: undefined,
        InstanceType: undefined,
        LaunchTemplate: { LaunchTemplateId: t.LaunchTemplateId },
        NetworkInterfaces: [
          { DeviceIndex: 0, PrivateIpAddresses: [{ PrivateIpAddress: '10.40.1.60', Primary: true }] },
          { DeviceIndex: 1, SubnetId: net.subnets.b.SubnetId, Description: 'from request' },
        ],
      });
      const byIndex = new Map(merged.NetworkInterfaces!.map((i) => [i.Attachment!.DeviceIndex, i]));
      assert.equal(byIndex.get(0)!.PrivateIpAddress, '10.40.1.60');
      assert.equal(byIndex.get(0)!.Description, 'primary from template');
      assert.equal(byIndex.get(1)!.SubnetId, net.subnets.b.SubnetId);
      assert.equal(byIndex.get(1)!.Description, 'from request');
      assert.equal(byIndex.get(1)!.Attachment!.DeleteOnTermination, false, 'kept from the template');

      // A request's SubnetId and groups go to the template's primary interface.
      const other = await createGroup(ec2, net.vpcId, `lt-other-${n}`);
      const t2 = await create({ ImageId: 'ami-12345678', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: net.subnets.a.SubnetId, Description: 'p' }] });
      const moved = await launch(ec2, { ImageId: undefined, LaunchTemplate: { LaunchTemplateId: t2.LaunchTemplateId }, SubnetId: net.subnets.b.SubnetId, SecurityGroupIds: [other] });
      assert.equal(moved.SubnetId, net.subnets.b.SubnetId);
      assert.deepEqual(moved.NetworkInterfaces![0].Groups!.map((g) => g.GroupId), [other]);
      assert.equal(moved.NetworkInterfaces![0].Description, 'p');
    });
  });
});
