/**
 * Subnets: CreateSubnet, DescribeSubnets, DeleteSubnet, ModifySubnetAttribute.
 * AWS: a subnet's block is /16 to /28, inside one of its VPC's blocks, overlapping no sibling;
 * it lives in one Availability Zone; five of its addresses are reserved; 200 per VPC.
 * An IPv6-only subnet (Ipv6Native) has a /64 and no IPv4 block at all: its interfaces get no
 * private IPv4, and its instances are named after their id (hostname type `resource-name`).
 * The hostname options at launch (PrivateDnsNameOptionsOnLaunch) and DNS64 are the subnet's
 * attributes; instances launched in it take them (instances.ts).
 */
import type {
  CreateSubnetRequest,
  CreateSubnetResult,
  DeleteSubnetRequest,
  DescribeSubnetsRequest,
  DescribeSubnetsResult,
  HostnameType,
  ModifySubnetAttributeRequest,
  Subnet,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { initialiseSubnetRange } from '../ipam/allocator.ts';
import { containsCidr, formatIpv4Cidr, lastAddress, parseIpv4Cidr, type Ipv4Cidr } from '../ipam/ipv4.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { findZone, zonesOf, type Zone } from './regions.ts';
import { checkIds, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';
import { checkSubnetIpv6Block } from './ipv6.ts';
import { associateDefaultAcl, forgetSubnetAcl } from './network-acls.ts';
import { forgetSubnet } from './route-tables.ts';
import { getVpc, parseBlock } from './vpcs.ts';
import { getOwned } from './owned.ts';
import { forgetSubnetReservations } from './subnet-cidr-reservations.ts';

const SUBNET_FILTERS: FilterSpec = {
  'subnet-id': { column: 'id' },
  'vpc-id': { column: 'vpc_id' },
  'cidr-block': { column: 'cidr_block' },
  cidr: { column: 'cidr_block' },
  cidrBlock: { column: 'cidr_block' },
  'availability-zone': { column: 'availability_zone' },
  availabilityZone: { column: 'availability_zone' },
  'availability-zone-id': { column: 'availability_zone_id' },
  availabilityZoneId: { column: 'availability_zone_id' },
  'available-ip-address-count': { column: 'available_ip_address_count', type: 'integer' },
  'default-for-az': { column: 'default_for_az', type: 'boolean' },
  defaultForAz: { column: 'default_for_az', type: 'boolean' },
  'map-public-ip-on-launch': { column: 'map_public_ip_on_launch', type: 'boolean' },
  'owner-id': { column: 'account_id' },
  state: { column: 'state' },
  'ipv6-cidr-block-association.ipv6-cidr-block': { column: 'ipv6_cidr_block' },
  'ipv6-cidr-block-association.association-id': { column: 'ipv6_association_id' },
  'assign-ipv6-address-on-creation': { column: 'assign_ipv6_address_on_creation', type: 'boolean' },
  'ipv6-native': { column: 'ipv6_native', type: 'boolean' },
  'enable-dns64': { column: 'enable_dns64', type: 'boolean' },
  'private-dns-name-options-on-launch.hostname-type': { column: 'hostname_type' },
  'private-dns-name-options-on-launch.enable-resource-name-dns-a-record': { column: 'resource_name_dns_a', type: 'boolean' },
  'private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record': { column: 'resource_name_dns_aaaa', type: 'boolean' },
};

/** An IPv6-only subnet's empty IPv4 range (first > last): no overlap check or allocation ever finds it. */
const NO_IPV4_RANGE = { first: 0, last: -1 };

export function isIpv6Only(subnet: Pick<Row<'subnets'>, 'ipv6_native'>): boolean {
  return Number(subnet.ipv6_native) === 1;
}

/** The subnet's IPv4 block; an IPv6-only subnet has none (callers check isIpv6Only first). */
export function subnetCidr(row: Pick<Row<'subnets'>, 'cidr_block' | 'id'>): Ipv4Cidr {
  const cidr = parseIpv4Cidr(row.cidr_block);
  if (!cidr) throw Errors.ipv6OnlySubnet(row.id);
  return cidr;
}

export async function createSubnet(ctx: Context, input: CreateSubnetRequest): Promise<CreateSubnetResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['subnet']);
  const vpc = await getVpc(ctx, input.VpcId);
  const native = input.Ipv6Native === true;
  if (native) {
    // AWS: an IPv6-only subnet has an IPv6 block and no IPv4 one.
    if (input.CidrBlock !== undefined || input.Ipv4IpamPoolId !== undefined || input.Ipv4NetmaskLength !== undefined) {
      throw Errors.invalidParameterCombination('An IPv4 CIDR block cannot be specified for an IPv6-only subnet (Ipv6Native).');
    }
    if (input.Ipv6CidrBlock === undefined) throw Errors.missingParameter("Either 'ipv6CidrBlock' or 'ipv6IpamPoolId' should be provided.");
  }
  const ipv6 = input.Ipv6CidrBlock !== undefined ? await checkSubnetIpv6Block(ctx, vpc.id, input.Ipv6CidrBlock) : undefined;
  const cidr = native ? undefined : parseBlock(input.CidrBlock, 'CidrBlock', Errors.invalidSubnetRange);
  const zone =
    input.AvailabilityZone !== undefined || input.AvailabilityZoneId !== undefined
      ? findZone(ctx.region, { name: input.AvailabilityZone, id: input.AvailabilityZoneId })
      : await nextZone(ctx, vpc.id);
  const id = await insertSubnet(ctx, { vpcId: vpc.id, cidr, zone, defaultForAz: false, mapPublicIpOnLaunch: false });
  if (ipv6) {
    await ctx.tx.updateTable('subnets').set({ ipv6_cidr_block: ipv6, ipv6_association_id: newId('subnet-cidr-assoc') }).where('id', '=', id).execute();
  }
  if (native) {
    // AWS: instances in an IPv6-only subnet are named after their id.
    await ctx.tx.updateTable('subnets').set({ ipv6_native: 1, hostname_type: 'resource-name' }).where('id', '=', id).execute();
  }
  await applyTagSpecifications(ctx, 'subnet', id, input.TagSpecifications);
  return { Subnet: (await subnetsOf(ctx.tx, [await getSubnet(ctx, id)]))[0] };
}

