/**
 * The shared store: PostgreSQL through `pg`, for several server processes (nodes) that share one
 * state. Each EC2 action sees and leaves its account and region (its scope) as if the actions of
 * every node in that scope had run one at a time.
 *
 * Actions that may write take their scope's lock first (an advisory lock on a hash of account
 * and region): writers of one scope queue, writers of different scopes never wait for each other.
 * What is unique across scopes (MAC addresses, the public IPv4 pool, ids) is guarded by unique
 * constraints. Reads run side by side, in a snapshot. When PostgreSQL still refuses a transaction
 * because of a concurrent one (deadlock, serialization failure, or a unique constraint a
 * concurrent transaction took first), the whole action is run again after a jittered pause, a
 * bounded number of times, and then refused with TransactionRetriesExhaustedError, which cloud/
 * answers as RequestLimitExceeded (the AWS SDKs retry that by themselves).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import { StoreUnavailableError, TransactionRetriesExhaustedError } from './errors.ts';
import type { Database } from './schema.ts';
import { jsonColumns, runPipelined, type Judge } from './sql-text.ts';
import { migrate, type EventLog, type LoggedEvent, type Store, type TokenBuckets, type TransactionOptions, type WriteScope } from './store.ts';

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

/** TLS settings for pg (node's tls.connect options), or false for a plain connection. */
export type TlsSettings = false | { rejectUnauthorized: boolean; ca?: string; cert?: string; key?: string; checkServerIdentity?: () => undefined };

export interface ParsedPostgresUrl {
  /** The URL pg gets: without eni-local's own parameters and without the TLS ones (in `ssl`). */
  connectionString: string;
  poolSize?: number;
  /** Present when the URL says anything about TLS. */
  ssl?: TlsSettings;
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
const TLS_PARAMETERS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'];

/**
 * Splits eni-local's own query parameter (`pool_size`) and the TLS parameters off the URL handed
 * to pg, and reads the TLS parameters as libpq does (pg's own reading of `sslmode` differs:
 * it verifies the certificate under `require`):
 *   sslmode=disable                      no TLS
 *   sslmode=allow|prefer                 no TLS (pg cannot fall back from TLS to plain, as libpq
 *                                        would; ask for require when the server offers TLS)
 *   sslmode=require                      TLS, certificate not verified — unless sslrootcert is
 *                                        given, which makes it verify-ca, as in libpq
 *   sslmode=verify-ca                    TLS, certificate verified against the CA, name not checked
 *   sslmode=verify-full                  TLS, certificate and host name verified
 *   sslrootcert=FILE                     the CA certificate(s), PEM (`system`: the system's CAs)
 *   sslcert=FILE, sslkey=FILE            a client certificate and its key
 * `readFile` reads the certificate files (injected for tests).
 */
export function parsePostgresUrl(url: string, readFile: (path: string) => string = (f) => readFileSync(f, 'utf8')): ParsedPostgresUrl {
  const u = new URL(url);
  const raw = u.searchParams.get('pool_size');
  u.searchParams.delete('pool_size');
  let poolSize: number | undefined;
  if (raw !== null) {
    poolSize = Number(raw);
    if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error(`pool_size must be a positive integer, not ${JSON.stringify(raw)}`);
  }
  const given = Object.fromEntries(TLS_PARAMETERS.map((name) => [name, u.searchParams.get(name) ?? undefined]));
  for (const name of TLS_PARAMETERS) u.searchParams.delete(name);
  const out: ParsedPostgresUrl = { connectionString: u.toString(), poolSize };
  if (TLS_PARAMETERS.every((name) => given[name] === undefined)) return out;
  const mode = given.sslmode ?? (given.sslrootcert !== undefined ? 'verify-full' : 'prefer');
  if (!(SSL_MODES as readonly string[]).includes(mode)) throw new Error(`sslmode must be one of ${SSL_MODES.join(', ')}, not ${JSON.stringify(mode)}`);
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return { ...out, ssl: false };
  const read = (name: string) => {
    const file = given[name];
    if (file === undefined) return undefined;
    try {
      return readFile(file);
    } catch (error) {
      throw new Error(`${name}: cannot read ${file}: ${(error as Error).message}`);
    }
  };
  const ssl: Exclude<TlsSettings, false> = { rejectUnauthorized: true };
  if (given.sslrootcert !== undefined && given.sslrootcert !== 'system') ssl.ca = read('sslrootcert');
  const cert = read('sslcert');
  const key = read('sslkey');
  if (cert !== undefined) ssl.cert = cert;
  if (key !== undefined) ssl.key = key;
  const verifyCa = mode === 'verify-ca' || (mode === 'require' && given.sslrootcert !== undefined);
  if (mode === 'require' && !verifyCa) ssl.rejectUnauthorized = false;
  // verify-ca: the chain is verified, the host name is not.
  if (verifyCa) ssl.checkServerIdentity = () => undefined;
  return { ...out, ssl };
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

/**
 * Has every connection of the pool plan each named statement once, for any values
 * (plan_cache_mode = force_generic_plan), as the first thing it runs. Left to choose
 * (`auto`), PostgreSQL kept planning a Describe filtered by address afresh on every run, its
 * generic plan costed a little above the custom ones: in the benchmark that was a third of the
 * database's CPU per describe-filter (786 and 770 µs per op against 464 and 548 µs, two rounds),
 * and a tenth per describe-tag; the other workloads were unchanged. Every statement is an
 * indexed lookup whose plan does not depend on the values. An older server without the setting
 * (before PostgreSQL 12) keeps its own choice.
 */
function useGenericPlans(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    client.query('set plan_cache_mode = force_generic_plan').catch(() => {});
  });
}

