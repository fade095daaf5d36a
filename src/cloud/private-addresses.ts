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
import { Ec2Error, Errors } from '../api/ec2/errors.ts';
import { allocateBlock, allocateSpecificBlock, release, releaseBlock } from '../ipam/allocator.ts';
import { formatIpv4, formatIpv4Cidr, parseIpv4Cidr, containsCidr } from '../ipam/ipv4.ts';
import type { Row } from '../store/schema.ts';
import { unmapInterface } from './addresses.ts';
import type { Context } from './context.ts';
import { getInterface, MAX_IPV4_PER_INTERFACE, recordAddresses, takeAddresses, typeOf } from './network-interfaces.ts';
import { getSubnet, subnetCidr } from './subnets.ts';
import { inOrder } from '../store/in-order.ts';

type InterfaceRow = Row<'network_interfaces'>;

/** AWS delegates IPv4 prefixes as /28 blocks. */
export const IPV4_PREFIX_SIZE = 16;

/** How many IPv4 slots an interface uses: its addresses plus one per prefix. */
export async function ipv4SlotsUsed(ctx: Context, eniId: string): Promise<number> {
  const [addresses, prefixes] = await inOrder(
    () => ctx.tx.selectFrom('private_ip_addresses').select((eb) => eb.fn.countAll<number>().as('n')).where('network_interface_id', '=', eniId).executeTakeFirstOrThrow(),
    () => ctx.tx.selectFrom('ipv4_prefixes').select((eb) => eb.fn.countAll<number>().as('n')).where('network_interface_id', '=', eniId).executeTakeFirstOrThrow(),
  );
  return Number(addresses.n) + Number(prefixes.n);
}

/** The IPv4 slots an interface may have: its instance type's limit while attached. */
async function ipv4SlotLimit(ctx: Context, eni: InterfaceRow): Promise<number> {
  if (!eni.instance_id) return MAX_IPV4_PER_INTERFACE;
  const instance = await ctx.tx.selectFrom('instances').select('instance_type').where('id', '=', eni.instance_id).executeTakeFirstOrThrow();
  return typeOf(instance).ipv4AddressesPerInterface;
}

/** Delegates /28 prefixes to an interface: the given ones, then `count` more. */
export async function assignIpv4Prefixes(ctx: Context, eni: InterfaceRow, subnet: Row<'subnets'>, requested: readonly string[], count: number): Promise<string[]> {
  const starts: number[] = [];
  const cidr = subnetCidr(subnet);
  for (const text of requested) {
    const prefix = parseIpv4Cidr(text);
    if (!prefix || prefix.prefix !== 28 || formatIpv4Cidr(prefix) !== text) {
      throw Errors.invalidParameterValueFor('Ipv4Prefix', text, 'An IPv4 prefix is a /28 block in CIDR form.');
    }
    if (!containsCidr(cidr, prefix)) throw Errors.invalidParameterValue(`Prefix ${text} is not within the subnet ${subnet.cidr_block}.`);
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
    await ctx.tx
      .insertInto('ipv4_prefixes')
      .values(
        starts.map((start) => ({
          vpc_id: eni.vpc_id,
          first_address: start,
          prefix: `${formatIpv4(start)}/28`,
          subnet_id: subnet.id,
          network_interface_id: eni.id,
          account_id: ctx.account,
          region: ctx.region,
        })),
      )
      .execute();
  }
  return starts.map((start) => `${formatIpv4(start)}/28`);
}

/** Releases all the prefixes of an interface, or the given ones. */
export async function releaseIpv4Prefixes(ctx: Context, eniId: string, prefixes?: readonly string[]): Promise<void> {
  let query = ctx.tx.selectFrom('ipv4_prefixes').selectAll().where('network_interface_id', '=', eniId);
  if (prefixes) query = query.where('prefix', 'in', [...prefixes]);
  const rows = await query.execute();
  for (const row of rows) {
    await ctx.tx.deleteFrom('ipv4_prefixes').where('vpc_id', '=', row.vpc_id).where('first_address', '=', row.first_address).execute();
    await releaseBlock(ctx.tx, row.subnet_id, Number(row.first_address), IPV4_PREFIX_SIZE);
  }
}

/** Moves secondary addresses held by other interfaces of the subnet to `eni` (AllowReassignment). */
async function reassign(ctx: Context, eni: InterfaceRow, addresses: readonly string[]): Promise<string[]> {
  const moved: string[] = [];
  for (const address of addresses) {
    const holder = await ctx.tx
      .selectFrom('private_ip_addresses')
      .selectAll()
      .where('vpc_id', '=', eni.vpc_id)
      .where('address', '=', address)
      .executeTakeFirst();
    if (!holder) continue;
    if (holder.network_interface_id === eni.id) {
      throw Errors.invalidParameterValue(`Address ${address} is already assigned to network interface ${eni.id}.`);
    }
    // AWS: only a secondary address of the same subnet can move; a primary never does.
    if (holder.is_primary === 1 || holder.subnet_id !== eni.subnet_id) {
      throw Errors.invalidParameterValue(`Address ${address} is the primary address of ${holder.network_interface_id} or in another subnet, and cannot be reassigned.`);
    }
    await ctx.tx
      .updateTable('private_ip_addresses')
      .set({ network_interface_id: eni.id })
      .where('vpc_id', '=', holder.vpc_id)
      .where('address_int', '=', holder.address_int)
      .execute();
    // The Elastic IP on the address moves with it.
    await ctx.tx
      .updateTable('public_addresses')
      .set({ network_interface_id: eni.id })
      .where('network_interface_id', '=', holder.network_interface_id)
      .where('private_ip_address', '=', address)
      .execute();
    moved.push(address);
  }
  return moved;
}

