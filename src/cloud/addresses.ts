/**
 * Public IPv4 addresses: Elastic IPs (AllocateAddress, AssociateAddress, DisassociateAddress,
 * ReleaseAddress, DescribeAddresses) and the public IPv4 AWS assigns at launch.
 *
 * AWS: one public address per private IPv4 address; an Elastic IP needs an internet gateway on
 * the VPC; associating an address that is already associated moves it unless
 * AllowReassociation=false; an associated address cannot be released; associating an Elastic
 * IP with an instance's primary address releases its auto-assigned public IPv4, which comes
 * back (a new one) when the Elastic IP goes, if the instance runs with a single interface.
 * Associations belong to the interface and its private address, so they follow the interface.
 */
import { randomInt } from 'node:crypto';
import type {
  Address,
  AllocateAddressRequest,
  AllocateAddressResult,
  AssociateAddressRequest,
  AssociateAddressResult,
  DescribeAddressesRequest,
  DescribeAddressesResult,
  DisassociateAddressRequest,
  NetworkInterfaceAssociation,
  ReleaseAddressRequest,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { formatIpv4, parseIpv4, parseIpv4Cidr, containsAddress, sizeOf } from '../ipam/ipv4.ts';
import { describeRows, type Filter, type FilterSpec, type Page } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import { execute, listText, selectRows, type IdListQuery } from '../store/sql-text.ts';
import type { Context } from './context.ts';
import { getInstance } from './instances.ts';
import { gatewayOfVpc } from './internet-gateways.ts';
import { interfaceUnderPermission } from './network-interfaces.ts';
import { defaultVpcId } from './vpcs.ts';
import { checkIds, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';

type AddressRow = Row<'public_addresses'>;

/** Amazon's owner id for addresses it assigns (the `ipOwnerId` of an auto-assigned public IPv4). */
export const AMAZON_IP_OWNER = 'amazon';

const ADDRESS_FILTERS: FilterSpec = {
  'allocation-id': { column: 'allocation_id' },
  'association-id': { column: 'association_id' },
  domain: { column: 'domain' },
  'network-border-group': { column: 'network_border_group' },
  'network-interface-id': { column: 'network_interface_id' },
  'network-interface-owner-id': { column: 'account_id', whenSet: 'network_interface_id' },
  'private-ip-address': { column: 'private_ip_address' },
  'public-ip': { column: 'public_ip' },
  'instance-id': { table: 'network_interfaces', foreignKey: 'id', localKey: 'network_interface_id', column: 'instance_id' },
};

export function publicDnsName(region: string, publicIp: string): string {
  const host = `ec2-${publicIp.replaceAll('.', '-')}`;
  return region === 'us-east-1' ? `${host}.compute-1.amazonaws.com` : `${host}.${region}.compute.amazonaws.com`;
}

// --- the pool ------------------------------------------------------------------------------------

/**
 * A free address of the public pool, chosen at random as AWS does (a released address is not
 * handed straight back); addresses are unique across the whole server, every account included.
 */
async function takePublicIp(ctx: Context, wanted?: string): Promise<string> {
  const pool = parseIpv4Cidr(ctx.config.publicIpv4Pool)!;
  const free = async (ip: string) => !(await ctx.tx.selectFrom('public_addresses').select('public_ip').where('public_ip', '=', ip).executeTakeFirst());
  if (wanted !== undefined) {
    const address = parseIpv4(wanted);
    if (address === undefined || !containsAddress(pool, address)) {
      throw Errors.invalidParameterValue(`Address ${wanted} is not in the public IPv4 pool ${ctx.config.publicIpv4Pool}.`);
    }
    if (!(await free(wanted))) throw Errors.ipAddressInUse(wanted);
    return wanted;
  }
  const size = sizeOf(pool);
  for (let attempt = 0; attempt < 64; attempt++) {
    // Skip the pool's network and broadcast addresses.
    const ip = formatIpv4(pool.network + 1 + randomInt(Math.max(1, size - 2)));
    if (await free(ip)) return ip;
  }
  throw Errors.insufficientAddressCapacity();
}

// --- associations --------------------------------------------------------------------------------

/** The public address mapped to one private address of an interface, if any. */
async function addressOnPrivateIp(tx: Tx, eniId: string, privateIp: string): Promise<AddressRow | undefined> {
  return tx
    .selectFrom('public_addresses')
    .selectAll()
    .where('network_interface_id', '=', eniId)
    .where('private_ip_address', '=', privateIp)
    .executeTakeFirst();
}

const DELETE_PUBLIC_ADDRESS = 'delete from "public_addresses" where "public_ip" = ?';
const DISASSOCIATE_PUBLIC_ADDRESS =
  'update "public_addresses" set "association_id" = null, "previous_association_id" = ?, "network_interface_id" = null, "private_ip_address" = null, "vpc_id" = null ' +
  'where "public_ip" = ?';

/** Removes a public address from its private address: an Elastic IP stays allocated, an automatic one is gone. */
export async function unmap(ctx: Context, row: Pick<AddressRow, 'public_ip' | 'kind' | 'association_id' | 'network_interface_id'>): Promise<void> {
  ctx.emit({ type: 'address.disassociated', publicIp: row.public_ip, networkInterfaceId: row.network_interface_id, kind: row.kind });
  if (row.kind === 'auto') {
    await execute(ctx.tx, DELETE_PUBLIC_ADDRESS, [row.public_ip]);
    return;
  }
  await execute(ctx.tx, DISASSOCIATE_PUBLIC_ADDRESS, [row.association_id, row.public_ip]);
}

const PUBLIC_ADDRESSES_OF_INTERFACE = 'select * from "public_addresses" where "network_interface_id" = ?';
const PUBLIC_ADDRESSES_ON_PRIVATE_IPS = listText(
  (ips) => `select * from "public_addresses" where "network_interface_id" = ? and "private_ip_address" in (${ips})`,
);

/** Unmaps every public address of an interface (it is being deleted), or of some of its private addresses. */
export async function unmapInterface(ctx: Context, eniId: string, privateIps?: readonly string[], found?: readonly AddressRow[]): Promise<void> {
  if (privateIps && !privateIps.length) return;
  const rows = found ?? (privateIps ? await publicAddressesOn(ctx, eniId, privateIps) : await selectRows<AddressRow>(ctx.tx, PUBLIC_ADDRESSES_OF_INTERFACE, [eniId]));
  for (const row of rows) await unmap(ctx, row);
}

/** The public addresses mapped to some of an interface's private IPv4 addresses (for unmapInterface's `found`). */
export async function publicAddressesOn(ctx: Context, eniId: string, privateIps: readonly string[]): Promise<AddressRow[]> {
  if (!privateIps.length) return [];
  return selectRows<AddressRow>(ctx.tx, PUBLIC_ADDRESSES_ON_PRIVATE_IPS(privateIps.length), [eniId, ...privateIps]);
}

/**
 * Public addresses by interface and private address, for describing many interfaces at once,
 * with whether their VPC gives public DNS hostnames (AWS: only with enableDnsHostnames on).
 */
const ASSOCIATIONS_OF = (ids: string) =>
  'select "p".*, "v"."enable_dns_hostnames" as "dns_hostnames" from "public_addresses" as "p" left join "vpcs" as "v" on "v"."id" = "p"."vpc_id" ' +
  `where "p"."network_interface_id" in (${ids})`;

type AssociationRow = Row<'public_addresses'> & { dns_hostnames: number | null };

export const ASSOCIATIONS: IdListQuery<Map<string, Map<string, NetworkInterfaceAssociation>>> = {
  build: ASSOCIATIONS_OF,
  shape: (rows: AssociationRow[]) => associationsFrom(rows),
};

function associationsFrom(rows: AssociationRow[]): Map<string, Map<string, NetworkInterfaceAssociation>> {
  const out = new Map<string, Map<string, NetworkInterfaceAssociation>>();
  for (const row of rows) {
    let byIp = out.get(row.network_interface_id!);
    if (!byIp) out.set(row.network_interface_id!, (byIp = new Map()));
    byIp.set(row.private_ip_address!, {
      PublicIp: row.public_ip,
      // AWS: a VPC without DNS hostnames gives its public addresses no name (an empty one).
      PublicDnsName: Number(row.dns_hostnames) === 1 ? publicDnsName(row.region, row.public_ip) : '',
      IpOwnerId: row.kind === 'auto' ? AMAZON_IP_OWNER : row.account_id,
      AllocationId: row.allocation_id ?? undefined,
      AssociationId: row.association_id ?? undefined,
    });
  }
  return out;
}

// --- public IPv4 at launch -------------------------------------------------------------------------

/** Gives an interface's primary private address an automatic public IPv4 (launch, start). */
export async function assignAutoPublicIp(ctx: Context, eni: Pick<Row<'network_interfaces'>, 'id' | 'vpc_id' | 'private_ip_address'>): Promise<void> {
  // An interface in an IPv6-only subnet has no private IPv4 to map one to.
  if (eni.private_ip_address === '') return;
  if (await addressOnPrivateIp(ctx.tx, eni.id, eni.private_ip_address)) return;
  await ctx.tx
    .insertInto('public_addresses')
    .values({
      public_ip: await takePublicIp(ctx),
      account_id: ctx.account,
      region: ctx.region,
      kind: 'auto',
      allocation_id: null,
      domain: 'vpc',
      network_border_group: ctx.region,
      association_id: null,
      previous_association_id: null,
      network_interface_id: eni.id,
      private_ip_address: eni.private_ip_address,
      vpc_id: eni.vpc_id,
      created_at: ctx.now.toISOString(),
    })
    .execute();
}

/** Releases the automatic public IPv4 addresses of an instance's interfaces (stop, terminate). */
export async function releaseAutoPublicIps(ctx: Context, instanceId: string): Promise<void> {
  await ctx.tx
    .deleteFrom('public_addresses')
    .where('kind', '=', 'auto')
    .where('network_interface_id', 'in', ctx.tx.selectFrom('network_interfaces').select('id').where('instance_id', '=', instanceId))
    .execute();
}

/**
 * AWS: a running instance that launched with a public IPv4 gets a new one when it has none,
 * unless it has more than one interface or an Elastic IP on any of its addresses.
 */
export async function restoreAutoPublicIp(ctx: Context, instanceId: string): Promise<void> {
  const instance = await ctx.tx.selectFrom('instances').select(['state', 'auto_public_ip']).where('id', '=', instanceId).executeTakeFirst();
  if (!instance || instance.auto_public_ip !== 1 || (instance.state !== 'running' && instance.state !== 'pending')) return;
  const nics = await ctx.tx.selectFrom('network_interfaces').selectAll().where('instance_id', '=', instanceId).execute();
  if (nics.length !== 1) return;
  const mapped = await ctx.tx.selectFrom('public_addresses').select('public_ip').where('network_interface_id', '=', nics[0].id).executeTakeFirst();
  if (mapped) return;
  await assignAutoPublicIp(ctx, nics[0]);
}

// --- Elastic IPs -----------------------------------------------------------------------------------

export async function getAddress(ctx: Context, by: { allocationId?: string; publicIp?: string }): Promise<AddressRow> {
  let query = ctx.tx
    .selectFrom('public_addresses')
    .selectAll()
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('kind', '=', 'elastic');
  if (by.allocationId !== undefined) {
    checkIds('eipalloc', Errors.allocationId, [by.allocationId]);
    query = query.where('allocation_id', '=', by.allocationId);
  } else if (by.publicIp !== undefined) {
    query = query.where('public_ip', '=', by.publicIp);
  } else {
    throw Errors.missingParameter('AllocationId');
  }
  const row = await query.executeTakeFirst();
  if (!row) throw by.allocationId !== undefined ? Errors.allocationId.notFound(by.allocationId) : Errors.invalidAddressNotFound(by.publicIp!);
  return row;
}

export async function allocateAddress(ctx: Context, input: AllocateAddressRequest): Promise<AllocateAddressResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['elastic-ip']);
  // AWS: an empty or unknown Domain allocates a vpc address; `standard` asked for EC2-Classic, retired.
  if (input.Domain === 'standard') {
    throw Errors.invalidParameterValue('EC2-Classic has been retired: Elastic IP addresses are for use in a VPC (Domain vpc).');
  }
  if (input.NetworkBorderGroup !== undefined && input.NetworkBorderGroup !== ctx.region) {
    throw Errors.invalidParameterValueFor('NetworkBorderGroup', input.NetworkBorderGroup);
  }
  if (input.PublicIpv4Pool !== undefined && input.PublicIpv4Pool !== 'amazon') {
    throw Errors.invalidParameterValueFor('PublicIpv4Pool', input.PublicIpv4Pool, 'eni-local has only the amazon pool.');
  }
  const { count } = await ctx.tx
    .selectFrom('public_addresses')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('kind', '=', 'elastic')
    .executeTakeFirstOrThrow();
  if (Number(count) >= ctx.config.quotas.elasticIpsPerRegion) throw Errors.addressLimitExceeded();
  const publicIp = await takePublicIp(ctx, input.Address);
  const allocationId = newId('eipalloc');
  await ctx.tx
    .insertInto('public_addresses')
    .values({
      public_ip: publicIp,
      account_id: ctx.account,
      region: ctx.region,
      kind: 'elastic',
      allocation_id: allocationId,
      domain: 'vpc',
      network_border_group: ctx.region,
      association_id: null,
      previous_association_id: null,
      network_interface_id: null,
      private_ip_address: null,
      vpc_id: null,
      created_at: ctx.now.toISOString(),
    })
    .execute();
  await applyTagSpecifications(ctx, 'elastic-ip', allocationId, input.TagSpecifications);
  return { PublicIp: publicIp, AllocationId: allocationId, PublicIpv4Pool: 'amazon', NetworkBorderGroup: ctx.region, Domain: 'vpc' };
}