/**
 * The advisory locks writers take (two int4 keys, the first one of ours; Kysely's migrator uses
 * the one-bigint key space). Every scoped writer holds the all-scopes lock shared and its
 * scope's lock (the scope's key is a hash of account and region: two scopes that collide only
 * queue behind each other): exclusively, or — a writer that names its resources (see
 * WriteScope.resources) — shared, plus each of its resources' locks exclusively. So writers of a
 * scope's disjoint resources run side by side, those that share one queue, and a writer of the
 * whole scope waits for them all and they for it. A writer without a scope holds the all-scopes
 * lock exclusively, so it runs alone.
 */
const ALL_SCOPES_LOCK = 0x656e6900;
export const SCOPE_LOCK = 0x656e6901;
export const RESOURCE_LOCK = 0x656e6902;

const scopeKey = (scope: WriteScope | undefined) => (scope ? `${scope.account}/${scope.region}` : '');

/** FNV-1a over the key's UTF-16 units, as a signed 32-bit integer (an advisory lock's int4 key). */
function scopeHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * The keys of a writer's resource locks, in the one order every writer takes them (so two
 * writers that share two resources cannot each hold one and wait for the other). A resource's id
 * is unique across accounts, so its key is its id's alone: a write of another account that names
 * the same resource (an interface attached under a permission) queues behind this one too.
 */
const resourceKeys = (scope: WriteScope) => [...new Set((scope.resources ?? []).map(scopeHash))].sort((a, b) => a - b);

/**
 * The statement that takes a writer's locks, for the given scope (or none: all scopes). Its keys
 * are integers written into the text (no parameters), so a writer's opening — `begin` and this —
 * goes to PostgreSQL as one simple query: one message, one answer. PostgreSQL evaluates the
 * select list in order: the scope's lock before the resources'.
 */
export function scopeLock(scope: WriteScope | undefined): { text: string } {
  if (!scope) return { text: `select pg_advisory_xact_lock(${ALL_SCOPES_LOCK}, 0)` };
  const all = `pg_advisory_xact_lock_shared(${ALL_SCOPES_LOCK}, 0)`;
  const key = scopeHash(scopeKey(scope));
  if (!scope.resources?.length) return { text: `select ${all}, pg_advisory_xact_lock(${SCOPE_LOCK}, ${key})` };
  const resources = resourceKeys(scope).map((k) => `pg_advisory_xact_lock(${RESOURCE_LOCK}, ${k})`);
  return { text: `select ${[all, `pg_advisory_xact_lock_shared(${SCOPE_LOCK}, ${key})`, ...resources].join(', ')}` };
}

/**
 * The lane a writer of this node waits in (see scopeLanes): its scope's, or for a writer that
 * names its resources, that of its scope and exactly those resources. Writers of overlapping
 * but different resources wait in different lanes, and their locks order them.
 */
const laneKey = (scope: WriteScope | undefined) => (scope?.resources?.length ? `${scopeKey(scope)}#${resourceKeys(scope).join(',')}` : scopeKey(scope));

/** A statement as pg takes it. */
interface Statement {
  text: string;
  values?: unknown[];
}

/** What a transaction's statements went through: the first failure, whoever awaited it or not. */
interface TransactionState {
  failure?: unknown;
  /** Set when the commit (or rollback) is sent: a statement sent after it would run outside. */
  ending?: boolean;
  /** Statements sent and not answered yet. */
  inFlight?: number;
  /** Answers still to be judged (see sql-text's write): the commit waits for them. */
  checks?: Set<Promise<unknown>>;
  /** Sent right behind the commit, in the same socket write (see afterCommit). */
  followUps?: ((send: (statement: Statement) => Promise<pg.QueryResult>) => void)[];
  /** A read's first statements, held back until its first turn of the event loop ends (see sendFirstStatements). */
  gathering?: Gathered[];
  /** The texts of a read's first statements, when they went as one statement without `begin` (nothing may follow). */
  lone?: string;
}

/** A statement held back, and how to answer whoever sent it. */
interface Gathered {
  statement: Statement;
  judge?: Judge;
  resolve: (result: pg.QueryResult) => void;
  reject: (error: unknown) => void;
}

const states = new WeakMap<pg.PoolClient, TransactionState>();
/** Failures a statement's `check` judged (an EC2 error for a limit or a lost race, not a database error). */
const checkFailures = new WeakSet<object>();
const bound = new WeakMap<pg.PoolClient, Kysely<Database>>();
const clients = new WeakMap<object, pg.PoolClient>();

/**
 * A Kysely over one pooled connection: every query runs on it (its `release` does nothing: the
 * transaction that holds the connection gives it back), and every failure is noted for the
 * transaction. One per connection, made on first use.
 */
function kyselyOn(client: pg.PoolClient): Kysely<Database> {
  let db = bound.get(client);
  if (!db) {
    const handle = {
      query: (text: string, values: unknown[]) => run(client, { text, values }),
      release: () => {},
    };
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: { connect: async () => handle as never, end: async () => {} } }) });
    bound.set(client, db);
    clients.set(db, client);
    runPipelined(db as unknown as Transaction<Database>, (text, values, judge) => run(client, { text, values: [...values] }, false, judge));
  }
  return db;
}

