/**
 * The one way to fetch a resource by the id a caller gave: absent → MissingParameter, wrong
 * shape → the kind's `.Malformed`, not in the caller's account and region → its `.NotFound`.
 */
import { Errors, type IdErrors } from './errors.ts';
import type { Database, Row } from '../store/schema.ts';
import { selectFirst } from '../store/sql-text.ts';
import type { Context } from './context.ts';
import { checkIds } from './rules/ids.ts';

type OwnedTable =
  | 'vpcs'
  | 'subnets'
  | 'instances'
  | 'network_interfaces'
  | 'internet_gateways'
  | 'egress_only_internet_gateways'
  | 'route_tables'
  | 'network_acls'
  | 'security_groups'
  | 'nat_gateways'
  | 'vpc_endpoints'
  | 'network_interface_permissions'
  | 'subnet_cidr_reservations';

const byId = (table: OwnedTable) => `select * from "${table}" where "id" = ? and "account_id" = ? and "region" = ?`;
const BY_ID: Record<OwnedTable, string> = {
  vpcs: byId('vpcs'),
  subnets: byId('subnets'),
  instances: byId('instances'),
  network_interfaces: byId('network_interfaces'),
  internet_gateways: byId('internet_gateways'),
  egress_only_internet_gateways: byId('egress_only_internet_gateways'),
  route_tables: byId('route_tables'),
  network_acls: byId('network_acls'),
  security_groups: byId('security_groups'),
  nat_gateways: byId('nat_gateways'),
  vpc_endpoints: byId('vpc_endpoints'),
  network_interface_permissions: byId('network_interface_permissions'),
  subnet_cidr_reservations: byId('subnet_cidr_reservations'),
};

/** The caller's resource with this id, if there is one (no check of the id's shape). */
export async function findOwned<T extends OwnedTable & keyof Database>(ctx: Context, table: T, id: string): Promise<Row<T> | undefined> {
  return selectFirst<Row<T>>(ctx.tx, BY_ID[table], [id, ctx.account, ctx.region]);
}

export async function getOwned<T extends OwnedTable & keyof Database>(
  ctx: Context,
  kind: { table: T; prefix: string; errors: IdErrors },
  id: string | undefined,
  parameter: string,
): Promise<Row<T>> {
  if (id === undefined) throw Errors.missingParameter(parameter);
  checkIds(kind.prefix, kind.errors, [id]);
  const row = await findOwned(ctx, kind.table, id);
  if (!row) throw kind.errors.notFound(id);
  return row;
}
