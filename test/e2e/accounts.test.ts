/**
 * Account isolation, with verified (sigv4) credentials of two accounts: every query is scoped by
 * account and region, so one account's resources do not exist for the other — describe, modify,
 * attach, delete and associate all answer `.NotFound` — owner ids are the caller's account, and
 * ids never collide.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  DeleteNetworkInterfaceCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReleaseAddressCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createGroup, createNetwork, launch, pollUntil, describeInstance, type Network } from '../helpers/topology.ts';

const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret', accountId: '111111111111' };
const BOB = { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob-secret', accountId: '222222222222' };

interface Estate {
  network: Network;
  groupId: string;
  eni: NetworkInterface;
  instance: Instance;
  allocationId: string;
  gatewayId: string;
}

/** The same topology, with the same CIDRs, in an account: a VPC, a subnet, a group, an interface, an instance, an Elastic IP. */
async function buildEstate(ec2: EC2Client): Promise<Estate> {
  const network = await createNetwork(ec2, '10.0.0.0/16', { app: { cidr: '10.0.1.0/24', zone: 'us-east-1a' } });
  const gatewayId = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: network.vpcId }));
  const groupId = await createGroup(ec2, network.vpcId, 'web');
  const subnetId = network.subnets.app.SubnetId!;
  const eni = await createEni(ec2, { SubnetId: subnetId, Groups: [groupId], PrivateIpAddress: '10.0.1.20' });
  const instance = await launch(ec2, { SubnetId: subnetId });
  await pollUntil(() => describeInstance(ec2, instance.InstanceId!).then((i) => i.State!.Name), (state) => state === 'running');
  const allocationId = (await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
  return { network, groupId, eni, instance, allocationId, gatewayId };
}

/** Everything one account can see of its estate. */
async function view(ec2: EC2Client, estate: Estate) {
  const Filters = [{ Name: 'vpc-id', Values: [estate.network.vpcId] }];
  const [vpcs, subnets, groups, enis, instances, addresses] = await Promise.all([
    ec2.send(new DescribeVpcsCommand({ VpcIds: [estate.network.vpcId] })),
    ec2.send(new DescribeSubnetsCommand({ Filters })),
    ec2.send(new DescribeSecurityGroupsCommand({ Filters })),
    ec2.send(new DescribeNetworkInterfacesCommand({ Filters })),
    ec2.send(new DescribeInstancesCommand({ Filters })),
    ec2.send(new DescribeAddressesCommand({ AllocationIds: [estate.allocationId] })),
  ]);
  return { vpcs: vpcs.Vpcs, subnets: subnets.Subnets, groups: groups.SecurityGroups, enis: enis.NetworkInterfaces, instances: instances.Reservations, addresses: addresses.Addresses };
}

