/**
 * DHCP options sets: CreateDhcpOptions, DescribeDhcpOptions, AssociateDhcpOptions (`default`
 * for none), DeleteDhcpOptions.
 *
 * AWS: a set holds options by key (domain-name, domain-name-servers, ntp-servers,
 * netbios-name-servers, netbios-node-type, ipv6-address-preferred-lease-time), each with its
 * values; a VPC uses one set (or none: `default`); a set in use by a VPC cannot be deleted.
 */
import type {
  AssociateDhcpOptionsRequest,
  CreateDhcpOptionsRequest,
  CreateDhcpOptionsResult,
  DeleteDhcpOptionsRequest,
  DescribeDhcpOptionsRequest,
  DescribeDhcpOptionsResult,
  DhcpOptions,
} from '@aws-sdk/client-ec2';
import ipaddr from 'ipaddr.js';
import { Errors } from './errors.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { checkIds, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';
import { getVpc } from './vpcs.ts';

const KEYS = ['domain-name', 'domain-name-servers', 'ntp-servers', 'netbios-name-servers', 'netbios-node-type', 'ipv6-address-preferred-lease-time'];
/** AWS: up to four name servers, NTP servers and NetBIOS name servers. */
const MAX_SERVERS = 4;

const FILTERS: FilterSpec = {
  'dhcp-options-id': { column: 'id' },
  'owner-id': { column: 'account_id' },
  key: { table: 'dhcp_option_values', foreignKey: 'dhcp_options_id', column: 'key' },
  value: { table: 'dhcp_option_values', foreignKey: 'dhcp_options_id', column: 'value' },
};

const isIp = (v: string) => ipaddr.isValid(v);

function checkOption(key: string, values: readonly string[]): void {
  const bad = (why: string) => Errors.invalidParameterValue(`Value (${values.join(',')}) for parameter ${key} is invalid. ${why}`);
  if (!values.length) throw Errors.missingParameter(`DhcpConfiguration.Value for ${key}`);
  switch (key) {
    case 'domain-name':
      if (values.some((v) => !/^[a-zA-Z0-9.-]{1,255}$/.test(v))) throw bad('It must be a domain name.');
      return;
    case 'domain-name-servers':
      if (values.length > MAX_SERVERS) throw bad(`At most ${MAX_SERVERS} servers.`);
      if (values.some((v) => v !== 'AmazonProvidedDNS' && !isIp(v))) throw bad('Each server is an IP address or AmazonProvidedDNS.');
      return;
    case 'ntp-servers':
    case 'netbios-name-servers':
      if (values.length > MAX_SERVERS) throw bad(`At most ${MAX_SERVERS} servers.`);
      if (values.some((v) => !isIp(v))) throw bad('Each server is an IP address.');
      return;
    case 'netbios-node-type':
      if (values.length !== 1 || !['1', '2', '4', '8'].includes(values[0])) throw bad('The node type is 1, 2, 4 or 8.');
      return;
    case 'ipv6-address-preferred-lease-time': {
      const n = Number(values[0]);
      if (values.length !== 1 || !Number.isInteger(n) || n < 140 || n > 2147483647) throw bad('The lease time is 140 to 2147483647 seconds.');
      return;
    }
    default:
      throw Errors.invalidParameterValue(`Invalid value '${key}' for dhcp option key.`);
  }
}

async function dhcpOptionsOf(tx: Tx, rows: Row<'dhcp_options'>[]): Promise<DhcpOptions[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const values = await tx.selectFrom('dhcp_option_values').selectAll().where('dhcp_options_id', 'in', ids).orderBy('key').orderBy('position').execute();
  const tags = await tagsOf(tx, ids);
  return rows.map((row) => {
    const mine = values.filter((v) => v.dhcp_options_id === row.id);
    const keys = [...new Set(mine.map((v) => v.key))];
    return {
      DhcpOptionsId: row.id,
      OwnerId: row.account_id,
      DhcpConfigurations: keys.map((key) => ({ Key: key, Values: mine.filter((v) => v.key === key).map((v) => ({ Value: v.value })) })),
      Tags: tags.get(row.id) ?? [],
    };
  });
}

