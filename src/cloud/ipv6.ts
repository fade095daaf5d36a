/**
 * IPv6 and secondary IPv4 blocks: AssociateVpcCidrBlock / DisassociateVpcCidrBlock (an
 * Amazon-provided /56, or a secondary IPv4 block), AssociateSubnetCidrBlock /
 * DisassociateSubnetCidrBlock (a /64 inside the VPC's /56), AssignIpv6Addresses /
 * UnassignIpv6Addresses, and the IPv6 part of creating interfaces.
 *
 * AWS: the first four and the last address of a subnet's /64 are reserved; an IPv6 address
 * is unique in its VPC and cannot move between interfaces while assigned; while attached, an
 * interface holds at most its instance type's IPv6-per-interface figure (a /80 prefix counts
 * as one); a subnet with AssignIpv6AddressOnCreation gives each new interface one address.
 */
import type {
  AssignIpv6AddressesRequest,
  AssignIpv6AddressesResult,
  AssociateSubnetCidrBlockRequest,
  AssociateSubnetCidrBlockResult,
  AssociateVpcCidrBlockRequest,
  AssociateVpcCidrBlockResult,
  DisassociateSubnetCidrBlockRequest,
  DisassociateSubnetCidrBlockResult,
  DisassociateVpcCidrBlockRequest,
  DisassociateVpcCidrBlockResult,
  UnassignIpv6AddressesRequest,
  UnassignIpv6AddressesResult,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { containsCidr, formatIpv4Cidr, overlaps, parseIpv4Cidr } from '../ipam/ipv4.ts';
import {
  containsAddress6,
  containsCidr6,
  formatIpv6,
  formatIpv6Cidr,
  lastAddress6,
  parseIpv6,
  parseIpv6Cidr,
  randomHostAddress,
  randomSubBlock,
  type Ipv6Cidr,
} from '../ipam/ipv6.ts';
import type { Row } from '../store/schema.ts';
import { execute, selectFirst, rowsText } from '../store/sql-text.ts';
import type { Context } from './context.ts';
import { getInterface, refuseIfManaged, MAX_IPV4_PER_INTERFACE, typeOf } from './network-interfaces.ts';
import { addIpv6AclRules } from './network-acls.ts';
import { allowAllIpv6Egress } from './security-groups.ts';
import { addLocalRoutes, removeLocalRoutes } from './route-tables.ts';
import { newId } from './rules/ids.ts';
import { getSubnet } from './subnets.ts';
import { ipv6ReservationsOf } from './subnet-cidr-reservations.ts';
import { getVpc, parseBlock } from './vpcs.ts';

type InterfaceRow = Row<'network_interfaces'>;

/** Where Amazon-provided /56 blocks come from: the documentation prefix, never a real network. */
export const AMAZON_IPV6_POOL = '2001:db8::/32';
const CIDR_BLOCKS_PER_VPC = 5;
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

// --- VPC blocks ----------------------------------------------------------------------------------

/** Gives a VPC an Amazon-provided /56, unique across the server. */
export async function addAmazonIpv6Block(ctx: Context, vpcId: string): Promise<{ associationId: string; cidr: string }> {
  const pool = parseIpv6Cidr(AMAZON_IPV6_POOL)!;
  for (;;) {
    const cidr = formatIpv6Cidr(randomSubBlock(pool, 56));
    const taken = await ctx.tx.selectFrom('vpc_cidr_blocks').select('association_id').where('cidr_block', '=', cidr).executeTakeFirst();
    if (taken) continue;
    const associationId = newId('vpc-cidr-assoc');
    await ctx.tx
      .insertInto('vpc_cidr_blocks')
      .values({ association_id: associationId, account_id: ctx.account, region: ctx.region, vpc_id: vpcId, cidr_block: cidr, family: 6, state: 'associated', is_primary: 0 })
      .execute();
    await addLocalRoutes(ctx, vpcId, cidr, 6);
    await addIpv6AclRules(ctx, vpcId);
    const defaultGroup = await ctx.tx.selectFrom('security_groups').select('id').where('vpc_id', '=', vpcId).where('is_vpc_default', '=', 1).executeTakeFirst();
    if (defaultGroup) await allowAllIpv6Egress(ctx, defaultGroup.id);
    return { associationId, cidr };
  }
}

async function blocksOf(ctx: Context, vpcId: string, family: 4 | 6) {
  return ctx.tx.selectFrom('vpc_cidr_blocks').selectAll().where('vpc_id', '=', vpcId).where('family', '=', family).execute();
}

export async function associateVpcCidrBlock(ctx: Context, input: AssociateVpcCidrBlockRequest): Promise<AssociateVpcCidrBlockResult> {
  const vpc = await getVpc(ctx, input.VpcId);
  const ipv6 = input.AmazonProvidedIpv6CidrBlock === true;
  if (ipv6 === (input.CidrBlock !== undefined)) {
    throw Errors.invalidParameterCombination('Specify either CidrBlock or AmazonProvidedIpv6CidrBlock.');
  }
  if (input.Ipv6CidrBlock !== undefined || input.Ipv6Pool !== undefined || input.Ipv4IpamPoolId !== undefined || input.Ipv6IpamPoolId !== undefined) {
    throw Errors.unsupported('BYOIP and IPAM pools are not supported by eni-local; use AmazonProvidedIpv6CidrBlock or CidrBlock.');
  }
  const family = ipv6 ? 6 : 4;
  const existing = await blocksOf(ctx, vpc.id, family);
  if (existing.length >= CIDR_BLOCKS_PER_VPC) {
    throw Errors.cidrLimitExceeded(`The VPC ${vpc.id} already has the maximum number of IPv${family} CIDR blocks (${CIDR_BLOCKS_PER_VPC}).`);
  }
  if (ipv6) {
    const { associationId, cidr } = await addAmazonIpv6Block(ctx, vpc.id);
    return {
      VpcId: vpc.id,
      Ipv6CidrBlockAssociation: { AssociationId: associationId, Ipv6CidrBlock: cidr, Ipv6CidrBlockState: { State: 'associated' }, NetworkBorderGroup: ctx.region, Ipv6Pool: 'Amazon' },
    };
  }
  const block = parseBlock(input.CidrBlock, 'CidrBlock', Errors.invalidVpcRange);
  const text = formatIpv4Cidr(block);
  if (existing.some((b) => overlaps(parseIpv4Cidr(b.cidr_block)!, block))) {
    throw Errors.invalidVpcRange(text, `The CIDR '${text}' overlaps a CIDR block of ${vpc.id}.`);
  }
  // AWS: a VPC's private blocks come from one RFC 1918 range (publicly routable and 100.64.0.0/10 blocks are allowed).
  const rangeOf = (cidr: string) => PRIVATE_RANGES.find((r) => containsCidr(parseIpv4Cidr(r)!, parseIpv4Cidr(cidr)!));
  const primaryRange = rangeOf(vpc.cidr_block);
  const wanted = rangeOf(text);
  if (primaryRange && wanted && wanted !== primaryRange) {
    throw Errors.invalidVpcRange(
      text,
      `The CIDR '${text}' is restricted. Use a CIDR from the same private address range as the current VPC CIDR, or use a publicly-routable CIDR.`,
    );
  }
  const associationId = newId('vpc-cidr-assoc');
  await ctx.tx
    .insertInto('vpc_cidr_blocks')
    .values({ association_id: associationId, account_id: ctx.account, region: ctx.region, vpc_id: vpc.id, cidr_block: text, family: 4, state: 'associated', is_primary: 0 })
    .execute();
  await addLocalRoutes(ctx, vpc.id, text, 4);
  return { VpcId: vpc.id, CidrBlockAssociation: { AssociationId: associationId, CidrBlock: text, CidrBlockState: { State: 'associated' } } };
}

export async function disassociateVpcCidrBlock(ctx: Context, input: DisassociateVpcCidrBlockRequest): Promise<DisassociateVpcCidrBlockResult> {
  const id = input.AssociationId;
  if (id === undefined) throw Errors.missingParameter('AssociationId');
  const block = await ctx.tx
    .selectFrom('vpc_cidr_blocks')
    .selectAll()
    .where('association_id', '=', id)
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .executeTakeFirst();
  if (!block) throw Errors.vpcCidrAssociationNotFound(id);
  // AWS: the primary IPv4 block stays with the VPC for its life.
  if (block.is_primary === 1) throw Errors.operationNotPermitted(`The primary CIDR block ${block.cidr_block} of ${block.vpc_id} cannot be disassociated.`);
  const subnets = await ctx.tx.selectFrom('subnets').selectAll().where('vpc_id', '=', block.vpc_id).execute();
  const used =
    block.family === 6
      ? subnets.some((s) => s.ipv6_cidr_block && containsCidr6(parseIpv6Cidr(block.cidr_block)!, parseIpv6Cidr(s.ipv6_cidr_block)!))
      : subnets.some((s) => s.cidr_block !== '' && overlaps(parseIpv4Cidr(block.cidr_block)!, parseIpv4Cidr(s.cidr_block)!));
  if (used) throw Errors.invalidCidrBlockInUse(`The CIDR block ${block.cidr_block} is in use by subnets of ${block.vpc_id}.`);
  await ctx.tx.deleteFrom('vpc_cidr_blocks').where('association_id', '=', id).execute();
  await removeLocalRoutes(ctx, block.vpc_id, block.cidr_block);
  return block.family === 6
    ? {
        VpcId: block.vpc_id,
        Ipv6CidrBlockAssociation: { AssociationId: id, Ipv6CidrBlock: block.cidr_block, Ipv6CidrBlockState: { State: 'disassociated' } },
      }
    : { VpcId: block.vpc_id, CidrBlockAssociation: { AssociationId: id, CidrBlock: block.cidr_block, CidrBlockState: { State: 'disassociated' } } };
}

// --- subnet blocks -------------------------------------------------------------------------------

/** Validates a subnet /64: inside one of the VPC's IPv6 blocks, used by no other subnet. */
export async function checkSubnetIpv6Block(ctx: Context, vpcId: string, text: string): Promise<string> {
  const cidr = parseIpv6Cidr(text);
  if (!cidr) throw Errors.invalidParameterValueFor('Ipv6CidrBlock', text, 'This is not a valid IPv6 CIDR block.');
  const canonical = formatIpv6Cidr(cidr);
  // AWS: a subnet's IPv6 block is exactly a /64.
  if (cidr.prefix !== 64) throw Errors.invalidSubnetRange(canonical);
  const blocks = await blocksOf(ctx, vpcId, 6);
  if (!blocks.length) throw Errors.invalidParameterValue(`The VPC ${vpcId} has no IPv6 CIDR block.`);
  if (!blocks.some((b) => containsCidr6(parseIpv6Cidr(b.cidr_block)!, cidr))) throw Errors.invalidSubnetRange(canonical);
  const taken = await ctx.tx.selectFrom('subnets').select('id').where('vpc_id', '=', vpcId).where('ipv6_cidr_block', '=', canonical).executeTakeFirst();
  if (taken) throw Errors.invalidSubnetConflict(canonical);
  return canonical;
}

export async function associateSubnetCidrBlock(ctx: Context, input: AssociateSubnetCidrBlockRequest): Promise<AssociateSubnetCidrBlockResult> {
  const subnet = await getSubnet(ctx, input.SubnetId);
  if (input.Ipv6CidrBlock === undefined) throw Errors.missingParameter('Ipv6CidrBlock');
  // AWS: a subnet has at most one IPv6 block.
  if (subnet.ipv6_cidr_block) throw Errors.invalidParameterValue(`The subnet ${subnet.id} already has an IPv6 CIDR block.`);
  const cidr = await checkSubnetIpv6Block(ctx, subnet.vpc_id, input.Ipv6CidrBlock);
  const associationId = newId('subnet-cidr-assoc');
  await ctx.tx.updateTable('subnets').set({ ipv6_cidr_block: cidr, ipv6_association_id: associationId }).where('id', '=', subnet.id).execute();
  return { SubnetId: subnet.id, Ipv6CidrBlockAssociation: { AssociationId: associationId, Ipv6CidrBlock: cidr, Ipv6CidrBlockState: { State: 'associated' } } };
}

export async function disassociateSubnetCidrBlock(ctx: Context, input: DisassociateSubnetCidrBlockRequest): Promise<DisassociateSubnetCidrBlockResult> {
  const id = input.AssociationId;
  if (id === undefined) throw Errors.missingParameter('AssociationId');
  const subnet = await ctx.tx
    .selectFrom('subnets')
    .selectAll()
    .where('ipv6_association_id', '=', id)
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .executeTakeFirst();
  if (!subnet) throw Errors.subnetCidrAssociationNotFound(id);
  // AWS: an IPv6-only subnet's /64 is its only block.
  if (Number(subnet.ipv6_native) === 1) throw Errors.invalidCidrBlockInUse(`The IPv6 CIDR block of IPv6-only subnet ${subnet.id} cannot be disassociated.`);
  const used = await ctx.tx.selectFrom('ipv6_addresses').select('address').where('subnet_id', '=', subnet.id).executeTakeFirst();
  if (used) throw Errors.invalidCidrBlockInUse(`The IPv6 CIDR block of ${subnet.id} has addresses in use.`);
  if (subnet.assign_ipv6_address_on_creation === 1) {
    throw Errors.invalidCidrBlockInUse(
      `The subnet IPv6 CIDR block with association ID ${id} may not be disassociated, because its subnet has assign-ipv6-address-on-creation set to true.`,
    );
  }
  await ctx.tx
    .updateTable('subnets')
    .set({ ipv6_cidr_block: null, ipv6_association_id: null, assign_ipv6_address_on_creation: 0 })
    .where('id', '=', subnet.id)
    .execute();
  return { SubnetId: subnet.id, Ipv6CidrBlockAssociation: { AssociationId: id, Ipv6CidrBlock: subnet.ipv6_cidr_block!, Ipv6CidrBlockState: { State: 'disassociated' } } };
}

// --- interface addresses ---------------------------------------------------------------------------

function subnetBlock(subnet: Row<'subnets'>): Ipv6Cidr {
  if (!subnet.ipv6_cidr_block) throw Errors.invalidParameterValue(`The subnet ${subnet.id} has no IPv6 CIDR block.`);
  return parseIpv6Cidr(subnet.ipv6_cidr_block)!;
}

async function ipv6SlotsUsed(ctx: Context, eniId: string): Promise<number> {
  const { n } = await ctx.tx.selectFrom('ipv6_addresses').select((eb) => eb.fn.countAll<number>().as('n')).where('network_interface_id', '=', eniId).executeTakeFirstOrThrow();
  return Number(n);
}

async function ipv6SlotLimit(ctx: Context, eni: Pick<InterfaceRow, 'instance_id'>): Promise<number> {
  if (!eni.instance_id) return MAX_IPV4_PER_INTERFACE;
  const instance = await ctx.tx.selectFrom('instances').select('instance_type').where('id', '=', eni.instance_id).executeTakeFirstOrThrow();
  return typeOf(instance).ipv6AddressesPerInterface;
}

/** Checks an interface can take `adding` more IPv6 addresses or prefixes. */
export async function checkIpv6Room(ctx: Context, eni: Pick<InterfaceRow, 'id' | 'instance_id'>, adding: number): Promise<void> {
  const limit = await ipv6SlotLimit(ctx, eni);
  if ((await ipv6SlotsUsed(ctx, eni.id)) + adding > limit) {
    throw Errors.invalidParameterValue(`Interface ${eni.id} would exceed its limit of ${limit} IPv6 addresses.`);
  }
}

/**
 * Assigns IPv6 addresses (the given ones, then `count` random ones) and `prefixCount` random /80
 * prefixes (or the given ones) to an interface; returns what was assigned.
 */
const IPV6_IN_VPC = 'select "address" from "ipv6_addresses" where "vpc_id" = ? and "address" = ?';
const INSERT_IPV6 = rowsText(
  8,
  (rows) =>
    'insert into "ipv6_addresses" ("address", "kind", "vpc_id", "subnet_id", "network_interface_id", "is_primary", "account_id", "region") ' +
    `values ${rows}`,
);

export async function assignIpv6(
  ctx: Context,
  eni: Pick<InterfaceRow, 'id' | 'vpc_id'>,
  subnet: Row<'subnets'>,
  request: { addresses: readonly string[]; count: number; prefixes: readonly string[]; prefixCount: number },
): Promise<{ addresses: string[]; prefixes: string[] }> {
  const block = subnetBlock(subnet);
  const rows: { address: string; kind: 'address' | 'prefix' }[] = [];
  // AWS never picks a reserved address or prefix on its own; prefixes by count come from `prefix` reservations first.
  const reservations = request.count || request.prefixCount ? await ipv6ReservationsOf(ctx.tx, subnet.id) : [];
  const reserved = (cidr: Ipv6Cidr) => reservations.some((r) => cidr.network <= lastAddress6(r.cidr) && r.cidr.network <= lastAddress6(cidr));
  const prefixAreas = reservations.filter((r) => r.prefix && r.cidr.prefix <= 80).map((r) => r.cidr);
  const free = async (address: string) =>
    !(await selectFirst<Pick<Row<'ipv6_addresses'>, 'address'>>(ctx.tx, IPV6_IN_VPC, [eni.vpc_id, address])) &&
    !rows.some((r) => r.address === address);
  for (const text of request.addresses) {
    const value = parseIpv6(text);
    if (value === undefined) throw Errors.invalidParameterValueFor('Ipv6Addresses', text, 'This is not a valid IPv6 address.');
    if (!containsAddress6(block, value)) throw Errors.invalidParameterValue(`Address ${text} is not within the subnet's IPv6 block ${subnet.ipv6_cidr_block}.`);
    const offset = value - block.network;
    if (offset < 4n || offset === (1n << 64n) - 1n) throw Errors.invalidParameterValue(`Address ${text} is reserved by AWS in subnet ${subnet.id}.`);
    const canonical = formatIpv6(value);
    // AWS: an IPv6 address held by another interface cannot be taken over; it must be unassigned first.
    if (!(await free(canonical))) throw Errors.ipAddressInUse(canonical);
    rows.push({ address: canonical, kind: 'address' });
  }
  for (let i = 0; i < request.count; i++) {
    let address: string;
    let value: bigint;
    do value = randomHostAddress(block);
    while (reserved({ network: value, prefix: 128 }) || !(await free((address = formatIpv6(value)))));
    rows.push({ address, kind: 'address' });
  }
  for (const text of request.prefixes) {
    const prefix = parseIpv6Cidr(text);
    if (!prefix || prefix.prefix !== 80 || !containsCidr6(block, prefix)) {
      throw Errors.invalidParameterValueFor('Ipv6Prefix', text, 'An IPv6 prefix is a /80 inside the subnet\'s block.');
    }
    const canonical = formatIpv6Cidr(prefix);
    if (!(await free(canonical))) throw Errors.ipAddressInUse(canonical);
    rows.push({ address: canonical, kind: 'prefix' });
  }
  for (let i = 0; i < request.prefixCount; i++) {
    let prefix: string;
    let tries = 0;
    let cidr: Ipv6Cidr;
    let area: Ipv6Cidr | undefined;
    do {
      // A /80 of a prefix reservation while a few tries find a free one, else one outside every reservation.
      area = prefixAreas.length && tries < 64 ? prefixAreas[tries % prefixAreas.length] : undefined;
      cidr = randomSubBlock(area ?? block, 80);
      tries++;
    } while ((area === undefined && reserved(cidr)) || !(await free((prefix = formatIpv6Cidr(cidr)))));
    rows.push({ address: prefix, kind: 'prefix' });
  }
  if (rows.length) {
    const values = rows.flatMap((r) => [r.address, r.kind, eni.vpc_id, subnet.id, eni.id, 0, ctx.account, ctx.region]);
    await execute(ctx.tx, INSERT_IPV6(rows.length), values);
  }
  return { addresses: rows.filter((r) => r.kind === 'address').map((r) => r.address), prefixes: rows.filter((r) => r.kind === 'prefix').map((r) => r.address) };
}

export async function assignIpv6Addresses(ctx: Context, input: AssignIpv6AddressesRequest): Promise<AssignIpv6AddressesResult> {
  const eni = await getInterface(ctx, input.NetworkInterfaceId);
  refuseIfManaged(eni);
  const addresses = input.Ipv6Addresses ?? [];
  const prefixes = input.Ipv6Prefixes ?? [];
  const kinds = [addresses.length > 0, input.Ipv6AddressCount !== undefined, prefixes.length > 0, input.Ipv6PrefixCount !== undefined].filter(Boolean).length;
  if (kinds === 0) throw Errors.missingParameter('Ipv6Addresses, Ipv6AddressCount, Ipv6Prefixes or Ipv6PrefixCount');
  if (kinds > 1) throw Errors.invalidParameterCombination('Specify either IPv6 addresses, an address count, IPv6 prefixes or a prefix count.');
  const count = input.Ipv6AddressCount ?? 0;
  const prefixCount = input.Ipv6PrefixCount ?? 0;
  if (count < 0 || prefixCount < 0) throw Errors.invalidParameterValue('A count cannot be negative.');
  await checkIpv6Room(ctx, eni, addresses.length + count + prefixes.length + prefixCount);
  const subnet = await getSubnet(ctx, eni.subnet_id);
  const assigned = await assignIpv6(ctx, eni, subnet, { addresses, count, prefixes, prefixCount });
  return { NetworkInterfaceId: eni.id, AssignedIpv6Addresses: assigned.addresses, AssignedIpv6Prefixes: assigned.prefixes };
}

export async function unassignIpv6Addresses(ctx: Context, input: UnassignIpv6AddressesRequest): Promise<UnassignIpv6AddressesResult> {
  const eni = await getInterface(ctx, input.NetworkInterfaceId);
  refuseIfManaged(eni);
  const canonical = (text: string, parse: (t: string) => string | undefined) => {
    const value = parse(text);
    if (value === undefined) throw Errors.invalidParameterValueFor('Ipv6Addresses', text);
    return value;
  };
  const addresses = (input.Ipv6Addresses ?? []).map((t) => canonical(t, (x) => (parseIpv6(x) === undefined ? undefined : formatIpv6(parseIpv6(x)!))));
  const prefixes = (input.Ipv6Prefixes ?? []).map((t) => canonical(t, (x) => (parseIpv6Cidr(x) ? formatIpv6Cidr(parseIpv6Cidr(x)!) : undefined)));
  if (!addresses.length && !prefixes.length) throw Errors.missingParameter('Ipv6Addresses or Ipv6Prefixes');
  const wanted = [...addresses, ...prefixes];
  const held = await ctx.tx.selectFrom('ipv6_addresses').select('address').where('network_interface_id', '=', eni.id).where('address', 'in', wanted).execute();
  const missing = wanted.filter((a) => !held.some((h) => h.address === a));
  if (missing.length) throw Errors.invalidParameterValue(`Some of the specified addresses are not assigned to interface ${eni.id}: ${missing.join(', ')}`);
  await ctx.tx.deleteFrom('ipv6_addresses').where('network_interface_id', '=', eni.id).where('address', 'in', wanted).execute();
  return { NetworkInterfaceId: eni.id, UnassignedIpv6Addresses: addresses, UnassignedIpv6Prefixes: prefixes };
}