/** The interface and private address an AssociateAddress call targets. */
async function associationTarget(ctx: Context, input: AssociateAddressRequest): Promise<{ eni: Row<'network_interfaces'>; privateIp: string }> {
  if (input.InstanceId !== undefined && input.NetworkInterfaceId !== undefined) {
    throw Errors.invalidParameterCombination('Only one of InstanceId or NetworkInterfaceId may be specified.');
  }
  let eni: Row<'network_interfaces'> | undefined;
  if (input.NetworkInterfaceId !== undefined) {
    eni = await interfaceUnderPermission(ctx, input.NetworkInterfaceId, 'EIP-ASSOCIATE');
    // AWS: a service's interface holds the addresses its service gives it.
    if (eni.requester_managed === 1) throw Errors.operationNotPermitted(`You are not allowed to manage the requester-managed network interface ${eni.id}.`);
  } else if (input.InstanceId !== undefined) {
    const instance = await getInstance(ctx, input.InstanceId);
    if (instance.state !== 'running' && instance.state !== 'stopped') {
      throw Errors.incorrectInstanceState(`The instance '${instance.id}' is not in a valid state for this operation.`);
    }
    const nics = await ctx.tx.selectFrom('network_interfaces').selectAll().where('instance_id', '=', instance.id).execute();
    // AWS: with several interfaces the caller must say which one.
    if (nics.length > 1) throw Errors.invalidInstanceIdMultipleInterfaces(instance.id);
    eni = nics[0];
    if (!eni) throw Errors.incorrectInstanceState(`The instance '${instance.id}' has no network interface.`);
  } else {
    throw Errors.missingParameter('InstanceId or NetworkInterfaceId');
  }
  // AWS: an Elastic IP maps to a private IPv4 address, which an interface in an IPv6-only subnet has not.
  if (eni.private_ip_address === '') throw Errors.ipv6OnlySubnet(eni.subnet_id);
  const privateIp = input.PrivateIpAddress ?? eni.private_ip_address;
  const onInterface = await ctx.tx
    .selectFrom('private_ip_addresses')
    .select('address')
    .where('network_interface_id', '=', eni.id)
    .where('address', '=', privateIp)
    .executeTakeFirst();
  if (!onInterface) {
    throw Errors.invalidParameterValue(`The private IP address ${privateIp} is not assigned to network interface ${eni.id}.`);
  }
  return { eni, privateIp };
}

