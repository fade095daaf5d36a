/**
 * The Elastic Network Interface: CreateNetworkInterface, DeleteNetworkInterface,
 * DescribeNetworkInterfaces, AttachNetworkInterface, DetachNetworkInterface,
 * Modify/Describe/ResetNetworkInterfaceAttribute — and the interface as part of an instance.
 *
 * AWS: an interface lives in one subnet (so one VPC and one Availability Zone) for its whole
 * life; it keeps its MAC address, private addresses, groups and tags across attachments; it
 * attaches to one instance at a time, in its own zone, within the instance type's limits; the
 * primary interface (device index 0) is never detached.
 */
import { internalDomain } from '../dataplane/aws-names.ts';
import type {
  AttachNetworkInterfaceRequest,
  AttachNetworkInterfaceResult,
  CreateNetworkInterfaceRequest,
  CreateNetworkInterfaceResult,
  DeleteNetworkInterfaceRequest,
  DescribeNetworkInterfaceAttributeRequest,
  DescribeNetworkInterfaceAttributeResult,
  DescribeNetworkInterfacesRequest,
  DescribeNetworkInterfacesResult,
  DetachNetworkInterfaceRequest,
  InstanceNetworkInterface,
  ModifyNetworkInterfaceAttributeRequest,
  NetworkInterface,
  NetworkInterfaceAssociation,
  NetworkInterfaceAttachment,
  InstanceNetworkInterfaceAssociation,
  PrivateIpAddressSpecification,
  ResetNetworkInterfaceAttributeRequest,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { ASSOCIATIONS, assignAutoPublicIp, unmapInterface } from './addresses.ts';
import { assignIpv6 } from './ipv6.ts';
import { assignIpv4Prefixes, IPV4_SLOTS_OF_INTERFACE, releaseIpv4Prefixes } from './private-addresses.ts';
import { allocateAny, allocateSpecific, isReserved, lookUpForSubnet, release, type LookedUp } from '../ipam/allocator.ts';
import { containsAddress, formatIpv4, parseIpv4 } from '../ipam/ipv4.ts';
import { describeRowsWith, type FilterSpec } from '../store/describe.ts';
import { outcome, settled, together, type Settled } from '../store/in-order.ts';
import type { Row, Tx } from '../store/schema.ts';
import { nothing, write, selectEach, selectFirst, selectForIds, rowsText, type IdListQuery, type Shaped } from '../store/sql-text.ts';
import type { Context } from './context.ts';
import { countResource } from './counts.ts';
import { idempotent } from './idempotency.ts';
import { getInstance } from './instances.ts';
import { checkIds, isIdOf, newId, newMacAddress } from './rules/ids.ts';
import { findInstanceType, instanceTypes, type InstanceTypeInfo } from './rules/instance-types.ts';
import { GROUP_IDENTIFIERS, groupIdentifiersOf, groupsForInterface, judgeGroupsForSubnet, lookUpGroupsForSubnet, type InterfaceGroupLookup } from './security-groups.ts';
import { getSubnet, isIpv6Only, subnetCidr } from './subnets.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, TAG_SETS } from './tags.ts';
import { findOwned, getOwned } from './owned.ts';

type InterfaceRow = Row<'network_interfaces'>;
type InstanceRow = Row<'instances'>;

const ENI_FILTERS: FilterSpec = {
  'network-interface-id': { column: 'id' },
  'subnet-id': { column: 'subnet_id' },
  'vpc-id': { column: 'vpc_id' },
  'availability-zone': { column: 'availability_zone' },
  'availability-zone-id': { column: 'availability_zone_id' },
  description: { column: 'description' },
  'mac-address': { column: 'mac_address' },
  'owner-id': { column: 'account_id' },
  'interface-type': { column: 'interface_type' },
  'requester-managed': { column: 'requester_managed', type: 'boolean' },
  'requester-id': { column: 'requester_id' },
  'source-dest-check': { column: 'source_dest_check', type: 'boolean' },
  status: { column: 'status' },
  'private-dns-name': { column: 'private_dns_name' },
  'private-ip-address': { table: 'private_ip_addresses', foreignKey: 'network_interface_id', column: 'address' },
  'addresses.private-ip-address': { table: 'private_ip_addresses', foreignKey: 'network_interface_id', column: 'address' },
  'addresses.primary': { table: 'private_ip_addresses', foreignKey: 'network_interface_id', column: 'is_primary', type: 'boolean' },
  'group-id': { table: 'network_interface_groups', foreignKey: 'network_interface_id', column: 'group_id' },
  'association.public-ip': { table: 'public_addresses', foreignKey: 'network_interface_id', column: 'public_ip' },
  'association.allocation-id': { table: 'public_addresses', foreignKey: 'network_interface_id', column: 'allocation_id' },
  'association.association-id': { table: 'public_addresses', foreignKey: 'network_interface_id', column: 'association_id' },
  'addresses.association.public-ip': { table: 'public_addresses', foreignKey: 'network_interface_id', column: 'public_ip' },
  'ipv6-addresses.ipv6-address': { table: 'ipv6_addresses', foreignKey: 'network_interface_id', column: 'address', where: { kind: 'address' } },
  'group-name': {
    table: 'network_interface_groups',
    foreignKey: 'network_interface_id',
    column: 'group_id',
    in: { table: 'security_groups', key: 'id', column: 'group_name' },
  },
  'attachment.attachment-id': { column: 'attachment_id' },
  'attachment.instance-id': { column: 'instance_id' },
  // The instance's account, or `amazon-aws` for a service's attachment (what Terraform looks for on ELB interfaces).
  'attachment.instance-owner-id': { column: 'instance_owner_id', whenSet: 'attachment_id' },
  'attachment.device-index': { column: 'device_index', type: 'integer' },
  'attachment.network-card-index': { column: 'network_card_index', type: 'integer' },
  'attachment.status': { column: 'attachment_status' },
  'attachment.attach-time': { column: 'attach_time' },
  'attachment.delete-on-termination': { column: 'delete_on_termination', type: 'boolean' },
};

/** The largest per-interface IPv4 count of any instance type: an interface can never hold more. */
export const MAX_IPV4_PER_INTERFACE = Math.max(...[...instanceTypes().values()].map((t) => t.ipv4AddressesPerInterface));


/** The IP-based name (hostname type `ip-name`): `ip-10-0-1-5.ec2.internal`. */
export function privateDnsName(region: string, address: string): string {
  return `ip-${address.replaceAll('.', '-')}.${internalDomain(region)}`;
}

/** The resource-based name (hostname type `resource-name`): `i-0123456789abcdef0.REGION.compute.internal`. */
export function resourceDnsName(region: string, instanceId: string): string {
  return `${instanceId}.${internalDomain(region)}`;
}

// --- creating interfaces -----------------------------------------------------------------------

export interface InterfaceSpec {
  subnet: Row<'subnets'>;
  /** The subnet's allocator looked up already (lookUpForSubnet), beside the subnet itself. */
  looked?: LookedUp;
  /** The rest of what creating needs, looked up beside the subnet (startInterfaceLookups). */
  early?: InterfaceLookups;
  description?: string;
  /** The primary private IPv4; allocated from the subnet when absent. */
  primaryAddress?: string;
  secondaryAddresses?: readonly string[];
  secondaryCount?: number;
  /** Absent or empty: the VPC's default group; `none`: no group at all (a NAT gateway's interface). */
  groupIds?: readonly string[] | 'none';
  interfaceType?: string;
  clientToken?: string;
  ipv4Prefixes?: readonly string[];
  ipv4PrefixCount?: number;
  ipv6Addresses?: readonly string[];
  /** Undefined: the subnet's AssignIpv6AddressOnCreation decides (one address). */
  ipv6AddressCount?: number;
  ipv6Prefixes?: readonly string[];
  ipv6PrefixCount?: number;
  /** An interface an AWS service makes for the caller (NAT gateway, VPC endpoint). */
  managed?: ManagedInterface;
}

/**
 * AWS: a service's interface is requester-managed, names the service's account as RequesterId
 * and is attached by the service (an `ela-attach-` attachment owned by `amazon-aws`, at device
 * index 1): the user can neither detach nor delete it, nor change it; it goes with its owner.
 */
export interface ManagedInterface {
  requesterId: string;
  sourceDestCheck: boolean;
}

/** The owner AWS shows on a service's attachment. */
export const SERVICE_ATTACHMENT_OWNER = 'amazon-aws';
const SERVICE_ATTACHMENT_PREFIX = 'ela-attach';

/** Parses an address the caller asked for and checks it belongs to the subnet and is not reserved. */
export function requestedAddress(subnet: Row<'subnets'>, text: string): number {
  const address = parseIpv4(text);
  if (address === undefined) throw Errors.invalidParameterValueFor('PrivateIpAddress', text, 'This is not a valid IPv4 address.');
  const cidr = subnetCidr(subnet);
  if (!containsAddress(cidr, address)) {
    throw Errors.invalidParameterValue(`Address ${text} does not fall within the subnet's address range`);
  }
  // AWS reserves the first four and the last address of every subnet.
  if (isReserved(cidr, address)) throw Errors.invalidParameterValue(`Address ${text} is reserved by AWS in subnet ${subnet.id}`);
  return address;
}

/**
 * Takes private addresses from the subnet: the requested ones first (so that an automatic pick
 * never steals one the caller named), then `count` more, lowest free first.
 */
export async function takeAddresses(ctx: Context, subnet: Row<'subnets'>, requested: readonly string[], count: number, looked?: LookedUp): Promise<number[]> {
  const wanted = requested.map((text) => ({ text, address: requestedAddress(subnet, text) }));
  if (new Set(wanted.map((w) => w.address)).size !== wanted.length) {
    throw Errors.invalidParameterValue('The same private IPv4 address is requested more than once.');
  }
  const taken: number[] = [];
  for (const { text, address } of wanted) {
    if (!(await allocateSpecific(ctx.tx, subnet.id, address))) throw Errors.ipAddressInUse(text);
    taken.push(address);
  }
  for (let i = 0; i < count; i++) {
    // What the caller looked up serves the first allocation only, and only if nothing was taken before it.
    const address = await allocateAny(ctx.tx, subnet.id, i === 0 && !taken.length ? looked : undefined);
    if (address === undefined) throw Errors.insufficientFreeAddresses();
    taken.push(address);
  }
  return taken;
}

const INSERT_ADDRESSES = rowsText(
  8,
  (rows) =>
    'insert into "private_ip_addresses" ("vpc_id", "address_int", "address", "subnet_id", "network_interface_id", "is_primary", "account_id", "region") ' +
    `values ${rows}`,
);

/** Records addresses taken for an interface. */
export async function recordAddresses(
  ctx: Context,
  eni: Pick<InterfaceRow, 'id' | 'vpc_id'>,
  subnetId: string,
  addresses: readonly { address: number; primary: boolean }[],
): Promise<void> {
  if (!addresses.length) return;
  const values = addresses.flatMap(({ address, primary }) => [
    eni.vpc_id,
    address,
    formatIpv4(address),
    subnetId,
    eni.id,
    primary ? 1 : 0,
    ctx.account,
    ctx.region,
  ]);
  await write(ctx.tx, INSERT_ADDRESSES(addresses.length), values);
}

const INTERFACE_WITH_MAC = 'select "id" from "network_interfaces" where "mac_address" = ?';

async function uniqueMacAddress(tx: Tx): Promise<string> {
  // 40 random bits: a clash is rare, but the MAC must be unique across the whole server.
  for (;;) {
    const mac = newMacAddress();
    const clash = await selectFirst<Pick<InterfaceRow, 'id'>>(tx, INTERFACE_WITH_MAC, [mac]);
    if (!clash) return mac;
  }
}

/** AWS: an interface's description is at most 255 characters (as a security group's is). */
const MAX_DESCRIPTION = 255;

function checkDescription(name: string, text: string | undefined): void {
  if (text !== undefined && text.length > MAX_DESCRIPTION) {
    throw Errors.invalidParameterValueFor(name, text, `The description is at most ${MAX_DESCRIPTION} characters.`);
  }
}

const INSERT_INTERFACE =
  'insert into "network_interfaces" ("id", "account_id", "region", "vpc_id", "subnet_id", "availability_zone", "availability_zone_id", "description", ' +
  '"mac_address", "private_ip_address", "private_dns_name", "status", "client_token", "source_dest_check", "interface_type", "requester_managed", ' +
  '"requester_id", "map_public_ip", "created_at") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const INTERFACE_BY_ID = 'select * from "network_interfaces" where "id" = ?';
const INSERT_INTERFACE_GROUPS = rowsText(3, (rows) => `insert into "network_interface_groups" ("network_interface_id", "group_id", "position") values ${rows}`);

/**
 * What creating an interface looks up besides its subnet: the account's interface count (added
 * to: a create counts itself), the interface's security groups and a free MAC address. Each is
 * settled, to be judged in createInterface's order whatever came back first.
 */
export interface InterfaceLookups {
  count: Promise<Settled<number>>;
  groups: Promise<Settled<InterfaceGroupLookup | 'none'>>;
  mac: Promise<Settled<string>>;
}

/**
 * Sends createInterface's lookups (InterfaceLookups) for an interface in the subnet of this id:
 * a caller that has not fetched the subnet yet sends them beside it, in its round trip on
 * PostgreSQL, and hands them over as InterfaceSpec's `early` (they change nothing that stays
 * should the subnet turn out wrong: the request fails and its transaction rolls back).
 */
export function startInterfaceLookups(ctx: Context, subnetId: string, groupIds: InterfaceSpec['groupIds']): InterfaceLookups {
  return {
    count: settled(countResource(ctx, 'network-interface', 1)),
    groups: groupIds === 'none' ? Promise.resolve({ value: 'none' }) : settled(lookUpGroupsForSubnet(ctx, subnetId, groupIds)),
    mac: settled(uniqueMacAddress(ctx.tx)),
  };
}

/** Creates an interface in a subnet with its addresses and groups; returns its id. */
export async function createInterface(ctx: Context, spec: InterfaceSpec): Promise<string> {
  checkDescription('Description', spec.description);
  const subnet = spec.subnet;
  const secondaries = spec.secondaryAddresses ?? [];
  const total = 1 + secondaries.length + (spec.secondaryCount ?? 0) + (spec.ipv4Prefixes?.length ?? 0) + (spec.ipv4PrefixCount ?? 0);
  if (total > MAX_IPV4_PER_INTERFACE) {
    throw Errors.privateIpAddressLimitExceeded(`An interface can hold at most ${MAX_IPV4_PER_INTERFACE} private IPv4 addresses.`);
  }
  // Judged in this order: the count, the groups, then (below) the MAC address.
  const early = spec.early ?? startInterfaceLookups(ctx, subnet.id, spec.groupIds);
  if (outcome(await early.count) > ctx.config.quotas.networkInterfacesPerRegion) throw Errors.networkInterfaceLimitExceeded();
  const looked = outcome(await early.groups);
  const groups = looked === 'none' ? [] : judgeGroupsForSubnet(subnet, looked);

  const id = newId('eni');
  const ipv6Only = isIpv6Only(subnet);
  if (ipv6Only) refuseIpv4InIpv6OnlySubnet(subnet, spec);
  // The named addresses first (primary, then secondaries), then the automatic ones.
  const named = [...(spec.primaryAddress !== undefined ? [spec.primaryAddress] : []), ...secondaries];
  const explicit = ipv6Only ? [] : await takeAddresses(ctx, subnet, named, 0);
  const automatic = ipv6Only ? [] : await takeAddresses(ctx, subnet, [], (spec.primaryAddress === undefined ? 1 : 0) + (spec.secondaryCount ?? 0), named.length ? undefined : spec.looked);
  const primary: number | undefined = spec.primaryAddress !== undefined ? explicit[0] : automatic[0];
  const others = spec.primaryAddress !== undefined ? [...explicit.slice(1), ...automatic] : [...explicit, ...automatic.slice(1)];
  // An interface in an IPv6-only subnet has no private IPv4 and, until it is an instance's primary, no hostname.
  const primaryText = primary === undefined ? '' : formatIpv4(primary);
  const mac = outcome(await early.mac);
  await write(ctx.tx, INSERT_INTERFACE, [
    id,
    ctx.account,
    ctx.region,
    subnet.vpc_id,
    subnet.id,
    subnet.availability_zone,
    subnet.availability_zone_id,
    spec.description ?? '',
    mac,
    primaryText,
    primaryText ? privateDnsName(ctx.region, primaryText) : '',
    'available',
    spec.clientToken ?? null,
    1, // source_dest_check
    spec.interfaceType ?? 'interface',
    0, // requester_managed
    null, // requester_id
    subnet.map_public_ip_on_launch,
    ctx.now.toISOString(),
  ]);
  if (primary !== undefined) {
    await recordAddresses(ctx, { id, vpc_id: subnet.vpc_id }, subnet.id, [
      { address: primary, primary: true },
      ...others.map((address) => ({ address, primary: false })),
    ]);
  }
  if (spec.ipv4Prefixes?.length || spec.ipv4PrefixCount) {
    const eni = await selectFirst<InterfaceRow>(ctx.tx, INTERFACE_BY_ID, [id]);
    if (!eni) throw new Error(`interface ${id} vanished while being created`);
    await assignIpv4Prefixes(ctx, eni, subnet, spec.ipv4Prefixes ?? [], spec.ipv4PrefixCount ?? 0);
  }
  const ipv6 = {
    addresses: spec.ipv6Addresses ?? [],
    // AWS: a subnet with AssignIpv6AddressOnCreation gives a new interface one address unless told 0;
    // an IPv6-only subnet always does (its interfaces have no other address).
    count: spec.ipv6AddressCount ?? (spec.ipv6Addresses?.length || spec.ipv6Prefixes?.length || spec.ipv6PrefixCount ? 0 : ipv6Only ? 1 : subnet.assign_ipv6_address_on_creation),
    prefixes: spec.ipv6Prefixes ?? [],
    prefixCount: spec.ipv6PrefixCount ?? 0,
  };
  if (ipv6Only && !ipv6.addresses.length && !ipv6.count && !ipv6.prefixes.length && !ipv6.prefixCount) {
    throw Errors.invalidParameterValue(`A network interface in IPv6-only subnet ${subnet.id} needs at least one IPv6 address or prefix.`);
  }
  if (ipv6.addresses.length || ipv6.count || ipv6.prefixes.length || ipv6.prefixCount) {
    if (ipv6.addresses.length + ipv6.count + ipv6.prefixes.length + ipv6.prefixCount > MAX_IPV4_PER_INTERFACE) {
      throw Errors.invalidParameterValue(`An interface can hold at most ${MAX_IPV4_PER_INTERFACE} IPv6 addresses.`);
    }
    await assignIpv6(ctx, { id, vpc_id: subnet.vpc_id }, subnet, ipv6);
  }
  if (groups.length) await write(ctx.tx, INSERT_INTERFACE_GROUPS(groups.length), groups.flatMap((groupId, position) => [id, groupId, position]));
  if (spec.managed) await attachForService(ctx, id, spec.managed);
  ctx.emit({ type: 'network-interface.created', networkInterfaceId: id, subnetId: subnet.id, vpcId: subnet.vpc_id, privateIpAddress: primaryText });
  return id;
}

/**
 * AWS: an interface in an IPv6-only subnet has no IPv4 at all — no private address, no
 * secondary ones, no IPv4 prefix (and so no public IPv4 or Elastic IP later).
 */
function refuseIpv4InIpv6OnlySubnet(subnet: Row<'subnets'>, spec: InterfaceSpec): void {
  const asked = spec.primaryAddress !== undefined || (spec.secondaryAddresses?.length ?? 0) > 0 || (spec.secondaryCount ?? 0) > 0 || (spec.ipv4Prefixes?.length ?? 0) > 0 || (spec.ipv4PrefixCount ?? 0) > 0;
  if (asked) throw Errors.ipv6OnlySubnet(subnet.id);
}

const ATTACH_FOR_SERVICE =
  'update "network_interfaces" set "requester_managed" = 1, "requester_id" = ?, "source_dest_check" = ?, "status" = ?, "attachment_id" = ?, ' +
  '"device_index" = 1, "attach_time" = ?, "delete_on_termination" = 0, "attachment_status" = ?, "instance_owner_id" = ? where "id" = ?';

async function attachForService(ctx: Context, eniId: string, managed: ManagedInterface): Promise<void> {
  await write(ctx.tx, ATTACH_FOR_SERVICE, [
    managed.requesterId,
    managed.sourceDestCheck ? 1 : 0,
    'in-use',
    newId(SERVICE_ATTACHMENT_PREFIX),
    ctx.now.toISOString(),
    'attached',
    SERVICE_ATTACHMENT_OWNER,
    eniId,
  ]);
}

/** AWS: "You cannot modify or detach a requester-managed network interface." */
export function refuseIfManaged(eni: InterfaceRow): void {
  if (eni.requester_managed === 1) {
    throw Errors.operationNotPermitted(`You are not allowed to modify the requester-managed network interface ${eni.id}.`);
  }
}

/** Splits `PrivateIpAddresses.N` (with at most one Primary) and `PrivateIpAddress` into primary and secondaries. */
export function addressRequest(
  single: string | undefined,
  list: readonly PrivateIpAddressSpecification[] | undefined,
  secondaryCount: number | undefined,
): { primary?: string; secondaries: string[]; count: number } {
  const entries = list ?? [];
  const primaries = entries.filter((e) => e.Primary);
  if (primaries.length > 1) throw Errors.invalidParameterValue('Only one private IP address can be designated as primary.');
  for (const e of entries) if (e.PrivateIpAddress === undefined) throw Errors.missingParameter('PrivateIpAddresses.N.PrivateIpAddress');
  let primary = primaries[0]?.PrivateIpAddress;
  if (single !== undefined) {
    if (primary !== undefined && primary !== single) {
      throw Errors.invalidParameterCombination('The primary private IP address was given twice with different values.');
    }
    primary = single;
  }
  const secondaries = entries.filter((e) => !e.Primary && e.PrivateIpAddress !== single).map((e) => e.PrivateIpAddress!);
  if (secondaryCount !== undefined) {
    // AWS: a count of secondary addresses cannot be combined with a list of them.
    if (secondaries.length) {
      throw Errors.invalidParameterCombination('SecondaryPrivateIpAddressCount cannot be combined with secondary private IP addresses.');
    }
    if (secondaryCount < 0) throw Errors.invalidParameterValueFor('SecondaryPrivateIpAddressCount', String(secondaryCount));
  }
  return { primary, secondaries, count: secondaryCount ?? 0 };
}

export async function createNetworkInterface(ctx: Context, input: CreateNetworkInterfaceRequest): Promise<CreateNetworkInterfaceResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['network-interface']);
  // AWS: IPv6 addresses and their count exclude each other (prefixes likewise).
  if (input.Ipv6Addresses?.length && input.Ipv6AddressCount !== undefined) {
    throw Errors.invalidParameterCombination('Ipv6Addresses and Ipv6AddressCount cannot be combined.');
  }
  if (input.Ipv6Prefixes?.length && input.Ipv6PrefixCount !== undefined) {
    throw Errors.invalidParameterCombination('Ipv6Prefixes and Ipv6PrefixCount cannot be combined.');
  }
  // AWS: prefixes and their count exclude each other, and exclude a secondary address count.
  if (input.Ipv4Prefixes?.length && input.Ipv4PrefixCount !== undefined) {
    throw Errors.invalidParameterCombination('Ipv4Prefixes and Ipv4PrefixCount cannot be combined.');
  }
  if ((input.Ipv4Prefixes?.length || input.Ipv4PrefixCount !== undefined) && (input.SecondaryPrivateIpAddressCount !== undefined || (input.PrivateIpAddresses?.length ?? 0) > 1)) {
    throw Errors.invalidParameterCombination('IPv4 prefixes cannot be combined with secondary private IP addresses.');
  }
  return idempotent(
    ctx,
    'CreateNetworkInterface',
    input,
    async () => {
      // The subnet, where its free addresses start and the rest of what creating needs, fetched
      // together (one round trip on PostgreSQL).
      const subnetId = input.SubnetId;
      const [subnet, looked, early] = await together(
        () => getSubnet(ctx, subnetId),
        async () => (subnetId !== undefined ? lookUpForSubnet(ctx.tx, subnetId) : undefined),
        async () => (subnetId !== undefined ? { lookups: startInterfaceLookups(ctx, subnetId, input.Groups) } : undefined),
      );
      const addresses = addressRequest(input.PrivateIpAddress, input.PrivateIpAddresses, input.SecondaryPrivateIpAddressCount);
      const id = await createInterface(ctx, {
        subnet,
        description: input.Description,
        primaryAddress: addresses.primary,
        secondaryAddresses: addresses.secondaries,
        secondaryCount: addresses.count,
        groupIds: input.Groups,
        interfaceType: input.InterfaceType,
        clientToken: input.ClientToken,
        ipv4Prefixes: input.Ipv4Prefixes?.map((p) => p.Ipv4Prefix!),
        ipv4PrefixCount: input.Ipv4PrefixCount,
        ipv6Addresses: input.Ipv6Addresses?.map((a) => a.Ipv6Address!),
        ipv6AddressCount: input.Ipv6AddressCount,
        ipv6Prefixes: input.Ipv6Prefixes?.map((p) => p.Ipv6Prefix!),
        ipv6PrefixCount: input.Ipv6PrefixCount,
        looked,
        early: early?.lookups,
      });
      await applyTagSpecifications(ctx, 'network-interface', id, input.TagSpecifications);
      return { id, result: { NetworkInterface: await describeOne(ctx, id), ClientToken: input.ClientToken } };
    },
    async (id) => ({ NetworkInterface: await describeOne(ctx, id), ClientToken: input.ClientToken }),
  );
}

