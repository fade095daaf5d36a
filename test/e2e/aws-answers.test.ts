/**
 * Answers where eni-local differed from AWS (issue 15, "Answers that differ from AWS"), each
 * asserting what AWS answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateTagsCommand,
  DeleteVpcCommand,
  DescribeTagsCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { IMAGE_ID, createNetwork, describeInstance } from '../helpers/topology.ts';

describe('answers as AWS gives them', () => {
  let server: TestServer;
  let ec2: EC2Client;
  before(async () => {
    server = await startTestServer();
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
});
