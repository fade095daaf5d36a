/**
 * Route tables: every VPC's main table with its `local` routes, CreateRouteTable,
 * DeleteRouteTable, CreateRoute, ReplaceRoute, DeleteRoute, AssociateRouteTable,
 * DisassociateRouteTable, ReplaceRouteTableAssociation, DescribeRouteTables.
 *
 * AWS: a subnet uses the table it is associated with, else the VPC's main table; `local`
 * routes cover the VPC's blocks and cannot be removed; a route to an interface sends traffic to
 * whatever instance holds the interface now (a blackhole while it is detached); the main table
 * and a table with associations cannot be deleted.
 */
import type {
  AssociateRouteTableRequest,
  AssociateRouteTableResult,
  CreateRouteRequest,
  CreateRouteResult,
  CreateRouteTableRequest,
  CreateRouteTableResult,
  DeleteRouteRequest,
  DeleteRouteTableRequest,
  DescribeRouteTablesRequest,
  DescribeRouteTablesResult,
  DisassociateRouteTableRequest,
  ReplaceRouteRequest,
  ReplaceRouteTableAssociationRequest,
  ReplaceRouteTableAssociationResult,
  Route,
  RouteTable,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { formatIpv4Cidr, parseIpv4Cidr } from '../ipam/ipv4.ts';
import { formatIpv6Cidr, parseIpv6Cidr } from '../ipam/ipv6.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { checkIds, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';
import { inOrder } from '../store/in-order.ts';
import { getInstance } from './instances.ts';
import { getEgressOnlyInternetGateway } from './egress-only-internet-gateways.ts';
import { getInternetGateway } from './internet-gateways.ts';
import { getInterface } from './network-interfaces.ts';
import { findOwned, getOwned } from './owned.ts';
import { getPrefixList, sizesOf } from './prefix-lists.ts';

type RouteTableRow = Row<'route_tables'>;
type RouteRow = Row<'routes'>;

const ROUTES_PER_TABLE = 50;
const ROUTE_TABLES_PER_VPC = 200;

const ROUTE_TABLE_FILTERS: FilterSpec = {
  'route-table-id': { column: 'id' },
  'vpc-id': { column: 'vpc_id' },
  'owner-id': { column: 'account_id' },
  'association.main': { table: 'route_table_associations', foreignKey: 'route_table_id', column: 'is_main', type: 'boolean' },
  'association.subnet-id': { table: 'route_table_associations', foreignKey: 'route_table_id', column: 'subnet_id' },
  'association.route-table-association-id': { table: 'route_table_associations', foreignKey: 'route_table_id', column: 'id' },
  'association.route-table-id': { table: 'route_table_associations', foreignKey: 'route_table_id', column: 'route_table_id' },
  'route.destination-cidr-block': { table: 'routes', foreignKey: 'route_table_id', column: 'destination', where: { family: 4 } },
  'route.destination-ipv6-cidr-block': { table: 'routes', foreignKey: 'route_table_id', column: 'destination', where: { family: 6 } },
  'route.gateway-id': { table: 'routes', foreignKey: 'route_table_id', column: 'gateway_id' },
  'route.network-interface-id': { table: 'routes', foreignKey: 'route_table_id', column: 'network_interface_id' },
  'route.nat-gateway-id': { table: 'routes', foreignKey: 'route_table_id', column: 'nat_gateway_id' },
  'route.egress-only-internet-gateway-id': { table: 'routes', foreignKey: 'route_table_id', column: 'egress_only_internet_gateway_id' },
  'route.origin': { table: 'routes', foreignKey: 'route_table_id', column: 'origin' },
  'route.destination-prefix-list-id': { table: 'routes', foreignKey: 'route_table_id', column: 'destination', where: { family: 0 } },
  'route.instance-id': {
    table: 'routes',
    foreignKey: 'route_table_id',
    column: 'network_interface_id',
    in: { table: 'network_interfaces', key: 'id', column: 'instance_id' },
  },
};

// --- tables ----------------------------------------------------------------------------------------

async function insertRouteTable(ctx: Context, vpcId: string, main: boolean): Promise<string> {
  const id = newId('rtb');
  await ctx.tx.insertInto('route_tables').values({ id, account_id: ctx.account, region: ctx.region, vpc_id: vpcId, is_main: main ? 1 : 0, created_at: ctx.now.toISOString() }).execute();
  const blocks = await ctx.tx.selectFrom('vpc_cidr_blocks').selectAll().where('vpc_id', '=', vpcId).execute();
  for (const block of blocks) await addLocalRoute(ctx.tx, id, block.cidr_block, block.family);
  return id;
}

/** AWS: a VPC is made with its main route table, holding the `local` route of its block. */
export async function createMainRouteTable(ctx: Context, vpcId: string): Promise<string> {
  const id = await insertRouteTable(ctx, vpcId, true);
  await ctx.tx.insertInto('route_table_associations').values({ id: newId('rtbassoc'), route_table_id: id, subnet_id: null, is_main: 1 }).execute();
  return id;
}

async function addLocalRoute(tx: Tx, routeTableId: string, cidr: string, family: number): Promise<void> {
  await tx
    .insertInto('routes')
    .values({ route_table_id: routeTableId, destination: cidr, family, gateway_id: 'local', network_interface_id: null, origin: 'CreateRouteTable' })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** A block added to a VPC gets its `local` route in every table of the VPC. */
export async function addLocalRoutes(ctx: Context, vpcId: string, cidr: string, family: number): Promise<void> {
  const tables = await ctx.tx.selectFrom('route_tables').select('id').where('vpc_id', '=', vpcId).execute();
  for (const t of tables) await addLocalRoute(ctx.tx, t.id, cidr, family);
}

export async function removeLocalRoutes(ctx: Context, vpcId: string, cidr: string): Promise<void> {
  await ctx.tx
    .deleteFrom('routes')
    .where('destination', '=', cidr)
    .where('gateway_id', '=', 'local')
    .where('route_table_id', 'in', ctx.tx.selectFrom('route_tables').select('id').where('vpc_id', '=', vpcId))
    .execute();
}

/** Removes a VPC's main table when the VPC goes (the caller has checked no other table remains). */
export async function deleteMainRouteTable(ctx: Context, vpcId: string): Promise<void> {
  const tables = await ctx.tx.selectFrom('route_tables').select('id').where('vpc_id', '=', vpcId).execute();
  for (const t of tables) {
    await ctx.tx.deleteFrom('route_table_associations').where('route_table_id', '=', t.id).execute();
    await ctx.tx.deleteFrom('routes').where('route_table_id', '=', t.id).execute();
    await deleteAllTags(ctx, t.id);
  }
  await ctx.tx.deleteFrom('route_tables').where('vpc_id', '=', vpcId).execute();
}

/** The route table a subnet uses: its explicit association, else the VPC's main table. */
export async function routeTableOfSubnet(tx: Tx, subnet: Pick<Row<'subnets'>, 'id' | 'vpc_id'>): Promise<RouteTableRow | undefined> {
  const explicit = await tx
    .selectFrom('route_table_associations')
    .innerJoin('route_tables', 'route_tables.id', 'route_table_associations.route_table_id')
    .selectAll('route_tables')
    .where('route_table_associations.subnet_id', '=', subnet.id)
    .executeTakeFirst();
  if (explicit) return explicit;
  return tx.selectFrom('route_tables').selectAll().where('vpc_id', '=', subnet.vpc_id).where('is_main', '=', 1).executeTakeFirst();
}

export async function routesOf(tx: Tx, routeTableId: string): Promise<RouteRow[]> {
  return tx.selectFrom('routes').selectAll().where('route_table_id', '=', routeTableId).execute();
}

export async function getRouteTable(ctx: Context, id: string | undefined): Promise<RouteTableRow> {
  return getOwned(ctx, { table: 'route_tables', prefix: 'rtb', errors: Errors.routeTableId }, id, 'RouteTableId');
}

export async function createRouteTable(ctx: Context, input: CreateRouteTableRequest): Promise<CreateRouteTableResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['route-table']);
  const vpc = await getOwned(ctx, { table: 'vpcs', prefix: 'vpc', errors: Errors.vpcId }, input.VpcId, 'VpcId');
  const { n } = await ctx.tx.selectFrom('route_tables').select((eb) => eb.fn.countAll<number>().as('n')).where('vpc_id', '=', vpc.id).executeTakeFirstOrThrow();
  if (Number(n) >= ROUTE_TABLES_PER_VPC) throw Errors.routeTableLimitExceeded();
  const id = await insertRouteTable(ctx, vpc.id, false);
  await applyTagSpecifications(ctx, 'route-table', id, input.TagSpecifications);
  return { RouteTable: (await routeTablesOf(ctx.tx, [await getRouteTable(ctx, id)]))[0] };
}