/**
 * Sends a statement on the transaction's connection now, not after Kysely's few asynchronous
 * steps: what is sent before the commit is part of the transaction.
 */
function sendNow(tx: Transaction<Database>, statement: Statement): Promise<pg.QueryResult> {
  const client = clients.get(tx);
  if (!client) throw new Error('not a transaction of the PostgreSQL store');
  return run(client, statement);
}

/**
 * Has `follow` send its statement on the transaction's connection right behind the commit (after
 * it, so it sees the commit; in the same socket write, so it costs no round trip of its own). Not
 * sent when the transaction rolls back.
 */
function afterCommit(tx: Transaction<Database>, follow: (send: (statement: Statement) => Promise<pg.QueryResult>) => void): void {
  const client = clients.get(tx);
  const state = client && states.get(client);
  if (!state) throw new Error('not a transaction of the PostgreSQL store');
  (state.followUps ??= []).push(follow);
}

const corked = new WeakSet<object>();

/** The socket under pg's connection (pg itself corks it around a query's messages). */
const streamOf = (client: pg.PoolClient) => (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } }).connection?.stream;

/**
 * Holds back the connection's writes until the event loop's next check phase, so the statements
 * sent in the meantime (a transaction's opening and its first query; writes and the select after
 * them) leave in one write to the socket instead of one each: on a busy machine the system calls
 * cost more than the statements.
 */
function batchWrites(client: pg.PoolClient): void {
  const stream = streamOf(client);
  if (!stream?.cork || !stream.uncork || corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  setImmediate(() => {
    corked.delete(stream);
    stream.uncork!();
  });
}

/**
 * Sends a statement on the transaction's connection. Its answers come in the order sent, so
 * once an earlier statement failed (or its answer failed its `check`), every later one is
 * refused with that first failure: the transaction is lost.
 */
function run(client: pg.PoolClient, statement: Statement, ending = false, judge?: Judge): Promise<pg.QueryResult> {
  const check = judge?.check;
  const state = states.get(client);
  if (state?.ending && !ending) return Promise.reject(new Error(`a statement sent after its transaction's commit: ${statement.text.slice(0, 60)}`));
  if (state?.gathering && !ending) return new Promise((resolve, reject) => state.gathering!.push({ statement, judge, resolve, reject }));
  if (state?.lone !== undefined && !ending) {
    // It would see another snapshot than the statement before it: the read runs again, begun.
    refuseAlone(state.lone);
    state.failure ??= new ReadOutgrewOneStatement();
    return Promise.reject(state.failure);
  }
  batchWrites(client);
  const sent = statement.values?.length ? client.query(statement.text, statement.values) : client.query(statement.text);
  if (!state) return sent;
  state.inFlight = (state.inFlight ?? 0) + 1;
  const judged = sent.then(
    (result) => {
      state.inFlight!--;
      if (state.failure !== undefined && !ending) throw state.failure;
      const failure = check?.(result);
      if (failure !== undefined) {
        state.failure = failure;
        checkFailures.add(failure as object);
        throw failure;
      }
      return result;
    },
    (error: unknown) => {
      state.inFlight!--;
      if (judge?.raises && sqlState(error) === judge.raises.code && state.failure === undefined) {
        // The statement's own expectation failed (PostgreSQL aborted the transaction): its error.
        const failure = judge.raises.failure();
        state.failure = failure;
        checkFailures.add(failure as object);
        throw failure;
      }
      if (state.failure === undefined) state.failure = error;
      throw error;
    },
  );
  if (check) {
    const checks = (state.checks ??= new Set());
    const done: Promise<boolean> = judged.then(
      () => checks.delete(done),
      () => checks.delete(done),
    );
    checks.add(done);
  }
  return judged;
}

const IN_FAILED_TRANSACTION = '25P02';

/**
 * A read that went as one statement (see sendFirstStatements) and then sent another: it is run
 * again, as a transaction.
 */
export class ReadOutgrewOneStatement extends Error {
  constructor() {
    super('a read sent as one statement sent another');
  }
}

/**
 * A statement that can only read: a select (which cannot hold a data-modifying statement; one
 * starting with `with` could, so it goes wrapped in a subquery, where PostgreSQL refuses one),
 * taking no row locks and calling none of the functions with effects.
 */
const ONLY_READS = /^\s*(select|with)\s/i;
const SELECT = /^\s*select\s/i;
const HAS_EFFECTS = /\bfor\s+(update|share|no\s+key\s+update|key\s+share)\b|\b(nextval|setval|set_config|pg_notify|pg_advisory\w*|pg_try_advisory\w*|lo_\w+)\s*\(/i;
/** Quoted literals and identifiers, which may hold a `$` that is no placeholder. */
const QUOTED = /'(?:[^']|'')*'|"(?:[^"]|"")*"/g;

/** The first statements of a read, by their texts joined: how many more runs begin as a transaction (see run). */
const notAlone = new Map<string, number>();
/** A read whose first statements once needed more after them begins as a transaction for this many runs, then tries again. */
const NOT_ALONE_RUNS = 100;
/** The statement texts made of several reads' first statements, by their texts joined. */
const combined = new Map<string, string | null>();
const COMBINED_TEXTS = 1000;

