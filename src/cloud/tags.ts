/**
 * Tags: CreateTags, DeleteTags, DescribeTags, TagSpecifications on create, and the `tagSet`
 * every described resource carries.
 * AWS: keys 1–127 characters, values 0–256, keys may not begin with `aws:`, 50 tags a resource.
 */
import type {
  CreateTagsRequest,
  DeleteTagsRequest,
  DescribeTagsRequest,
  DescribeTagsResult,
  Tag,
  TagDescription,
  TagSpecification,
} from '@aws-sdk/client-ec2';
import { sql } from 'kysely';
import { Errors } from './errors.ts';
import { filterPredicate, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import { verify, write, selectForIds, selectRows, rowsText, type IdListQuery } from '../store/sql-text.ts';
import type { Context } from './context.ts';
import { kindOfId } from './resource-kinds.ts';
import { checkMaxResults } from './rules/paging.ts';

const MAX_KEY = 127;
const MAX_VALUE = 256;

function validateTag(tag: Tag): { key: string; value: string } {
  const key = tag.Key;
  if (key === undefined) throw Errors.missingParameter('Tag.N.Key');
  if (key.length === 0 || key.length > MAX_KEY) {
    throw Errors.invalidParameterValue(`Tag key must be between 1 and ${MAX_KEY} characters: '${key}'`);
  }
  if (key.toLowerCase().startsWith('aws:')) throw Errors.invalidTagKey(key);
  const value = tag.Value ?? '';
  if (value.length > MAX_VALUE) {
    throw Errors.invalidParameterValue(`Tag value must be at most ${MAX_VALUE} characters for key '${key}'`);
  }
  return { key, value };
}

const PUT_TAGS = rowsText(
  6,
  (rows) =>
    `insert into "tags" ("resource_id", "resource_type", "key", "value", "account_id", "region") values ${rows} ` +
    'on conflict ("resource_id", "key") do update set "value" = "excluded"."value"',
);
const TAG_COUNT = 'select count(*) as "count" from "tags" where "resource_id" = ?';

/** Writes tags on a resource the caller owns, enforcing the per-resource tag limit. */
async function putTags(ctx: Context, resourceId: string, resourceType: string, tags: readonly Tag[]): Promise<void> {
  const rows = tags.map(validateTag).map(({ key, value }) => [resourceId, resourceType, key, value, ctx.account, ctx.region]);
  if (!rows.length) return;
  await write(ctx.tx, PUT_TAGS(rows.length), rows.flat());
  const limit = ctx.config.quotas.tagsPerResource;
  await verify<{ count: number | string }>(ctx.tx, TAG_COUNT, [resourceId], ([row]) => (Number(row?.count) > limit ? Errors.tagLimitExceeded(limit) : undefined));
}

/**
 * Applies the TagSpecifications of a create call to the new resource. Specifications for other
 * resource types are the caller's to route (RunInstances tags instances and interfaces).
 */
export async function applyTagSpecifications(
  ctx: Context,
  resourceType: string,
  resourceId: string,
  specs: readonly TagSpecification[] | undefined,
): Promise<void> {
  for (const spec of specs ?? []) {
    if (spec.ResourceType === undefined) throw Errors.missingParameter('TagSpecification.N.ResourceType');
    if (spec.ResourceType !== resourceType) continue;
    await putTags(ctx, resourceId, resourceType, spec.Tags ?? []);
  }
}

/** Refuses TagSpecifications whose resource type the action cannot tag, as AWS does. */
export function checkTagSpecificationTypes(specs: readonly TagSpecification[] | undefined, allowed: readonly string[]): void {
  for (const spec of specs ?? []) {
    if (spec.ResourceType === undefined) throw Errors.missingParameter('TagSpecification.N.ResourceType');
    if (!allowed.includes(spec.ResourceType)) {
      throw Errors.invalidParameterValue(
        `'${spec.ResourceType}' is not a valid taggable resource type for this operation.`,
      );
    }
  }
}

const TAGS_OF = (ids: string) => `select "resource_id", "key", "value" from "tags" where "resource_id" in (${ids}) order by "resource_id", "key"`;

/** The tagSets of many resources, by resource id: one query, fetched with others by `selectForIds`. */
export const TAG_SETS: IdListQuery<Map<string, Tag[]>> = {
  build: TAGS_OF,
  shape: (rows: { resource_id: string; key: string; value: string }[]) => {
    const out = new Map<string, Tag[]>();
    for (const row of rows) {
      let list = out.get(row.resource_id);
      if (!list) out.set(row.resource_id, (list = []));
      list.push({ Key: row.key, Value: row.value });
    }
    return out;
  },
};

/** The tagSet of many resources in one query. */
export async function tagsOf(tx: Tx, resourceIds: readonly string[]): Promise<Map<string, Tag[]>> {
  const [tags] = await selectForIds(tx, resourceIds, TAG_SETS);
  return tags;
}

export async function deleteAllTags(ctx: Context, resourceId: string): Promise<void> {
  await ctx.tx.deleteFrom('tags').where('resource_id', '=', resourceId).execute();
}

/** Resolves an id to its kind and checks that the caller owns it. */
async function ownedResource(ctx: Context, id: string) {
  const kind = kindOfId(id);
  if (!kind) throw Errors.resourceId(id);
  const row = await ctx.tx
    // The kinds table names the table and id column; the scope columns are common to all.
    .selectFrom(kind.table as 'vpcs')
    .select(sql<string>`1`.as('one'))
    .where(sql.ref(kind.idColumn), '=', id)
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .executeTakeFirst();
  if (!row) throw kind.errors.notFound(id);
  return kind;
}

export async function createTags(ctx: Context, input: CreateTagsRequest): Promise<Record<string, never>> {
  const ids = input.Resources ?? [];
  if (!ids.length) throw Errors.missingParameter('ResourceId.1');
  if (!input.Tags?.length) throw Errors.missingParameter('Tag.1');
  for (const id of ids) {
    const kind = await ownedResource(ctx, id);
    await putTags(ctx, id, kind.resourceType, input.Tags);
  }
  return {};
}

export async function deleteTags(ctx: Context, input: DeleteTagsRequest): Promise<Record<string, never>> {
  const ids = input.Resources ?? [];
  if (!ids.length) throw Errors.missingParameter('ResourceId.1');
  for (const id of ids) {
    await ownedResource(ctx, id);
    // AWS: no Tag.N deletes every tag; a tag without a value deletes the key whatever its value.
    if (!input.Tags?.length) {
      await deleteAllTags(ctx, id);
      continue;
    }
    for (const tag of input.Tags) {
      if (tag.Key === undefined) throw Errors.missingParameter('Tag.N.Key');
      let query = ctx.tx.deleteFrom('tags').where('resource_id', '=', id).where('key', '=', tag.Key);
      if (tag.Value !== undefined) query = query.where('value', '=', tag.Value);
      await query.execute();
    }
  }
  return {};
}

const TAG_FILTERS: FilterSpec = {
  key: { column: 'key' },
  value: { column: 'value' },
  'resource-id': { column: 'resource_id' },
  'resource-type': { column: 'resource_type' },
};

interface TagToken {
  r: string;
  k: string;
}

function decodeTagToken(token: string): TagToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as TagToken;
    if (typeof t.r === 'string' && typeof t.k === 'string') return t;
  } catch {
    // the EC2 error below
  }
  throw Errors.invalidNextToken(token);
}

