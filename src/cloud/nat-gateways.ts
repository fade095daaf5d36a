/**
 * NAT gateways: CreateNatGateway, DescribeNatGateways, DeleteNatGateway, and their settling
 * (`pending` → `available`, `deleting` → `deleted`, then gone after a while, as AWS forgets
 * deleted and failed gateways after about an hour).
 *
 * AWS: a NAT gateway lives in one subnet, where it gets a requester-managed interface
 * (`nat_gateway`, no security groups, source/destination check off) with a private address from
 * the subnet; a public one also holds an Elastic IP on that address. A public gateway whose VPC
 * has no internet gateway, whose Elastic IP is already associated, or whose subnet is out of
 * addresses is still created, in state `failed` with the reason (FailureCode/FailureMessage).
 * Deleting it disassociates its Elastic IPs and deletes its interface; routes to it turn
 * blackhole. At most 5 gateways (pending, available or deleting) per Availability Zone.
 */
import type {
  AssignPrivateNatGatewayAddressRequest,
  AssignPrivateNatGatewayAddressResult,
  AssociateNatGatewayAddressRequest,
  AssociateNatGatewayAddressResult,
  DisassociateNatGatewayAddressRequest,
  DisassociateNatGatewayAddressResult,
  UnassignPrivateNatGatewayAddressRequest,
  UnassignPrivateNatGatewayAddressResult,
  CreateNatGatewayRequest,
  CreateNatGatewayResult,
  DeleteNatGatewayRequest,
  DeleteNatGatewayResult,
  DescribeNatGatewaysRequest,
  DescribeNatGatewaysResult,
  NatGateway,
  NatGatewayAddress,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { idempotent } from './idempotency.ts';
import { gatewayOfVpc } from './internet-gateways.ts';
import { unmap } from './addresses.ts';
import { createInterface, destroyInterface, recordAddresses, takeAddresses } from './network-interfaces.ts';
import { release } from '../ipam/allocator.ts';
import { formatIpv4, parseIpv4 } from '../ipam/ipv4.ts';
import { getOwned } from './owned.ts';
import { checkIds, newId } from './rules/ids.ts';
import { getSubnet, isIpv6Only } from './subnets.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';
import { settleTransitions } from './transitions.ts';

export type NatGatewayRow = Row<'nat_gateways'>;

/** The AWS account that requests NAT gateways' interfaces (what RequesterId shows on AWS). */
export const NAT_GATEWAY_REQUESTER_ID = '128792236543';

/** One address of a gateway, as kept in its `addresses` column. */
interface NatAddress {
  allocationId?: string;
  publicIp?: string;
  privateIp?: string;
  associationId?: string;
  isPrimary: boolean;
  failureMessage?: string;
}

const NAT_GATEWAY_FILTERS: FilterSpec = {
  'nat-gateway-id': { column: 'id' },
  state: { column: 'state' },
  'subnet-id': { column: 'subnet_id' },
  'vpc-id': { column: 'vpc_id' },
};

const LIVE_STATES = ['pending', 'available', 'deleting'];

export async function getNatGateway(ctx: Context, id: string | undefined, parameter = 'NatGatewayId'): Promise<NatGatewayRow> {
  return getOwned(ctx, { table: 'nat_gateways', prefix: 'nat', errors: Errors.natGatewayId }, id, parameter);
}

// --- creating --------------------------------------------------------------------------------------

interface Plan {
  connectivity: 'public' | 'private';
  allocationIds: string[];
  secondaryAddresses: string[];
  secondaryCount: number;
}

/** The request's addressing, checked against AWS's rules for the gateway's connectivity type. */
function planOf(ctx: Context, input: CreateNatGatewayRequest): Plan {
  const connectivity = input.ConnectivityType ?? 'public';
  if (connectivity !== 'public' && connectivity !== 'private') throw Errors.invalidParameterValueFor('ConnectivityType', connectivity);
  if (input.AvailabilityMode !== undefined && input.AvailabilityMode !== 'zonal') {
    throw Errors.unsupported('Regional NAT gateways are not supported by eni-local.');
  }
  if (input.AvailabilityZoneAddresses?.length || input.VpcId !== undefined) {
    throw Errors.invalidParameterCombination('VpcId and AvailabilityZoneAddresses apply to regional NAT gateways only.');
  }
  const secondaryIds = input.SecondaryAllocationIds ?? [];
  const secondaryAddresses = input.SecondaryPrivateIpAddresses ?? [];
  const secondaryCount = input.SecondaryPrivateIpAddressCount;
  if (secondaryAddresses.length && secondaryCount !== undefined) {
    throw Errors.invalidParameterCombination('SecondaryPrivateIpAddresses and SecondaryPrivateIpAddressCount cannot be combined.');
  }
  if (connectivity === 'private') {
    // AWS: a private NAT gateway has no Elastic IP.
    if (input.AllocationId !== undefined || secondaryIds.length) {
      throw Errors.invalidParameterCombination('Elastic IP addresses cannot be associated with a private NAT gateway.');
    }
  } else {
    if (input.AllocationId === undefined) throw Errors.missingParameter('AllocationId');
    // AWS: a public gateway's secondary addresses come with its secondary Elastic IPs.
    if (secondaryCount !== undefined) {
      throw Errors.invalidParameterCombination('SecondaryPrivateIpAddressCount applies to private NAT gateways only.');
    }
    if (secondaryAddresses.length && secondaryAddresses.length !== secondaryIds.length) {
      throw Errors.invalidParameterCombination('SecondaryPrivateIpAddresses must name one address for each of the SecondaryAllocationIds.');
    }
  }
  const allocationIds = connectivity === 'public' ? [input.AllocationId!, ...secondaryIds] : [];
  checkIds('eipalloc', Errors.allocationId, allocationIds);
  if (new Set(allocationIds).size !== allocationIds.length) throw Errors.invalidParameterValue('The same Elastic IP allocation id is given more than once.');
  if (allocationIds.length > ctx.config.quotas.elasticIpsPerNatGateway) {
    throw Errors.invalidParameterValue(`A NAT gateway can hold at most ${ctx.config.quotas.elasticIpsPerNatGateway} Elastic IP addresses.`);
  }
  const count = connectivity === 'public' ? Math.max(0, secondaryIds.length - secondaryAddresses.length) : (secondaryCount ?? 0);
  if (secondaryCount !== undefined && secondaryCount < 1) throw Errors.invalidParameterValueFor('SecondaryPrivateIpAddressCount', String(secondaryCount));
  if (1 + secondaryAddresses.length + count > ctx.config.quotas.privateIpsPerNatGateway) {
    throw Errors.invalidParameterValue(`A NAT gateway can hold at most ${ctx.config.quotas.privateIpsPerNatGateway} private IPv4 addresses.`);
  }
  return { connectivity, allocationIds, secondaryAddresses, secondaryCount: count };
}

/** Why AWS would fail the gateway after accepting the request, if it would. */
async function failureOf(ctx: Context, subnet: Row<'subnets'>, plan: Plan, addresses: Row<'public_addresses'>[]): Promise<{ code: string; message: string } | undefined> {
  if (plan.connectivity === 'public' && !(await gatewayOfVpc(ctx.tx, subnet.vpc_id))) {
    return { code: 'Gateway.NotAttached', message: `Network ${subnet.vpc_id} has no Internet gateway attached` };
  }
  const taken = addresses.find((a) => a.association_id);
  if (taken) return { code: 'Resource.AlreadyAssociated', message: `Elastic IP address [${taken.allocation_id}] is already associated` };
  const needed = 1 + plan.secondaryAddresses.length + plan.secondaryCount;
  if (Number(subnet.available_ip_address_count) < needed) {
    return { code: 'InsufficientFreeAddressesInSubnet', message: 'Subnet has insufficient free addresses to create this NAT gateway' };
  }
  return undefined;
}

async function elasticIpsOf(ctx: Context, allocationIds: readonly string[]): Promise<Row<'public_addresses'>[]> {
  const out: Row<'public_addresses'>[] = [];
  for (const id of allocationIds) {
    const row = await ctx.tx
      .selectFrom('public_addresses')
      .selectAll()
      .where('allocation_id', '=', id)
      .where('account_id', '=', ctx.account)
      .where('region', '=', ctx.region)
      .executeTakeFirst();
    if (!row) throw Errors.allocationId.notFound(id);
    out.push(row);
  }
  return out;
}

async function checkZoneQuota(ctx: Context, zone: string): Promise<void> {
  const { n } = await ctx.tx
    .selectFrom('nat_gateways')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('availability_zone', '=', zone)
    .where('state', 'in', LIVE_STATES)
    .executeTakeFirstOrThrow();
  if (Number(n) >= ctx.config.quotas.natGatewaysPerAvailabilityZone) throw Errors.natGatewayLimitExceeded();
}

/** The gateway's interface and address associations; returns its addresses as the row keeps them. */
async function provision(ctx: Context, id: string, subnet: Row<'subnets'>, plan: Plan, input: CreateNatGatewayRequest, eips: Row<'public_addresses'>[]) {
  const eniId = await createInterface(ctx, {
    subnet,
    description: `Interface for NAT Gateway ${id}`,
    primaryAddress: input.PrivateIpAddress,
    secondaryAddresses: plan.secondaryAddresses,
    secondaryCount: plan.secondaryCount,
    groupIds: 'none',
    interfaceType: 'nat_gateway',
    managed: { requesterId: NAT_GATEWAY_REQUESTER_ID, sourceDestCheck: false },
  });
  const eni = await ctx.tx.selectFrom('network_interfaces').selectAll().where('id', '=', eniId).executeTakeFirstOrThrow();
  const privateIps = (
    await ctx.tx.selectFrom('private_ip_addresses').select(['address', 'is_primary', 'address_int']).where('network_interface_id', '=', eniId).execute()
  )
    .sort((a, b) => b.is_primary - a.is_primary || Number(a.address_int) - Number(b.address_int))
    .map((a) => a.address);
  // Named secondaries pair with the secondary Elastic IPs in the order given.
  const secondaries = [...plan.secondaryAddresses, ...privateIps.slice(1).filter((ip) => !plan.secondaryAddresses.includes(ip))];
  const ordered = [privateIps[0], ...secondaries];
  const addresses: NatAddress[] = [];
  for (let i = 0; i < ordered.length; i++) {
    const eip = eips[i];
    const address: NatAddress = { privateIp: ordered[i], isPrimary: i === 0 };
    if (eip) {
      const associationId = newId('eipassoc');
      await ctx.tx
        .updateTable('public_addresses')
        .set({ association_id: associationId, network_interface_id: eni.id, private_ip_address: ordered[i], vpc_id: eni.vpc_id })
        .where('public_ip', '=', eip.public_ip)
        .execute();
      ctx.emit({ type: 'address.associated', publicIp: eip.public_ip, allocationId: eip.allocation_id, associationId, networkInterfaceId: eni.id, privateIpAddress: ordered[i] });
      Object.assign(address, { allocationId: eip.allocation_id!, publicIp: eip.public_ip, associationId });
    }
    addresses.push(address);
  }
  return { eniId, addresses };
}

export async function createNatGateway(ctx: Context, input: CreateNatGatewayRequest): Promise<CreateNatGatewayResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['natgateway']);
  const plan = planOf(ctx, input);
  const result = await idempotent(
    ctx,
    'CreateNatGateway',
    input,
    async () => {
      const subnet = await getSubnet(ctx, input.SubnetId);
      // AWS: a NAT gateway translates IPv4; it needs an IPv4 address in its subnet.
      if (isIpv6Only(subnet)) throw Errors.ipv6OnlySubnet(subnet.id);
      const eips = await elasticIpsOf(ctx, plan.allocationIds);
      await checkZoneQuota(ctx, subnet.availability_zone);
      const id = newId('nat');
      const failure = await failureOf(ctx, subnet, plan, eips);
      const base = {
        id,
        account_id: ctx.account,
        region: ctx.region,
        vpc_id: subnet.vpc_id,
        subnet_id: subnet.id,
        availability_zone: subnet.availability_zone,
        connectivity_type: plan.connectivity,
        created_at: ctx.now.toISOString(),
      };
      if (failure) {
        const addresses: NatAddress[] = eips.map((e, i) => ({ allocationId: e.allocation_id!, isPrimary: i === 0, failureMessage: failure.message }));
        await ctx.tx
          .insertInto('nat_gateways')
          .values({
            ...base,
            state: 'failed',
            transition_at: after(ctx, ctx.config.timings.natGatewayDeletedVisibleMs),
            failure_code: failure.code,
            failure_message: failure.message,
            network_interface_id: null,
            addresses: JSON.stringify(addresses),
          })
          .execute();
      } else {
        const { eniId, addresses } = await provision(ctx, id, subnet, plan, input, eips);
        await ctx.tx
          .insertInto('nat_gateways')
          .values({
            ...base,
            state: 'pending',
            transition_at: after(ctx, ctx.config.timings.natGatewayPendingMs),
            network_interface_id: eniId,
            addresses: JSON.stringify(addresses),
          })
          .execute();
      }
      await applyTagSpecifications(ctx, 'natgateway', id, input.TagSpecifications);
      ctx.emit({ type: 'nat-gateway.created', natGatewayId: id, subnetId: subnet.id, state: failure ? 'failed' : 'pending' });
      return { id, result: { NatGateway: await describeOne(ctx, id), ClientToken: input.ClientToken } };
    },
    async (id) => ({ NatGateway: await describeOne(ctx, id), ClientToken: input.ClientToken }),
  );
  // AWS answers `pending`; what follows is settled for the next request.
  await settleTransitions(ctx);
  return result;
}

