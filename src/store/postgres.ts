/**
 * The shared store: PostgreSQL through `pg`, for several server processes (nodes) that share one
 * state. Every transaction runs at SERIALIZABLE isolation, so each EC2 action sees and leaves the
 * database as if the actions of every node had run one at a time.
 *
 * Actions that may write run one at a time across all nodes: each first takes a table lock (in a
 * mode that readers never wait for) before its snapshot, so writers queue instead of colliding —
 * the tables are small and every action reads what the others write (quotas, settling
 * transitions), so optimistic writers would mostly abort one another. Reads run side by side.
 * When PostgreSQL still refuses a transaction because of a concurrent one (serialization failure,
 * deadlock, or a unique constraint a concurrent transaction took first), the whole action is run
 * again — behind that lock, after a jittered pause — a bounded number of times, and then answered
 * with TransactionRetriesExhaustedError, which cloud/ answers as RequestLimitExceeded (the AWS SDKs
 * retry that by themselves).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import { TransactionRetriesExhaustedError } from './errors.ts';
import type { Database } from './schema.ts';
import { migrate, type Store, type TransactionOptions } from './store.ts';

export interface PostgresOptions {
  /** `postgres://user:password@host:port/database` (or `postgresql://…`); `?pool_size=N` sets the pool size. */
  url: string;
  /** Most connections the pool opens; default the URL's `pool_size`, else 10. */
  poolSize?: number;
  /** How many times one action is attempted before the client is told to retry; default 20. */
  maxAttempts?: number;
}

export const DEFAULT_POOL_SIZE = 10;
export const DEFAULT_MAX_ATTEMPTS = 20;

/** PostgreSQL's codes for "this transaction lost a race; running it again may well succeed". */
const SERIALIZATION_FAILURE = '40001';
const DEADLOCK_DETECTED = '40P01';
const UNIQUE_VIOLATION = '23505';
const RETRIED = new Set([SERIALIZATION_FAILURE, DEADLOCK_DETECTED, UNIQUE_VIOLATION]);
/** A write in a READ ONLY transaction: the read turned out to need one (settling a transition). */
const READ_ONLY_SQL_TRANSACTION = '25006';

const INT8_OID = 20;

/**
 * int8 (bigint, and what count(*) answers) as a JS number: every bigint the store keeps (IPv4
 * addresses as integers, address counts) is far below 2^53. Anything larger is a bug, said loudly.
 */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`bigint ${text} does not fit a JavaScript number`);
  return n;
}

/** This pool's type parsers: pg's own, except int8. Nothing global is changed. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** The URL without its password, for logs and the health endpoint. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]*):[^@/]*@/, '://$1:***@');
  }
}

/** Splits eni-local's own query parameter (`pool_size`) off the URL handed to pg. */
export function parsePostgresUrl(url: string): { connectionString: string; poolSize?: number } {
  const u = new URL(url);
  const raw = u.searchParams.get('pool_size');
  u.searchParams.delete('pool_size');
  let poolSize: number | undefined;
  if (raw !== null) {
    poolSize = Number(raw);
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error(`pool_size must be a positive integer, not ${JSON.stringify(raw)}`);
  }
  return { connectionString: u.toString(), poolSize };
}

/** How many distinct statement texts a process names (prepares once per connection); others run unnamed. */
const NAMED_STATEMENTS = 2000;

/**
 * Makes every parameterised query of the pool's clients a named prepared statement, one name per
 * text: PostgreSQL parses and plans a text once per connection (and, after a few runs, keeps a
 * generic plan) instead of on every request. pg prepares a name on its first use on a
 * connection and sends only Bind/Execute afterwards.
 */
function prepareByName(pool: pg.Pool): void {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (name === undefined && names.size < NAMED_STATEMENTS) names.set(text, (name = `eni_${names.size}`));
    return name;
  };
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, values?: unknown, ...rest: unknown[]) => {
      const name = typeof text === 'string' && Array.isArray(values) && values.length > 0 ? nameOf(text) : undefined;
      return name === undefined ? query(text, values, ...rest) : query({ name, text, values }, ...rest);
    };
  });
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const isRetried = (error: unknown) => RETRIED.has(sqlState(error) ?? '');