export async function describeTags(ctx: Context, input: DescribeTagsRequest): Promise<DescribeTagsResult> {
  // AWS: MaxResults is 5 to 1000 (the model gives no range; unchecked, a negative one broke paging).
  checkMaxResults(input.MaxResults);
  const params: unknown[] = [ctx.account, ctx.region];
  let text = 'select * from "tags" where "account_id" = ? and "region" = ?';
  for (const filter of input.Filters ?? []) {
    if (!filter.Values?.length) continue;
    text += ` and (${filterPredicate({ table: 'tags', spec: TAG_FILTERS }, filter, params)})`;
  }
  if (input.NextToken) {
    const t = decodeTagToken(input.NextToken);
    text += ' and ("resource_id" > ? or ("resource_id" = ? and "key" > ?))';
    params.push(t.r, t.r, t.k);
  }
  const max = input.MaxResults;
  text += ' order by "resource_id", "key"';
  if (max) {
    text += ' limit ?';
    params.push(max + 1);
  }
  const rows = await selectRows<Row<'tags'>>(ctx.tx, text, params);
  let nextToken: string | undefined;
  if (max && rows.length > max) {
    rows.length = max;
    const last = rows[rows.length - 1];
    nextToken = Buffer.from(JSON.stringify({ r: last.resource_id, k: last.key })).toString('base64url');
  }
  const tags: TagDescription[] = rows.map((r) => ({
    ResourceId: r.resource_id,
    ResourceType: r.resource_type as TagDescription['ResourceType'],
    Key: r.key,
    Value: r.value,
  }));
  return { Tags: tags, NextToken: nextToken };
}
