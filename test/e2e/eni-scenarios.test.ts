/**
 * The seed scenarios, end to end through the SDK: a management interface, a dual-homed
 * instance, an interface moved between instances, and all of it surviving a server restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  DetachNetworkInterfaceCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Filter,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  addressesOf,
  createEni,
  createGroup,
  createNetwork,
  describeEni,
  describeInstance,
  expectRefused,
  freeAddresses,
  identityOf,
  launch,
  snapshot,
  type Network,
} from '../helpers/topology.ts';

const instancesMatching = async (ec2: EC2Client, ...Filters: Filter[]) =>
  ((await ec2.send(new DescribeInstancesCommand({ Filters }))).Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!).sort();

describe('ENI scenarios', () => {
  let server: TestServer;
  let ec2: EC2Client;
  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  describe('an instance with a management interface in its own subnet and security group', () => {
    let net: Network;
    before(async () => {
      net = await createNetwork(ec2, '10.80.0.0/16', {
        public: { cidr: '10.80.1.0/24', zone: 'us-east-1a' },
        management: { cidr: '10.80.9.0/24', zone: 'us-east-1a' },
      });
    });

    test('the web traffic stays on eth0 with the web group, administration on eth1 with the management group', async () => {
      const web = await createGroup(ec2, net.vpcId, 'web');
      const mgmt = await createGroup(ec2, net.vpcId, 'management');
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: mgmt, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.80.9.0/24' }] }] }));

      const instance = await launch(ec2, { SubnetId: net.subnets.public.SubnetId, SecurityGroupIds: [web], InstanceType: 'm5.large' });
      const management = await createEni(ec2, { SubnetId: net.subnets.management.SubnetId, Groups: [mgmt], Description: 'management' });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: management.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));

      const described = await describeInstance(ec2, instance.InstanceId!);
      assert.deepEqual(
        described.NetworkInterfaces!.map((n) => [n.Attachment!.DeviceIndex, n.SubnetId, n.Groups!.map((g) => g.GroupName)]),
        [[0, net.subnets.public.SubnetId, ['web']], [1, net.subnets.management.SubnetId, ['management']]],
      );
      assert.match(described.NetworkInterfaces![1].PrivateIpAddress!, /^10\.80\.9\.\d+$/);
      assert.deepEqual(described.SecurityGroups, [{ GroupId: web, GroupName: 'web' }], 'the instance groups are its primary interface groups');
      assert.equal(described.SubnetId, net.subnets.public.SubnetId);

      const byGroup = (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: [mgmt] }] }))).NetworkInterfaces!;
      assert.deepEqual(byGroup.map((n) => n.NetworkInterfaceId), [management.NetworkInterfaceId]);
      assert.deepEqual(await instancesMatching(ec2, { Name: 'network-interface.subnet-id', Values: [net.subnets.management.SubnetId!] }), [instance.InstanceId]);
      assert.deepEqual(await instancesMatching(ec2, { Name: 'network-interface.group-id', Values: [mgmt] }), [instance.InstanceId]);
      const rules = (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [mgmt] }))).SecurityGroups![0].IpPermissions!;
      assert.deepEqual(rules.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.IpRanges!.map((x) => x.CidrIp)]), [['tcp', 22, 22, ['10.80.9.0/24']]]);

      // With two interfaces the instance-level shortcut is refused; the interface-level call changes only eth1.
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instance.InstanceId, Groups: [web, mgmt] })), 'InvalidInstanceID');
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: management.NetworkInterfaceId, Groups: [mgmt, web] }));
      const after = await describeInstance(ec2, instance.InstanceId!);
      assert.deepEqual(after.NetworkInterfaces![0].Groups, [{ GroupId: web, GroupName: 'web' }]);
      assert.deepEqual(after.NetworkInterfaces![1].Groups, [{ GroupId: mgmt, GroupName: 'management' }, { GroupId: web, GroupName: 'web' }]);
    });
  });

  describe('a dual-homed instance on two subnets of one Availability Zone', () => {
    let net: Network;
    before(async () => {
      net = await createNetwork(ec2, '10.81.0.0/16', {
        app: { cidr: '10.81.1.0/28', zone: 'us-east-1b' },
        data: { cidr: '10.81.2.0/28', zone: 'us-east-1b' },
        elsewhere: { cidr: '10.81.3.0/28', zone: 'us-east-1c' },
      });
    });

    test('each interface takes its address from its own subnet; both go with the instance; a third from another zone is refused', async () => {
      const app = net.subnets.app.SubnetId!;
      const data = net.subnets.data.SubnetId!;
      const dataGroup = await createGroup(ec2, net.vpcId, 'data');
      const instance = await launch(ec2, {
        InstanceType: 'm5.large',
        NetworkInterfaces: [
          { DeviceIndex: 0, SubnetId: app, DeleteOnTermination: true },
          { DeviceIndex: 1, SubnetId: data, Groups: [dataGroup], SecondaryPrivateIpAddressCount: 2, DeleteOnTermination: true },
        ],
      });
      assert.equal(await freeAddresses(ec2, app), 10);
      assert.equal(await freeAddresses(ec2, data), 8);
      const nics = (await describeInstance(ec2, instance.InstanceId!)).NetworkInterfaces!;
      assert.deepEqual(nics.map((n) => n.SubnetId), [app, data]);
      assert.deepEqual(nics.map((n) => n.Attachment!.DeleteOnTermination), [true, true]);
      // Usable addresses of a /28 are .4 to .14 of its block.
      const usable = (prefix: string) => (address: string) => address.startsWith(prefix) && Number(address.split('.')[3]) >= 4 && Number(address.split('.')[3]) <= 14;
      assert.ok(usable('10.81.1.')(nics[0].PrivateIpAddress!), nics[0].PrivateIpAddress);
      assert.equal(addressesOf(nics[1]).length, 3);
      assert.ok(addressesOf(nics[1]).every(usable('10.81.2.')), addressesOf(nics[1]).join());
      assert.deepEqual(nics[1].Groups, [{ GroupId: dataGroup, GroupName: 'data' }]);
      assert.deepEqual(await instancesMatching(ec2, { Name: 'network-interface.subnet-id', Values: [data] }), [instance.InstanceId]);

      const stray = await createEni(ec2, { SubnetId: net.subnets.elsewhere.SubnetId });
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: stray.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 2 })), 'InvalidParameterCombination');

      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      for (const nic of nics) {
        await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [nic.NetworkInterfaceId!] })), 'InvalidNetworkInterfaceID.NotFound');
      }
      assert.equal(await freeAddresses(ec2, app), 11);
      assert.equal(await freeAddresses(ec2, data), 11);
    });
  });

  describe('an interface moved from one instance to another', () => {
    let net: Network;
    before(async () => {
      net = await createNetwork(ec2, '10.82.0.0/16', {
        blue: { cidr: '10.82.1.0/24', zone: 'us-east-1a' },
        green: { cidr: '10.82.2.0/24', zone: 'us-east-1a' },
        service: { cidr: '10.82.3.0/24', zone: 'us-east-1a' },
      });
    });

    test('keeps its MAC address, addresses, groups, description, tags and source/dest check, and outlives the instance it was on', async () => {
      const group = await createGroup(ec2, net.vpcId, 'service');
      const eni = await createEni(ec2, {
        SubnetId: net.subnets.service.SubnetId,
        Groups: [group],
        PrivateIpAddress: '10.82.3.10',
        SecondaryPrivateIpAddressCount: 2,
        Description: 'service address',
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'Name', Value: 'service-vip' }] }],
      });
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, SourceDestCheck: { Value: false } }));
      const identity = identityOf(await describeEni(ec2, eni.NetworkInterfaceId!));
      const blue = await launch(ec2, { SubnetId: net.subnets.blue.SubnetId, InstanceType: 'm5.large' });
      const green = await launch(ec2, { SubnetId: net.subnets.green.SubnetId, InstanceType: 'm5.large' });
      const free = await freeAddresses(ec2, net.subnets.service.SubnetId!);

      const onBlue = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: blue.InstanceId, DeviceIndex: 1 }));
      assert.deepEqual(await instancesMatching(ec2, { Name: 'network-interface.network-interface-id', Values: [eni.NetworkInterfaceId!] }), [blue.InstanceId]);
      await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: onBlue.AttachmentId }));
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: green.InstanceId, DeviceIndex: 1 }));
      assert.deepEqual(await instancesMatching(ec2, { Name: 'network-interface.network-interface-id', Values: [eni.NetworkInterfaceId!] }), [green.InstanceId]);
      assert.deepEqual(await instancesMatching(ec2, { Name: 'network-interface.addresses.private-ip-address', Values: ['10.82.3.10'] }), [green.InstanceId]);

      const onGreen = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.deepEqual(identityOf(onGreen), identity);
      assert.equal(onGreen.Attachment!.InstanceId, green.InstanceId);
      const greenNic = (await describeInstance(ec2, green.InstanceId!)).NetworkInterfaces![1];
      assert.equal(greenNic.MacAddress, eni.MacAddress);
      assert.equal(greenNic.SourceDestCheck, false);
      assert.equal(await freeAddresses(ec2, net.subnets.service.SubnetId!), free, 'moving takes and frees no address');

      // The instance goes away; the interface (attached after launch, DeleteOnTermination false) stays.
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [green.InstanceId!] }));
      const orphan = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.equal(orphan.Status, 'available');
      assert.deepEqual(identityOf(orphan), identity);
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: blue.InstanceId, DeviceIndex: 1 }));
      assert.deepEqual(identityOf(await describeEni(ec2, eni.NetworkInterfaceId!)), identity);
    });
  });
});

describe('state survives a server restart', () => {
  let dataDir: string;
  let database: string;
  let server: TestServer | undefined;
  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'eni-local-restart-'));
    database = `sqlite:${path.join(dataDir, 'db.sqlite')}`;
  });
  after(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('instances, interfaces, attachments, MAC addresses, addresses and free counts are all still there', async () => {
    server = await startTestServer({ dataDir, database });
    let ec2 = server.client();
    const net = await createNetwork(ec2, '10.90.0.0/16', {
      public: { cidr: '10.90.1.0/28', zone: 'us-east-1a' },
      management: { cidr: '10.90.9.0/28', zone: 'us-east-1a' },
    });
    const mgmt = await createGroup(ec2, net.vpcId, 'management');
    const web = await launch(ec2, { SubnetId: net.subnets.public.SubnetId, InstanceType: 'm5.large', TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] }] });
    const management = await createEni(ec2, { SubnetId: net.subnets.management.SubnetId, Groups: [mgmt], SecondaryPrivateIpAddressCount: 1, Description: 'management' });
    const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: management.NetworkInterfaceId, InstanceId: web.InstanceId, DeviceIndex: 1 }));
    const spare = await createEni(ec2, { SubnetId: net.subnets.public.SubnetId, TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'role', Value: 'spare' }] }] });
    const stopped = await launch(ec2, { SubnetId: net.subnets.public.SubnetId });
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped.InstanceId!] }));
    const gone = await launch(ec2, { SubnetId: net.subnets.public.SubnetId });
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone.InstanceId!] }));
    const before = await snapshot(ec2, [net.vpcId]);
    const groupsBefore = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }))).SecurityGroups;
    const vpcsBefore = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs;
    assert.equal(before.networkInterfaces!.length, 4);
    assert.equal(before.instances.length, 3);
    assert.deepEqual(Object.fromEntries(before.subnets!.map((s) => [s.CidrBlock, s.AvailableIpAddressCount])), { '10.90.1.0/28': 8, '10.90.9.0/28': 9 });

    await server.stop();
    server = await startTestServer({ dataDir, database });
    ec2 = server.client();

    const after = await snapshot(ec2, [net.vpcId]);
    assert.deepEqual(after, before);
    assert.deepEqual((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }))).SecurityGroups, groupsBefore);
    assert.deepEqual((await ec2.send(new DescribeVpcsCommand({}))).Vpcs, vpcsBefore, 'no second default VPC after a restart');
    const described = await describeInstance(ec2, web.InstanceId!);
    assert.deepEqual(described.State, { Code: 16, Name: 'running' });
    assert.deepEqual(described.NetworkInterfaces!.map((n) => [n.NetworkInterfaceId, n.MacAddress]), [
      [web.NetworkInterfaces![0].NetworkInterfaceId, web.NetworkInterfaces![0].MacAddress],
      [management.NetworkInterfaceId, management.MacAddress],
    ]);
    assert.equal((await describeInstance(ec2, stopped.InstanceId!)).State!.Name, 'stopped');
    assert.equal((await describeInstance(ec2, gone.InstanceId!)).State!.Name, 'terminated');
    assert.deepEqual((await describeEni(ec2, spare.NetworkInterfaceId!)).TagSet, [{ Key: 'role', Value: 'spare' }]);

    // The restarted server carries on from the same state: allocations do not clash, old ids still work.
    const next = await createEni(ec2, { SubnetId: net.subnets.public.SubnetId });
    const taken = before.networkInterfaces!.flatMap((n) => addressesOf(n));
    assert.ok(!taken.includes(next.PrivateIpAddress!), `${next.PrivateIpAddress} was free`);
    assert.ok(!before.networkInterfaces!.some((n) => n.MacAddress === next.MacAddress));
    assert.equal(await freeAddresses(ec2, net.subnets.public.SubnetId!), 7);
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    assert.equal((await describeEni(ec2, management.NetworkInterfaceId!)).Status, 'available');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [web.InstanceId!] }));
    assert.equal(await freeAddresses(ec2, net.subnets.public.SubnetId!), 8, 'the primary interface address came back');
  });
});