export async function deleteRouteTable(ctx: Context, input: DeleteRouteTableRequest): Promise<Record<string, never>> {
  const table = await getRouteTable(ctx, input.RouteTableId);
  const association = await ctx.tx.selectFrom('route_table_associations').select('id').where('route_table_id', '=', table.id).executeTakeFirst();
  // AWS: the main table, and a table still associated with subnets, cannot be deleted.
  if (table.is_main === 1 || association) {
    throw Errors.dependencyViolation(`The routeTable '${table.id}' has dependencies and cannot be deleted.`);
  }
  await ctx.tx.deleteFrom('routes').where('route_table_id', '=', table.id).execute();
  // A Gateway endpoint's routes go with the table, and so does the endpoint's record of it.
  await ctx.tx.deleteFrom('vpc_endpoint_route_tables').where('route_table_id', '=', table.id).execute();
  await ctx.tx.deleteFrom('route_tables').where('id', '=', table.id).execute();
  await deleteAllTags(ctx, table.id);
  return {};
}

// --- routes ----------------------------------------------------------------------------------------

type RouteDestinationInput = { DestinationCidrBlock?: string; DestinationIpv6CidrBlock?: string; DestinationPrefixListId?: string };

/** A route's destination: a CIDR of either family, or a prefix list (stored as its id, family 0). */
async function destinationOf(ctx: Context, input: RouteDestinationInput, use: 'create' | 'existing'): Promise<{ destination: string; family: number }> {
  const given = [input.DestinationCidrBlock, input.DestinationIpv6CidrBlock, input.DestinationPrefixListId].filter((v) => v !== undefined);
  if (given.length === 0) throw Errors.missingParameter('DestinationCidrBlock or DestinationIpv6CidrBlock or DestinationPrefixListId');
  if (given.length > 1) {
    throw Errors.invalidParameterCombination('Only one of DestinationCidrBlock, DestinationIpv6CidrBlock and DestinationPrefixListId may be given.');
  }
  if (input.DestinationPrefixListId !== undefined) {
    if (use === 'existing') {
      checkIds('pl', Errors.prefixListId, [input.DestinationPrefixListId]);
      return { destination: input.DestinationPrefixListId, family: PREFIX_LIST_FAMILY };
    }
    const list = await getPrefixList(ctx, input.DestinationPrefixListId, 'DestinationPrefixListId');
    // AWS: routes to AWS-managed lists are made by gateway endpoints, not by CreateRoute.
    if (list.awsManaged) {
      throw Errors.invalidParameterValue(`The prefix list ${list.id} is an AWS-managed prefix list and cannot be used as a route destination.`);
    }
    return { destination: list.id, family: PREFIX_LIST_FAMILY };
  }
  if (input.DestinationCidrBlock !== undefined) {
    const cidr = parseIpv4Cidr(input.DestinationCidrBlock);
    if (!cidr) throw Errors.invalidParameterValueFor('DestinationCidrBlock', input.DestinationCidrBlock);
    return { destination: formatIpv4Cidr(cidr), family: 4 };
  }
  const cidr = parseIpv6Cidr(input.DestinationIpv6CidrBlock!);
  if (!cidr) throw Errors.invalidParameterValueFor('DestinationIpv6CidrBlock', input.DestinationIpv6CidrBlock!);
  return { destination: formatIpv6Cidr(cidr), family: 6 };
}

