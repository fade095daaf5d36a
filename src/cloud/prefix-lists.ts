/**
 * Managed prefix lists: CreateManagedPrefixList, DescribeManagedPrefixLists,
 * ModifyManagedPrefixList, DeleteManagedPrefixList, GetManagedPrefixListEntries,
 * GetManagedPrefixListAssociations, the legacy DescribePrefixLists, and the AWS-managed lists
 * every region has (`com.amazonaws.REGION.s3`, `com.amazonaws.REGION.dynamodb`,
 * `com.amazonaws.global.cloudfront.origin-facing`).
 *
 * AWS: a customer-managed list holds up to MaxEntries CIDRs of one address family; adding or
 * removing entries makes a new version (renaming does not), and every earlier version can be
 * read back; a CurrentVersion that is not the list's version fails the modification. AWS-managed
 * lists are owned by `AWS` and read-only. Security group rules (`PrefixListIds`) and routes
 * (`DestinationPrefixListId`) reference lists; each reference counts the list's MaxEntries
 * against the group's rule quota or the table's route quota.
 */
import type {
  CreateManagedPrefixListRequest,
  CreateManagedPrefixListResult,
  DeleteManagedPrefixListRequest,
  DeleteManagedPrefixListResult,
  DescribeManagedPrefixListsRequest,
  DescribeManagedPrefixListsResult,
  DescribePrefixListsRequest,
  DescribePrefixListsResult,
  GetManagedPrefixListAssociationsRequest,
  GetManagedPrefixListAssociationsResult,
  GetManagedPrefixListEntriesRequest,
  GetManagedPrefixListEntriesResult,
  ManagedPrefixList,
  ModifyManagedPrefixListRequest,
  ModifyManagedPrefixListResult,
  PrefixListEntry,
  Tag,
} from '@aws-sdk/client-ec2';
import ipaddr from 'ipaddr.js';
import { Errors } from './errors.ts';
import { formatIpv4Cidr, parseIpv4Cidr } from '../ipam/ipv4.ts';
import type { Filter } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import { filterCatalogue, pageCatalogue, type CatalogueSpec } from './catalogue-filter.ts';
import type { Context } from './context.ts';
import { countInRegion } from './counts.ts';
import { idempotent } from './idempotency.ts';
import { awsManagedList, awsManagedListsOf, type AwsManagedList, type PrefixList } from '../dataplane/aws-prefix-lists.ts';
import { checkIds, newId } from './rules/ids.ts';
import { checkMaxResults } from './rules/paging.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';

type ListRow = Row<'managed_prefix_lists'>;

/** AWS: up to 1,000 entries a list; 100 customer-managed lists a region. */
const MAX_ENTRIES_LIMIT = 1000;
const MAX_NAME = 255;
/** AWS: one ModifyManagedPrefixList adds or removes at most 100 entries. */
const MAX_CHANGES = 100;
/** AWS: names beginning with these are reserved for AWS's own lists. */
const RESERVED_NAME_PREFIXES = ['com.amazonaws', 'com.amazon', 'com.aws'];


// ---------------------------------------------------------------------------------------------
// The lists, customer- and AWS-managed, as one view
// ---------------------------------------------------------------------------------------------

/** The id of a region's AWS-managed list for a service name (`s3`, `dynamodb`), e.g. for gateway endpoints. */
export function awsManagedPrefixListId(region: string, service: 's3' | 'dynamodb'): string {
  const name = `com.amazonaws.${region}.${service}`;
  const list = awsManagedListsOf(region).find((l) => l.name === name);
  if (!list) throw Errors.invalidParameterValue(`No AWS-managed prefix list for ${name}`);
  return list.id;
}

function viewOfRow(row: ListRow): PrefixList {
  return {
    id: row.id,
    name: row.name,
    addressFamily: row.address_family as 'IPv4' | 'IPv6',
    maxEntries: row.max_entries,
    version: row.version,
    state: row.state,
    stateMessage: row.state_message ?? undefined,
    ownerId: row.account_id,
    region: row.region,
    awsManaged: false,
  };
}