// --- reading interfaces ------------------------------------------------------------------------

/** The caller's interface, or the EC2 error for a malformed or unknown id. */
export async function getInterface(ctx: Context, id: string | undefined, parameter = 'NetworkInterfaceId'): Promise<InterfaceRow> {
  return getOwned(ctx, { table: 'network_interfaces', prefix: 'eni', errors: Errors.networkInterfaceId }, id, parameter);
}

interface InterfaceParts {
  addresses: Map<string, Row<'private_ip_addresses'>[]>;
  prefixes: Map<string, string[]>;
  ipv6: Map<string, Row<'ipv6_addresses'>[]>;
  groups: Map<string, { GroupId: string; GroupName: string }[]>;
  associations: Map<string, Map<string, NetworkInterfaceAssociation>>;
}

const ADDRESSES_OF = (ids: string) =>
  `select * from "private_ip_addresses" where "network_interface_id" in (${ids}) order by "network_interface_id", "is_primary" desc, "address_int"`;
const PREFIXES_OF = (ids: string) => `select "network_interface_id", "prefix" from "ipv4_prefixes" where "network_interface_id" in (${ids}) order by "first_address"`;
const IPV6_OF = (ids: string) => `select * from "ipv6_addresses" where "network_interface_id" in (${ids}) order by "address"`;

