/**
 * The one mechanism behind every Describe action: EC2 filters turned into SQL predicates over a
 * resource table (and its child tables and tags), and keyset pagination with opaque tokens.
 *
 * EC2 filter semantics: several filters AND, several values of one filter OR; values are
 * case-sensitive and may hold `*` (any run) and `?` (one character), `\` escapes them.
 *
 * The SQL is written as text (see sql-text.ts): every Describe runs through here, and building it
 * with Kysely cost more than running it. Table and column names come from the code's specs;
 * every value the caller gave is a parameter.
 */
import { UnknownFilterError } from './errors.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import type { Database, Tx } from './schema.ts';
import { onPostgres, placeholders, selectForIds, selectPageForIds, selectRows, type IdListQuery, type Shaped } from './sql-text.ts';

export type ValueType = 'string' | 'boolean' | 'integer';

/** How one filter name maps onto the table. */
export type FilterField =
  /** A column of the resource's own table. */
  | { column: string; type?: ValueType; table?: undefined; /** a column that must be set for the row to match */ whenSet?: string }
  /**
   * A column of a child table: the filter matches when any child row matches. With `in`, the
   * child's column is a key into a third table whose column is matched (e.g. an interface's
   * group ids looked up by group name).
   */
  | {
      table: keyof Database;
      foreignKey: string;
      /** the column of the resource's table the foreign key refers to (default: its id column) */
      localKey?: string;
      column: string;
      type?: ValueType;
      where?: Record<string, string | number>;
      in?: { table: keyof Database; key: string; column: string; type?: ValueType };
    };

export type FilterSpec = Record<string, FilterField>;

export interface Filter {
  Name?: string;
  Values?: string[];
}

export interface DescribeRequest {
  table: keyof Database;
  idColumn?: string;
  account: string;
  region: string;
  ids?: string[];
  /**
   * With ids: the error for ids that do not exist, given the missing ids joined by ", " (the
   * caller's own, e.g. an EC2 `.NotFound`; their shape is the caller's to check).
   */
  idErrors?: { notFound: (ids: string) => Error };
  filters?: Filter[];
  spec: FilterSpec;
  /** Whether `tag:KEY`, `tag-key` and `tag-value` apply. */
  taggable?: boolean;
  /** The column tags are keyed by (default: the id column). */
  tagKey?: string;
  maxResults?: number;
  nextToken?: string;
  /** Extra equality conditions every row must meet (e.g. a VPC id). */
  where?: Record<string, string | number>;
}

export interface Page<Row> {
  rows: Row[];
  nextToken?: string;
}

const WILDCARD = /(?<!\\)[*?]/;

/** An EC2 filter value as a LIKE pattern (escape character `\`), or undefined when it has no wildcard. */
export function likePattern(value: string): string | undefined {
  if (!WILDCARD.test(value)) return undefined;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) {
      const next = value[++i];
      out += next === '%' || next === '_' || next === '\\' ? `\\${next}` : next;
    } else if (c === '*') out += '%';
    else if (c === '?') out += '_';
    else if (c === '%' || c === '_') out += `\\${c}`;
    else out += c;
  }
  return out;
}

/** Removes the backslash escapes of a value without wildcards. */
const unescapeValue = (value: string) => value.replace(/\\(.)/g, '$1');