/** Full jitter over an exponential ceiling: 0–4 ms, 0–8 ms, … at most 0–200 ms. */
const backoffMs = (attempt: number) => Math.random() * Math.min(200, 2 * 2 ** attempt);

export async function openPostgresStore(options: PostgresOptions): Promise<Store> {
  const { connectionString, poolSize } = parsePostgresUrl(options.url);
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? poolSize ?? DEFAULT_POOL_SIZE,
    types,
    // A request waits for a free connection rather than failing at once, but not forever.
    connectionTimeoutMillis: 30_000,
    application_name: 'eni-local',
    // A node that stalls inside a transaction (paused, wedged) must not hold the write lock for long.
    idle_in_transaction_session_timeout: 60_000,
  });
  // An idle connection the server closes (restart, admin) must not take the process down;
  // the pool replaces it, and the next query on a broken one fails and is answered as an error.
  pool.on('error', () => {});
  prepareByName(pool);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    // Kysely's migrator holds a PostgreSQL advisory lock while it migrates: nodes starting
    // together run the migrations once, the others wait and then find nothing to do.
    await migrate(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  /**
   * The write lock: SHARE ROW EXCLUSIVE conflicts with itself and with writes to the table, not
   * with reads. account_regions is written only on an account's first call in a region. Taken
   * as the transaction's first statement, before its snapshot, so the holder sees every commit
   * of the one before it.
   */
  const lockWriters = (tx: Transaction<Database>) => sql`lock table account_regions in share row exclusive mode`.execute(tx);

  // One waiter per process for the write lock (the others wait here without a connection), so a
  // burst of writes cannot take every connection of the pool from the readers.
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(run: () => Promise<T>): Promise<T> => {
    const result = queue.then(run, run);
    queue = result.catch(() => {});
    return result;
  };

  /*
   * Writers: SERIALIZABLE, one at a time behind the lock. Readers: REPEATABLE READ READ ONLY, one
   * snapshot of what writers committed — and since writers commit one after another, every
   * snapshot is a state the serial order went through, which is all SERIALIZABLE would add for a
   * reader. It also spares readers SERIALIZABLE's predicate locks: many concurrent serializable
   * readers ran PostgreSQL out of lock memory ("out of shared memory", 53200) under load.
   */
  const attempt = <T>(fn: (tx: Transaction<Database>) => Promise<T>, locked: boolean) =>
    locked
      ? db
          .transaction()
          .setIsolationLevel('serializable')
          .execute(async (tx) => {
            await lockWriters(tx);
            return fn(tx);
          })
      : db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(fn);

  async function transaction<T>(fn: (tx: Transaction<Database>) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const writes = options.writes ?? true;
    // A read runs at once; should it need to write after all (settling a transition that came
    // due) or lose a race, it runs again as a writer.
    if (!writes) {
      try {
        return await attempt(fn, false);
      } catch (error) {
        if (!isRetried(error) && sqlState(error) !== READ_ONLY_SQL_TRANSACTION) throw error;
      }
    }
    return oneAtATime(async () => {
      for (let n = writes ? 1 : 2; ; n++) {
        try {
          return await attempt(fn, true);
        } catch (error) {
          if (!isRetried(error)) throw error;
          if (n >= maxAttempts) {
            // A unique violation every time is no race but a bug: let it be seen as one.
            if (sqlState(error) === UNIQUE_VIOLATION) throw error;
            throw new TransactionRetriesExhaustedError(n);
          }
          await sleep(backoffMs(n));
        }
      }
    });
  }

  return {
    kind: 'postgres',
    location: redactUrl(connectionString),
    db,
    transaction,
    close: () => db.destroy(),
  };
}