/** Rows as they come, for the shaping below. */
const rowsOf = <R>(build: (list: string) => string): IdListQuery<R[]> => ({ build, shape: (rows: R[]) => rows });
const ADDRESS_ROWS = rowsOf<Row<'private_ip_addresses'>>(ADDRESSES_OF);
const PREFIX_ROWS = rowsOf<{ network_interface_id: string; prefix: string }>(PREFIXES_OF);
const IPV6_ROWS = rowsOf<Row<'ipv6_addresses'>>(IPV6_OF);
/** No tags (DescribeInstances' interfaces show none): nothing to fetch. */
const NO_TAGS = nothing((): Map<string, { Key?: string; Value?: string }[]> => new Map());

/** What an interface's description needs beyond its row, as queries over a list of interface ids. */
const partQueries = (options: { tags?: boolean }) =>
  [ADDRESS_ROWS, GROUP_IDENTIFIERS, ASSOCIATIONS, PREFIX_ROWS, IPV6_ROWS, options.tags ? TAG_SETS : NO_TAGS] as [
    typeof ADDRESS_ROWS,
    typeof GROUP_IDENTIFIERS,
    typeof ASSOCIATIONS,
    typeof PREFIX_ROWS,
    typeof IPV6_ROWS,
    typeof TAG_SETS,
  ];