export async function associateAddress(ctx: Context, input: AssociateAddressRequest): Promise<AssociateAddressResult> {
  const address = await getAddress(ctx, { allocationId: input.AllocationId, publicIp: input.PublicIp });
  const { eni, privateIp } = await associationTarget(ctx, input);
  if (!(await gatewayOfVpc(ctx.tx, eni.vpc_id))) throw Errors.gatewayNotAttached(`Network ${eni.vpc_id} is not attached to any internet gateway`);
  const sameTarget = address.network_interface_id === eni.id && address.private_ip_address === privateIp;
  if (address.association_id && !sameTarget) {
    // AWS (VPC): reassociation is automatic; AllowReassociation=false asks for a refusal instead.
    if (input.AllowReassociation === false) throw Errors.resourceAlreadyAssociated(`resource ${address.allocation_id} is already associated with associate-id ${address.association_id}`);
    await unmap(ctx, address);
  }
  const current = await addressOnPrivateIp(ctx.tx, eni.id, privateIp);
  if (current && current.public_ip !== address.public_ip) await unmap(ctx, current);
  const associationId = newId('eipassoc');
  await ctx.tx
    .updateTable('public_addresses')
    .set({ association_id: associationId, network_interface_id: eni.id, private_ip_address: privateIp, vpc_id: eni.vpc_id })
    .where('public_ip', '=', address.public_ip)
    .execute();
  ctx.emit({ type: 'address.associated', publicIp: address.public_ip, allocationId: address.allocation_id, associationId, networkInterfaceId: eni.id, privateIpAddress: privateIp });
  // The instance the address left, if any, may get its automatic public IPv4 back.
  if (address.network_interface_id && address.network_interface_id !== eni.id) await restoreForInterface(ctx, address.network_interface_id);
  return { AssociationId: associationId };
}

