/**
 * The store: one interface over the embedded SQLite database and PostgreSQL.
 * Every EC2 action runs inside exactly one transaction; a thrown error rolls it back whole.
 */
import { Kysely, Migrator, type Transaction } from 'kysely';
import type { Database } from './schema.ts';
import { migrations } from './migrations/index.ts';

export type StoreKind = 'sqlite' | 'memory' | 'postgres';

export interface TransactionOptions {
  /**
   * Whether fn may write (default true). A shared store runs writers one at a time and lets
   * readers (Describe…) run beside them; a reader that writes after all is still correct, only
   * retried more often.
   */
  writes?: boolean;
  /**
   * The account and region the work belongs to (every EC2 action has one). A shared store lets
   * writers of different scopes run side by side and queues only writers of the same scope; a
   * writer without a scope waits for every other writer, and they for it.
   */
  scope?: WriteScope;
}

export interface WriteScope {
  account: string;
  region: string;
  /**
   * Every resource the write may change and every resource its rules read, by id, when the
   * caller can name them all before it runs (and it touches nothing else of the account and
   * region): a shared store then runs it beside the scope's other such writers whose resources
   * are disjoint from its own, and queues it only behind those that share one, and behind every
   * writer of the whole scope. Absent: the write may touch anything in its scope.
   */
  resources?: readonly string[];
}

export interface Store {
  readonly kind: StoreKind;
  /** Where the state lives, for humans (a file path or a redacted URL). */
  readonly location: string;
  readonly db: Kysely<Database>;
  /**
   * Runs fn in one transaction: committed if it returns, rolled back if it throws. A shared store
   * (PostgreSQL) may roll fn back and run it again after losing a race with another transaction,
   * so fn must keep no state of its own outside the transaction (nor start another transaction).
   */
  transaction<T>(fn: (tx: Transaction<Database>) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * A shared store's log of committed events, which every node follows (absent on the embedded
   * store: one process publishes what it commits itself).
   */
  readonly eventLog?: EventLog;
  /** A shared store's token buckets, which every node draws from (absent on the embedded store). */
  readonly tokenBuckets?: TokenBuckets;
  close(): Promise<void>;
}

/** An event as the log keeps it: its body, and the id the log gave it. */
export type LoggedEvent = { id: number } & Record<string, unknown>;

export interface EventLog {
  /**
   * Appends events inside tx (they exist if and only if tx commits), numbered in an order every
   * node delivers alike (within one account and region, commit order); resolves to the last
   * event's id. The statement is sent at once; the caller may leave it unawaited until tx has
   * committed, so that it travels with the commit (a failed append fails the commit).
   */
  append(tx: Transaction<Database>, events: readonly Record<string, unknown>[]): Promise<number>;
  /**
   * Delivers to fn, in id order and each once, every event committed from now on through any
   * node, after the last `recent` ones already in the log. Stops when the store closes.
   */
  follow(fn: (event: LoggedEvent) => void, recent: number): Promise<void>;
  /** Resolves once every event up to id has been delivered (or the log cannot be read now). */
  delivered(id: number): Promise<void>;
}

export interface TokenBuckets {
  /**
   * Takes one token from the named bucket (created full), refilled continuously at `refillRate`
   * per second up to `capacity`; false, and nothing taken, when it holds less than one.
   */
  take(key: string, capacity: number, refillRate: number): Promise<boolean>;
}

export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
    throw new Error(`store migration failed: ${reason}`);
  }
}
