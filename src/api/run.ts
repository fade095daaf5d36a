/**
 * How every request runs cloud code: in one store transaction, as one account and region, with
 * the account/region initialised (default VPC) and due transitions settled first, and the
 * transaction's effects (events, files) released only once it has committed. The EC2 endpoint
 * and the JSON API both go through here.
 */
import type { CloudConfig } from '../cloud/config.ts';
import type { Context } from '../cloud/context.ts';
import { initialiseAccountRegion } from '../cloud/default-vpc.ts';
import { fromStoreError } from '../cloud/errors.ts';
import { dueBound, scheduledScopes, settleDue } from '../cloud/transitions.ts';
import type { CloudEvent, EventBus } from '../events.ts';
import type { Store } from '../store/index.ts';
import { outcome, settled } from '../store/in-order.ts';

export interface Runner {
  store: Store;
  config: CloudConfig;
  events?: EventBus;
  /** A data plane that carries the state (the linux one): every committed change is synced to it before the answer. */
  plane?: { sync(): Promise<void> };
}

export interface RunScope {
  account: string;
  region: string;
  requestId: string;
  /** Whether the work may write (a shared store serialises writers); reads otherwise. */
  writes: boolean;
  /**
   * For a write: every resource it may change or its rules read, when the action names them all
   * up front (see WriteScope.resources). Used only for a run that can settle nothing else of the
   * account: one that is set up already, and one that finds nothing due (else it runs again,
   * as a write of the whole account).
   */
  resources?: readonly string[];
}

/** Thrown by `fn` to roll the transaction back on purpose (DryRun); `run` rethrows it. */
export class Rollback extends Error {}

// Account/region pairs known to be initialised, per store, so the check is skipped afterwards.
const initialised = new WeakMap<Store, Set<string>>();

/*
 * When the next transition of each account/region comes due (no later than), per store: a request
 * that comes before it need not look for due transitions. Only for a store this process alone
 * writes (SQLite, memory): with several nodes on PostgreSQL another node may schedule one at any
 * time, so there every request asks the database (dueBound: one primary-key lookup, in the
 * request's first statement) and settles only when something may be due. Every write asks again
 * before it commits, as it may have scheduled a transition; a transaction that rolls back forgets
 * the hint.
 */
const nextDue = new WeakMap<Store, Map<string, number>>();

export async function runInContext<T>(runner: Runner, scope: RunScope, fn: (ctx: Context) => Promise<T>): Promise<T> {
  try {
    return await runOnce(runner, scope, fn, true);
  } catch (error) {
    if (!(error instanceof DueFirst)) throw error;
    // A write ran beside the check for due transitions, and one was due: its outcome was on a
    // state that was not settled, so it is rolled back and run again, settled first (and so as a
    // write of the whole account). So is a write of named resources that finds one due at its end.
    return await runOnce(runner, scope, fn, false);
  }
}

/** Thrown out of a write's transaction (rolling it back) when it ran beside a due transition. */
class DueFirst extends Error {}

