/**
 * VPCs: CreateVpc, DescribeVpcs, DeleteVpc, DescribeVpcAttribute, ModifyVpcAttribute.
 * AWS: the IPv4 block is /16 to /28 and canonicalised; 5 VPCs a region by default quota.
 */
import type {
  CreateVpcRequest,
  CreateVpcResult,
  DeleteVpcRequest,
  DescribeVpcAttributeRequest,
  DescribeVpcAttributeResult,
  DescribeVpcClassicLinkDnsSupportRequest,
  DescribeVpcClassicLinkDnsSupportResult,
  DescribeVpcClassicLinkRequest,
  DescribeVpcClassicLinkResult,
  DescribeVpcsRequest,
  DescribeVpcsResult,
  ModifyVpcAttributeRequest,
  Vpc,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { describeRows, type Filter, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import { formatIpv4Cidr, parseIpv4Cidr } from '../ipam/ipv4.ts';
import type { Context } from './context.ts';
import { countInRegion } from './counts.ts';
import { checkIds, newId } from './rules/ids.ts';
import { addAmazonIpv6Block } from './ipv6.ts';
import { createDefaultNetworkAcl, deleteVpcAcls } from './network-acls.ts';
import { createMainRouteTable, deleteMainRouteTable } from './route-tables.ts';
import { createDefaultSecurityGroup, deleteDefaultSecurityGroup } from './security-groups.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';
import { inOrder } from '../store/in-order.ts';
import { getOwned } from './owned.ts';

const VPC_FILTERS: FilterSpec = {
  'vpc-id': { column: 'id' },
  cidr: { column: 'cidr_block' },
  // AWS accepts these spellings beyond its documentation: `cidr-block` (Ansible's ec2_vpc_net
  // sends it) and the older camel-case `isDefault` (`--filters Name=isDefault,Values=true`).
  'cidr-block': { column: 'cidr_block' },
  isDefault: { column: 'is_default', type: 'boolean' },
  'cidr-block-association.cidr-block': { table: 'vpc_cidr_blocks', foreignKey: 'vpc_id', column: 'cidr_block', where: { family: 4 } },
  'cidr-block-association.association-id': { table: 'vpc_cidr_blocks', foreignKey: 'vpc_id', column: 'association_id', where: { family: 4 } },
  'cidr-block-association.state': { table: 'vpc_cidr_blocks', foreignKey: 'vpc_id', column: 'state', where: { family: 4 } },
  'ipv6-cidr-block-association.ipv6-cidr-block': { table: 'vpc_cidr_blocks', foreignKey: 'vpc_id', column: 'cidr_block', where: { family: 6 } },
  'ipv6-cidr-block-association.association-id': { table: 'vpc_cidr_blocks', foreignKey: 'vpc_id', column: 'association_id', where: { family: 6 } },
  'ipv6-cidr-block-association.state': { table: 'vpc_cidr_blocks', foreignKey: 'vpc_id', column: 'state', where: { family: 6 } },
  'dhcp-options-id': { column: 'dhcp_options_id' },
  'is-default': { column: 'is_default', type: 'boolean' },
  'owner-id': { column: 'account_id' },
  state: { column: 'state' },
};

/** Parses a VPC or subnet IPv4 block within AWS's /16–/28 bounds. */
export function parseBlock(text: string | undefined, parameter: string, rangeError: (cidr: string) => Error) {
  if (text === undefined) throw Errors.missingParameter(parameter);
  const cidr = parseIpv4Cidr(text);
  if (!cidr) throw Errors.invalidParameterValueFor(parameter, text, 'This is not a valid CIDR block.');
  if (cidr.prefix < 16 || cidr.prefix > 28) throw rangeError(text);
  return cidr;
}

export async function createVpc(ctx: Context, input: CreateVpcRequest): Promise<CreateVpcResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['vpc']);
  if (input.Ipv6CidrBlock || input.Ipv6Pool || input.Ipv6IpamPoolId || input.Ipv4IpamPoolId) {
    throw Errors.unsupported('BYOIP and IPAM pools are not supported by eni-local; use AmazonProvidedIpv6CidrBlock.');
  }
  const cidr = parseBlock(input.CidrBlock, 'CidrBlock', Errors.invalidVpcRange);
  const tenancy = input.InstanceTenancy ?? 'default';
  const id = await insertVpc(ctx, { cidrBlock: formatIpv4Cidr(cidr), tenancy, isDefault: false });
  if (input.AmazonProvidedIpv6CidrBlock) await addAmazonIpv6Block(ctx, id);
  await applyTagSpecifications(ctx, 'vpc', id, input.TagSpecifications);
  return { Vpc: await vpcOf(ctx.tx, await getVpc(ctx, id)) };
}

