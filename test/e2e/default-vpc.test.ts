import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeleteSubnetCommand, DeleteVpcCommand, DescribeAccountAttributesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';

describe('the default VPC', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  test('each account and region has AWS default VPC on first use: 172.31.0.0/16, a default /20 per zone, the default group', async () => {
    const ec2 = server.client({ region: 'eu-central-1' });
    const { Vpcs } = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
    assert.equal(Vpcs!.length, 1);
    const vpc = Vpcs![0];
    assert.equal(vpc.CidrBlock, '172.31.0.0/16');
    assert.equal(vpc.IsDefault, true);
    const { Subnets } = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }));
    assert.equal(Subnets!.length, 6);
    const byZone = new Map(Subnets!.map((s) => [s.AvailabilityZone, s]));
    assert.deepEqual([...byZone.keys()].sort(), ['a', 'b', 'c', 'd', 'e', 'f'].map((l) => `eu-central-1${l}`));
    for (const s of Subnets!) {
      assert.match(s.CidrBlock!, /^172\.31\.\d+\.0\/20$/);
      assert.equal(s.DefaultForAz, true);
      assert.equal(s.MapPublicIpOnLaunch, true);
      assert.equal(s.AvailableIpAddressCount, 4096 - 5);
    }
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] })).catch(() => undefined);
    if (groups) assert.deepEqual(groups.SecurityGroups!.map((g) => g.GroupName), ['default']);
    const attrs = await ec2.send(new DescribeAccountAttributesCommand({ AttributeNames: ['default-vpc'] }));
    assert.equal(attrs.AccountAttributes![0].AttributeValues![0].AttributeValue, vpc.VpcId);
  });

  test('another account gets a default VPC of its own', async () => {
    const a = (await server.client({ region: 'us-east-2' }).send(new DescribeVpcsCommand({}))).Vpcs!;
    const multi = await startTestServer({ accounts: { AKIDB: '222222222222' } });
    try {
      const b = (await multi.client({ region: 'us-east-2', accessKeyId: 'AKIDB' }).send(new DescribeVpcsCommand({}))).Vpcs!;
      assert.equal(b.length, 1);
      assert.equal(b[0].OwnerId, '222222222222');
      assert.notEqual(b[0].VpcId, a[0].VpcId);
    } finally {
      await multi.stop();
    }
  });

  test('the default VPC can be deleted once its subnets and gateway are gone, and is not recreated', async () => {
    const ec2 = server.client({ region: 'sa-east-1' });
    const vpc = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs![0];
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpc.VpcId })), 'DependencyViolation');
    const { Subnets } = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }));
    for (const s of Subnets!) await ec2.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
    // The internet gateway still holds the VPC.
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpc.VpcId })), 'DependencyViolation');
  });

  test('defaultVpc: false starts every region empty', async () => {
    const bare = await startTestServer({ defaultVpc: false });
    try {
      assert.deepEqual((await bare.client().send(new DescribeVpcsCommand({}))).Vpcs, []);
    } finally {
      await bare.stop();
    }
  });
});