type FetchedParts = Shaped<ReturnType<typeof partQueries>>;

/**
 * Everything an interface's description needs beyond its row (and its tags when asked for), for
 * many interfaces at once: fetched together (one round trip on PostgreSQL, see selectForIds).
 */
async function partsOf(tx: Tx, ids: readonly string[], options: { tags?: boolean } = {}): Promise<InterfaceParts & { tags: Map<string, { Key?: string; Value?: string }[]> }> {
  return shapeParts(await selectForIds(tx, ids, ...partQueries(options)));
}

function shapeParts([rows, groups, associations, prefixRows, ipv6Rows, tags]: FetchedParts): InterfaceParts & { tags: Map<string, { Key?: string; Value?: string }[]> } {
  const addresses = new Map<string, Row<'private_ip_addresses'>[]>();
  const prefixes = new Map<string, string[]>();
  const ipv6 = new Map<string, Row<'ipv6_addresses'>[]>();
  for (const row of ipv6Rows) {
    let list = ipv6.get(row.network_interface_id);
    if (!list) ipv6.set(row.network_interface_id, (list = []));
    list.push(row);
  }
  for (const row of prefixRows) {
    let list = prefixes.get(row.network_interface_id);
    if (!list) prefixes.set(row.network_interface_id, (list = []));
    list.push(row.prefix);
  }
  for (const row of rows) {
    let list = addresses.get(row.network_interface_id);
    if (!list) addresses.set(row.network_interface_id, (list = []));
    list.push(row);
  }
  return { addresses, prefixes, ipv6, groups, associations, tags };
}

function attachmentOf(row: InterfaceRow): NetworkInterfaceAttachment | undefined {
  if (!row.attachment_id) return undefined;
  return {
    AttachmentId: row.attachment_id,
    AttachTime: new Date(row.attach_time!),
    DeleteOnTermination: row.delete_on_termination === 1,
    DeviceIndex: row.device_index!,
    NetworkCardIndex: row.network_card_index ?? undefined,
    InstanceId: row.instance_id ?? undefined,
    InstanceOwnerId: row.instance_owner_id ?? row.account_id,
    Status: row.attachment_status as NetworkInterfaceAttachment['Status'],
  };
}