function typed(value: string, type: ValueType | undefined): string | number | undefined {
  if (type === 'boolean') {
    if (value === 'true') return 1;
    if (value === 'false') return 0;
    return undefined;
  }
  // Every integer column holds a 32-bit value: a larger number matches no row (and PostgreSQL would refuse it).
  if (type === 'integer') {
    const n = /^-?[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
    return n >= -(2 ** 31) && n < 2 ** 31 ? n : undefined;
  }
  return value;
}

/** `"table"."column"`: names are the code's own, never the caller's. */
const ref = (table: string, column: string) => `"${table}"."${column}"`;

/**
 * `column` matches any of `values` (OR), honouring wildcards on string columns. Returns the
 * condition's text and appends its values to `params` in placeholder order.
 */
function matchAny(column: string, values: string[], type: ValueType | undefined, params: unknown[]): string {
  const exact: (string | number)[] = [];
  const ors: string[] = [];
  for (const value of values) {
    const pattern = !type || type === 'string' ? likePattern(value) : undefined;
    if (pattern !== undefined) {
      ors.push(`${column} like ? escape '\\'`);
      params.push(pattern);
      continue;
    }
    const v = typed(type === 'string' || !type ? unescapeValue(value) : value, type);
    if (v !== undefined) exact.push(v);
  }
  if (exact.length === 1) ors.push(`${column} = ?`);
  else if (exact.length > 1) ors.push(`${column} in (${placeholders(exact.length)})`);
  params.push(...exact);
  if (ors.length === 0) return '1 = 0';
  return ors.length === 1 ? ors[0] : `(${ors.join(' or ')})`;
}

/*
 * Filters on related rows (tags, addresses, groups…) are written `id IN (SELECT …)` rather than
 * a correlated EXISTS: the related table's index on the filtered column finds the few matching
 * rows, so a filter costs the same with a thousand resources or a million (EXISTS would test
 * every resource of the account).
 */

function tagPredicate(table: string, idColumn: string, key: string | undefined, column: 'key' | 'value', values: string[], params: unknown[]): string {
  let condition: string;
  if (key === undefined) condition = matchAny(ref('tags', column), values, undefined, params);
  else {
    params.push(key);
    condition = `"tags"."key" = ? and ${matchAny(ref('tags', 'value'), values, undefined, params)}`;
  }
  return `${ref(table, idColumn)} in (select "tags"."resource_id" from "tags" where ${condition})`;
}

/**
 * The SQL condition of one EC2 filter (its values appended to `params`), or an
 * UnknownFilterError for an unknown name.
 */
export function filterPredicate(
  req: Pick<DescribeRequest, 'table' | 'idColumn' | 'spec' | 'taggable' | 'tagKey'>,
  filter: Filter,
  params: unknown[],
): string {
  const name = filter.Name ?? '';
  const values = filter.Values ?? [];
  const table = req.table;
  const idColumn = req.idColumn ?? 'id';
  if (req.taggable) {
    const tagKey = req.tagKey ?? idColumn;
    if (name.startsWith('tag:')) return tagPredicate(table, tagKey, name.slice(4), 'value', values, params);
    if (name === 'tag-key') return tagPredicate(table, tagKey, undefined, 'key', values, params);
    if (name === 'tag-value') return tagPredicate(table, tagKey, undefined, 'value', values, params);
  }
  const field = Object.hasOwn(req.spec, name) ? req.spec[name] : undefined;
  if (!field) throw new UnknownFilterError(name);
  if (field.table === undefined) {
    const match = matchAny(ref(table, field.column), values, field.type, params);
    return field.whenSet ? `${ref(table, field.whenSet)} is not null and ${match}` : match;
  }
  const child: string = field.table;
  const lookup = field.in;
  const conditions = [
    lookup
      ? `${ref(child, field.column)} in (select ${ref(lookup.table, lookup.key)} from "${lookup.table}" where ${matchAny(ref(lookup.table, lookup.column), values, lookup.type, params)})`
      : matchAny(ref(child, field.column), values, field.type, params),
  ];
  for (const [column, value] of Object.entries(field.where ?? {})) {
    conditions.push(`${ref(child, column)} = ?`);
    params.push(value);
  }
  return `${ref(table, field.localKey ?? idColumn)} in (select ${ref(child, field.foreignKey)} from "${child}" where ${conditions.join(' and ')})`;
}

/** Every id asked for must exist in the caller's scope, filtered out or not, as on AWS. */
async function checkIdsExist(tx: Tx, req: DescribeRequest, rows: Record<string, unknown>[]): Promise<void> {
  const idColumn = req.idColumn ?? 'id';
  const unique = [...new Set(req.ids)];
  let found = new Set(rows.map((r) => r[idColumn]));
  if (found.size < unique.length && (req.filters?.length || req.nextToken || req.maxResults)) {
    const existing = await selectRows<Record<string, unknown>>(
      tx,
      `select "${idColumn}" from "${req.table}" where "account_id" = ? and "region" = ? and "${idColumn}" in (${placeholders(unique.length)})`,
      [req.account, req.region, ...unique],
    );
    found = new Set(existing.map((r) => r[idColumn]));
  }
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length) throw req.idErrors!.notFound(missing.join(', '));
}

