/**
 * Queries written as SQL text, for the paths every request takes (Describe, fetching a resource,
 * settling transitions). Kysely's builder costs tens of microseconds per query in object
 * building and compiling, more than SQLite takes to run most of ours; a constant text with `?`
 * placeholders costs nothing to build and hits the store's prepared-statement cache. The same
 * text runs on both stores: `?` becomes `$1, $2, …` on PostgreSQL. In a transaction of the
 * embedded store, the text runs on the connection directly (see `runDirectly`), without the few
 * promise hops per statement of Kysely's executor.
 *
 * Identifiers in these texts are the code's own (tables, columns), never the caller's input;
 * every value is a parameter.
 */
import { CompiledQuery, PostgresAdapter } from 'kysely';
import type { Tx } from './schema.ts';

// One shared node and id: they only matter to Kysely plugins, and the stores install none.
const RAW = CompiledQuery.raw('');

const PLACEHOLDER_TEXTS = 1024;
const postgresTexts = new Map<string, string>();

/** `?` placeholders numbered for PostgreSQL (our texts hold no `?` inside literals). */
export function postgresText(text: string): string {
  let out = postgresTexts.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/\?/g, () => `$${++n}`);
    if (postgresTexts.size >= PLACEHOLDER_TEXTS) postgresTexts.clear();
    postgresTexts.set(text, out);
  }
  return out;
}

function compiled(tx: Tx, text: string, params: readonly unknown[]): CompiledQuery {
  const sql = tx.getExecutor().adapter instanceof PostgresAdapter ? postgresText(text) : text;
  return { sql, parameters: params, query: RAW.query, queryId: RAW.queryId };
}

/** Runs statements synchronously on the connection a transaction holds (the embedded store). */
export interface DirectConnection {
  all(text: string, params: readonly unknown[]): unknown[];
  run(text: string, params: readonly unknown[]): number;
}

const direct = new WeakMap<Tx, DirectConnection>();

/**
 * Says that `tx` holds `connection` alone until it ends (the SQLite store: one connection, taken
 * by the transaction for its whole run), so its SQL texts may run there directly.
 */
export function runDirectly(tx: Tx, connection: DirectConnection): void {
  direct.set(tx, connection);
}

/**
 * Sends a statement (PostgreSQL text, `$n` placeholders) on the connection a transaction holds,
 * at once, the connection pipelining it behind any still in flight: the PostgreSQL store.
 */
export type PipelinedConnection = (text: string, params: readonly unknown[], judge?: Judge) => Promise<{ rows: unknown[]; rowCount: number | null }>;

/** How a pipelined statement's answer decides whether its transaction may go on. */
export interface Judge {
  /** An error to fail the transaction with, or undefined. The commit waits for this answer. */
  check?: (result: { rows: unknown[]; rowCount: number | null }) => unknown;
  /**
   * The statement raises this SQLSTATE when its expectation fails, so PostgreSQL aborts the
   * transaction by itself and the commit need not wait; the error to fail with instead.
   */
  raises?: { code: string; failure: () => unknown };
}

/** What `eni_expect_rows` (migration 019) raises. */
const EXPECTATION_FAILED = 'EL001';
const expectingTexts = new Map<string, string>();

/** A change (PostgreSQL text) that raises EXPECTATION_FAILED unless it touched exactly `rows` rows. */
function expecting(text: string, rows: number): string {
  const key = `${rows}\u0000${text}`;
  let out = expectingTexts.get(key);
  if (out === undefined) {
    out = `with "changed" as (${text} returning 1) select eni_expect_rows(count(*), ${Math.trunc(rows)}) from "changed"`;
    if (expectingTexts.size >= PLACEHOLDER_TEXTS) expectingTexts.clear();
    expectingTexts.set(key, out);
  }
  return out;
}

const pipelines = new WeakMap<Tx, PipelinedConnection>();

/**
 * Says that `tx` runs its statements on one pipelining PostgreSQL connection (see
 * PipelinedConnection): SQL texts are sent there directly, without Kysely's executor, and a
 * `write` is sent without waiting for its answer.
 */
export function runPipelined(tx: Tx, connection: PipelinedConnection): void {
  pipelines.set(tx, connection);
}