/** Routes to a prefix list are stored with the list's id as destination and this family (neither 4 nor 6). */
export const PREFIX_LIST_FAMILY = 0;
export const isPrefixListDestination = (destination: string) => destination.startsWith('pl-');

/** AWS: 50 routes a table, a route to a prefix list counting as the list's MaxEntries. */
async function checkRouteQuota(ctx: Context, tableId: string, adding: string): Promise<void> {
  const destinations = (await ctx.tx.selectFrom('routes').select('destination').where('route_table_id', '=', tableId).execute()).map((r) => r.destination);
  destinations.push(adding);
  const sizes = await sizesOf(ctx.tx, ctx.region, destinations.filter(isPrefixListDestination));
  const weight = destinations.reduce((n, d) => n + (isPrefixListDestination(d) ? (sizes.get(d)?.maxEntries ?? 1) : 1), 0);
  if (weight > ROUTES_PER_TABLE) throw Errors.routeLimitExceeded();
}

type RouteTarget = Pick<RouteRow, 'gateway_id' | 'network_interface_id' | 'nat_gateway_id' | 'egress_only_internet_gateway_id'>;

const NO_TARGET: RouteTarget = { gateway_id: null, network_interface_id: null, nat_gateway_id: null, egress_only_internet_gateway_id: null };