function ipv6Of(parts: InterfaceParts, id: string) {
  const rows = parts.ipv6.get(id) ?? [];
  return {
    addresses: rows.filter((r) => r.kind === 'address').map((r) => ({ Ipv6Address: r.address, IsPrimaryIpv6: r.is_primary === 1 })),
    prefixes: rows.filter((r) => r.kind === 'prefix').map((r) => ({ Ipv6Prefix: r.address })),
  };
}

/** The primary address carries the interface's own name (resource-based for a resource-name instance). */
function privateAddressesOf(eni: InterfaceRow, rows: Row<'private_ip_addresses'>[], associations: Map<string, NetworkInterfaceAssociation> | undefined) {
  return rows.map((a) => ({
    Association: associations?.get(a.address),
    Primary: a.is_primary === 1,
    PrivateIpAddress: a.address,
    PrivateDnsName: a.is_primary === 1 && eni.private_dns_name ? eni.private_dns_name : privateDnsName(eni.region, a.address),
  }));
}

function interfaceOf(row: InterfaceRow, parts: InterfaceParts, tags: Map<string, { Key?: string; Value?: string }[]>): NetworkInterface {
  return {
    NetworkInterfaceId: row.id,
    SubnetId: row.subnet_id,
    VpcId: row.vpc_id,
    AvailabilityZone: row.availability_zone,
    AvailabilityZoneId: row.availability_zone_id,
    Description: row.description,
    OwnerId: row.account_id,
    RequesterId: row.requester_id ?? undefined,
    RequesterManaged: row.requester_managed === 1,
    Status: row.status as NetworkInterface['Status'],
    MacAddress: row.mac_address,
    PrivateIpAddress: row.private_ip_address || undefined,
    PrivateDnsName: row.private_dns_name || undefined,
    SourceDestCheck: row.source_dest_check === 1,
    InterfaceType: row.interface_type as NetworkInterface['InterfaceType'],
    Ipv6Native: row.private_ip_address === '',
    Groups: parts.groups.get(row.id) ?? [],
    Attachment: attachmentOf(row),
    // The interface-level association is its primary private address's public IPv4.
    Association: parts.associations.get(row.id)?.get(row.private_ip_address),
    PrivateIpAddresses: privateAddressesOf(row, parts.addresses.get(row.id) ?? [], parts.associations.get(row.id)),
    Ipv6Addresses: ipv6Of(parts, row.id).addresses,
    Ipv4Prefixes: (parts.prefixes.get(row.id) ?? []).map((Ipv4Prefix) => ({ Ipv4Prefix })),
    Ipv6Prefixes: ipv6Of(parts, row.id).prefixes,
    TagSet: tags.get(row.id) ?? [],
  };
}

/** DescribeInstances' association shape lacks the allocation and association ids. */
function instanceAssociation(a: NetworkInterfaceAssociation | undefined): InstanceNetworkInterfaceAssociation | undefined {
  return a && { PublicIp: a.PublicIp, PublicDnsName: a.PublicDnsName, IpOwnerId: a.IpOwnerId };
}

export async function interfacesOf(tx: Tx, rows: InterfaceRow[]): Promise<NetworkInterface[]> {
  const ids = rows.map((r) => r.id);
  const parts = await partsOf(tx, ids, { tags: true });
  return rows.map((row) => interfaceOf(row, parts, parts.tags));
}

/** Interfaces with their parts, from rows and parts fetched together. */
function interfacesFrom(page: { rows: InterfaceRow[]; children: FetchedParts }): NetworkInterface[] {
  const parts = shapeParts(page.children);
  return page.rows.map((row) => interfaceOf(row, parts, parts.tags));
}

async function describeOne(ctx: Context, id: string): Promise<NetworkInterface> {
  checkIds('eni', Errors.networkInterfaceId, [id]);
  const page = await describeRowsWith<InterfaceRow, ReturnType<typeof partQueries>>(
    ctx.tx,
    { table: 'network_interfaces', account: ctx.account, region: ctx.region, ids: [id], idErrors: Errors.networkInterfaceId, spec: ENI_FILTERS },
    ...partQueries({ tags: true }),
  );
  return interfacesFrom(page)[0];
}

/** The interfaces attached to each instance, shaped as DescribeInstances shows them, by device index. */
export async function instanceInterfacesOf(tx: Tx, instanceIds: readonly string[]): Promise<Map<string, InstanceNetworkInterface[]>> {
  const out = new Map<string, InstanceNetworkInterface[]>();
  if (!instanceIds.length) return out;
  const rows = await tx
    .selectFrom('network_interfaces')
    .selectAll()
    .where('instance_id', 'in', [...instanceIds])
    .orderBy('network_card_index')
    .orderBy('device_index')
    .execute();
  const parts = await partsOf(tx, rows.map((r) => r.id));
  for (const row of rows) {
    const attachment = attachmentOf(row)!;
    const item: InstanceNetworkInterface = {
      NetworkInterfaceId: row.id,
      SubnetId: row.subnet_id,
      VpcId: row.vpc_id,
      Description: row.description,
      OwnerId: row.account_id,
      Status: row.status as InstanceNetworkInterface['Status'],
      MacAddress: row.mac_address,
      PrivateIpAddress: row.private_ip_address || undefined,
      PrivateDnsName: row.private_dns_name || undefined,
      SourceDestCheck: row.source_dest_check === 1,
      InterfaceType: row.interface_type,
      Groups: parts.groups.get(row.id) ?? [],
      Attachment: {
        AttachmentId: attachment.AttachmentId,
        AttachTime: attachment.AttachTime,
        DeleteOnTermination: attachment.DeleteOnTermination,
        DeviceIndex: attachment.DeviceIndex,
        NetworkCardIndex: attachment.NetworkCardIndex,
        Status: attachment.Status,
      },
      Association: instanceAssociation(parts.associations.get(row.id)?.get(row.private_ip_address)),
      PrivateIpAddresses: privateAddressesOf(row, parts.addresses.get(row.id) ?? [], parts.associations.get(row.id)).map((a) => ({
        ...a,
        Association: instanceAssociation(a.Association),
      })),
      Ipv6Addresses: ipv6Of(parts, row.id).addresses,
      Ipv4Prefixes: (parts.prefixes.get(row.id) ?? []).map((Ipv4Prefix) => ({ Ipv4Prefix })),
      Ipv6Prefixes: ipv6Of(parts, row.id).prefixes,
    };
    let list = out.get(row.instance_id!);
    if (!list) out.set(row.instance_id!, (list = []));
    list.push(item);
  }
  return out;
}

export async function describeNetworkInterfaces(ctx: Context, input: DescribeNetworkInterfacesRequest): Promise<DescribeNetworkInterfacesResult> {
  const ids = input.NetworkInterfaceIds ?? [];
  checkIds('eni', Errors.networkInterfaceId, ids);
  // AWS: MaxResults cannot be combined with a list of ids.
  if (ids.length && input.MaxResults !== undefined) {
    throw Errors.invalidParameterCombination('The parameter NetworkInterfaceIds cannot be used with the parameter MaxResults');
  }
  // The page and its interfaces' parts, fetched together (one statement on PostgreSQL).
  const page = await describeRowsWith<InterfaceRow, ReturnType<typeof partQueries>>(
    ctx.tx,
    {
      table: 'network_interfaces',
      account: ctx.account,
      region: ctx.region,
      ids,
      idErrors: Errors.networkInterfaceId,
      filters: input.Filters,
      spec: ENI_FILTERS,
      taggable: true,
      maxResults: input.MaxResults,
      nextToken: input.NextToken,
    },
    ...partQueries({ tags: true }),
  );
  return { NetworkInterfaces: interfacesFrom(page), NextToken: page.nextToken };
}

