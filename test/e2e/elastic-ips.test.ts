/**
 * Public IPv4 end to end: Elastic IPs (allocate, quota, associate by instance or interface,
 * moves, replacement, following the interface, disassociate, release, describe filters,
 * termination, account isolation) and the public IPv4 address AWS assigns at launch (which
 * launches get one, stop/start, Elastic IPs replacing it, second interfaces).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  ModifyVpcAttributeCommand,
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  ModifySubnetAttributeCommand,
  ReleaseAddressCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type Address,
  type EC2Client,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createNetwork, describeEni, describeInstance, launch, pollUntil, type Network } from '../helpers/topology.ts';
import {
  PUBLIC_POOL,
  allAddresses,
  associationOf,
  createGateway,
  describeAddress,
  expectUnchanged,
  inIpv4Cidr,
  publicDnsName,
  publicIpOf,
  releaseAllAddresses,
  waitForState,
} from '../helpers/addressing.ts';

const ACCOUNT = '000000000000';
const OTHER_ACCOUNT = '111111111111';
const ALLOCATION_ID = /^eipalloc-[0-9a-f]{17}$/;
const ASSOCIATION_ID = /^eipassoc-[0-9a-f]{17}$/;

const entryFor = (eni: NetworkInterface, privateIp: string) => eni.PrivateIpAddresses!.find((a) => a.PrivateIpAddress === privateIp)!;

describe('public IPv4 addresses', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let other: EC2Client;
  /** A VPC with an internet gateway, its subnets in us-east-1a. */
  let net: Network;
  /** A VPC without an internet gateway. */
  let isolated: Network;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50 }, accounts: { AKIDOTHER: OTHER_ACCOUNT } });
    ec2 = server.client();
    other = server.client({ accessKeyId: 'AKIDOTHER' });
    net = await createNetwork(ec2, '10.0.0.0/16', {
      app: { cidr: '10.0.1.0/24', zone: 'us-east-1a' },
      web: { cidr: '10.0.2.0/24', zone: 'us-east-1a' },
    });
    // AWS: public DNS names exist only in a VPC with DNS hostnames on (the default VPC has them).
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: net.vpcId, EnableDnsHostnames: { Value: true } }));
    await createGateway(ec2, net.vpcId);
    isolated = await createNetwork(ec2, '10.9.0.0/16', { only: { cidr: '10.9.1.0/24', zone: 'us-east-1a' } });
  });
  after(() => server.stop());
  // Every test leaves the account's Elastic IPs as it found them: none.
  afterEach(async () => {
    await releaseAllAddresses(ec2);
    await releaseAllAddresses(other);
  });

  const app = () => net.subnets.app.SubnetId!;
  const allocate = async (tagName?: string) =>
    ec2.send(
      new AllocateAddressCommand({
        Domain: 'vpc',
        TagSpecifications: tagName ? [{ ResourceType: 'elastic-ip', Tags: [{ Key: 'Name', Value: tagName }] }] : undefined,
      }),
    );

  describe('Elastic IPs', () => {
    test('AllocateAddress gives an address of the public pool with an eipalloc- id, domain vpc and the region as network border group', async () => {
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      assert.ok(inIpv4Cidr(eip.PublicIp!, PUBLIC_POOL), `${eip.PublicIp} is in ${PUBLIC_POOL}`);
      assert.match(eip.AllocationId!, ALLOCATION_ID);
      assert.equal(eip.Domain, 'vpc');
      assert.equal(eip.NetworkBorderGroup, 'us-east-1');
      assert.equal(eip.PublicIpv4Pool, 'amazon');
      const described = await describeAddress(ec2, eip.AllocationId!);
      assert.equal(described.PublicIp, eip.PublicIp);
      assert.equal(described.Domain, 'vpc');
      assert.equal(described.NetworkBorderGroup, 'us-east-1');
      assert.deepEqual(associationOf(described), { AssociationId: undefined, InstanceId: undefined, NetworkInterfaceId: undefined, PrivateIpAddress: undefined });
      // Without a Domain the address is a VPC address as well.
      const plain = await ec2.send(new AllocateAddressCommand({}));
      assert.equal(plain.Domain, 'vpc');
      assert.notEqual(plain.PublicIp, eip.PublicIp);
    });

    test('five Elastic IPs per region; the sixth is AddressLimitExceeded; releasing one makes room; other regions and accounts count apart', async () => {
      const west = server.client({ region: 'us-west-2' });
      const westOther = server.client({ region: 'us-west-2', accessKeyId: 'AKIDOTHER' });
      try {
        const five = [];
        for (let i = 0; i < 5; i++) five.push(await west.send(new AllocateAddressCommand({ Domain: 'vpc' })));
        assert.equal(new Set(five.map((a) => a.PublicIp)).size, 5);
        for (const a of five) assert.equal(a.NetworkBorderGroup, 'us-west-2');
        await expectUnchanged(west, [], () => west.send(new AllocateAddressCommand({ Domain: 'vpc' })), 'AddressLimitExceeded');
        assert.equal((await allAddresses(west)).length, 5);

        // Another account, and another region of the same account, still have room.
        const theirs = await westOther.send(new AllocateAddressCommand({ Domain: 'vpc' }));
        assert.ok(!five.some((a) => a.PublicIp === theirs.PublicIp), 'public addresses are never shared');
        await allocate();

        await west.send(new ReleaseAddressCommand({ AllocationId: five[0].AllocationId }));
        const again = await west.send(new AllocateAddressCommand({ Domain: 'vpc' }));
        assert.match(again.AllocationId!, ALLOCATION_ID);
        assert.equal((await allAddresses(west)).length, 5);
      } finally {
        await releaseAllAddresses(west);
        await releaseAllAddresses(westOther);
      }
    });

    test('AssociateAddress by InstanceId maps the primary private address of the instance\'s only interface; the association shows on DescribeAddresses, DescribeNetworkInterfaces and DescribeInstances', async () => {
      const instance = await launch(ec2, { SubnetId: app() });
      const eni = instance.NetworkInterfaces![0];
      const eip = await allocate();
      const { AssociationId } = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: instance.InstanceId }));
      assert.match(AssociationId!, ASSOCIATION_ID);

      const address = await describeAddress(ec2, eip.AllocationId!);
      assert.deepEqual(associationOf(address), {
        AssociationId,
        InstanceId: instance.InstanceId,
        NetworkInterfaceId: eni.NetworkInterfaceId,
        PrivateIpAddress: instance.PrivateIpAddress,
      });
      assert.equal(address.NetworkInterfaceOwnerId, ACCOUNT);

      const expected = {
        PublicIp: eip.PublicIp,
        PublicDnsName: publicDnsName(eip.PublicIp!),
        IpOwnerId: ACCOUNT,
        AllocationId: eip.AllocationId,
        AssociationId,
      };
      assert.match(expected.PublicDnsName, /^ec2-198-1[89]-\d+-\d+\.compute-1\.amazonaws\.com$/);
      const described = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.deepEqual({ ...described.Association, CarrierIp: undefined, CustomerOwnedIp: undefined }, { ...expected, CarrierIp: undefined, CustomerOwnedIp: undefined });
      assert.deepEqual(entryFor(described, instance.PrivateIpAddress!).Association, described.Association);

      const shown = await describeInstance(ec2, instance.InstanceId!);
      assert.equal(shown.PublicIpAddress, eip.PublicIp);
      assert.equal(shown.PublicDnsName, expected.PublicDnsName);
      assert.equal(shown.NetworkInterfaces![0].Association?.PublicIp, eip.PublicIp);
      assert.equal(shown.NetworkInterfaces![0].Association?.PublicDnsName, expected.PublicDnsName);
      assert.equal(shown.NetworkInterfaces![0].Association?.IpOwnerId, ACCOUNT);
      const { Reservations } = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'ip-address', Values: [eip.PublicIp!] }] }));
      assert.deepEqual(Reservations!.flatMap((r) => r.Instances!).map((i) => i.InstanceId), [instance.InstanceId]);
    });

    test('AssociateAddress by NetworkInterfaceId maps the primary address, or the secondary given as PrivateIpAddress; an address not on the interface is InvalidParameterValue', async () => {
      const eni = await createEni(ec2, { SubnetId: app(), PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.20', Primary: true }, { PrivateIpAddress: '10.0.1.21' }] });
      const [primaryEip, secondaryEip] = [await allocate(), await allocate()];
      const onSecondary = await ec2.send(new AssociateAddressCommand({ AllocationId: secondaryEip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddress: '10.0.1.21' }));
      let described = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.equal(described.Association, undefined, 'the interface-level association is the primary address\'s only');
      assert.equal(entryFor(described, '10.0.1.21').Association?.PublicIp, secondaryEip.PublicIp);
      assert.equal(entryFor(described, '10.0.1.21').Association?.AssociationId, onSecondary.AssociationId);
      assert.equal(entryFor(described, '10.0.1.20').Association, undefined);

      const onPrimary = await ec2.send(new AssociateAddressCommand({ AllocationId: primaryEip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
      described = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.equal(described.Association?.PublicIp, primaryEip.PublicIp);
      assert.equal(described.Association?.AssociationId, onPrimary.AssociationId);
      assert.equal(entryFor(described, '10.0.1.20').Association?.PublicIp, primaryEip.PublicIp);
      assert.equal(entryFor(described, '10.0.1.21').Association?.PublicIp, secondaryEip.PublicIp);
      assert.equal((await describeAddress(ec2, secondaryEip.AllocationId!)).PrivateIpAddress, '10.0.1.21');
      assert.equal((await describeAddress(ec2, secondaryEip.AllocationId!)).InstanceId, undefined, 'an unattached interface has no instance');

      const third = await allocate();
      await expectUnchanged(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssociateAddressCommand({ AllocationId: third.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddress: '10.0.1.22' })),
        'InvalidParameterValue',
      );
    });

    test('the DescribeNetworkInterfaces association filters find the interface by its public address, allocation and association', async () => {
      const eni = await createEni(ec2, { SubnetId: app(), PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.25', Primary: true }, { PrivateIpAddress: '10.0.1.26' }] });
      const [primaryEip, secondaryEip] = [await allocate(), await allocate()];
      const { AssociationId } = await ec2.send(new AssociateAddressCommand({ AllocationId: primaryEip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: secondaryEip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddress: '10.0.1.26' }));
      const find = async (Name: string, value: string) =>
        (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name, Values: [value] }] }))).NetworkInterfaces!.map((n) => n.NetworkInterfaceId);
      assert.deepEqual(await find('association.public-ip', primaryEip.PublicIp!), [eni.NetworkInterfaceId]);
      assert.deepEqual(await find('association.allocation-id', primaryEip.AllocationId!), [eni.NetworkInterfaceId]);
      assert.deepEqual(await find('association.association-id', AssociationId!), [eni.NetworkInterfaceId]);
      assert.deepEqual(await find('addresses.association.public-ip', secondaryEip.PublicIp!), [eni.NetworkInterfaceId]);
    });

    test('InstanceId of an instance with two interfaces is InvalidInstanceID', async () => {
      const instance = await launch(ec2, {
        NetworkInterfaces: [
          { DeviceIndex: 0, SubnetId: app() },
          { DeviceIndex: 1, SubnetId: app() },
        ],
      });
      const eip = await allocate();
      await expectUnchanged(ec2, [net.vpcId], () => ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: instance.InstanceId })), 'InvalidInstanceID');
      // Naming the interface works.
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: instance.NetworkInterfaces![1].NetworkInterfaceId }));
      assert.equal((await describeAddress(ec2, eip.AllocationId!)).InstanceId, instance.InstanceId);
    });

    test('a VPC without an internet gateway is Gateway.NotAttached, by interface or by instance', async () => {
      const subnet = isolated.subnets.only.SubnetId!;
      const eni = await createEni(ec2, { SubnetId: subnet });
      const instance = await launch(ec2, { SubnetId: subnet });
      const eip = await allocate();
      await expectUnchanged(ec2, [isolated.vpcId], () => ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId })), 'Gateway.NotAttached');
      await expectUnchanged(ec2, [isolated.vpcId], () => ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: instance.InstanceId })), 'Gateway.NotAttached');
    });

    test('associating an associated address moves it (the old target loses it) unless AllowReassociation=false, which is Resource.AlreadyAssociated', async () => {
      const first = await createEni(ec2, { SubnetId: app() });
      const second = await createEni(ec2, { SubnetId: app() });
      const eip = await allocate();
      const one = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: first.NetworkInterfaceId }));
      await expectUnchanged(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: second.NetworkInterfaceId, AllowReassociation: false })),
        'Resource.AlreadyAssociated',
      );
      const two = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: second.NetworkInterfaceId }));
      assert.notEqual(two.AssociationId, one.AssociationId);
      assert.equal((await describeEni(ec2, first.NetworkInterfaceId!)).Association, undefined);
      assert.equal((await describeEni(ec2, second.NetworkInterfaceId!)).Association?.PublicIp, eip.PublicIp);
      assert.deepEqual(associationOf(await describeAddress(ec2, eip.AllocationId!)), {
        AssociationId: two.AssociationId,
        InstanceId: undefined,
        NetworkInterfaceId: second.NetworkInterfaceId,
        PrivateIpAddress: second.PrivateIpAddress,
      });
    });

    test('one Elastic IP per private address: a second Elastic IP onto the same address replaces the first, which stays allocated', async () => {
      const eni = await createEni(ec2, { SubnetId: app() });
      const [a, b] = [await allocate(), await allocate()];
      await ec2.send(new AssociateAddressCommand({ AllocationId: a.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
      const { AssociationId } = await ec2.send(new AssociateAddressCommand({ AllocationId: b.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
      const described = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.equal(described.Association?.PublicIp, b.PublicIp);
      assert.equal(described.PrivateIpAddresses!.filter((p) => p.Association).length, 1);
      const first = await describeAddress(ec2, a.AllocationId!);
      assert.equal(first.PublicIp, a.PublicIp, 'still allocated');
      assert.deepEqual(associationOf(first), { AssociationId: undefined, InstanceId: undefined, NetworkInterfaceId: undefined, PrivateIpAddress: undefined });
      assert.equal((await describeAddress(ec2, b.AllocationId!)).AssociationId, AssociationId);
    });

    test('the Elastic IP follows its interface: detached from one instance and attached to another, DescribeInstances of the new instance shows it', async () => {
      const eni = await createEni(ec2, { SubnetId: app() });
      const eip = await allocate();
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
      const a = await launch(ec2, { SubnetId: app() });
      const b = await launch(ec2, { SubnetId: net.subnets.web.SubnetId });
      await waitForState(ec2, a.InstanceId!, 'running');
      await waitForState(ec2, b.InstanceId!, 'running');

      const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: a.InstanceId, DeviceIndex: 1 }));
      assert.equal((await describeAddress(ec2, eip.AllocationId!)).InstanceId, a.InstanceId);
      const onA = (await describeInstance(ec2, a.InstanceId!)).NetworkInterfaces!.find((n) => n.NetworkInterfaceId === eni.NetworkInterfaceId)!;
      assert.equal(onA.Association?.PublicIp, eip.PublicIp);

      await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
      await pollUntil(async () => (await describeEni(ec2, eni.NetworkInterfaceId!)).Status, (s) => s === 'available');
      const detached = await describeAddress(ec2, eip.AllocationId!);
      assert.equal(detached.NetworkInterfaceId, eni.NetworkInterfaceId, 'a detached interface keeps its Elastic IP');
      assert.equal(detached.InstanceId, undefined);
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Association?.PublicIp, eip.PublicIp);

      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: b.InstanceId, DeviceIndex: 1 }));
      const onB = (await describeInstance(ec2, b.InstanceId!)).NetworkInterfaces!.find((n) => n.NetworkInterfaceId === eni.NetworkInterfaceId)!;
      assert.equal(onB.Association?.PublicIp, eip.PublicIp);
      assert.equal(entryFor(onB as NetworkInterface, eni.PrivateIpAddress!).Association?.PublicIp, eip.PublicIp);
      assert.equal((await describeAddress(ec2, eip.AllocationId!)).InstanceId, b.InstanceId);
      const { Addresses } = await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: 'instance-id', Values: [a.InstanceId!] }] }));
      assert.deepEqual(Addresses, []);
    });

    test('DisassociateAddress removes the association; repeating it with the same id succeeds; an unknown association id is InvalidAssociationID.NotFound', async () => {
      const eni = await createEni(ec2, { SubnetId: app() });
      const eip = await allocate();
      const { AssociationId } = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
      await ec2.send(new DisassociateAddressCommand({ AssociationId }));
      assert.deepEqual(associationOf(await describeAddress(ec2, eip.AllocationId!)), {
        AssociationId: undefined,
        InstanceId: undefined,
        NetworkInterfaceId: undefined,
        PrivateIpAddress: undefined,
      });
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Association, undefined);
      await ec2.send(new DisassociateAddressCommand({ AssociationId }));
      await expectUnchanged(ec2, [net.vpcId], () => ec2.send(new DisassociateAddressCommand({ AssociationId: 'eipassoc-0123456789abcdef0' })), 'InvalidAssociationID.NotFound');
    });

    test('ReleaseAddress of an associated address is InvalidIPAddress.InUse; once disassociated it goes; an unknown allocation is InvalidAllocationID.NotFound', async () => {
      const eni = await createEni(ec2, { SubnetId: app() });
      const eip = await allocate();
      const { AssociationId } = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
      await expectUnchanged(ec2, [net.vpcId], () => ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId })), 'InvalidIPAddress.InUse');
      await ec2.send(new DisassociateAddressCommand({ AssociationId }));
      await ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }));
      assert.ok(!(await allAddresses(ec2)).some((a) => a.AllocationId === eip.AllocationId));
      await expectEc2Error(ec2.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] })), 'InvalidAllocationID.NotFound');
      await expectUnchanged(ec2, [net.vpcId], () => ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId })), 'InvalidAllocationID.NotFound');
      await expectUnchanged(ec2, [net.vpcId], () => ec2.send(new AssociateAddressCommand({ AllocationId: 'eipalloc-0123456789abcdef0', NetworkInterfaceId: eni.NetworkInterfaceId })), 'InvalidAllocationID.NotFound');
    });

    test('DescribeAddresses filters: allocation-id, association-id, instance-id, network-interface-id, private-ip-address, public-ip, tag:Name, domain', async () => {
      const instance = await launch(ec2, { SubnetId: app() });
      const eni = await createEni(ec2, { SubnetId: app(), PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.40', Primary: true }, { PrivateIpAddress: '10.0.1.41' }] });
      const [web, db, spare] = [await allocate('web'), await allocate('db'), await allocate('spare')];
      const webAssoc = await ec2.send(new AssociateAddressCommand({ AllocationId: web.AllocationId, InstanceId: instance.InstanceId }));
      const dbAssoc = await ec2.send(new AssociateAddressCommand({ AllocationId: db.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddress: '10.0.1.41' }));
      const ids = async (Name: string, ...Values: string[]) =>
        ((await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name, Values }] }))).Addresses ?? []).map((a: Address) => a.AllocationId).sort();

      assert.deepEqual(await ids('allocation-id', spare.AllocationId!), [spare.AllocationId]);
      assert.deepEqual(await ids('association-id', webAssoc.AssociationId!), [web.AllocationId]);
      assert.deepEqual(await ids('instance-id', instance.InstanceId!), [web.AllocationId]);
      assert.deepEqual(await ids('network-interface-id', eni.NetworkInterfaceId!), [db.AllocationId]);
      assert.deepEqual(await ids('private-ip-address', '10.0.1.41'), [db.AllocationId]);
      assert.deepEqual(await ids('public-ip', web.PublicIp!, db.PublicIp!), [web.AllocationId, db.AllocationId].sort());
      assert.deepEqual(await ids('tag:Name', 'db'), [db.AllocationId]);
      assert.deepEqual(await ids('tag:Name', 'sp*'), [spare.AllocationId]);
      const vpc = await ids('domain', 'vpc');
      for (const a of [web, db, spare]) assert.ok(vpc.includes(a.AllocationId), `${a.AllocationId} has domain vpc`);
      assert.deepEqual(await ids('domain', 'standard'), []);
      assert.deepEqual(await ids('association-id', dbAssoc.AssociationId!, webAssoc.AssociationId!), [web.AllocationId, db.AllocationId].sort());

      const tagged = await describeAddress(ec2, db.AllocationId!);
      assert.deepEqual(tagged.Tags, [{ Key: 'Name', Value: 'db' }]);
      const byIp = await ec2.send(new DescribeAddressesCommand({ PublicIps: [spare.PublicIp!] }));
      assert.deepEqual(byIp.Addresses!.map((a) => a.AllocationId), [spare.AllocationId]);
    });

    test('terminating an instance disassociates the Elastic IP of its primary interface (it stays allocated); a kept secondary interface keeps its Elastic IP', async () => {
      const instance = await launch(ec2, { SubnetId: app() });
      await waitForState(ec2, instance.InstanceId!, 'running');
      const kept = await createEni(ec2, { SubnetId: app() });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: kept.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      const [primaryEip, keptEip] = [await allocate(), await allocate()];
      await ec2.send(new AssociateAddressCommand({ AllocationId: primaryEip.AllocationId, NetworkInterfaceId: instance.NetworkInterfaces![0].NetworkInterfaceId }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: keptEip.AllocationId, NetworkInterfaceId: kept.NetworkInterfaceId }));

      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await waitForState(ec2, instance.InstanceId!, 'terminated');
      const released = await describeAddress(ec2, primaryEip.AllocationId!);
      assert.equal(released.PublicIp, primaryEip.PublicIp);
      assert.deepEqual(associationOf(released), { AssociationId: undefined, InstanceId: undefined, NetworkInterfaceId: undefined, PrivateIpAddress: undefined });
      const stillMapped = await describeAddress(ec2, keptEip.AllocationId!);
      assert.equal(stillMapped.NetworkInterfaceId, kept.NetworkInterfaceId);
      assert.equal(stillMapped.InstanceId, undefined);
      const terminated = await describeInstance(ec2, instance.InstanceId!);
      assert.equal(terminated.PublicIpAddress, undefined);
    });

    test('accounts are isolated: another account neither sees, associates nor releases an Elastic IP it does not own', async () => {
      const eip = await allocate();
      const theirs = await other.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      assert.notEqual(theirs.PublicIp, eip.PublicIp);
      assert.ok(!(await allAddresses(other)).some((a) => a.AllocationId === eip.AllocationId));
      assert.ok(!(await allAddresses(ec2)).some((a) => a.AllocationId === theirs.AllocationId));
      await expectEc2Error(other.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] })), 'InvalidAllocationID.NotFound');
      const { Addresses } = await other.send(new DescribeAddressesCommand({ Filters: [{ Name: 'public-ip', Values: [eip.PublicIp!] }] }));
      assert.deepEqual(Addresses, []);
      await expectEc2Error(other.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId })), 'InvalidAllocationID.NotFound');
      // The other account's interface in its default VPC (which has a gateway).
      const instance = await launch(other, {});
      await expectEc2Error(other.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: instance.InstanceId })), 'InvalidAllocationID.NotFound');
      assert.deepEqual(associationOf(await describeAddress(ec2, eip.AllocationId!)), { AssociationId: undefined, InstanceId: undefined, NetworkInterfaceId: undefined, PrivateIpAddress: undefined });
    });
  });

  describe('public IPv4 at launch', () => {
    /** The default subnet in us-east-1a. */
    let defaultSubnet: string;
    before(async () => {
      const { Subnets } = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }, { Name: 'availability-zone', Values: ['us-east-1a'] }] }));
      assert.equal(Subnets!.length, 1);
      assert.equal(Subnets![0].MapPublicIpOnLaunch, true);
      defaultSubnet = Subnets![0].SubnetId!;
    });

    test('a launch in a default subnet gets a public IPv4 owned by amazon, with no allocation or association id, not listed by DescribeAddresses', async () => {
      const instance = await launch(ec2, {});
      assert.equal(instance.SubnetId, defaultSubnet);
      const running = await waitForState(ec2, instance.InstanceId!, 'running');
      const publicIp = running.PublicIpAddress!;
      assert.ok(publicIp && inIpv4Cidr(publicIp, PUBLIC_POOL), `${publicIp} is in ${PUBLIC_POOL}`);
      assert.equal(running.PublicDnsName, publicDnsName(publicIp));
      const eni = await describeEni(ec2, running.NetworkInterfaces![0].NetworkInterfaceId!);
      assert.equal(eni.Association?.PublicIp, publicIp);
      assert.equal(eni.Association?.IpOwnerId, 'amazon');
      assert.equal(eni.Association?.PublicDnsName, publicDnsName(publicIp));
      assert.equal(eni.Association?.AllocationId, undefined);
      assert.equal(eni.Association?.AssociationId, undefined);
      assert.equal(running.NetworkInterfaces![0].Association?.IpOwnerId, 'amazon');
      assert.ok(!(await allAddresses(ec2)).some((a) => a.PublicIp === publicIp));
    });

    test('a subnet without MapPublicIpOnLaunch gives none, unless NetworkInterfaces[0].AssociatePublicIpAddress=true', async () => {
      const plain = await launch(ec2, { SubnetId: app() });
      assert.equal(await publicIpOf(ec2, plain.InstanceId!), undefined);
      assert.equal((await describeInstance(ec2, plain.InstanceId!)).PublicDnsName, '');
      const asked = await launch(ec2, { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: app(), AssociatePublicIpAddress: true }] });
      const ip = await publicIpOf(ec2, asked.InstanceId!);
      assert.ok(ip && inIpv4Cidr(ip, PUBLIC_POOL));
    });

    test('AssociatePublicIpAddress=false in a default subnet gives none; a launch with two interfaces gives none', async () => {
      const declined = await launch(ec2, { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: defaultSubnet, AssociatePublicIpAddress: false }] });
      assert.equal(await publicIpOf(ec2, declined.InstanceId!), undefined);
      const two = await launch(ec2, {
        NetworkInterfaces: [
          { DeviceIndex: 0, SubnetId: defaultSubnet },
          { DeviceIndex: 1, SubnetId: defaultSubnet },
        ],
      });
      assert.equal(await publicIpOf(ec2, two.InstanceId!), undefined);
      const described = await describeInstance(ec2, two.InstanceId!);
      assert.equal(described.NetworkInterfaces!.filter((n) => n.Association).length, 0);
    });

    test('stopping releases the public IPv4; starting gives a new one; an Elastic IP stays across stop and start', async () => {
      const instance = await launch(ec2, {});
      await waitForState(ec2, instance.InstanceId!, 'running');
      const firstIp = await publicIpOf(ec2, instance.InstanceId!);
      assert.ok(firstIp);
      await ec2.send(new StopInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await waitForState(ec2, instance.InstanceId!, 'stopped');
      assert.equal(await publicIpOf(ec2, instance.InstanceId!), undefined);
      assert.equal((await describeEni(ec2, instance.NetworkInterfaces![0].NetworkInterfaceId!)).Association, undefined);
      await ec2.send(new StartInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await waitForState(ec2, instance.InstanceId!, 'running');
      const secondIp = await publicIpOf(ec2, instance.InstanceId!);
      assert.ok(secondIp && inIpv4Cidr(secondIp, PUBLIC_POOL));
      assert.notEqual(secondIp, firstIp, 'a new address, not the released one');

      const eip = await allocate();
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: instance.InstanceId }));
      await ec2.send(new StopInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await waitForState(ec2, instance.InstanceId!, 'stopped');
      assert.equal(await publicIpOf(ec2, instance.InstanceId!), eip.PublicIp, 'an Elastic IP is kept while stopped');
      await ec2.send(new StartInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await waitForState(ec2, instance.InstanceId!, 'running');
      assert.equal(await publicIpOf(ec2, instance.InstanceId!), eip.PublicIp);
    });

    test('an Elastic IP on the primary interface replaces the public IPv4; disassociating it gives a fresh automatic one while running', async () => {
      const instance = await launch(ec2, {});
      await waitForState(ec2, instance.InstanceId!, 'running');
      const automatic = await publicIpOf(ec2, instance.InstanceId!);
      assert.ok(automatic);
      const eip = await allocate();
      const { AssociationId } = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: instance.InstanceId }));
      assert.equal(await publicIpOf(ec2, instance.InstanceId!), eip.PublicIp);
      const eni = await describeEni(ec2, instance.NetworkInterfaces![0].NetworkInterfaceId!);
      assert.equal(eni.Association?.IpOwnerId, ACCOUNT);
      assert.equal(eni.PrivateIpAddresses!.filter((p) => p.Association).length, 1, 'the automatic address is gone');

      await ec2.send(new DisassociateAddressCommand({ AssociationId }));
      const fresh = await publicIpOf(ec2, instance.InstanceId!);
      assert.ok(fresh && inIpv4Cidr(fresh, PUBLIC_POOL));
      assert.notEqual(fresh, eip.PublicIp);
      assert.notEqual(fresh, automatic, 'a fresh address, never the released one');
      assert.equal((await describeEni(ec2, instance.NetworkInterfaces![0].NetworkInterfaceId!)).Association?.IpOwnerId, 'amazon');
    });

    test('moving an Elastic IP off an instance gives that instance a fresh automatic public IPv4', async () => {
      const source = await launch(ec2, {});
      await waitForState(ec2, source.InstanceId!, 'running');
      const eip = await allocate();
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: source.InstanceId }));
      const target = await createEni(ec2, { SubnetId: app() });
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: target.NetworkInterfaceId }));
      const fresh = await publicIpOf(ec2, source.InstanceId!);
      assert.ok(fresh && fresh !== eip.PublicIp);
      assert.equal((await describeEni(ec2, source.NetworkInterfaces![0].NetworkInterfaceId!)).Association?.IpOwnerId, 'amazon');
    });

    test('a second interface does not release the public IPv4, but once it is released (stop/start, Elastic IP disassociated) none comes back', async () => {
      const instance = await launch(ec2, {});
      await waitForState(ec2, instance.InstanceId!, 'running');
      const automatic = await publicIpOf(ec2, instance.InstanceId!);
      assert.ok(automatic);
      const second = await createEni(ec2, { SubnetId: defaultSubnet });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      assert.equal(await publicIpOf(ec2, instance.InstanceId!), automatic, 'attaching keeps the address');

      await ec2.send(new StopInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await waitForState(ec2, instance.InstanceId!, 'stopped');
      await ec2.send(new StartInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await waitForState(ec2, instance.InstanceId!, 'running');
      assert.equal(await publicIpOf(ec2, instance.InstanceId!), undefined, 'no public IPv4 with two interfaces');

      const eip = await allocate();
      const { AssociationId } = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: instance.NetworkInterfaces![0].NetworkInterfaceId }));
      assert.equal(await publicIpOf(ec2, instance.InstanceId!), eip.PublicIp);
      await ec2.send(new DisassociateAddressCommand({ AssociationId }));
      assert.equal(await publicIpOf(ec2, instance.InstanceId!), undefined);
    });

    test('ModifySubnetAttribute MapPublicIpOnLaunch decides for later launches', async () => {
      const web = net.subnets.web.SubnetId!;
      await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: web, MapPublicIpOnLaunch: { Value: true } }));
      assert.equal((await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [web] }))).Subnets![0].MapPublicIpOnLaunch, true);
      const mapped = await launch(ec2, { SubnetId: web });
      const ip = await publicIpOf(ec2, mapped.InstanceId!);
      assert.ok(ip && inIpv4Cidr(ip, PUBLIC_POOL));
      await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: web, MapPublicIpOnLaunch: { Value: false } }));
      const unmapped = await launch(ec2, { SubnetId: web });
      assert.equal(await publicIpOf(ec2, unmapped.InstanceId!), undefined);
      assert.equal(await publicIpOf(ec2, mapped.InstanceId!), ip, 'a running instance keeps its address');
    });
  });
});