/** The rows a SELECT returns. */
export async function selectRows<R>(tx: Tx, text: string, params: readonly unknown[] = []): Promise<R[]> {
  const connection = direct.get(tx);
  if (connection) return connection.all(text, params) as R[];
  const pipeline = pipelines.get(tx);
  if (pipeline) return (await pipeline(postgresText(text), params)).rows as R[];
  return (await tx.executeQuery<R>(compiled(tx, text, params))).rows;
}

/** The rows of a text already in PostgreSQL's form ($n placeholders). */
async function rawRows<R>(tx: Tx, text: string, params: readonly unknown[]): Promise<R[]> {
  const pipeline = pipelines.get(tx);
  if (pipeline) return (await pipeline(text, params)).rows as R[];
  return (await tx.executeQuery<R>({ sql: text, parameters: params, query: RAW.query, queryId: RAW.queryId })).rows;
}

/** The first row a SELECT returns, if any. */
export async function selectFirst<R>(tx: Tx, text: string, params: readonly unknown[] = []): Promise<R | undefined> {
  return (await selectRows<R>(tx, text, params))[0];
}

/** Runs an INSERT, UPDATE or DELETE; the number of rows it changed. */
export async function execute(tx: Tx, text: string, params: readonly unknown[] = []): Promise<number> {
  const connection = direct.get(tx);
  if (connection) return connection.run(text, params);
  const pipeline = pipelines.get(tx);
  if (pipeline) return (await pipeline(postgresText(text), params)).rowCount ?? 0;
  return Number((await tx.executeQuery(compiled(tx, text, params))).numAffectedRows ?? 0);
}

/** What a `write` must have changed, and the error the transaction fails with otherwise. */
export interface Expected {
  rows: number;
  otherwise: () => unknown;
}

/**
 * Runs an INSERT, UPDATE or DELETE whose outcome the caller does not read, or only checks. On a
 * pipelining connection (PostgreSQL) it is sent and not waited for: the statements after it run
 * after it (and see its change), and should it fail — or change other than `expected.rows` rows,
 * which PostgreSQL itself checks (eni_expect_rows) — the transaction fails with its error (or
 * `expected.otherwise()`), at the next statement waited for, or at the commit. So a change costs no
 * round trip of its own. On the embedded store it runs at once and throws there.
 */
export async function write(tx: Tx, text: string, params: readonly unknown[] = [], expected?: Expected): Promise<void> {
  const pipeline = pipelines.get(tx);
  if (pipeline && !direct.get(tx)) {
    // The count is PostgreSQL's to check (it aborts the transaction), so the commit may follow at once.
    if (expected) pipeline(expecting(postgresText(text), expected.rows), params, { raises: { code: EXPECTATION_FAILED, failure: expected.otherwise } }).catch(() => {});
    else pipeline(postgresText(text), params).catch(() => {});
    return;
  }
  const changed = await execute(tx, text, params);
  if (expected && changed !== expected.rows) throw expected.otherwise();
}

/**
 * A SELECT whose rows only decide whether the transaction may go on: `judge` answers an error to
 * fail it with, or undefined. Like `write`, on a pipelining connection it is not waited for (the
 * transaction fails at its next statement waited for, or before its commit); on the embedded
 * store it runs at once and throws there. For limits checked after a change (a resource's tags).
 */
export async function verify<R>(tx: Tx, text: string, params: readonly unknown[], judge: (rows: R[]) => unknown): Promise<void> {
  const pipeline = pipelines.get(tx);
  if (pipeline && !direct.get(tx)) {
    pipeline(postgresText(text), params, { check: (r) => judge(r.rows as R[]) }).catch(() => {});
    return;
  }
  const failure = judge(await selectRows<R>(tx, text, params));
  if (failure !== undefined) throw failure;
}

const lists: string[] = [];

/** `?, ?, …` for n values (n ≥ 1). */
export function placeholders(n: number): string {
  if (n < 1) throw new Error('placeholders: an empty list');
  if (n > 1000) return Array(n).fill('?').join(', ');
  return (lists[n] ??= Array(n).fill('?').join(', '));
}