export const prefixListIdKind = { prefix: 'pl', errors: Errors.prefixListId };

/** The list a caller names: an AWS-managed list of their region or one of their own. */
export async function findPrefixList(ctx: Context, id: string): Promise<PrefixList | undefined> {
  const aws = awsManagedList(ctx.region, id);
  if (aws) return aws;
  const row = await ctx.tx.selectFrom('managed_prefix_lists').selectAll().where('id', '=', id).where('account_id', '=', ctx.account).where('region', '=', ctx.region).executeTakeFirst();
  return row && viewOfRow(row);
}

export async function getPrefixList(ctx: Context, id: string | undefined, parameter = 'PrefixListId'): Promise<PrefixList> {
  if (id === undefined) throw Errors.missingParameter(parameter);
  checkIds('pl', Errors.prefixListId, [id]);
  const list = await findPrefixList(ctx, id);
  if (!list) throw Errors.prefixListId.notFound(id);
  return list;
}

async function getOwnList(ctx: Context, id: string | undefined, verb: 'modified' | 'deleted'): Promise<PrefixList> {
  const list = await getPrefixList(ctx, id);
  if (list.awsManaged) throw Errors.invalidPrefixListModification(`The prefix list ${list.id} is managed by AWS and cannot be ${verb}.`);
  return list;
}

/** The entries of a list at a version (default: its current one), sorted by CIDR. */
async function entriesAt(tx: Tx, list: PrefixList, version = list.version): Promise<{ cidr: string; description: string | null }[]> {
  const aws = awsManagedList(list.region, list.id);
  if (aws) return aws.entries.map((cidr) => ({ cidr, description: null }));
  const rows = await tx
    .selectFrom('managed_prefix_list_entries')
    .select(['cidr', 'description'])
    .where('prefix_list_id', '=', list.id)
    .where('added_version', '<=', version)
    .where((eb) => eb.or([eb('removed_version', 'is', null), eb('removed_version', '>', version)]))
    .orderBy('cidr')
    .execute();
  return rows;
}

