/**
 * Subnet CIDR reservations through the SDK: Create (explicit | prefix, IPv4 and IPv6, inside the
 * subnet, never overlapping another of the VPC), Get (filters, pagination, IPv4 and IPv6 lists),
 * Delete (InvalidSubnetCidrReservationID.NotFound); the allocator never picks a reserved address
 * on its own (a primary, a secondary count, an IPv6 count) but a named one may be taken; IPv4 and
 * IPv6 prefixes by count come from `prefix` reservations.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AssignIpv6AddressesCommand,
  AssignPrivateIpAddressesCommand,
  AssociateVpcCidrBlockCommand,
  CreateSubnetCidrReservationCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSubnetCidrReservationCommand,
  DeleteSubnetCommand,
  GetSubnetCidrReservationsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni } from '../helpers/topology.ts';
import { inIpv4Cidr, subnet64 } from '../helpers/addressing.ts';

describe('subnet CIDR reservations', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  let vpcIpv6: string;

  before(async () => {
    server = await startTestServer();
    ec2 = server.client();
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.70.0.0/16' }))).Vpc!.VpcId!;
    vpcIpv6 = (await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, AmazonProvidedIpv6CidrBlock: true }))).Ipv6CidrBlockAssociation!.Ipv6CidrBlock!;
  });
  after(() => server.stop());

  const subnet = async (cidr: string, ipv6Index?: number) =>
    (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: 'us-east-1a', Ipv6CidrBlock: ipv6Index === undefined ? undefined : subnet64(vpcIpv6, ipv6Index) }))).Subnet!.SubnetId!;
  const reserve = async (SubnetId: string, Cidr: string, ReservationType: 'explicit' | 'prefix', extra: { Description?: string } = {}) =>
    (await ec2.send(new CreateSubnetCidrReservationCommand({ SubnetId, Cidr, ReservationType, ...extra }))).SubnetCidrReservation!;

  test('create answers the reservation; Get lists IPv4 and IPv6 apart, filters by type and tag, pages; delete answers it and then NotFound', async () => {
    const id = await subnet('10.70.1.0/24', 1);
    const v4 = await reserve(id, '10.70.1.16/28', 'explicit', { Description: 'appliances' });
    assert.match(v4.SubnetCidrReservationId!, /^scr-[0-9a-f]{17}$/);
    assert.deepEqual({ ...v4, SubnetCidrReservationId: undefined }, {
      SubnetCidrReservationId: undefined,
      SubnetId: id,
      Cidr: '10.70.1.16/28',
      ReservationType: 'explicit',
      OwnerId: '000000000000',
      Description: 'appliances',
      Tags: [],
    });
    const prefix = (await ec2.send(new CreateSubnetCidrReservationCommand({
      SubnetId: id,
      Cidr: '10.70.1.64/26',
      ReservationType: 'prefix',
      TagSpecifications: [{ ResourceType: 'subnet-cidr-reservation', Tags: [{ Key: 'use', Value: 'pods' }] }],
    }))).SubnetCidrReservation!;
    const v6Cidr = subnet64(vpcIpv6, 1).replace('::/64', ':1::/80');
    const v6 = await reserve(id, v6Cidr, 'prefix');
    assert.equal(v6.Cidr, v6Cidr);

    const all = await ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id }));
    assert.deepEqual(all.SubnetIpv4CidrReservations!.map((r) => r.Cidr).sort(), ['10.70.1.16/28', '10.70.1.64/26']);
    assert.deepEqual(all.SubnetIpv6CidrReservations!.map((r) => r.Cidr), [v6Cidr]);
    const prefixes = await ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id, Filters: [{ Name: 'reservationType', Values: ['prefix'] }] }));
    assert.deepEqual([...prefixes.SubnetIpv4CidrReservations!, ...prefixes.SubnetIpv6CidrReservations!].map((r) => r.SubnetCidrReservationId).sort(), [prefix.SubnetCidrReservationId, v6.SubnetCidrReservationId].sort());
    const tagged = await ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id, Filters: [{ Name: 'tag:use', Values: ['pods'] }] }));
    assert.deepEqual(tagged.SubnetIpv4CidrReservations!.map((r) => r.Tags), [[{ Key: 'use', Value: 'pods' }]]);

    for (let i = 0; i < 5; i++) await reserve(id, `10.70.1.${160 + i * 8}/29`, 'explicit');
    const seen: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id, MaxResults: 5, NextToken }));
      seen.push(...page.SubnetIpv4CidrReservations!.map((r) => r.SubnetCidrReservationId!), ...page.SubnetIpv6CidrReservations!.map((r) => r.SubnetCidrReservationId!));
      NextToken = page.NextToken;
    } while (NextToken);
    assert.equal(seen.length, 8);
    assert.equal(new Set(seen).size, 8);
    await expectEc2Error(ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id, MaxResults: 2 })), 'InvalidParameterValue');

    const { DeletedSubnetCidrReservation } = await ec2.send(new DeleteSubnetCidrReservationCommand({ SubnetCidrReservationId: v4.SubnetCidrReservationId }));
    assert.equal(DeletedSubnetCidrReservation!.Cidr, '10.70.1.16/28');
    await expectEc2Error(ec2.send(new DeleteSubnetCidrReservationCommand({ SubnetCidrReservationId: v4.SubnetCidrReservationId })), 'InvalidSubnetCidrReservationID.NotFound');
    await expectEc2Error(ec2.send(new DeleteSubnetCidrReservationCommand({ SubnetCidrReservationId: 'foo' })), 'InvalidSubnetCidrReservationID.Malformed');
    await expectEc2Error(ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: 'subnet-0000000000000000f' })), 'InvalidSubnetID.NotFound');
  });

  test('outside the subnet, overlapping another reservation of the VPC, a bad type or CIDR: refused', async () => {
    const id = await subnet('10.70.2.0/24', 2);
    const other = await subnet('10.70.3.0/24');
    await reserve(id, '10.70.2.0/27', 'explicit');
    await expectEc2Error(reserve(id, '10.70.3.0/28', 'explicit'), 'InvalidParameterValue');
    await expectEc2Error(reserve(id, '10.70.2.16/28', 'prefix'), 'InvalidParameterValue');
    await expectEc2Error(reserve(other, '10.70.2.32/28', 'explicit'), 'InvalidParameterValue');
    await expectEc2Error(reserve(id, 'not-a-cidr', 'explicit'), 'InvalidParameterValue');
    await expectEc2Error(reserve(id, subnet64(vpcIpv6, 9), 'explicit'), 'InvalidParameterValue');
    await expectEc2Error(reserve(other, subnet64(vpcIpv6, 2), 'explicit'), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new CreateSubnetCidrReservationCommand({ SubnetId: id, Cidr: '10.70.2.64/28', ReservationType: 'both' as 'prefix' })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new CreateSubnetCidrReservationCommand({ SubnetId: id, Cidr: '10.70.2.64/28' } as never)), 'MissingParameter');
  });

  test('automatic addresses skip reserved ranges, a named reserved address is taken, prefix counts come from prefix reservations', async () => {
    // .0–.15 explicit-reserved (.0–.3 are AWS's), .16–.31 prefix-reserved.
    const id = await subnet('10.70.4.0/25', 4);
    await reserve(id, '10.70.4.0/28', 'explicit');
    await reserve(id, '10.70.4.16/28', 'prefix');
    const eni = await createEni(ec2, { SubnetId: id, SecondaryPrivateIpAddressCount: 2 });
    const addresses = eni.PrivateIpAddresses!.map((a) => a.PrivateIpAddress!);
    assert.deepEqual(addresses, ['10.70.4.32', '10.70.4.33', '10.70.4.34']);
    const named = await createEni(ec2, { SubnetId: id, PrivateIpAddress: '10.70.4.5' });
    assert.equal(named.PrivateIpAddress, '10.70.4.5');
    await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: named.NetworkInterfaceId, PrivateIpAddresses: ['10.70.4.6'] }));

    const { AssignedIpv4Prefixes } = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: named.NetworkInterfaceId, Ipv4PrefixCount: 1 }));
    assert.deepEqual(AssignedIpv4Prefixes!.map((p) => p.Ipv4Prefix), ['10.70.4.16/28'], 'from the prefix reservation');
    const next = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Ipv4PrefixCount: 1 }));
    assert.deepEqual(next.AssignedIpv4Prefixes!.map((p) => p.Ipv4Prefix), ['10.70.4.48/28'], 'then outside every reservation');
    assert.ok(inIpv4Cidr(next.AssignedIpv4Prefixes![0].Ipv4Prefix!.split('/')[0], '10.70.4.0/25'));

    const block = subnet64(vpcIpv6, 4);
    const base = block.replace('::/64', '');
    await reserve(id, `${base}::/65`, 'explicit');
    await reserve(id, `${base}:8000::/80`, 'prefix');
    const v6 = await ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Ipv6AddressCount: 5 }));
    for (const a of v6.AssignedIpv6Addresses!) {
      const group = Number.parseInt(a.split(':')[4] ?? '0', 16);
      assert.ok(group >= 0x8000, `${a} is outside the reserved lower half of ${block}`);
    }
    const v6Prefix = await ec2.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Ipv6PrefixCount: 1 }));
    assert.deepEqual(v6Prefix.AssignedIpv6Prefixes, [`${base}:8000::/80`]);

    // A subnet's reservations go with it.
    const gone = await subnet('10.70.5.0/28');
    const r = await reserve(gone, '10.70.5.0/29', 'explicit');
    await ec2.send(new DeleteSubnetCommand({ SubnetId: gone }));
    await expectEc2Error(ec2.send(new DeleteSubnetCidrReservationCommand({ SubnetCidrReservationId: r.SubnetCidrReservationId })), 'InvalidSubnetCidrReservationID.NotFound');
  });
});
