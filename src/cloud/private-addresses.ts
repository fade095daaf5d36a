/**
 * Secondary private IPv4 addresses and delegated IPv4 prefixes of an interface:
 * AssignPrivateIpAddresses and UnassignPrivateIpAddresses.
 *
 * AWS: give addresses or a count (or prefixes or a prefix count), never two of them; all or
 * nothing; while the interface is attached, its addresses and prefixes together stay within
 * the instance type's IPv4-per-interface limit (each /28 prefix takes one slot);
 * AllowReassignment moves a secondary address from another interface of the same subnet, its
 * Elastic IP with it; the primary address is never unassigned; unassigning an address
 * disassociates its Elastic IP.
 */
import type {
  AssignPrivateIpAddressesRequest,
  AssignPrivateIpAddressesResult,
  UnassignPrivateIpAddressesRequest,
} from '@aws-sdk/client-ec2';
import { Ec2Error, Errors } from './errors.ts';
import { allocateBlock, allocateSpecificBlock, lookUpForInterface, lookUpForRelease, release, releaseBlock, type LookedUp } from '../ipam/allocator.ts';
import { formatIpv4, formatIpv4Cidr, parseIpv4, parseIpv4Cidr, containsCidr } from '../ipam/ipv4.ts';
import type { Row } from '../store/schema.ts';
import { together } from '../store/in-order.ts';
import { listText, write, selectEach, selectFirst, selectRows, rowsText } from '../store/sql-text.ts';
import { publicAddressesOn, unmapInterface } from './addresses.ts';
import type { Context } from './context.ts';
import { getInterface, refuseIfManaged, MAX_IPV4_PER_INTERFACE, recordAddresses, requestedAddress, takeAddresses, typeOf } from './network-interfaces.ts';
import { getSubnet, isIpv6Only, subnetCidr } from './subnets.ts';

type InterfaceRow = Row<'network_interfaces'>;

/** AWS delegates IPv4 prefixes as /28 blocks. */
export const IPV4_PREFIX_SIZE = 16;

type Count = { n: number | string };
/** One row: `n`, the IPv4 slots the interface (its id given twice) uses. */
export const IPV4_SLOTS_OF_INTERFACE =
  'select (select count(*) from "private_ip_addresses" where "network_interface_id" = ?) + (select count(*) from "ipv4_prefixes" where "network_interface_id" = ?) as "n"';

/** The IPv4 slots an interface may have: its instance type's limit while attached (`instance`, fetched with the interface). */
function ipv4SlotLimit(eni: InterfaceRow, instance: Pick<Row<'instances'>, 'instance_type'> | undefined): number {
  if (!eni.instance_id) return MAX_IPV4_PER_INTERFACE;
  if (!instance) throw new Error(`interface ${eni.id} is attached to ${eni.instance_id}, which does not exist`);
  return typeOf(instance).ipv4AddressesPerInterface;
}

const SUBNET_OF_INTERFACE = 'select "s".* from "subnets" as "s" inner join "network_interfaces" as "n" on "n"."subnet_id" = "s"."id" where "n"."id" = ?';
const INSTANCE_TYPE_OF_INTERFACE =
  'select "i"."instance_type" from "instances" as "i" inner join "network_interfaces" as "n" on "n"."instance_id" = "i"."id" where "n"."id" = ?';

/**
 * What an assignment to interface `id` checks against, by the interface's id alone (so it is
 * fetched beside the interface itself, one round trip on PostgreSQL): its subnet, the IPv4
 * slots it uses, and its instance's type while attached. Read as the caller's only once the
 * interface was found to be the caller's.
 */
async function assignmentContext(ctx: Context, id: string | undefined) {
  if (id === undefined) return undefined;
  const [[subnet], [slots], [instance]] = (await selectEach(ctx.tx, [
    [SUBNET_OF_INTERFACE, [id]],
    [IPV4_SLOTS_OF_INTERFACE, [id, id]],
    [INSTANCE_TYPE_OF_INTERFACE, [id]],
  ])) as [Row<'subnets'>[], Count[], Pick<Row<'instances'>, 'instance_type'>[]];
  return { subnet, slotsUsed: Number(slots?.n ?? 0), instance };
}