/**
 * A multi-row INSERT text for n rows of `width` values: `build(rows)` with rows =
 * `(?, …), (?, …)`, kept by n as listText's texts are.
 */
export function rowsText(width: number, build: (rows: string) => string): (n: number) => string {
  const row = `(${placeholders(width)})`;
  const texts: string[] = [];
  return (n) => (texts[n] ??= build(Array(n).fill(row).join(', ')));
}

/**
 * A query text around a list of n values, `build(list)` with list = `?, ?, …`, kept by n: the
 * same string object comes back each time, so the statement cache finds it without hashing it.
 */
export function listText(build: (list: string) => string): (n: number) => string {
  const texts: string[] = [];
  return (n) => (n > 1000 ? build(placeholders(n)) : (texts[n] ??= build(placeholders(n))));
}

/**
 * Several independent SELECTs, their rows in the same order. The embedded store runs them one
 * after another; PostgreSQL gets them as one statement (each query's rows as a JSON array in its
 * own column, see jsonArray), so a Describe's child rows cost one round trip however many kinds
 * there are. JSON keeps the values the rows would have had (text, integers, null; int8 is parsed
 * to a number either way), and an array of an ordered subquery keeps its order.
 */
export async function selectEach(tx: Tx, queries: readonly (readonly [text: string, params: readonly unknown[]])[]): Promise<unknown[][]> {
  if (queries.length === 0) return [];
  if (direct.get(tx) || queries.length === 1 || !(tx.getExecutor().adapter instanceof PostgresAdapter)) {
    const out: unknown[][] = [];
    for (const [text, params] of queries) out.push(await selectRows(tx, text, params));
    return out;
  }
  const [row] = await selectRows<Record<string, unknown[]>>(tx, jsonColumns(queries.map(([text]) => text)), queries.flatMap(([, p]) => p));
  return queries.map((_, i) => row[`r${i}`]);
}

/**
 * The rows of `alias` in `from` as one JSON array of objects (`[]` for none): an array of the
 * rows, made JSON. The same values as json_agg would give, but without an aggregate, which
 * PostgreSQL builds afresh at every execution (perf on describe-id, whose statement held 14
 * aggregates, 9 of them JSON columns: building them took a third of the database's time). `alias`
 * must be none of the rows' own columns (the column would be taken).
 */
const jsonArray = (alias: string, from: string) => `to_json(array(select "${alias}" from ${from}))`;

/** One statement whose column `<name><i>` holds the rows of texts[i] as a JSON array (see jsonArray). */
export const jsonColumns = (texts: readonly string[], name = 'r') =>
  'select ' + texts.map((text, i) => `${jsonArray(`${name}${i}`, `(${text}) as "${name}${i}"`)} as "${name}${i}"`).join(', ');

/**
 * A query over a list of ids (`build(list)`, list being `?, ?, …` or a subquery), and what its
 * rows mean to the caller: the unit `selectForIds` fetches together.
 */
export interface IdListQuery<Out> {
  build: (list: string) => string;
  shape: (rows: never[], ids: readonly string[]) => Out;
}

/** An IdListQuery with nothing to fetch: its shape makes do with no rows. */
export const nothing = <Out>(shape: () => Out): IdListQuery<Out> => ({ build: () => '', shape });

/** What each of a list of IdListQuery gives its caller, in order. */
export type Shaped<Q> = { [K in keyof Q]: Q[K] extends IdListQuery<infer Out> ? Out : never };

const embeddedTexts = new WeakMap<IdListQuery<unknown>, (n: number) => string>();
const postgresBatches = new Map<string, string>();
/** On PostgreSQL the ids go once, as one array parameter every query unnests. */
const ID_ARRAY = 'select unnest($1::text[])';

/**
 * Runs every query over the same ids together and shapes each one's rows. On PostgreSQL: one
 * statement, the ids one array parameter (see selectEach); on the embedded store one statement
 * per query, the ids as `in (?, …)` (texts kept by n, see listText).
 */