describe('two accounts with verified credentials', () => {
  let server: TestServer;
  let alice: EC2Client;
  let bob: EC2Client;
  let mine: Estate;
  let theirs: Estate;
  before(async () => {
    server = await startTestServer({ auth: 'sigv4', credentials: [ALICE, BOB] });
    alice = server.client(ALICE);
    bob = server.client(BOB);
    [mine, theirs] = await Promise.all([buildEstate(alice), buildEstate(bob)]);
  });
  after(() => server.stop());

  test('owner ids are the caller’s account', async () => {
    for (const [client, estate, account] of [[alice, mine, ALICE.accountId], [bob, theirs, BOB.accountId]] as const) {
      const seen = await view(client, estate);
      assert.equal(seen.vpcs![0].OwnerId, account);
      assert.equal(seen.subnets![0].OwnerId, account);
      assert.ok(seen.groups!.length >= 2 && seen.groups!.every((g) => g.OwnerId === account));
      assert.ok(seen.enis!.length >= 2 && seen.enis!.every((n) => n.OwnerId === account));
      assert.ok(seen.instances!.every((r) => r.OwnerId === account));
      assert.equal(seen.addresses!.length, 1);
    }
  });

  test('describing the other account’s resources by id answers .NotFound', async () => {
    await expectEc2Error(bob.send(new DescribeVpcsCommand({ VpcIds: [mine.network.vpcId] })), 'InvalidVpcID.NotFound');
    await expectEc2Error(bob.send(new DescribeSubnetsCommand({ SubnetIds: [mine.network.subnets.app.SubnetId!] })), 'InvalidSubnetID.NotFound');
    await expectEc2Error(bob.send(new DescribeSecurityGroupsCommand({ GroupIds: [mine.groupId] })), 'InvalidGroup.NotFound');
    await expectEc2Error(bob.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [mine.eni.NetworkInterfaceId!] })), 'InvalidNetworkInterfaceID.NotFound');
    await expectEc2Error(bob.send(new DescribeInstancesCommand({ InstanceIds: [mine.instance.InstanceId!] })), 'InvalidInstanceID.NotFound');
    await expectEc2Error(bob.send(new DescribeAddressesCommand({ AllocationIds: [mine.allocationId] })), 'InvalidAllocationID.NotFound');
  });

  test('listings and filters never show the other account’s resources', async () => {
    const [vpcs, enis, instances, groups] = await Promise.all([
      bob.send(new DescribeVpcsCommand({})),
      bob.send(new DescribeNetworkInterfacesCommand({})),
      bob.send(new DescribeInstancesCommand({})),
      bob.send(new DescribeSecurityGroupsCommand({})),
    ]);
    assert.ok(!vpcs.Vpcs!.some((v) => v.VpcId === mine.network.vpcId));
    assert.ok(!enis.NetworkInterfaces!.some((n) => n.NetworkInterfaceId === mine.eni.NetworkInterfaceId));
    assert.ok(!(instances.Reservations ?? []).flatMap((r) => r.Instances ?? []).some((i) => i.InstanceId === mine.instance.InstanceId));
    assert.ok(!groups.SecurityGroups!.some((g) => g.GroupId === mine.groupId));
    assert.ok(vpcs.Vpcs!.some((v) => v.VpcId === theirs.network.vpcId), 'Bob sees his own');
    const { NetworkInterfaces } = await bob.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [mine.network.vpcId] }] }));
    assert.deepEqual(NetworkInterfaces, []);
    const { NetworkInterfaces: byAddress } = await bob.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'private-ip-address', Values: ['10.0.1.20'] }] }),
    );
    assert.deepEqual(byAddress!.map((n) => n.NetworkInterfaceId), [theirs.eni.NetworkInterfaceId], 'the same address, in Bob’s own VPC');
  });

  test('nothing Bob modifies, attaches, deletes or associates reaches Alice’s resources, and her estate is unchanged', async () => {
    const before = await view(alice, mine);
    const aliceEni = mine.eni.NetworkInterfaceId!;
    const refusals: [Promise<unknown>, string][] = [
      // modify
      [bob.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: aliceEni, Description: { Value: 'mine now' } })), 'InvalidNetworkInterfaceID.NotFound'],
      [bob.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: theirs.eni.NetworkInterfaceId!, Groups: [mine.groupId] })), 'InvalidGroup.NotFound'],
      [bob.send(new CreateTagsCommand({ Resources: [mine.network.vpcId], Tags: [{ Key: 'owner', Value: 'bob' }] })), 'InvalidVpcID.NotFound'],
      [
        bob.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: mine.groupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] })),
        'InvalidGroup.NotFound',
      ],
      // create inside Alice's network
      [bob.send(new CreateNetworkInterfaceCommand({ SubnetId: mine.network.subnets.app.SubnetId! })), 'InvalidSubnetID.NotFound'],
      [bob.send(new CreateSubnetCommand({ VpcId: mine.network.vpcId, CidrBlock: '10.0.9.0/24' })), 'InvalidVpcID.NotFound'],
      // attach, both ways round
      [bob.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: aliceEni, InstanceId: theirs.instance.InstanceId!, DeviceIndex: 1 })), 'InvalidNetworkInterfaceID.NotFound'],
      [
        bob.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: theirs.eni.NetworkInterfaceId!, InstanceId: mine.instance.InstanceId!, DeviceIndex: 1 })),
        'InvalidInstanceID.NotFound',
      ],
      [bob.send(new DetachNetworkInterfaceCommand({ AttachmentId: mine.instance.NetworkInterfaces![0].Attachment!.AttachmentId! })), 'InvalidAttachmentID.NotFound'],
      // associate, both ways round
      [bob.send(new AssociateAddressCommand({ AllocationId: mine.allocationId, NetworkInterfaceId: theirs.eni.NetworkInterfaceId! })), 'InvalidAllocationID.NotFound'],
      [bob.send(new AssociateAddressCommand({ AllocationId: theirs.allocationId, NetworkInterfaceId: aliceEni })), 'InvalidNetworkInterfaceID.NotFound'],
      [bob.send(new AssociateAddressCommand({ AllocationId: theirs.allocationId, InstanceId: mine.instance.InstanceId! })), 'InvalidInstanceID.NotFound'],
      // delete
      [bob.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: aliceEni })), 'InvalidNetworkInterfaceID.NotFound'],
      [bob.send(new TerminateInstancesCommand({ InstanceIds: [mine.instance.InstanceId!] })), 'InvalidInstanceID.NotFound'],
      [bob.send(new ReleaseAddressCommand({ AllocationId: mine.allocationId })), 'InvalidAllocationID.NotFound'],
      [bob.send(new DeleteSecurityGroupCommand({ GroupId: mine.groupId })), 'InvalidGroup.NotFound'],
      [bob.send(new DeleteSubnetCommand({ SubnetId: mine.network.subnets.app.SubnetId! })), 'InvalidSubnetID.NotFound'],
      [bob.send(new DeleteVpcCommand({ VpcId: mine.network.vpcId })), 'InvalidVpcID.NotFound'],
    ];
    // All sent at once, so each answer is judged as it comes (in any order: on PostgreSQL an attach
    // or detach runs beside the account's other writes).
    await Promise.all(refusals.map(([call, code]) => expectEc2Error(call, code)));
    assert.deepEqual(await view(alice, mine), before);
  });

  test('ids never collide across accounts', async () => {
    const created = await Promise.all(
      [alice, bob].map(async (client, n) => {
        const estate = n === 0 ? mine : theirs;
        const enis = [];
        for (let i = 0; i < 20; i++) {
          enis.push((await client.send(new CreateNetworkInterfaceCommand({ SubnetId: estate.network.subnets.app.SubnetId! }))).NetworkInterface!);
        }
        const ids = [
          estate.network.vpcId,
          estate.network.subnets.app.SubnetId!,
          estate.network.defaultGroupId,
          estate.groupId,
          estate.gatewayId,
          estate.allocationId,
          estate.instance.InstanceId!,
          estate.eni.NetworkInterfaceId!,
          ...enis.map((e) => e.NetworkInterfaceId!),
        ];
        return { ids, macs: enis.map((e) => e.MacAddress!) };
      }),
    );
    const [a, b] = created;
    assert.deepEqual(a.ids.filter((id) => b.ids.includes(id)), []);
    assert.equal(new Set([...a.ids, ...b.ids]).size, a.ids.length + b.ids.length);
    assert.equal(new Set([...a.macs, ...b.macs]).size, a.macs.length + b.macs.length, 'MAC addresses are unique too');
  });
});