/** The MaxEntries and family of lists by id, for the quotas of the rules and routes that reference them. */
export async function sizesOf(tx: Tx, region: string, ids: readonly string[]): Promise<Map<string, { maxEntries: number; addressFamily: string }>> {
  const out = new Map<string, { maxEntries: number; addressFamily: string }>();
  const own: string[] = [];
  for (const id of new Set(ids)) {
    const aws = awsManagedList(region, id);
    if (aws) out.set(id, { maxEntries: aws.maxEntries, addressFamily: aws.addressFamily });
    else own.push(id);
  }
  if (own.length) {
    const rows = await tx.selectFrom('managed_prefix_lists').select(['id', 'max_entries', 'address_family']).where('id', 'in', own).execute();
    for (const row of rows) out.set(row.id, { maxEntries: row.max_entries, addressFamily: row.address_family });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function checkName(name: string | undefined, parameter: string): string {
  if (name === undefined) throw Errors.missingParameter(parameter);
  if (name.length === 0 || name.length > MAX_NAME) {
    throw Errors.invalidParameterValueFor(parameter, name, `The name must be between 1 and ${MAX_NAME} characters.`);
  }
  // AWS: names beginning with com.amazonaws are reserved for AWS-managed lists.
  if (RESERVED_NAME_PREFIXES.some((p) => name.toLowerCase().startsWith(p))) {
    throw Errors.invalidParameterValue(`The prefix list name cannot begin with ${RESERVED_NAME_PREFIXES.join(', ')}.`);
  }
  return name;
}

function checkMaxEntries(value: number | undefined): number {
  if (value === undefined) throw Errors.missingParameter('MaxEntries');
  if (value < 1 || value > MAX_ENTRIES_LIMIT) {
    throw Errors.invalidParameterValueFor('MaxEntries', String(value), `The maximum number of entries must be between 1 and ${MAX_ENTRIES_LIMIT}.`);
  }
  return value;
}

/** A CIDR of the list's family, already in canonical form (AWS refuses host bits). */
function entryCidr(text: string | undefined, family: string, parameter: string): string {
  if (text === undefined) throw Errors.missingParameter(parameter);
  const trimmed = text.trim();
  let canonical: string | undefined;
  let exact = false;
  if (family === 'IPv4') {
    const cidr = /^[0-9./]+$/.test(trimmed) ? parseIpv4Cidr(trimmed) : undefined;
    canonical = cidr && formatIpv4Cidr(cidr);
    exact = canonical === trimmed;
  } else if (ipaddr.IPv6.isValidCIDR(trimmed) && !trimmed.includes('%')) {
    const [address, prefix] = ipaddr.IPv6.parseCIDR(trimmed);
    const network = ipaddr.IPv6.networkAddressFromCIDR(trimmed).toString();
    canonical = `${network}/${prefix}`;
    exact = address.toString() === network;
  }
  if (canonical === undefined) throw Errors.invalidParameterValueFor(parameter, text, `The CIDR is not a valid ${family} CIDR block.`);
  if (!exact) throw Errors.invalidParameterValueFor(parameter, text, `The CIDR has bits set beyond its prefix length (${canonical}).`);
  return canonical;
}

function entryDescription(text: string | undefined): string | null {
  if (text === undefined || text === '') return null;
  if (text.length > MAX_NAME) throw Errors.invalidParameterValue(`The description of a prefix list entry must be at most ${MAX_NAME} characters.`);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

function arnOf(list: PrefixList): string {
  return `arn:aws:ec2:${list.region}:${list.awsManaged ? 'aws' : list.ownerId}:prefix-list/${list.id}`;
}

function managedPrefixListOf(list: PrefixList, tags: Tag[], state = list.state): ManagedPrefixList {
  return {
    PrefixListId: list.id,
    AddressFamily: list.addressFamily,
    State: state as ManagedPrefixList['State'],
    StateMessage: list.stateMessage,
    PrefixListArn: arnOf(list),
    PrefixListName: list.name,
    MaxEntries: list.maxEntries,
    Version: list.version,
    Tags: tags,
    OwnerId: list.ownerId,
  };
}

async function answerOf(ctx: Context, id: string, state?: string): Promise<ManagedPrefixList> {
  const list = await getPrefixList(ctx, id);
  const tags = (await tagsOf(ctx.tx, [id])).get(id) ?? [];
  return managedPrefixListOf(list, tags, state);
}

// ---------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------

export async function createManagedPrefixList(ctx: Context, input: CreateManagedPrefixListRequest): Promise<CreateManagedPrefixListResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['prefix-list']);
  const name = checkName(input.PrefixListName, 'PrefixListName');
  const maxEntries = checkMaxEntries(input.MaxEntries);
  if (input.AddressFamily === undefined) throw Errors.missingParameter('AddressFamily');
  const family = input.AddressFamily;
  if (family !== 'IPv4' && family !== 'IPv6') {
    throw Errors.invalidParameterValueFor('AddressFamily', family, 'Valid values are IPv4 and IPv6.');
  }
  const entries = (input.Entries ?? []).map((e, i) => ({
    cidr: entryCidr(e.Cidr, family, `Entry.${i + 1}.Cidr`),
    description: entryDescription(e.Description),
  }));
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.cidr)) throw Errors.invalidParameterValue(`The CIDR ${e.cidr} is given more than once.`);
    seen.add(e.cidr);
  }
  if (entries.length > maxEntries) throw Errors.prefixListMaxEntriesExceeded(maxEntries);
  return idempotent(
    ctx,
    'CreateManagedPrefixList',
    input,
    async () => {
      if ((await countInRegion(ctx, 'managed_prefix_lists')) >= ctx.config.quotas.prefixListsPerRegion) throw Errors.prefixListResourceLimitExceeded();
      const id = newId('pl');
      await ctx.tx
        .insertInto('managed_prefix_lists')
        .values({
          id,
          account_id: ctx.account,
          region: ctx.region,
          name,
          address_family: family,
          max_entries: maxEntries,
          version: 1,
          // AWS creates asynchronously; eni-local settles at once, so Describe shows create-complete.
          state: 'create-complete',
          state_message: null,
          created_at: ctx.now.toISOString(),
        })
        .execute();
      if (entries.length) {
        await ctx.tx
          .insertInto('managed_prefix_list_entries')
          .values(entries.map((e) => ({ prefix_list_id: id, cidr: e.cidr, description: e.description, added_version: 1, removed_version: null })))
          .execute();
      }
      await applyTagSpecifications(ctx, 'prefix-list', id, input.TagSpecifications);
      return { id, result: { PrefixList: await answerOf(ctx, id, 'create-in-progress') } };
    },
    async (id) => ({ PrefixList: await answerOf(ctx, id) }),
  );
}