/** AWS picks a zone when none is named; spread a VPC's subnets over the zones in turn. */
async function nextZone(ctx: Context, vpcId: string): Promise<Zone> {
  const { count } = await ctx.tx
    .selectFrom('subnets')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('vpc_id', '=', vpcId)
    .executeTakeFirstOrThrow();
  const zones = zonesOf(ctx.region);
  return zones[Number(count) % zones.length];
}

/** Inserts a subnet after AWS's checks: inside a VPC block, no overlap, within the quota. */
export async function insertSubnet(
  ctx: Context,
  subnet: { vpcId: string; cidr?: Ipv4Cidr; zone: Zone; defaultForAz: boolean; mapPublicIpOnLaunch: boolean },
): Promise<string> {
  const { count } = await ctx.tx
    .selectFrom('subnets')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('vpc_id', '=', subnet.vpcId)
    .executeTakeFirstOrThrow();
  if (subnet.cidr) await checkIpv4Block(ctx, subnet.vpcId, subnet.cidr);
  if (Number(count) >= ctx.config.quotas.subnetsPerVpc) throw Errors.subnetLimitExceeded();
  const range = subnet.cidr ? { first: subnet.cidr.network, last: lastAddress(subnet.cidr) } : NO_IPV4_RANGE;

  const id = newId('subnet');
  await ctx.tx
    .insertInto('subnets')
    .values({
      id,
      account_id: ctx.account,
      region: ctx.region,
      vpc_id: subnet.vpcId,
      cidr_block: subnet.cidr ? formatIpv4Cidr(subnet.cidr) : '',
      first_address: range.first,
      last_address: range.last,
      availability_zone: subnet.zone.name,
      availability_zone_id: subnet.zone.id,
      state: 'available',
      default_for_az: subnet.defaultForAz ? 1 : 0,
      map_public_ip_on_launch: subnet.mapPublicIpOnLaunch ? 1 : 0,
      assign_ipv6_address_on_creation: 0,
      available_ip_address_count: 0,
      created_at: ctx.now.toISOString(),
    })
    .execute();
  if (subnet.cidr) {
    const available = await initialiseSubnetRange(ctx.tx, id, subnet.cidr);
    await ctx.tx.updateTable('subnets').set({ available_ip_address_count: available }).where('id', '=', id).execute();
  }
  await associateDefaultAcl(ctx, id, subnet.vpcId);
  return id;
}