async function restoreForInterface(ctx: Context, eniId: string): Promise<void> {
  const eni = await ctx.tx.selectFrom('network_interfaces').select('instance_id').where('id', '=', eniId).executeTakeFirst();
  if (eni?.instance_id) await restoreAutoPublicIp(ctx, eni.instance_id);
}

export async function disassociateAddress(ctx: Context, input: DisassociateAddressRequest): Promise<Record<string, never>> {
  let row: AddressRow | undefined;
  if (input.AssociationId !== undefined) {
    checkIds('eipassoc', Errors.associationId, [input.AssociationId]);
    const scoped = ctx.tx.selectFrom('public_addresses').selectAll().where('account_id', '=', ctx.account).where('region', '=', ctx.region);
    row = await scoped.where('association_id', '=', input.AssociationId).executeTakeFirst();
    // AWS: disassociating is idempotent; a repeat with the last association id succeeds.
    if (!row && (await scoped.where('previous_association_id', '=', input.AssociationId).executeTakeFirst())) return {};
    if (!row) throw Errors.associationId.notFound(input.AssociationId);
  } else if (input.PublicIp !== undefined) {
    row = await getAddress(ctx, { publicIp: input.PublicIp });
    if (!row.association_id) return {};
  } else {
    throw Errors.missingParameter('AssociationId');
  }
  const eniId = row.network_interface_id;
  await unmap(ctx, row);
  if (eniId) await restoreForInterface(ctx, eniId);
  return {};
}