const after = (ctx: Context, ms: number) => new Date(ctx.now.getTime() + ms).toISOString();

// --- deleting and settling --------------------------------------------------------------------------

export async function deleteNatGateway(ctx: Context, input: DeleteNatGatewayRequest): Promise<DeleteNatGatewayResult> {
  const gateway = await getNatGateway(ctx, input.NatGatewayId);
  // AWS: deleting a gateway that is already going (or gone) changes nothing.
  if (gateway.state === 'pending' || gateway.state === 'available') {
    await ctx.tx
      .updateTable('nat_gateways')
      .set({ state: 'deleting', transition_at: after(ctx, ctx.config.timings.natGatewayDeletingMs) })
      .where('id', '=', gateway.id)
      .execute();
    ctx.emit({ type: 'nat-gateway.state', natGatewayId: gateway.id, state: 'deleting' });
  } else if (gateway.state === 'failed') {
    await ctx.tx
      .updateTable('nat_gateways')
      .set({ state: 'deleted', deleted_at: ctx.now.toISOString(), transition_at: after(ctx, ctx.config.timings.natGatewayDeletedVisibleMs) })
      .where('id', '=', gateway.id)
      .execute();
  }
  await settleTransitions(ctx);
  return { NatGatewayId: gateway.id };
}

/** The NAT gateways whose state has come due: account, region, now. */
export const DUE_NAT_GATEWAYS = 'select * from "nat_gateways" where "account_id" = ? and "region" = ? and "transition_at" <= ?';