/** The resources that reference a list: groups with rules naming it, tables with routes to it. */
async function referencesOf(ctx: Context, listId: string): Promise<string[]> {
  const groups = await ctx.tx
    .selectFrom('security_group_rules')
    .select('group_id')
    .distinct()
    .where('prefix_list_id', '=', listId)
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .orderBy('group_id')
    .execute();
  const tables = await ctx.tx
    .selectFrom('routes')
    .innerJoin('route_tables', 'route_tables.id', 'routes.route_table_id')
    .select('routes.route_table_id')
    .distinct()
    .where('routes.destination', '=', listId)
    .where('route_tables.account_id', '=', ctx.account)
    .where('route_tables.region', '=', ctx.region)
    .orderBy('routes.route_table_id')
    .execute();
  return [...groups.map((g) => g.group_id), ...tables.map((t) => t.route_table_id)];
}

export async function modifyManagedPrefixList(ctx: Context, input: ModifyManagedPrefixListRequest): Promise<ModifyManagedPrefixListResult> {
  const list = await getOwnList(ctx, input.PrefixListId, 'modified');
  if (input.CurrentVersion !== undefined && input.CurrentVersion !== list.version) throw Errors.prefixListVersionMismatch();
  const adds = input.AddEntries ?? [];
  const removes = input.RemoveEntries ?? [];
  if (input.MaxEntries !== undefined && (adds.length || removes.length)) {
    // AWS's wording (CloudFormation passes it through).
    throw Errors.invalidParameterCombination('You cannot modify the entries and the maximum number of entries for the prefix list in the same request.');
  }
  if (adds.length + removes.length > MAX_CHANGES) {
    throw Errors.invalidParameterValue(`The request cannot contain more than ${MAX_CHANGES} entry additions or removals.`);
  }
  const name = input.PrefixListName !== undefined ? checkName(input.PrefixListName, 'PrefixListName') : undefined;
  const current = await entriesAt(ctx.tx, list);
  const byCidr = new Map(current.map((e) => [e.cidr, e]));

  if (input.MaxEntries !== undefined) {
    const maxEntries = checkMaxEntries(input.MaxEntries);
    if (maxEntries < current.length) {
      throw Errors.invalidParameterValue(`The maximum number of entries (${maxEntries}) cannot be less than the number of entries in the prefix list (${current.length}).`);
    }
    await ctx.tx.updateTable('managed_prefix_lists').set({ max_entries: maxEntries }).where('id', '=', list.id).execute();
  }

  const removed = new Set<string>();
  removes.forEach((r, i) => {
    const cidr = entryCidr(r.Cidr, list.addressFamily, `RemoveEntry.${i + 1}.Cidr`);
    if (!byCidr.has(cidr)) throw Errors.invalidPrefixListModification(`The prefix list entry ${cidr} does not exist.`);
    removed.add(cidr);
  });
  const added = new Map<string, string | null>();
  adds.forEach((a, i) => {
    const cidr = entryCidr(a.Cidr, list.addressFamily, `AddEntry.${i + 1}.Cidr`);
    if (added.has(cidr)) throw Errors.invalidParameterValue(`The CIDR ${cidr} is given more than once.`);
    // AWS: adding a CIDR the list holds replaces its description.
    added.set(cidr, entryDescription(a.Description));
  });
  const after = new Set([...byCidr.keys()].filter((c) => !removed.has(c)));
  for (const cidr of added.keys()) after.add(cidr);
  if (after.size > list.maxEntries) throw Errors.prefixListMaxEntriesExceeded(list.maxEntries);

  const changed = removed.size > 0 || [...added].some(([cidr, description]) => byCidr.get(cidr)?.description !== description || !byCidr.has(cidr) || removed.has(cidr));
  if (changed) {
    const next = list.version + 1;
    const retire = [...new Set([...removed, ...[...added.keys()].filter((c) => byCidr.has(c))])];
    if (retire.length) {
      await ctx.tx
        .updateTable('managed_prefix_list_entries')
        .set({ removed_version: next })
        .where('prefix_list_id', '=', list.id)
        .where('cidr', 'in', retire)
        .where('removed_version', 'is', null)
        .execute();
    }
    if (added.size) {
      await ctx.tx
        .insertInto('managed_prefix_list_entries')
        .values([...added].map(([cidr, description]) => ({ prefix_list_id: list.id, cidr, description, added_version: next, removed_version: null })))
        .execute();
    }
    await ctx.tx.updateTable('managed_prefix_lists').set({ version: next }).where('id', '=', list.id).execute();
  }
  await ctx.tx
    .updateTable('managed_prefix_lists')
    .set({ state: 'modify-complete', state_message: null, ...(name !== undefined ? { name } : {}) })
    .where('id', '=', list.id)
    .execute();
  return { PrefixList: await answerOf(ctx, list.id, 'modify-in-progress') };
}

