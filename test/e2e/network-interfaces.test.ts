import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  AttachNetworkInterfaceCommand,
  CreateInternetGatewayCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfaceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ResetNetworkInterfaceAttributeCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeNetworkInterfaces,
  waitUntilNetworkInterfaceAvailable,
  type EC2Client,
  type Filter,
  type NetworkInterface,
  type NetworkInterfaceAttribute,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  addressesOf,
  createEni,
  createGroup,
  createNetwork,
  describeEni,
  describeInstance,
  eniIdsIn,
  expectRefused,
  freeAddresses,
  identityOf,
  launch,
  pollUntil,
  type Network,
} from '../helpers/topology.ts';

const ACCOUNT = '000000000000';
const MAC = /^02(:[0-9a-f]{2}){5}$/;
const ATTACHMENT_ID = /^eni-attach-[0-9a-f]{17}$/;
const UNKNOWN_ENI = 'eni-0123456789abcdef0';
const UNKNOWN_ATTACHMENT = 'eni-attach-0123456789abcdef0';

describe('network interfaces', () => {
  let server: TestServer;
  let ec2: EC2Client;
  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  describe('CreateNetworkInterface', () => {
    let net: Network;
    let otherVpc: Network;
    before(async () => {
      net = await createNetwork(ec2, '10.0.0.0/16', {
        tiny: { cidr: '10.0.1.0/28', zone: 'us-east-1a' },
        main: { cidr: '10.0.2.0/24', zone: 'us-east-1a' },
        errors: { cidr: '10.0.3.0/24', zone: 'us-east-1b' },
      });
      otherVpc = await createNetwork(ec2, '10.1.0.0/16', {});
    });
    const main = () => net.subnets.main.SubnetId!;

    test('a new interface carries AWS defaults: available, type interface, source/dest check on, the default group, an empty tag set', async () => {
      const eni = await createEni(ec2, { SubnetId: net.subnets.errors.SubnetId });
      assert.match(eni.NetworkInterfaceId!, /^eni-[0-9a-f]{17}$/);
      assert.equal(eni.Status, 'available');
      assert.equal(eni.InterfaceType, 'interface');
      assert.equal(eni.SourceDestCheck, true);
      assert.equal(eni.RequesterManaged, false);
      assert.equal(eni.OwnerId, ACCOUNT);
      assert.equal(eni.SubnetId, net.subnets.errors.SubnetId);
      assert.equal(eni.VpcId, net.vpcId);
      assert.equal(eni.AvailabilityZone, 'us-east-1b');
      assert.equal(eni.AvailabilityZone, net.subnets.errors.AvailabilityZone);
      assert.equal(eni.AvailabilityZoneId, net.subnets.errors.AvailabilityZoneId);
      assert.equal(eni.Description, '');
      assert.deepEqual(eni.TagSet, []);
      assert.deepEqual(eni.Groups, [{ GroupId: net.defaultGroupId, GroupName: 'default' }]);
      assert.match(eni.MacAddress!, MAC);
      assert.equal(eni.Attachment, undefined);
      assert.equal(eni.PrivateIpAddresses!.length, 1);
      assert.equal(eni.PrivateIpAddresses![0].Primary, true);
      assert.equal(eni.PrivateIpAddresses![0].PrivateIpAddress, eni.PrivateIpAddress);
      assert.equal(eni.PrivateDnsName, `ip-${eni.PrivateIpAddress!.replaceAll('.', '-')}.ec2.internal`);
      assert.deepEqual(identityOf(await describeEni(ec2, eni.NetworkInterfaceId!)), identityOf(eni));
    });

    test('automatic addresses skip the five reserved ones: a /28 starts with 11 free, gives .4 first, and counts down exactly until InsufficientFreeAddressesInSubnet', async () => {
      const tiny = net.subnets.tiny.SubnetId!;
      assert.equal(net.subnets.tiny.AvailableIpAddressCount, 11);
      assert.equal(await freeAddresses(ec2, tiny), 11);
      const first = await createEni(ec2, { SubnetId: tiny });
      // AWS does not document which free address it picks; eni-local takes the lowest, and it is never reserved.
      assert.equal(first.PrivateIpAddress, '10.0.1.4');
      assert.equal(first.PrivateDnsName, 'ip-10-0-1-4.ec2.internal');
      assert.equal(await freeAddresses(ec2, tiny), 10);
      const enis = [first];
      for (let i = 1; i < 11; i++) {
        enis.push(await createEni(ec2, { SubnetId: tiny }));
        assert.equal(await freeAddresses(ec2, tiny), 10 - i);
      }
      const addresses = enis.map((e) => e.PrivateIpAddress!);
      assert.deepEqual(
        [...addresses].sort((a, b) => Number(a.split('.')[3]) - Number(b.split('.')[3])),
        Array.from({ length: 11 }, (_, i) => `10.0.1.${i + 4}`),
        'exactly the usable addresses .4 to .14, never .0-.3 or .15',
      );
      assert.equal(new Set(enis.map((e) => e.MacAddress)).size, 11, 'every interface has its own MAC address');

      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: tiny })), 'InsufficientFreeAddressesInSubnet');
      assert.equal(await freeAddresses(ec2, tiny), 0);

      const freed = enis[6];
      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: freed.NetworkInterfaceId }));
      assert.equal(await freeAddresses(ec2, tiny), 1);
      const reused = await createEni(ec2, { SubnetId: tiny });
      assert.equal(reused.PrivateIpAddress, freed.PrivateIpAddress, 'the freed address is the only one left and is reused');
      assert.equal(await freeAddresses(ec2, tiny), 0);
      for (const e of [...enis.filter((e) => e !== freed), reused]) {
        await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: e.NetworkInterfaceId }));
      }
      assert.equal(await freeAddresses(ec2, tiny), 11);
    });

    test('a SecondaryPrivateIpAddressCount larger than the free addresses is refused whole', async () => {
      const tiny = net.subnets.tiny.SubnetId!;
      const free = await freeAddresses(ec2, tiny);
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: tiny, SecondaryPrivateIpAddressCount: free })), 'InsufficientFreeAddressesInSubnet');
      assert.equal(await freeAddresses(ec2, tiny), free);
    });

    test('PrivateIpAddress sets the primary address and takes it from the subnet', async () => {
      const before = await freeAddresses(ec2, main());
      const eni = await createEni(ec2, { SubnetId: main(), PrivateIpAddress: '10.0.2.50' });
      assert.equal(eni.PrivateIpAddress, '10.0.2.50');
      assert.deepEqual(eni.PrivateIpAddresses!.map((a) => [a.PrivateIpAddress, a.Primary]), [['10.0.2.50', true]]);
      assert.equal(eni.PrivateDnsName, 'ip-10-0-2-50.ec2.internal');
      assert.equal(await freeAddresses(ec2, main()), before - 1);
    });

    test('PrivateIpAddresses names the primary with its Primary flag and the others become secondaries', async () => {
      const before = await freeAddresses(ec2, main());
      const eni = await createEni(ec2, {
        SubnetId: main(),
        PrivateIpAddresses: [{ PrivateIpAddress: '10.0.2.60' }, { PrivateIpAddress: '10.0.2.61', Primary: true }, { PrivateIpAddress: '10.0.2.62' }],
      });
      assert.equal(eni.PrivateIpAddress, '10.0.2.61');
      const byAddress = new Map(eni.PrivateIpAddresses!.map((a) => [a.PrivateIpAddress, a.Primary]));
      assert.deepEqual(Object.fromEntries(byAddress), { '10.0.2.60': false, '10.0.2.61': true, '10.0.2.62': false });
      assert.equal(await freeAddresses(ec2, main()), before - 3);
    });

    test('SecondaryPrivateIpAddressCount adds that many distinct secondary addresses from the subnet', async () => {
      const before = await freeAddresses(ec2, main());
      const eni = await createEni(ec2, { SubnetId: main(), SecondaryPrivateIpAddressCount: 3 });
      const addresses = addressesOf(eni);
      assert.equal(addresses.length, 4);
      assert.equal(new Set(addresses).size, 4);
      assert.equal(eni.PrivateIpAddresses!.filter((a) => a.Primary).length, 1);
      for (const a of addresses) assert.match(a, /^10\.0\.2\.(\d+)$/);
      assert.equal(await freeAddresses(ec2, main()), before - 4);
      // A named primary with a count is allowed: only a count with named secondaries is not.
      const withPrimary = await createEni(ec2, { SubnetId: main(), PrivateIpAddress: '10.0.2.70', SecondaryPrivateIpAddressCount: 1 });
      assert.equal(withPrimary.PrivateIpAddress, '10.0.2.70');
      assert.equal(withPrimary.PrivateIpAddresses!.length, 2);
    });

    test('a secondary count combined with named secondary addresses is InvalidParameterCombination', async () => {
      await expectRefused(
        ec2,
        [net.vpcId],
        () =>
          ec2.send(
            new CreateNetworkInterfaceCommand({
              SubnetId: main(),
              PrivateIpAddresses: [{ PrivateIpAddress: '10.0.2.80', Primary: true }, { PrivateIpAddress: '10.0.2.81' }],
              SecondaryPrivateIpAddressCount: 2,
            }),
          ),
        'InvalidParameterCombination',
      );
    });

    test('an address outside the subnet or one of its five reserved addresses is InvalidParameterValue', async () => {
      const subnet = net.subnets.errors.SubnetId!;
      for (const address of ['10.0.2.10', '192.168.0.4', '10.0.3.0', '10.0.3.1', '10.0.3.2', '10.0.3.3', '10.0.3.255']) {
        await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, PrivateIpAddress: address })), 'InvalidParameterValue');
      }
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, PrivateIpAddresses: [{ PrivateIpAddress: '10.0.3.20', Primary: true }, { PrivateIpAddress: '10.0.3.255' }] })),
        'InvalidParameterValue',
      );
    });

    test('an address another interface holds is InvalidIPAddress.InUse', async () => {
      const subnet = net.subnets.errors.SubnetId!;
      await createEni(ec2, { SubnetId: subnet, PrivateIpAddress: '10.0.3.40' });
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, PrivateIpAddress: '10.0.3.40' })), 'InvalidIPAddress.InUse');
    });

    test('explicit groups are kept in order; a group of another VPC is InvalidParameter, an unknown one InvalidGroup.NotFound', async () => {
      const web = await createGroup(ec2, net.vpcId, 'web');
      const db = await createGroup(ec2, net.vpcId, 'db');
      const eni = await createEni(ec2, { SubnetId: main(), Groups: [web, db] });
      assert.deepEqual(eni.Groups, [{ GroupId: web, GroupName: 'web' }, { GroupId: db, GroupName: 'db' }]);
      const foreign = await createGroup(ec2, otherVpc.vpcId, 'foreign');
      const refusal = await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: main(), Groups: [web, foreign] })), 'InvalidParameter');
      assert.equal(refusal.message, `Security group ${foreign} and subnet ${main()} belong to different networks.`);
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: main(), Groups: ['sg-0123456789abcdef0'] })), 'InvalidGroup.NotFound');
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: main(), Groups: ['sg-nope'] })), 'InvalidGroupId.Malformed');
    });

    test('five groups are allowed on an interface, a sixth is SecurityGroupsPerInterfaceLimitExceeded', async () => {
      const groups: string[] = [];
      for (let i = 0; i < 6; i++) groups.push(await createGroup(ec2, net.vpcId, `limit-${i}`));
      const five = await createEni(ec2, { SubnetId: main(), Groups: groups.slice(0, 5) });
      assert.equal(five.Groups!.length, 5);
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: main(), Groups: groups })), 'SecurityGroupsPerInterfaceLimitExceeded');
    });

    test('an unknown subnet is InvalidSubnetID.NotFound, a malformed one InvalidSubnetID.Malformed', async () => {
      await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: 'subnet-0123456789abcdef0' })), 'InvalidSubnetID.NotFound');
      await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: 'subnet-zz' })), 'InvalidSubnetID.Malformed');
      await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: 'vpc-0123456789abcdef0' })), 'InvalidSubnetID.Malformed');
    });

    test('TagSpecifications and Description are applied at creation and described', async () => {
      const eni = await createEni(ec2, {
        SubnetId: main(),
        Description: 'management interface',
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'Name', Value: 'mgmt' }, { Key: 'env', Value: 'test' }] }],
      });
      assert.equal(eni.Description, 'management interface');
      assert.deepEqual(eni.TagSet, [{ Key: 'Name', Value: 'mgmt' }, { Key: 'env', Value: 'test' }]);
      const described = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.deepEqual(described.TagSet, eni.TagSet);
      assert.equal(described.Description, 'management interface');
    });

    test('the same ClientToken with the same parameters returns the same interface; with other parameters IdempotentParameterMismatch', async () => {
      const before = await eniIdsIn(ec2, { subnetId: main() });
      const free = await freeAddresses(ec2, main());
      const input = { SubnetId: main(), Description: 'idempotent', ClientToken: 'token-eni-1' };
      const first = await ec2.send(new CreateNetworkInterfaceCommand(input));
      const again = await ec2.send(new CreateNetworkInterfaceCommand(input));
      assert.equal(again.NetworkInterface!.NetworkInterfaceId, first.NetworkInterface!.NetworkInterfaceId);
      assert.equal(again.NetworkInterface!.PrivateIpAddress, first.NetworkInterface!.PrivateIpAddress);
      assert.equal(first.ClientToken, 'token-eni-1');
      const after = await eniIdsIn(ec2, { subnetId: main() });
      assert.deepEqual(after, [...before, first.NetworkInterface!.NetworkInterfaceId!].sort(), 'exactly one interface was created');
      assert.equal(await freeAddresses(ec2, main()), free - 1);
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ ...input, Description: 'other' })), 'IdempotentParameterMismatch');
    });

    test('MAC addresses are 02:xx:xx:xx:xx:xx and unique across many interfaces', async () => {
      const macs = new Set<string>();
      for (let i = 0; i < 30; i++) {
        const eni = await createEni(ec2, { SubnetId: main() });
        assert.match(eni.MacAddress!, MAC);
        macs.add(eni.MacAddress!);
      }
      const all = (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }] }))).NetworkInterfaces!;
      assert.equal(macs.size, 30);
      assert.equal(new Set(all.map((e) => e.MacAddress)).size, all.length);
    });

    test('outside us-east-1 the private DNS name is ip-….<region>.compute.internal', async () => {
      const eu = server.client({ region: 'eu-west-1' });
      const euNet = await createNetwork(eu, '10.0.0.0/16', { a: { cidr: '10.0.1.0/28', zone: 'eu-west-1a' } });
      const eni = await createEni(eu, { SubnetId: euNet.subnets.a.SubnetId });
      const host = `ip-${eni.PrivateIpAddress!.replaceAll('.', '-')}`;
      assert.match(host, /^ip-10-0-1-\d+$/);
      assert.equal(eni.PrivateDnsName, `${host}.eu-west-1.compute.internal`);
      assert.equal(eni.PrivateIpAddresses![0].PrivateDnsName, `${host}.eu-west-1.compute.internal`);
      assert.equal(eni.AvailabilityZoneId, euNet.subnets.a.AvailabilityZoneId);
    });
  });

  describe('DescribeNetworkInterfaces', () => {
    let net: Network;
    const ids: Record<string, string> = {};
    let attachmentId: string;
    let instanceId: string;
    let eniA: { mac: string; dns: string };
    let web: string;
    before(async () => {
      net = await createNetwork(ec2, '10.20.0.0/16', {
        a: { cidr: '10.20.1.0/24', zone: 'us-east-1a' },
        b: { cidr: '10.20.2.0/24', zone: 'us-east-1b' },
        paged: { cidr: '10.20.3.0/24', zone: 'us-east-1a' },
      });
      web = await createGroup(ec2, net.vpcId, 'web');
      const a = await createEni(ec2, {
        SubnetId: net.subnets.a.SubnetId,
        Description: 'frontend web',
        Groups: [web],
        PrivateIpAddresses: [{ PrivateIpAddress: '10.20.1.10', Primary: true }, { PrivateIpAddress: '10.20.1.11' }],
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'Name', Value: 'alpha' }, { Key: 'team', Value: 'blue' }] }],
      });
      ids.A = a.NetworkInterfaceId!;
      eniA = { mac: a.MacAddress!, dns: a.PrivateDnsName! };
      const b = await createEni(ec2, {
        SubnetId: net.subnets.b.SubnetId,
        Description: 'backend',
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'Name', Value: 'beta' }] }],
      });
      ids.B = b.NetworkInterfaceId!;
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: ids.B, SourceDestCheck: { Value: false } }));
      const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId, InstanceType: 'm5.large' });
      instanceId = instance.InstanceId!;
      ids.P = instance.NetworkInterfaces![0].NetworkInterfaceId!;
      ids.C = (await createEni(ec2, { SubnetId: net.subnets.a.SubnetId, Description: 'spare' })).NetworkInterfaceId!;
      attachmentId = (await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: ids.C, InstanceId: instanceId, DeviceIndex: 1 }))).AttachmentId!;
    });

    /** The interfaces of this block's VPC matching the filters, as letters A, B, C, P. */
    const matching = async (...filters: Filter[]) => {
      const { NetworkInterfaces } = await ec2.send(
        new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }, { Name: 'subnet-id', Values: [net.subnets.a.SubnetId!, net.subnets.b.SubnetId!] }, ...filters] }),
      );
      const letterOf = new Map(Object.entries(ids).map(([letter, id]) => [id, letter]));
      return NetworkInterfaces!.map((n) => letterOf.get(n.NetworkInterfaceId!) ?? n.NetworkInterfaceId!).sort();
    };
    const f = (Name: string, ...Values: string[]): Filter => ({ Name, Values });

    test('by ids: exactly those interfaces; an unknown id is InvalidNetworkInterfaceID.NotFound, a malformed one InvalidNetworkInterfaceId.Malformed', async () => {
      const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [ids.B, ids.A] }));
      assert.deepEqual(NetworkInterfaces!.map((n) => n.NetworkInterfaceId).sort(), [ids.A, ids.B].sort());
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [UNKNOWN_ENI] })), 'InvalidNetworkInterfaceID.NotFound');
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [ids.A, UNKNOWN_ENI] })), 'InvalidNetworkInterfaceID.NotFound');
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-xyz'] })), 'InvalidNetworkInterfaceId.Malformed');
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['to-set'] })), 'InvalidNetworkInterfaceId.Malformed');
    });

    test('filters on the interface itself: id, subnet, VPC, zone name and id, description with wildcards, MAC, owner, type, requester-managed, source/dest check, status, DNS name', async () => {
      assert.deepEqual(await matching(), ['A', 'B', 'C', 'P']);
      assert.deepEqual(await matching(f('network-interface-id', ids.A)), ['A']);
      assert.deepEqual(await matching(f('subnet-id', net.subnets.b.SubnetId!)), ['B']);
      assert.deepEqual(await matching(f('vpc-id', net.vpcId)), ['A', 'B', 'C', 'P']);
      assert.deepEqual(await matching(f('availability-zone', 'us-east-1b')), ['B']);
      assert.deepEqual(await matching(f('availability-zone-id', net.subnets.b.AvailabilityZoneId!)), ['B']);
      assert.deepEqual(await matching(f('description', 'backend')), ['B']);
      assert.deepEqual(await matching(f('description', 'front*')), ['A']);
      assert.deepEqual(await matching(f('description', '*end*')), ['A', 'B']);
      assert.deepEqual(await matching(f('description', 'sp?re')), ['C']);
      assert.deepEqual(await matching(f('description', 'Backend')), [], 'filter values are case-sensitive');
      assert.deepEqual(await matching(f('mac-address', eniA.mac)), ['A']);
      assert.deepEqual(await matching(f('owner-id', ACCOUNT)), ['A', 'B', 'C', 'P']);
      assert.deepEqual(await matching(f('owner-id', '111111111111')), []);
      assert.deepEqual(await matching(f('interface-type', 'interface')), ['A', 'B', 'C', 'P']);
      assert.deepEqual(await matching(f('requester-managed', 'false')), ['A', 'B', 'C', 'P']);
      assert.deepEqual(await matching(f('requester-managed', 'true')), []);
      assert.deepEqual(await matching(f('source-dest-check', 'false')), ['B']);
      assert.deepEqual(await matching(f('source-dest-check', 'true')), ['A', 'C', 'P']);
      assert.deepEqual(await matching(f('status', 'in-use')), ['C', 'P']);
      assert.deepEqual(await matching(f('status', 'available')), ['A', 'B']);
      assert.deepEqual(await matching(f('private-dns-name', eniA.dns)), ['A']);
    });

    test('filters on addresses and groups: private-ip-address, addresses.private-ip-address (a secondary), addresses.primary, group-id, group-name', async () => {
      assert.deepEqual(await matching(f('private-ip-address', '10.20.1.10')), ['A']);
      assert.deepEqual(await matching(f('addresses.private-ip-address', '10.20.1.11')), ['A']);
      assert.deepEqual(await matching(f('addresses.private-ip-address', '10.20.1.10', '10.20.1.99')), ['A']);
      assert.deepEqual(await matching(f('addresses.primary', 'false')), ['A'], 'only A has a non-primary address');
      assert.deepEqual(await matching(f('addresses.primary', 'true')), ['A', 'B', 'C', 'P']);
      assert.deepEqual(await matching(f('group-id', web)), ['A']);
      assert.deepEqual(await matching(f('group-id', net.defaultGroupId)), ['B', 'C', 'P']);
      assert.deepEqual(await matching(f('group-name', 'web')), ['A']);
      assert.deepEqual(await matching(f('group-name', 'default')), ['B', 'C', 'P']);
    });

    test('filters on the attachment: attachment id, instance id, instance owner, device index, status, delete-on-termination', async () => {
      assert.deepEqual(await matching(f('attachment.attachment-id', attachmentId)), ['C']);
      assert.deepEqual(await matching(f('attachment.instance-id', instanceId)), ['C', 'P']);
      assert.deepEqual(await matching(f('attachment.instance-owner-id', ACCOUNT)), ['C', 'P']);
      assert.deepEqual(await matching(f('attachment.device-index', '1')), ['C']);
      assert.deepEqual(await matching(f('attachment.device-index', '0')), ['P']);
      assert.deepEqual(await matching(f('attachment.status', 'attached')), ['C', 'P']);
      assert.deepEqual(await matching(f('attachment.delete-on-termination', 'true')), ['P']);
      assert.deepEqual(await matching(f('attachment.delete-on-termination', 'false')), ['C']);
    });

    test('filters on tags: tag:KEY, tag-key, tag-value; several filters AND, several values OR', async () => {
      assert.deepEqual(await matching(f('tag:Name', 'alpha')), ['A']);
      assert.deepEqual(await matching(f('tag:Name', 'alpha', 'beta')), ['A', 'B']);
      assert.deepEqual(await matching(f('tag:Name', 'a*')), ['A']);
      assert.deepEqual(await matching(f('tag-key', 'team')), ['A']);
      assert.deepEqual(await matching(f('tag-value', 'beta')), ['B']);
      assert.deepEqual(await matching(f('tag:Name', 'alpha', 'beta'), f('availability-zone', 'us-east-1a')), ['A']);
    });

    test('an unknown filter name is InvalidParameterValue', async () => {
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [f('colour', 'blue')] })), 'InvalidParameterValue');
    });

    test('MaxResults and NextToken page through every interface exactly once', async () => {
      const subnet = net.subnets.paged.SubnetId!;
      const created = new Set<string>();
      for (let i = 0; i < 12; i++) created.add((await createEni(ec2, { SubnetId: subnet })).NetworkInterfaceId!);
      const seen: string[] = [];
      let pages = 0;
      for await (const page of paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 5 }, { Filters: [f('subnet-id', subnet)] })) {
        pages++;
        assert.ok(page.NetworkInterfaces!.length <= 5);
        seen.push(...page.NetworkInterfaces!.map((n) => n.NetworkInterfaceId!));
      }
      assert.equal(pages, 3);
      assert.equal(seen.length, 12);
      assert.deepEqual(new Set(seen), created);

      // Unfiltered paging visits every interface of the account and region once too.
      const everything = new Set((await ec2.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces!.map((n) => n.NetworkInterfaceId!));
      const paged: string[] = [];
      for await (const page of paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 5 }, {})) paged.push(...page.NetworkInterfaces!.map((n) => n.NetworkInterfaceId!));
      assert.equal(paged.length, everything.size);
      assert.deepEqual(new Set(paged), everything);
    });

    test('MaxResults with NetworkInterfaceIds is InvalidParameterCombination; MaxResults below 5 InvalidParameterValue; a bad token InvalidNextToken', async () => {
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [ids.A], MaxResults: 5 })), 'InvalidParameterCombination');
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 4 })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 1001 })), 'InvalidParameterValue');
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5, NextToken: 'garbage' })), 'InvalidNextToken');
    });
  });

  describe('DescribeNetworkInterfaces, one interface read three ways', () => {
    // The store may fetch a page's child rows row by row (a page its ids or MaxResults bound) or
    // all at once (an unbounded page): every way must read the same interfaces.
    test('by ids, by a filter and page by page, an interface reads the same: addresses, IPv6, prefixes, groups, tags, Elastic IP', async () => {
      const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16', AmazonProvidedIpv6CidrBlock: true }))).Vpc!;
      const block = vpc.Ipv6CidrBlockAssociationSet![0].Ipv6CidrBlock!;
      const subnetIpv6 = block.replace(/::\/56$/, '::/64');
      const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.30.1.0/24', Ipv6CidrBlock: subnetIpv6, AvailabilityZone: 'us-east-1a' }))).Subnet!;
      const gateway = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!;
      await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gateway.InternetGatewayId, VpcId: vpc.VpcId }));
      const extra = await createGroup(ec2, vpc.VpcId!, 'extra');
      const made = [
        await createEni(ec2, {
          SubnetId: subnet.SubnetId,
          SecondaryPrivateIpAddressCount: 2,
          Ipv6AddressCount: 2,
          Groups: [extra],
          TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'role', Value: 'a' }, { Key: 'team', Value: 'net' }] }],
        }),
        await createEni(ec2, { SubnetId: subnet.SubnetId, Ipv4PrefixCount: 1 }),
        await createEni(ec2, { SubnetId: subnet.SubnetId }),
      ];
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: made[2].NetworkInterfaceId }));
      const ids = made.map((e) => e.NetworkInterfaceId!);
      const sorted = (list: NetworkInterface[]) => [...list].sort((x, y) => x.NetworkInterfaceId!.localeCompare(y.NetworkInterfaceId!));
      const byIds = sorted((await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ids }))).NetworkInterfaces!);
      const byFilter = sorted((await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).NetworkInterfaces!);
      const paged: NetworkInterface[] = [];
      for await (const page of paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] })) paged.push(...page.NetworkInterfaces!);
      assert.deepEqual(byIds.map((e) => e.NetworkInterfaceId), [...ids].sort());
      assert.deepEqual(byFilter, byIds);
      assert.deepEqual(sorted(paged), byIds);
      // And what they read is what was made.
      const [a, b, c] = ids.map((id) => byIds.find((e) => e.NetworkInterfaceId === id)!);
      assert.equal(a.PrivateIpAddresses!.length, 3);
      assert.equal(a.Ipv6Addresses!.length, 2);
      assert.deepEqual(a.Groups, [{ GroupId: extra, GroupName: 'extra' }]);
      assert.deepEqual(a.TagSet, [{ Key: 'role', Value: 'a' }, { Key: 'team', Value: 'net' }]);
      assert.equal(b.Ipv4Prefixes!.length, 1);
      assert.equal(c.Association?.PublicIp, eip.PublicIp);
      assert.equal(c.PrivateIpAddresses![0].Association?.AllocationId, eip.AllocationId);
    });
  });

  describe('AttachNetworkInterface and DetachNetworkInterface', () => {
    let net: Network;
    let other: Network;
    before(async () => {
      net = await createNetwork(ec2, '10.30.0.0/16', {
        a1: { cidr: '10.30.1.0/24', zone: 'us-east-1a' },
        a2: { cidr: '10.30.2.0/24', zone: 'us-east-1a' },
        b: { cidr: '10.30.3.0/24', zone: 'us-east-1b' },
      });
      other = await createNetwork(ec2, '10.31.0.0/16', { a: { cidr: '10.31.1.0/24', zone: 'us-east-1a' } });
    });
    const a1 = () => net.subnets.a1.SubnetId!;
    const a2 = () => net.subnets.a2.SubnetId!;
    const vpcs = () => [net.vpcId, other.vpcId];

    test('hot attach to a running instance: eni-attach- id, in-use with attachment details on the ENI and on the instance', async () => {
      const instance = await launch(ec2, { SubnetId: a1() });
      assert.equal((await describeInstance(ec2, instance.InstanceId!)).State!.Name, 'running');
      const eni = await createEni(ec2, { SubnetId: a2(), Description: 'second' });
      const result = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      assert.match(result.AttachmentId!, ATTACHMENT_ID);
      assert.equal(result.NetworkCardIndex, 0);

      const described = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.equal(described.Status, 'in-use');
      const { AttachTime, ...attachment } = described.Attachment!;
      assert.ok(AttachTime instanceof Date && !Number.isNaN(AttachTime.getTime()));
      assert.deepEqual(attachment, {
        AttachmentId: result.AttachmentId,
        DeleteOnTermination: false,
        DeviceIndex: 1,
        NetworkCardIndex: 0,
        InstanceId: instance.InstanceId,
        InstanceOwnerId: ACCOUNT,
        Status: 'attached',
      });

      const nics = (await describeInstance(ec2, instance.InstanceId!)).NetworkInterfaces!;
      assert.deepEqual(nics.map((n) => n.Attachment!.DeviceIndex), [0, 1]);
      assert.equal(nics[1].NetworkInterfaceId, eni.NetworkInterfaceId);
      assert.equal(nics[1].MacAddress, eni.MacAddress);
      assert.equal(nics[1].PrivateIpAddress, eni.PrivateIpAddress);
      assert.equal(nics[1].SubnetId, a2());
      assert.equal(nics[1].Status, 'in-use');
      assert.equal(nics[1].Attachment!.AttachmentId, result.AttachmentId);
      assert.equal(nics[1].Attachment!.Status, 'attached');
      assert.equal(nics[1].Attachment!.DeleteOnTermination, false);
      assert.equal(nics[0].Attachment!.DeleteOnTermination, true);
    });

    test('warm attach to a stopped instance works and leaves it stopped; DescribeInstances lists interfaces by device index', async () => {
      const instance = await launch(ec2, { SubnetId: a1(), InstanceType: 'm5.large' });
      await ec2.send(new StopInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      assert.equal((await describeInstance(ec2, instance.InstanceId!)).State!.Name, 'stopped');
      const two = await createEni(ec2, { SubnetId: a2() });
      const one = await createEni(ec2, { SubnetId: a1() });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: two.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 2 }));
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: one.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      const described = await describeInstance(ec2, instance.InstanceId!);
      assert.equal(described.State!.Name, 'stopped');
      assert.deepEqual(
        described.NetworkInterfaces!.map((n) => [n.Attachment!.DeviceIndex, n.NetworkInterfaceId]),
        [[0, instance.NetworkInterfaces![0].NetworkInterfaceId], [1, one.NetworkInterfaceId], [2, two.NetworkInterfaceId]],
      );
      assert.equal((await describeEni(ec2, one.NetworkInterfaceId!)).Status, 'in-use');
      // A secondary interface is detached from a stopped instance as well.
      await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: described.NetworkInterfaces![1].Attachment!.AttachmentId }));
      assert.equal((await describeEni(ec2, one.NetworkInterfaceId!)).Status, 'available');
      assert.deepEqual((await describeInstance(ec2, instance.InstanceId!)).NetworkInterfaces!.map((n) => n.Attachment!.DeviceIndex), [0, 2]);
    });

    test('an interface in another Availability Zone is InvalidParameterCombination', async () => {
      const instance = await launch(ec2, { SubnetId: a1() });
      const eni = await createEni(ec2, { SubnetId: net.subnets.b.SubnetId });
      await expectRefused(ec2, vpcs(), () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 })), 'InvalidParameterCombination');
    });

    test('a device index already taken is InvalidParameterValue', async () => {
      const instance = await launch(ec2, { SubnetId: a1(), InstanceType: 'm5.large' });
      const first = await createEni(ec2, { SubnetId: a1() });
      const second = await createEni(ec2, { SubnetId: a1() });
      await expectRefused(ec2, vpcs(), () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: first.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 0 })), 'InvalidParameterValue');
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: first.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      await expectRefused(ec2, vpcs(), () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 })), 'InvalidParameterValue');
    });

    test('an interface that is already attached is InvalidNetworkInterface.InUse', async () => {
      const a = await launch(ec2, { SubnetId: a1() });
      const b = await launch(ec2, { SubnetId: a1() });
      const eni = await createEni(ec2, { SubnetId: a1() });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: a.InstanceId, DeviceIndex: 1 }));
      await expectRefused(ec2, vpcs(), () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: b.InstanceId, DeviceIndex: 1 })), 'InvalidNetworkInterface.InUse');
      // Another instance's primary interface is in use too.
      await expectRefused(
        ec2,
        vpcs(),
        () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: a.NetworkInterfaces![0].NetworkInterfaceId, InstanceId: b.InstanceId, DeviceIndex: 1 })),
        'InvalidNetworkInterface.InUse',
      );
    });

    test("a t2.micro takes two interfaces: a third is AttachmentLimitExceeded", async () => {
      const instance = await launch(ec2, { SubnetId: a1(), InstanceType: 't2.micro' });
      const second = await createEni(ec2, { SubnetId: a1() });
      const third = await createEni(ec2, { SubnetId: a1() });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      await expectRefused(ec2, vpcs(), () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: third.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 2 })), 'AttachmentLimitExceeded');
    });

    test('an interface with more addresses than the type allows per interface is InvalidInterface.IpAddressLimitExceeded', async () => {
      const micro = await launch(ec2, { SubnetId: a1(), InstanceType: 't2.micro' });
      const large = await launch(ec2, { SubnetId: a1(), InstanceType: 'm5.large' });
      const eni = await createEni(ec2, { SubnetId: a1(), SecondaryPrivateIpAddressCount: 2 });
      assert.equal(eni.PrivateIpAddresses!.length, 3);
      await expectRefused(ec2, vpcs(), () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: micro.InstanceId, DeviceIndex: 1 })), 'InvalidInterface.IpAddressLimitExceeded');
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: large.InstanceId, DeviceIndex: 1 }));
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Status, 'in-use');
    });

    test('attaching to a terminated instance is IncorrectInstanceState', async () => {
      const instance = await launch(ec2, { SubnetId: a1() });
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      assert.equal((await describeInstance(ec2, instance.InstanceId!)).State!.Name, 'terminated');
      const eni = await createEni(ec2, { SubnetId: a1() });
      await expectRefused(ec2, vpcs(), () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 })), 'IncorrectInstanceState');
    });

    test('unknown instance or interface ids are InvalidInstanceID.NotFound / InvalidNetworkInterfaceID.NotFound', async () => {
      const instance = await launch(ec2, { SubnetId: a1() });
      const eni = await createEni(ec2, { SubnetId: a1() });
      await expectRefused(ec2, vpcs(), () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: 'i-0123456789abcdef0', DeviceIndex: 1 })), 'InvalidInstanceID.NotFound');
      await expectRefused(ec2, vpcs(), () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: UNKNOWN_ENI, InstanceId: instance.InstanceId, DeviceIndex: 1 })), 'InvalidNetworkInterfaceID.NotFound');
    });

    test('the primary interface (device index 0) cannot be detached: OperationNotPermitted', async () => {
      const instance = await launch(ec2, { SubnetId: a1() });
      const primary = instance.NetworkInterfaces![0];
      assert.equal(primary.Attachment!.DeviceIndex, 0);
      await expectRefused(ec2, vpcs(), () => ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: primary.Attachment!.AttachmentId })), 'OperationNotPermitted');
      await expectRefused(ec2, vpcs(), () => ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: primary.Attachment!.AttachmentId, Force: true })), 'OperationNotPermitted');
    });

    test('detaching takes an attachment id: an eni- id is InvalidNetworkInterfaceAttachmentId.Malformed, an unknown one InvalidAttachmentID.NotFound', async () => {
      const instance = await launch(ec2, { SubnetId: a1() });
      const eni = await createEni(ec2, { SubnetId: a1() });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      await expectRefused(ec2, vpcs(), () => ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: eni.NetworkInterfaceId })), 'InvalidNetworkInterfaceAttachmentId.Malformed');
      await expectRefused(ec2, vpcs(), () => ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: UNKNOWN_ATTACHMENT })), 'InvalidAttachmentID.NotFound');
    });

    test('an attached interface cannot be deleted: InvalidNetworkInterface.InUse', async () => {
      const instance = await launch(ec2, { SubnetId: a1() });
      const eni = await createEni(ec2, { SubnetId: a1() });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      await expectRefused(ec2, vpcs(), () => ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId })), 'InvalidNetworkInterface.InUse');
      await expectRefused(ec2, vpcs(), () => ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: instance.NetworkInterfaces![0].NetworkInterfaceId })), 'InvalidNetworkInterface.InUse');
    });

    test('after detaching, the interface is available with the same MAC, addresses and groups, and the attachment id is gone', async () => {
      const group = await createGroup(ec2, net.vpcId, 'detach-test');
      const instance = await launch(ec2, { SubnetId: a1() });
      const eni = await createEni(ec2, { SubnetId: a2(), Groups: [group] });
      const free = await freeAddresses(ec2, a2());
      const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
      const detached = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.equal(detached.Status, 'available');
      assert.equal(detached.Attachment, undefined);
      assert.deepEqual(identityOf(detached), identityOf(eni));
      assert.equal(await freeAddresses(ec2, a2()), free, 'the addresses stay with the interface');
      const nics = (await describeInstance(ec2, instance.InstanceId!)).NetworkInterfaces!;
      assert.deepEqual(nics.map((n) => n.Attachment!.DeviceIndex), [0]);
      await expectRefused(ec2, vpcs(), () => ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId })), 'InvalidAttachmentID.NotFound');
    });

    test('moving an interface from instance A to instance B keeps its MAC, addresses, groups, description and tags', async () => {
      const group = await createGroup(ec2, net.vpcId, 'mover');
      const a = await launch(ec2, { SubnetId: a1() });
      const b = await launch(ec2, { SubnetId: a2() });
      const eni = await createEni(ec2, {
        SubnetId: a1(),
        Groups: [group],
        Description: 'floating service address',
        SecondaryPrivateIpAddressCount: 1,
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'role', Value: 'vip' }] }],
      });
      const first = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: a.InstanceId, DeviceIndex: 1 }));
      await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: first.AttachmentId }));
      const second = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: b.InstanceId, DeviceIndex: 1 }));
      assert.notEqual(second.AttachmentId, first.AttachmentId);
      const moved = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.deepEqual(identityOf(moved), identityOf(eni));
      assert.equal(moved.Attachment!.InstanceId, b.InstanceId);
      assert.equal(moved.SubnetId, a1(), 'the interface stays in its own subnet, whatever the instance subnet');
      assert.deepEqual((await describeInstance(ec2, a.InstanceId!)).NetworkInterfaces!.length, 1);
      const onB = (await describeInstance(ec2, b.InstanceId!)).NetworkInterfaces!.find((n) => n.NetworkInterfaceId === eni.NetworkInterfaceId)!;
      assert.equal(onB.MacAddress, eni.MacAddress);
      assert.deepEqual(addressesOf(onB).sort(), addressesOf(eni).sort());
      assert.deepEqual(onB.Groups, [{ GroupId: group, GroupName: 'mover' }]);
    });

    test('an interface of another VPC in the same zone attaches (multi-VPC ENI attachments)', async () => {
      // AWS (What's New, Oct 2023, "multi-VPC ENI attachments"): a secondary interface may come from another
      // VPC of the same account, provided it is in the instance's Availability Zone.
      const instance = await launch(ec2, { SubnetId: a1() });
      const eni = await createEni(ec2, { SubnetId: other.subnets.a.SubnetId });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      const nics = (await describeInstance(ec2, instance.InstanceId!)).NetworkInterfaces!;
      assert.deepEqual(nics.map((n) => n.VpcId), [net.vpcId, other.vpcId]);
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Attachment!.InstanceId, instance.InstanceId);
    });
  });

  describe('ModifyNetworkInterfaceAttribute, DescribeNetworkInterfaceAttribute, ResetNetworkInterfaceAttribute', () => {
    let net: Network;
    let foreignGroup: string;
    before(async () => {
      net = await createNetwork(ec2, '10.40.0.0/16', { a: { cidr: '10.40.1.0/24', zone: 'us-east-1c' } });
      foreignGroup = await createGroup(ec2, (await createNetwork(ec2, '10.41.0.0/16', {})).vpcId, 'elsewhere');
    });
    const newEni = () => createEni(ec2, { SubnetId: net.subnets.a.SubnetId });
    const attribute = async (id: string, Attribute: NetworkInterfaceAttribute) =>
      ec2.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Attribute }));

    test('the description is modified and described', async () => {
      const eni = await newEni();
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Description: { Value: 'now described' } }));
      const described = await attribute(eni.NetworkInterfaceId!, 'description');
      assert.equal(described.NetworkInterfaceId, eni.NetworkInterfaceId);
      assert.deepEqual(described.Description, { Value: 'now described' });
      assert.equal(described.Groups, undefined, 'only the requested attribute is answered');
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Description, 'now described');
    });

    test('groups replace the whole set; an empty list, an unknown group or another VPC group is refused', async () => {
      const eni = await newEni();
      const g1 = await createGroup(ec2, net.vpcId, 'g1');
      const g2 = await createGroup(ec2, net.vpcId, 'g2');
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Groups: [g1, g2] }));
      assert.deepEqual((await attribute(eni.NetworkInterfaceId!, 'groupSet')).Groups, [{ GroupId: g1, GroupName: 'g1' }, { GroupId: g2, GroupName: 'g2' }]);
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Groups: [g2] }));
      assert.deepEqual((await describeEni(ec2, eni.NetworkInterfaceId!)).Groups, [{ GroupId: g2, GroupName: 'g2' }]);
      // The SDK drops an empty list, so AWS sees a call that names no attribute at all.
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Groups: [] })), 'MissingParameter');
      // AWS answers a group of another VPC with InvalidGroup.NotFound "You have specified two resources that belong to different networks."
      const foreign = await expectRefused(ec2, [net.vpcId], () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Groups: [g1, foreignGroup] })), 'InvalidGroup.NotFound');
      assert.equal(foreign.message, 'You have specified two resources that belong to different networks.', 'not "does not exist": the group exists');
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Groups: ['sg-0123456789abcdef0'] })), 'InvalidGroup.NotFound');
      assert.deepEqual((await describeEni(ec2, eni.NetworkInterfaceId!)).Groups, [{ GroupId: g2, GroupName: 'g2' }]);
    });

    test('source/destination check is turned off, described, and reset to true', async () => {
      const eni = await newEni();
      assert.deepEqual((await attribute(eni.NetworkInterfaceId!, 'sourceDestCheck')).SourceDestCheck, { Value: true });
      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, SourceDestCheck: { Value: false } }));
      assert.deepEqual((await attribute(eni.NetworkInterfaceId!, 'sourceDestCheck')).SourceDestCheck, { Value: false });
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).SourceDestCheck, false);
      await ec2.send(new ResetNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, SourceDestCheck: 'sourceDestCheck' }));
      assert.deepEqual((await attribute(eni.NetworkInterfaceId!, 'sourceDestCheck')).SourceDestCheck, { Value: true });
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).SourceDestCheck, true);
    });

    test("the attachment's DeleteOnTermination is changed with its attachment id; another id is InvalidAttachmentID.NotFound", async () => {
      const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
      const eni = await newEni();
      const other = await newEni();
      const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
      const described = (await attribute(eni.NetworkInterfaceId!, 'attachment')).Attachment!;
      assert.equal(described.AttachmentId, AttachmentId);
      assert.equal(described.InstanceId, instance.InstanceId);
      assert.equal(described.DeviceIndex, 1);
      assert.equal(described.DeleteOnTermination, false);
      assert.equal(described.Status, 'attached');
      assert.equal((await attribute(other.NetworkInterfaceId!, 'attachment')).Attachment, undefined);

      await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Attachment: { AttachmentId, DeleteOnTermination: true } }));
      assert.equal((await attribute(eni.NetworkInterfaceId!, 'attachment')).Attachment!.DeleteOnTermination, true);
      assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Attachment!.DeleteOnTermination, true);

      const primaryAttachment = instance.NetworkInterfaces![0].Attachment!.AttachmentId;
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Attachment: { AttachmentId: primaryAttachment, DeleteOnTermination: false } })),
        'InvalidAttachmentID.NotFound',
      );
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: other.NetworkInterfaceId, Attachment: { AttachmentId, DeleteOnTermination: false } })),
        'InvalidAttachmentID.NotFound',
      );
    });

    test('two attributes in one call are InvalidParameterCombination', async () => {
      const eni = await newEni();
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Description: { Value: 'x' }, SourceDestCheck: { Value: false } })),
        'InvalidParameterCombination',
      );
    });

    test('an unknown attribute is InvalidParameterValue; unknown or malformed interfaces are refused with their id errors', async () => {
      const eni = await newEni();
      await expectEc2Error(attribute(eni.NetworkInterfaceId!, 'colour' as NetworkInterfaceAttribute), 'InvalidParameterValue');
      await expectEc2Error(attribute(UNKNOWN_ENI, 'description'), 'InvalidNetworkInterfaceID.NotFound');
      await expectEc2Error(attribute('eni-bad', 'description'), 'InvalidNetworkInterfaceId.Malformed');
      await expectEc2Error(ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: UNKNOWN_ENI, Description: { Value: 'x' } })), 'InvalidNetworkInterfaceID.NotFound');
    });
  });

  describe('DeleteNetworkInterface', () => {
    let net: Network;
    before(async () => {
      net = await createNetwork(ec2, '10.50.0.0/16', { a: { cidr: '10.50.1.0/28', zone: 'us-east-1a' } });
    });

    test('deleting frees every address; the id is then InvalidNetworkInterfaceID.NotFound', async () => {
      const subnet = net.subnets.a.SubnetId!;
      const eni = await createEni(ec2, { SubnetId: subnet, SecondaryPrivateIpAddressCount: 2 });
      assert.equal(await freeAddresses(ec2, subnet), 8);
      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId }));
      assert.equal(await freeAddresses(ec2, subnet), 11);
      await expectEc2Error(ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni.NetworkInterfaceId!] })), 'InvalidNetworkInterfaceID.NotFound');
      await expectEc2Error(ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId })), 'InvalidNetworkInterfaceID.NotFound');
      await expectEc2Error(ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: 'eni-nope' })), 'InvalidNetworkInterfaceId.Malformed');
    });
  });
});