const INSERT_PREFIXES = rowsText(
  7,
  (rows) =>
    'insert into "ipv4_prefixes" ("vpc_id", "first_address", "prefix", "subnet_id", "network_interface_id", "account_id", "region") ' +
    `values ${rows}`,
);

/** A /28 prefix the caller asked for, in CIDR form and inside the subnet. */
function checkRequestedPrefix(subnet: Row<'subnets'>, text: string, cidr = subnetCidr(subnet)) {
  const prefix = parseIpv4Cidr(text);
  if (!prefix || prefix.prefix !== 28 || formatIpv4Cidr(prefix) !== text) {
    throw Errors.invalidParameterValueFor('Ipv4Prefix', text, 'An IPv4 prefix is a /28 block in CIDR form.');
  }
  if (!containsCidr(cidr, prefix)) throw Errors.invalidParameterValue(`Prefix ${text} is not within the subnet ${subnet.cidr_block}.`);
  return prefix;
}

/** Delegates /28 prefixes to an interface: the given ones, then `count` more. */
export async function assignIpv4Prefixes(ctx: Context, eni: InterfaceRow, subnet: Row<'subnets'>, requested: readonly string[], count: number): Promise<string[]> {
  const starts: number[] = [];
  const cidr = subnetCidr(subnet);
  for (const text of requested) {
    const prefix = checkRequestedPrefix(subnet, text, cidr);
    if (!(await allocateSpecificBlock(ctx.tx, subnet.id, prefix.network, IPV4_PREFIX_SIZE))) {
      throw Errors.invalidParameterValue(`Prefix ${text} overlaps addresses that are in use or reserved.`);
    }
    starts.push(prefix.network);
  }
  for (let i = 0; i < count; i++) {
    const start = await allocateBlock(ctx.tx, subnet.id, IPV4_PREFIX_SIZE);
    // AWS answers InsufficientCidrBlocks when no free /28 is left; the subnet's message is the same idea.
    if (start === undefined) throw Errors.insufficientCidrBlocks();
    starts.push(start);
  }
  if (starts.length) {
    const values = starts.flatMap((start) => [eni.vpc_id, start, `${formatIpv4(start)}/28`, subnet.id, eni.id, ctx.account, ctx.region]);
    await write(ctx.tx, INSERT_PREFIXES(starts.length), values);
  }
  return starts.map((start) => `${formatIpv4(start)}/28`);
}

const PREFIXES_OF_INTERFACE = 'select * from "ipv4_prefixes" where "network_interface_id" = ?';
const SOME_PREFIXES_OF_INTERFACE = listText((prefixes) => `select * from "ipv4_prefixes" where "network_interface_id" = ? and "prefix" in (${prefixes})`);
const DELETE_PREFIX = 'delete from "ipv4_prefixes" where "vpc_id" = ? and "first_address" = ?';

/** Releases all the prefixes of an interface, or the given ones. */
export async function releaseIpv4Prefixes(ctx: Context, eniId: string, prefixes?: readonly string[]): Promise<void> {
  if (prefixes?.length === 0) return;
  const rows = prefixes
    ? await selectRows<Row<'ipv4_prefixes'>>(ctx.tx, SOME_PREFIXES_OF_INTERFACE(prefixes.length), [eniId, ...prefixes])
    : await selectRows<Row<'ipv4_prefixes'>>(ctx.tx, PREFIXES_OF_INTERFACE, [eniId]);
  for (const row of rows) {
    await write(ctx.tx, DELETE_PREFIX, [row.vpc_id, row.first_address]);
    await releaseBlock(ctx.tx, row.subnet_id, Number(row.first_address), IPV4_PREFIX_SIZE);
  }
}

const ADDRESS_IN_VPC = 'select * from "private_ip_addresses" where "vpc_id" = ? and "address" = ?';
const MOVE_ADDRESS = 'update "private_ip_addresses" set "network_interface_id" = ? where "vpc_id" = ? and "address_int" = ?';
const MOVE_PUBLIC_ADDRESS = 'update "public_addresses" set "network_interface_id" = ? where "network_interface_id" = ? and "private_ip_address" = ?';