export async function assignPrivateIpAddresses(ctx: Context, input: AssignPrivateIpAddressesRequest): Promise<AssignPrivateIpAddressesResult> {
  const eni = await getInterface(ctx, input.NetworkInterfaceId);
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

  const adding = addresses.length + count + prefixes.length + prefixCount;
  if ((await ipv4SlotsUsed(ctx, eni.id)) + adding > (await ipv4SlotLimit(ctx, eni))) {
    throw Errors.privateIpAddressLimitExceeded('Number of private addresses will exceed limit.');
  }
  const subnet = await getSubnet(ctx, eni.subnet_id);
  if (prefixes.length || prefixCount) {
    const assigned = await assignIpv4Prefixes(ctx, eni, subnet, prefixes, prefixCount);
    return { NetworkInterfaceId: eni.id, AssignedPrivateIpAddresses: [], AssignedIpv4Prefixes: assigned.map((Ipv4Prefix) => ({ Ipv4Prefix })) };
  }
  const moved = input.AllowReassignment ? await reassign(ctx, eni, addresses) : [];
  const fresh = addresses.filter((a) => !moved.includes(a));
  const taken = await takeSecondaries(ctx, eni, subnet, fresh, count);
  await recordAddresses(ctx, eni, subnet.id, taken.map((address) => ({ address, primary: false })));
  const assigned = [...moved, ...taken.map(formatIpv4)];
  return { NetworkInterfaceId: eni.id, AssignedPrivateIpAddresses: assigned.map((PrivateIpAddress) => ({ PrivateIpAddress })), AssignedIpv4Prefixes: [] };
}

/** Takes secondary addresses, refusing one in use with AWS's answer for secondaries. */
async function takeSecondaries(ctx: Context, eni: InterfaceRow, subnet: Row<'subnets'>, addresses: readonly string[], count: number): Promise<number[]> {
  try {
    return await takeAddresses(ctx, subnet, addresses, count);
  } catch (error) {
    // AWS: a secondary address already in use is an InvalidParameterValue (InvalidIPAddress.InUse is for a primary).
    if (error instanceof Ec2Error && error.code === 'InvalidIPAddress.InUse') {
      throw Errors.invalidParameterValue(`${error.message.replace(/\.$/, '')}; use AllowReassignment to move it to ${eni.id}.`);
    }
    throw error;
  }
}

export async function unassignPrivateIpAddresses(ctx: Context, input: UnassignPrivateIpAddressesRequest): Promise<Record<string, never>> {
  const eni = await getInterface(ctx, input.NetworkInterfaceId);
  const addresses = input.PrivateIpAddresses ?? [];
  const prefixes = input.Ipv4Prefixes ?? [];
  if (!addresses.length && !prefixes.length) throw Errors.missingParameter('PrivateIpAddress or Ipv4Prefix');
  if (addresses.length && prefixes.length) {
    throw Errors.invalidParameterCombination('Specify either private IP addresses or IPv4 prefixes, not both.');
  }
  if (prefixes.length) {
    const held = await ctx.tx.selectFrom('ipv4_prefixes').select('prefix').where('network_interface_id', '=', eni.id).where('prefix', 'in', prefixes).execute();
    const missing = prefixes.filter((p) => !held.some((h) => h.prefix === p));
    if (missing.length) throw Errors.invalidParameterValue(`Some of the specified prefixes are not assigned to interface ${eni.id}: ${missing.join(', ')}`);
    await releaseIpv4Prefixes(ctx, eni.id, prefixes);
    return {};
  }
  const rows = await ctx.tx
    .selectFrom('private_ip_addresses')
    .selectAll()
    .where('network_interface_id', '=', eni.id)
    .where('address', 'in', addresses)
    .execute();
  const missing = addresses.filter((a) => !rows.some((r) => r.address === a));
  if (missing.length) throw Errors.invalidParameterValue(`Some of the specified addresses are not assigned to interface ${eni.id}: ${missing.join(', ')}`);
  // AWS: the primary private IPv4 address can never be unassigned.
  if (rows.some((r) => r.is_primary === 1)) throw Errors.invalidParameterValue(`The primary private IP address of ${eni.id} cannot be unassigned.`);
  await unmapInterface(ctx, eni.id, addresses);
  for (const row of rows) {
    await ctx.tx.deleteFrom('private_ip_addresses').where('vpc_id', '=', row.vpc_id).where('address_int', '=', row.address_int).execute();
    await release(ctx.tx, row.subnet_id, Number(row.address_int));
  }
  return {};
}