export async function deleteManagedPrefixList(ctx: Context, input: DeleteManagedPrefixListRequest): Promise<DeleteManagedPrefixListResult> {
  const list = await getOwnList(ctx, input.PrefixListId, 'deleted');
  const answer = await answerOf(ctx, list.id, 'delete-in-progress');
  const references = await referencesOf(ctx, list.id);
  if (references.length) {
    // AWS accepts the call and the deletion fails afterwards: the list stays, delete-failed,
    // its state message naming (up to ten of) the resources that still reference it.
    await ctx.tx
      .updateTable('managed_prefix_lists')
      .set({ state: 'delete-failed', state_message: `The prefix list is referenced by ${references.slice(0, 10).join(', ')}.` })
      .where('id', '=', list.id)
      .execute();
    return { PrefixList: answer };
  }
  await ctx.tx.deleteFrom('managed_prefix_list_entries').where('prefix_list_id', '=', list.id).execute();
  await ctx.tx.deleteFrom('managed_prefix_lists').where('id', '=', list.id).execute();
  await deleteAllTags(ctx, list.id);
  return { PrefixList: answer };
}

interface ListItem {
  list: PrefixList;
  tags: Tag[];
}

const LIST_FILTERS: CatalogueSpec<ListItem> = {
  'owner-id': (i) => i.list.ownerId,
  'prefix-list-id': (i) => i.list.id,
  'prefix-list-name': (i) => i.list.name,
};

/** The spec with the tag filters a request uses (`tag:KEY`, `tag-key`, `tag-value`). */
function withTagFilters(spec: CatalogueSpec<ListItem>, filters: readonly Filter[] | undefined): CatalogueSpec<ListItem> {
  const out = { ...spec };
  for (const f of filters ?? []) {
    const name = f.Name ?? '';
    if (name.startsWith('tag:')) {
      const key = name.slice(4);
      out[name] = (i) => i.tags.filter((t) => t.Key === key).map((t) => t.Value ?? '');
    } else if (name === 'tag-key') out[name] = (i) => i.tags.map((t) => t.Key ?? '');
    else if (name === 'tag-value') out[name] = (i) => i.tags.map((t) => t.Value ?? '');
  }
  return out;
}

async function listItems(ctx: Context): Promise<ListItem[]> {
  const rows = await ctx.tx.selectFrom('managed_prefix_lists').selectAll().where('account_id', '=', ctx.account).where('region', '=', ctx.region).execute();
  const tags = await tagsOf(ctx.tx, rows.map((r) => r.id));
  const items: ListItem[] = [
    ...awsManagedListsOf(ctx.region).map((list) => ({ list, tags: [] })),
    ...rows.map((row) => ({ list: viewOfRow(row), tags: tags.get(row.id) ?? [] })),
  ];
  return items.sort((a, b) => (a.list.id < b.list.id ? -1 : a.list.id > b.list.id ? 1 : 0));
}

