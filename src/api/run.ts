/**
 * How every request runs cloud code: in one store transaction, as one account and region, with
 * the account/region initialised (default VPC) and due transitions settled first, and the
 * transaction's effects (events, files) released only once it has committed. The EC2 endpoint
 * and the JSON API both go through here.
 */
import type { CloudConfig } from '../cloud/config.ts';
import type { Context } from '../cloud/context.ts';
import { initialiseAccountRegion } from '../cloud/default-vpc.ts';
import { settleTransitions } from '../cloud/transitions.ts';
import type { EventBus } from '../events.ts';
import type { Store } from '../store/index.ts';

export interface Runner {
  store: Store;
  config: CloudConfig;
  events?: EventBus;
}

export interface RunScope {
  account: string;
  region: string;
  requestId: string;
  /** Whether the work may write (a shared store serialises writers); reads otherwise. */
  writes: boolean;
}

/** Thrown by `fn` to roll the transaction back on purpose (DryRun); `run` rethrows it. */
export class Rollback extends Error {}

// Account/region pairs known to be initialised, per store, so the check is skipped afterwards.
const initialised = new WeakMap<Store, Set<string>>();

export async function runInContext<T>(runner: Runner, scope: RunScope, fn: (ctx: Context) => Promise<T>): Promise<T> {
  const known = initialised.get(runner.store) ?? new Set<string>();
  initialised.set(runner.store, known);
  // A shared store may run the transaction again after losing a race: each attempt starts afresh.
  let pending: (() => void)[] = [];
  const result = await runner.store.transaction(
    async (tx) => {
      pending = [];
      const now = new Date();
      const ctx: Context = {
        tx,
        account: scope.account,
        region: scope.region,
        requestId: scope.requestId,
        now,
        config: runner.config,
        afterCommit: (f) => pending.push(f),
        emit: (event) => pending.push(() => runner.events?.publish({ time: now.toISOString(), account: scope.account, region: scope.region, ...event })),
      };
      const key = `${scope.account}/${scope.region}`;
      if (!known.has(key)) {
        await initialiseAccountRegion(ctx);
        ctx.afterCommit(() => known.add(key));
      }
      await settleTransitions(ctx);
      return fn(ctx);
    },
    { writes: scope.writes },
  );
  for (const f of pending) f();
  return result;
}