/** AWS: an IPv4 block inside one of the VPC's blocks, overlapping no other subnet's. */
async function checkIpv4Block(ctx: Context, vpcId: string, cidr: Ipv4Cidr): Promise<void> {
  const subnet = { vpcId, cidr };
  const text = formatIpv4Cidr(subnet.cidr);
  const blocks = await ctx.tx
    .selectFrom('vpc_cidr_blocks')
    .select('cidr_block')
    .where('vpc_id', '=', subnet.vpcId)
    .where('family', '=', 4)
    .where('state', '=', 'associated')
    .execute();
  if (!blocks.some((b) => containsCidr(parseIpv4Cidr(b.cidr_block)!, subnet.cidr))) throw Errors.invalidSubnetRange(text);
  const first = subnet.cidr.network;
  const last = lastAddress(subnet.cidr);
  const conflict = await ctx.tx
    .selectFrom('subnets')
    .select('id')
    .where('vpc_id', '=', subnet.vpcId)
    .where('first_address', '<=', last)
    .where('last_address', '>=', first)
    .executeTakeFirst();
  if (conflict) throw Errors.invalidSubnetConflict(text);
}

/** The caller's subnet, or the EC2 error for a malformed or unknown id. */
export async function getSubnet(ctx: Context, id: string | undefined, parameter = 'SubnetId'): Promise<Row<'subnets'>> {
  return getOwned(ctx, { table: 'subnets', prefix: 'subnet', errors: Errors.subnetId }, id, parameter);
}

const subnetArn = (row: Row<'subnets'>) => `arn:aws:ec2:${row.region}:${row.account_id}:subnet/${row.id}`;

export async function subnetsOf(tx: Tx, rows: Row<'subnets'>[]): Promise<Subnet[]> {
  const tags = await tagsOf(tx, rows.map((r) => r.id));
  return rows.map((row) => ({
    SubnetId: row.id,
    SubnetArn: subnetArn(row),
    VpcId: row.vpc_id,
    OwnerId: row.account_id,
    CidrBlock: row.cidr_block || undefined,
    AvailabilityZone: row.availability_zone,
    AvailabilityZoneId: row.availability_zone_id,
    AvailableIpAddressCount: Number(row.available_ip_address_count),
    DefaultForAz: row.default_for_az === 1,
    MapPublicIpOnLaunch: row.map_public_ip_on_launch === 1,
    MapCustomerOwnedIpOnLaunch: false,
    AssignIpv6AddressOnCreation: row.assign_ipv6_address_on_creation === 1,
    Ipv6CidrBlockAssociationSet: row.ipv6_cidr_block
      ? [{ AssociationId: row.ipv6_association_id!, Ipv6CidrBlock: row.ipv6_cidr_block, Ipv6CidrBlockState: { State: 'associated' } }]
      : [],
    EnableDns64: Number(row.enable_dns64) === 1,
    Ipv6Native: isIpv6Only(row),
    PrivateDnsNameOptionsOnLaunch: {
      HostnameType: row.hostname_type as HostnameType,
      EnableResourceNameDnsARecord: Number(row.resource_name_dns_a) === 1,
      EnableResourceNameDnsAAAARecord: Number(row.resource_name_dns_aaaa) === 1,
    },
    State: row.state as Subnet['State'],
    Tags: tags.get(row.id) ?? [],
  }));
}

