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

/** The rows a SELECT returns. */
export async function selectRows<R>(tx: Tx, text: string, params: readonly unknown[] = []): Promise<R[]> {
  const connection = direct.get(tx);
  if (connection) return connection.all(text, params) as R[];
  return (await tx.executeQuery<R>(compiled(tx, text, params))).rows;
}

/** The first row a SELECT returns, if any. */
export async function selectFirst<R>(tx: Tx, text: string, params: readonly unknown[] = []): Promise<R | undefined> {
  return (await selectRows<R>(tx, text, params))[0];
}

/** Runs an INSERT, UPDATE or DELETE; the number of rows it changed. */
export async function execute(tx: Tx, text: string, params: readonly unknown[] = []): Promise<number> {
  const connection = direct.get(tx);
  if (connection) return connection.run(text, params);
  return Number((await tx.executeQuery(compiled(tx, text, params))).numAffectedRows ?? 0);
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