/**
 * The target of a route: an internet gateway, an egress-only internet gateway or a NAT gateway
 * of the VPC, an interface, or an instance's only interface.
 */
async function targetOf(ctx: Context, table: RouteTableRow, input: CreateRouteRequest): Promise<RouteTarget> {
  const unsupported = [input.TransitGatewayId, input.VpcPeeringConnectionId, input.VpcEndpointId, input.LocalGatewayId, input.CarrierGatewayId, input.CoreNetworkArn];
  if (unsupported.some((v) => v !== undefined)) {
    throw Errors.unsupported('eni-local routes to internet gateways, egress-only internet gateways, NAT gateways, network interfaces and instances only.');
  }
  const targets = [input.GatewayId, input.NetworkInterfaceId, input.InstanceId, input.NatGatewayId, input.EgressOnlyInternetGatewayId].filter((v) => v !== undefined);
  if (targets.length !== 1) {
    throw Errors.invalidParameterCombination('A route needs exactly one target: GatewayId, EgressOnlyInternetGatewayId, NatGatewayId, NetworkInterfaceId or InstanceId.');
  }
  if (input.EgressOnlyInternetGatewayId !== undefined) {
    const gateway = await getEgressOnlyInternetGateway(ctx, input.EgressOnlyInternetGatewayId);
    if (gateway.vpc_id !== table.vpc_id) {
      throw Errors.invalidParameterValue(`route table ${table.id} and network gateway ${gateway.id} belong to different networks`);
    }
    // AWS: an egress-only internet gateway carries IPv6 only (an IPv6 CIDR, or a prefix list of IPv6 entries).
    if (input.DestinationIpv6CidrBlock === undefined) {
      const list = input.DestinationPrefixListId !== undefined ? await getPrefixList(ctx, input.DestinationPrefixListId, 'DestinationPrefixListId') : undefined;
      if (list?.addressFamily !== 'IPv6') throw Errors.egressOnlyGatewayIpv4Route(gateway.id);
    }
    return { ...NO_TARGET, egress_only_internet_gateway_id: gateway.id };
  }
  if (input.NatGatewayId !== undefined) {
    checkIds('nat', Errors.natGatewayId, [input.NatGatewayId]);
    const gateway = await findOwned(ctx, 'nat_gateways', input.NatGatewayId);
    if (!gateway) throw Errors.routeNatGatewayNotFound(input.NatGatewayId);
    if (gateway.vpc_id !== table.vpc_id) {
      throw Errors.invalidParameterValue(`route table ${table.id} and network gateway ${gateway.id} belong to different networks`);
    }
    // AWS: a NAT gateway translates IPv4 only (IPv6 goes through an egress-only internet gateway).
    if (input.DestinationIpv6CidrBlock !== undefined && input.DestinationCidrBlock === undefined) {
      throw Errors.invalidParameterValue(`NAT gateway ${gateway.id} cannot be the target of an IPv6 route.`);
    }
    return { ...NO_TARGET, nat_gateway_id: gateway.id };
  }
  if (input.GatewayId !== undefined) {
    const igw = await getInternetGateway(ctx, input.GatewayId);
    if (igw.vpc_id !== table.vpc_id) {
      throw Errors.invalidParameterValue(`route table ${table.id} and network gateway ${igw.id} belong to different networks`);
    }
    return { ...NO_TARGET, gateway_id: igw.id };
  }
  let eniId = input.NetworkInterfaceId;
  if (input.InstanceId !== undefined) {
    const instance = await getInstance(ctx, input.InstanceId);
    const nics = await ctx.tx.selectFrom('network_interfaces').select('id').where('instance_id', '=', instance.id).execute();
    // AWS: a route to an instance needs an instance with one interface; otherwise name the interface.
    if (nics.length !== 1) throw Errors.invalidInstanceIdMultipleInterfaces(instance.id);
    eniId = nics[0].id;
  }
  const eni = await getInterface(ctx, eniId);
  if (eni.vpc_id !== table.vpc_id) throw Errors.invalidParameterValue(`route table ${table.id} and interface ${eni.id} belong to different networks`);
  return { ...NO_TARGET, network_interface_id: eni.id };
}