// --- deleting ------------------------------------------------------------------------------------

/** Deletes an interface and gives its addresses back to the subnet. */
export async function destroyInterface(ctx: Context, eni: Pick<InterfaceRow, 'id'>): Promise<void> {
  // AWS: its Elastic IPs are disassociated (they stay allocated); an automatic public IPv4 is gone.
  await unmapInterface(ctx, eni.id);
  await releaseIpv4Prefixes(ctx, eni.id);
  await ctx.tx.deleteFrom('ipv6_addresses').where('network_interface_id', '=', eni.id).execute();
  const addresses = await ctx.tx
    .selectFrom('private_ip_addresses')
    .select(['subnet_id', 'address_int'])
    .where('network_interface_id', '=', eni.id)
    .execute();
  await ctx.tx.deleteFrom('private_ip_addresses').where('network_interface_id', '=', eni.id).execute();
  for (const a of addresses) await release(ctx.tx, a.subnet_id, Number(a.address_int));
  await ctx.tx.deleteFrom('network_interface_groups').where('network_interface_id', '=', eni.id).execute();
  await ctx.tx.deleteFrom('network_interface_permissions').where('network_interface_id', '=', eni.id).execute();
  await ctx.tx.deleteFrom('network_interfaces').where('id', '=', eni.id).execute();
  await countResource(ctx, 'network-interface', -1);
  await deleteAllTags(ctx, eni.id);
  ctx.emit({ type: 'network-interface.deleted', networkInterfaceId: eni.id });
}

export async function deleteNetworkInterface(ctx: Context, input: DeleteNetworkInterfaceRequest): Promise<Record<string, never>> {
  const eni = await getInterface(ctx, input.NetworkInterfaceId);
  // AWS: only a detached interface can be deleted.
  if (eni.attachment_id) throw Errors.networkInterfaceInUse(eni.id);
  await destroyInterface(ctx, eni);
  return {};
}

// --- attaching and detaching ----------------------------------------------------------------------

/** The instance's type as the rules need it (a type unknown to the table cannot have been launched). */
export function typeOf(instance: Pick<InstanceRow, 'instance_type'>): InstanceTypeInfo {
  const info = findInstanceType(instance.instance_type);
  if (!info) throw new Error(`instance type ${instance.instance_type} is not in the table`);
  return info;
}

const SLOTS_OF_INSTANCE = 'select "device_index", "network_card_index" from "network_interfaces" where "instance_id" = ?';
const IPV6_COUNT_OF_INTERFACE = 'select count(*) as "n" from "ipv6_addresses" where "network_interface_id" = ?';

/** What an attachment's rules count: the instance's taken slots and the interface's addresses. */
export interface AttachmentUsage {
  slots: Pick<InterfaceRow, 'device_index' | 'network_card_index'>[];
  ipv4: number;
  ipv6: number;
}

/**
 * The instance's slots and the interface's address counts, fetched together (one round trip on
 * PostgreSQL). Needs only the two ids, so a caller may start it beside the lookups of the
 * interface and the instance themselves.
 */
export async function attachmentUsage(ctx: Context, instanceId: string, eniId: string): Promise<AttachmentUsage> {
  const [slots, [ipv4], [ipv6]] = (await selectEach(ctx.tx, [
    [SLOTS_OF_INSTANCE, [instanceId]],
    [IPV4_SLOTS_OF_INTERFACE, [eniId, eniId]],
    [IPV6_COUNT_OF_INTERFACE, [eniId]],
  ])) as [AttachmentUsage['slots'], { n: number | string }[], { n: number | string }[]];
  return { slots, ipv4: Number(ipv4?.n ?? 0), ipv6: Number(ipv6?.n ?? 0) };
}

/**
 * Checks AWS's attachment rules for putting `eni` on `instance` at the given slot: same zone,
 * a free device index, the type's interface limits (in total and per network card), and the
 * type's per-interface address limit. `usage` is what attachmentUsage found, if the caller
 * fetched it already.
 */
export async function checkAttachment(
  ctx: Context,
  eni: InterfaceRow,
  instance: Pick<InstanceRow, 'id' | 'instance_type' | 'availability_zone'>,
  slot: { deviceIndex: number; networkCardIndex: number },
  usage?: AttachmentUsage,
): Promise<void> {
  const type = typeOf(instance);
  if (eni.availability_zone !== instance.availability_zone) {
    throw Errors.invalidParameterCombination('You may not attach a network interface to an instance if they are not in the same availability zone');
  }
  if (slot.deviceIndex < 0) throw Errors.invalidParameterValueFor('DeviceIndex', String(slot.deviceIndex));
  const card = type.networkCards.find((c) => c.index === slot.networkCardIndex);
  if (!card) {
    throw Errors.invalidParameterValue(`Network card index ${slot.networkCardIndex} is not valid for instance type ${type.name}.`);
  }
  const { slots: attached, ipv4: addresses, ipv6 } = usage ?? (await attachmentUsage(ctx, instance.id, eni.id));
  if (attached.some((a) => a.device_index === slot.deviceIndex && a.network_card_index === slot.networkCardIndex)) {
    throw Errors.invalidParameterValue(`Instance '${instance.id}' already has an interface attached at device index '${slot.deviceIndex}'.`);
  }
  if (attached.length + 1 > type.maxNetworkInterfaces) throw Errors.attachmentLimitExceeded(attached.length + 1, type.name);
  const onCard = attached.filter((a) => a.network_card_index === slot.networkCardIndex).length;
  if (onCard + 1 > card.maxNetworkInterfaces) throw Errors.attachmentLimitExceeded(onCard + 1, type.name);
  if (addresses > type.ipv4AddressesPerInterface) {
    throw Errors.ipAddressLimitExceeded(
      `Network interface ${eni.id} has ${addresses} private IPv4 addresses; instance type ${type.name} allows ${type.ipv4AddressesPerInterface} per interface.`,
    );
  }
  if (ipv6 > type.ipv6AddressesPerInterface) {
    throw Errors.ipAddressLimitExceeded(
      `Network interface ${eni.id} has ${ipv6} IPv6 addresses; instance type ${type.name} allows ${type.ipv6AddressesPerInterface} per interface.`,
    );
  }
}

// Guarded so that two concurrent attaches of one interface cannot both win.
const ATTACH_INTERFACE =
  'update "network_interfaces" set "attachment_id" = ?, "instance_id" = ?, "device_index" = ?, "network_card_index" = ?, "attach_time" = ?, ' +
  '"delete_on_termination" = ?, "attachment_status" = ?, "attachment_transition_at" = ?, "status" = ?, "instance_owner_id" = ? where "id" = ? and "attachment_id" is null';

/**
 * Records the attachment: `attaching` until the configured delay has passed, or with `settled`
 * attached at once (one change of the row, the events of both steps).
 */