export async function describeManagedPrefixLists(ctx: Context, input: DescribeManagedPrefixListsRequest): Promise<DescribeManagedPrefixListsResult> {
  const ids = input.PrefixListIds ?? [];
  checkIds('pl', Errors.prefixListId, ids);
  checkMaxResults(input.MaxResults, { min: 1, max: 100 });
  let items = await listItems(ctx);
  if (ids.length) {
    const missing = ids.filter((id) => !items.some((i) => i.list.id === id));
    if (missing.length) throw Errors.prefixListId.notFound(missing.join(', '));
    items = items.filter((i) => ids.includes(i.list.id));
  }
  const filtered = filterCatalogue(items, input.Filters, withTagFilters(LIST_FILTERS, input.Filters));
  const page = pageCatalogue(filtered, (i) => i.list.id, { maxResults: input.MaxResults, nextToken: input.NextToken });
  return { PrefixLists: page.items.map((i) => managedPrefixListOf(i.list, i.tags)), NextToken: page.nextToken };
}

export async function getManagedPrefixListEntries(ctx: Context, input: GetManagedPrefixListEntriesRequest): Promise<GetManagedPrefixListEntriesResult> {
  const list = await getPrefixList(ctx, input.PrefixListId);
  checkMaxResults(input.MaxResults, { min: 1, max: 100 });
  const version = input.TargetVersion ?? list.version;
  if (version < 1 || version > list.version) {
    throw Errors.invalidParameterValueFor('TargetVersion', String(version), `The prefix list ${list.id} has versions 1 to ${list.version}.`);
  }
  const entries = await entriesAt(ctx.tx, list, version);
  const page = pageCatalogue(entries, (e) => e.cidr, { maxResults: input.MaxResults, nextToken: input.NextToken });
  return {
    Entries: page.items.map((e): PrefixListEntry => ({ Cidr: e.cidr, Description: e.description ?? undefined })),
    NextToken: page.nextToken,
  };
}

export async function getManagedPrefixListAssociations(
  ctx: Context,
  input: GetManagedPrefixListAssociationsRequest,
): Promise<GetManagedPrefixListAssociationsResult> {
  const list = await getPrefixList(ctx, input.PrefixListId);
  checkMaxResults(input.MaxResults, { min: 5, max: 255 });
  // The caller sees its own resources that reference the list (an AWS-managed one included).
  const references = await referencesOf(ctx, list.id);
  const page = pageCatalogue(references, (r) => r, { maxResults: input.MaxResults, nextToken: input.NextToken });
  return { PrefixListAssociations: page.items.map((id) => ({ ResourceId: id, ResourceOwner: ctx.account })), NextToken: page.nextToken };
}

const SERVICE_LIST_FILTERS: CatalogueSpec<AwsManagedList> = {
  'prefix-list-id': (l) => l.id,
  'prefix-list-name': (l) => l.name,
};

/** The legacy DescribePrefixLists: AWS's service lists (those gateway endpoints route to) with their CIDRs. */
export async function describePrefixLists(ctx: Context, input: DescribePrefixListsRequest): Promise<DescribePrefixListsResult> {
  const ids = input.PrefixListIds ?? [];
  checkIds('pl', Errors.prefixListId, ids);
  let lists = awsManagedListsOf(ctx.region);
  if (ids.length) {
    const missing = ids.filter((id) => !lists.some((l) => l.id === id));
    if (missing.length) throw Errors.prefixListId.notFound(missing.join(', '));
    lists = lists.filter((l) => ids.includes(l.id));
  }
  const filtered = filterCatalogue(lists, input.Filters, SERVICE_LIST_FILTERS);
  const page = pageCatalogue(filtered, (l) => l.id, { maxResults: input.MaxResults, nextToken: input.NextToken });
  return { PrefixLists: page.items.map((l) => ({ PrefixListId: l.id, PrefixListName: l.name, Cidrs: [...l.entries] })), NextToken: page.nextToken };
}