export async function createRoute(ctx: Context, input: CreateRouteRequest): Promise<CreateRouteResult> {
  const table = await getRouteTable(ctx, input.RouteTableId);
  const { destination, family } = await destinationOf(ctx, input, 'create');
  const target = await targetOf(ctx, table, input);
  const existing = await ctx.tx.selectFrom('routes').select('destination').where('route_table_id', '=', table.id).where('destination', '=', destination).executeTakeFirst();
  if (existing) throw Errors.routeAlreadyExists(destination, table.id);
  await checkRouteQuota(ctx, table.id, destination);
  await ctx.tx.insertInto('routes').values({ route_table_id: table.id, destination, family, ...target, origin: 'CreateRoute' }).execute();
  return { Return: true };
}

async function existingRoute(ctx: Context, table: RouteTableRow, destination: string): Promise<RouteRow> {
  const route = await ctx.tx.selectFrom('routes').selectAll().where('route_table_id', '=', table.id).where('destination', '=', destination).executeTakeFirst();
  if (!route) throw Errors.routeNotFound(destination, table.id);
  return route;
}

/** A route for one of the VPC's own blocks, made with the table: its target may change, it never goes. */
async function isLocalRoute(ctx: Context, table: RouteTableRow, route: RouteRow): Promise<boolean> {
  if (route.origin !== 'CreateRouteTable') return false;
  const block = await ctx.tx.selectFrom('vpc_cidr_blocks').select('cidr_block').where('vpc_id', '=', table.vpc_id).where('cidr_block', '=', route.destination).executeTakeFirst();
  return !!block;
}

export async function replaceRoute(ctx: Context, input: ReplaceRouteRequest): Promise<Record<string, never>> {
  const table = await getRouteTable(ctx, input.RouteTableId);
  const { destination } = await destinationOf(ctx, input, 'existing');
  const route = await existingRoute(ctx, table, destination);
  if (await isLocalRoute(ctx, table, route)) {
    // AWS: a local route's target may become an interface (a middlebox), and LocalTarget restores it.
    if (input.LocalTarget) {
      await ctx.tx.updateTable('routes').set({ ...NO_TARGET, gateway_id: 'local' }).where('route_table_id', '=', table.id).where('destination', '=', destination).execute();
      return {};
    }
    if (input.NetworkInterfaceId === undefined) {
      throw Errors.invalidParameterValue(`The target of the local route ${destination} in route table ${table.id} can only be a network interface.`);
    }
    const target = await targetOf(ctx, table, input as CreateRouteRequest);
    await ctx.tx.updateTable('routes').set(target).where('route_table_id', '=', table.id).where('destination', '=', destination).execute();
    return {};
  }
  if (input.LocalTarget) throw Errors.invalidParameterValue(`The route ${destination} in route table ${table.id} is not a local route.`);
  const target = await targetOf(ctx, table, input as CreateRouteRequest);
  await ctx.tx.updateTable('routes').set({ ...target, origin: 'CreateRoute' }).where('route_table_id', '=', table.id).where('destination', '=', destination).execute();
  return {};
}

export async function deleteRoute(ctx: Context, input: DeleteRouteRequest): Promise<Record<string, never>> {
  const table = await getRouteTable(ctx, input.RouteTableId);
  const { destination } = await destinationOf(ctx, input, 'existing');
  const route = await existingRoute(ctx, table, destination);
  // AWS: the local route is the VPC's own; it cannot be removed (Terraform recognises this wording).
  if (await isLocalRoute(ctx, table, route)) throw Errors.invalidParameterValue(`cannot remove local route ${destination} in route table ${table.id}`);
  await ctx.tx.deleteFrom('routes').where('route_table_id', '=', table.id).where('destination', '=', destination).execute();
  return {};
}

// --- associations ----------------------------------------------------------------------------------