export async function attachInterface(
  ctx: Context,
  eni: InterfaceRow,
  instanceId: string,
  slot: { deviceIndex: number; networkCardIndex: number; deleteOnTermination: boolean },
  settled = false,
): Promise<string> {
  const attachmentId = newId('eni-attach');
  const settleAt = settled ? null : new Date(ctx.now.getTime() + ctx.config.timings.attachingMs).toISOString();
  // Not waited for: should another request have attached the interface first, the transaction
  // fails with NetworkInterfaceInUse at its next statement or commit.
  await write(ctx.tx, ATTACH_INTERFACE, [
    attachmentId,
    instanceId,
    slot.deviceIndex,
    slot.networkCardIndex,
    ctx.now.toISOString(),
    slot.deleteOnTermination ? 1 : 0,
    settled ? 'attached' : 'attaching',
    settleAt,
    'in-use',
    // The instance's account: the caller (the interface's own, or another under a permission).
    ctx.account,
    eni.id,
  ], { rows: 1, otherwise: () => Errors.networkInterfaceInUse(eni.id) });
  ctx.emit({ type: 'network-interface.attaching', networkInterfaceId: eni.id, instanceId, attachmentId, deviceIndex: slot.deviceIndex });
  if (settled) emitAttached(ctx, eni.id);
  return attachmentId;
}

const PERMITTED_INTERFACE =
  'select "n".* from "network_interfaces" as "n" inner join "network_interface_permissions" as "p" on "p"."network_interface_id" = "n"."id" ' +
  `where "n"."id" = ? and "n"."region" = ? and "p"."aws_account_id" = ? and "p"."permission" = ? and "p"."state" = 'granted'`;

/**
 * The interface a call names: the caller's own, or another account's that granted the caller
 * this permission (CreateNetworkInterfacePermission: INSTANCE-ATTACH for AttachNetworkInterface,
 * EIP-ASSOCIATE for AssociateAddress); any other is not found, as every resource of another
 * account is.
 */
export async function interfaceUnderPermission(ctx: Context, id: string | undefined, permission: 'INSTANCE-ATTACH' | 'EIP-ASSOCIATE'): Promise<InterfaceRow> {
  if (id === undefined) throw Errors.missingParameter('NetworkInterfaceId');
  checkIds('eni', Errors.networkInterfaceId, [id]);
  const own = await findOwned(ctx, 'network_interfaces', id);
  if (own) return own;
  const permitted = await selectFirst<InterfaceRow>(ctx.tx, PERMITTED_INTERFACE, [id, ctx.region, ctx.account, permission]);
  if (!permitted) throw Errors.networkInterfaceId.notFound(id);
  return permitted;
}

/**
 * What an attach touches, named before it runs (see WriteScope.resources), so that attaches and
 * detaches of other interfaces and instances of the account run beside it on a shared store: the
 * interface and the instance. It changes only the interface's row; its rules read the
 * interface's row and addresses (changed by no write of named resources) and the instance's row
 * and the interfaces attached to it. Whatever else could change those — another attach of the
 * interface or to the instance — names the same interface or instance, and so queues; a detach
 * from the instance only frees a slot, so an attach that still counted it decided as if it had
 * come first, which it could have. Nothing named, nothing narrowed (the attach fails anyway).
 */
export function attachResources(input: AttachNetworkInterfaceRequest): string[] | undefined {
  const { NetworkInterfaceId: eni, InstanceId: instance } = input;
  return typeof eni === 'string' && eni && typeof instance === 'string' && instance ? [eni, instance] : undefined;
}

/**
 * What a detach touches, named before it runs: its attachment. It changes only the row of the
 * interface that holds the attachment, and its rules read only that row; the other writes of
 * that row which name their resources are attaches of the interface, which find it in use until
 * the detach has committed (and a second detach of the attachment names the same one).
 */
export function detachResources(input: DetachNetworkInterfaceRequest): string[] | undefined {
  return typeof input.AttachmentId === 'string' && input.AttachmentId ? [input.AttachmentId] : undefined;
}

export async function attachNetworkInterface(ctx: Context, input: AttachNetworkInterfaceRequest): Promise<AttachNetworkInterfaceResult> {
  // The interface, the instance and what the rules count, fetched at once (one round trip on PostgreSQL).
  const { NetworkInterfaceId: eniId, InstanceId: instanceId } = input;
  const [eni, instance, usage] = await together(
    () => interfaceUnderPermission(ctx, eniId, 'INSTANCE-ATTACH'),
    () => getInstance(ctx, instanceId),
    async () => (eniId !== undefined && instanceId !== undefined ? attachmentUsage(ctx, instanceId, eniId) : undefined),
  );
  // AWS: hot attach to a running instance, warm attach to a stopped one; nothing else.
  if (instance.state !== 'running' && instance.state !== 'stopped') {
    throw Errors.incorrectInstanceState(`The instance '${instance.id}' is not in a valid state for this operation (${instance.state}).`);
  }
  if (eni.attachment_id) throw Errors.networkInterfaceInUse(eni.id);
  const slot = { deviceIndex: input.DeviceIndex!, networkCardIndex: input.NetworkCardIndex ?? 0 };
  await checkAttachment(ctx, eni, instance, slot, usage);
  // AWS: an interface attached after launch is kept when the instance terminates, unless changed.
  // What was due at the request's start is settled already: only an attachment that ends at once
  // is new, and it ends here.
  const attachmentId = await attachInterface(ctx, eni, instance.id, { ...slot, deleteOnTermination: false }, ctx.config.timings.attachingMs <= 0);
  return { AttachmentId: attachmentId, NetworkCardIndex: slot.networkCardIndex };
}

// The interface's owner and, for another account's interface, the instance's owner may end an attachment.
const INTERFACE_BY_ATTACHMENT =
  'select * from "network_interfaces" where "attachment_id" = ? and ("account_id" = ? or "instance_owner_id" = ?) and "region" = ?';

async function getByAttachment(ctx: Context, attachmentId: string | undefined): Promise<InterfaceRow> {
  if (attachmentId === undefined) throw Errors.missingParameter('AttachmentId');
  checkIds('eni-attach', Errors.attachmentId, [attachmentId]);
  const row = await selectFirst<InterfaceRow>(ctx.tx, INTERFACE_BY_ATTACHMENT, [attachmentId, ctx.account, ctx.account, ctx.region]);
  if (!row) throw Errors.attachmentId.notFound(attachmentId);
  return row;
}

const START_DETACHING = 'update "network_interfaces" set "attachment_status" = ?, "attachment_transition_at" = ? where "id" = ?';

/**
 * Starts detaching: `detaching` until the configured delay has passed, or with `settled` detached
 * at once (one change of the row, the events of both steps).
 */
export async function detachInterface(ctx: Context, eni: InterfaceRow, settled = false): Promise<void> {
  if (eni.attachment_status !== 'detaching') {
    if (!settled) {
      const settleAt = new Date(ctx.now.getTime() + ctx.config.timings.detachingMs).toISOString();
      await write(ctx.tx, START_DETACHING, ['detaching', settleAt, eni.id]);
    }
    ctx.emit({ type: 'network-interface.detaching', networkInterfaceId: eni.id, instanceId: eni.instance_id, attachmentId: eni.attachment_id });
  }
  if (settled) await clearAttachment(ctx, eni);
}

export async function detachNetworkInterface(ctx: Context, input: DetachNetworkInterfaceRequest): Promise<Record<string, never>> {
  if (input.AttachmentId !== undefined && isIdOf(SERVICE_ATTACHMENT_PREFIX, input.AttachmentId)) {
    const held = await selectFirst<Pick<InterfaceRow, 'id'>>(ctx.tx, INTERFACE_BY_ATTACHMENT, [input.AttachmentId, ctx.account, ctx.account, ctx.region]);
    if (!held) throw Errors.attachmentId.notFound(input.AttachmentId);
    throw Errors.serviceAttachmentNotManageable();
  }
  const eni = await getByAttachment(ctx, input.AttachmentId);
  // AWS: the primary interface (device index 0 on network card 0) can never be detached.
  if (eni.device_index === 0 && eni.network_card_index === 0) {
    throw Errors.operationNotPermitted('The network interface at device index 0 and networkCard index 0 cannot be detached.');
  }
  // As for an attachment: only a detachment that ends at once is newly due, and it ends here.
  await detachInterface(ctx, eni, ctx.config.timings.detachingMs <= 0);
  return {};
}