/** The text and values of a Describe's page (see describeRows). */
function pageQuery(req: DescribeRequest): { text: string; params: unknown[] } {
  const table = req.table;
  const idColumn = req.idColumn ?? 'id';
  const ids = req.ids ?? [];
  const id = ref(table, idColumn);
  const params: unknown[] = [req.account, req.region];
  let text = `select "${table}".* from "${table}" where ${ref(table, 'account_id')} = ? and ${ref(table, 'region')} = ?`;
  for (const [column, value] of Object.entries(req.where ?? {})) {
    text += ` and ${ref(table, column)} = ?`;
    params.push(value);
  }
  const unique = [...new Set(ids)];
  if (unique.length) {
    text += ` and ${id} in (${placeholders(unique.length)})`;
    params.push(...unique);
  }
  for (const filter of req.filters ?? []) {
    if (!filter.Values?.length) continue;
    text += ` and (${filterPredicate(req, filter, params)})`;
  }
  if (req.nextToken) {
    text += ` and ${id} > ?`;
    params.push(decodePageToken(req.nextToken));
  }
  text += ` order by ${id}`;
  if (req.maxResults) {
    text += ' limit ?';
    params.push(req.maxResults + 1);
  }
  return { text, params };
}

/** The most rows the page query can find, when the request bounds it (its ids, its MaxResults and the row beyond). */
function pageBound(req: DescribeRequest): number | undefined {
  const bounds = [...(req.ids?.length ? [new Set(req.ids).size] : []), ...(req.maxResults ? [req.maxResults + 1] : [])];
  return bounds.length ? Math.min(...bounds) : undefined;
}

/** The page's next token, when the query found a row beyond maxResults (which it drops). */
function cut<Row extends Record<string, unknown>>(req: DescribeRequest, rows: Row[]): string | undefined {
  if (!req.maxResults || rows.length <= req.maxResults) return undefined;
  rows.length = req.maxResults;
  return encodePageToken(String(rows[rows.length - 1][req.idColumn ?? 'id']));
}

/**
 * Selects one page of a resource table for a Describe call: scoped to the caller's account and
 * region, restricted to the ids asked for (all of which must exist), filtered, keyset-paginated.
 */
export async function describeRows<Row extends Record<string, unknown>>(tx: Tx, req: DescribeRequest): Promise<Page<Row>> {
  const { text, params } = pageQuery(req);
  const rows = await selectRows<Row>(tx, text, params);
  if (req.ids?.length && req.idErrors) await checkIdsExist(tx, req, rows);
  const nextToken = cut(req, rows);
  return nextToken ? { rows, nextToken } : { rows };
}

/**
 * describeRows, and the queries over the page's ids (its rows' child rows), shaped for the
 * page's rows. On PostgreSQL the page and the queries are one statement (the page's rows and the
 * children as JSON: for tables of text and integer columns); elsewhere the page, then the
 * queries as selectForIds runs them.
 */
export async function describeRowsWith<Row extends Record<string, unknown>, Q extends IdListQuery<unknown>[]>(
  tx: Tx,
  req: DescribeRequest,
  ...queries: Q
): Promise<Page<Row> & { children: Shaped<Q> }> {
  if (!onPostgres(tx)) {
    const page = await describeRows<Row>(tx, req);
    const ids = page.rows.map((r) => String(r[req.idColumn ?? 'id']));
    return { ...page, children: await selectForIds(tx, ids, ...queries) };
  }
  const { text, params } = pageQuery(req);
  let nextToken: string | undefined;
  let found: Row[] = [];
  const page = await selectPageForIds<Row, Q>(
    tx,
    text,
    params,
    req.idColumn ?? 'id',
    pageBound(req),
    (rows) => {
      found = rows.slice();
      nextToken = cut(req, rows);
      return rows;
    },
    ...queries,
  );
  if (req.ids?.length && req.idErrors) await checkIdsExist(tx, req, found);
  return nextToken ? { ...page, nextToken } : page;
}