async function getDhcpOptions(ctx: Context, id: string | undefined): Promise<Row<'dhcp_options'>> {
  if (id === undefined) throw Errors.missingParameter('DhcpOptionsId');
  checkIds('dopt', Errors.dhcpOptionsId, [id]);
  const row = await ctx.tx.selectFrom('dhcp_options').selectAll().where('id', '=', id).where('account_id', '=', ctx.account).where('region', '=', ctx.region).executeTakeFirst();
  if (!row) throw Errors.dhcpOptionsId.notFound(id);
  return row;
}

export async function createDhcpOptions(ctx: Context, input: CreateDhcpOptionsRequest): Promise<CreateDhcpOptionsResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['dhcp-options']);
  const configurations = input.DhcpConfigurations ?? [];
  if (!configurations.length) throw Errors.missingParameter('DhcpConfiguration');
  const seen = new Set<string>();
  for (const c of configurations) {
    if (c.Key === undefined) throw Errors.missingParameter('DhcpConfiguration.N.Key');
    if (!KEYS.includes(c.Key)) throw Errors.invalidParameterValue(`Invalid value '${c.Key}' for dhcp option key.`);
    if (seen.has(c.Key)) throw Errors.invalidParameterValue(`The dhcp option key ${c.Key} is given more than once.`);
    seen.add(c.Key);
    checkOption(c.Key, c.Values ?? []);
  }
  const id = newId('dopt');
  await ctx.tx.insertInto('dhcp_options').values({ id, account_id: ctx.account, region: ctx.region, created_at: ctx.now.toISOString() }).execute();
  const rows = configurations.flatMap((c) => (c.Values ?? []).map((value, position) => ({ dhcp_options_id: id, key: c.Key!, value, position })));
  await ctx.tx.insertInto('dhcp_option_values').values(rows).execute();
  await applyTagSpecifications(ctx, 'dhcp-options', id, input.TagSpecifications);
  return { DhcpOptions: (await dhcpOptionsOf(ctx.tx, [await getDhcpOptions(ctx, id)]))[0] };
}

export async function describeDhcpOptions(ctx: Context, input: DescribeDhcpOptionsRequest): Promise<DescribeDhcpOptionsResult> {
  checkIds('dopt', Errors.dhcpOptionsId, input.DhcpOptionsIds ?? []);
  const page = await describeRows<Row<'dhcp_options'>>(ctx.tx, {
    table: 'dhcp_options',
    account: ctx.account,
    region: ctx.region,
    ids: input.DhcpOptionsIds,
    idErrors: Errors.dhcpOptionsId,
    filters: input.Filters,
    spec: FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { DhcpOptions: await dhcpOptionsOf(ctx.tx, page.rows), NextToken: page.nextToken };
}

/** AWS: `default` leaves the VPC without a set (AmazonProvidedDNS, the region's domain). */
export async function associateDhcpOptions(ctx: Context, input: AssociateDhcpOptionsRequest): Promise<Record<string, never>> {
  const vpc = await getVpc(ctx, input.VpcId);
  const id = input.DhcpOptionsId === 'default' ? 'default' : (await getDhcpOptions(ctx, input.DhcpOptionsId)).id;
  await ctx.tx.updateTable('vpcs').set({ dhcp_options_id: id }).where('id', '=', vpc.id).execute();
  return {};
}

export async function deleteDhcpOptions(ctx: Context, input: DeleteDhcpOptionsRequest): Promise<Record<string, never>> {
  const row = await getDhcpOptions(ctx, input.DhcpOptionsId);
  const user = await ctx.tx.selectFrom('vpcs').select('id').where('dhcp_options_id', '=', row.id).executeTakeFirst();
  if (user) throw Errors.dependencyViolation(`The dhcpOptions '${row.id}' has dependencies and cannot be deleted.`);
  await ctx.tx.deleteFrom('dhcp_option_values').where('dhcp_options_id', '=', row.id).execute();
  await ctx.tx.deleteFrom('dhcp_options').where('id', '=', row.id).execute();
  await deleteAllTags(ctx, row.id);
  return {};
}