export async function releaseAddress(ctx: Context, input: ReleaseAddressRequest): Promise<Record<string, never>> {
  if (input.AllocationId !== undefined && input.PublicIp !== undefined) throw Errors.releaseByIpAndAllocationId();
  const row = await getAddress(ctx, { allocationId: input.AllocationId, publicIp: input.PublicIp });
  // AWS: every address is a VPC address now, and a VPC address is released by its allocation id.
  if (input.AllocationId === undefined) throw Errors.releaseVpcAddressByIp();
  if (row.association_id) {
    // AWS: in the default VPC, releasing disassociates first; elsewhere the caller must disassociate.
    if (row.vpc_id === null || row.vpc_id !== (await defaultVpcId(ctx))) throw Errors.ipAddressInUse(row.public_ip);
    const eniId = row.network_interface_id;
    await unmap(ctx, row);
    await ctx.tx.deleteFrom('public_addresses').where('public_ip', '=', row.public_ip).execute();
    await deleteAllTags(ctx, row.allocation_id!);
    if (eniId) await restoreForInterface(ctx, eniId);
    return {};
  }
  await ctx.tx.deleteFrom('public_addresses').where('public_ip', '=', row.public_ip).execute();
  await deleteAllTags(ctx, row.allocation_id!);
  return {};
}

