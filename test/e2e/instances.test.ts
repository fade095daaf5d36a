import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AttachNetworkInterfaceCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Filter,
  type RunInstancesCommandInput,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  IMAGE_ID,
  addressesOf,
  createEni,
  createGroup,
  createNetwork,
  defaultGroupOf,
  describeEni,
  describeInstance,
  eniIdsIn,
  expectRefused,
  freeAddresses,
  identityOf,
  instanceIdsIn,
  launch,
  pollUntil,
  type Network,
} from '../helpers/topology.ts';

const ACCOUNT = '000000000000';
const run = (ec2: EC2Client, input: Partial<RunInstancesCommandInput>) =>
  ec2.send(new RunInstancesCommand({ ImageId: IMAGE_ID, MinCount: 1, MaxCount: 1, InstanceType: 't2.micro', ...input }));
const stateOf = async (ec2: EC2Client, id: string) => (await describeInstance(ec2, id)).State;

describe('instances', () => {
  let server: TestServer;
  let ec2: EC2Client;
  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  describe('RunInstances', () => {
    let net: Network;
    before(async () => {
      net = await createNetwork(ec2, '10.60.0.0/16', {
        a: { cidr: '10.60.1.0/24', zone: 'us-east-1a' },
        a2: { cidr: '10.60.2.0/24', zone: 'us-east-1a' },
        b: { cidr: '10.60.3.0/24', zone: 'us-east-1b' },
        fits: { cidr: '10.60.4.0/28', zone: 'us-east-1a' },
        full: { cidr: '10.60.5.0/28', zone: 'us-east-1a' },
      });
    });
    const a = () => net.subnets.a.SubnetId!;
    const a2 = () => net.subnets.a2.SubnetId!;
    const refused = (input: Partial<RunInstancesCommandInput>, code: string) => expectRefused(ec2, [net.vpcId], () => run(ec2, input), code);

    test("without a subnet the instance goes to a default subnet of the default VPC, in Placement.AvailabilityZone when given", async () => {
      const defaultVpc = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0].VpcId!;
      const defaults = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [defaultVpc] }, { Name: 'default-for-az', Values: ['true'] }] }))).Subnets!;
      const anywhere = await launch(ec2);
      assert.equal(anywhere.VpcId, defaultVpc);
      const subnet = defaults.find((s) => s.SubnetId === anywhere.SubnetId);
      assert.ok(subnet, 'a default subnet of the default VPC');
      assert.equal(anywhere.Placement!.AvailabilityZone, subnet.AvailabilityZone);
      assert.deepEqual(anywhere.SecurityGroups, [{ GroupId: await defaultGroupOf(ec2, defaultVpc), GroupName: 'default' }]);

      const placed = await launch(ec2, { Placement: { AvailabilityZone: 'us-east-1c' } });
      assert.equal(placed.Placement!.AvailabilityZone, 'us-east-1c');
      assert.equal(placed.SubnetId, defaults.find((s) => s.AvailabilityZone === 'us-east-1c')!.SubnetId);
      assert.equal(placed.NetworkInterfaces![0].SubnetId, placed.SubnetId);
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [anywhere.InstanceId!, placed.InstanceId!] }));
    });

    test('with SubnetId the instance has one primary interface there: device index 0, DeleteOnTermination true, its address the instance address', async () => {
      const free = await freeAddresses(ec2, a());
      const reservation = await run(ec2, { SubnetId: a() });
      assert.match(reservation.ReservationId!, /^r-[0-9a-f]{17}$/);
      assert.equal(reservation.OwnerId, ACCOUNT);
      const instance = reservation.Instances![0];
      assert.match(instance.InstanceId!, /^i-[0-9a-f]{17}$/);
      assert.deepEqual(instance.State, { Code: 0, Name: 'pending' });
      assert.equal(instance.ImageId, IMAGE_ID);
      assert.equal(instance.InstanceType, 't2.micro');
      assert.equal(instance.SubnetId, a());
      assert.equal(instance.VpcId, net.vpcId);
      assert.equal(instance.Placement!.AvailabilityZone, 'us-east-1a');
      assert.equal(instance.AmiLaunchIndex, 0);
      assert.equal(await freeAddresses(ec2, a()), free - 1);

      const described = await describeInstance(ec2, instance.InstanceId!);
      assert.equal(described.NetworkInterfaces!.length, 1);
      const primary = described.NetworkInterfaces![0];
      assert.equal(primary.Attachment!.DeviceIndex, 0);
      assert.equal(primary.Attachment!.DeleteOnTermination, true);
      assert.equal(primary.Attachment!.Status, 'attached');
      assert.match(primary.Attachment!.AttachmentId!, /^eni-attach-[0-9a-f]{17}$/);
      assert.equal(primary.SubnetId, a());
      assert.equal(primary.Status, 'in-use');
      assert.equal(primary.OwnerId, ACCOUNT);
      assert.equal(primary.SourceDestCheck, true);
      assert.deepEqual(primary.Groups, [{ GroupId: net.defaultGroupId, GroupName: 'default' }]);
      assert.equal(described.PrivateIpAddress, primary.PrivateIpAddress);
      assert.equal(described.PrivateDnsName, `ip-${primary.PrivateIpAddress!.replaceAll('.', '-')}.ec2.internal`);
      assert.deepEqual(described.SecurityGroups, primary.Groups);
      assert.equal(described.SourceDestCheck, true);

      const eni = await describeEni(ec2, primary.NetworkInterfaceId!);
      assert.equal(eni.Attachment!.InstanceId, instance.InstanceId);
      assert.equal(eni.Attachment!.InstanceOwnerId, ACCOUNT);
      assert.equal(eni.RequesterManaged, false);
      assert.equal(eni.MacAddress, primary.MacAddress);
    });

    test('MinCount = MaxCount = 3 launches three instances in one reservation with AmiLaunchIndex 0, 1, 2', async () => {
      const reservation = await run(ec2, { SubnetId: a(), MinCount: 3, MaxCount: 3 });
      assert.equal(reservation.Instances!.length, 3);
      assert.deepEqual(reservation.Instances!.map((i) => i.AmiLaunchIndex), [0, 1, 2]);
      assert.equal(new Set(reservation.Instances!.map((i) => i.PrivateIpAddress)).size, 3);
      const ids = reservation.Instances!.map((i) => i.InstanceId!);
      const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      assert.equal(Reservations!.length, 1);
      assert.equal(Reservations![0].ReservationId, reservation.ReservationId);
      assert.deepEqual(Reservations![0].Instances!.map((i) => i.InstanceId).sort(), [...ids].sort());
    });

    test('MaxCount above the free addresses launches as many as fit when that reaches MinCount, else InsufficientFreeAddressesInSubnet', async () => {
      const fits = net.subnets.fits.SubnetId!;
      const reservation = await run(ec2, { SubnetId: fits, MinCount: 1, MaxCount: 15 });
      assert.equal(reservation.Instances!.length, 11);
      assert.deepEqual(reservation.Instances!.map((i) => i.AmiLaunchIndex), Array.from({ length: 11 }, (_, i) => i));
      assert.equal(await freeAddresses(ec2, fits), 0);

      const full = net.subnets.full.SubnetId!;
      await refused({ SubnetId: full, MinCount: 12, MaxCount: 15 }, 'InsufficientFreeAddressesInSubnet');
      assert.equal(await freeAddresses(ec2, full), 11);
      await refused({ SubnetId: fits, MinCount: 1, MaxCount: 1 }, 'InsufficientFreeAddressesInSubnet');
    });

    test('an unknown instance type is InvalidParameterValue, a malformed image id InvalidAMIID.Malformed, an unknown key pair InvalidKeyPair.NotFound', async () => {
      await refused({ SubnetId: a(), InstanceType: 'x9.mega' as _InstanceType }, 'InvalidParameterValue');
      await refused({ SubnetId: a(), ImageId: 'ami-xyz' }, 'InvalidAMIID.Malformed');
      await refused({ SubnetId: a(), ImageId: 'image-12345678' }, 'InvalidAMIID.Malformed');
      await refused({ SubnetId: a(), KeyName: 'no-such-key' }, 'InvalidKeyPair.NotFound');
      await refused({ SubnetId: 'subnet-0123456789abcdef0' }, 'InvalidSubnetID.NotFound');
    });

    test('two new interfaces in two subnets of one zone make a dual-homed instance', async () => {
      const backend = await createGroup(ec2, net.vpcId, 'backend');
      const instance = await launch(ec2, {
        InstanceType: 'm5.large',
        NetworkInterfaces: [
          { DeviceIndex: 0, SubnetId: a(), Description: 'front' },
          { DeviceIndex: 1, SubnetId: a2(), Groups: [backend], Description: 'back', SecondaryPrivateIpAddressCount: 1 },
        ],
      });
      assert.equal(instance.SubnetId, a());
      const nics = (await describeInstance(ec2, instance.InstanceId!)).NetworkInterfaces!;
      assert.deepEqual(nics.map((n) => [n.Attachment!.DeviceIndex, n.SubnetId, n.Description]), [[0, a(), 'front'], [1, a2(), 'back']]);
      assert.deepEqual(nics[1].Groups, [{ GroupId: backend, GroupName: 'backend' }]);
      assert.deepEqual(nics[0].Groups, [{ GroupId: net.defaultGroupId, GroupName: 'default' }]);
      assert.equal(nics[1].PrivateIpAddresses!.length, 2);
      assert.equal(nics[0].Attachment!.DeleteOnTermination, true);
    });

    test('an existing available interface can be given at device index 1; it is attached, keeps its identity and is kept on termination', async () => {
      const eni = await createEni(ec2, { SubnetId: a2(), Description: 'pre-made' });
      const instance = await launch(ec2, { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a() }, { DeviceIndex: 1, NetworkInterfaceId: eni.NetworkInterfaceId }] });
      const attached = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.equal(attached.Status, 'in-use');
      assert.equal(attached.Attachment!.InstanceId, instance.InstanceId);
      assert.equal(attached.Attachment!.DeviceIndex, 1);
      assert.equal(attached.Attachment!.DeleteOnTermination, false);
      assert.deepEqual(identityOf(attached), identityOf(eni));
    });

    test('an existing available interface can be the primary (device index 0): the instance takes its subnet and address', async () => {
      const eni = await createEni(ec2, { SubnetId: a2(), PrivateIpAddress: '10.60.2.200' });
      const instance = await launch(ec2, { NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.NetworkInterfaceId }] });
      assert.equal(instance.SubnetId, a2());
      assert.equal(instance.VpcId, net.vpcId);
      assert.equal(instance.PrivateIpAddress, '10.60.2.200');
      const described = await describeInstance(ec2, instance.InstanceId!);
      assert.deepEqual(described.NetworkInterfaces!.map((n) => n.NetworkInterfaceId), [eni.NetworkInterfaceId]);
      assert.equal(described.NetworkInterfaces![0].MacAddress, eni.MacAddress);
      assert.equal(described.NetworkInterfaces![0].Attachment!.DeleteOnTermination, false, 'only interfaces made by the launch may be deleted with it by default');
    });

    test('an existing interface that is in use is InvalidNetworkInterface.InUse', async () => {
      const holder = await launch(ec2, { SubnetId: a() });
      const eni = await createEni(ec2, { SubnetId: a() });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: holder.InstanceId, DeviceIndex: 1 }));
      await refused({ NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a() }, { DeviceIndex: 1, NetworkInterfaceId: eni.NetworkInterfaceId }] }, 'InvalidNetworkInterface.InUse');
      await refused({ NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: holder.NetworkInterfaces![0].NetworkInterfaceId }] }, 'InvalidNetworkInterface.InUse');
    });

    test('conflicting interface parameters are InvalidParameterCombination', async () => {
      const eni = await createEni(ec2, { SubnetId: a() });
      // An instance-level subnet together with NetworkInterface.N.
      await refused({ SubnetId: a(), NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a() }] }, 'InvalidParameterCombination');
      // An existing interface id together with a subnet.
      await refused({ NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.NetworkInterfaceId, SubnetId: a() }] }, 'InvalidParameterCombination');
      // An existing interface id with DeleteOnTermination true.
      await refused({ NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.NetworkInterfaceId, DeleteOnTermination: true }] }, 'InvalidParameterCombination');
      // AssociatePublicIpAddress with several interfaces.
      await refused(
        { InstanceType: 'm5.large', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a(), AssociatePublicIpAddress: true }, { DeviceIndex: 1, SubnetId: a2() }] },
        'InvalidParameterCombination',
      );
      // Interfaces in different Availability Zones.
      await refused(
        { InstanceType: 'm5.large', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a() }, { DeviceIndex: 1, SubnetId: net.subnets.b.SubnetId }] },
        'InvalidParameterCombination',
      );
      // Instance-level security groups or a private address together with NetworkInterface.N.
      await refused({ SecurityGroupIds: [net.defaultGroupId], NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a() }] }, 'InvalidParameterCombination');
      await refused({ PrivateIpAddress: '10.60.1.250', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a() }] }, 'InvalidParameterCombination');
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Status, 'available');
    });

    test('security groups must exist and belong to the subnet VPC: InvalidGroup.NotFound, InvalidParameter', async () => {
      const foreign = await createGroup(ec2, (await createNetwork(ec2, '10.64.0.0/16', {})).vpcId, 'foreign');
      await refused({ SubnetId: a(), SecurityGroupIds: ['sg-0123456789abcdef0'] }, 'InvalidGroup.NotFound');
      // AWS: "Security group sg-… and subnet subnet-… belong to different networks." (InvalidParameter)
      await refused({ SubnetId: a(), SecurityGroupIds: [foreign] }, 'InvalidParameter');
      await refused({ NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a(), Groups: [foreign] }] }, 'InvalidParameter');
    });

    test("more interfaces than the type takes is AttachmentLimitExceeded; more addresses than it takes per interface InvalidInterface.IpAddressLimitExceeded", async () => {
      await refused(
        { InstanceType: 't2.micro', NetworkInterfaces: [0, 1, 2].map((DeviceIndex) => ({ DeviceIndex, SubnetId: a() })) },
        'AttachmentLimitExceeded',
      );
      await refused({ InstanceType: 't2.micro', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a(), SecondaryPrivateIpAddressCount: 2 }] }, 'InvalidInterface.IpAddressLimitExceeded');
      // The same for an existing interface: refused after the primary was planned, and nothing is left behind.
      const big = await createEni(ec2, { SubnetId: a(), SecondaryPrivateIpAddressCount: 2 });
      await refused(
        { InstanceType: 't2.micro', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a() }, { DeviceIndex: 1, NetworkInterfaceId: big.NetworkInterfaceId }] },
        'InvalidInterface.IpAddressLimitExceeded',
      );
      assert.equal((await describeEni(ec2, big.NetworkInterfaceId!)).Status, 'available');
      const c5 = await launch(ec2, { InstanceType: 'c5.18xlarge', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a(), SecondaryPrivateIpAddressCount: 49 }] });
      assert.equal(c5.NetworkInterfaces![0].PrivateIpAddresses!.length, 50);
    });

    test('a refused launch leaves no instance, no interface and every address behind', async () => {
      const enis = await eniIdsIn(ec2, { vpcId: net.vpcId });
      const instances = await instanceIdsIn(ec2, net.vpcId);
      const free = await freeAddresses(ec2, a());
      await expectEc2Error(
        run(ec2, { InstanceType: 'm5.large', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: a(), SecondaryPrivateIpAddressCount: 5 }, { DeviceIndex: 1, SubnetId: a(), PrivateIpAddress: '10.60.1.0' }] }),
        'InvalidParameterValue',
      );
      assert.deepEqual(await eniIdsIn(ec2, { vpcId: net.vpcId }), enis);
      assert.deepEqual(await instanceIdsIn(ec2, net.vpcId), instances);
      assert.equal(await freeAddresses(ec2, a()), free);
    });

    test('the same ClientToken returns the same reservation without launching again; other parameters are IdempotentParameterMismatch', async () => {
      const input = { SubnetId: a(), ClientToken: 'launch-token-1', MinCount: 2, MaxCount: 2 };
      const first = await run(ec2, input);
      const free = await freeAddresses(ec2, a());
      const instances = await instanceIdsIn(ec2, net.vpcId);
      const again = await run(ec2, input);
      assert.equal(again.ReservationId, first.ReservationId);
      assert.deepEqual(again.Instances!.map((i) => i.InstanceId), first.Instances!.map((i) => i.InstanceId));
      assert.deepEqual(await instanceIdsIn(ec2, net.vpcId), instances);
      assert.equal(await freeAddresses(ec2, a()), free);
      assert.equal((await describeInstance(ec2, first.Instances![0].InstanceId!)).ClientToken, 'launch-token-1');
      await refused({ ...input, InstanceType: 'm5.large' }, 'IdempotentParameterMismatch');
    });

    test('TagSpecifications tag the instance and, for network-interface, the interfaces the launch creates', async () => {
      // AWS RunInstances: TagSpecifications apply to resources created at launch: instances, volumes,
      // Spot Instance requests and network interfaces.
      const instance = await launch(ec2, {
        SubnetId: a(),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'tagged' }] },
          { ResourceType: 'network-interface', Tags: [{ Key: 'nic', Value: 'primary' }] },
        ],
      });
      assert.deepEqual((await describeInstance(ec2, instance.InstanceId!)).Tags, [{ Key: 'Name', Value: 'tagged' }]);
      const eni = await describeEni(ec2, instance.NetworkInterfaces![0].NetworkInterfaceId!);
      assert.deepEqual(eni.TagSet, [{ Key: 'nic', Value: 'primary' }]);
    });
  });

  describe('instance states', () => {
    let net: Network;
    before(async () => {
      net = await createNetwork(ec2, '10.61.0.0/16', { a: { cidr: '10.61.1.0/24', zone: 'us-east-1a' } });
    });
    const subnet = () => net.subnets.a.SubnetId!;

    test('RunInstances answers pending (0); with no delay DescribeInstances then shows running (16)', async () => {
      const instance = await launch(ec2, { SubnetId: subnet() });
      assert.deepEqual(instance.State, { Code: 0, Name: 'pending' });
      assert.deepEqual(await stateOf(ec2, instance.InstanceId!), { Code: 16, Name: 'running' });
    });

    test('Stop goes stopping (64) then stopped (80) with a user-initiated StateReason; Start goes pending (0) then running (16); interfaces stay attached', async () => {
      const instance = await launch(ec2, { SubnetId: subnet() });
      const address = instance.PrivateIpAddress;
      const stopped = await ec2.send(new StopInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      assert.deepEqual(stopped.StoppingInstances, [{ InstanceId: instance.InstanceId, CurrentState: { Code: 64, Name: 'stopping' }, PreviousState: { Code: 16, Name: 'running' } }]);
      const described = await describeInstance(ec2, instance.InstanceId!);
      assert.deepEqual(described.State, { Code: 80, Name: 'stopped' });
      assert.equal(described.StateReason!.Code, 'Client.UserInitiatedShutdown');
      assert.equal(described.StateReason!.Message, 'Client.UserInitiatedShutdown: User initiated shutdown');
      assert.match(described.StateTransitionReason!, /^User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)$/);
      assert.equal(described.PrivateIpAddress, address, 'a stopped instance keeps its private address');
      assert.equal(described.NetworkInterfaces!.length, 1);

      const started = await ec2.send(new StartInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      assert.deepEqual(started.StartingInstances, [{ InstanceId: instance.InstanceId, CurrentState: { Code: 0, Name: 'pending' }, PreviousState: { Code: 80, Name: 'stopped' } }]);
      assert.deepEqual(await stateOf(ec2, instance.InstanceId!), { Code: 16, Name: 'running' });
      assert.equal((await describeInstance(ec2, instance.InstanceId!)).PrivateIpAddress, address);
    });

    test('Reboot of a stopped instance is IncorrectInstanceState; of a running one it succeeds', async () => {
      const instance = await launch(ec2, { SubnetId: subnet() });
      await ec2.send(new RebootInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await ec2.send(new StopInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new RebootInstancesCommand({ InstanceIds: [instance.InstanceId!] })), 'IncorrectInstanceState');
    });

    test('Terminate goes shutting-down (32) then terminated (48), is idempotent, and the terminated instance is still described, without interfaces', async () => {
      const instance = await launch(ec2, { SubnetId: subnet() });
      const first = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      assert.deepEqual(first.TerminatingInstances, [{ InstanceId: instance.InstanceId, CurrentState: { Code: 32, Name: 'shutting-down' }, PreviousState: { Code: 16, Name: 'running' } }]);
      const described = await describeInstance(ec2, instance.InstanceId!);
      assert.deepEqual(described.State, { Code: 48, Name: 'terminated' });
      assert.deepEqual(described.NetworkInterfaces, []);
      const again = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      assert.deepEqual(again.TerminatingInstances, [{ InstanceId: instance.InstanceId, CurrentState: { Code: 48, Name: 'terminated' }, PreviousState: { Code: 48, Name: 'terminated' } }]);
      const { Reservations } = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['terminated'] }, { Name: 'instance-id', Values: [instance.InstanceId!] }] }));
      assert.equal(Reservations!.length, 1);
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new StartInstancesCommand({ InstanceIds: [instance.InstanceId!] })), 'IncorrectInstanceState');
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new StopInstancesCommand({ InstanceIds: [instance.InstanceId!] })), 'IncorrectInstanceState');
    });

    test('DisableApiTermination refuses Terminate with OperationNotPermitted until it is turned off', async () => {
      const instance = await launch(ec2, { SubnetId: subnet(), DisableApiTermination: true });
      const described = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instance.InstanceId, Attribute: 'disableApiTermination' }));
      assert.deepEqual(described.DisableApiTermination, { Value: true });
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] })), 'OperationNotPermitted');
      assert.equal((await stateOf(ec2, instance.InstanceId!))!.Name, 'running');
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instance.InstanceId, DisableApiTermination: { Value: false } }));
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      assert.equal((await stateOf(ec2, instance.InstanceId!))!.Name, 'terminated');
    });

    test('termination deletes the primary interface and frees its address; a later-attached interface becomes available with its identity; one set to DeleteOnTermination is deleted', async () => {
      const group = await createGroup(ec2, net.vpcId, 'kept');
      const free = await freeAddresses(ec2, subnet());
      const instance = await launch(ec2, { SubnetId: subnet(), InstanceType: 'm5.large' });
      const primaryId = instance.NetworkInterfaces![0].NetworkInterfaceId!;
      const kept = await createEni(ec2, { SubnetId: subnet(), Groups: [group], SecondaryPrivateIpAddressCount: 1, Description: 'kept' });
      const doomed = await createEni(ec2, { SubnetId: subnet() });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: kept.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: doomed.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 2 }));
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: doomed.NetworkInterfaceId, Attachment: { AttachmentId, DeleteOnTermination: true } }));
      assert.equal(await freeAddresses(ec2, subnet()), free - 4);

      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [primaryId] })), 'InvalidNetworkInterfaceID.NotFound');
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [doomed.NetworkInterfaceId!] })), 'InvalidNetworkInterfaceID.NotFound');
      const survivor = await describeEni(ec2, kept.NetworkInterfaceId!);
      assert.equal(survivor.Status, 'available');
      assert.equal(survivor.Attachment, undefined);
      assert.deepEqual(identityOf(survivor), identityOf(kept));
      assert.equal(await freeAddresses(ec2, subnet()), free - 2, 'only the kept interface still holds addresses');
    });
  });

  describe('DescribeInstances filters and DescribeInstanceStatus', () => {
    let net: Network;
    let web: string;
    let running: string;
    let stopped: string;
    let secondaryEni: string;
    let runningAddress: string;
    before(async () => {
      net = await createNetwork(ec2, '10.62.0.0/16', { a: { cidr: '10.62.1.0/24', zone: 'us-east-1a' }, b: { cidr: '10.62.2.0/24', zone: 'us-east-1b' } });
      web = await createGroup(ec2, net.vpcId, 'web');
      const i1 = await launch(ec2, {
        SubnetId: net.subnets.a.SubnetId,
        SecurityGroupIds: [web],
        InstanceType: 'm5.large',
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web-1' }] }],
      });
      running = i1.InstanceId!;
      runningAddress = i1.PrivateIpAddress!;
      secondaryEni = (await createEni(ec2, { SubnetId: net.subnets.a.SubnetId, PrivateIpAddress: '10.62.1.100', SecondaryPrivateIpAddressCount: 1 })).NetworkInterfaceId!;
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: secondaryEni, InstanceId: running, DeviceIndex: 1 }));
      const i2 = await launch(ec2, { SubnetId: net.subnets.b.SubnetId, TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'db-1' }] }] });
      stopped = i2.InstanceId!;
      await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped] }));
    });

    const matching = async (...filters: Filter[]) => {
      const { Reservations } = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }, ...filters] }));
      const name = new Map([[running, 'running'], [stopped, 'stopped']]);
      return (Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => name.get(i.InstanceId!) ?? i.InstanceId!).sort();
    };
    const f = (Name: string, ...Values: string[]): Filter => ({ Name, Values });

    test('filters: instance-id, instance-state-name, instance-state-code, subnet-id, vpc-id, availability-zone, private-ip-address', async () => {
      assert.deepEqual(await matching(), ['running', 'stopped']);
      assert.deepEqual(await matching(f('instance-id', running)), ['running']);
      assert.deepEqual(await matching(f('instance-state-name', 'running')), ['running']);
      assert.deepEqual(await matching(f('instance-state-name', 'stopped', 'running')), ['running', 'stopped']);
      assert.deepEqual(await matching(f('instance-state-code', '80')), ['stopped']);
      assert.deepEqual(await matching(f('instance-state-code', '16')), ['running']);
      assert.deepEqual(await matching(f('subnet-id', net.subnets.b.SubnetId!)), ['stopped']);
      assert.deepEqual(await matching(f('vpc-id', net.vpcId)), ['running', 'stopped']);
      assert.deepEqual(await matching(f('availability-zone', 'us-east-1a')), ['running']);
      assert.deepEqual(await matching(f('private-ip-address', runningAddress)), ['running']);
    });

    test('filters on interfaces: network-interface.network-interface-id, network-interface.addresses.private-ip-address of a secondary interface, network-interface.group-id, and tag:Name', async () => {
      assert.deepEqual(await matching(f('network-interface.network-interface-id', secondaryEni)), ['running']);
      assert.deepEqual(await matching(f('network-interface.addresses.private-ip-address', '10.62.1.100')), ['running']);
      assert.deepEqual(await matching(f('network-interface.group-id', web)), ['running']);
      assert.deepEqual(await matching(f('network-interface.group-id', net.defaultGroupId)), ['running', 'stopped']);
      assert.deepEqual(await matching(f('tag:Name', 'web-*')), ['running']);
      assert.deepEqual(await matching(f('tag:Name', 'db-1')), ['stopped']);
    });

    test('MaxResults with InstanceIds is InvalidParameterCombination; unknown ids InvalidInstanceID.NotFound; malformed InvalidInstanceID.Malformed', async () => {
      await expectEc2Error(ec2.send(new DescribeInstancesCommand({ InstanceIds: [running], MaxResults: 5 })), 'InvalidParameterCombination');
      await expectEc2Error(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })), 'InvalidInstanceID.NotFound');
      await expectEc2Error(ec2.send(new DescribeInstancesCommand({ InstanceIds: [running, 'i-0123456789abcdef0'] })), 'InvalidInstanceID.NotFound');
      await expectEc2Error(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-xyz'] })), 'InvalidInstanceID.Malformed');
      await expectEc2Error(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['eni-0123456789abcdef0'] })), 'InvalidInstanceID.Malformed');
    });

    test('the instance lists its interfaces by device index with their addresses', async () => {
      const instance = await describeInstance(ec2, running);
      assert.deepEqual(instance.NetworkInterfaces!.map((n) => n.Attachment!.DeviceIndex), [0, 1]);
      assert.deepEqual(addressesOf(instance.NetworkInterfaces![1]).length, 2);
      assert.equal(instance.NetworkInterfaces![1].PrivateIpAddress, '10.62.1.100');
      assert.equal(instance.PrivateIpAddress, runningAddress, 'the instance address is its primary interface address');
    });

    test('DescribeInstanceStatus lists running instances only, unless IncludeAllInstances', async () => {
      const { InstanceStatuses } = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [running, stopped] }));
      assert.deepEqual(InstanceStatuses!.map((s) => s.InstanceId), [running]);
      assert.deepEqual(InstanceStatuses![0].InstanceState, { Code: 16, Name: 'running' });
      assert.equal(InstanceStatuses![0].AvailabilityZone, 'us-east-1a');
      const all = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [running, stopped], IncludeAllInstances: true }));
      const byId = new Map(all.InstanceStatuses!.map((s) => [s.InstanceId, s.InstanceState]));
      assert.deepEqual(Object.fromEntries(byId), { [running]: { Code: 16, Name: 'running' }, [stopped]: { Code: 80, Name: 'stopped' } });
      await expectEc2Error(ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: ['i-0123456789abcdef0'] })), 'InvalidInstanceID.NotFound');
    });
  });

  describe('ModifyInstanceAttribute and DescribeInstanceAttribute', () => {
    let net: Network;
    before(async () => {
      net = await createNetwork(ec2, '10.63.0.0/16', { a: { cidr: '10.63.1.0/24', zone: 'us-east-1d' } });
    });
    const subnet = () => net.subnets.a.SubnetId!;
    const attr = (InstanceId: string, Attribute: 'instanceType' | 'groupSet' | 'sourceDestCheck' | 'disableApiTermination') =>
      ec2.send(new DescribeInstanceAttributeCommand({ InstanceId, Attribute }));

    test('on a single-interface instance SourceDestCheck and groups change its primary interface', async () => {
      const instance = await launch(ec2, { SubnetId: subnet() });
      const id = instance.InstanceId!;
      const eniId = instance.NetworkInterfaces![0].NetworkInterfaceId!;
      assert.deepEqual((await attr(id, 'sourceDestCheck')).SourceDestCheck, { Value: true });
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, SourceDestCheck: { Value: false } }));
      assert.deepEqual((await attr(id, 'sourceDestCheck')).SourceDestCheck, { Value: false });
      assert.equal((await describeInstance(ec2, id)).SourceDestCheck, false);
      assert.equal((await describeEni(ec2, eniId)).SourceDestCheck, false);

      const g1 = await createGroup(ec2, net.vpcId, 'g1');
      const g2 = await createGroup(ec2, net.vpcId, 'g2');
      assert.deepEqual((await attr(id, 'groupSet')).Groups, [{ GroupId: net.defaultGroupId, GroupName: 'default' }]);
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [g1, g2] }));
      const expected = [{ GroupId: g1, GroupName: 'g1' }, { GroupId: g2, GroupName: 'g2' }];
      assert.deepEqual((await attr(id, 'groupSet')).Groups, expected);
      assert.deepEqual((await describeInstance(ec2, id)).SecurityGroups, expected);
      assert.deepEqual((await describeEni(ec2, eniId)).Groups, expected);
    });

    test('with two interfaces attached, SourceDestCheck and groups are InvalidInstanceID (use the interface instead)', async () => {
      const instance = await launch(ec2, { SubnetId: subnet() });
      const eni = await createEni(ec2, { SubnetId: subnet() });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      const g = await createGroup(ec2, net.vpcId, 'two-nics');
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instance.InstanceId, SourceDestCheck: { Value: false } })), 'InvalidInstanceID');
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instance.InstanceId, Groups: [g] })), 'InvalidInstanceID');
    });

    test('the instance type changes only while stopped (IncorrectInstanceState otherwise), and not to a type too small for its interfaces (AttachmentLimitExceeded)', async () => {
      const instance = await launch(ec2, { SubnetId: subnet(), InstanceType: 'm5.large' });
      const id = instance.InstanceId!;
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 'c5.large' } })), 'IncorrectInstanceState');
      await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 'c5.large' } }));
      assert.deepEqual((await attr(id, 'instanceType')).InstanceType, { Value: 'c5.large' });
      assert.equal((await describeInstance(ec2, id)).InstanceType, 'c5.large');

      for (const index of [1, 2]) {
        const eni = await createEni(ec2, { SubnetId: subnet() });
        await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: id, DeviceIndex: index }));
      }
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 't2.micro' } })), 'AttachmentLimitExceeded');
      assert.deepEqual((await attr(id, 'instanceType')).InstanceType, { Value: 'c5.large' });
    });

    test('DescribeInstanceAttribute answers instanceType, groupSet, sourceDestCheck and disableApiTermination', async () => {
      const instance = await launch(ec2, { SubnetId: subnet(), InstanceType: 't2.micro' });
      const id = instance.InstanceId!;
      const type = await attr(id, 'instanceType');
      assert.equal(type.InstanceId, id);
      assert.deepEqual(type.InstanceType, { Value: 't2.micro' });
      assert.deepEqual((await attr(id, 'groupSet')).Groups, [{ GroupId: net.defaultGroupId, GroupName: 'default' }]);
      assert.deepEqual((await attr(id, 'sourceDestCheck')).SourceDestCheck, { Value: true });
      assert.deepEqual((await attr(id, 'disableApiTermination')).DisableApiTermination, { Value: false });
      await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: true } }));
      assert.deepEqual((await attr(id, 'disableApiTermination')).DisableApiTermination, { Value: true });
      await expectEc2Error(attr('i-0123456789abcdef0', 'instanceType'), 'InvalidInstanceID.NotFound');
    });
  });
});