/** Ends the states of the NAT gateways that have come due (`due`, as DUE_NAT_GATEWAYS selects them; called by settleTransitions). */
export async function settleNatGateways(ctx: Context, due: readonly NatGatewayRow[]): Promise<void> {
  for (const gateway of due) {
    const set = (values: Partial<NatGatewayRow>) => ctx.tx.updateTable('nat_gateways').set(values).where('id', '=', gateway.id).execute();
    if (gateway.state === 'pending') {
      await set({ state: 'available', transition_at: null });
      ctx.emit({ type: 'nat-gateway.state', natGatewayId: gateway.id, state: 'available' });
    } else if (gateway.state === 'deleting') {
      // AWS: the Elastic IPs are disassociated (they stay allocated) and the interface is deleted.
      if (gateway.network_interface_id) {
        const eni = await ctx.tx.selectFrom('network_interfaces').select('id').where('id', '=', gateway.network_interface_id).executeTakeFirst();
        if (eni) await destroyInterface(ctx, eni);
      }
      await set({ state: 'deleted', deleted_at: ctx.now.toISOString(), transition_at: after(ctx, ctx.config.timings.natGatewayDeletedVisibleMs) });
      ctx.emit({ type: 'nat-gateway.state', natGatewayId: gateway.id, state: 'deleted' });
    } else {
      // deleted or failed, and visible long enough
      await deleteAllTags(ctx, gateway.id);
      await ctx.tx.deleteFrom('nat_gateways').where('id', '=', gateway.id).execute();
    }
  }
}

