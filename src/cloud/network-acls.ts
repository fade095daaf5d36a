/**
 * Network ACLs: every VPC's default ACL (allows all), CreateNetworkAcl, DeleteNetworkAcl,
 * CreateNetworkAclEntry, ReplaceNetworkAclEntry, DeleteNetworkAclEntry,
 * ReplaceNetworkAclAssociation, DescribeNetworkAcls.
 *
 * AWS: ACLs are stateless and evaluated in rule-number order, first match wins, with a final
 * `*` rule (32767) that denies; every subnet is associated with exactly one ACL (the default
 * one unless replaced); a new custom ACL denies everything; the default ACL and an ACL
 * associated with subnets cannot be deleted; 20 rules per direction.
 */
import type {
  CreateNetworkAclEntryRequest,
  CreateNetworkAclRequest,
  CreateNetworkAclResult,
  DeleteNetworkAclEntryRequest,
  DeleteNetworkAclRequest,
  DescribeNetworkAclsRequest,
  DescribeNetworkAclsResult,
  NetworkAcl,
  ReplaceNetworkAclAssociationRequest,
  ReplaceNetworkAclAssociationResult,
  ReplaceNetworkAclEntryRequest,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { formatIpv4Cidr, parseIpv4Cidr } from '../ipam/ipv4.ts';
import { formatIpv6Cidr, parseIpv6Cidr } from '../ipam/ipv6.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { checkIds, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';
import { inOrder } from '../store/in-order.ts';
import { getOwned } from './owned.ts';

type AclRow = Row<'network_acls'>;
type EntryRow = Row<'network_acl_entries'>;

/** The implicit last rule of every ACL. */
export const LAST_RULE = 32767;
const RULES_PER_DIRECTION = 20;

const ACL_FILTERS: FilterSpec = {
  'network-acl-id': { column: 'id' },
  'vpc-id': { column: 'vpc_id' },
  default: { column: 'is_default', type: 'boolean' },
  'owner-id': { column: 'account_id' },
  'association.subnet-id': { table: 'network_acl_associations', foreignKey: 'network_acl_id', column: 'subnet_id' },
  'association.association-id': { table: 'network_acl_associations', foreignKey: 'network_acl_id', column: 'id' },
  'association.network-acl-id': { table: 'network_acl_associations', foreignKey: 'network_acl_id', column: 'network_acl_id' },
  'entry.rule-number': { table: 'network_acl_entries', foreignKey: 'network_acl_id', column: 'rule_number', type: 'integer' },
  'entry.protocol': { table: 'network_acl_entries', foreignKey: 'network_acl_id', column: 'protocol' },
  'entry.rule-action': { table: 'network_acl_entries', foreignKey: 'network_acl_id', column: 'rule_action' },
  'entry.egress': { table: 'network_acl_entries', foreignKey: 'network_acl_id', column: 'egress', type: 'boolean' },
  'entry.cidr': { table: 'network_acl_entries', foreignKey: 'network_acl_id', column: 'cidr_block' },
  'entry.ipv6-cidr': { table: 'network_acl_entries', foreignKey: 'network_acl_id', column: 'ipv6_cidr_block' },
  'entry.port-range.from': { table: 'network_acl_entries', foreignKey: 'network_acl_id', column: 'port_from', type: 'integer' },
  'entry.port-range.to': { table: 'network_acl_entries', foreignKey: 'network_acl_id', column: 'port_to', type: 'integer' },
};

type EntryValues = Omit<EntryRow, 'network_acl_id'>;

async function insertAcl(ctx: Context, vpcId: string, isDefault: boolean): Promise<string> {
  const id = newId('acl');
  await ctx.tx.insertInto('network_acls').values({ id, account_id: ctx.account, region: ctx.region, vpc_id: vpcId, is_default: isDefault ? 1 : 0, created_at: ctx.now.toISOString() }).execute();
  const entries: EntryValues[] = [];
  for (const egress of [0, 1]) {
    const base = { egress, protocol: '-1', port_from: null, port_to: null, icmp_type: null, icmp_code: null, ipv6_cidr_block: null };
    // AWS: the default ACL allows everything (rule 100); every ACL ends with a deny-all `*` rule.
    if (isDefault) entries.push({ ...base, rule_number: 100, rule_action: 'allow', cidr_block: '0.0.0.0/0' });
    entries.push({ ...base, rule_number: LAST_RULE, rule_action: 'deny', cidr_block: '0.0.0.0/0' });
  }
  await ctx.tx.insertInto('network_acl_entries').values(entries.map((e) => ({ ...e, network_acl_id: id }))).execute();
  const ipv6 = await ctx.tx.selectFrom('vpc_cidr_blocks').select('association_id').where('vpc_id', '=', vpcId).where('family', '=', 6).executeTakeFirst();
  if (ipv6) await addIpv6AclRules(ctx, vpcId);
  return id;
}

/** AWS: a VPC is made with its default network ACL. */
export async function createDefaultNetworkAcl(ctx: Context, vpcId: string): Promise<string> {
  return insertAcl(ctx, vpcId, true);
}

/**
 * AWS: once a VPC has an IPv6 block, its default ACL allows IPv6 too (rules 101), and every ACL
 * of the VPC ends with a `*` deny for ::/0.
 */
export async function addIpv6AclRules(ctx: Context, vpcId: string): Promise<void> {
  const acls = await ctx.tx.selectFrom('network_acls').select(['id', 'is_default']).where('vpc_id', '=', vpcId).execute();
  for (const acl of acls) {
    for (const egress of [0, 1]) {
      const existing = await ctx.tx.selectFrom('network_acl_entries').select('rule_number').where('network_acl_id', '=', acl.id).where('egress', '=', egress).where('ipv6_cidr_block', '=', '::/0').execute();
      if (existing.length) continue;
      const base = { network_acl_id: acl.id, egress, protocol: '-1', cidr_block: null, ipv6_cidr_block: '::/0', port_from: null, port_to: null, icmp_type: null, icmp_code: null };
      const entries = [{ ...base, rule_number: 32768, rule_action: 'deny' }];
      if (acl.is_default === 1) entries.push({ ...base, rule_number: 101, rule_action: 'allow' });
      await ctx.tx.insertInto('network_acl_entries').values(entries).execute();
    }
  }
}

/** A new subnet is associated with its VPC's default ACL. */
export async function associateDefaultAcl(ctx: Context, subnetId: string, vpcId: string): Promise<void> {
  const acl = await ctx.tx.selectFrom('network_acls').select('id').where('vpc_id', '=', vpcId).where('is_default', '=', 1).executeTakeFirst();
  if (!acl) return;
  await ctx.tx.insertInto('network_acl_associations').values({ id: newId('aclassoc'), network_acl_id: acl.id, subnet_id: subnetId }).execute();
}

export async function forgetSubnetAcl(ctx: Context, subnetId: string): Promise<void> {
  await ctx.tx.deleteFrom('network_acl_associations').where('subnet_id', '=', subnetId).execute();
}

/** Removes a VPC's ACLs with the VPC (the caller has checked no custom ACL remains). */
export async function deleteVpcAcls(ctx: Context, vpcId: string): Promise<void> {
  const acls = await ctx.tx.selectFrom('network_acls').select('id').where('vpc_id', '=', vpcId).execute();
  for (const acl of acls) {
    await ctx.tx.deleteFrom('network_acl_entries').where('network_acl_id', '=', acl.id).execute();
    await ctx.tx.deleteFrom('network_acl_associations').where('network_acl_id', '=', acl.id).execute();
    await deleteAllTags(ctx, acl.id);
  }
  await ctx.tx.deleteFrom('network_acls').where('vpc_id', '=', vpcId).execute();
}

/** The ACL of a subnet and its entries in one direction, in evaluation order. */
export async function aclOfSubnet(tx: Tx, subnetId: string, egress: boolean): Promise<{ aclId: string; entries: EntryRow[] } | undefined> {
  const association = await tx.selectFrom('network_acl_associations').select('network_acl_id').where('subnet_id', '=', subnetId).executeTakeFirst();
  if (!association) return undefined;
  const entries = await tx
    .selectFrom('network_acl_entries')
    .selectAll()
    .where('network_acl_id', '=', association.network_acl_id)
    .where('egress', '=', egress ? 1 : 0)
    .orderBy('rule_number')
    .execute();
  return { aclId: association.network_acl_id, entries };
}

export async function getNetworkAcl(ctx: Context, id: string | undefined): Promise<AclRow> {
  return getOwned(ctx, { table: 'network_acls', prefix: 'acl', errors: Errors.networkAclId }, id, 'NetworkAclId');
}

export async function createNetworkAcl(ctx: Context, input: CreateNetworkAclRequest): Promise<CreateNetworkAclResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['network-acl']);
  const vpc = await getOwned(ctx, { table: 'vpcs', prefix: 'vpc', errors: Errors.vpcId }, input.VpcId, 'VpcId');
  const id = await insertAcl(ctx, vpc.id, false);
  await applyTagSpecifications(ctx, 'network-acl', id, input.TagSpecifications);
  return { NetworkAcl: (await aclsOf(ctx.tx, [await getNetworkAcl(ctx, id)]))[0] };
}

