/**
 * Internet gateways end to end: create, attach (one gateway per VPC, one VPC per gateway),
 * detach (refused while public addresses are mapped in the VPC), delete, describe filters, the
 * regional quota (the default VPC's gateway included) and what a gateway keeps from deletion.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateAddressCommand,
  ReleaseAddressCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Filter,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createNetwork, launch } from '../helpers/topology.ts';
import { createGateway, describeGateway, expectUnchanged, publicIpOf, waitForState } from '../helpers/addressing.ts';

const ACCOUNT = '000000000000';
const GATEWAY_ID = /^igw-[0-9a-f]{17}$/;
const UNKNOWN_GATEWAY = 'igw-0123456789abcdef0';

describe('internet gateways', () => {
  let server: TestServer;
  let ec2: EC2Client;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50, internetGatewaysPerRegion: 50 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  const newVpc = async (cidr: string) => (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;

  test('CreateInternetGateway gives an igw- id with no attachments, the owner and its tags', async () => {
    const { InternetGateway } = await ec2.send(
      new CreateInternetGatewayCommand({ TagSpecifications: [{ ResourceType: 'internet-gateway', Tags: [{ Key: 'Name', Value: 'edge' }] }] }),
    );
    assert.match(InternetGateway!.InternetGatewayId!, GATEWAY_ID);
    assert.deepEqual(InternetGateway!.Attachments, []);
    assert.equal(InternetGateway!.OwnerId, ACCOUNT);
    assert.deepEqual(InternetGateway!.Tags, [{ Key: 'Name', Value: 'edge' }]);
    const described = await describeGateway(ec2, InternetGateway!.InternetGatewayId!);
    assert.deepEqual(described, InternetGateway);
    await expectEc2Error(ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [UNKNOWN_GATEWAY] })), 'InvalidInternetGatewayID.NotFound');
  });

  test('the default VPC has one attached gateway', async () => {
    const { Vpcs } = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
    assert.equal(Vpcs!.length, 1);
    const { InternetGateways } = await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [Vpcs![0].VpcId!] }] }));
    assert.equal(InternetGateways!.length, 1);
    assert.deepEqual(InternetGateways![0].Attachments, [{ VpcId: Vpcs![0].VpcId, State: 'available' }]);
  });

  test('AttachInternetGateway attaches it (State available); a gateway attached elsewhere is Resource.AlreadyAssociated; a VPC that has one is InvalidParameterValue', async () => {
    const vpcA = await newVpc('10.1.0.0/16');
    const vpcB = await newVpc('10.2.0.0/16');
    const igw = await createGateway(ec2);
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcA }));
    assert.deepEqual((await describeGateway(ec2, igw)).Attachments, [{ VpcId: vpcA, State: 'available' }]);

    await expectUnchanged(ec2, [vpcA, vpcB], () => ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcB })), 'Resource.AlreadyAssociated');
    await expectUnchanged(ec2, [vpcA, vpcB], () => ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcA })), 'Resource.AlreadyAssociated');
    const second = await createGateway(ec2);
    await expectUnchanged(ec2, [vpcA, vpcB], () => ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: second, VpcId: vpcA })), 'InvalidParameterValue');
    assert.deepEqual((await describeGateway(ec2, second)).Attachments, []);

    await expectUnchanged(ec2, [vpcA], () => ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: UNKNOWN_GATEWAY, VpcId: vpcA })), 'InvalidInternetGatewayID.NotFound');
    await expectUnchanged(ec2, [vpcA], () => ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: second, VpcId: 'vpc-0123456789abcdef0' })), 'InvalidVpcID.NotFound');
  });

  test('DetachInternetGateway is DependencyViolation while an Elastic IP is mapped in the VPC, and works once it is disassociated', async () => {
    const net = await createNetwork(ec2, '10.3.0.0/16', { app: { cidr: '10.3.1.0/24', zone: 'us-east-1a' } });
    const igw = await createGateway(ec2, net.vpcId);
    const eni = await createEni(ec2, { SubnetId: net.subnets.app.SubnetId });
    const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const { AssociationId } = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));

    await expectUnchanged(ec2, [net.vpcId], () => ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: net.vpcId })), 'DependencyViolation');
    await ec2.send(new DisassociateAddressCommand({ AssociationId }));
    await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: net.vpcId }));
    assert.deepEqual((await describeGateway(ec2, igw)).Attachments, []);

    // Without a gateway, the Elastic IP cannot go back.
    await expectUnchanged(ec2, [net.vpcId], () => ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId })), 'Gateway.NotAttached');
    await ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }));
  });

  test('DetachInternetGateway is DependencyViolation while an instance in the VPC has an automatic public IPv4', async () => {
    const net = await createNetwork(ec2, '10.4.0.0/16', { app: { cidr: '10.4.1.0/24', zone: 'us-east-1a' } });
    const igw = await createGateway(ec2, net.vpcId);
    const instance = await launch(ec2, { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: net.subnets.app.SubnetId, AssociatePublicIpAddress: true }] });
    assert.ok(await publicIpOf(ec2, instance.InstanceId!));
    await expectUnchanged(ec2, [net.vpcId], () => ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: net.vpcId })), 'DependencyViolation');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
    await waitForState(ec2, instance.InstanceId!, 'terminated');
    await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: net.vpcId }));
    assert.deepEqual((await describeGateway(ec2, igw)).Attachments, []);
  });

  test('DetachInternetGateway from a VPC it is not attached to is Gateway.NotAttached', async () => {
    const vpcA = await newVpc('10.5.0.0/16');
    const vpcB = await newVpc('10.6.0.0/16');
    const igw = await createGateway(ec2, vpcA);
    await expectUnchanged(ec2, [vpcA, vpcB], () => ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcB })), 'Gateway.NotAttached');
    const loose = await createGateway(ec2);
    await expectUnchanged(ec2, [vpcA, vpcB], () => ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: loose, VpcId: vpcA })), 'Gateway.NotAttached');
    assert.deepEqual((await describeGateway(ec2, igw)).Attachments, [{ VpcId: vpcA, State: 'available' }]);
  });

  test('DeleteInternetGateway of an attached gateway is DependencyViolation; detached, it is deleted', async () => {
    const vpc = await newVpc('10.7.0.0/16');
    const igw = await createGateway(ec2, vpc);
    await expectUnchanged(ec2, [vpc], () => ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw })), 'DependencyViolation');
    await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }));
    await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw }));
    await expectEc2Error(ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [igw] })), 'InvalidInternetGatewayID.NotFound');
    await expectEc2Error(ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw })), 'InvalidInternetGatewayID.NotFound');
  });

  test('DeleteVpc while a gateway is attached is DependencyViolation; after detaching, the VPC goes and the gateway stays', async () => {
    const vpc = await newVpc('10.8.0.0/16');
    const igw = await createGateway(ec2, vpc);
    await expectUnchanged(ec2, [vpc], () => ec2.send(new DeleteVpcCommand({ VpcId: vpc })), 'DependencyViolation');
    await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }));
    await ec2.send(new DeleteVpcCommand({ VpcId: vpc }));
    assert.deepEqual((await describeGateway(ec2, igw)).Attachments, []);
  });

  test('DescribeInternetGateways filters: attachment.vpc-id, attachment.state, internet-gateway-id, tag:Name, tag-key', async () => {
    const vpc = await newVpc('10.10.0.0/16');
    const tagged = (await ec2.send(
      new CreateInternetGatewayCommand({ TagSpecifications: [{ ResourceType: 'internet-gateway', Tags: [{ Key: 'Name', Value: 'filtered' }, { Key: 'team', Value: 'net' }] }] }),
    )).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: tagged, VpcId: vpc }));
    const loose = await createGateway(ec2);
    const ids = async (...Filters: Filter[]) => ((await ec2.send(new DescribeInternetGatewaysCommand({ Filters }))).InternetGateways ?? []).map((g) => g.InternetGatewayId).sort();

    assert.deepEqual(await ids({ Name: 'attachment.vpc-id', Values: [vpc] }), [tagged]);
    assert.deepEqual(await ids({ Name: 'internet-gateway-id', Values: [loose, tagged] }), [loose, tagged].sort());
    assert.deepEqual(await ids({ Name: 'tag:Name', Values: ['filtered'] }), [tagged]);
    assert.deepEqual(await ids({ Name: 'tag-key', Values: ['team'] }), [tagged]);
    const available = await ids({ Name: 'attachment.state', Values: ['available'] });
    assert.ok(available.includes(tagged) && !available.includes(loose));
    assert.deepEqual(await ids({ Name: 'attachment.state', Values: ['available'] }, { Name: 'internet-gateway-id', Values: [tagged, loose] }), [tagged]);
    assert.deepEqual(await ids({ Name: 'attachment.vpc-id', Values: [vpc] }, { Name: 'tag:Name', Values: ['other'] }), []);
  });

  test('five gateways per region, the default VPC\'s included: the fifth creation is InternetGatewayLimitExceeded', async () => {
    const quota = await startTestServer({ quotas: { vpcsPerRegion: 50 } });
    try {
      const west = quota.client({ region: 'eu-west-1' });
      const existing = (await west.send(new DescribeInternetGatewaysCommand({}))).InternetGateways!;
      assert.equal(existing.length, 1, 'the default VPC\'s gateway');
      const created: string[] = [];
      for (let i = 0; i < 4; i++) created.push(await createGateway(west));
      await expectUnchanged(west, [], () => west.send(new CreateInternetGatewayCommand({})), 'InternetGatewayLimitExceeded');
      assert.equal((await west.send(new DescribeInternetGatewaysCommand({}))).InternetGateways!.length, 5);
      // Deleting one makes room again; another region has its own count.
      await west.send(new DeleteInternetGatewayCommand({ InternetGatewayId: created[0] }));
      await createGateway(west);
      const east = quota.client();
      await createGateway(east);
    } finally {
      await quota.stop();
    }
  });
});