/** Moves secondary addresses held by other interfaces of the subnet to `eni` (AllowReassignment). */
async function reassign(ctx: Context, eni: InterfaceRow, addresses: readonly string[]): Promise<string[]> {
  const moved: string[] = [];
  for (const address of addresses) {
    const holder = await selectFirst<Row<'private_ip_addresses'>>(ctx.tx, ADDRESS_IN_VPC, [eni.vpc_id, address]);
    if (!holder) continue;
    if (holder.network_interface_id === eni.id) {
      throw Errors.invalidParameterValue(`Address ${address} is already assigned to network interface ${eni.id}.`);
    }
    // AWS: only a secondary address of the same subnet can move; a primary never does.
    if (holder.is_primary === 1 || holder.subnet_id !== eni.subnet_id) {
      throw Errors.invalidParameterValue(`Address ${address} is the primary address of ${holder.network_interface_id} or in another subnet, and cannot be reassigned.`);
    }
    await write(ctx.tx, MOVE_ADDRESS, [eni.id, holder.vpc_id, holder.address_int]);
    // The Elastic IP on the address moves with it.
    await write(ctx.tx, MOVE_PUBLIC_ADDRESS, [eni.id, holder.network_interface_id, address]);
    moved.push(address);
  }
  return moved;
}

export async function assignPrivateIpAddresses(ctx: Context, input: AssignPrivateIpAddressesRequest): Promise<AssignPrivateIpAddressesResult> {
  // A count alone (the common case) takes from the subnet's lowest free range: looked up here too.
  const byCount = !input.PrivateIpAddresses?.length && !input.AllowReassignment && !input.Ipv4Prefixes?.length && input.Ipv4PrefixCount === undefined;
  const [eni, near, looked] = await together(
    () => getInterface(ctx, input.NetworkInterfaceId),
    () => assignmentContext(ctx, input.NetworkInterfaceId),
    async () => (byCount && input.NetworkInterfaceId !== undefined ? lookUpForInterface(ctx.tx, input.NetworkInterfaceId) : undefined),
  );
  refuseIfManaged(eni);
  const addresses = input.PrivateIpAddresses ?? [];
  const prefixes = input.Ipv4Prefixes ?? [];
  const given = [addresses.length > 0, input.SecondaryPrivateIpAddressCount !== undefined, prefixes.length > 0, input.Ipv4PrefixCount !== undefined];
  const kinds = given.filter(Boolean).length;
  if (kinds === 0) throw Errors.missingParameter('PrivateIpAddress, SecondaryPrivateIpAddressCount, Ipv4Prefix or Ipv4PrefixCount');
  // AWS: addresses, an address count, prefixes and a prefix count exclude one another.
  if (kinds > 1) {
    throw Errors.invalidParameterCombination('Specify either private IP addresses, a secondary address count, IPv4 prefixes or an IPv4 prefix count.');
  }
  const count = input.SecondaryPrivateIpAddressCount ?? 0;
  const prefixCount = input.Ipv4PrefixCount ?? 0;
  if (count < 0 || prefixCount < 0) throw Errors.invalidParameterValue('A count cannot be negative.');
  if (input.SecondaryPrivateIpAddressCount === 0 || input.Ipv4PrefixCount === 0) throw Errors.invalidParameterValue('A count must be at least 1.');

  // AWS checks what was asked for before the limit: an address outside the subnet is
  // InvalidParameterValue even on an interface that is already full.
  const subnet = near?.subnet ?? (await getSubnet(ctx, eni.subnet_id));
  // AWS: an interface in an IPv6-only subnet takes no IPv4 at all.
  if (isIpv6Only(subnet)) throw Errors.ipv6OnlySubnet(subnet.id);
  for (const address of addresses) requestedAddress(subnet, address);
  for (const prefix of prefixes) checkRequestedPrefix(subnet, prefix);
  const adding = addresses.length + count + prefixes.length + prefixCount;
  if ((near?.slotsUsed ?? 0) + adding > ipv4SlotLimit(eni, near?.instance)) {
    throw Errors.privateIpAddressLimitExceeded('Number of private addresses will exceed limit.');
  }
  if (prefixes.length || prefixCount) {
    const assigned = await assignIpv4Prefixes(ctx, eni, subnet, prefixes, prefixCount);
    return { NetworkInterfaceId: eni.id, AssignedPrivateIpAddresses: [], AssignedIpv4Prefixes: assigned.map((Ipv4Prefix) => ({ Ipv4Prefix })) };
  }
  const moved = input.AllowReassignment ? await reassign(ctx, eni, addresses) : [];
  const fresh = addresses.filter((a) => !moved.includes(a));
  const taken = await takeSecondaries(ctx, eni, subnet, fresh, count, looked);
  await recordAddresses(ctx, eni, subnet.id, taken.map((address) => ({ address, primary: false })));
  const assigned = [...moved, ...taken.map(formatIpv4)];
  return { NetworkInterfaceId: eni.id, AssignedPrivateIpAddresses: assigned.map((PrivateIpAddress) => ({ PrivateIpAddress })), AssignedIpv4Prefixes: [] };
}