describe('attachment transitions with delays', () => {
  // Long enough that the first Describe after each call sees the transition on a loaded CI machine.
  const DELAY = 1500;
  let server: TestServer;
  let ec2: EC2Client;
  let net: Network;
  before(async () => {
    server = await startTestServer({ timings: { attachingMs: DELAY, detachingMs: DELAY } });
    ec2 = server.client();
    net = await createNetwork(ec2, '10.0.0.0/16', { a: { cidr: '10.0.1.0/24', zone: 'us-east-1a' } });
  });
  after(() => server.stop());

  test('an attachment is seen attaching, then attached; a detachment detaching, then available; a waiter gets there', async () => {
    const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const eni = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId });
    const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
    const attaching = await pollUntil(
      async () => (await describeEni(ec2, eni.NetworkInterfaceId!)).Attachment?.Status,
      (status) => status === 'attached',
    );
    assert.deepEqual(attaching, ['attaching', 'attached']);
    assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Status, 'in-use');

    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    const detaching = await pollUntil(
      async () => {
        const now = await describeEni(ec2, eni.NetworkInterfaceId!);
        return `${now.Status}/${now.Attachment?.Status ?? '-'}`;
      },
      (state) => state === 'available/-',
    );
    assert.equal(detaching[0], 'in-use/detaching');
    assert.equal(detaching[detaching.length - 1], 'available/-');
    // What Terraform's detach waiter polls for: once detached, the attachment id finds nothing, and no
    // attachment is ever `detached` (EC2 drops it; the waiter gives up on not-found).
    for (const filter of [{ Name: 'attachment.attachment-id', Values: [AttachmentId!] }, { Name: 'attachment.status', Values: ['detached'] }]) {
      assert.deepEqual((await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [filter] }))).NetworkInterfaces, [], filter.Name);
    }

    // Again, waited for the way SDK users do.
    const again = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
    await pollUntil(async () => (await describeEni(ec2, eni.NetworkInterfaceId!)).Attachment?.Status, (s) => s === 'attached');
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: again.AttachmentId }));
    const waited = await waitUntilNetworkInterfaceAvailable({ client: ec2, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { NetworkInterfaceIds: [eni.NetworkInterfaceId!] });
    assert.equal(waited.state, 'SUCCESS');
    const done = await describeEni(ec2, eni.NetworkInterfaceId!);
    assert.equal(done.Status, 'available');
    assert.equal(done.MacAddress, eni.MacAddress);
  });

  test('a write that comes first after a transition ended acts on the ended state: it is rolled back and run again, settled', async () => {
    const [first, second] = await Promise.all([0, 1].map(() => launch(ec2, { SubnetId: net.subnets.a.SubnetId })));
    const eni = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId });
    const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: first.InstanceId, DeviceIndex: 1 }));
    await pollUntil(async () => (await describeEni(ec2, eni.NetworkInterfaceId!)).Attachment?.Status, (s) => s === 'attached');
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    // No request in between: the attach is the first to find the detachment due. Run on the
    // state before it (still attached) it would be refused as in use.
    await new Promise((resolve) => setTimeout(resolve, DELAY + 100));
    const moved = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: second.InstanceId, DeviceIndex: 1 }));
    const now = await describeEni(ec2, eni.NetworkInterfaceId!);
    assert.equal(now.Attachment?.AttachmentId, moved.AttachmentId);
    assert.equal(now.Attachment?.InstanceId, second.InstanceId);
  });
});

describe('attaching to a pending instance', () => {
  let server: TestServer;
  let ec2: EC2Client;
  before(async () => {
    server = await startTestServer({ timings: { instancePendingMs: 60_000 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  test('an instance still pending refuses attachments with IncorrectInstanceState', async () => {
    const net = await createNetwork(ec2, '10.0.0.0/16', { a: { cidr: '10.0.1.0/24', zone: 'us-east-1a' } });
    const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    assert.equal((await describeInstance(ec2, instance.InstanceId!)).State!.Name, 'pending');
    const eni = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId });
    await expectRefused(ec2, [net.vpcId], () => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 })), 'IncorrectInstanceState');
  });
});