export async function deleteNetworkAcl(ctx: Context, input: DeleteNetworkAclRequest): Promise<Record<string, never>> {
  const acl = await getNetworkAcl(ctx, input.NetworkAclId);
  if (acl.is_default === 1) throw Errors.invalidParameterValue(`cannot delete default network ACL ${acl.id}`);
  const association = await ctx.tx.selectFrom('network_acl_associations').select('id').where('network_acl_id', '=', acl.id).executeTakeFirst();
  if (association) throw Errors.dependencyViolation(`The networkAcl '${acl.id}' has dependencies and cannot be deleted.`);
  await ctx.tx.deleteFrom('network_acl_entries').where('network_acl_id', '=', acl.id).execute();
  await ctx.tx.deleteFrom('network_acls').where('id', '=', acl.id).execute();
  await deleteAllTags(ctx, acl.id);
  return {};
}

function entryValues(input: CreateNetworkAclEntryRequest): EntryValues {
  const ruleNumber = input.RuleNumber!;
  if (ruleNumber < 1 || ruleNumber > 32766) throw Errors.invalidParameterValueFor('RuleNumber', String(ruleNumber), 'Rule numbers are 1 to 32766.');
  // AWS: the API takes protocol numbers (or -1); the AWS CLI translates names before calling.
  const protocol = input.Protocol ?? '';
  if (!/^(-1|[0-9]{1,3})$/.test(protocol) || Number(protocol) > 255) {
    throw Errors.invalidParameterValue(`Invalid value '${protocol}' for IP protocol. Unknown protocol.`);
  }
  if (input.RuleAction !== 'allow' && input.RuleAction !== 'deny') throw Errors.invalidParameterValueFor('RuleAction', String(input.RuleAction));
  if ((input.CidrBlock === undefined) === (input.Ipv6CidrBlock === undefined)) throw Errors.missingParameter('CidrBlock or Ipv6CidrBlock');
  const v4 = input.CidrBlock !== undefined ? parseIpv4Cidr(input.CidrBlock) : undefined;
  if (input.CidrBlock !== undefined && !v4) throw Errors.invalidParameterValueFor('CidrBlock', input.CidrBlock);
  const v6 = input.Ipv6CidrBlock !== undefined ? parseIpv6Cidr(input.Ipv6CidrBlock) : undefined;
  if (input.Ipv6CidrBlock !== undefined && !v6) throw Errors.invalidParameterValueFor('Ipv6CidrBlock', input.Ipv6CidrBlock);
  const ported = protocol === '6' || protocol === '17';
  // AWS: TCP and UDP rules need a port range; ICMP rules need a type and code.
  if (ported && (input.PortRange?.From === undefined || input.PortRange?.To === undefined)) throw Errors.missingParameter('PortRange');
  if (ported && (input.PortRange!.From! < 0 || input.PortRange!.To! > 65535 || input.PortRange!.From! > input.PortRange!.To!)) {
    throw Errors.invalidParameterValue('The port range is invalid: 0 to 65535, From at most To.');
  }
  const icmp = protocol === '1' || protocol === '58';
  if (icmp && (input.IcmpTypeCode?.Type === undefined || input.IcmpTypeCode?.Code === undefined)) throw Errors.missingParameter('IcmpTypeCode');
  return {
    egress: input.Egress ? 1 : 0,
    rule_number: ruleNumber,
    protocol,
    rule_action: input.RuleAction,
    cidr_block: v4 ? formatIpv4Cidr(v4) : null,
    ipv6_cidr_block: v6 ? formatIpv6Cidr(v6) : null,
    port_from: ported ? input.PortRange!.From! : null,
    port_to: ported ? input.PortRange!.To! : null,
    icmp_type: icmp ? input.IcmpTypeCode!.Type! : null,
    icmp_code: icmp ? input.IcmpTypeCode!.Code! : null,
  };
}

