/**
 * Per-account, per-region counts of a kind of resource, kept in the same transaction as the
 * rows they count, for quotas checked on hot paths: a create then costs one row update, not a
 * count over every resource of the account.
 */
import type { Context } from './context.ts';

/** Adds `delta` to the count of `kind` in the caller's account and region; returns the new count. */
export async function countResource(ctx: Context, kind: string, delta: number): Promise<number> {
  await ctx.tx
    .insertInto('resource_counts')
    .values({ account_id: ctx.account, region: ctx.region, kind, count: delta })
    .onConflict((oc) => oc.columns(['account_id', 'region', 'kind']).doUpdateSet((eb) => ({ count: eb('resource_counts.count', '+', delta) })))
    .execute();
  const row = await ctx.tx
    .selectFrom('resource_counts')
    .select('count')
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('kind', '=', kind)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