// --- describing --------------------------------------------------------------------------------------

/** The status AWS shows for an address while its gateway is in a state. */
function addressStatus(state: string, address: NatAddress): NatGatewayAddress['Status'] {
  if (address.failureMessage) return 'failed';
  const elastic = address.allocationId !== undefined;
  if (state === 'pending') return elastic ? 'associating' : 'assigning';
  if (state === 'deleting') return elastic ? 'disassociating' : 'unassigning';
  return 'succeeded';
}

async function natGatewaysOf(tx: Tx, rows: NatGatewayRow[]): Promise<NatGateway[]> {
  const tags = await tagsOf(tx, rows.map((r) => r.id));
  return rows.map((row) => ({
    NatGatewayId: row.id,
    CreateTime: new Date(row.created_at),
    DeleteTime: row.deleted_at ? new Date(row.deleted_at) : undefined,
    FailureCode: row.failure_code ?? undefined,
    FailureMessage: row.failure_message ?? undefined,
    NatGatewayAddresses: (JSON.parse(row.addresses) as NatAddress[]).map((a) => ({
      AllocationId: a.allocationId,
      NetworkInterfaceId: row.network_interface_id ?? undefined,
      PrivateIp: a.privateIp,
      PublicIp: a.publicIp,
      // AWS: the association is gone with the gateway.
      AssociationId: row.state === 'deleted' ? undefined : a.associationId,
      IsPrimary: a.isPrimary,
      FailureMessage: a.failureMessage,
      Status: addressStatus(row.state, a),
    })),
    State: row.state as NatGateway['State'],
    SubnetId: row.subnet_id,
    VpcId: row.vpc_id,
    ConnectivityType: row.connectivity_type as NatGateway['ConnectivityType'],
    AvailabilityMode: 'zonal',
    Tags: tags.get(row.id) ?? [],
  }));
}

