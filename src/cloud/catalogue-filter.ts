/**
 * EC2 filters over built-in catalogues held in memory (regions, zones, instance types, images),
 * with the same semantics as the SQL filters: AND across filters, OR across values,
 * case-sensitive, `*` and `?` wildcards, `\` escapes.
 */
import { Errors } from '../api/ec2/errors.ts';
import type { Filter } from '../store/describe.ts';

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
