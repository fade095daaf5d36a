/**
 * The one mechanism behind every Describe action: EC2 filters turned into SQL predicates over a
 * resource table (and its child tables and tags), and keyset pagination with opaque tokens.
 *
 * EC2 filter semantics: several filters AND, several values of one filter OR; values are
 * case-sensitive and may hold `*` (any run) and `?` (one character), `\` escapes them.
 */
import { sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import { Errors, type IdErrors } from '../api/ec2/errors.ts';
import { decodePageToken, encodePageToken } from './page-token.ts';
import type { Database, Tx } from './schema.ts';

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
  /** With ids: the error for ids that do not exist (their shape is the caller's to check). */
  idErrors?: IdErrors;
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyEb = ExpressionBuilder<any, any>;

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

/** `column` matches any of `values` (OR), honouring wildcards on string columns. */
function matchAny(eb: AnyEb, column: string, values: string[], type?: ValueType): Expression<SqlBool> {
  const exact: (string | number)[] = [];
  const ors: Expression<SqlBool>[] = [];
  for (const value of values) {
    const pattern = !type || type === 'string' ? likePattern(value) : undefined;
    if (pattern !== undefined) {
      ors.push(sql<SqlBool>`${eb.ref(column)} like ${pattern} escape '\\'`);
      continue;
    }
    const v = typed(type === 'string' || !type ? unescapeValue(value) : value, type);
    if (v !== undefined) exact.push(v);
  }
  if (exact.length === 1) ors.push(eb(column, '=', exact[0]));
  else if (exact.length > 1) ors.push(eb(column, 'in', exact));
  if (ors.length === 0) return sql<SqlBool>`1 = 0`;
  return ors.length === 1 ? ors[0] : eb.or(ors);
}

/*
 * Filters on related rows (tags, addresses, groups…) are written `id IN (SELECT …)` rather than
 * a correlated EXISTS: the related table's index on the filtered column finds the few matching
 * rows, so a filter costs the same with a thousand resources or a million (EXISTS would test
 * every resource of the account).
 */

function tagPredicate(eb: AnyEb, table: string, idColumn: string, key: string | undefined, column: 'key' | 'value', values: string[]) {
  return eb(
    `${table}.${idColumn}`,
    'in',
    eb
      .selectFrom('tags')
      .select('tags.resource_id')
      .where((t: AnyEb) => (key === undefined ? matchAny(t, `tags.${column}`, values) : t.and([t('tags.key', '=', key), matchAny(t, 'tags.value', values)]))),
  );
}

/** The SQL predicate of one EC2 filter, or an InvalidParameterValue for an unknown name. */
export function filterPredicate(eb: AnyEb, req: Pick<DescribeRequest, 'table' | 'idColumn' | 'spec' | 'taggable' | 'tagKey'>, filter: Filter): Expression<SqlBool> {
  const name = filter.Name ?? '';
  const values = filter.Values ?? [];
  const table = req.table;
  const idColumn = req.idColumn ?? 'id';
  if (req.taggable) {
    const tagKey = req.tagKey ?? idColumn;
    if (name.startsWith('tag:')) return tagPredicate(eb, table, tagKey, name.slice(4), 'value', values);
    if (name === 'tag-key') return tagPredicate(eb, table, tagKey, undefined, 'key', values);
    if (name === 'tag-value') return tagPredicate(eb, table, tagKey, undefined, 'value', values);
  }
  const field = Object.hasOwn(req.spec, name) ? req.spec[name] : undefined;
  if (!field) throw Errors.invalidFilter(name);
  if (field.table === undefined) {
    const match = matchAny(eb, `${table}.${field.column}`, values, field.type);
    return field.whenSet ? eb.and([eb(`${table}.${field.whenSet}`, 'is not', null), match]) : match;
  }
  const child: string = field.table;
  return eb(
    `${table}.${field.localKey ?? idColumn}`,
    'in',
    eb
      .selectFrom(child)
      .select(`${child}.${field.foreignKey}`)
      .where((c: AnyEb) => {
        const lookup = field.in;
        const conds = [
          lookup
            ? c(
                `${child}.${field.column}`,
                'in',
                c.selectFrom(lookup.table).select(`${lookup.table}.${lookup.key}`).where((l: AnyEb) => matchAny(l, `${lookup.table}.${lookup.column}`, values, lookup.type)),
              )
            : matchAny(c, `${child}.${field.column}`, values, field.type),
        ];
        for (const [col, v] of Object.entries(field.where ?? {})) conds.push(c(`${child}.${col}`, '=', v));
        return c.and(conds);
      }),
  );
}

/** Every id asked for must exist in the caller's scope, filtered out or not, as on AWS. */
async function checkIdsExist(tx: Tx, req: DescribeRequest, rows: Record<string, unknown>[]): Promise<void> {
  const idColumn = req.idColumn ?? 'id';
  const unique = [...new Set(req.ids)];
  let found = new Set(rows.map((r) => r[idColumn]));
  if (found.size < unique.length && (req.filters?.length || req.nextToken || req.maxResults)) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const existing = (await (tx as any)
      .selectFrom(req.table)
      .select(idColumn)
      .where('account_id', '=', req.account)
      .where('region', '=', req.region)
      .where(idColumn, 'in', unique)
      .execute()) as Record<string, unknown>[];
    found = new Set(existing.map((r) => r[idColumn]));
  }
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length) throw req.idErrors!.notFound(missing.join(', '));
}

/**
 * Selects one page of a resource table for a Describe call: scoped to the caller's account and
 * region, restricted to the ids asked for (all of which must exist), filtered, keyset-paginated.
 */
export async function describeRows<Row extends Record<string, unknown>>(tx: Tx, req: DescribeRequest): Promise<Page<Row>> {
  const table = req.table;
  const idColumn = req.idColumn ?? 'id';
  const ids = req.ids ?? [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let query = (tx as any)
    .selectFrom(table)
    .selectAll(table)
    .where(`${table}.account_id`, '=', req.account)
    .where(`${table}.region`, '=', req.region);
  for (const [column, value] of Object.entries(req.where ?? {})) query = query.where(`${table}.${column}`, '=', value);
  if (ids.length) query = query.where(`${table}.${idColumn}`, 'in', [...new Set(ids)]);
  for (const filter of req.filters ?? []) {
    if (!filter.Values?.length) continue;
    query = query.where((eb: AnyEb) => filterPredicate(eb, req, filter));
  }
  if (req.nextToken) query = query.where(`${table}.${idColumn}`, '>', decodePageToken(req.nextToken));
  query = query.orderBy(`${table}.${idColumn}`);
  if (req.maxResults) query = query.limit(req.maxResults + 1);
  const rows = (await query.execute()) as Row[];
  if (ids.length && req.idErrors) await checkIdsExist(tx, req, rows);
  if (req.maxResults && rows.length > req.maxResults) {
    rows.length = req.maxResults;
    return { rows, nextToken: encodePageToken(String(rows[rows.length - 1][idColumn])) };
  }
  return { rows };
}