export async function describeSubnets(ctx: Context, input: DescribeSubnetsRequest): Promise<DescribeSubnetsResult> {
  checkIds('subnet', Errors.subnetId, input.SubnetIds ?? []);
  const page = await describeRows<Row<'subnets'>>(ctx.tx, {
    table: 'subnets',
    account: ctx.account,
    region: ctx.region,
    ids: input.SubnetIds,
    idErrors: Errors.subnetId,
    filters: input.Filters,
    spec: SUBNET_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { Subnets: await subnetsOf(ctx.tx, page.rows), NextToken: page.nextToken };
}

export async function deleteSubnet(ctx: Context, input: DeleteSubnetRequest): Promise<Record<string, never>> {
  const subnet = await getSubnet(ctx, input.SubnetId);
  // AWS: a subnet cannot be deleted while network interfaces (attached or not) live in it.
  const eni = await ctx.tx.selectFrom('network_interfaces').select('id').where('subnet_id', '=', subnet.id).executeTakeFirst();
  if (eni) {
    throw Errors.dependencyViolation(`The subnet '${subnet.id}' has dependencies and cannot be deleted.`);
  }
  await forgetSubnetReservations(ctx, subnet.id);
  await forgetSubnet(ctx, subnet.id);
  await forgetSubnetAcl(ctx, subnet.id);
  await ctx.tx.deleteFrom('subnet_free_ranges').where('subnet_id', '=', subnet.id).execute();
  await ctx.tx.deleteFrom('subnets').where('id', '=', subnet.id).execute();
  await deleteAllTags(ctx, subnet.id);
  return {};
}

export async function modifySubnetAttribute(ctx: Context, input: ModifySubnetAttributeRequest): Promise<Record<string, never>> {
  const subnet = await getSubnet(ctx, input.SubnetId);
  const given = [
    input.MapPublicIpOnLaunch,
    input.AssignIpv6AddressOnCreation,
    input.MapCustomerOwnedIpOnLaunch,
    input.EnableDns64,
    input.EnableResourceNameDnsARecordOnLaunch,
    input.EnableResourceNameDnsAAAARecordOnLaunch,
    input.PrivateDnsHostnameTypeOnLaunch,
    input.EnableLniAtDeviceIndex,
    input.DisableLniAtDeviceIndex,
  ].filter((v) => v !== undefined);
  // AWS: one attribute per call.
  if (given.length !== 1) {
    throw Errors.invalidParameterCombination('Exactly one attribute must be specified per ModifySubnetAttribute call.');
  }
  // Attributes of Outposts eni-local does not model are accepted only at their AWS defaults, so that
  // tools which always send them (Terraform sets every one) work, and nothing is silently dropped.
  if (input.MapCustomerOwnedIpOnLaunch?.Value === true) throw Errors.unsupported('The subnet attribute MapCustomerOwnedIpOnLaunch is not supported by eni-local.');
  if (input.EnableLniAtDeviceIndex !== undefined) throw Errors.unsupported('The subnet attribute EnableLniAtDeviceIndex is not supported by eni-local.');
  const set = (values: Partial<Row<'subnets'>>) => ctx.tx.updateTable('subnets').set(values).where('id', '=', subnet.id).execute();
  const flag = (value: { Value?: boolean }) => (value.Value === true ? 1 : 0);
  const ipv6Only = isIpv6Only(subnet);
  if (input.MapPublicIpOnLaunch) {
    // AWS: an IPv6-only subnet has no IPv4 to map a public address to.
    if (ipv6Only && input.MapPublicIpOnLaunch.Value) throw Errors.invalidParameterValue(`Subnet ${subnet.id} is IPv6-only; MapPublicIpOnLaunch cannot be enabled.`);
    await set({ map_public_ip_on_launch: flag(input.MapPublicIpOnLaunch) });
  }
  if (input.AssignIpv6AddressOnCreation) {
    const on = input.AssignIpv6AddressOnCreation.Value === true;
    // AWS: the subnet must have an IPv6 block first.
    if (on && !subnet.ipv6_cidr_block) {
      throw Errors.invalidParameterValue(
        `Invalid value 'true' for assign-ipv6-address-on-creation. Cannot set assign-ipv6-address-on-creation to true unless the subnet (${subnet.id}) has an IPv6 CIDR block associated with it.`,
      );
    }
    await set({ assign_ipv6_address_on_creation: on ? 1 : 0 });
  }
  if (input.EnableDns64) {
    // AWS: DNS64 synthesises AAAA answers for IPv6 clients; the subnet needs an IPv6 block.
    if (input.EnableDns64.Value && !subnet.ipv6_cidr_block) throw Errors.invalidParameterValue(`DNS64 cannot be enabled on subnet ${subnet.id}, which has no IPv6 CIDR block.`);
    await set({ enable_dns64: flag(input.EnableDns64) });
  }
  if (input.PrivateDnsHostnameTypeOnLaunch !== undefined) {
    const type = input.PrivateDnsHostnameTypeOnLaunch;
    if (type !== 'ip-name' && type !== 'resource-name') throw Errors.invalidParameterValueFor('PrivateDnsHostnameTypeOnLaunch', type);
    // AWS: an instance in an IPv6-only subnet has no IPv4 address to be named after.
    if (ipv6Only && type === 'ip-name') throw Errors.invalidParameterValue(`Subnet ${subnet.id} is IPv6-only; its hostname type must be resource-name.`);
    await set({ hostname_type: type });
  }
  if (input.EnableResourceNameDnsARecordOnLaunch) {
    if (ipv6Only && input.EnableResourceNameDnsARecordOnLaunch.Value) {
      throw Errors.invalidParameterValue(`Subnet ${subnet.id} is IPv6-only; DNS A records for resource names cannot be enabled.`);
    }
    await set({ resource_name_dns_a: flag(input.EnableResourceNameDnsARecordOnLaunch) });
  }
  if (input.EnableResourceNameDnsAAAARecordOnLaunch) {
    if (!subnet.ipv6_cidr_block && input.EnableResourceNameDnsAAAARecordOnLaunch.Value) {
      throw Errors.invalidParameterValue(`Subnet ${subnet.id} has no IPv6 CIDR block; DNS AAAA records for resource names cannot be enabled.`);
    }
    await set({ resource_name_dns_aaaa: flag(input.EnableResourceNameDnsAAAARecordOnLaunch) });
  }
  return {};
}
