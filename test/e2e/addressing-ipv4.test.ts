/**
 * Private IPv4 addressing end to end: the subnet allocator seen through CreateNetworkInterface
 * and AssignPrivateIpAddresses (exact AvailableIpAddressCount, reserved addresses, exhaustion,
 * reuse), secondary addresses and their limits, AllowReassignment (with the Elastic IP moving
 * along), UnassignPrivateIpAddresses, and /28 prefix delegation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  TerminateInstancesCommand,
  UnassignPrivateIpAddressesCommand,
  paginateDescribeNetworkInterfaces,
  type EC2Client,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { checkInvariants } from '../../src/check.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import {
  addressesOf,
  createEni,
  createNetwork,
  describeEni,
  describeInstance,
  expectRefused,
  freeAddresses,
  launch,
  pollUntil,
  type Network,
} from '../helpers/topology.ts';
import {
  addressesOfPrefix,
  assertAlignedIpv4Prefix,
  createGateway,
  describeAddress,
  expectUnchanged,
  inIpv4Cidr,
  ipv4Range,
  ipv4ToInt,
  reservedIpv4,
} from '../helpers/addressing.ts';

const secondariesOf = (eni: NetworkInterface) => (eni.PrivateIpAddresses ?? []).filter((a) => !a.Primary).map((a) => a.PrivateIpAddress!);
const byNumber = (a: string, b: string) => ipv4ToInt(a) - ipv4ToInt(b);

describe('private IPv4 addressing', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let net: Network;
  const subnet = (name: string) => net.subnets[name].SubnetId!;
  const cidr = (name: string) => net.subnets[name].CidrBlock!;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50 } });
    ec2 = server.client();
    net = await createNetwork(ec2, '10.0.0.0/16', {
      tiny: { cidr: '10.0.1.0/28', zone: 'us-east-1a' },
      main: { cidr: '10.0.2.0/24', zone: 'us-east-1a' },
      side: { cidr: '10.0.3.0/24', zone: 'us-east-1a' },
      prefixes: { cidr: '10.0.4.0/24', zone: 'us-east-1a' },
      tinyPrefix: { cidr: '10.0.5.0/28', zone: 'us-east-1a' },
      launch: { cidr: '10.0.6.0/24', zone: 'us-east-1a' },
      limits: { cidr: '10.0.7.0/24', zone: 'us-east-1a' },
      gaps: { cidr: '10.0.8.0/28', zone: 'us-east-1a' },
      big: { cidr: '10.0.16.0/20', zone: 'us-east-1b' },
    });
    // Elastic IPs need an internet gateway on the VPC.
    await createGateway(ec2, net.vpcId);
  });
  after(() => server.stop());

  describe('the subnet allocator', () => {
    test('an address given back joins the free addresses on either side, on none, on its left, on its right or on both, and the subnet stays exact', async () => {
      const gaps = subnet('gaps');
      const host = (n: number) => `10.0.8.${n}`;
      // The whole /28 on one interface: .4 primary, .5 to .14 secondary.
      const eni = await createEni(ec2, { SubnetId: gaps, PrivateIpAddress: host(4), SecondaryPrivateIpAddressCount: 10 });
      assert.equal(await freeAddresses(ec2, gaps), 0);
      // .8 and .10 alone, .9 between them, .11 on the left's end, .6 alone, .5 before it, .7 between two ranges.
      const order = [8, 10, 9, 11, 6, 5, 7];
      for (const [i, n] of order.entries()) {
        await ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: [host(n)] }));
        assert.equal(await freeAddresses(ec2, gaps), i + 1, `after giving back ${host(n)}`);
        assert.deepEqual(await checkInvariants(server.store), [], `after giving back ${host(n)}`);
      }
      // .5 to .11 are one free range again: seven automatic addresses are those, lowest first, and then the subnet is full.
      const taken = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 7 }));
      assert.deepEqual(taken.AssignedPrivateIpAddresses!.map((a) => a.PrivateIpAddress!).sort(byNumber), [5, 6, 7, 8, 9, 10, 11].map(host));
      assert.equal(await freeAddresses(ec2, gaps), 0);
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 1 })),
        'InsufficientFreeAddressesInSubnet',
      );
      assert.deepEqual(await checkInvariants(server.store), []);
    });

    test('a /28 has 11 usable addresses; CreateNetworkInterface and AssignPrivateIpAddresses take them one at a time with an exact count, the 12th is InsufficientFreeAddressesInSubnet, and freed addresses come back', async () => {
      const tiny = subnet('tiny');
      assert.equal(net.subnets.tiny.AvailableIpAddressCount, 16 - 5);
      assert.equal(await freeAddresses(ec2, tiny), 11);

      const taken: string[] = [];
      const enis: NetworkInterface[] = [];
      let expected = 11;
      // Alternate: a new interface (its primary), then a secondary on the latest interface.
      while (expected > 0) {
        if (taken.length % 2 === 0) {
          const eni = await createEni(ec2, { SubnetId: tiny });
          enis.push(eni);
          taken.push(eni.PrivateIpAddress!);
        } else {
          const result = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: enis.at(-1)!.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 1 }));
          assert.equal(result.AssignedPrivateIpAddresses!.length, 1);
          taken.push(result.AssignedPrivateIpAddresses![0].PrivateIpAddress!);
        }
        expected -= 1;
        assert.equal(await freeAddresses(ec2, tiny), expected, `after ${taken.length} addresses`);
      }
      assert.deepEqual([...taken].sort(byNumber), Array.from({ length: 11 }, (_, i) => `10.0.1.${i + 4}`), 'exactly .4 to .14: never .0-.3 nor .15');

      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: tiny })), 'InsufficientFreeAddressesInSubnet');
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: enis[0].NetworkInterfaceId, SecondaryPrivateIpAddressCount: 1 })),
        'InsufficientFreeAddressesInSubnet',
      );
      assert.equal(await freeAddresses(ec2, tiny), 0);

      // Unassigning a secondary gives exactly that address back, and the next request gets it.
      const [secondary] = secondariesOf(await describeEni(ec2, enis[1].NetworkInterfaceId!));
      await ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: enis[1].NetworkInterfaceId, PrivateIpAddresses: [secondary] }));
      assert.equal(await freeAddresses(ec2, tiny), 1);
      const reused = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: enis[2].NetworkInterfaceId, SecondaryPrivateIpAddressCount: 1 }));
      assert.deepEqual(reused.AssignedPrivateIpAddresses, [{ PrivateIpAddress: secondary }]);
      assert.equal(await freeAddresses(ec2, tiny), 0);

      // Deleting an interface with two addresses frees both; a request for three is refused whole.
      const freed = addressesOf(await describeEni(ec2, enis[0].NetworkInterfaceId!));
      assert.equal(freed.length, 2);
      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: enis[0].NetworkInterfaceId }));
      assert.equal(await freeAddresses(ec2, tiny), 2);
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: tiny, SecondaryPrivateIpAddressCount: 2 })), 'InsufficientFreeAddressesInSubnet');
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: enis[1].NetworkInterfaceId, SecondaryPrivateIpAddressCount: 3 })),
        'InsufficientFreeAddressesInSubnet',
      );
      assert.equal(await freeAddresses(ec2, tiny), 2, 'a refused request takes nothing');
      const again = await createEni(ec2, { SubnetId: tiny, SecondaryPrivateIpAddressCount: 1 });
      assert.deepEqual(addressesOf(again).sort(byNumber), [...freed].sort(byNumber));
      assert.equal(await freeAddresses(ec2, tiny), 0);

      for (const eni of [...enis.slice(1), again]) await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId }));
      assert.equal(await freeAddresses(ec2, tiny), 11);
    });

    test('a whole /20 (4091 addresses) is handed out through AssignPrivateIpAddresses batches with no repeat and no reserved address, down to 0, then InsufficientFreeAddressesInSubnet', { timeout: 300_000 }, async () => {
      const big = subnet('big');
      const { first, last } = ipv4Range(cidr('big'));
      const usable = last - first + 1 - 5;
      assert.equal(usable, 4091);
      assert.equal(await freeAddresses(ec2, big), 4091);

      const seen = new Set<string>();
      const enis: string[] = [];
      let remaining = usable;
      while (remaining > 0) {
        const eni = await createEni(ec2, { SubnetId: big });
        enis.push(eni.NetworkInterfaceId!);
        seen.add(eni.PrivateIpAddress!);
        remaining -= 1;
        // An unattached interface holds 50 IPv4 addresses here: 1 primary and 49 secondaries.
        const count = Math.min(49, remaining);
        if (count > 0) {
          const result = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, SecondaryPrivateIpAddressCount: count }));
          assert.equal(result.AssignedPrivateIpAddresses!.length, count);
          for (const a of result.AssignedPrivateIpAddresses!) seen.add(a.PrivateIpAddress!);
          remaining -= count;
        }
        assert.equal(seen.size, usable - remaining, 'no address was handed out twice');
        assert.equal(await freeAddresses(ec2, big), remaining);
      }
      assert.equal(enis.length, Math.ceil(4091 / 50));
      assert.equal(seen.size, 4091);
      const reserved = new Set(reservedIpv4(cidr('big')));
      for (const address of seen) {
        assert.ok(inIpv4Cidr(address, cidr('big')), `${address} is in the subnet`);
        assert.ok(!reserved.has(address), `${address} is not reserved`);
      }
      assert.equal(await freeAddresses(ec2, big), 0);

      // DescribeNetworkInterfaces agrees: the interfaces of the subnet hold exactly these addresses.
      const described: string[] = [];
      for await (const page of paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 1000 }, { Filters: [{ Name: 'subnet-id', Values: [big] }] })) {
        for (const eni of page.NetworkInterfaces ?? []) described.push(...addressesOf(eni));
      }
      assert.equal(described.length, 4091);
      assert.deepEqual(new Set(described), seen);

      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: enis[0], SecondaryPrivateIpAddressCount: 1 })),
        'InsufficientFreeAddressesInSubnet',
      );
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: big })), 'InsufficientFreeAddressesInSubnet');
      assert.equal(await freeAddresses(ec2, big), 0);

      for (const id of enis) await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
      assert.equal(await freeAddresses(ec2, big), 4091, 'deleting the interfaces gives every address back');
    });
  });

  describe('AssignPrivateIpAddresses and UnassignPrivateIpAddresses', () => {
    test('explicit secondary addresses are taken from the subnet and reported; AvailableIpAddressCount drops by as many', async () => {
      const eni = await createEni(ec2, { SubnetId: subnet('main') });
      const free = await freeAddresses(ec2, subnet('main'));
      const result = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: ['10.0.2.200', '10.0.2.201'] }));
      assert.equal(result.NetworkInterfaceId, eni.NetworkInterfaceId);
      assert.deepEqual(result.AssignedPrivateIpAddresses!.map((a) => a.PrivateIpAddress).sort(), ['10.0.2.200', '10.0.2.201']);
      assert.deepEqual(result.AssignedIpv4Prefixes ?? [], []);
      const described = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.deepEqual(secondariesOf(described).sort(), ['10.0.2.200', '10.0.2.201']);
      assert.equal(described.PrivateIpAddress, eni.PrivateIpAddress, 'the primary does not change');
      assert.equal(described.PrivateIpAddresses!.find((a) => a.PrivateIpAddress === '10.0.2.200')!.PrivateDnsName, 'ip-10-0-2-200.ec2.internal');
      assert.equal(await freeAddresses(ec2, subnet('main')), free - 2);
    });

    test('an address outside the subnet or one of its five reserved addresses is InvalidParameterValue, and a list with one bad address assigns nothing', async () => {
      const eni = await createEni(ec2, { SubnetId: subnet('main') });
      for (const address of ['10.0.3.10', '192.168.1.10', ...reservedIpv4(cidr('main'))]) {
        await expectRefused(
          ec2,
          [net.vpcId],
          () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: [address] })),
          'InvalidParameterValue',
        );
      }
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: ['10.0.2.210', '10.0.2.255'] })),
        'InvalidParameterValue',
      );
      assert.deepEqual(secondariesOf(await describeEni(ec2, eni.NetworkInterfaceId!)), []);
    });

    test('addresses together with a count is InvalidParameterCombination; neither is MissingParameter', async () => {
      const eni = await createEni(ec2, { SubnetId: subnet('main') });
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: ['10.0.2.220'], SecondaryPrivateIpAddressCount: 1 })),
        'InvalidParameterCombination',
      );
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId })), 'MissingParameter');
    });

    test('an unknown interface is InvalidNetworkInterfaceID.NotFound', async () => {
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-0123456789abcdef0', SecondaryPrivateIpAddressCount: 1 })),
        'InvalidNetworkInterfaceID.NotFound',
      );
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: 'eni-0123456789abcdef0', PrivateIpAddresses: ['10.0.2.9'] })),
        'InvalidNetworkInterfaceID.NotFound',
      );
    });

    test('attached to a t2.micro (2 IPv4 addresses per interface) one secondary fits and the next is PrivateIpAddressLimitExceeded', async () => {
      const instance = await launch(ec2, { SubnetId: subnet('limits'), InstanceType: 't2.micro' });
      const eniId = instance.NetworkInterfaces![0].NetworkInterfaceId!;
      const added = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 1 }));
      assert.equal(added.AssignedPrivateIpAddresses!.length, 1);
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 1 })), 'PrivateIpAddressLimitExceeded');
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: ['10.0.7.100'] })), 'PrivateIpAddressLimitExceeded');
      // AWS checks the address before the limit: outside the subnet is the cause, not the count.
      const outside = await expectRefused(ec2, [net.vpcId], () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, PrivateIpAddresses: ['192.168.50.5'] })), 'InvalidParameterValue');
      assert.match(outside.message, /Address 192\.168\.50\.5 does not fall within the subnet's address range/);
      const badPrefix = await expectRefused(ec2, [net.vpcId], () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4Prefixes: ['192.168.50.0/28'] })), 'InvalidParameterValue');
      assert.match(badPrefix.message, /is not within the subnet/);
      assert.equal(addressesOf(await describeEni(ec2, eniId)).length, 2);
      const described = await describeInstance(ec2, instance.InstanceId!);
      assert.equal(addressesOf(described.NetworkInterfaces![0]).length, 2, 'DescribeInstances shows the secondary on the instance');
    });

    test('without AllowReassignment an address another interface holds is InvalidParameterValue; with it, the secondary moves from the other interface of the subnet, its Elastic IP with it', async () => {
      const holder = await createEni(ec2, { SubnetId: subnet('main'), PrivateIpAddresses: [{ PrivateIpAddress: '10.0.2.30', Primary: true }, { PrivateIpAddress: '10.0.2.31' }] });
      const taker = await createEni(ec2, { SubnetId: subnet('main') });
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      const { AssociationId } = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: holder.NetworkInterfaceId, PrivateIpAddress: '10.0.2.31' }));

      await expectUnchanged(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: taker.NetworkInterfaceId, PrivateIpAddresses: ['10.0.2.31'] })),
        'InvalidParameterValue',
      );
      await expectUnchanged(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: taker.NetworkInterfaceId, PrivateIpAddresses: ['10.0.2.31'], AllowReassignment: false })),
        'InvalidParameterValue',
      );

      const free = await freeAddresses(ec2, subnet('main'));
      const moved = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: taker.NetworkInterfaceId, PrivateIpAddresses: ['10.0.2.31'], AllowReassignment: true }));
      assert.deepEqual(moved.AssignedPrivateIpAddresses, [{ PrivateIpAddress: '10.0.2.31' }]);
      assert.equal(await freeAddresses(ec2, subnet('main')), free, 'a move takes no new address from the subnet');

      const [holderAfter, takerAfter] = await Promise.all([describeEni(ec2, holder.NetworkInterfaceId!), describeEni(ec2, taker.NetworkInterfaceId!)]);
      assert.deepEqual(addressesOf(holderAfter), ['10.0.2.30']);
      assert.deepEqual(secondariesOf(takerAfter), ['10.0.2.31']);
      const entry = takerAfter.PrivateIpAddresses!.find((a) => a.PrivateIpAddress === '10.0.2.31')!;
      assert.equal(entry.Primary, false);
      assert.equal(entry.Association?.PublicIp, eip.PublicIp, 'the Elastic IP moved with the address');
      assert.equal(entry.Association?.AllocationId, eip.AllocationId);
      assert.equal(holderAfter.PrivateIpAddresses!.some((a) => a.Association), false);
      const address = await describeAddress(ec2, eip.AllocationId!);
      assert.equal(address.NetworkInterfaceId, taker.NetworkInterfaceId);
      assert.equal(address.PrivateIpAddress, '10.0.2.31');
      assert.ok(address.AssociationId, `still associated (was ${AssociationId})`);
    });

    test('AllowReassignment never moves a primary address (InvalidParameterValue) and leaves everything as it was', async () => {
      const holder = await createEni(ec2, { SubnetId: subnet('main'), PrivateIpAddress: '10.0.2.40' });
      const taker = await createEni(ec2, { SubnetId: subnet('main') });
      await expectUnchanged(
        ec2,
        [net.vpcId],
        () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: taker.NetworkInterfaceId, PrivateIpAddresses: ['10.0.2.40'], AllowReassignment: true })),
        'InvalidParameterValue',
      );
      assert.equal((await describeEni(ec2, holder.NetworkInterfaceId!)).PrivateIpAddress, '10.0.2.40');
    });

    test('UnassignPrivateIpAddresses: the primary is InvalidParameterValue, an address not on the interface is InvalidParameterValue, a secondary goes back to the subnet', async () => {
      const eni = await createEni(ec2, { SubnetId: subnet('main'), PrivateIpAddresses: [{ PrivateIpAddress: '10.0.2.50', Primary: true }, { PrivateIpAddress: '10.0.2.51' }] });
      const other = await createEni(ec2, { SubnetId: subnet('main'), PrivateIpAddress: '10.0.2.52' });
      const id = eni.NetworkInterfaceId!;
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: id, PrivateIpAddresses: ['10.0.2.50'] })), 'InvalidParameterValue');
      // Held by another interface, free in the subnet, or with a good one: all refused whole.
      for (const addresses of [['10.0.2.52'], ['10.0.2.53'], ['10.0.2.51', '10.0.2.53']]) {
        await expectRefused(ec2, [net.vpcId], () => ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: id, PrivateIpAddresses: addresses })), 'InvalidParameterValue');
      }
      assert.equal((await describeEni(ec2, other.NetworkInterfaceId!)).PrivateIpAddress, '10.0.2.52');

      const free = await freeAddresses(ec2, subnet('main'));
      await ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: id, PrivateIpAddresses: ['10.0.2.51'] }));
      assert.deepEqual(addressesOf(await describeEni(ec2, id)), ['10.0.2.50']);
      assert.equal(await freeAddresses(ec2, subnet('main')), free + 1);
      // Unassigned, the address is free for anyone.
      const reuse = await createEni(ec2, { SubnetId: subnet('main'), PrivateIpAddress: '10.0.2.51' });
      assert.equal(reuse.PrivateIpAddress, '10.0.2.51');
    });

    test('unassigning an address that has an Elastic IP disassociates it: the Elastic IP stays allocated with no association', async () => {
      const eni = await createEni(ec2, { SubnetId: subnet('main'), PrivateIpAddresses: [{ PrivateIpAddress: '10.0.2.60', Primary: true }, { PrivateIpAddress: '10.0.2.61' }] });
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddress: '10.0.2.61' }));
      assert.equal((await describeAddress(ec2, eip.AllocationId!)).PrivateIpAddress, '10.0.2.61');

      await ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddresses: ['10.0.2.61'] }));
      const address = await describeAddress(ec2, eip.AllocationId!);
      assert.equal(address.PublicIp, eip.PublicIp);
      assert.equal(address.AssociationId, undefined);
      assert.equal(address.NetworkInterfaceId, undefined);
      assert.equal(address.PrivateIpAddress, undefined);
      assert.equal(address.InstanceId, undefined);
      const described = await describeEni(ec2, eni.NetworkInterfaceId!);
      assert.equal(described.PrivateIpAddresses!.some((a) => a.Association), false);
      assert.equal(described.Association, undefined);
    });
  });

  describe('IPv4 prefix delegation', () => {
    test('CreateNetworkInterface Ipv4PrefixCount delegates aligned /28s, listed in Ipv4Prefixes, each taking 16 addresses from AvailableIpAddressCount', async () => {
      const prefixes = subnet('prefixes');
      const free = await freeAddresses(ec2, prefixes);
      const eni = await createEni(ec2, { SubnetId: prefixes, Ipv4PrefixCount: 2 });
      assert.equal(eni.Ipv4Prefixes!.length, 2);
      for (const p of eni.Ipv4Prefixes!) assertAlignedIpv4Prefix(p.Ipv4Prefix!, cidr('prefixes'));
      assert.notEqual(eni.Ipv4Prefixes![0].Ipv4Prefix, eni.Ipv4Prefixes![1].Ipv4Prefix);
      const inPrefixes = new Set(eni.Ipv4Prefixes!.flatMap((p) => addressesOfPrefix(p.Ipv4Prefix!)));
      assert.ok(!inPrefixes.has(eni.PrivateIpAddress!), 'the primary address is not inside a delegated prefix');
      for (const r of reservedIpv4(cidr('prefixes'))) assert.ok(!inPrefixes.has(r), `a prefix never covers the reserved ${r}`);
      assert.deepEqual(addressesOf(eni), [eni.PrivateIpAddress], 'prefixes are not listed as private addresses');
      assert.equal(await freeAddresses(ec2, prefixes), free - 1 - 32);
      assert.deepEqual((await describeEni(ec2, eni.NetworkInterfaceId!)).Ipv4Prefixes, eni.Ipv4Prefixes);

      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId }));
      assert.equal(await freeAddresses(ec2, prefixes), free, 'deleting the interface frees its address and prefixes');
    });

    test('AssignPrivateIpAddresses Ipv4PrefixCount and explicit Ipv4Prefixes; UnassignPrivateIpAddresses Ipv4Prefixes returns the 16 addresses', async () => {
      const prefixes = subnet('prefixes');
      const eni = await createEni(ec2, { SubnetId: prefixes });
      const id = eni.NetworkInterfaceId!;
      const free = await freeAddresses(ec2, prefixes);

      const counted = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: id, Ipv4PrefixCount: 1 }));
      assert.equal(counted.AssignedIpv4Prefixes!.length, 1);
      assert.deepEqual(counted.AssignedPrivateIpAddresses ?? [], []);
      const auto = counted.AssignedIpv4Prefixes![0].Ipv4Prefix!;
      assertAlignedIpv4Prefix(auto, cidr('prefixes'));
      assert.equal(await freeAddresses(ec2, prefixes), free - 16);

      const explicit = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: id, Ipv4Prefixes: ['10.0.4.224/28'] }));
      assert.deepEqual(explicit.AssignedIpv4Prefixes, [{ Ipv4Prefix: '10.0.4.224/28' }]);
      assert.equal(await freeAddresses(ec2, prefixes), free - 32);
      assert.deepEqual((await describeEni(ec2, id)).Ipv4Prefixes!.map((p) => p.Ipv4Prefix).sort(), [auto, '10.0.4.224/28'].sort());

      // The prefix's addresses are taken: none of them can be assigned as an address.
      const other = await createEni(ec2, { SubnetId: prefixes });
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: other.NetworkInterfaceId, PrivateIpAddresses: ['10.0.4.230'] })), 'InvalidParameterValue');

      await expectRefused(ec2, [net.vpcId], () => ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: other.NetworkInterfaceId, Ipv4Prefixes: ['10.0.4.224/28'] })), 'InvalidParameterValue');
      const before = await freeAddresses(ec2, prefixes);
      await ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: id, Ipv4Prefixes: ['10.0.4.224/28'] }));
      assert.equal(await freeAddresses(ec2, prefixes), before + 16);
      assert.deepEqual((await describeEni(ec2, id)).Ipv4Prefixes, [{ Ipv4Prefix: auto }]);
      const reuse = await createEni(ec2, { SubnetId: prefixes, PrivateIpAddress: '10.0.4.230' });
      assert.equal(reuse.PrivateIpAddress, '10.0.4.230', 'the unassigned prefix\'s addresses are free again');
    });

    test('a misaligned prefix, a prefix that is not a /28, or one outside the subnet is InvalidParameterValue', async () => {
      const eni = await createEni(ec2, { SubnetId: subnet('prefixes') });
      for (const prefix of ['10.0.4.136/28', '10.0.4.160/27', '10.0.4.160/29', '10.0.3.16/28', 'not-a-prefix']) {
        await expectRefused(
          ec2,
          [net.vpcId],
          () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Ipv4Prefixes: [prefix] })),
          'InvalidParameterValue',
        );
      }
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet('prefixes'), Ipv4Prefixes: [{ Ipv4Prefix: '10.0.4.200/28' }] })), 'InvalidParameterValue');
    });

    test('prefixes together with addresses or an address count, or a prefix count with prefixes, is InvalidParameterCombination', async () => {
      const eni = await createEni(ec2, { SubnetId: subnet('prefixes') });
      const id = eni.NetworkInterfaceId!;
      const refusedAssign = [
        { PrivateIpAddresses: ['10.0.4.100'], Ipv4Prefixes: ['10.0.4.128/28'] },
        { SecondaryPrivateIpAddressCount: 1, Ipv4PrefixCount: 1 },
        { PrivateIpAddresses: ['10.0.4.100'], Ipv4PrefixCount: 1 },
        { SecondaryPrivateIpAddressCount: 1, Ipv4Prefixes: ['10.0.4.128/28'] },
        { Ipv4Prefixes: ['10.0.4.128/28'], Ipv4PrefixCount: 1 },
      ];
      for (const input of refusedAssign) {
        await expectRefused(ec2, [net.vpcId], () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: id, ...input })), 'InvalidParameterCombination');
      }
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet('prefixes'), SecondaryPrivateIpAddressCount: 1, Ipv4PrefixCount: 1 })), 'InvalidParameterCombination');
      await expectRefused(
        ec2,
        [net.vpcId],
        () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet('prefixes'), Ipv4Prefixes: [{ Ipv4Prefix: '10.0.4.128/28' }], Ipv4PrefixCount: 1 })),
        'InvalidParameterCombination',
      );
    });

    test('a /28 subnet cannot hold a /28 prefix (its reserved addresses are inside every /28): InsufficientCidrBlocks', async () => {
      const tiny = subnet('tinyPrefix');
      assert.equal(await freeAddresses(ec2, tiny), 11);
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: tiny, Ipv4PrefixCount: 1 })), 'InsufficientCidrBlocks');
      const eni = await createEni(ec2, { SubnetId: tiny });
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Ipv4PrefixCount: 1 })), 'InsufficientCidrBlocks');
      assert.equal(await freeAddresses(ec2, tiny), 10);
    });

    test('RunInstances NetworkInterfaces[].Ipv4PrefixCount on an m5.large: each prefix takes one of its 10 IPv4 slots; beyond, PrivateIpAddressLimitExceeded; terminating frees the prefixes', async () => {
      const launchSubnet = subnet('launch');
      const free = await freeAddresses(ec2, launchSubnet);
      const instance = await launch(ec2, {
        InstanceType: 'm5.large',
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: launchSubnet, Ipv4PrefixCount: 2 }],
      });
      const nic = instance.NetworkInterfaces![0];
      assert.equal(nic.Ipv4Prefixes!.length, 2);
      for (const p of nic.Ipv4Prefixes!) assertAlignedIpv4Prefix(p.Ipv4Prefix!, cidr('launch'));
      assert.equal(await freeAddresses(ec2, launchSubnet), free - 1 - 32);
      const eniId = nic.NetworkInterfaceId!;
      assert.equal((await describeEni(ec2, eniId)).Ipv4Prefixes!.length, 2);

      // 1 primary + 2 prefixes + 7 prefixes = 10 slots.
      const seven = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4PrefixCount: 7 }));
      assert.equal(seven.AssignedIpv4Prefixes!.length, 7);
      assert.equal(await freeAddresses(ec2, launchSubnet), free - 1 - 16 * 9);
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4PrefixCount: 1 })), 'PrivateIpAddressLimitExceeded');
      await expectRefused(ec2, [net.vpcId], () => ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 1 })), 'PrivateIpAddressLimitExceeded');

      // Giving a prefix back frees a slot for an address.
      await ec2.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, Ipv4Prefixes: [seven.AssignedIpv4Prefixes![0].Ipv4Prefix!] }));
      const one = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eniId, SecondaryPrivateIpAddressCount: 1 }));
      assert.equal(one.AssignedPrivateIpAddresses!.length, 1);
      const described = await describeInstance(ec2, instance.InstanceId!);
      assert.equal(described.NetworkInterfaces![0].Ipv4Prefixes!.length, 8);
      assert.equal(addressesOf(described.NetworkInterfaces![0]).length, 2);

      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance.InstanceId!] }));
      await pollUntil(() => freeAddresses(ec2, launchSubnet), (n) => n === free);
    });
  });
});