export async function associateRouteTable(ctx: Context, input: AssociateRouteTableRequest): Promise<AssociateRouteTableResult> {
  const table = await getRouteTable(ctx, input.RouteTableId);
  if (input.GatewayId !== undefined) throw Errors.unsupported('Gateway route table associations are not supported by eni-local.');
  const subnet = await getOwned(ctx, { table: 'subnets', prefix: 'subnet', errors: Errors.subnetId }, input.SubnetId, 'SubnetId');
  if (subnet.vpc_id !== table.vpc_id) throw Errors.invalidParameterValue(`Route table ${table.id} and subnet ${subnet.id} belong to different networks`);
  const current = await ctx.tx.selectFrom('route_table_associations').select(['id', 'route_table_id']).where('subnet_id', '=', subnet.id).executeTakeFirst();
  // AWS: a subnet has one explicit association; moving it is ReplaceRouteTableAssociation.
  if (current) throw Errors.resourceAlreadyAssociated(`the specified association for route table ${current.route_table_id} conflicts with an existing association`);
  const id = newId('rtbassoc');
  await ctx.tx.insertInto('route_table_associations').values({ id, route_table_id: table.id, subnet_id: subnet.id, is_main: 0 }).execute();
  return { AssociationId: id, AssociationState: { State: 'associated' } };
}

async function getAssociation(ctx: Context, id: string | undefined) {
  if (id === undefined) throw Errors.missingParameter('AssociationId');
  const row = await ctx.tx
    .selectFrom('route_table_associations')
    .innerJoin('route_tables', 'route_tables.id', 'route_table_associations.route_table_id')
    .select(['route_table_associations.id', 'route_table_associations.subnet_id', 'route_table_associations.is_main', 'route_tables.vpc_id', 'route_tables.id as route_table_id'])
    .where('route_table_associations.id', '=', id)
    .where('route_tables.account_id', '=', ctx.account)
    .where('route_tables.region', '=', ctx.region)
    .executeTakeFirst();
  if (!row) throw Errors.routeTableAssociationNotFound(id);
  return row;
}

export async function disassociateRouteTable(ctx: Context, input: DisassociateRouteTableRequest): Promise<Record<string, never>> {
  const association = await getAssociation(ctx, input.AssociationId);
  // AWS: the main association can only be moved (ReplaceRouteTableAssociation), never removed.
  if (association.is_main === 1) throw Errors.invalidParameterValue(`cannot disassociate the main route table association ${association.id}`);
  await ctx.tx.deleteFrom('route_table_associations').where('id', '=', association.id).execute();
  return {};
}

export async function replaceRouteTableAssociation(ctx: Context, input: ReplaceRouteTableAssociationRequest): Promise<ReplaceRouteTableAssociationResult> {
  const association = await getAssociation(ctx, input.AssociationId);
  const table = await getRouteTable(ctx, input.RouteTableId);
  if (table.vpc_id !== association.vpc_id) throw Errors.invalidParameterValue(`Route table ${table.id} belongs to another VPC`);
  const newIdValue = newId('rtbassoc');
  await ctx.tx.deleteFrom('route_table_associations').where('id', '=', association.id).execute();
  await ctx.tx.insertInto('route_table_associations').values({ id: newIdValue, route_table_id: table.id, subnet_id: association.subnet_id, is_main: association.is_main }).execute();
  if (association.is_main === 1) {
    // The main association moved: the new table is the VPC's main table now.
    await ctx.tx.updateTable('route_tables').set({ is_main: 0 }).where('id', '=', association.route_table_id).execute();
    await ctx.tx.updateTable('route_tables').set({ is_main: 1 }).where('id', '=', table.id).execute();
  }
  return { NewAssociationId: newIdValue, AssociationState: { State: 'associated' } };
}

/** A subnet going away takes its explicit association with it. */
export async function forgetSubnet(ctx: Context, subnetId: string): Promise<void> {
  await ctx.tx.deleteFrom('route_table_associations').where('subnet_id', '=', subnetId).execute();
}

// --- describing ----------------------------------------------------------------------------------

/**
 * The state of a route: blackhole when its interface is detached, its gateway is not attached,
 * or its NAT gateway or egress-only internet gateway is gone.
 */
function routeState(route: RouteRow, attached: Set<string>, gateways: Map<string, string | null>, vpcId: string, liveGateways: Set<string>): 'active' | 'blackhole' {
  if (route.nat_gateway_id) return liveGateways.has(route.nat_gateway_id) ? 'active' : 'blackhole';
  if (route.egress_only_internet_gateway_id) return liveGateways.has(route.egress_only_internet_gateway_id) ? 'active' : 'blackhole';
  if (route.network_interface_id) return attached.has(route.network_interface_id) ? 'active' : 'blackhole';
  // A Gateway endpoint's route (to its service's prefix list) is active while the endpoint lives.
  if (route.gateway_id?.startsWith('vpce-')) return 'active';
  if (route.gateway_id && route.gateway_id !== 'local') return gateways.get(route.gateway_id) === vpcId ? 'active' : 'blackhole';
  return 'active';
}