async function describeOne(ctx: Context, id: string): Promise<NatGateway> {
  return (await natGatewaysOf(ctx.tx, [await getNatGateway(ctx, id)]))[0];
}

export async function describeNatGateways(ctx: Context, input: DescribeNatGatewaysRequest): Promise<DescribeNatGatewaysResult> {
  checkIds('nat', Errors.natGatewayId, input.NatGatewayIds ?? []);
  const page = await describeRows<NatGatewayRow>(ctx.tx, {
    table: 'nat_gateways',
    account: ctx.account,
    region: ctx.region,
    ids: input.NatGatewayIds,
    idErrors: Errors.natGatewayId,
    filters: input.Filter,
    spec: NAT_GATEWAY_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { NatGateways: await natGatewaysOf(ctx.tx, page.rows), NextToken: page.nextToken };
}

// --- changing a gateway's addresses -----------------------------------------------------------------

interface LiveGateway {
  gateway: NatGatewayRow;
  eni: Row<'network_interfaces'>;
  subnet: Row<'subnets'>;
  addresses: NatAddress[];
}

/** AWS: a gateway's addresses change only while it is available. */
async function liveGateway(ctx: Context, id: string | undefined): Promise<LiveGateway> {
  const gateway = await getNatGateway(ctx, id);
  if (gateway.state !== 'available' || !gateway.network_interface_id) {
    throw Errors.invalidParameter(`The NAT gateway ${gateway.id} is ${gateway.state}; its addresses can change only while it is available.`);
  }
  const eni = await ctx.tx.selectFrom('network_interfaces').selectAll().where('id', '=', gateway.network_interface_id).executeTakeFirstOrThrow();
  const subnet = await ctx.tx.selectFrom('subnets').selectAll().where('id', '=', gateway.subnet_id).executeTakeFirstOrThrow();
  return { gateway, eni, subnet, addresses: JSON.parse(gateway.addresses) as NatAddress[] };
}

async function saveAddresses(ctx: Context, gatewayId: string, addresses: NatAddress[]): Promise<void> {
  await ctx.tx.updateTable('nat_gateways').set({ addresses: JSON.stringify(addresses) }).where('id', '=', gatewayId).execute();
}

/** New secondary private addresses on the gateway's interface (named ones first, then `count` more). */
async function addPrivateAddresses(ctx: Context, live: LiveGateway, named: readonly string[], count: number): Promise<string[]> {
  if (live.addresses.length + named.length + count > ctx.config.quotas.privateIpsPerNatGateway) {
    throw Errors.invalidParameterValue(`A NAT gateway can hold at most ${ctx.config.quotas.privateIpsPerNatGateway} private IPv4 addresses.`);
  }
  const taken = await takeAddresses(ctx, live.subnet, named, count);
  await recordAddresses(ctx, live.eni, live.subnet.id, taken.map((address) => ({ address, primary: false })));
  return taken.map(formatIpv4);
}

const addressesResult = (gatewayId: string, addresses: NatAddress[], eniId: string, status: NatGatewayAddress['Status']) => ({
  NatGatewayId: gatewayId,
  NatGatewayAddresses: addresses.map((a) => ({
    AllocationId: a.allocationId,
    AssociationId: a.associationId,
    NetworkInterfaceId: eniId,
    PrivateIp: a.privateIp,
    PublicIp: a.publicIp,
    IsPrimary: a.isPrimary,
    Status: status,
  })),
});

export async function assignPrivateNatGatewayAddress(ctx: Context, input: AssignPrivateNatGatewayAddressRequest): Promise<AssignPrivateNatGatewayAddressResult> {
  const named = input.PrivateIpAddresses ?? [];
  if (named.length && input.PrivateIpAddressCount !== undefined) {
    throw Errors.invalidParameterCombination('PrivateIpAddresses and PrivateIpAddressCount cannot be combined.');
  }
  if (!named.length && input.PrivateIpAddressCount === undefined) throw Errors.missingParameter('PrivateIpAddresses or PrivateIpAddressCount');
  const live = await liveGateway(ctx, input.NatGatewayId);
  const ips = await addPrivateAddresses(ctx, live, named, input.PrivateIpAddressCount ?? 0);
  const added = ips.map((privateIp): NatAddress => ({ privateIp, isPrimary: false }));
  await saveAddresses(ctx, live.gateway.id, [...live.addresses, ...added]);
  return addressesResult(live.gateway.id, added, live.eni.id, 'assigning');
}

export async function unassignPrivateNatGatewayAddress(ctx: Context, input: UnassignPrivateNatGatewayAddressRequest): Promise<UnassignPrivateNatGatewayAddressResult> {
  const ips = input.PrivateIpAddresses ?? [];
  if (!ips.length) throw Errors.missingParameter('PrivateIpAddresses');
  const live = await liveGateway(ctx, input.NatGatewayId);
  const removed: NatAddress[] = [];
  for (const ip of new Set(ips)) {
    const address = live.addresses.find((a) => a.privateIp === ip);
    if (!address) throw Errors.invalidParameterValue(`The private IP address ${ip} is not assigned to the NAT gateway ${live.gateway.id}.`);
    // AWS: the primary address stays; one holding an Elastic IP is disassociated first.
    if (address.isPrimary) throw Errors.invalidParameterValue(`The primary private IP address ${ip} of the NAT gateway ${live.gateway.id} cannot be unassigned.`);
    if (address.allocationId) throw Errors.invalidParameterValue(`The private IP address ${ip} is associated with ${address.allocationId}; disassociate it first.`);
    const value = parseIpv4(ip)!;
    await ctx.tx.deleteFrom('private_ip_addresses').where('network_interface_id', '=', live.eni.id).where('address_int', '=', value).execute();
    await release(ctx.tx, live.subnet.id, value);
    removed.push(address);
  }
  await saveAddresses(ctx, live.gateway.id, live.addresses.filter((a) => !removed.includes(a)));
  return addressesResult(live.gateway.id, removed, live.eni.id, 'unassigning');
}

export async function associateNatGatewayAddress(ctx: Context, input: AssociateNatGatewayAddressRequest): Promise<AssociateNatGatewayAddressResult> {
  const allocationIds = input.AllocationIds ?? [];
  if (!allocationIds.length) throw Errors.missingParameter('AllocationIds');
  checkIds('eipalloc', Errors.allocationId, allocationIds);
  const named = input.PrivateIpAddresses ?? [];
  if (named.length && named.length !== allocationIds.length) {
    throw Errors.invalidParameterCombination('PrivateIpAddresses must name one address for each of the AllocationIds.');
  }
  const live = await liveGateway(ctx, input.NatGatewayId);
  if (live.gateway.connectivity_type !== 'public') throw Errors.invalidParameterCombination('Elastic IP addresses cannot be associated with a private NAT gateway.');
  const eips = await elasticIpsOf(ctx, allocationIds);
  for (const eip of eips) {
    if (eip.association_id) throw Errors.resourceAlreadyAssociated(`Elastic IP address [${eip.allocation_id}] is already associated`);
  }
  if (live.addresses.filter((a) => a.allocationId).length + eips.length > ctx.config.quotas.elasticIpsPerNatGateway) {
    throw Errors.invalidParameterValue(`A NAT gateway can hold at most ${ctx.config.quotas.elasticIpsPerNatGateway} Elastic IP addresses.`);
  }
  // Named addresses must be the gateway's secondary addresses without an Elastic IP; otherwise new ones are assigned.
  for (const ip of named) {
    const address = live.addresses.find((a) => a.privateIp === ip);
    if (!address || address.isPrimary || address.allocationId) {
      throw Errors.invalidParameterValue(`The private IP address ${ip} is not a free secondary address of the NAT gateway ${live.gateway.id}.`);
    }
  }
  const targets = named.length ? [...named] : await addPrivateAddresses(ctx, live, [], eips.length);
  if (!named.length) live.addresses.push(...targets.map((privateIp): NatAddress => ({ privateIp, isPrimary: false })));
  const changed: NatAddress[] = [];
  for (let i = 0; i < eips.length; i++) {
    const associationId = newId('eipassoc');
    await ctx.tx
      .updateTable('public_addresses')
      .set({ association_id: associationId, network_interface_id: live.eni.id, private_ip_address: targets[i], vpc_id: live.eni.vpc_id })
      .where('public_ip', '=', eips[i].public_ip)
      .execute();
    ctx.emit({ type: 'address.associated', publicIp: eips[i].public_ip, allocationId: eips[i].allocation_id, associationId, networkInterfaceId: live.eni.id, privateIpAddress: targets[i] });
    const address = live.addresses.find((a) => a.privateIp === targets[i])!;
    Object.assign(address, { allocationId: eips[i].allocation_id!, publicIp: eips[i].public_ip, associationId });
    changed.push(address);
  }
  await saveAddresses(ctx, live.gateway.id, live.addresses);
  return addressesResult(live.gateway.id, changed, live.eni.id, 'associating');
}

export async function disassociateNatGatewayAddress(ctx: Context, input: DisassociateNatGatewayAddressRequest): Promise<DisassociateNatGatewayAddressResult> {
  const associationIds = input.AssociationIds ?? [];
  if (!associationIds.length) throw Errors.missingParameter('AssociationIds');
  checkIds('eipassoc', Errors.associationId, associationIds);
  const live = await liveGateway(ctx, input.NatGatewayId);
  const changed: NatAddress[] = [];
  for (const id of new Set(associationIds)) {
    const address = live.addresses.find((a) => a.associationId === id);
    if (!address) throw Errors.associationId.notFound(id);
    // AWS: the primary Elastic IP stays with the gateway for its life.
    if (address.isPrimary) throw Errors.invalidParameterValue(`The association ${id} is the NAT gateway's primary address and cannot be disassociated.`);
    const row = await ctx.tx.selectFrom('public_addresses').selectAll().where('association_id', '=', id).executeTakeFirst();
    if (row) await unmap(ctx, row);
    changed.push({ ...address });
    // The private address stays on the gateway.
    delete address.allocationId;
    delete address.publicIp;
    delete address.associationId;
  }
  await saveAddresses(ctx, live.gateway.id, live.addresses);
  return addressesResult(live.gateway.id, changed, live.eni.id, 'disassociating');
}
