/**
 * Per-account, per-region counts of a kind of resource, kept in the same transaction as the
 * rows they count, for quotas checked on hot paths: a create then costs one row update, not a
 * count over every resource of the account.
 */
import { selectFirst } from '../store/sql-text.ts';
import type { Database } from '../store/schema.ts';
import type { Context } from './context.ts';

const ADD_TO_COUNT =
  'insert into "resource_counts" ("account_id", "region", "kind", "count") values (?, ?, ?, ?) ' +
  'on conflict ("account_id", "region", "kind") do update set "count" = "resource_counts"."count" + ? returning "count"';

/** Adds `delta` to the count of `kind` in the caller's account and region; returns the new count. */
export async function countResource(ctx: Context, kind: string, delta: number): Promise<number> {
  const row = await selectFirst<{ count: number }>(ctx.tx, ADD_TO_COUNT, [ctx.account, ctx.region, kind, delta, delta]);
  if (!row) throw new Error(`no ${kind} count for ${ctx.account} in ${ctx.region}`);
  return Number(row.count);
}

/** How many rows of a (scoped) table the caller has in its account and region: for quotas checked off the hot paths. */
export async function countInRegion(ctx: Context, table: keyof Database): Promise<number> {
  const row = await selectFirst<{ count: number | string }>(ctx.tx, `select count(*) as "count" from "${table}" where "account_id" = ? and "region" = ?`, [ctx.account, ctx.region]);
  return Number(row?.count ?? 0);
}