/** Inserts a VPC and its primary CIDR association, within the region's VPC quota. */
export async function insertVpc(
  ctx: Context,
  vpc: { cidrBlock: string; tenancy: string; isDefault: boolean },
): Promise<string> {
  if ((await countInRegion(ctx, 'vpcs')) >= ctx.config.quotas.vpcsPerRegion) throw Errors.vpcLimitExceeded();
  const id = newId('vpc');
  await ctx.tx
    .insertInto('vpcs')
    .values({
      id,
      account_id: ctx.account,
      region: ctx.region,
      cidr_block: vpc.cidrBlock,
      state: 'available',
      is_default: vpc.isDefault ? 1 : 0,
      instance_tenancy: vpc.tenancy,
      dhcp_options_id: 'default',
      enable_dns_support: 1,
      enable_dns_hostnames: vpc.isDefault ? 1 : 0,
      created_at: ctx.now.toISOString(),
    })
    .execute();
  await ctx.tx
    .insertInto('vpc_cidr_blocks')
    .values({
      association_id: newId('vpc-cidr-assoc'),
      account_id: ctx.account,
      region: ctx.region,
      vpc_id: id,
      cidr_block: vpc.cidrBlock,
      family: 4,
      state: 'associated',
      is_primary: 1,
    })
    .execute();
  await createDefaultSecurityGroup(ctx, id);
  await createMainRouteTable(ctx, id);
  await createDefaultNetworkAcl(ctx, id);
  return id;
}

/** The caller's VPC, or the EC2 error for a malformed or unknown id. */
/** The account's default VPC in the region, if it has one. */
export async function defaultVpcId(ctx: Context): Promise<string | undefined> {
  const row = await ctx.tx
    .selectFrom('vpcs')
    .select('id')
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('is_default', '=', 1)
    .executeTakeFirst();
  return row?.id;
}

export async function getVpc(ctx: Context, id: string | undefined, parameter = 'VpcId'): Promise<Row<'vpcs'>> {
  return getOwned(ctx, { table: 'vpcs', prefix: 'vpc', errors: Errors.vpcId }, id, parameter);
}

export async function vpcsOf(tx: Tx, rows: Row<'vpcs'>[]): Promise<Vpc[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const [tags, blocks] = await inOrder(
    () => tagsOf(tx, ids),
    () => tx.selectFrom('vpc_cidr_blocks').selectAll().where('vpc_id', 'in', ids).orderBy('association_id').execute(),
  );
  return rows.map((row) => {
    const mine = blocks.filter((b) => b.vpc_id === row.id);
    return {
      VpcId: row.id,
      OwnerId: row.account_id,
      State: row.state as Vpc['State'],
      CidrBlock: row.cidr_block,
      DhcpOptionsId: row.dhcp_options_id,
      InstanceTenancy: row.instance_tenancy as Vpc['InstanceTenancy'],
      IsDefault: row.is_default === 1,
      CidrBlockAssociationSet: mine
        .filter((b) => b.family === 4)
        .map((b) => ({ AssociationId: b.association_id, CidrBlock: b.cidr_block, CidrBlockState: { State: b.state as 'associated' } })),
      Ipv6CidrBlockAssociationSet: mine
        .filter((b) => b.family === 6)
        .map((b) => ({
          AssociationId: b.association_id,
          Ipv6CidrBlock: b.cidr_block,
          Ipv6CidrBlockState: { State: b.state as 'associated' },
          NetworkBorderGroup: row.region,
          Ipv6Pool: 'Amazon',
        })),
      Tags: tags.get(row.id) ?? [],
    };
  });
}