export async function selectForIds<Q extends IdListQuery<unknown>[]>(tx: Tx, ids: readonly string[], ...queries: Q): Promise<Shaped<Q>> {
  const sent = ids.length ? queries.filter((q) => q.build('?') !== '') : [];
  let fetched: unknown[][] = [];
  if (sent.length && !direct.get(tx) && tx.getExecutor().adapter instanceof PostgresAdapter) {
    const key = sent.map((q) => q.build(ID_ARRAY)).join('\u0000');
    let text = postgresBatches.get(key);
    if (text === undefined) {
      text = jsonColumns(key.split('\u0000'));
      if (postgresBatches.size >= PLACEHOLDER_TEXTS) postgresBatches.clear();
      postgresBatches.set(key, text);
    }
    const [row] = await rawRows<Record<string, unknown[]>>(tx, text, [ids]);
    fetched = sent.map((_, i) => row[`r${i}`]);
  } else {
    for (const q of sent) {
      let text = embeddedTexts.get(q);
      if (!text) embeddedTexts.set(q, (text = listText(q.build)));
      fetched.push(await selectRows(tx, text(ids.length), ids));
    }
  }
  return queries.map((q) => q.shape((fetched[sent.indexOf(q)] ?? []) as never[], ids)) as Shaped<Q>;
}

/** Whether tx runs its texts on PostgreSQL through pg (not directly on an embedded connection). */
export function onPostgres(tx: Tx): boolean {
  return !direct.get(tx) && tx.getExecutor().adapter instanceof PostgresAdapter;
}

const pageBatches = new Map<string, string>();

/**
 * Pages known to hold at most this many rows fetch their child rows row by row (a lateral
 * subquery per query, the list being the row's id); larger or unbounded ones fetch them by
 * semi-join over the page's ids. Measured with pgbench on one page statement of interfaces and
 * their six child queries, the two forms alike otherwise: per row is 1.2-1.5x the statements/s
 * for one row, 2x for 50, even at 200, and 0.75x for 1,000 (where hashing the page's ids pays).
 */
const ROW_BY_ROW_UP_TO = 200;

/**
 * PostgreSQL only: a page of rows (`pageText`, its values `params`, ordered by `idColumn`) and
 * every query over the page's ids, in one statement: the page is a materialized CTE, its rows and
 * each query's rows as JSON columns (see selectEach), each query's list being the
 * page's ids — or, for a page of at most `bound` rows with bound ≤ ROW_BY_ROW_UP_TO, each row's
 * id in turn. `shapeIds` picks the ids the shapes are given (the page may hold one row more than
 * is shown, for the next token).
 */
export async function selectPageForIds<R extends Record<string, unknown>, Q extends IdListQuery<unknown>[]>(
  tx: Tx,
  pageText: string,
  params: readonly unknown[],
  idColumn: string,
  bound: number | undefined,
  shapeIds: (rows: R[]) => R[],
  ...queries: Q
): Promise<{ rows: R[]; children: Shaped<Q> }> {
  const sent = queries.filter((q) => q.build('?') !== '');
  const rowByRow = bound !== undefined && bound <= ROW_BY_ROW_UP_TO;
  // The alias is the page's own: no child query uses it.
  const list = rowByRow ? `"page_row"."${idColumn}"` : `select "${idColumn}" from "page"`;
  const from = (q: IdListQuery<unknown>, i: number) => (rowByRow ? `"page" as "page_row", lateral (${q.build(list)}) as "r${i}"` : `(${q.build(list)}) as "r${i}"`);
  const key = [pageText, ...sent.map((q) => q.build(list))].join('\u0000');
  let text = pageBatches.get(key);
  if (text === undefined) {
    text =
      `with "page" as materialized (${postgresText(pageText)}) select ${jsonArray('page', `"page" order by "page"."${idColumn}"`)} as "page"` +
      sent.map((q, i) => `, ${jsonArray(`r${i}`, from(q, i))} as "r${i}"`).join('');
    if (pageBatches.size >= PLACEHOLDER_TEXTS) pageBatches.clear();
    pageBatches.set(key, text);
  }
  const [row] = await rawRows<Record<string, unknown[]>>(tx, text, params);
  const rows = shapeIds(row.page as R[]);
  const ids = rows.map((r) => String(r[idColumn]));
  const children = queries.map((q) => q.shape((sent.includes(q) ? row[`r${sent.indexOf(q)}`] : []) as never[], ids)) as Shaped<Q>;
  return { rows, children };
}