async function routeTablesOf(tx: Tx, rows: RouteTableRow[]): Promise<RouteTable[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const [routes, associations, tags] = await inOrder(
    () => tx.selectFrom('routes').selectAll().where('route_table_id', 'in', ids).orderBy('destination').execute(),
    () => tx.selectFrom('route_table_associations').selectAll().where('route_table_id', 'in', ids).orderBy('id').execute(),
    () => tagsOf(tx, ids),
  );
  const eniIds = [...new Set(routes.map((r) => r.network_interface_id).filter((x): x is string => x !== null))];
  const enis = eniIds.length ? await tx.selectFrom('network_interfaces').select(['id', 'instance_id', 'attachment_status', 'account_id']).where('id', 'in', eniIds).execute() : [];
  const attached = new Set(enis.filter((e) => e.instance_id && e.attachment_status !== 'detaching').map((e) => e.id));
  const gatewayIds = [...new Set(routes.map((r) => r.gateway_id).filter((x): x is string => x !== null && x !== 'local'))];
  const gateways = new Map(
    (gatewayIds.length ? await tx.selectFrom('internet_gateways').select(['id', 'vpc_id']).where('id', 'in', gatewayIds).execute() : []).map((g) => [g.id, g.vpc_id]),
  );
  const natIds = [...new Set(routes.map((r) => r.nat_gateway_id).filter((x): x is string => x !== null))];
  const eigwIds = [...new Set(routes.map((r) => r.egress_only_internet_gateway_id).filter((x): x is string => x !== null))];
  const liveGateways = new Set([
    ...(natIds.length ? await tx.selectFrom('nat_gateways').select('id').where('id', 'in', natIds).where('state', 'in', ['pending', 'available']).execute() : []).map((n) => n.id),
    ...(eigwIds.length ? await tx.selectFrom('egress_only_internet_gateways').select('id').where('id', 'in', eigwIds).execute() : []).map((g) => g.id),
  ]);
  return rows.map((row) => ({
    RouteTableId: row.id,
    VpcId: row.vpc_id,
    OwnerId: row.account_id,
    Routes: routes
      .filter((r) => r.route_table_id === row.id)
      .map((r): Route => {
        const eni = enis.find((e) => e.id === r.network_interface_id);
        return {
          DestinationCidrBlock: r.family === 4 ? r.destination : undefined,
          DestinationIpv6CidrBlock: r.family === 6 ? r.destination : undefined,
          DestinationPrefixListId: r.family === 0 ? r.destination : undefined,
          GatewayId: r.gateway_id ?? undefined,
          NetworkInterfaceId: r.network_interface_id ?? undefined,
          NatGatewayId: r.nat_gateway_id ?? undefined,
          EgressOnlyInternetGatewayId: r.egress_only_internet_gateway_id ?? undefined,
          InstanceId: eni?.instance_id ?? undefined,
          InstanceOwnerId: eni?.instance_id ? eni.account_id : undefined,
          State: routeState(r, attached, gateways, row.vpc_id, liveGateways),
          Origin: r.origin as Route['Origin'],
        };
      }),
    Associations: associations
      .filter((a) => a.route_table_id === row.id)
      .map((a) => ({
        RouteTableAssociationId: a.id,
        RouteTableId: row.id,
        SubnetId: a.subnet_id ?? undefined,
        Main: a.is_main === 1,
        AssociationState: { State: 'associated' },
      })),
    PropagatingVgws: [],
    Tags: tags.get(row.id) ?? [],
  }));
}

export async function describeRouteTables(ctx: Context, input: DescribeRouteTablesRequest): Promise<DescribeRouteTablesResult> {
  checkIds('rtb', Errors.routeTableId, input.RouteTableIds ?? []);
  const page = await describeRows<RouteTableRow>(ctx.tx, {
    table: 'route_tables',
    account: ctx.account,
    region: ctx.region,
    ids: input.RouteTableIds,
    idErrors: Errors.routeTableId,
    filters: input.Filters,
    spec: ROUTE_TABLE_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { RouteTables: await routeTablesOf(ctx.tx, page.rows), NextToken: page.nextToken };
}
