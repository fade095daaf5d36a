/**
 * The VPC surface around subnets, through the SDK: CreateDefaultVpc and CreateDefaultSubnet
 * (DefaultVpcAlreadyExists, DefaultSubnetAlreadyExistsInAvailabilityZone), and DHCP options sets
 * (create with AWS's keys and value rules, describe and filters, associate incl. `default`,
 * delete refused while a VPC uses the set).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AssociateDhcpOptionsCommand,
  CreateDefaultSubnetCommand,
  CreateDefaultVpcCommand,
  CreateDhcpOptionsCommand,
  CreateVpcCommand,
  DeleteDhcpOptionsCommand,
  DeleteSubnetCommand,
  DescribeDhcpOptionsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';

describe('subnets and VPCs', () => {
  let server: TestServer;
  let ec2: EC2Client;

  before(async () => {
    server = await startTestServer({ defaultVpc: false });
    ec2 = server.client();
  });
  after(() => server.stop());

  describe('CreateDefaultVpc and CreateDefaultSubnet', () => {
    test('a region without a default VPC gets AWS\'s one; a second is DefaultVpcAlreadyExists', async () => {
      await expectEc2Error(ec2.send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'us-east-1a' })), 'DefaultVpcDoesNotExist');
      const { Vpc } = await ec2.send(new CreateDefaultVpcCommand({}));
      assert.equal(Vpc!.IsDefault, true);
      assert.equal(Vpc!.CidrBlock, '172.31.0.0/16');
      const { Subnets } = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [Vpc!.VpcId!] }] }));
      assert.equal(Subnets!.length, 6);
      assert.ok(Subnets!.every((s) => s.DefaultForAz && s.MapPublicIpOnLaunch));
      await expectEc2Error(ec2.send(new CreateDefaultVpcCommand({})), 'DefaultVpcAlreadyExists');
    });

    test('a zone\'s default subnet comes back after it was deleted, in its /20; a zone that has one is refused', async () => {
      const vpcId = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0].VpcId!;
      await expectEc2Error(ec2.send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'us-east-1b' })), 'DefaultSubnetAlreadyExistsInAvailabilityZone');
      const b = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'availability-zone', Values: ['us-east-1b'] }] }))).Subnets![0];
      await ec2.send(new DeleteSubnetCommand({ SubnetId: b.SubnetId }));
      const { Subnet } = await ec2.send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'us-east-1b' }));
      assert.equal(Subnet!.CidrBlock, b.CidrBlock);
      assert.equal(Subnet!.DefaultForAz, true);
      assert.equal(Subnet!.MapPublicIpOnLaunch, true);
      assert.equal(Subnet!.AvailabilityZone, 'us-east-1b');
      await expectEc2Error(ec2.send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'us-east-1z' })), 'InvalidParameterValue');
    });
  });

  describe('DHCP options sets', () => {
    test('create, describe by id and filter, associate with a VPC and back to default, delete', async () => {
      const { DhcpOptions } = await ec2.send(
        new CreateDhcpOptionsCommand({
          DhcpConfigurations: [
            { Key: 'domain-name', Values: ['corp.example'] },
            { Key: 'domain-name-servers', Values: ['10.0.0.2', 'AmazonProvidedDNS'] },
            { Key: 'ntp-servers', Values: ['169.254.169.123'] },
          ],
          TagSpecifications: [{ ResourceType: 'dhcp-options', Tags: [{ Key: 'Name', Value: 'corp' }] }],
        }),
      );
      const id = DhcpOptions!.DhcpOptionsId!;
      assert.match(id, /^dopt-[0-9a-f]{17}$/);
      assert.equal(DhcpOptions!.OwnerId, '000000000000');
      assert.deepEqual(DhcpOptions!.Tags, [{ Key: 'Name', Value: 'corp' }]);
      const servers = DhcpOptions!.DhcpConfigurations!.find((c) => c.Key === 'domain-name-servers')!;
      assert.deepEqual(servers.Values!.map((v) => v.Value), ['10.0.0.2', 'AmazonProvidedDNS'], 'values keep their order');
      const byValue = await ec2.send(new DescribeDhcpOptionsCommand({ Filters: [{ Name: 'value', Values: ['corp.example'] }] }));
      assert.deepEqual(byValue.DhcpOptions!.map((d) => d.DhcpOptionsId), [id]);
      const byKey = await ec2.send(new DescribeDhcpOptionsCommand({ Filters: [{ Name: 'key', Values: ['ntp-servers'] }, { Name: 'tag:Name', Values: ['corp'] }] }));
      assert.deepEqual(byKey.DhcpOptions!.map((d) => d.DhcpOptionsId), [id]);

      const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/16' }))).Vpc!.VpcId!;
      await ec2.send(new AssociateDhcpOptionsCommand({ VpcId: vpcId, DhcpOptionsId: id }));
      assert.equal((await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0].DhcpOptionsId, id);
      const inUse = await expectEc2Error(ec2.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: id })), 'DependencyViolation');
      assert.match(inUse.message, new RegExp(`The dhcpOptions '${id}' has dependencies and cannot be deleted.`));
      await ec2.send(new AssociateDhcpOptionsCommand({ VpcId: vpcId, DhcpOptionsId: 'default' }));
      assert.equal((await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0].DhcpOptionsId, 'default');
      await ec2.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: id }));
      await expectEc2Error(ec2.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [id] })), 'InvalidDhcpOptionID.NotFound');
      await expectEc2Error(ec2.send(new AssociateDhcpOptionsCommand({ VpcId: vpcId, DhcpOptionsId: id })), 'InvalidDhcpOptionID.NotFound');
      await expectEc2Error(ec2.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: ['dopt-zz'] })), 'InvalidDhcpOptionsId.Malformed');
    });

    test('AWS\'s rules for keys and values', async () => {
      const create = (Key: string, Values: string[]) => ec2.send(new CreateDhcpOptionsCommand({ DhcpConfigurations: [{ Key, Values }] }));
      await expectEc2Error(create('bogus-key', ['x']), 'InvalidParameterValue');
      await expectEc2Error(create('domain-name-servers', ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']), 'InvalidParameterValue');
      await expectEc2Error(create('domain-name-servers', ['not-an-ip']), 'InvalidParameterValue');
      await expectEc2Error(create('netbios-node-type', ['3']), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new CreateDhcpOptionsCommand({ DhcpConfigurations: [] })), 'MissingParameter');
      assert.ok((await create('netbios-node-type', ['2'])).DhcpOptions!.DhcpOptionsId);
    });
  });
});
