/**
 * DescribeInstances filters AWS lists beyond the basics (source-dest-check, instance.group-name,
 * group-name, dns-name, private-dns-name, network-interface.*), and every attribute name
 * DescribeInstanceAttribute accepts, through the SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type EC2Client,
  type InstanceAttributeName,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createGroup, createNetwork, describeInstance, launch, type Network } from '../helpers/topology.ts';
import { createGateway } from '../helpers/addressing.ts';

describe('DescribeInstances filters and DescribeInstanceAttribute', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let net: Network;
  let web: string;
  let a: string;
  let b: string;

  before(async () => {
    server = await startTestServer();
    ec2 = server.client();
    net = await createNetwork(ec2, '10.70.0.0/16', { a: { cidr: '10.70.1.0/24', zone: 'us-east-1a' } });
    await createGateway(ec2, net.vpcId);
    web = await createGroup(ec2, net.vpcId, 'web-filters');
    a = (await launch(ec2, { SubnetId: net.subnets.a.SubnetId, SecurityGroupIds: [web] })).InstanceId!;
    b = (await launch(ec2, { SubnetId: net.subnets.a.SubnetId })).InstanceId!;
  });
  after(() => server.stop());

  const ids = async (Name: string, Values: string[]) =>
    ((await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name, Values }, { Name: 'vpc-id', Values: [net.vpcId] }] }))).Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .map((i) => i.InstanceId!)
      .sort();

  test('group names: instance.group-name, group-name, network-interface.group-name (wildcards too)', async () => {
    assert.deepEqual(await ids('instance.group-name', ['web-filters']), [a]);
    assert.deepEqual(await ids('group-name', ['web-*']), [a]);
    assert.deepEqual(await ids('network-interface.group-name', ['default']), [b]);
    assert.deepEqual(await ids('instance.group-name', ['nobody']), []);
  });

  test('source-dest-check follows the primary interface', async () => {
    const eni = (await describeInstance(ec2, b)).NetworkInterfaces![0].NetworkInterfaceId!;
    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni, SourceDestCheck: { Value: false } }));
    assert.deepEqual(await ids('source-dest-check', ['false']), [b]);
    assert.deepEqual(await ids('source-dest-check', ['true']), [a]);
    assert.deepEqual(await ids('network-interface.source-dest-check', ['false']), [b]);
  });

  test('DNS names: private-dns-name and dns-name', async () => {
    const instance = await describeInstance(ec2, a);
    assert.deepEqual(await ids('private-dns-name', [instance.PrivateDnsName!]), [a]);
    const { AllocationId, PublicIp } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new AssociateAddressCommand({ AllocationId, InstanceId: a }));
    const withIp = await describeInstance(ec2, a);
    assert.ok(withIp.PublicDnsName, 'the instance has a public DNS name');
    assert.deepEqual(await ids('dns-name', [withIp.PublicDnsName!]), [a]);
    assert.deepEqual(await ids('network-interface.association.allocation-id', [AllocationId!]), [a]);
    assert.deepEqual(await ids('network-interface.addresses.association.public-ip', [PublicIp!]), [a]);
    assert.deepEqual(await ids('dns-name', ['ec2-203-0-113-250.compute-1.amazonaws.com']), []);
  });

  test('network-interface.* filters of the attachment and ownership', async () => {
    assert.deepEqual(await ids('network-interface.attachment.instance-id', [a]), [a]);
    assert.deepEqual(await ids('network-interface.owner-id', ['000000000000']), [a, b].sort());
    assert.deepEqual(await ids('network-interface.availability-zone', ['us-east-1a']), [a, b].sort());
    assert.deepEqual(await ids('network-interface.addresses.primary', ['true']), [a, b].sort());
    await expectEc2Error(ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'network-interface.bogus', Values: ['x'] }] })), 'InvalidParameterValue');
  });

  test('DescribeInstanceAttribute answers every attribute name AWS accepts', async () => {
    const names: InstanceAttributeName[] = [
      'instanceType', 'kernel', 'ramdisk', 'userData', 'disableApiTermination', 'instanceInitiatedShutdownBehavior', 'rootDeviceName',
      'blockDeviceMapping', 'productCodes', 'sourceDestCheck', 'groupSet', 'ebsOptimized', 'sriovNetSupport', 'enaSupport', 'enclaveOptions', 'disableApiStop',
    ];
    for (const Attribute of names) {
      const out = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: a, Attribute }));
      assert.equal(out.InstanceId, a, Attribute);
    }
    const kernel = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: a, Attribute: 'kernel' }));
    assert.equal(kernel.KernelId?.Value, undefined);
    const enclave = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: a, Attribute: 'enclaveOptions' }));
    assert.equal(enclave.EnclaveOptions?.Enabled, false);
    const groups = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: a, Attribute: 'groupSet' }));
    assert.deepEqual(groups.Groups!.map((g) => g.GroupId), [web]);
    await expectEc2Error(ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: a, Attribute: 'bogus' as InstanceAttributeName })), 'InvalidParameterValue');
  });
});
