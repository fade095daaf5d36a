/**
 * The one way to fetch a resource by the id a caller gave: absent → MissingParameter, wrong
 * shape → the kind's `.Malformed`, not in the caller's account and region → its `.NotFound`.
 */
import { Errors, type IdErrors } from '../api/ec2/errors.ts';
import type { Database, Row } from '../store/schema.ts';
import type { Context } from './context.ts';
import { checkIds } from './rules/ids.ts';

type OwnedTable = 'vpcs' | 'subnets' | 'instances' | 'network_interfaces' | 'internet_gateways' | 'route_tables' | 'network_acls';

export async function getOwned<T extends OwnedTable & keyof Database>(
  ctx: Context,
  kind: { table: T; prefix: string; errors: IdErrors },
  id: string | undefined,
  parameter: string,
): Promise<Row<T>> {
  if (id === undefined) throw Errors.missingParameter(parameter);
  checkIds(kind.prefix, kind.errors, [id]);
  const row = await ctx.tx
    .selectFrom(kind.table as 'vpcs')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .executeTakeFirst();
  if (!row) throw kind.errors.notFound(id);
  return row as unknown as Row<T>;
}
