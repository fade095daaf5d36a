/**
 * Subnet options through the SDK: IPv6-only subnets (Ipv6Native) with their interfaces and
 * instances (no private IPv4, an IPv6 address, resource-based names) and AWS's refusals; the
 * hostname options at launch (PrivateDnsNameOptionsOnLaunch), DNS64, RunInstances
 * PrivateDnsNameOptions and ModifyPrivateDnsNameOptions; public DNS names only in a VPC with DNS
 * hostnames on (interfaces, instances, IMDS).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  AssociateVpcCidrBlockCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeSubnetsCommand,
  DisassociateSubnetCidrBlockCommand,
  ModifyPrivateDnsNameOptionsCommand,
  ModifySubnetAttributeCommand,
  ModifyVpcAttributeCommand,
  StopInstancesCommand,
  type EC2Client,
  type Subnet,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, describeEni, describeInstance, launch, pollUntil } from '../helpers/topology.ts';
import { publicDnsName, subnet64 } from '../helpers/addressing.ts';
import { imds, imdsBase, imdsValue } from '../helpers/imds.ts';
import { probe } from '../helpers/dataplane.ts';

/** The instance once it has reached the state. */
const waitForState = async (ec2: EC2Client, id: string, state: string) => (await pollUntil(() => describeInstance(ec2, id), (i) => i.State?.Name === state)).at(-1)!;

const describeSubnet = async (ec2: EC2Client, id: string): Promise<Subnet> => (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }))).Subnets![0];