// --- attributes --------------------------------------------------------------------------------

export async function modifyNetworkInterfaceAttribute(ctx: Context, input: ModifyNetworkInterfaceAttributeRequest): Promise<Record<string, never>> {
  const eni = await getInterface(ctx, input.NetworkInterfaceId);
  refuseIfManaged(eni);
  const given = [input.Description, input.SourceDestCheck, input.Groups, input.Attachment, input.AssociatePublicIpAddress].filter((v) => v !== undefined);
  // AWS: one attribute per call.
  if (given.length === 0) throw Errors.missingParameter('Description, SourceDestCheck, SecurityGroupId, Attachment or AssociatePublicIpAddress');
  if (given.length > 1) throw Errors.invalidParameterCombination('Only one attribute can be modified at a time.');
  const set = (values: Partial<InterfaceRow>) => ctx.tx.updateTable('network_interfaces').set(values).where('id', '=', eni.id).execute();
  if (input.Description) {
    checkDescription('Description.Value', input.Description.Value);
    await set({ description: input.Description.Value ?? '' });
  }
  if (input.SourceDestCheck) {
    if (input.SourceDestCheck.Value === undefined) throw Errors.missingParameter('SourceDestCheck.Value');
    await set({ source_dest_check: input.SourceDestCheck.Value ? 1 : 0 });
  }
  if (input.Groups) {
    if (!input.Groups.length) throw Errors.invalidParameterValue('At least one security group must be specified.');
    const groups = await groupsForInterface(ctx, eni.vpc_id, input.Groups);
    // AWS: the list replaces the interface's whole set of groups.
    await ctx.tx.deleteFrom('network_interface_groups').where('network_interface_id', '=', eni.id).execute();
    await ctx.tx
      .insertInto('network_interface_groups')
      .values(groups.map((group_id, position) => ({ network_interface_id: eni.id, group_id, position })))
      .execute();
  }
  if (input.Attachment) {
    if (input.Attachment.AttachmentId === undefined) throw Errors.missingParameter('Attachment.AttachmentId');
    checkIds('eni-attach', Errors.attachmentId, [input.Attachment.AttachmentId]);
    if (eni.attachment_id !== input.Attachment.AttachmentId) throw Errors.attachmentId.notFound(input.Attachment.AttachmentId);
    if (input.Attachment.DeleteOnTermination === undefined) throw Errors.missingParameter('Attachment.DeleteOnTermination');
    await set({ delete_on_termination: input.Attachment.DeleteOnTermination ? 1 : 0 });
  }
  if (input.AssociatePublicIpAddress !== undefined) await setAutoPublicIp(ctx, eni, input.AssociatePublicIpAddress);
  return {};
}

const ENI_ATTRIBUTES = ['description', 'groupSet', 'sourceDestCheck', 'attachment', 'associatePublicIpAddress'] as const;

export async function describeNetworkInterfaceAttribute(
  ctx: Context,
  input: DescribeNetworkInterfaceAttributeRequest,
): Promise<DescribeNetworkInterfaceAttributeResult> {
  const eni = await getInterface(ctx, input.NetworkInterfaceId);
  const attribute = input.Attribute;
  if (attribute === undefined) throw Errors.missingParameter('Attribute');
  if (!(ENI_ATTRIBUTES as readonly string[]).includes(attribute)) {
    throw Errors.invalidParameterValue(`Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`);
  }
  const out: DescribeNetworkInterfaceAttributeResult = { NetworkInterfaceId: eni.id };
  switch (attribute) {
    case 'description':
      out.Description = { Value: eni.description };
      break;
    case 'groupSet':
      out.Groups = (await groupIdentifiersOf(ctx.tx, [eni.id])).get(eni.id) ?? [];
      break;
    case 'sourceDestCheck':
      out.SourceDestCheck = { Value: eni.source_dest_check === 1 };
      break;
    case 'attachment':
      out.Attachment = attachmentOf(eni);
      break;
    case 'associatePublicIpAddress':
      out.AssociatePublicIpAddress = eni.map_public_ip === 1;
      break;
  }
  return out;
}

export async function resetNetworkInterfaceAttribute(ctx: Context, input: ResetNetworkInterfaceAttributeRequest): Promise<Record<string, never>> {
  const eni = await getInterface(ctx, input.NetworkInterfaceId);
  refuseIfManaged(eni);
  // AWS: only the source/destination check can be reset; it goes back to true.
  if (input.SourceDestCheck === undefined) throw Errors.missingParameter('SourceDestCheck');
  await ctx.tx.updateTable('network_interfaces').set({ source_dest_check: 1 }).where('id', '=', eni.id).execute();
  return {};
}

const ATTACHED = `update "network_interfaces" set "attachment_status" = 'attached', "attachment_transition_at" = null where "id" = ?`;

/** Ends an attachment's `attaching`: it is attached. */
export async function finishAttaching(ctx: Context, eniId: string): Promise<void> {
  await write(ctx.tx, ATTACHED, [eniId]);
  emitAttached(ctx, eniId);
}

const emitAttached = (ctx: Context, eniId: string) => ctx.emit({ type: 'network-interface.attached', networkInterfaceId: eniId });

const CLEAR_ATTACHMENT =
  'update "network_interfaces" set "attachment_id" = null, "instance_id" = null, "device_index" = null, "network_card_index" = null, ' +
  '"attach_time" = null, "delete_on_termination" = null, "attachment_status" = null, "attachment_transition_at" = null, "instance_owner_id" = null, "status" = ? where "id" = ?';

/**
 * Ends an attachment: the interface becomes available again, keeping everything else. `eni` is
 * the interface's row as it is now (the attachment it ends, for the event).
 */
export async function clearAttachment(ctx: Context, eni: Pick<InterfaceRow, 'id' | 'instance_id' | 'attachment_id'>): Promise<void> {
  ctx.emit({ type: 'network-interface.detached', networkInterfaceId: eni.id, instanceId: eni.instance_id, attachmentId: eni.attachment_id });
  await write(ctx.tx, CLEAR_ATTACHMENT, ['available', eni.id]);
}

/**
 * ModifyNetworkInterfaceAttribute AssociatePublicIpAddress: AWS assigns or removes the automatic
 * public IPv4 of an interface's primary address, and records the choice on the interface.
 */
async function setAutoPublicIp(ctx: Context, eni: InterfaceRow, wanted: boolean): Promise<void> {
  // AWS: an interface in an IPv6-only subnet has no private IPv4 to map a public one to.
  if (wanted && eni.private_ip_address === '') throw Errors.ipv6OnlySubnet(eni.subnet_id);
  await ctx.tx.updateTable('network_interfaces').set({ map_public_ip: wanted ? 1 : 0 }).where('id', '=', eni.id).execute();
  const current = await ctx.tx
    .selectFrom('public_addresses')
    .selectAll()
    .where('network_interface_id', '=', eni.id)
    .where('private_ip_address', '=', eni.private_ip_address)
    .executeTakeFirst();
  if (wanted && !current) {
    const { count } = await ctx.tx
      .selectFrom('internet_gateways')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('vpc_id', '=', eni.vpc_id)
      .executeTakeFirstOrThrow();
    if (!Number(count)) throw Errors.gatewayNotAttached(`Network ${eni.vpc_id} is not attached to any internet gateway`);
    await assignAutoPublicIp(ctx, eni);
  }
  if (!wanted && current?.kind === 'auto') {
    await ctx.tx.deleteFrom('public_addresses').where('public_ip', '=', current.public_ip).execute();
  }
}
