import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AssignPrivateIpAddressesCommand, AttachNetworkInterfaceCommand, CreateNetworkInterfaceCommand, CreateSubnetCommand, CreateVpcCommand, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { checkInvariants } from '../../src/check.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('the invariant checker', () => {
  let server: TestServer;
  let subnetId: string;
  before(async () => {
    server = await startTestServer();
    const ec2 = server.client();
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!;
    subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    const instances = (await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 2, MaxCount: 2, InstanceType: 'm5.large', SubnetId: subnetId }))).Instances!;
    const eni = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, SecondaryPrivateIpAddressCount: 2 }))).NetworkInterface!;
    await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Ipv4PrefixCount: 1 }));
    await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instances[0].InstanceId, DeviceIndex: 1 }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instances[1].InstanceId!] }));
  });
  after(() => server.stop());

  test('a state built only through the API has no violation', async () => {
    assert.deepEqual(await checkInvariants(server.store), []);
  });

  test('a corrupted free count is reported', async () => {
    await server.store.db.updateTable('subnets').set({ available_ip_address_count: 1 }).where('id', '=', subnetId).execute();
    const violations = await checkInvariants(server.store);
    assert.ok(violations.some((v) => v.rule === 'available-count-wrong' && v.detail.includes(subnetId)), JSON.stringify(violations));
  });
});
