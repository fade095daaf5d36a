/**
 * Transitional states that end by themselves on AWS — an instance `pending`, `stopping` or
 * `shutting-down`, an attachment `attaching` or `detaching` — carry the time they end. Every
 * request first settles, in its own transaction, whatever has come due in the caller's account
 * and region, so that what one observes is always consistent and needs no background timer
 * (and several server processes sharing one database agree).
 */
import { selectEach, selectFirst, selectRows } from '../store/sql-text.ts';
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

/**
 * When the next transition of the caller's account and region comes due (an attachment or an
 * instance state ending, or a terminated instance leaving), as epoch milliseconds; Infinity
 * when nothing is scheduled. One statement, answered from indexes.
 */
export async function nextDueAt(ctx: Context): Promise<number> {
  const { account, region } = ctx;
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
  const times = [row?.instance, row?.attachment, row?.held, row?.nat].filter((t): t is string => typeof t === 'string').map((t) => Date.parse(t));
  if (typeof row?.terminated === 'string') times.push(Date.parse(row.terminated) + ctx.config.timings.terminatedVisibleMs);
  return times.length ? Math.min(...times) : Number.POSITIVE_INFINITY;
}

const SCHEDULED_SCOPES =
  'select "account_id", "region", min("at") as "due" from (' +
  'select "account_id", "region", "transition_at" as "at" from "instances" where "transition_at" is not null ' +
  'union all select "account_id", "region", "attachment_transition_at" as "at" from "network_interfaces" where "attachment_transition_at" is not null' +
  ') as "scheduled" group by "account_id", "region"';

/** Every account and region with a transition scheduled, and when its first one is due (epoch ms). */
export async function scheduledScopes(tx: Context['tx']): Promise<{ account: string; region: string; due: number }[]> {
  const rows = await selectRows<{ account_id: string; region: string; due: string }>(tx, SCHEDULED_SCOPES, []);
  return rows.map((r) => ({ account: r.account_id, region: r.region, due: Date.parse(r.due) }));
}