describe('instance transitions with delays', () => {
  // Each action's answer carries the state it starts (pending, stopping, shutting-down); Describe
  // polled from then on must show nothing but that state and then the next one. The delays are long
  // enough that the first Describe sees the intermediate state on a loaded machine, and the answer's
  // state leads the sequence, so a slow first Describe can not fail the test by timing alone.
  const DELAY = 1500;
  let server: TestServer;
  let ec2: EC2Client;
  let net: Network;
  before(async () => {
    server = await startTestServer({ timings: { instancePendingMs: DELAY, instanceStoppingMs: DELAY, instanceShuttingDownMs: DELAY } });
    ec2 = server.client();
    net = await createNetwork(ec2, '10.0.0.0/16', { a: { cidr: '10.0.1.0/24', zone: 'us-east-1a' } });
  });
  after(() => server.stop());

  test('with delays an instance is seen pending then running, stopping then stopped, shutting-down then terminated', async () => {
    const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const id = instance.InstanceId!;
    const name = async () => (await stateOf(ec2, id))!.Name;
    const sequence = async (first: string | undefined, last: string) => {
      const seen = await pollUntil(name, (s) => s === last, { timeoutMs: DELAY + 5000 });
      return seen[0] === first ? seen : [first, ...seen];
    };
    assert.deepEqual(await sequence(instance.State?.Name, 'running'), ['pending', 'running']);
    const stopped = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(await sequence(stopped.StoppingInstances![0].CurrentState?.Name, 'stopped'), ['stopping', 'stopped']);
    const started = await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(await sequence(started.StartingInstances![0].CurrentState?.Name, 'running'), ['pending', 'running']);
    const eniId = instance.NetworkInterfaces![0].NetworkInterfaceId!;
    const terminated = await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(await sequence(terminated.TerminatingInstances![0].CurrentState?.Name, 'terminated'), ['shutting-down', 'terminated']);
    await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })), 'InvalidNetworkInterfaceID.NotFound');
  });
});