/** Takes secondary addresses, refusing one in use with AWS's answer for secondaries. */
async function takeSecondaries(ctx: Context, eni: InterfaceRow, subnet: Row<'subnets'>, addresses: readonly string[], count: number, looked?: LookedUp): Promise<number[]> {
  try {
    return await takeAddresses(ctx, subnet, addresses, count, looked);
  } catch (error) {
    // AWS: a secondary address already in use is an InvalidParameterValue (InvalidIPAddress.InUse is for a primary).
    if (error instanceof Ec2Error && error.code === 'InvalidIPAddress.InUse') {
      throw Errors.invalidParameterValue(`${error.message.replace(/\.$/, '')}; use AllowReassignment to move it to ${eni.id}.`);
    }
    throw error;
  }
}

const HELD_ADDRESSES = listText((addresses) => `select * from "private_ip_addresses" where "network_interface_id" = ? and "address" in (${addresses})`);
const DELETE_ADDRESS = 'delete from "private_ip_addresses" where "vpc_id" = ? and "address_int" = ?';

export async function unassignPrivateIpAddresses(ctx: Context, input: UnassignPrivateIpAddressesRequest): Promise<Record<string, never>> {
  const addresses = input.PrivateIpAddresses ?? [];
  const id = input.NetworkInterfaceId;
  // The interface, its addresses named, their public addresses and (for one address) the free
  // ranges it goes back between, fetched at once (one round trip on PostgreSQL); what the
  // interface's id finds counts only once the interface is the caller's.
  const single = addresses.length === 1 ? parseIpv4(addresses[0]) : undefined;
  const [eni, named, mapped, neighbours] = await together(
    () => getInterface(ctx, id),
    async () => (id !== undefined && addresses.length ? selectRows<Row<'private_ip_addresses'>>(ctx.tx, HELD_ADDRESSES(addresses.length), [id, ...addresses]) : []),
    async () => (id !== undefined ? publicAddressesOn(ctx, id, addresses) : []),
    async () => (id !== undefined && single !== undefined ? lookUpForRelease(ctx.tx, id, single) : undefined),
  );
  refuseIfManaged(eni);
  const prefixes = input.Ipv4Prefixes ?? [];
  if (!addresses.length && !prefixes.length) throw Errors.missingParameter('PrivateIpAddress or Ipv4Prefix');
  if (addresses.length && prefixes.length) {
    throw Errors.invalidParameterCombination('Specify either private IP addresses or IPv4 prefixes, not both.');
  }
  if (prefixes.length) {
    const held = await selectRows<Row<'ipv4_prefixes'>>(ctx.tx, SOME_PREFIXES_OF_INTERFACE(prefixes.length), [eni.id, ...prefixes]);
    const missing = prefixes.filter((p) => !held.some((h) => h.prefix === p));
    if (missing.length) throw Errors.invalidParameterValue(`Some of the specified prefixes are not assigned to interface ${eni.id}: ${missing.join(', ')}`);
    await releaseIpv4Prefixes(ctx, eni.id, prefixes);
    return {};
  }
  const rows = named;
  const missing = addresses.filter((a) => !rows.some((r) => r.address === a));
  if (missing.length) throw Errors.invalidParameterValue(`Some of the specified addresses are not assigned to interface ${eni.id}: ${missing.join(', ')}`);
  // AWS: the primary private IPv4 address can never be unassigned.
  if (rows.some((r) => r.is_primary === 1)) throw Errors.invalidParameterValue(`The primary private IP address of ${eni.id} cannot be unassigned.`);
  await unmapInterface(ctx, eni.id, addresses, mapped);
  for (const row of rows) {
    await write(ctx.tx, DELETE_ADDRESS, [row.vpc_id, row.address_int]);
    await release(ctx.tx, row.subnet_id, Number(row.address_int), neighbours);
  }
  return {};
}