async function runOnce<T>(runner: Runner, scope: RunScope, fn: (ctx: Context) => Promise<T>, speculate: boolean): Promise<T> {
  const known = initialised.get(runner.store) ?? new Set<string>();
  initialised.set(runner.store, known);
  const hints = nextDue.get(runner.store) ?? new Map<string, number>();
  nextDue.set(runner.store, hints);
  const key = `${scope.account}/${scope.region}`;
  const useHints = runner.store.kind !== 'postgres';
  // Settling what came due, or setting up the account, writes beyond the named resources.
  const resources = scope.writes && speculate && known.has(key) ? scope.resources : undefined;
  // A shared store may run the transaction again after losing a race: each attempt starts afresh.
  let pending: (() => void)[] = [];
  let emitted: Omit<CloudEvent, 'id'>[] = [];
  // A shared store logs the events in the transaction (every node streams them from the log).
  const log = runner.events ? runner.store.eventLog : undefined;
  let appended: Promise<number> = Promise.resolve(0);
  const result = await runner.store.transaction(
    async (tx) => {
      pending = [];
      emitted = [];
      appended = Promise.resolve(0);
      const now = new Date();
      const ctx: Context = {
        tx,
        account: scope.account,
        region: scope.region,
        requestId: scope.requestId,
        now,
        config: runner.config,
        afterCommit: (f) => pending.push(f),
        emit: (event) => emitted.push({ time: now.toISOString(), account: scope.account, region: scope.region, ...event }),
      };
      if (!known.has(key)) {
        await initialiseAccountRegion(ctx);
        ctx.afterCommit(() => known.add(key));
      }
      const hint = useHints ? hints.get(key) : undefined;
      let due: number;
      let result: T;
      if (hint === undefined && (speculate || !scope.writes)) {
        // The work does not wait for the check: it runs beside it (on a store that pipelines, its
        // first statements travel in the same round trip) and counts only if nothing had come
        // due. Else a read runs again, settled; a write is rolled back and run again (DueFirst).
        const [checked, attempt] = await Promise.all([settled(dueBound(ctx)), settled(fn(ctx))]);
        due = outcome(checked);
        if (due <= now.getTime()) {
          if (scope.writes) throw new DueFirst();
          pending = [];
          emitted = [];
          due = await settleDue(ctx);
          result = await fn(ctx);
        } else result = outcome(attempt);
      } else {
        due = hint ?? (await dueBound(ctx));
        if (due <= now.getTime()) due = await settleDue(ctx);
        result = await fn(ctx);
      }
      if (runner.plane && scope.writes) {
        // With a data plane that carries the state, a transition that ends at once (timings of 0)
        // ends in this transaction, so the sync before the answer already shows its end state
        // (an attachment inside its instance, not still `attaching`), instead of the next request's.
        due = await dueBound(ctx);
        if (due <= now.getTime()) {
          // Settling may change any resource of the account, not only those this write locked.
          if (resources) throw new DueFirst();
          due = await settleDue(ctx);
        }
      }
      if (useHints) {
        if (scope.writes && !runner.plane) due = await dueBound(ctx);
        // Set while this transaction still holds the (single) connection, so hints follow commit order.
        hints.set(key, due);
      }
      // Not awaited: the append travels with the commit (its failure fails the commit).
      if (log && emitted.length) {
        appended = log.append(tx, emitted);
        appended.catch(() => {});
      }
      return result;
    },
    { writes: scope.writes, scope: { account: scope.account, region: scope.region, ...(resources ? { resources } : {}) } },
  ).catch((error: unknown) => {
    // Rolled back (a DryRun, an error, a failed commit): the hint may describe what was undone.
    if (useHints) hints.delete(key);
    throw fromStoreError(error);
  });
  for (const f of pending) f();
  // The caller's own events are on this node's stream before it gets its answer.
  if (log) await log.delivered(await appended);
  else for (const event of emitted) runner.events?.publish(event);
  // The change shows in the kernel before the answer, so the caller's next request sees it there.
  if (runner.plane && (scope.writes || pending.length || emitted.length)) await runner.plane.sync();
  return result;
}

/** When the next transition of any account and region is due (epoch ms; Infinity if none). */
export async function nextScheduled(runner: Runner): Promise<number> {
  const scopes = await runner.store.transaction((tx) => scheduledScopes({ tx, config: runner.config }), { writes: false });
  return Math.min(Number.POSITIVE_INFINITY, ...scopes.map((s) => s.due));
}

/**
 * Settles what has come due in every account and region, for a data plane that must change on
 * time without waiting for a request (each settling is a request of its own, synced as any other).
 */
export async function settleAllDue(runner: Runner): Promise<void> {
  const scopes = await runner.store.transaction((tx) => scheduledScopes({ tx, config: runner.config }), { writes: false });
  const now = Date.now();
  for (const scope of scopes.filter((s) => s.due <= now)) {
    await runInContext(runner, { account: scope.account, region: scope.region, requestId: 'settle', writes: true }, async () => undefined);
  }
}