/** One statement of texts, each one's placeholders $1…$n numbered after those of the texts before it; null if one has a `$` that is not a placeholder. */
function combine(texts: readonly string[], counts: readonly number[]): string | null {
  let offset = 0;
  const renumbered: string[] = [];
  for (const [i, text] of texts.entries()) {
    if (text.replace(QUOTED, '').split('$').length !== text.split('$').length) return null;
    const shift = offset;
    renumbered.push(text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + shift}`));
    offset += counts[i];
  }
  // Not selectEach's `r<i>`: a Describe's statement has columns of that name.
  return jsonColumns(renumbered, PART);
}

/** The columns of a statement made of several (see combine): `eni_part<i>`. */
const PART = 'eni_part';

/** Answers whoever sent `gathered` with what `sent` answers. */
function relay(sent: Promise<pg.QueryResult>, gathered: Gathered): void {
  sent.then(gathered.resolve, gathered.reject);
}

/**
 * Sends a read's first statements, gathered during its first turn of the event loop (the
 * due-transitions check and the action's first query, say). When each of them can only read,
 * they go as one statement and without `begin`/`commit`: one statement runs on one snapshot, as
 * the REPEATABLE READ transaction would, and costs PostgreSQL and the node one statement instead
 * of four. (Several go as JSON columns, as selectEach fetches: the store's values come back the
 * same either way.) Should the read send anything after them, that statement is refused and the
 * read runs again as a transaction (see run); so does one whose combined statement fails. Else,
 * and for a read whose first statements needed more after them lately, `opening` goes first and
 * the statements as they came.
 */
function sendFirstStatements(client: pg.PoolClient, state: TransactionState, opening: readonly Statement[]): Promise<unknown> {
  const batch = state.gathering ?? [];
  state.gathering = undefined;
  const key = batch.map((g) => g.statement.text).join('\u0000');
  const runs = notAlone.get(key);
  if (runs !== undefined) {
    if (runs <= 1) notAlone.delete(key);
    else notAlone.set(key, runs - 1);
  }
  const readsOnly = batch.length > 0 && batch.every((g) => !g.judge && ONLY_READS.test(g.statement.text) && !HAS_EFFECTS.test(g.statement.text));
  // What goes instead of the transaction: the one select as it is, or the statements as one.
  let alone: Statement | undefined;
  if (readsOnly && runs === undefined) {
    if (batch.length === 1 && SELECT.test(key)) alone = batch[0].statement;
    else {
      if (!combined.has(key)) {
        if (combined.size >= COMBINED_TEXTS) combined.clear();
        combined.set(
          key,
          combine(
            batch.map((g) => g.statement.text),
            batch.map((g) => g.statement.values?.length ?? 0),
          ),
        );
      }
      const text = combined.get(key);
      if (text) alone = { text, values: batch.flatMap((g) => g.statement.values ?? []) };
    }
  }
  return together(client, () => {
    if (!alone) {
      const opened = Promise.all(opening.map((statement) => run(client, statement)));
      for (const g of batch) relay(run(client, g.statement, false, g.judge), g);
      return opened;
    }
    const sent = run(client, alone);
    // From now on the read may send nothing more (see run).
    state.lone = key;
    if (alone === batch[0].statement) {
      relay(sent, batch[0]);
      return Promise.resolve();
    }
    sent.catch((error: unknown) => {
      // Not the database being away: the statements may not go together (or one of them
      // failed), so the read runs again, each statement on its own.
      if (!isUnavailable(error)) {
        refuseAlone(key);
        state.failure = new ReadOutgrewOneStatement();
      }
    });
    for (const [i, g] of batch.entries()) {
      relay(
        sent.then((result) => {
          const rows = (result.rows[0] as Record<string, unknown[]>)[`${PART}${i}`];
          return { ...result, rows, rowCount: rows.length };
        }),
        g,
      );
    }
    return Promise.resolve();
  });
}

/** The read whose first statements are `key` begins as a transaction for its next NOT_ALONE_RUNS runs. */
function refuseAlone(key: string): void {
  if (notAlone.size >= COMBINED_TEXTS) notAlone.clear();
  notAlone.set(key, NOT_ALONE_RUNS);
}

/** Runs send with the connection's writes held back, so what it sends leaves in one socket write. */
function together<T>(client: pg.PoolClient, send: () => T): T {
  const stream = streamOf(client);
  if (!stream?.cork || !stream.uncork || corked.has(stream)) return send();
  corked.add(stream);
  stream.cork();
  try {
    return send();
  } finally {
    corked.delete(stream);
    stream.uncork();
  }
}

/**
 * One transaction on one connection of a pipelining pool: the opening statements (begin, the
 * scope's lock) are sent and fn starts at once, so its first query travels with them (one round
 * trip, not three); the opening's answer is read before the commit. A query fn sends without
 * awaiting it (the event log's append) travels with the commit. The error thrown is the first
 * statement's that failed (later ones only say the transaction was aborted), and a COMMIT that
 * PostgreSQL answers with ROLLBACK (an earlier statement failed unseen) is that failure too.
 * `alone`: a read whose first statements may go without the opening (see sendFirstStatements).
 */
async function pipelined<T>(pool: pg.Pool, fn: (tx: Transaction<Database>) => Promise<T>, opening: readonly Statement[], readOnly: boolean, turn?: Turn, alone = false): Promise<T> {
  const client = turn?.take() ?? (await pool.connect());
  const state: TransactionState = alone ? { gathering: [] } : {};
  states.set(client, state);
  // A statement that failed unawaited (a write, see sql-text's write) is why the later ones were
  // refused, and the answer to give when it lost a race (it is retried), whatever fn threw; so
  // is a check's failure (sql-text's write and verify), which the embedded store throws at once.
  const cause = (error: unknown) =>
    state.failure !== undefined &&
    (sqlState(error) === IN_FAILED_TRANSACTION || isRetried(state.failure) || checkFailures.has(state.failure as object) || state.failure instanceof ReadOutgrewOneStatement)
      ? state.failure
      : error;
  let broken = false;
  // Whether the connection went to the scope's next writer (see Turn): then it is theirs.
  let handed = false;
  try {
    const opened = alone
      ? new Promise<unknown>((resolve) => setImmediate(() => resolve(sendFirstStatements(client, state, opening))))
      : Promise.all(opening.map((statement) => run(client, statement)));
    opened.catch(() => {});
    let result: T;
    try {
      result = await fn(kyselyOn(client) as unknown as Transaction<Database>);
    } finally {
      await opened;
    }
    // A write whose answer is still to be judged decides whether there is anything to commit.
    while (state.checks?.size) await Promise.all(state.checks);
    if (state.failure !== undefined) throw state.failure;
    state.ending = true;
    if (readOnly && state.inFlight === 0 && state.failure === undefined) {
      // A read whose every statement succeeded has nothing left to confirm: its commit is sent
      // and not waited for (the connection's next user's statements queue behind it). One sent
      // as one statement has nothing to commit.
      if (state.lone === undefined) void run(client, { text: 'commit' }, true).catch(() => {});
      return result;
    }
    const committed = run(client, { text: 'commit' }, true);
    for (const follow of state.followUps ?? []) follow((statement) => run(client, statement, true));
    // Nothing more of this transaction is sent: the next writer's opening may go right behind.
    handed = turn?.passOn(client) ?? false;
    const { command } = await committed;
    if (command !== 'COMMIT') throw state.failure ?? new Error(`commit answered ${command}`);
    return result;
  } catch (error) {
    state.ending = true;
    // A commit that failed has ended its transaction (and the connection may be the next writer's).
    if (!handed) {
      await run(client, { text: 'rollback' }, true).catch(() => {
        broken = true;
      });
    }
    throw cause(error);
  } finally {
    if (!handed) {
      states.delete(client);
      client.release(broken);
    }
  }
}

/**
 * A writer's turn in its scope's lane on this node (see openPostgresStore). The writer before it
 * in the lane hands over its connection as soon as it has sent its commit, so this writer's
 * opening (and first query) goes right behind that commit, in the same socket write: PostgreSQL
 * runs the commit and this writer's first statements in one go, and the scope's writers do not
 * wait for each commit's answer and a turn of the node's event loop before the next one starts.
 * On one connection the statements run in the order sent, so this writer sees the commit before
 * it, as when it took its own connection and waited for the scope's lock.
 */
export interface Turn {
  /** The connection handed over, once (for the turn's first attempt); undefined: take one from the pool. */
  take(): pg.PoolClient | undefined;
  /** Hands the connection to the lane's next writer, if one waits (then it is no longer the caller's). */
  passOn(client: pg.PoolClient): boolean;
}

/**
 * Runs `work` in the lane of `key`: one writer at a time, each after the one before it has sent
 * its commit (handing its connection over, see Turn) or has ended.
 */
export function scopeLanes(): <T>(key: string, work: (turn: Turn) => Promise<T>) => Promise<T> {
  const waiting = new Map<string, ((client: pg.PoolClient | undefined) => void)[]>();
  return <T>(key: string, work: (turn: Turn) => Promise<T>): Promise<T> => {
    const start = (handed: pg.PoolClient | undefined): Promise<T> => {
      let client = handed;
      let over = false;
      // The lane moves on to its next writer, giving it `to`; or, with none waiting, it ends.
      const moveOn = (to: pg.PoolClient | undefined) => {
        over = true;
        const next = waiting.get(key)!.shift();
        if (next) next(to);
        else waiting.delete(key);
      };
      const turn: Turn = {
        take() {
          const taken = client;
          client = undefined;
          return taken;
        },
        passOn(connection) {
          if (over || !waiting.get(key)!.length) return false;
          moveOn(connection);
          return true;
        },
      };
      let outcome: Promise<T>;
      try {
        outcome = work(turn);
      } catch (error) {
        outcome = Promise.reject(error);
      }
      return outcome.finally(() => {
        client?.release();
        if (!over) moveOn(undefined);
      });
    };
    const queue = waiting.get(key);
    if (!queue) {
      waiting.set(key, []);
      return start(undefined);
    }
    return new Promise<pg.PoolClient | undefined>((resolve) => queue.push(resolve)).then(start);
  };
}

/**
 * Runs `work` with at most `limit` others of the same key at once; the rest wait, in order,
 * without a connection.
 */
export function scopeGates(limit: number): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const gates = new Map<string, { running: number; waiting: (() => void)[] }>();
  return async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    let gate = gates.get(key);
    if (!gate) gates.set(key, (gate = { running: 0, waiting: [] }));
    if (gate.running >= limit) await new Promise<void>((resolve) => gate.waiting.push(resolve));
    else gate.running++;
    try {
      return await work();
    } finally {
      // A slot passes straight to the next waiter (still counted as running), or is freed.
      const next = gate.waiting.shift();
      if (next) next();
      else if (--gate.running === 0) gates.delete(key);
    }
  };
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether an error says the database cannot be reached: a connection refused, broken or timed
 * out, or PostgreSQL shutting down, starting up or out of connections (SQLSTATE class 08,
 * 57P01–57P03, 53300).
 */
export function isUnavailable(error: unknown): boolean {
  const code = sqlState(error) ?? '';
  if (code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
  if (/^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|NOTFOUND|AI_AGAIN)$/.test(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable)/.test(message);
}

const isRetried = (error: unknown) => RETRIED.has(sqlState(error) ?? '');

/** Full jitter over an exponential ceiling: 0–4 ms, 0–8 ms, … at most 0–200 ms. */
const backoffMs = (attempt: number) => Math.random() * Math.min(200, 2 * 2 ** attempt);

export async function openPostgresStore(options: PostgresOptions): Promise<Store> {
  const { connectionString, poolSize, ssl } = parsePostgresUrl(options.url);
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const pool = new pg.Pool({
    connectionString,
    ...(ssl !== undefined ? { ssl } : {}),
    max: options.poolSize ?? poolSize ?? DEFAULT_POOL_SIZE,
    types,
    // A request waits for a free connection rather than failing at once, but not forever.
    connectionTimeoutMillis: 30_000,
    application_name: 'eni-local',
    // A node that stalls inside a transaction (paused, wedged) must not hold the write lock for long.
    idle_in_transaction_session_timeout: 60_000,
    // A query is sent without waiting for the one before it to answer (see pipelined).
    pipeline: true,
  });
  // An idle connection the server closes (restart, admin) must not take the process down;
  // the pool replaces it, and the next query on a broken one fails and is answered as an error.
  pool.on('error', () => {});
  // The same for a connection that breaks while a transaction holds it between two queries: the
  // pool listens only to idle ones, and an 'error' nobody listens to would end the process. The
  // transaction's next query fails instead (and is answered 503, see transaction).
  pool.on('connect', (client) => client.on('error', () => {}));
  useGenericPlans(pool);
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
  // One writer at a time per process and scope takes the scope's lock (the others wait here
  // without a connection), so a burst of writes in one account cannot take every connection of
  // the pool from the readers and from the other accounts' writers; each hands its connection to
  // the next as soon as it has sent its commit (see Turn). Writers that name their resources wait
  // in the lane of their resources, and at most all but two of the pool's connections per scope
  // at once: a burst of them leaves two for everyone else (measured: 6, 8 or 10 of 10 gave the
  // same attach-detach throughput; 3, a fifth less).
  const inLane = scopeLanes();
  const narrowGate = scopeGates(Math.max(1, pool.options.max - 2));

  /*
   * Writers: READ COMMITTED behind their scope's lock, taken as the first statement, so each
   * later statement sees every commit of the writer before it in the scope (PostgreSQL makes a
   * commit visible before it releases the committing transaction's locks): within a scope,
   * writers run one at a time, as if serially — except those that name their resources, which run
   * beside each other when their resources are disjoint: each one's rules read only rows of its
   * own resources, so the outcome is that of some serial order (see WriteScope.resources and
   * scopeLock). Writers of other scopes run beside them; what they
   * could both touch — a MAC address, a public IPv4 address of the shared pool, any id — is a
   * unique constraint, and the loser of such a race gets a unique violation and runs again.
   * (SERIALIZABLE would add nothing within a scope, and across scopes only false conflicts; its
   * snapshot would also be taken by the lock statement, before the wait, and so miss the commits
   * the wait was for.) Readers: REPEATABLE READ READ ONLY, one snapshot of what writers committed:
   * a state every scope went through.
   */
  const attempt = <T>(fn: (tx: Transaction<Database>) => Promise<T>, scope: WriteScope | undefined, turn?: Turn, alone = false) =>
    turn
      ? pipelined(pool, fn, [{ text: `begin isolation level read committed; ${scopeLock(scope).text}` }], false, turn)
      : pipelined(pool, fn, [{ text: 'begin isolation level repeatable read read only' }], true, undefined, alone);

  /**
   * A database that cannot be reached is the store's refusal (StoreUnavailableError, answered
   * 503 ServiceUnavailable, which the SDKs retry), not a bug. The pool drops broken connections
   * and opens new ones, so the node recovers by itself when the database is back.
   */
  async function transaction<T>(fn: (tx: Transaction<Database>) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    try {
      return await runTransaction(fn, options);
    } catch (error) {
      if (isUnavailable(error)) throw new StoreUnavailableError(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  async function runTransaction<T>(fn: (tx: Transaction<Database>) => Promise<T>, options: TransactionOptions): Promise<T> {
    const writes = options.writes ?? true;
    // A read runs at once, its first statements as one statement without begin when they can
    // (see sendFirstStatements; should it send more, it runs again as a transaction). Should it
    // need to write after all (settling a transition that came due) or lose a race, it runs
    // again as a writer.
    if (!writes) {
      try {
        try {
          return await attempt(fn, options.scope, undefined, true);
        } catch (error) {
          if (!(error instanceof ReadOutgrewOneStatement)) throw error;
        }
        return await attempt(fn, options.scope);
      } catch (error) {
        if (!isRetried(error) && sqlState(error) !== READ_ONLY_SQL_TRANSACTION) throw error;
      }
    }
    const writer = (turn: Turn) => writeAttempts(fn, options, writes, turn);
    if (options.scope?.resources?.length) return narrowGate(scopeKey(options.scope), () => inLane(laneKey(options.scope), writer));
    return inLane(laneKey(options.scope), writer);
  }

  /** A writer's attempts in its lane: the first on the connection handed over, if any; a read that had to write counts one. */
  async function writeAttempts<T>(fn: (tx: Transaction<Database>) => Promise<T>, options: TransactionOptions, writes: boolean, turn: Turn): Promise<T> {
    for (let n = writes ? 1 : 2; ; n++) {
      try {
        return await attempt(fn, options.scope, turn);
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
  }

  const log = eventLog(pool, { connectionString, ...(ssl !== undefined ? { ssl } : {}), application_name: 'eni-local events' });
  return {
    kind: 'postgres',
    location: redactUrl(connectionString),
    db,
    transaction,
    eventLog: log,
    tokenBuckets: tokenBuckets(pool),
    close: async () => {
      await log.stop();
      await db.destroy();
    },
  };
}

const EVENTS_CHANNEL = 'eni_events';
/** Events fetched per query when a node catches up. */
const EVENT_BATCH = 1000;
/** The log keeps about this many events; whichever node delivers the next this many deletes the older ones. */
const EVENTS_KEPT = 100_000;
/** How long a request waits for its commit's notification before fetching its events itself. */
const NOTIFICATION_GRACE_MS = 50;
/** How soon a node looks again when committed events wait behind a transaction still in flight. */
const HORIZON_POLL_MS = 5;
/**
 * An event's id: its transaction's id (xid8) times this, plus its place in the transaction
 * (1, 2, …). JavaScript numbers hold it exactly up to transaction id 2^33.
 */
const EVENTS_PER_TRANSACTION = 2 ** 20;

/**
 * The first id that may still be committed: every transaction whose id is below the oldest one
 * in flight (pg_snapshot_xmin) has ended, so the events below the horizon are final.
 */
const HORIZON = `pg_snapshot_xmin(pg_current_snapshot())::text::bigint * ${EVENTS_PER_TRANSACTION}`;

/**
 * The event stream shared by every node: an outbox table written in the same transaction as the
 * change it reports, plus LISTEN/NOTIFY to wake the nodes up.
 *
 * Why an outbox and not NOTIFY alone: a notification is lost when no connection is listening (a
 * node restarting, a broken connection) and carries no id a client could resume from; the table
 * is the record, a notification only says "look".
 *
 * Order, without a lock: an event's id is its transaction's id (xid8) and its place in the
 * transaction (see EVENTS_PER_TRANSACTION), and a node delivers, in id order, only the events
 * below the horizon — the ids of transactions older than the oldest one still in flight
 * (pg_snapshot_xmin), which can gain no event any more. So every node delivers the same
 * sequence, ids only increase, and a client resumes from any id on any node. Within one scope
 * this is commit order: a writer takes its scope's lock before its first write (which gives it
 * its transaction id) and holds it until its commit, so the writers of one scope get increasing
 * transaction ids in the order they commit — among writers that name their resources, those
 * that share one. Writers of different scopes (or of disjoint resources) touch different rows,
 * so the order among them is one they could have committed in. Nothing is serialised: appends of
 * different scopes commit side by side. The cost is delivery latency: an event waits until every
 * transaction older than its own has ended, whatever it touches (bounded by the pool's
 * idle-in-transaction timeout for a stalled one); a node that finds committed events behind the
 * horizon looks again every HORIZON_POLL_MS until they pass.
 */
function eventLog(pool: pg.Pool, config: pg.ClientConfig): EventLog & { stop(): Promise<void> } {
  let cursor = 0;
  let deliver: ((event: LoggedEvent) => void) | undefined;
  let listener: pg.Client | undefined;
  let stopped = false;
  let fetching: Promise<void> | undefined;
  let again = false;
  let waiters: { id: number; resolve: () => void }[] = [];
  let reconnect: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  let sincePrune = 0;
  // The last event ids of this node's commits whose fetch behind the commit is still out: their
  // notifications need no fetch of their own.
  const fetchingOwn = new Set<number>();

  const wake = (all: boolean) => {
    const ready = waiters.filter((w) => all || w.id <= cursor);
    waiters = waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  };

  type Fetched = { id: number; body: string; horizon: number };
  const FETCH = `select "id", "body", ${HORIZON} as "horizon" from "events" where "id" > $1 order by "id" limit $2`;

  /**
   * Delivers what a fetch of the events after some id found, in order: those already delivered
   * (another fetch got there first) are passed over, and delivery stops at the first one behind
   * the horizon. Whether one was held there, and whether the fetch was a full batch.
   */
  function take(rows: Fetched[]): { held: boolean; full: boolean } {
    let held = false;
    for (const row of rows) {
      if (row.id <= cursor) continue;
      if (row.id >= row.horizon) {
        held = true;
        break;
      }
      cursor = row.id;
      deliver?.({ ...(JSON.parse(row.body) as Record<string, unknown>), id: row.id });
      if (++sincePrune >= EVENTS_KEPT) {
        sincePrune = 0;
        void pool.query('delete from "events" where "id" < (select "id" from "events" order by "id" desc offset $1 limit 1)', [EVENTS_KEPT]).catch(() => {});
      }
    }
    wake(false);
    if (held) {
      clearTimeout(poll);
      if (!stopped) poll = setTimeout(() => void fetchNew(), HORIZON_POLL_MS);
    }
    return { held, full: rows.length >= EVENT_BATCH };
  }

  async function fetchOnce(): Promise<void> {
    for (;;) {
      const { rows } = await pool.query<Fetched>(FETCH, [cursor, EVENT_BATCH]);
      const { held, full } = take(rows);
      if (held || !full) return;
    }
  }
  /** Fetches what is new; calls that come while a fetch runs get one more pass after it. */
  function fetchNew(): Promise<void> {
    if (fetching) {
      again = true;
      return fetching;
    }
    fetching = (async () => {
      try {
        do {
          again = false;
          await fetchOnce();
        } while (again);
      } catch {
        // The database is away: nobody waits for the stream (the listener catches up on reconnect).
        wake(true);
      } finally {
        fetching = undefined;
      }
    })();
    return fetching;
  }

  async function listen(): Promise<void> {
    if (stopped) return;
    const client = new pg.Client(config);
    const retry = () => {
      if (listener !== client) return;
      listener = undefined;
      client.end().catch(() => {});
      if (!stopped) reconnect = setTimeout(() => void listen(), 1000);
    };
    client.on('error', retry);
    client.on('end', retry);
    // The payload is the notifying transaction's last event id (empty from an older node: fetch).
    client.on('notification', (message) => {
      const last = Number(message.payload);
      if (!message.payload || !Number.isFinite(last) || (last > cursor && !fetchingOwn.has(last))) void fetchNew();
    });
    listener = client;
    try {
      await client.connect();
      await client.query(`listen ${EVENTS_CHANNEL}`);
    } catch {
      retry();
      return;
    }
    // Whatever was committed while nobody listened.
    await fetchNew();
  }

  return {
    append(tx, events) {
      if (events.length >= EVENTS_PER_TRANSACTION) throw new Error(`${events.length} events in one transaction: the log numbers at most ${EVENTS_PER_TRANSACTION - 1}`);
      // The transaction's ids start after any it appended before.
      const append = sendNow(tx, {
        text:
          `with "base" as materialized (select pg_current_xact_id()::text::bigint * ${EVENTS_PER_TRANSACTION} as "base"), ` +
            `"first" as materialized (select coalesce((select max("id") from "events" where "id" > "base" and "id" < "base" + ${EVENTS_PER_TRANSACTION}), "base") as "after" from "base"), ` +
            '"added" as (insert into "events" ("id", "body") select "after" + "n", "b" from "first", unnest($1::text[]) with ordinality as "t"("b", "n") returning "id") ' +
          `select max("id") as "last", pg_notify('${EVENTS_CHANNEL}', max("id")::text) from "added"`,
        values: [events.map((e) => JSON.stringify(e))],
      });
      const last = append.then(({ rows }) => Number((rows[0] as { last: number }).last));
      // This node fetches its new events right behind the commit, on the same connection: no
      // round trip of their own, and no wait for the notification. Others' notifications still
      // come; one for events this node has delivered, or is fetching so, is passed over (it
      // usually comes before that fetch's answer: a second fetch, for nothing, on every write).
      afterCommit(tx, (send) => {
        let fetched = false;
        let own: number | undefined;
        last.then(
          (id) => {
            if (!fetched) fetchingOwn.add((own = id));
          },
          () => {},
        );
        send({ text: FETCH, values: [cursor, EVENT_BATCH] })
          .then(
            ({ rows }) => {
              if (take(rows as Fetched[]).full) void fetchNew();
            },
            // The notification may have been passed over: fetch as it would have.
            () => void fetchNew(),
          )
          .finally(() => {
            fetched = true;
            if (own !== undefined) fetchingOwn.delete(own);
          });
      });
      return last;
    },
    async follow(fn, recent) {
      deliver = fn;
      // After the last `recent` events, and before any that may still be committed.
      const { rows } = await pool.query<{ after: number; horizon: number }>(
        `select coalesce((select "id" from "events" order by "id" desc offset $1 limit 1), 0) as "after", ${HORIZON} as "horizon"`,
        [recent],
      );
      cursor = Math.max(0, Math.min(rows[0].after, rows[0].horizon - 1));
      await listen();
    },
    delivered(id) {
      if (id <= cursor || !deliver) return Promise.resolve();
      const done = new Promise<void>((resolve) => waiters.push({ id, resolve }));
      // The commit's own notification makes the listener fetch; only if none came soon (the
      // listener reconnecting) is the fetch made here.
      const fallback = setTimeout(() => void fetchNew(), NOTIFICATION_GRACE_MS);
      return done.finally(() => clearTimeout(fallback));
    },
    async stop() {
      stopped = true;
      clearTimeout(reconnect);
      clearTimeout(poll);
      const client = listener;
      listener = undefined;
      wake(true);
      await client?.end().catch(() => {});
      await fetching;
    },
  };
}

/**
 * The request throttle's token buckets, shared by every node: one row per bucket, refilled and
 * drawn from in one statement on the database's clock, so N nodes admit AWS's rate, not N times it.
 */
function tokenBuckets(pool: pg.Pool): TokenBuckets {
  const TAKE =
    'insert into "throttle_buckets" as "b" ("key", "tokens", "updated_at") values ($1, $2::float8 - 1, extract(epoch from clock_timestamp())) ' +
    'on conflict ("key") do update set "tokens" = least($2::float8, "b"."tokens" + greatest(0, "excluded"."updated_at" - "b"."updated_at") * $3::float8) - 1, ' +
    '"updated_at" = "excluded"."updated_at" ' +
    'where least($2::float8, "b"."tokens" + greatest(0, "excluded"."updated_at" - "b"."updated_at") * $3::float8) >= 1 returning "tokens"';
  return {
    async take(key, capacity, refillRate) {
      try {
        return (await pool.query(TAKE, [key, capacity, refillRate])).rowCount === 1;
      } catch (error) {
        if (isUnavailable(error)) throw new StoreUnavailableError(error instanceof Error ? error.message : String(error));
        throw error;
      }
    },
  };
}