async function vpcOf(tx: Tx, row: Row<'vpcs'>): Promise<Vpc> {
  return (await vpcsOf(tx, [row]))[0];
}

export async function describeVpcs(ctx: Context, input: DescribeVpcsRequest): Promise<DescribeVpcsResult> {
  checkIds('vpc', Errors.vpcId, input.VpcIds ?? []);
  const page = await describeRows<Row<'vpcs'>>(ctx.tx, {
    table: 'vpcs',
    account: ctx.account,
    region: ctx.region,
    ids: input.VpcIds,
    idErrors: Errors.vpcId,
    filters: input.Filters,
    spec: VPC_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { Vpcs: await vpcsOf(ctx.tx, page.rows), NextToken: page.nextToken };
}

// --- ClassicLink --------------------------------------------------------------------------------
// AWS retired EC2-Classic (2022): the ClassicLink actions still answer, and no VPC has it enabled.

/** `is-classic-link-enabled` holds `false` for every VPC: a filter asking for `true` matches none. */
function classicLinkFilters(filters: readonly Filter[] | undefined): { filters: Filter[]; none: boolean } {
  const out: Filter[] = [];
  let none = false;
  for (const filter of filters ?? []) {
    if (filter.Name !== 'is-classic-link-enabled') {
      out.push(filter);
      continue;
    }
    if (filter.Values?.length && !filter.Values.includes('false')) none = true;
  }
  return { filters: out, none };
}

/** Only the tag filters and `is-classic-link-enabled` apply to DescribeVpcClassicLink. */
const CLASSIC_LINK_FILTERS: FilterSpec = {};

export async function describeVpcClassicLink(ctx: Context, input: DescribeVpcClassicLinkRequest): Promise<DescribeVpcClassicLinkResult> {
  checkIds('vpc', Errors.vpcId, input.VpcIds ?? []);
  const { filters, none } = classicLinkFilters(input.Filters);
  const page = await describeRows<Row<'vpcs'>>(ctx.tx, {
    table: 'vpcs',
    account: ctx.account,
    region: ctx.region,
    ids: input.VpcIds,
    idErrors: Errors.vpcId,
    filters,
    spec: CLASSIC_LINK_FILTERS,
    taggable: true,
  });
  const rows = none ? [] : page.rows;
  const tags = await tagsOf(ctx.tx, rows.map((r) => r.id));
  return { Vpcs: rows.map((row) => ({ VpcId: row.id, ClassicLinkEnabled: false, Tags: tags.get(row.id) ?? [] })) };
}

export async function describeVpcClassicLinkDnsSupport(
  ctx: Context,
  input: DescribeVpcClassicLinkDnsSupportRequest,
): Promise<DescribeVpcClassicLinkDnsSupportResult> {
  checkIds('vpc', Errors.vpcId, input.VpcIds ?? []);
  const page = await describeRows<Row<'vpcs'>>(ctx.tx, {
    table: 'vpcs',
    account: ctx.account,
    region: ctx.region,
    ids: input.VpcIds,
    idErrors: Errors.vpcId,
    spec: {},
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { Vpcs: page.rows.map((row) => ({ VpcId: row.id, ClassicLinkDnsSupported: false })), NextToken: page.nextToken };
}

/**
 * What keeps a VPC from being deleted: each kind of dependent resource, as a table and its VPC
 * column. Resource modules add their line as they land (subnets, gateways, groups, …).
 */
export const VPC_DEPENDENTS: { table: string; column: string; noun: string; where?: Record<string, number | string> }[] = [
  { table: 'subnets', column: 'vpc_id', noun: 'subnets' },
  { table: 'network_interfaces', column: 'vpc_id', noun: 'network interfaces' },
  { table: 'security_groups', column: 'vpc_id', noun: 'security groups', where: { is_vpc_default: 0 } },
  { table: 'internet_gateways', column: 'vpc_id', noun: 'an internet gateway' },
  { table: 'egress_only_internet_gateways', column: 'vpc_id', noun: 'an egress-only internet gateway' },
  { table: 'route_tables', column: 'vpc_id', noun: 'route tables', where: { is_main: 0 } },
  { table: 'network_acls', column: 'vpc_id', noun: 'network ACLs', where: { is_default: 0 } },
  { table: 'vpc_endpoints', column: 'vpc_id', noun: 'VPC endpoints' },
];

export async function deleteVpc(ctx: Context, input: DeleteVpcRequest): Promise<Record<string, never>> {
  const vpc = await getVpc(ctx, input.VpcId);
  for (const dep of VPC_DEPENDENTS) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let query = (ctx.tx as any).selectFrom(dep.table).select(dep.column).where(dep.column, '=', vpc.id);
    for (const [column, value] of Object.entries(dep.where ?? {})) query = query.where(column, '=', value);
    if (await query.executeTakeFirst()) {
      // AWS's message names no dependency.
      throw Errors.vpcHasDependencies(vpc.id);
    }
  }
  await deleteDefaultSecurityGroup(ctx, vpc.id);
  await deleteMainRouteTable(ctx, vpc.id);
  await deleteVpcAcls(ctx, vpc.id);
  await ctx.tx.deleteFrom('vpc_cidr_blocks').where('vpc_id', '=', vpc.id).execute();
  await ctx.tx.deleteFrom('vpcs').where('id', '=', vpc.id).execute();
  await deleteAllTags(ctx, vpc.id);
  return {};
}

const VPC_ATTRIBUTES = {
  enableDnsSupport: 'enable_dns_support',
  enableDnsHostnames: 'enable_dns_hostnames',
} as const;

export async function describeVpcAttribute(
  ctx: Context,
  input: DescribeVpcAttributeRequest,
): Promise<DescribeVpcAttributeResult> {
  const vpc = await getVpc(ctx, input.VpcId);
  const attribute = input.Attribute;
  if (attribute === undefined) throw Errors.missingParameter('Attribute');
  if (attribute === 'enableNetworkAddressUsageMetrics') {
    return { VpcId: vpc.id, EnableNetworkAddressUsageMetrics: { Value: false } };
  }
  if (!Object.hasOwn(VPC_ATTRIBUTES, attribute)) throw Errors.invalidParameterValueFor('Attribute', attribute);
  const column = VPC_ATTRIBUTES[attribute as keyof typeof VPC_ATTRIBUTES];
  const value = { Value: vpc[column] === 1 };
  return attribute === 'enableDnsSupport' ? { VpcId: vpc.id, EnableDnsSupport: value } : { VpcId: vpc.id, EnableDnsHostnames: value };
}

export async function modifyVpcAttribute(ctx: Context, input: ModifyVpcAttributeRequest): Promise<Record<string, never>> {
  const vpc = await getVpc(ctx, input.VpcId);
  const given = [input.EnableDnsSupport, input.EnableDnsHostnames, input.EnableNetworkAddressUsageMetrics].filter(
    (v) => v !== undefined,
  );
  // AWS: one attribute per call.
  if (given.length !== 1) {
    throw Errors.invalidParameterCombination('Exactly one attribute must be specified per ModifyVpcAttribute call.');
  }
  const set = (column: 'enable_dns_support' | 'enable_dns_hostnames', value: boolean | undefined) =>
    ctx.tx.updateTable('vpcs').set({ [column]: value ? 1 : 0 }).where('id', '=', vpc.id).execute();
  if (input.EnableDnsSupport) await set('enable_dns_support', input.EnableDnsSupport.Value);
  if (input.EnableDnsHostnames) {
    // AWS: DNS hostnames need DNS support.
    if (input.EnableDnsHostnames.Value && vpc.enable_dns_support !== 1) {
      throw Errors.invalidParameterValue('DNS hostnames cannot be enabled while DNS support is disabled.');
    }
    await set('enable_dns_hostnames', input.EnableDnsHostnames.Value);
  }
  return {};
}