export async function describeAddresses(ctx: Context, input: DescribeAddressesRequest): Promise<DescribeAddressesResult> {
  const page = await elasticIpPage(ctx, { allocationIds: input.AllocationIds, publicIps: input.PublicIps, filters: input.Filters, spec: ADDRESS_FILTERS, taggable: true });
  return { Addresses: await addressesOf(ctx.tx, page.rows) };
}

/**
 * A page of the caller's Elastic IPs (DescribeAddresses, DescribeAddressesAttribute): the
 * allocation ids and public addresses given must all exist (else their `.NotFound`), and restrict
 * the page to them.
 */
export async function elasticIpPage(
  ctx: Context,
  options: { allocationIds?: string[]; publicIps?: string[]; filters?: Filter[]; spec: FilterSpec; taggable?: boolean; maxResults?: number; nextToken?: string },
): Promise<Page<AddressRow>> {
  const { allocationIds, publicIps, filters = [], ...rest } = options;
  checkIds('eipalloc', Errors.allocationId, allocationIds ?? []);
  for (const id of allocationIds ?? []) await getAddress(ctx, { allocationId: id });
  for (const ip of publicIps ?? []) await getAddress(ctx, { publicIp: ip });
  const given: Filter[] = [
    ...(allocationIds?.length ? [{ Name: 'allocation-id', Values: allocationIds }] : []),
    ...(publicIps?.length ? [{ Name: 'public-ip', Values: publicIps }] : []),
  ];
  return describeRows<AddressRow>(ctx.tx, {
    table: 'public_addresses',
    idColumn: 'public_ip',
    account: ctx.account,
    region: ctx.region,
    filters: [...filters, ...given],
    where: { kind: 'elastic' },
    tagKey: 'allocation_id',
    ...rest,
  });
}

async function addressesOf(tx: Tx, rows: AddressRow[]): Promise<Address[]> {
  const tags = await tagsOf(tx, rows.map((r) => r.allocation_id!));
  const eniIds = rows.map((r) => r.network_interface_id).filter((id): id is string => id !== null);
  const enis = eniIds.length ? await tx.selectFrom('network_interfaces').select(['id', 'instance_id', 'account_id']).where('id', 'in', eniIds).execute() : [];
  const instances = new Map<string, string | null>(enis.map((r) => [r.id, r.instance_id]));
  // Another account's interface (under an EIP-ASSOCIATE permission) names its own owner.
  const owners = new Map(enis.map((r) => [r.id, r.account_id]));
  return rows.map((row) => ({
    PublicIp: row.public_ip,
    AllocationId: row.allocation_id ?? undefined,
    AssociationId: row.association_id ?? undefined,
    Domain: 'vpc',
    NetworkInterfaceId: row.network_interface_id ?? undefined,
    NetworkInterfaceOwnerId: row.network_interface_id ? (owners.get(row.network_interface_id) ?? row.account_id) : undefined,
    PrivateIpAddress: row.private_ip_address ?? undefined,
    InstanceId: (row.network_interface_id && instances.get(row.network_interface_id)) || undefined,
    PublicIpv4Pool: 'amazon',
    NetworkBorderGroup: row.network_border_group,
    Tags: tags.get(row.allocation_id!) ?? [],
  }));
}
