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
  AssociateVpcCidrBlockCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  ModifyInstanceMetadataOptionsCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ModifyVpcAttributeCommand,
  type EC2Client,
  type InstanceAttributeName,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createGroup, createNetwork, describeInstance, launch, type Network } from '../helpers/topology.ts';
import { createGateway, subnet64 } from '../helpers/addressing.ts';

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
    // AWS: public DNS names (the dns-name filters) exist only in a VPC with DNS hostnames on.
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: net.vpcId, EnableDnsHostnames: { Value: true } }));
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

  test('what every instance answers alike: a value that matches keeps all, another none (hypervisor, tenancy, root device, …); what none has matches nothing (kernel-id, instance-lifecycle, …)', async () => {
    const both = [a, b].sort();
    const alike: [string, string, string][] = [
      ['hypervisor', 'xen', 'nitro'],
      ['virtualization-type', 'hvm', 'paravirtual'],
      ['root-device-type', 'ebs', 'instance-store'],
      ['root-device-name', '/dev/xvda', '/dev/sda1'],
      ['tenancy', 'default', 'dedicated'],
      ['monitoring-state', 'disabled', 'enabled'],
      ['platform-details', 'Linux/UNIX', 'Windows'],
      ['usage-operation', 'RunInstances', 'RunInstances:0002'],
      ['ena-support', 'true', 'false'],
      ['metadata-options.http-protocol-ipv4', 'enabled', 'disabled'],
    ];
    for (const [name, value, other] of alike) {
      assert.deepEqual(await ids(name, [value]), both, `${name}=${value}`);
      assert.deepEqual(await ids(name, [other]), [], `${name}=${other}`);
      assert.deepEqual(await ids(name, [`${value.slice(0, 2)}*`]), both, `${name} with a wildcard`);
    }
    for (const name of ['kernel-id', 'ramdisk-id', 'instance-lifecycle', 'spot-instance-request-id', 'platform', 'iam-instance-profile.arn', 'block-device-mapping.volume-id', 'host-id', 'outpost-arn']) {
      assert.deepEqual(await ids(name, ['*']), [], name);
    }
  });

  test('architecture (from the instance type), availability-zone-id, launch-index, ebs-optimized, metadata-options.*', async () => {
    const arm = (await launch(ec2, { SubnetId: net.subnets.a.SubnetId, InstanceType: 'm6g.large' })).InstanceId!;
    assert.deepEqual(await ids('architecture', ['arm64']), [arm]);
    assert.deepEqual(await ids('architecture', ['x86_64']), [a, b].sort());
    assert.deepEqual(await ids('availability-zone-id', ['use1-az1']), [a, b, arm].sort());
    assert.deepEqual(await ids('availability-zone-id', ['use1-az2']), []);
    assert.deepEqual(await ids('launch-index', ['0']), [a, b, arm].sort());
    assert.deepEqual(await ids('ebs-optimized', ['false']), [a, b, arm].sort());
    await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: arm, HttpTokens: 'required', HttpPutResponseHopLimit: 3 }));
    assert.deepEqual(await ids('metadata-options.http-tokens', ['required']), [arm]);
    assert.deepEqual(await ids('metadata-options.http-put-response-hop-limit', ['3']), [arm]);
    assert.deepEqual(await ids('metadata-options.http-endpoint', ['enabled']), [a, b, arm].sort());
    assert.deepEqual(await ids('metadata-options.state', ['applied']), [a, b, arm].sort());
    assert.deepEqual(await ids('metadata-options.instance-metadata-tags', ['disabled']), [a, b, arm].sort());
    assert.deepEqual(await ids('metadata-options.http-protocol-ipv6', ['disabled']), [a, b, arm].sort());
  });

  test('network-interface.* on addresses, prefixes, IPv6, DNS names and the interfaces\' tags', async () => {
    const vpcBlock = (await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: net.vpcId, AmazonProvidedIpv6CidrBlock: true }))).Ipv6CidrBlockAssociation!.Ipv6CidrBlock!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: net.vpcId, CidrBlock: '10.70.2.0/24', Ipv6CidrBlock: subnet64(vpcBlock, 1), AvailabilityZone: 'us-east-1a' }))).Subnet!;
    const six = await launch(ec2, { SubnetId: subnet.SubnetId, Ipv6AddressCount: 1 });
    const nic = six.NetworkInterfaces![0];
    const v6 = nic.Ipv6Addresses![0].Ipv6Address!;
    assert.deepEqual(await ids('ipv6-address', [v6]), [six.InstanceId]);
    assert.deepEqual(await ids('network-interface.ipv6-address', [v6]), [six.InstanceId]);
    assert.deepEqual(await ids('network-interface.ipv6-addresses.ipv6-address', [v6]), [six.InstanceId]);
    assert.deepEqual(await ids('network-interface.addresses.private-dns-name', [(await describeInstance(ec2, a)).PrivateDnsName!]), [a]);
    await ec2.send(new CreateTagsCommand({ Resources: [nic.NetworkInterfaceId!], Tags: [{ Key: 'role', Value: 'v6-nic' }] }));
    assert.deepEqual(await ids('network-interface.tag-key', ['role']), [six.InstanceId]);
    assert.deepEqual(await ids('network-interface.tag-value', ['v6-*']), [six.InstanceId]);
    assert.deepEqual(await ids('network-interface.tag-value', ['nothing']), []);
    // `a` has had an Elastic IP since the DNS test above.
    const withIp = await describeInstance(ec2, a);
    assert.ok(withIp.PublicDnsName);
    assert.deepEqual(await ids('network-interface.association.public-dns-name', [withIp.PublicDnsName!]), [a]);
    assert.deepEqual(await ids('network-interface.public-dns-name', [withIp.PublicDnsName!]), [a]);
    assert.deepEqual(await ids('network-interface.addresses.association.public-dns-name', [withIp.PublicDnsName!]), [a]);
    const prefixed = await launch(ec2, { InstanceType: 'm5.large', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet.SubnetId, Ipv4PrefixCount: 1 }] });
    const prefix = prefixed.NetworkInterfaces![0].Ipv4Prefixes![0].Ipv4Prefix!;
    assert.deepEqual(await ids('network-interface.ipv4-prefixes.ipv4-prefix', [prefix]), [prefixed.InstanceId]);
    assert.deepEqual(await ids('network-interface.ipv4-prefixes.ipv4-prefix', ['10.70.9.0/28']), []);
    const native = (await ec2.send(new CreateSubnetCommand({ VpcId: net.vpcId, Ipv6Native: true, Ipv6CidrBlock: subnet64(vpcBlock, 3), AvailabilityZone: 'us-east-1a' }))).Subnet!;
    const only6 = (await launch(ec2, { SubnetId: native.SubnetId, Ipv6AddressCount: 1, InstanceType: 'm5.large' })).InstanceId!;
    assert.deepEqual(await ids('network-interface.ipv6-native', ['true']), [only6]);
    assert.ok(!(await ids('network-interface.ipv6-native', ['false'])).includes(only6));
    assert.ok((await ids('network-interface.ipv6-native', ['false'])).includes(a));
  });

  test('hostnames: private-dns-name-options.* and private-dns-name follow each instance\'s hostname type, wildcards too', async () => {
    const named = (await launch(ec2, { SubnetId: net.subnets.a.SubnetId, PrivateDnsNameOptions: { HostnameType: 'resource-name', EnableResourceNameDnsARecord: true } })).InstanceId!;
    const name = (await describeInstance(ec2, named)).PrivateDnsName!;
    assert.equal(name, `${named}.ec2.internal`);
    // (the instance in the IPv6-only subnet above is resource-named too: it has no IPv4 address to be named after)
    assert.ok((await ids('private-dns-name-options.hostname-type', ['resource-name'])).includes(named));
    const ipNamed = await ids('private-dns-name-options.hostname-type', ['ip-name']);
    assert.ok(ipNamed.includes(a) && ipNamed.includes(b) && !ipNamed.includes(named));
    assert.deepEqual(await ids('private-dns-name-options.enable-resource-name-dns-a-record', ['true']), [named]);
    assert.deepEqual(await ids('private-dns-name-options.enable-resource-name-dns-aaaa-record', ['true']), []);
    assert.deepEqual(await ids('private-dns-name', [name]), [named]);
    const byPattern = await ids('private-dns-name', ['ip-10-70-1-*']);
    assert.ok(byPattern.includes(a) && byPattern.includes(b) && !byPattern.includes(named));
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
