/**
 * Transitional states that end by themselves on AWS — an instance `pending`, `stopping` or
 * `shutting-down`, an attachment `attaching` or `detaching` — carry the time they end. Every
 * request first settles, in its own transaction, whatever has come due in the caller's account
 * and region, so that what one observes is always consistent and needs no background timer
 * (and several server processes sharing one database agree).
 */
import { execute, selectEach, selectFirst, selectRows } from '../store/sql-text.ts';
import type { Context } from './context.ts';
import { releaseAutoPublicIps } from './addresses.ts';
import { DUE_NAT_GATEWAYS, settleNatGateways, type NatGatewayRow } from './nat-gateways.ts';
import { clearAttachment, destroyInterface, finishAttaching } from './network-interfaces.ts';

type DueAttachment = { id: string; attachment_status: string | null; instance_id: string | null; attachment_id: string | null };

const DUE_ATTACHMENTS = 'select "id", "attachment_status", "instance_id", "attachment_id" from "network_interfaces" where "account_id" = ? and "region" = ? and "attachment_transition_at" <= ?';
// Another account's interface attached to the caller's instance (under an INSTANCE-ATTACH permission) settles with the instance's account.
const DUE_HELD_ATTACHMENTS =
  'select "id", "attachment_status", "instance_id", "attachment_id" from "network_interfaces" where "attachment_transition_at" is not null and "instance_owner_id" = ? and "account_id" <> ? and "region" = ? and "attachment_transition_at" <= ?';
const DUE_INSTANCES = 'select "id", "state" from "instances" where "account_id" = ? and "region" = ? and "transition_at" <= ?';
const EXPIRED_INSTANCES = `select "id" from "instances" where "account_id" = ? and "region" = ? and "state" = 'terminated' and "terminated_at" <= ?`;

export async function settleTransitions(ctx: Context): Promise<void> {
  const now = ctx.now.toISOString();
  // AWS: a terminated instance stays visible for a while (about an hour), then is gone.
  const expiry = new Date(ctx.now.getTime() - ctx.config.timings.terminatedVisibleMs).toISOString();
  // What is due, fetched together (one round trip on PostgreSQL); settling one kind does not
  // make another due, except an instance terminated now that is visible for no time at all.
  const [heldHere, heldElsewhere, instances, gateways, expired] = (await selectEach(ctx.tx, [
    [DUE_ATTACHMENTS, [ctx.account, ctx.region, now]],
    [DUE_HELD_ATTACHMENTS, [ctx.account, ctx.account, ctx.region, now]],
    [DUE_INSTANCES, [ctx.account, ctx.region, now]],
    [DUE_NAT_GATEWAYS, [ctx.account, ctx.region, now]],
    [EXPIRED_INSTANCES, [ctx.account, ctx.region, expiry]],
  ])) as [DueAttachment[], DueAttachment[], { id: string; state: string }[], NatGatewayRow[], { id: string }[]];
  for (const eni of [...heldHere, ...heldElsewhere]) {
    if (eni.attachment_status === 'detaching') await clearAttachment(ctx, eni);
    else await finishAttaching(ctx, eni.id);
  }

  for (const instance of instances) {
    const set = async (values: { state: string; terminated_at?: string }) => {
      await ctx.tx.updateTable('instances').set({ ...values, transition_at: null }).where('id', '=', instance.id).execute();
      ctx.emit({ type: 'instance.state', instanceId: instance.id, state: values.state });
    };
    if (instance.state === 'pending') await set({ state: 'running' });
    else if (instance.state === 'stopping') await set({ state: 'stopped' });
    else if (instance.state === 'shutting-down') {
      await finishTermination(ctx, instance.id);
      await set({ state: 'terminated', terminated_at: now });
      if (expiry >= now) expired.push({ id: instance.id });
    }
  }

  await settleNatGateways(ctx, gateways);

  for (const { id } of expired) {
    await ctx.tx.deleteFrom('tags').where('resource_id', '=', id).execute();
    await ctx.tx.deleteFrom('instances').where('id', '=', id).execute();
  }
}

/**
 * AWS: when an instance terminates, each attached interface whose attachment says
 * DeleteOnTermination is deleted (its addresses released); the others are detached and become
 * available with their addresses, MAC address and groups intact.
 */
async function finishTermination(ctx: Context, instanceId: string): Promise<void> {
  await releaseAutoPublicIps(ctx, instanceId);
  const attached = await ctx.tx
    .selectFrom('network_interfaces')
    .select(['id', 'delete_on_termination', 'instance_id', 'attachment_id'])
    .where('instance_id', '=', instanceId)
    .execute();
  for (const eni of attached) {
    if (eni.delete_on_termination === 1) await destroyInterface(ctx, eni);
    else await clearAttachment(ctx, eni);
  }
}