describe('subnet options', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  let vpcIpv6: string;
  let dualStack: string;
  let ipv4Only: string;
  let ipv6Only: string;

  before(async () => {
    server = await startTestServer({ timings: { instancePendingMs: 0, instanceStoppingMs: 0 } });
    ec2 = server.client();
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/16' }))).Vpc!.VpcId!;
    vpcIpv6 = (await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, AmazonProvidedIpv6CidrBlock: true }))).Ipv6CidrBlockAssociation!.Ipv6CidrBlock!;
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    dualStack = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.60.1.0/24', Ipv6CidrBlock: subnet64(vpcIpv6, 1), AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    ipv4Only = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.60.2.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    ipv6Only = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, Ipv6Native: true, Ipv6CidrBlock: subnet64(vpcIpv6, 2), AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
  });
  after(() => server.stop());

  describe('IPv6-only subnets', () => {
    test('CreateSubnet Ipv6Native: a /64 and no IPv4 block, resource-name hostnames; the ipv6-native filter finds it', async () => {
      const subnet = await describeSubnet(ec2, ipv6Only);
      assert.equal(subnet.Ipv6Native, true);
      assert.equal(subnet.CidrBlock, undefined);
      assert.equal(subnet.AvailableIpAddressCount, 0);
      assert.equal(subnet.Ipv6CidrBlockAssociationSet![0].Ipv6CidrBlock, subnet64(vpcIpv6, 2));
      assert.deepEqual(subnet.PrivateDnsNameOptionsOnLaunch, { HostnameType: 'resource-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false });
      const dual = await describeSubnet(ec2, dualStack);
      assert.equal(dual.Ipv6Native, false);
      assert.equal(dual.PrivateDnsNameOptionsOnLaunch!.HostnameType, 'ip-name');
      const found = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'ipv6-native', Values: ['true'] }] }));
      assert.deepEqual(found.Subnets!.map((s) => s.SubnetId), [ipv6Only]);
    });

    test('an IPv4 block with Ipv6Native is InvalidParameterCombination; without an IPv6 block, MissingParameter', async () => {
      await expectEc2Error(ec2.send(new CreateSubnetCommand({ VpcId: vpcId, Ipv6Native: true, CidrBlock: '10.60.9.0/24', Ipv6CidrBlock: subnet64(vpcIpv6, 9) })), 'InvalidParameterCombination');
      await expectEc2Error(ec2.send(new CreateSubnetCommand({ VpcId: vpcId, Ipv6Native: true })), 'MissingParameter');
      await expectEc2Error(ec2.send(new CreateSubnetCommand({ VpcId: vpcId, Ipv6Native: true, Ipv6CidrBlock: subnet64(vpcIpv6, 2) })), 'InvalidSubnet.Conflict');
    });

    test('an interface there has no private IPv4, one IPv6 address, Ipv6Native; IPv4 of any kind is refused', async () => {
      const eni = await createEni(ec2, { SubnetId: ipv6Only });
      assert.equal(eni.PrivateIpAddress, undefined);
      assert.deepEqual(eni.PrivateIpAddresses, []);
      assert.equal(eni.Ipv6Addresses!.length, 1);
      assert.equal(eni.Ipv6Native, true);
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Ipv6Native, true);
      assert.equal((await createEni(ec2, { SubnetId: ipv6Only, Ipv6AddressCount: 3 })).Ipv6Addresses!.length, 3);
      await expectEc2Error(createEni(ec2, { SubnetId: ipv6Only, PrivateIpAddress: '10.60.3.10' }), 'InvalidParameterValue');
      await expectEc2Error(createEni(ec2, { SubnetId: ipv6Only, SecondaryPrivateIpAddressCount: 1 }), 'InvalidParameterValue');
      await expectEc2Error(createEni(ec2, { SubnetId: ipv6Only, Ipv6AddressCount: 0 }), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 1 })), 'InvalidParameterValue');
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await expectEc2Error(ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new CreateNatGatewayCommand({ SubnetId: ipv6Only, ConnectivityType: 'private' })), 'InvalidParameterValue');
    });

    test('the subnet refuses IPv4 attributes, ip-name hostnames, A records, and losing its only block', async () => {
      await expectEc2Error(ec2.send(new ModifySubnetAttributeCommand({ SubnetId: ipv6Only, MapPublicIpOnLaunch: { Value: true } })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new ModifySubnetAttributeCommand({ SubnetId: ipv6Only, PrivateDnsHostnameTypeOnLaunch: 'ip-name' })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new ModifySubnetAttributeCommand({ SubnetId: ipv6Only, EnableResourceNameDnsARecordOnLaunch: { Value: true } })), 'InvalidParameterValue');
      const association = (await describeSubnet(ec2, ipv6Only)).Ipv6CidrBlockAssociationSet![0].AssociationId!;
      await expectEc2Error(ec2.send(new DisassociateSubnetCidrBlockCommand({ AssociationId: association })), 'InvalidCidrBlock.InUse');
    });

    test('RunInstances there: no private IPv4, a resource-based name, IPv6 only; IMDS has no local-ipv4; IPv4 flows are dropped, IPv6 ones pass', async () => {
      await expectEc2Error(launch(ec2, { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: ipv6Only, AssociatePublicIpAddress: true }] }), 'InvalidParameterValue');
      await expectEc2Error(launch(ec2, { SubnetId: ipv6Only, PrivateDnsNameOptions: { HostnameType: 'ip-name' } }), 'InvalidParameterValue');
      const launched = await launch(ec2, { SubnetId: ipv6Only, InstanceType: 'm5.large' });
      const id = launched.InstanceId!;
      const instance = await waitForState(ec2, id, 'running');
      assert.equal(instance.PrivateIpAddress, undefined);
      assert.equal(instance.PrivateDnsName, `${id}.ec2.internal`);
      assert.equal(instance.PrivateDnsNameOptions!.HostnameType, 'resource-name');
      const nic = instance.NetworkInterfaces![0];
      assert.equal(nic.PrivateIpAddress, undefined);
      assert.equal(nic.PrivateDnsName, `${id}.ec2.internal`);
      assert.equal(nic.Ipv6Addresses!.length, 1);
      const base = imdsBase(server.url, id);
      assert.equal((await imds(base, '/latest/meta-data/local-ipv4')).status, 404);
      assert.equal(await imdsValue(base, '/latest/meta-data/hostname'), `${id}.ec2.internal`);
      const mac = await imdsValue(base, '/latest/meta-data/mac');
      assert.equal(await imdsValue(base, `/latest/meta-data/network/interfaces/macs/${mac}/ipv6s`), nic.Ipv6Addresses![0].Ipv6Address);
      assert.equal((await imds(base, `/latest/meta-data/network/interfaces/macs/${mac}/local-ipv4s`)).status, 404);
      assert.equal((await imds(base, `/latest/meta-data/network/interfaces/macs/${mac}/subnet-ipv4-cidr-block`)).status, 404);
      const document = JSON.parse(await imdsValue(base, '/latest/dynamic/instance-identity/document')) as { privateIp: string | null };
      assert.equal(document.privateIp, null);

      const v4 = await probe(server.url, { from: id, to: '10.60.1.10', port: 80 });
      assert.equal(v4.delivered, false);
      assert.equal(v4.reason, 'no-route');
      const peer = await launch(ec2, { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: dualStack, Ipv6AddressCount: 1 }] });
      const peerIpv6 = (await waitForState(ec2, peer.InstanceId!, 'running')).NetworkInterfaces![0].Ipv6Addresses![0].Ipv6Address!;
      const v6 = await probe(server.url, { from: id, to: peerIpv6, port: 22 });
      assert.ok(v6.hops.length > 0);
      assert.equal(v6.hops[0].component, 'network-interface');
      assert.equal(v6.hops[0].verdict, 'pass');
    });
  });

  describe('hostname options', () => {
    test('ModifySubnetAttribute sets each option; DescribeSubnets shows PrivateDnsNameOptionsOnLaunch and EnableDns64; the filters find them', async () => {
      await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: dualStack, PrivateDnsHostnameTypeOnLaunch: 'resource-name' }));
      await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: dualStack, EnableResourceNameDnsARecordOnLaunch: { Value: true } }));
      await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: dualStack, EnableResourceNameDnsAAAARecordOnLaunch: { Value: true } }));
      await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: dualStack, EnableDns64: { Value: true } }));
      const subnet = await describeSubnet(ec2, dualStack);
      assert.deepEqual(subnet.PrivateDnsNameOptionsOnLaunch, { HostnameType: 'resource-name', EnableResourceNameDnsARecord: true, EnableResourceNameDnsAAAARecord: true });
      assert.equal(subnet.EnableDns64, true);
      const byType = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'private-dns-name-options-on-launch.hostname-type', Values: ['resource-name'] }] }));
      assert.deepEqual(byType.Subnets!.map((s) => s.SubnetId).sort(), [dualStack, ipv6Only].sort());
      const dns64 = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'enable-dns64', Values: ['true'] }] }));
      assert.deepEqual(dns64.Subnets!.map((s) => s.SubnetId), [dualStack]);
    });

    test('AAAA records and DNS64 need an IPv6 block; one attribute per call; an unknown hostname type is InvalidParameterValue', async () => {
      await expectEc2Error(ec2.send(new ModifySubnetAttributeCommand({ SubnetId: ipv4Only, EnableResourceNameDnsAAAARecordOnLaunch: { Value: true } })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new ModifySubnetAttributeCommand({ SubnetId: ipv4Only, EnableDns64: { Value: true } })), 'InvalidParameterValue');
      await expectEc2Error(
        ec2.send(new ModifySubnetAttributeCommand({ SubnetId: ipv4Only, EnableDns64: { Value: false }, PrivateDnsHostnameTypeOnLaunch: 'ip-name' })),
        'InvalidParameterCombination',
      );
      await expectEc2Error(ec2.send(new ModifySubnetAttributeCommand({ SubnetId: ipv4Only, PrivateDnsHostnameTypeOnLaunch: 'host-name' as 'ip-name' })), 'InvalidParameterValue');
      await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: ipv4Only, EnableDns64: { Value: false } }));
    });

    test('an instance takes the subnet\'s options: resource-name gives i-….ec2.internal to it and its primary interface; the request overrides them', async () => {
      const named = await launch(ec2, { SubnetId: dualStack });
      const id = named.InstanceId!;
      assert.equal(named.PrivateDnsName, `${id}.ec2.internal`);
      assert.deepEqual(named.PrivateDnsNameOptions, { HostnameType: 'resource-name', EnableResourceNameDnsARecord: true, EnableResourceNameDnsAAAARecord: true });
      const eni = await describeEni(ec2, named.NetworkInterfaces![0].NetworkInterfaceId!);
      assert.equal(eni.PrivateDnsName, `${id}.ec2.internal`);
      assert.equal(eni.PrivateIpAddresses![0].PrivateDnsName, `${id}.ec2.internal`);
      assert.equal(await imdsValue(imdsBase(server.url, id), '/latest/meta-data/local-hostname'), `${id}.ec2.internal`);

      const byIp = await launch(ec2, { SubnetId: dualStack, PrivateDnsNameOptions: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false } });
      assert.equal(byIp.PrivateDnsName, `ip-${byIp.PrivateIpAddress!.replaceAll('.', '-')}.ec2.internal`);
      assert.deepEqual(byIp.PrivateDnsNameOptions, { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: true });
      await expectEc2Error(launch(ec2, { SubnetId: ipv4Only, PrivateDnsNameOptions: { EnableResourceNameDnsAAAARecord: true } }), 'InvalidParameterValue');
      const plain = await launch(ec2, { SubnetId: ipv4Only });
      assert.deepEqual(plain.PrivateDnsNameOptions, { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false });
    });

    test('ModifyPrivateDnsNameOptions: records at any time, the hostname type only while stopped (IncorrectInstanceState)', async () => {
      const instance = await launch(ec2, { SubnetId: ipv4Only });
      const id = instance.InstanceId!;
      await waitForState(ec2, id, 'running');
      const { Return } = await ec2.send(new ModifyPrivateDnsNameOptionsCommand({ InstanceId: id, EnableResourceNameDnsARecord: true }));
      assert.equal(Return, true);
      assert.equal((await describeInstance(ec2, id)).PrivateDnsNameOptions!.EnableResourceNameDnsARecord, true);
      await expectEc2Error(ec2.send(new ModifyPrivateDnsNameOptionsCommand({ InstanceId: id, PrivateDnsHostnameType: 'resource-name' })), 'IncorrectInstanceState');
      await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
      await waitForState(ec2, id, 'stopped');
      await ec2.send(new ModifyPrivateDnsNameOptionsCommand({ InstanceId: id, PrivateDnsHostnameType: 'resource-name' }));
      const after = await describeInstance(ec2, id);
      assert.equal(after.PrivateDnsName, `${id}.ec2.internal`);
      assert.equal(after.NetworkInterfaces![0].PrivateDnsName, `${id}.ec2.internal`);
      await expectEc2Error(ec2.send(new ModifyPrivateDnsNameOptionsCommand({ InstanceId: id, EnableResourceNameDnsAAAARecord: true })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new ModifyPrivateDnsNameOptionsCommand({ InstanceId: 'i-0000000000000000f' })), 'InvalidInstanceID.NotFound');
    });
  });

  describe('public DNS names', () => {
    test('only in a VPC with enableDnsHostnames: the association\'s and the instance\'s PublicDnsName, and IMDS public-hostname', async () => {
      const instance = await launch(ec2, { SubnetId: ipv4Only });
      const id = instance.InstanceId!;
      await waitForState(ec2, id, 'running');
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: id }));
      const base = imdsBase(server.url, id);
      const off = await describeInstance(ec2, id);
      assert.equal(off.PublicIpAddress, eip.PublicIp);
      assert.equal(off.PublicDnsName, '');
      assert.equal(off.NetworkInterfaces![0].Association!.PublicDnsName, '');
      assert.equal((await describeEni(ec2, off.NetworkInterfaces![0].NetworkInterfaceId!)).Association!.PublicDnsName, '');
      assert.equal((await imds(base, '/latest/meta-data/public-hostname')).status, 404);
      assert.equal(await imdsValue(base, '/latest/meta-data/public-ipv4'), eip.PublicIp);

      await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
      const on = await describeInstance(ec2, id);
      assert.equal(on.PublicDnsName, publicDnsName(eip.PublicIp!));
      assert.equal(on.NetworkInterfaces![0].Association!.PublicDnsName, publicDnsName(eip.PublicIp!));
      assert.equal(await imdsValue(base, '/latest/meta-data/public-hostname'), publicDnsName(eip.PublicIp!));
      await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: false } }));
    });
  });
});
