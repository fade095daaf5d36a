/**
 * Fault injection: an instance that "fails" keeps running but fails its status checks, and the
 * data plane drops traffic to it (`instance-impaired`) until it recovers — so failover scripts
 * can be tested against the signals they watch on AWS (DescribeInstanceStatus).
 */
import { Errors } from './errors.ts';
import type { Context } from './context.ts';
import { checkIds } from './rules/ids.ts';

export async function setInstanceHealth(ctx: Context, instanceId: string, health: 'impaired' | 'ok'): Promise<{ instanceId: string; state: string; status: string }> {
  checkIds('i', Errors.instanceId, [instanceId]);
  const instance = await ctx.tx
    .selectFrom('instances')
    .select(['id', 'state'])
    .where('id', '=', instanceId)
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .executeTakeFirst();
  if (!instance) throw Errors.instanceId.notFound(instanceId);
  if (instance.state === 'terminated') throw Errors.incorrectInstanceState(`The instance '${instanceId}' is terminated.`);
  await ctx.tx.updateTable('instances').set({ impaired: health === 'impaired' ? 1 : 0 }).where('id', '=', instanceId).execute();
  ctx.emit({ type: health === 'impaired' ? 'instance.failed' : 'instance.recovered', instanceId });
  return { instanceId, state: instance.state, status: health };
}