const NEXT_DUE =
  'select (select min("transition_at") from "instances" where "account_id" = ? and "region" = ? and "transition_at" is not null) as "instance", ' +
  '(select min("attachment_transition_at") from "network_interfaces" where "account_id" = ? and "region" = ? and "attachment_transition_at" is not null) as "attachment", ' +
  '(select min("attachment_transition_at") from "network_interfaces" where "attachment_transition_at" is not null and "instance_owner_id" = ? and "account_id" <> ? and "region" = ?) as "held", ' +
  `(select min("terminated_at") from "instances" where "account_id" = ? and "region" = ? and "state" = 'terminated') as "terminated", ` +
  '(select min("transition_at") from "nat_gateways" where "account_id" = ? and "region" = ? and "transition_at" is not null) as "nat"';

type Bounds = { due_at: string | null; terminated_at: string | null };

const DUE_BOUND = 'select "due_at", "terminated_at" from "due_scopes" where "account_id" = ? and "region" = ?';
// Taken before the exact times are computed: a concurrent write that schedules a transition in
// this scope (another account's attachment to one of its instances) lowers the row, so it either
// has committed before the computation starts (which then sees it) or waits until this settling
// has committed (and lowers what it wrote).
const LOCK_BOUND =
  'insert into "due_scopes" ("account_id", "region", "due_at", "terminated_at") values (?, ?, null, null) ' +
  'on conflict ("account_id", "region") do update set "due_at" = "due_scopes"."due_at"';
const SET_BOUND = 'update "due_scopes" set "due_at" = ?, "terminated_at" = ? where "account_id" = ? and "region" = ?';

/** Epoch ms of the earlier of a scope's bounds, a terminated instance leaving terminatedVisibleMs after its termination; Infinity for none. */
function dueFrom(config: Context['config'], bounds: Bounds | undefined): number {
  const times: number[] = [];
  if (typeof bounds?.due_at === 'string') times.push(Date.parse(bounds.due_at));
  if (typeof bounds?.terminated_at === 'string') times.push(Date.parse(bounds.terminated_at) + config.timings.terminatedVisibleMs);
  return Math.min(Number.POSITIVE_INFINITY, ...times);
}

/**
 * No later than when the next transition of the caller's account and region comes due (an
 * attachment or an instance state ending, a NAT gateway's, a terminated instance leaving), as
 * epoch milliseconds; Infinity when nothing is scheduled. One primary-key lookup of the bounds
 * the database keeps (migration 020): a time at or before now means that something may be due,
 * and `settleDue` tells.
 */
export async function dueBound(ctx: Context): Promise<number> {
  return dueFrom(ctx.config, await selectFirst<Bounds>(ctx.tx, DUE_BOUND, [ctx.account, ctx.region]));
}

/**
 * Settles whatever has come due in the caller's account and region, then sets its bounds to the
 * exact times of what is left scheduled (a bound that was early, for a transition since cancelled,
 * is raised here), and returns the next due time as dueBound would. A write: on a read-only
 * transaction it is refused, and the request runs again as a writer of the whole account.
 */
export async function settleDue(ctx: Context): Promise<number> {
  const { account, region } = ctx;
  await execute(ctx.tx, LOCK_BOUND, [account, region]);
  await settleTransitions(ctx);
  const row = await selectFirst<{ instance: string | null; attachment: string | null; held: string | null; terminated: string | null; nat: string | null }>(ctx.tx, NEXT_DUE, [
    account,
    region,
    account,
    region,
    account,
    account,
    region,
    account,
    region,
    account,
    region,
  ]);
  // ISO strings of one form order as their times.
  const scheduled = [row?.instance, row?.attachment, row?.held, row?.nat].filter((t): t is string => typeof t === 'string').sort();
  const bounds: Bounds = { due_at: scheduled[0] ?? null, terminated_at: row?.terminated ?? null };
  await execute(ctx.tx, SET_BOUND, [bounds.due_at, bounds.terminated_at, account, region]);
  return dueFrom(ctx.config, bounds);
}

const SCHEDULED_SCOPES = 'select "account_id", "region", "due_at", "terminated_at" from "due_scopes" where "due_at" is not null or "terminated_at" is not null';

/** Every account and region with something scheduled, and (no later than) when its first one is due (epoch ms). */
export async function scheduledScopes(ctx: Pick<Context, 'tx' | 'config'>): Promise<{ account: string; region: string; due: number }[]> {
  const rows = await selectRows<Bounds & { account_id: string; region: string }>(ctx.tx, SCHEDULED_SCOPES, []);
  return rows.map((r) => ({ account: r.account_id, region: r.region, due: dueFrom(ctx.config, r) }));
}
