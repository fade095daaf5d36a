/**
 * EC2 filters over built-in catalogues held in memory (regions, zones, instance types, images),
 * with the same semantics as the SQL filters: AND across filters, OR across values,
 * case-sensitive, `*` and `?` wildcards, `\` escapes.
 */
import { Errors, withEc2Errors } from './errors.ts';
import type { Filter } from '../store/describe.ts';
import { decodePageToken, encodePageToken } from '../store/page-token.ts';

/** For each filter name, the value(s) an item has under it. */
export type CatalogueSpec<T> = Record<string, (item: T) => string | number | boolean | undefined | readonly (string | number | boolean | undefined)[]>;

export function wildcardRegex(value: string): RegExp {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && i + 1 < value.length) out += escapeRegex(value[++i]);
    else if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else out += escapeRegex(c);
  }
  return new RegExp(`^${out}$`);
}

const escapeRegex = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function filterCatalogue<T>(items: readonly T[], filters: readonly Filter[] | undefined, spec: CatalogueSpec<T>): T[] {
  const compiled = (filters ?? [])
    .filter((f) => f.Values?.length)
    .map((f) => {
      const name = f.Name ?? '';
      const get = Object.hasOwn(spec, name) ? spec[name] : undefined;
      if (!get) throw Errors.invalidFilter(name);
      return { get, patterns: (f.Values ?? []).map(wildcardRegex) };
    });
  return items.filter((item) =>
    compiled.every(({ get, patterns }) => {
      const raw = get(item);
      const values = (Array.isArray(raw) ? raw : [raw]).filter((v) => v !== undefined).map(String);
      return values.some((v) => patterns.some((p) => p.test(v)));
    }),
  );
}

/** The items after the one a NextToken names, as one page (items sorted by key). */
export function pageCatalogue<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  page: { maxResults: number | undefined; nextToken: string | undefined; defaultPageSize?: number },
): { items: T[]; nextToken?: string } {
  let start = 0;
  if (page.nextToken) {
    const token = page.nextToken;
    const after = withEc2Errors(() => decodePageToken(token));
    start = items.findIndex((item) => keyOf(item) > after);
    if (start < 0) start = items.length;
  }
  const size = page.maxResults ?? page.defaultPageSize ?? items.length;
  const slice = items.slice(start, start + size);
  if (start + size >= items.length || slice.length === 0) return { items: slice };
  return { items: slice, nextToken: encodePageToken(keyOf(slice[slice.length - 1])) };
}
