import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateNetworkInterfaceCommand, DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, DescribeSubnetsCommand, RunInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { checkInvariants } from '../../src/check.ts';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';

describe('the network interfaces quota', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let subnetId: string;
  before(async () => {
    server = await startTestServer({ quotas: { networkInterfacesPerRegion: 3 } });
    ec2 = server.client();
    subnetId = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets![0].SubnetId!;
  });
  after(() => server.stop());

  test('interfaces of every kind count: the fourth is NetworkInterfaceLimitExceeded, a deleted one frees its place', async () => {
    const first = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }))).NetworkInterface!;
    await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', SubnetId: subnetId }));
    await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
    await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId })), 'NetworkInterfaceLimitExceeded');
    await expectEc2Error(ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', SubnetId: subnetId })), 'NetworkInterfaceLimitExceeded');
    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: first.NetworkInterfaceId }));
    await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
    assert.deepEqual(await checkInvariants(server.store), []);
  });

  test('a create refused for its subnet or its groups takes no place: the count is looked up with them and rolled back with the refusal', async () => {
    // What the quota test above left: 3 of 3 in use after it freed one and took it again.
    const [eni] = (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'status', Values: ['available'] }] }))).NetworkInterfaces!;
    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId }));
    // The subnet is judged before the groups, whichever answered first.
    await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: 'subnet-0123456789abcdef0', Groups: ['sg-nope'] })), 'InvalidSubnetID.NotFound');
    await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: ['sg-nope'] })), 'InvalidGroupId.Malformed');
    await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: ['sg-0123456789abcdef0'] })), 'InvalidGroup.NotFound');
    await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
    await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId })), 'NetworkInterfaceLimitExceeded');
    assert.deepEqual(await checkInvariants(server.store), []);
  });
});