async function entryExists(tx: Tx, aclId: string, egress: number, ruleNumber: number): Promise<boolean> {
  return !!(await tx.selectFrom('network_acl_entries').select('rule_number').where('network_acl_id', '=', aclId).where('egress', '=', egress).where('rule_number', '=', ruleNumber).executeTakeFirst());
}

export async function createNetworkAclEntry(ctx: Context, input: CreateNetworkAclEntryRequest): Promise<Record<string, never>> {
  const acl = await getNetworkAcl(ctx, input.NetworkAclId);
  const values = entryValues(input);
  if (await entryExists(ctx.tx, acl.id, values.egress, values.rule_number)) throw Errors.networkAclEntryAlreadyExists(values.rule_number);
  const { n } = await ctx.tx
    .selectFrom('network_acl_entries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('network_acl_id', '=', acl.id)
    .where('egress', '=', values.egress)
    .where('rule_number', '<', LAST_RULE)
    .executeTakeFirstOrThrow();
  if (Number(n) >= RULES_PER_DIRECTION) throw Errors.networkAclEntryLimitExceeded();
  await ctx.tx.insertInto('network_acl_entries').values({ ...values, network_acl_id: acl.id }).execute();
  return {};
}

export async function replaceNetworkAclEntry(ctx: Context, input: ReplaceNetworkAclEntryRequest): Promise<Record<string, never>> {
  const acl = await getNetworkAcl(ctx, input.NetworkAclId);
  const values = entryValues(input);
  if (!(await entryExists(ctx.tx, acl.id, values.egress, values.rule_number))) throw Errors.networkAclEntryNotFound(values.rule_number, acl.id);
  await ctx.tx
    .updateTable('network_acl_entries')
    .set(values)
    .where('network_acl_id', '=', acl.id)
    .where('egress', '=', values.egress)
    .where('rule_number', '=', values.rule_number)
    .execute();
  return {};
}

export async function deleteNetworkAclEntry(ctx: Context, input: DeleteNetworkAclEntryRequest): Promise<Record<string, never>> {
  const acl = await getNetworkAcl(ctx, input.NetworkAclId);
  const egress = input.Egress ? 1 : 0;
  const ruleNumber = input.RuleNumber!;
  if (ruleNumber === LAST_RULE || !(await entryExists(ctx.tx, acl.id, egress, ruleNumber))) throw Errors.networkAclEntryNotFound(ruleNumber, acl.id);
  await ctx.tx.deleteFrom('network_acl_entries').where('network_acl_id', '=', acl.id).where('egress', '=', egress).where('rule_number', '=', ruleNumber).execute();
  return {};
}

export async function replaceNetworkAclAssociation(ctx: Context, input: ReplaceNetworkAclAssociationRequest): Promise<ReplaceNetworkAclAssociationResult> {
  if (input.AssociationId === undefined) throw Errors.missingParameter('AssociationId');
  const acl = await getNetworkAcl(ctx, input.NetworkAclId);
  const association = await ctx.tx
    .selectFrom('network_acl_associations')
    .innerJoin('network_acls', 'network_acls.id', 'network_acl_associations.network_acl_id')
    .select(['network_acl_associations.id', 'network_acl_associations.subnet_id', 'network_acls.vpc_id'])
    .where('network_acl_associations.id', '=', input.AssociationId)
    .where('network_acls.account_id', '=', ctx.account)
    .where('network_acls.region', '=', ctx.region)
    .executeTakeFirst();
  if (!association) throw Errors.routeTableAssociationNotFound(input.AssociationId);
  if (association.vpc_id !== acl.vpc_id) throw Errors.invalidParameterValue(`Network ACL ${acl.id} belongs to another VPC`);
  const id = newId('aclassoc');
  await ctx.tx.deleteFrom('network_acl_associations').where('id', '=', association.id).execute();
  await ctx.tx.insertInto('network_acl_associations').values({ id, network_acl_id: acl.id, subnet_id: association.subnet_id }).execute();
  return { NewAssociationId: id };
}

async function aclsOf(tx: Tx, rows: AclRow[]): Promise<NetworkAcl[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const [entries, associations, tags] = await inOrder(
    () => tx.selectFrom('network_acl_entries').selectAll().where('network_acl_id', 'in', ids).orderBy('egress').orderBy('rule_number').execute(),
    () => tx.selectFrom('network_acl_associations').selectAll().where('network_acl_id', 'in', ids).orderBy('id').execute(),
    () => tagsOf(tx, ids),
  );
  return rows.map((row) => ({
    NetworkAclId: row.id,
    VpcId: row.vpc_id,
    OwnerId: row.account_id,
    IsDefault: row.is_default === 1,
    Entries: entries
      .filter((e) => e.network_acl_id === row.id)
      .map((e) => ({
        // The IPv6 `*` rule is kept as 32768 (one key per rule number); AWS shows both as 32767.
        RuleNumber: Math.min(e.rule_number, LAST_RULE),
        Protocol: e.protocol,
        RuleAction: e.rule_action as 'allow' | 'deny',
        Egress: e.egress === 1,
        CidrBlock: e.cidr_block ?? undefined,
        Ipv6CidrBlock: e.ipv6_cidr_block ?? undefined,
        PortRange: e.port_from !== null ? { From: e.port_from, To: e.port_to! } : undefined,
        IcmpTypeCode: e.icmp_type !== null ? { Type: e.icmp_type, Code: e.icmp_code! } : undefined,
      })),
    Associations: associations
      .filter((a) => a.network_acl_id === row.id)
      .map((a) => ({ NetworkAclAssociationId: a.id, NetworkAclId: row.id, SubnetId: a.subnet_id })),
    Tags: tags.get(row.id) ?? [],
  }));
}

export async function describeNetworkAcls(ctx: Context, input: DescribeNetworkAclsRequest): Promise<DescribeNetworkAclsResult> {
  checkIds('acl', Errors.networkAclId, input.NetworkAclIds ?? []);
  const page = await describeRows<AclRow>(ctx.tx, {
    table: 'network_acls',
    account: ctx.account,
    region: ctx.region,
    ids: input.NetworkAclIds,
    idErrors: Errors.networkAclId,
    filters: input.Filters,
    spec: ACL_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { NetworkAcls: await aclsOf(ctx.tx, page.rows), NextToken: page.nextToken };
}
