/**
 * Security groups: the VPC's default group, CreateSecurityGroup, DeleteSecurityGroup,
 * DescribeSecurityGroups, Authorize/Revoke ingress and egress, DescribeSecurityGroupRules,
 * and the checks an interface's group set must pass.
 *
 * AWS: a group belongs to one VPC; its name is unique there (case-insensitively); it holds
 * stateful allow rules, inbound and outbound, each matching a protocol, a port range (or ICMP
 * type and code) and one peer: an IPv4 or IPv6 CIDR, a security group or a prefix list.
 * Every rule is one row with its own `sgr-` id; the API groups them into IpPermission objects.
 */
import type {
  AuthorizeSecurityGroupEgressRequest,
  AuthorizeSecurityGroupEgressResult,
  AuthorizeSecurityGroupIngressRequest,
  AuthorizeSecurityGroupIngressResult,
  CreateSecurityGroupRequest,
  CreateSecurityGroupResult,
  DeleteSecurityGroupRequest,
  DeleteSecurityGroupResult,
  DescribeSecurityGroupRulesRequest,
  DescribeSecurityGroupRulesResult,
  DescribeSecurityGroupsRequest,
  DescribeSecurityGroupsResult,
  Filter,
  IpPermission,
  ModifySecurityGroupRulesRequest,
  ModifySecurityGroupRulesResult,
  RevokedSecurityGroupRule,
  RevokeSecurityGroupEgressRequest,
  RevokeSecurityGroupEgressResult,
  RevokeSecurityGroupIngressRequest,
  RevokeSecurityGroupIngressResult,
  SecurityGroup,
  SecurityGroupRule,
  SecurityGroupRuleDescription,
  SecurityGroupRuleRequest,
  Tag,
  TagSpecification,
  UpdateSecurityGroupRuleDescriptionsEgressRequest,
  UpdateSecurityGroupRuleDescriptionsEgressResult,
  UpdateSecurityGroupRuleDescriptionsIngressRequest,
  UpdateSecurityGroupRuleDescriptionsIngressResult,
  UserIdGroupPair,
} from '@aws-sdk/client-ec2';
import ipaddr from 'ipaddr.js';
import { sql } from 'kysely';
import { Errors } from './errors.ts';
import { formatIpv4Cidr, parseIpv4Cidr } from '../ipam/ipv4.ts';
import { describeRows, filterPredicate, type FilterSpec } from '../store/describe.ts';
import { listText, selectFirst, selectForIds, selectRows, type IdListQuery } from '../store/sql-text.ts';
import type { Row, Tx } from '../store/schema.ts';
import { wildcardRegex } from './catalogue-filter.ts';
import type { Context } from './context.ts';
import { getOwned } from './owned.ts';
import { getPrefixList, sizesOf } from './prefix-lists.ts';
import { checkIds, isIdOf, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, tagsOf } from './tags.ts';
import { defaultVpcId, getVpc } from './vpcs.ts';
import { inOrder } from '../store/in-order.ts';

// ---------------------------------------------------------------------------------------------
// Rule rows
// ---------------------------------------------------------------------------------------------

/** The fields that say what a rule matches. */
export type RuleFields = Pick<
  Row<'security_group_rules'>,
  'ip_protocol' | 'from_port' | 'to_port' | 'cidr_ipv4' | 'cidr_ipv6' | 'referenced_group_id' | 'prefix_list_id'
>;

/** The canonical text of a rule's match: two rules of one group and direction are duplicates when it is equal. */
export function ruleKey(rule: RuleFields): string {
  return [rule.ip_protocol, rule.from_port ?? '', rule.to_port ?? '', rule.cidr_ipv4 ?? '', rule.cidr_ipv6 ?? '', rule.referenced_group_id ?? '', rule.prefix_list_id ?? ''].join('|');
}

export async function insertRule(ctx: Context, groupId: string, isEgress: boolean, rule: RuleFields, description: string | null): Promise<string> {
  const [id] = await insertRules(ctx, groupId, isEgress ? 'egress' : 'ingress', [{ fields: rule, description }]);
  return id;
}

type Direction = 'ingress' | 'egress';

interface NewRule {
  fields: RuleFields;
  description: string | null;
}

/** Inserts rules in one statement; the (group, direction, rule_key) constraint backs the duplicate check. */
async function insertRules(ctx: Context, groupId: string, direction: Direction, rules: readonly NewRule[]): Promise<string[]> {
  if (!rules.length) return [];
  const rows = rules.map((rule) => ({
    id: newId('sgr'),
    account_id: ctx.account,
    region: ctx.region,
    group_id: groupId,
    is_egress: direction === 'egress' ? 1 : 0,
    ...rule.fields,
    description: rule.description,
    rule_key: ruleKey(rule.fields),
    created_at: ctx.now.toISOString(),
  }));
  await ctx.tx.insertInto('security_group_rules').values(rows).execute();
  return rows.map((r) => r.id);
}

const ALL_TRAFFIC: RuleFields = { ip_protocol: '-1', from_port: null, to_port: null, cidr_ipv4: null, cidr_ipv6: null, referenced_group_id: null, prefix_list_id: null };

/** AWS: a new group, default or not, allows all outbound IPv4 traffic. */
const ALLOW_ALL_EGRESS: RuleFields = { ...ALL_TRAFFIC, cidr_ipv4: '0.0.0.0/0' };

const DEFAULT_GROUP_NAME = 'default';

/**
 * AWS: every VPC comes with a group named `default` that allows all inbound traffic from its own
 * members and all outbound traffic; it cannot be deleted while the VPC exists.
 */
export async function createDefaultSecurityGroup(ctx: Context, vpcId: string): Promise<string> {
  const id = await insertGroup(ctx, { vpcId, name: DEFAULT_GROUP_NAME, description: 'default VPC security group', isVpcDefault: true });
  await insertRules(ctx, id, 'ingress', [{ fields: { ...ALL_TRAFFIC, referenced_group_id: id }, description: null }]);
  await insertRules(ctx, id, 'egress', [{ fields: ALLOW_ALL_EGRESS, description: null }]);
  return id;
}

/**
 * AWS: a VPC with an IPv6 block lets its groups send IPv6 anywhere: the default group gets a ::/0
 * egress rule when the block is associated, and groups created afterwards get it at creation.
 */
export async function allowAllIpv6Egress(ctx: Context, groupId: string): Promise<void> {
  const rule = { ...ALL_TRAFFIC, cidr_ipv6: '::/0' };
  const existing = await ctx.tx
    .selectFrom('security_group_rules')
    .select('id')
    .where('group_id', '=', groupId)
    .where('is_egress', '=', 1)
    .where('rule_key', '=', ruleKey(rule))
    .executeTakeFirst();
  if (!existing) await insertRules(ctx, groupId, 'egress', [{ fields: rule, description: null }]);
}

async function vpcHasIpv6(ctx: Context, vpcId: string): Promise<boolean> {
  return !!(await ctx.tx.selectFrom('vpc_cidr_blocks').select('association_id').where('vpc_id', '=', vpcId).where('family', '=', 6).executeTakeFirst());
}

/** Removes the VPC's default group with the VPC (the caller has checked nothing else uses it). */
export async function deleteDefaultSecurityGroup(ctx: Context, vpcId: string): Promise<void> {
  const groups = await ctx.tx.selectFrom('security_groups').select('id').where('vpc_id', '=', vpcId).execute();
  for (const { id } of groups) await removeGroup(ctx, id);
}

async function insertGroup(ctx: Context, group: { vpcId: string; name: string; description: string; isVpcDefault: boolean }): Promise<string> {
  const id = newId('sg');
  await ctx.tx
    .insertInto('security_groups')
    .values({
      id,
      account_id: ctx.account,
      region: ctx.region,
      vpc_id: group.vpcId,
      group_name: group.name,
      description: group.description,
      is_vpc_default: group.isVpcDefault ? 1 : 0,
      created_at: ctx.now.toISOString(),
    })
    .execute();
  return id;
}

/** Deletes a group with its rules and the tags of both. */
async function removeGroup(ctx: Context, groupId: string): Promise<void> {
  const ruleIds = (await ctx.tx.selectFrom('security_group_rules').select('id').where('group_id', '=', groupId).execute()).map((r) => r.id);
  await ctx.tx.deleteFrom('tags').where('resource_id', 'in', [groupId, ...ruleIds]).execute();
  await ctx.tx.deleteFrom('security_group_rules').where('group_id', '=', groupId).execute();
  await ctx.tx.deleteFrom('security_groups').where('id', '=', groupId).execute();
}

// ---------------------------------------------------------------------------------------------
// Permission normalisation (pure): IpPermission objects → canonical rules
// ---------------------------------------------------------------------------------------------

/** A rule as asked for, before its group reference (if any) is resolved against the store. */
export interface RequestedRule {
  ip_protocol: string;
  from_port: number | null;
  to_port: number | null;
  peer:
    | { kind: 'ipv4'; cidr: string }
    | { kind: 'ipv6'; cidr: string }
    | { kind: 'prefix-list'; id: string }
    | { kind: 'group'; pair: UserIdGroupPair };
  description: string | null;
}

// AWS's protocol numbers that the API answers with names.
const PROTOCOL_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' };
const NAMED_PROTOCOLS = new Set(['tcp', 'udp', 'icmp', 'icmpv6']);

/**
 * AWS: the protocol is a name (tcp, udp, icmp, icmpv6, any case) or a number 0–255; -1 means all.
 * Numbers with a name are answered by name (6 → tcp). `all` is not a protocol (AWS refuses it).
 */
export function normaliseProtocol(raw: string | undefined): string {
  const text = raw?.trim().toLowerCase() ?? '';
  if (text === '') {
    throw Errors.invalidParameterValue("Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.");
  }
  if (text === '-1' || NAMED_PROTOCOLS.has(text)) return text;
  if (/^[0-9]{1,3}$/.test(text) && Number(text) <= 255) return PROTOCOL_NAMES[Number(text)] ?? String(Number(text));
  throw Errors.invalidParameterValue(`Invalid value '${raw}' for IP protocol. Unknown protocol.`);
}

const MIN_ICMP = -1;
const MAX_ICMP = 255;
const MAX_PORT = 65535;

/**
 * The stored port range of a rule. AWS: tcp and udp need both ports (0–65535, from ≤ to); icmp
 * needs a type and a code (-1 = all; a code needs a type); icmpv6 may omit both (all types and
 * codes); -1 and other protocol numbers cover every port whatever is given.
 */
export function portRange(protocol: string, from: number | undefined, to: number | undefined): { from_port: number | null; to_port: number | null } {
  if (protocol === 'tcp' || protocol === 'udp') {
    if (from === undefined || to === undefined) {
      throw Errors.invalidParameterValue("Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.");
    }
    for (const port of [from, to]) {
      if (port < 0 || port > MAX_PORT) throw Errors.invalidPermissionMalformed(`TCP/UDP port (${port}) out of range`);
    }
    // AWS's wording for a reversed range is unconfirmed; the code follows the other port-range errors.
    if (from > to) throw Errors.invalidParameterValue(`Invalid value 'from port (${from}) must not be greater than to port (${to})' for portRange.`);
    return { from_port: from, to_port: to };
  }
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    const label = protocol === 'icmp' ? 'ICMP' : 'ICMPv6';
    if (protocol === 'icmpv6' && from === undefined && to === undefined) return { from_port: -1, to_port: -1 };
    if (from === undefined || to === undefined) {
      throw Errors.invalidParameterValue(`Invalid value 'Must specify both from and to ports with ${label}.' for portRange.`);
    }
    if (from < MIN_ICMP || from > MAX_ICMP) throw Errors.invalidParameterValue(`${label} type (${from}) out of range`);
    if (to < MIN_ICMP || to > MAX_ICMP || (from === -1 && to !== -1)) throw Errors.invalidParameterValue(`${label} code (${to}) out of range`);
    return { from_port: from, to_port: to };
  }
  return { from_port: null, to_port: null };
}

/** AWS canonicalises a rule's IPv4 CIDR (host bits cleared: 10.0.0.28/29 → 10.0.0.24/29). */
export function canonicalIpv4Cidr(text: string): string {
  const cidr = parseIpv4Cidr(text);
  if (!cidr) throw Errors.invalidParameterValue(`CIDR block ${text} is malformed`);
  return formatIpv4Cidr(cidr);
}

/** An IPv6 CIDR in its canonical form: network address, compressed, lower case. */
export function canonicalIpv6Cidr(text: string): string {
  const trimmed = text.trim();
  if (trimmed.includes('%') || !ipaddr.IPv6.isValidCIDR(trimmed)) throw Errors.invalidParameterValue(`CIDR block ${text} is malformed`);
  const [, prefix] = ipaddr.IPv6.parseCIDR(trimmed);
  return `${ipaddr.IPv6.networkAddressFromCIDR(trimmed).toString()}/${prefix}`;
}

// AWS: names, descriptions and rule descriptions are up to 255 characters of this set.
const DESCRIPTIVE_TEXT = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;
const MAX_TEXT = 255;

function ruleDescription(text: string | undefined): string | null {
  if (text === undefined || text === '') return null;
  if (text.length > MAX_TEXT || !DESCRIPTIVE_TEXT.test(text)) {
    throw Errors.invalidParameterValue(
      'Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*',
    );
  }
  return text;
}

/** A prefix list id (`pl-` and 8 or 17 hex digits); whether the list exists is checked when the rule is resolved. */
function prefixListId(id: string | undefined, parameter: string): string {
  if (id === undefined) throw Errors.missingParameter(parameter);
  if (!isIdOf('pl', id)) throw Errors.invalidParameterValueFor(parameter, id, `Invalid id: "${id}" (expecting "pl-...")`);
  return id;
}

/**
 * Turns IpPermissions into one requested rule per peer, validating protocol, ports, CIDRs and
 * descriptions. A permission without any peer adds nothing (AWS accepts it silently).
 */
export function requestedRules(permissions: readonly IpPermission[]): RequestedRule[] {
  const out: RequestedRule[] = [];
  permissions.forEach((permission, i) => {
    const at = `IpPermissions.${i + 1}`;
    const ip_protocol = normaliseProtocol(permission.IpProtocol);
    const ports = portRange(ip_protocol, permission.FromPort, permission.ToPort);
    const add = (peer: RequestedRule['peer'], description: string | undefined) =>
      out.push({ ip_protocol, ...ports, peer, description: ruleDescription(description) });
    (permission.IpRanges ?? []).forEach((range, j) => {
      if (range.CidrIp === undefined) throw Errors.missingParameter(`${at}.IpRanges.${j + 1}.CidrIp`);
      add({ kind: 'ipv4', cidr: canonicalIpv4Cidr(range.CidrIp) }, range.Description);
    });
    (permission.Ipv6Ranges ?? []).forEach((range, j) => {
      if (range.CidrIpv6 === undefined) throw Errors.missingParameter(`${at}.Ipv6Ranges.${j + 1}.CidrIpv6`);
      add({ kind: 'ipv6', cidr: canonicalIpv6Cidr(range.CidrIpv6) }, range.Description);
    });
    (permission.PrefixListIds ?? []).forEach((list, j) => {
      add({ kind: 'prefix-list', id: prefixListId(list.PrefixListId, `${at}.PrefixListIds.${j + 1}.PrefixListId`) }, list.Description);
    });
    (permission.UserIdGroupPairs ?? []).forEach((pair, j) => {
      // AWS answers "Source group ID missing." for a pair that names no group.
      if (pair.GroupId === undefined && pair.GroupName === undefined) throw Errors.missingParameter(`${at}.Groups.${j + 1}.GroupId`);
      add({ kind: 'group', pair }, pair.Description);
    });
  });
  return out;
}

/** The legacy flat members of Authorize/Revoke ingress (EC2-Classic era), still accepted by AWS. */
interface FlatPermission {
  CidrIp?: string;
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  SourceSecurityGroupName?: string;
  SourceSecurityGroupOwnerId?: string;
}

const FLAT_MEMBERS = ['CidrIp', 'IpProtocol', 'FromPort', 'ToPort', 'SourceSecurityGroupName', 'SourceSecurityGroupOwnerId'] as const;

/**
 * The IpPermissions of a request, from `IpPermissions.N` or the flat members. AWS: the two forms
 * do not mix; a source group name (without protocol or ports) grants all ICMP, TCP and UDP from
 * that group; the flat members are not supported for egress.
 */
export function permissionsOf(input: FlatPermission & { IpPermissions?: IpPermission[] }, direction: Direction): IpPermission[] {
  const flat = FLAT_MEMBERS.filter((m) => input[m] !== undefined);
  if (!flat.length) return input.IpPermissions ?? [];
  if (direction === 'egress') {
    throw Errors.invalidParameterValue(`The parameter ${flat[0]} is not supported for egress rules; use IpPermissions.`);
  }
  if (input.IpPermissions?.length) {
    throw Errors.invalidParameterCombination(`The parameter ${flat[0]} cannot be used together with IpPermissions.`);
  }
  if (input.SourceSecurityGroupName !== undefined) {
    const conflicting = (['CidrIp', 'IpProtocol', 'FromPort', 'ToPort'] as const).find((m) => input[m] !== undefined);
    if (conflicting) {
      throw Errors.invalidParameterCombination(`The parameter ${conflicting} cannot be used together with SourceSecurityGroupName.`);
    }
    const pair: UserIdGroupPair = { GroupName: input.SourceSecurityGroupName, UserId: input.SourceSecurityGroupOwnerId };
    return [
      { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, UserIdGroupPairs: [pair] },
      { IpProtocol: 'tcp', FromPort: 0, ToPort: MAX_PORT, UserIdGroupPairs: [pair] },
      { IpProtocol: 'udp', FromPort: 0, ToPort: MAX_PORT, UserIdGroupPairs: [pair] },
    ];
  }
  if (input.SourceSecurityGroupOwnerId !== undefined) throw Errors.missingParameter('SourceSecurityGroupName');
  // AWS: "Missing source specification: include source security group or CIDR information".
  if (input.CidrIp === undefined) throw Errors.missingParameter('CidrIp');
  return [{ IpProtocol: input.IpProtocol, FromPort: input.FromPort, ToPort: input.ToPort, IpRanges: [{ CidrIp: input.CidrIp }] }];
}

/** How AWS names a rule in InvalidPermission.Duplicate: `peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW`. */
export function ruleText(rule: RuleFields): string {
  const peer = rule.cidr_ipv4 ?? rule.cidr_ipv6 ?? rule.referenced_group_id ?? rule.prefix_list_id;
  const parts = [`peer: ${peer}`, rule.ip_protocol === '-1' ? 'ALL' : rule.ip_protocol.toUpperCase()];
  if (rule.ip_protocol === 'tcp' || rule.ip_protocol === 'udp') parts.push(`from port: ${rule.from_port}`, `to port: ${rule.to_port}`);
  if (rule.ip_protocol === 'icmp' || rule.ip_protocol === 'icmpv6') {
    const all = (n: number | null) => (n === -1 ? 'ALL' : String(n));
    parts.push(`type: ${all(rule.from_port)}`, `code: ${all(rule.to_port)}`);
  }
  parts.push('ALLOW');
  return parts.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Finding groups
// ---------------------------------------------------------------------------------------------

type Arnable = { region: string; account_id: string; id: string };
const groupArn = (row: Arnable) => `arn:aws:ec2:${row.region}:${row.account_id}:security-group/${row.id}`;
const ruleArn = (row: Arnable) => `arn:aws:ec2:${row.region}:${row.account_id}:security-group-rule/${row.id}`;

/** The caller's group, or InvalidGroupId.Malformed / InvalidGroup.NotFound. */
export async function getSecurityGroup(ctx: Context, id: string | undefined, parameter = 'GroupId'): Promise<Row<'security_groups'>> {
  return getOwned(ctx, { table: 'security_groups', prefix: 'sg', errors: Errors.groupId }, id, parameter);
}


/** A group by name in one VPC; AWS compares group names case-insensitively. */
async function findGroupByName(ctx: Context, vpcId: string, name: string): Promise<Row<'security_groups'> | undefined> {
  return ctx.tx
    .selectFrom('security_groups')
    .selectAll()
    .where('vpc_id', '=', vpcId)
    .where(sql<string>`lower(group_name)`, '=', name.toLowerCase())
    .executeTakeFirst();
}

/** AWS: a group may be named instead of identified only in the default VPC. */
async function getGroupInDefaultVpc(ctx: Context, name: string): Promise<Row<'security_groups'>> {
  const vpcId = await defaultVpcId(ctx);
  const row = vpcId === undefined ? undefined : await findGroupByName(ctx, vpcId, name);
  if (!row) throw Errors.invalidGroupNameNotFound(name);
  return row;
}

/** The group a request targets, by GroupId or (default VPC only) GroupName. */
async function targetGroup(ctx: Context, input: { GroupId?: string; GroupName?: string }): Promise<Row<'security_groups'>> {
  if (input.GroupId !== undefined && input.GroupName !== undefined) {
    throw Errors.invalidParameterCombination('The parameter GroupName cannot be used together with GroupId.');
  }
  if (input.GroupId !== undefined) return getSecurityGroup(ctx, input.GroupId);
  if (input.GroupName !== undefined) return getGroupInDefaultVpc(ctx, input.GroupName);
  throw Errors.missingParameter('groupName or groupId');
}

const DEFAULT_GROUP_OF_VPC = 'select "id" from "security_groups" where "vpc_id" = ? and "is_vpc_default" = ?';
/** The default group of a subnet's VPC, by the subnet's id (for a lookup sent before the subnet's row is in). */
const DEFAULT_GROUP_OF_SUBNET =
  'select "id", "vpc_id" from "security_groups" where "vpc_id" = (select "vpc_id" from "subnets" where "id" = ?) and "is_vpc_default" = ?';

async function defaultGroupId(ctx: Context, vpcId: string): Promise<string> {
  const row = await selectFirst<Pick<Row<'security_groups'>, 'id'>>(ctx.tx, DEFAULT_GROUP_OF_VPC, [vpcId, 1]);
  if (!row) throw new Error(`VPC ${vpcId} has no default security group`);
  return row.id;
}

/** The VPC of each of the caller's groups among some ids. */
const GROUP_VPCS = listText((ids) => `select "id", "vpc_id" from "security_groups" where "id" in (${ids}) and "account_id" = ? and "region" = ?`);

/**
 * The security groups of a network interface, validated: in the given order, de-duplicated, all
 * the caller's and in the interface's VPC, at most the per-interface quota; none given means the
 * VPC's default group (AWS).
 */
export async function groupsForInterface(
  ctx: Context,
  vpcId: string,
  groupIds: readonly string[] | undefined,
  options: { subnetId?: string } = {},
): Promise<string[]> {
  if (!groupIds?.length) return [await defaultGroupId(ctx, vpcId)];
  return judgeNamedGroups(vpcId, await lookUpNamedGroups(ctx, groupIds), options);
}

/** The named groups (de-duplicated, in the given order) and the VPCs of those that are the caller's. */
interface NamedGroups {
  ids: string[];
  rows: Pick<Row<'security_groups'>, 'id' | 'vpc_id'>[];
}

/** What groupsForInterface looks up: the named groups, or the default group (`byDefault`). */
export type InterfaceGroupLookup = ({ byDefault: false } & NamedGroups) | { byDefault: true; id: string | undefined };

/**
 * groupsForInterface's lookup for an interface made in a subnet, by the subnet's id: for a caller
 * that sends it beside the subnet's own lookup (one round trip on PostgreSQL), before it has the
 * subnet's VPC; judgeGroupsForSubnet judges it once the subnet is in.
 */
export async function lookUpGroupsForSubnet(ctx: Context, subnetId: string, groupIds: readonly string[] | undefined): Promise<InterfaceGroupLookup> {
  if (groupIds?.length) return { byDefault: false, ...(await lookUpNamedGroups(ctx, groupIds)) };
  const row = await selectFirst<Pick<Row<'security_groups'>, 'id'>>(ctx.tx, DEFAULT_GROUP_OF_SUBNET, [subnetId, 1]);
  return { byDefault: true, id: row?.id };
}

/** groupsForInterface's answer from lookUpGroupsForSubnet's lookup, for an interface in `subnet`. */
export function judgeGroupsForSubnet(subnet: Pick<Row<'subnets'>, 'id' | 'vpc_id'>, looked: InterfaceGroupLookup): string[] {
  if (!looked.byDefault) return judgeNamedGroups(subnet.vpc_id, looked, { subnetId: subnet.id });
  if (looked.id === undefined) throw new Error(`VPC ${subnet.vpc_id} has no default security group`);
  return [looked.id];
}

/** The named groups' VPCs, after the ids' form and the per-interface quota are checked. */
async function lookUpNamedGroups(ctx: Context, groupIds: readonly string[]): Promise<NamedGroups> {
  const ids = [...new Set(groupIds)];
  checkIds('sg', Errors.groupId, ids);
  if (ids.length > ctx.config.quotas.securityGroupsPerInterface) throw Errors.securityGroupsPerInterfaceLimitExceeded();
  return { ids, rows: await selectRows<Pick<Row<'security_groups'>, 'id' | 'vpc_id'>>(ctx.tx, GROUP_VPCS(ids.length), [...ids, ctx.account, ctx.region]) };
}

/** The named groups, each the caller's and in VPC `vpcId`, or the EC2 error for the first that is not. */
function judgeNamedGroups(vpcId: string, { ids, rows }: NamedGroups, options: { subnetId?: string }): string[] {
  const vpcOf = new Map(rows.map((r) => [r.id, r.vpc_id]));
  for (const id of ids) {
    const groupVpc = vpcOf.get(id);
    if (groupVpc === undefined) throw Errors.groupId.notFound(id);
    if (groupVpc === vpcId) continue;
    // AWS: the group exists, so the answer says it is in another network, not that it is missing.
    if (options.subnetId !== undefined) throw Errors.groupAndSubnetInDifferentNetworks(id, options.subnetId);
    throw Errors.groupInAnotherNetwork();
  }
  return ids;
}

/** The groupSet of many network interfaces in one query, each in its position order. */
const GROUPS_OF = (ids: string) =>
    'select "g"."network_interface_id" as "eni", "s"."id" as "id", "s"."group_name" as "name" from "network_interface_groups" as "g" ' +
    `inner join "security_groups" as "s" on "s"."id" = "g"."group_id" where "g"."network_interface_id" in (${ids}) order by "g"."network_interface_id", "g"."position"`;

export const GROUP_IDENTIFIERS: IdListQuery<Map<string, { GroupId: string; GroupName: string }[]>> = {
  build: GROUPS_OF,
  shape: (rows: { eni: string; id: string; name: string }[], ids) => {
    const out = new Map<string, { GroupId: string; GroupName: string }[]>(ids.map((id) => [id, []]));
    for (const row of rows) out.get(row.eni)?.push({ GroupId: row.id, GroupName: row.name });
    return out;
  },
};

export async function groupIdentifiersOf(
  tx: Tx,
  networkInterfaceIds: readonly string[],
): Promise<Map<string, { GroupId: string; GroupName: string }[]>> {
  const [groups] = await selectForIds(tx, [...new Set(networkInterfaceIds)], GROUP_IDENTIFIERS);
  return groups;
}

// ---------------------------------------------------------------------------------------------
// CreateSecurityGroup, DeleteSecurityGroup
// ---------------------------------------------------------------------------------------------

function checkDescriptiveText(parameter: string, value: string): void {
  if (value === '') throw Errors.missingParameter(parameter);
  if (value.length > MAX_TEXT) throw Errors.invalidParameterValueFor(parameter, value, `It must be at most ${MAX_TEXT} characters long.`);
  if (!DESCRIPTIVE_TEXT.test(value)) {
    throw Errors.invalidParameterValueFor(parameter, value, 'Valid characters are a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*');
  }
}

/** The VPC a new group goes to: the one named, else the default VPC (AWS: VPCIdNotSpecified without one). */
async function vpcForNewGroup(ctx: Context, vpcId: string | undefined): Promise<string> {
  if (vpcId !== undefined) return (await getVpc(ctx, vpcId)).id;
  const id = await defaultVpcId(ctx);
  if (id === undefined) {
    throw Errors.vpcIdNotSpecified('No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.');
  }
  return id;
}

export async function createSecurityGroup(ctx: Context, input: CreateSecurityGroupRequest): Promise<CreateSecurityGroupResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['security-group']);
  const name = input.GroupName ?? '';
  const description = input.Description ?? '';
  checkDescriptiveText('GroupName', name);
  checkDescriptiveText('GroupDescription', description);
  if (name.toLowerCase().startsWith('sg-')) throw Errors.invalidParameterValueFor('GroupName', name, 'Group names may not be in the format sg-*.');
  if (name.toLowerCase() === DEFAULT_GROUP_NAME) throw Errors.invalidGroupReserved();
  const vpcId = await vpcForNewGroup(ctx, input.VpcId);
  if (await findGroupByName(ctx, vpcId, name)) throw Errors.invalidGroupDuplicate(name, vpcId);
  await checkGroupQuota(ctx);
  const id = await insertGroup(ctx, { vpcId, name, description, isVpcDefault: false });
  await insertRules(ctx, id, 'egress', [{ fields: ALLOW_ALL_EGRESS, description: null }]);
  if (await vpcHasIpv6(ctx, vpcId)) await allowAllIpv6Egress(ctx, id);
  await applyTagSpecifications(ctx, 'security-group', id, input.TagSpecifications);
  const arn = groupArn({ region: ctx.region, account_id: ctx.account, id });
  return { GroupId: id, SecurityGroupArn: arn, Tags: (await tagsOf(ctx.tx, [id])).get(id) ?? [] };
}

/** AWS: VPC security groups per Region (2,500 by default), default groups included. */
async function checkGroupQuota(ctx: Context): Promise<void> {
  const { count } = await ctx.tx
    .selectFrom('security_groups')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .executeTakeFirstOrThrow();
  if (Number(count) >= ctx.config.quotas.securityGroupsPerRegion) throw Errors.securityGroupLimitExceeded();
}

export async function deleteSecurityGroup(ctx: Context, input: DeleteSecurityGroupRequest): Promise<DeleteSecurityGroupResult> {
  const group = await targetGroup(ctx, input);
  if (group.is_vpc_default === 1) throw Errors.cannotDelete(group.id);
  // AWS: a group in use by a network interface, or referenced by another group's rule, stays.
  const usedByInterface = await ctx.tx
    .selectFrom('network_interface_groups')
    .select('network_interface_id')
    .where('group_id', '=', group.id)
    .executeTakeFirst();
  const referencedByGroup = await ctx.tx
    .selectFrom('security_group_rules')
    .select('id')
    .where('referenced_group_id', '=', group.id)
    .where('group_id', '!=', group.id)
    .executeTakeFirst();
  if (usedByInterface || referencedByGroup) throw Errors.dependencyViolation(`resource ${group.id} has a dependent object`);
  await removeGroup(ctx, group.id);
  return { Return: true, GroupId: group.id };
}

// ---------------------------------------------------------------------------------------------
// Describing groups and rules
// ---------------------------------------------------------------------------------------------

/** A rule's permission filters: one child-table filter per name, on one direction. */
function permissionFilters(prefix: string, isEgress: number): FilterSpec {
  const child = (column: string, type?: 'integer') =>
    ({ table: 'security_group_rules', foreignKey: 'group_id', column, type, where: { is_egress: isEgress } }) as const;
  return {
    [`${prefix}protocol`]: child('ip_protocol'),
    [`${prefix}from-port`]: child('from_port', 'integer'),
    [`${prefix}to-port`]: child('to_port', 'integer'),
    [`${prefix}cidr`]: child('cidr_ipv4'),
    [`${prefix}ipv6-cidr`]: child('cidr_ipv6'),
    [`${prefix}group-id`]: child('referenced_group_id'),
    [`${prefix}prefix-list-id`]: child('prefix_list_id'),
  };
}

const GROUP_FILTERS: FilterSpec = {
  'group-id': { column: 'id' },
  'group-name': { column: 'group_name' },
  description: { column: 'description' },
  'vpc-id': { column: 'vpc_id' },
  'owner-id': { column: 'account_id' },
  ...permissionFilters('ip-permission.', 0),
  ...permissionFilters('egress.ip-permission.', 1),
};

const RULE_FILTERS: FilterSpec = {
  'group-id': { column: 'group_id' },
  'security-group-rule-id': { column: 'id' },
};

/** AWS validates the ids a DescribeSecurityGroupRules filter names (`group-id=foobar` → InvalidGroupId.Malformed); wildcards pass. */
function checkRuleFilterIds(filters: readonly Filter[] | undefined): void {
  for (const filter of filters ?? []) {
    const values = (filter.Values ?? []).filter((v) => !/[*?]/.test(v));
    if (filter.Name === 'group-id') checkIds('sg', Errors.groupId, values);
    if (filter.Name === 'security-group-rule-id') checkIds('sgr', Errors.securityGroupRuleId, values);
  }
}

// Ids never contain a space: a filter value that can match no row (PostgreSQL refuses a NUL in text).
const NO_MATCH = ' ';

/**
 * Filters DescribeSecurityGroups answers that are not plain columns, rewritten onto ones that
 * are: `*.group-name` becomes the ids of the named groups, `*.user-id` (referenced groups are
 * always the caller's) any referenced group or none, and protocol numbers their names.
 */
async function rewriteGroupFilters(ctx: Context, filters: readonly Filter[] | undefined): Promise<Filter[]> {
  const out: Filter[] = [];
  for (const filter of filters ?? []) {
    const name = filter.Name ?? '';
    const values = filter.Values ?? [];
    const prefix = name.startsWith('egress.ip-permission.') ? 'egress.ip-permission.' : name.startsWith('ip-permission.') ? 'ip-permission.' : undefined;
    if (prefix === undefined || !values.length) {
      out.push(filter);
      continue;
    }
    const field = name.slice(prefix.length);
    if (field === 'group-name') out.push({ Name: `${prefix}group-id`, Values: await groupIdsNamed(ctx, values) });
    else if (field === 'user-id') out.push({ Name: `${prefix}group-id`, Values: userIdMatches(ctx, values) ? ['sg-*'] : [NO_MATCH] });
    else if (field === 'protocol') out.push({ Name: name, Values: values.map(protocolFilterValue) });
    else out.push(filter);
  }
  return out;
}

async function groupIdsNamed(ctx: Context, names: string[]): Promise<string[]> {
  const params: unknown[] = [ctx.account, ctx.region];
  const named = filterPredicate({ table: 'security_groups', spec: { name: { column: 'group_name' } } }, { Name: 'name', Values: names }, params);
  const rows = await selectRows<{ id: string }>(ctx.tx, `select "id" from "security_groups" where "account_id" = ? and "region" = ? and ${named}`, params);
  return rows.length ? rows.map((r) => r.id) : [NO_MATCH];
}

function userIdMatches(ctx: Context, values: string[]): boolean {
  return values.some((v) => wildcardRegex(v).test(ctx.account));
}

function protocolFilterValue(value: string): string {
  try {
    return normaliseProtocol(value);
  } catch {
    return value;
  }
}

/** A rule's ports as IpPermission shows them: none for protocols that cover every port. */
function permissionPorts(row: RuleFields): { FromPort?: number; ToPort?: number } {
  return row.from_port === null ? {} : { FromPort: row.from_port, ToPort: row.to_port ?? undefined };
}

/** A rule as IpPermission needs it: its match, description and owner. */
type DescribedRule = RuleFields & { description: string | null; account_id: string };

type PermissionLists = Required<Pick<IpPermission, 'IpRanges' | 'Ipv6Ranges' | 'UserIdGroupPairs' | 'PrefixListIds'>>;

/** Rules grouped as AWS describes them: one IpPermission per (protocol, from port, to port). */
function ipPermissionsOf(rules: readonly DescribedRule[]): IpPermission[] {
  const byKey = new Map<string, IpPermission & PermissionLists>();
  for (const rule of rules) {
    const key = `${rule.ip_protocol}|${rule.from_port}|${rule.to_port}`;
    let permission = byKey.get(key);
    if (!permission) {
      permission = { IpProtocol: rule.ip_protocol, ...permissionPorts(rule), IpRanges: [], Ipv6Ranges: [], UserIdGroupPairs: [], PrefixListIds: [] };
      byKey.set(key, permission);
    }
    const description = rule.description ?? undefined;
    if (rule.cidr_ipv4 !== null) permission.IpRanges.push({ CidrIp: rule.cidr_ipv4, Description: description });
    if (rule.cidr_ipv6 !== null) permission.Ipv6Ranges.push({ CidrIpv6: rule.cidr_ipv6, Description: description });
    if (rule.prefix_list_id !== null) permission.PrefixListIds.push({ PrefixListId: rule.prefix_list_id, Description: description });
    // Groups are only ever referenced within the caller's account.
    if (rule.referenced_group_id !== null) {
      permission.UserIdGroupPairs.push({ GroupId: rule.referenced_group_id, UserId: rule.account_id, Description: description });
    }
  }
  return [...byKey.values()];
}

/** The SecurityGroup items of a page: rules and tags loaded in one query each. */
async function securityGroupsOf(tx: Tx, rows: Row<'security_groups'>[]): Promise<SecurityGroup[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const [tags, rules] = await inOrder(
    () => tagsOf(tx, ids),
    () => tx.selectFrom('security_group_rules').selectAll().where('group_id', 'in', ids).orderBy('group_id').orderBy('created_at').orderBy('id').execute(),
  );
  const rulesOf = new Map<string, Row<'security_group_rules'>[]>(ids.map((id) => [id, []]));
  for (const rule of rules) rulesOf.get(rule.group_id)?.push(rule);
  return rows.map((row) => {
    const mine = rulesOf.get(row.id) ?? [];
    return {
      GroupId: row.id,
      GroupName: row.group_name,
      Description: row.description,
      VpcId: row.vpc_id,
      OwnerId: row.account_id,
      SecurityGroupArn: groupArn(row),
      IpPermissions: ipPermissionsOf(mine.filter((r) => r.is_egress === 0)),
      IpPermissionsEgress: ipPermissionsOf(mine.filter((r) => r.is_egress === 1)),
      Tags: tags.get(row.id) ?? [],
    };
  });
}

/** GroupNames resolve in the default VPC only (AWS: use the group-name filter elsewhere). */
async function groupIdsOfNames(ctx: Context, names: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) ids.push((await getGroupInDefaultVpc(ctx, name)).id);
  return ids;
}

export async function describeSecurityGroups(ctx: Context, input: DescribeSecurityGroupsRequest): Promise<DescribeSecurityGroupsResult> {
  checkIds('sg', Errors.groupId, input.GroupIds ?? []);
  const ids = [...(input.GroupIds ?? []), ...(await groupIdsOfNames(ctx, input.GroupNames ?? []))];
  const page = await describeRows<Row<'security_groups'>>(ctx.tx, {
    table: 'security_groups',
    account: ctx.account,
    region: ctx.region,
    ids: ids.length ? ids : undefined,
    idErrors: Errors.groupId,
    filters: await rewriteGroupFilters(ctx, input.Filters),
    spec: GROUP_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { SecurityGroups: await securityGroupsOf(ctx.tx, page.rows), NextToken: page.nextToken };
}

function securityGroupRuleOf(row: Row<'security_group_rules'>, tags: Tag[]): SecurityGroupRule {
  return {
    SecurityGroupRuleId: row.id,
    GroupId: row.group_id,
    GroupOwnerId: row.account_id,
    IsEgress: row.is_egress === 1,
    IpProtocol: row.ip_protocol,
    // Unlike IpPermission, a rule always states its ports: -1 when it covers them all.
    FromPort: row.from_port ?? -1,
    ToPort: row.to_port ?? -1,
    CidrIpv4: row.cidr_ipv4 ?? undefined,
    CidrIpv6: row.cidr_ipv6 ?? undefined,
    PrefixListId: row.prefix_list_id ?? undefined,
    ReferencedGroupInfo: row.referenced_group_id === null ? undefined : { GroupId: row.referenced_group_id, UserId: row.account_id },
    Description: row.description ?? undefined,
    Tags: tags,
    SecurityGroupRuleArn: ruleArn(row),
  };
}

async function securityGroupRulesOf(tx: Tx, rows: Row<'security_group_rules'>[]): Promise<SecurityGroupRule[]> {
  const tags = await tagsOf(tx, rows.map((r) => r.id));
  return rows.map((row) => securityGroupRuleOf(row, tags.get(row.id) ?? []));
}

export async function describeSecurityGroupRules(
  ctx: Context,
  input: DescribeSecurityGroupRulesRequest,
): Promise<DescribeSecurityGroupRulesResult> {
  checkIds('sgr', Errors.securityGroupRuleId, input.SecurityGroupRuleIds ?? []);
  checkRuleFilterIds(input.Filters);
  const page = await describeRows<Row<'security_group_rules'>>(ctx.tx, {
    table: 'security_group_rules',
    account: ctx.account,
    region: ctx.region,
    ids: input.SecurityGroupRuleIds,
    idErrors: Errors.securityGroupRuleId,
    filters: input.Filters,
    spec: RULE_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { SecurityGroupRules: await securityGroupRulesOf(ctx.tx, page.rows), NextToken: page.nextToken };
}

// ---------------------------------------------------------------------------------------------
// Authorize and revoke
// ---------------------------------------------------------------------------------------------

/**
 * Resolves the group peers of requested rules. AWS: a referenced group must be the caller's
 * and, without VPC peering (which eni-local does not model), in the same VPC; a name is looked
 * up in that VPC.
 */
async function resolveRules(ctx: Context, group: Row<'security_groups'>, requested: readonly RequestedRule[]): Promise<NewRule[]> {
  const pairs = requested.flatMap((r) => (r.peer.kind === 'group' ? [r.peer.pair] : []));
  const byId = new Map<string, Row<'security_groups'>>();
  const ids = [...new Set(pairs.flatMap((p) => (p.GroupId === undefined ? [] : [p.GroupId])))];
  checkIds('sg', Errors.groupId, ids);
  if (ids.length) {
    const rows = await ctx.tx
      .selectFrom('security_groups')
      .selectAll()
      .where('id', 'in', ids)
      .where('account_id', '=', ctx.account)
      .where('region', '=', ctx.region)
      .execute();
    for (const row of rows) byId.set(row.id, row);
  }
  const out: NewRule[] = [];
  for (const rule of requested) {
    const fields: RuleFields = { ip_protocol: rule.ip_protocol, from_port: rule.from_port, to_port: rule.to_port, cidr_ipv4: null, cidr_ipv6: null, referenced_group_id: null, prefix_list_id: null };
    if (rule.peer.kind === 'ipv4') fields.cidr_ipv4 = rule.peer.cidr;
    else if (rule.peer.kind === 'ipv6') fields.cidr_ipv6 = rule.peer.cidr;
    else if (rule.peer.kind === 'prefix-list') fields.prefix_list_id = (await getPrefixList(ctx, rule.peer.id, 'PrefixListId')).id;
    else fields.referenced_group_id = await referencedGroupId(ctx, group, rule.peer.pair, byId);
    out.push({ fields, description: rule.description });
  }
  return out;
}

async function referencedGroupId(ctx: Context, group: Row<'security_groups'>, pair: UserIdGroupPair, byId: Map<string, Row<'security_groups'>>): Promise<string> {
  const named = pair.GroupId ?? pair.GroupName ?? '';
  if (pair.UserId !== undefined && pair.UserId !== ctx.account) throw Errors.groupId.notFound(named);
  if (pair.GroupId !== undefined) {
    const row = byId.get(pair.GroupId);
    if (!row || row.vpc_id !== group.vpc_id) throw Errors.groupId.notFound(pair.GroupId);
    return row.id;
  }
  const row = await findGroupByName(ctx, group.vpc_id, named);
  if (!row) throw Errors.invalidGroupNameNotFound(named);
  return row.id;
}

/** The rules of a request, canonical and resolved; AWS refuses the same rule twice in one call. */
async function rulesOfRequest(ctx: Context, group: Row<'security_groups'>, permissions: readonly IpPermission[]): Promise<NewRule[]> {
  const rules = await resolveRules(ctx, group, requestedRules(permissions));
  const seen = new Set<string>();
  for (const rule of rules) {
    const key = ruleKey(rule.fields);
    if (seen.has(key)) throw Errors.invalidParameterValue('The same permission must not appear multiple times');
    seen.add(key);
  }
  return rules;
}

async function existingRules(ctx: Context, groupId: string, direction: Direction): Promise<Row<'security_group_rules'>[]> {
  return ctx.tx
    .selectFrom('security_group_rules')
    .selectAll()
    .where('group_id', '=', groupId)
    .where('is_egress', '=', direction === 'egress' ? 1 : 0)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/**
 * AWS: 60 rules per group and direction, counted separately for IPv4 and IPv6; a rule that
 * references a group counts once in each; a rule that references a prefix list counts as the
 * list's MaxEntries in the list's family.
 */
async function checkRuleQuota(ctx: Context, rules: readonly RuleFields[]): Promise<void> {
  const sizes = await sizesOf(ctx.tx, ctx.region, rules.flatMap((r) => (r.prefix_list_id === null ? [] : [r.prefix_list_id])));
  let ipv4 = 0;
  let ipv6 = 0;
  for (const rule of rules) {
    const list = rule.prefix_list_id === null ? undefined : sizes.get(rule.prefix_list_id);
    if (list) {
      if (list.addressFamily === 'IPv6') ipv6 += list.maxEntries;
      else ipv4 += list.maxEntries;
      continue;
    }
    if (rule.cidr_ipv6 === null) ipv4++;
    if (rule.cidr_ipv4 === null) ipv6++;
  }
  const max = ctx.config.quotas.rulesPerSecurityGroup;
  if (ipv4 > max || ipv6 > max) throw Errors.rulesPerSecurityGroupLimitExceeded();
}

interface RuleChangeRequest extends FlatPermission {
  GroupId?: string;
  GroupName?: string;
  IpPermissions?: IpPermission[];
  TagSpecifications?: TagSpecification[];
  SecurityGroupRuleIds?: string[];
}

async function authorize(ctx: Context, input: RuleChangeRequest, direction: Direction): Promise<AuthorizeSecurityGroupIngressResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['security-group-rule']);
  const group = await targetGroup(ctx, input);
  const permissions = permissionsOf(input, direction);
  if (!permissions.length) throw Errors.missingParameter('IpPermissions');
  const rules = await rulesOfRequest(ctx, group, permissions);
  const existing = await existingRules(ctx, group.id, direction);
  const existingKeys = new Set(existing.map((r) => r.rule_key));
  const duplicate = rules.find((r) => existingKeys.has(ruleKey(r.fields)));
  if (duplicate) throw Errors.invalidPermissionDuplicate(`the specified rule "${ruleText(duplicate.fields)}" already exists`);
  await checkRuleQuota(ctx, [...existing, ...rules.map((r) => r.fields)]);
  const ids = await insertRules(ctx, group.id, direction, rules);
  for (const id of ids) await applyTagSpecifications(ctx, 'security-group-rule', id, input.TagSpecifications);
  const rows = await ctx.tx.selectFrom('security_group_rules').selectAll().where('id', 'in', ids).execute();
  const order = new Map(ids.map((id, i) => [id, i]));
  rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return { Return: true, SecurityGroupRules: await securityGroupRulesOf(ctx.tx, rows) };
}

export async function authorizeSecurityGroupIngress(
  ctx: Context,
  input: AuthorizeSecurityGroupIngressRequest,
): Promise<AuthorizeSecurityGroupIngressResult> {
  return authorize(ctx, input, 'ingress');
}

export async function authorizeSecurityGroupEgress(
  ctx: Context,
  input: AuthorizeSecurityGroupEgressRequest,
): Promise<AuthorizeSecurityGroupEgressResult> {
  return authorize(ctx, input, 'egress');
}

/** A revoked rule as RevokeSecurityGroup… lists it: the rule's fields, its referenced group by id only. */
function revokedRuleOf(row: Row<'security_group_rules'>): RevokedSecurityGroupRule {
  const { GroupOwnerId: _owner, ReferencedGroupInfo, Tags: _tags, SecurityGroupRuleArn: _arn, ...fields } = securityGroupRuleOf(row, []);
  return { ...fields, ReferencedGroupId: ReferencedGroupInfo?.GroupId };
}

/** The rules a revoke names by id: every id must be a rule of this group and direction. */
function rulesById(existing: readonly Row<'security_group_rules'>[], ids: readonly string[]): Row<'security_group_rules'>[] {
  checkIds('sgr', Errors.securityGroupRuleId, ids);
  const byId = new Map(existing.map((r) => [r.id, r]));
  return [...new Set(ids)].map((id) => {
    const row = byId.get(id);
    if (!row) throw Errors.securityGroupRuleId.notFound(id);
    return row;
  });
}

/**
 * The rules a revoke names by permission, and those it names that do not exist. AWS: in a
 * default VPC unknown rules are reported and the rest revoked; elsewhere one unknown rule fails
 * the whole call with InvalidPermission.NotFound.
 */
async function rulesByPermission(
  ctx: Context,
  group: Row<'security_groups'>,
  existing: readonly Row<'security_group_rules'>[],
  permissions: readonly IpPermission[],
): Promise<{ found: Row<'security_group_rules'>[]; unknown: NewRule[] }> {
  const byKey = new Map(existing.map((r) => [r.rule_key, r]));
  const found: Row<'security_group_rules'>[] = [];
  const unknown: NewRule[] = [];
  for (const rule of await resolveRules(ctx, group, requestedRules(permissions))) {
    const row = byKey.get(ruleKey(rule.fields));
    if (row) {
      if (!found.includes(row)) found.push(row);
    } else unknown.push(rule);
  }
  if (unknown.length && group.vpc_id !== (await defaultVpcId(ctx))) {
    throw Errors.invalidPermissionNotFound('The specified rule does not exist in this security group.');
  }
  return { found, unknown };
}

async function revoke(ctx: Context, input: RuleChangeRequest, direction: Direction): Promise<RevokeSecurityGroupIngressResult> {
  const group = await targetGroup(ctx, input);
  const byIds = input.SecurityGroupRuleIds ?? [];
  const permissions = permissionsOf(input, direction);
  if (byIds.length && permissions.length) {
    throw Errors.invalidParameterCombination('SecurityGroupRuleIds cannot be used together with IpPermissions.');
  }
  if (!byIds.length && !permissions.length) throw Errors.missingParameter('IpPermissions');
  const existing = await existingRules(ctx, group.id, direction);
  const { found, unknown } = byIds.length
    ? { found: rulesById(existing, byIds), unknown: [] }
    : await rulesByPermission(ctx, group, existing, permissions);
  const ids = found.map((r) => r.id);
  if (ids.length) {
    await ctx.tx.deleteFrom('tags').where('resource_id', 'in', ids).execute();
    await ctx.tx.deleteFrom('security_group_rules').where('id', 'in', ids).execute();
  }
  return {
    Return: true,
    UnknownIpPermissions: unknown.length ? ipPermissionsOf(unknown.map((r) => ({ ...r.fields, description: r.description, account_id: ctx.account }))) : undefined,
    RevokedSecurityGroupRules: found.map(revokedRuleOf),
  };
}

export async function revokeSecurityGroupIngress(ctx: Context, input: RevokeSecurityGroupIngressRequest): Promise<RevokeSecurityGroupIngressResult> {
  return revoke(ctx, input, 'ingress');
}

export async function revokeSecurityGroupEgress(ctx: Context, input: RevokeSecurityGroupEgressRequest): Promise<RevokeSecurityGroupEgressResult> {
  return revoke(ctx, input, 'egress');
}

// ---------------------------------------------------------------------------------------------
// Rules as objects: ModifySecurityGroupRules, UpdateSecurityGroupRuleDescriptionsIngress/Egress
// ---------------------------------------------------------------------------------------------

/** The one rule a SecurityGroupRuleRequest describes, as an IpPermission with one peer. */
function permissionOfRuleRequest(request: SecurityGroupRuleRequest | undefined, at: string): IpPermission {
  if (request === undefined) throw Errors.missingParameter(`${at}.SecurityGroupRule`);
  const peers = [request.CidrIpv4, request.CidrIpv6, request.PrefixListId, request.ReferencedGroupId].filter((v) => v !== undefined);
  if (peers.length === 0) throw Errors.missingParameter(`${at}.SecurityGroupRule.CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupId`);
  if (peers.length > 1) {
    throw Errors.invalidParameterCombination('A security group rule has exactly one of CidrIpv4, CidrIpv6, PrefixListId and ReferencedGroupId.');
  }
  const description = request.Description;
  return {
    IpProtocol: request.IpProtocol,
    FromPort: request.FromPort,
    ToPort: request.ToPort,
    IpRanges: request.CidrIpv4 !== undefined ? [{ CidrIp: request.CidrIpv4, Description: description }] : undefined,
    Ipv6Ranges: request.CidrIpv6 !== undefined ? [{ CidrIpv6: request.CidrIpv6, Description: description }] : undefined,
    PrefixListIds: request.PrefixListId !== undefined ? [{ PrefixListId: request.PrefixListId, Description: description }] : undefined,
    UserIdGroupPairs: request.ReferencedGroupId !== undefined ? [{ GroupId: request.ReferencedGroupId, Description: description }] : undefined,
  };
}

const RULES_OF_GROUP = 'select * from "security_group_rules" where "group_id" = ? order by "created_at", "id"';

/**
 * AWS: each named rule of the group is replaced by the rule given (protocol, ports, peer and
 * description: what is not given is not kept); the rule keeps its id, direction and tags.
 */
export async function modifySecurityGroupRules(ctx: Context, input: ModifySecurityGroupRulesRequest): Promise<ModifySecurityGroupRulesResult> {
  const group = await getSecurityGroup(ctx, input.GroupId);
  const updates = input.SecurityGroupRules ?? [];
  if (!updates.length) throw Errors.missingParameter('SecurityGroupRule');
  const rules = await selectRows<Row<'security_group_rules'>>(ctx.tx, RULES_OF_GROUP, [group.id]);
  const byId = new Map(rules.map((r) => [r.id, r]));
  for (const [i, update] of updates.entries()) {
    const at = `SecurityGroupRule.${i + 1}`;
    if (update.SecurityGroupRuleId === undefined) throw Errors.missingParameter(`${at}.SecurityGroupRuleId`);
    checkIds('sgr', Errors.securityGroupRuleId, [update.SecurityGroupRuleId]);
    const row = byId.get(update.SecurityGroupRuleId);
    if (!row) throw Errors.securityGroupRuleId.notFound(update.SecurityGroupRuleId);
    const [rule] = await resolveRules(ctx, group, requestedRules([permissionOfRuleRequest(update.SecurityGroupRule, at)]));
    const key = ruleKey(rule.fields);
    const duplicate = [...byId.values()].find((r) => r.id !== row.id && r.is_egress === row.is_egress && r.rule_key === key);
    if (duplicate) throw Errors.invalidPermissionDuplicate(`the specified rule "${ruleText(rule.fields)}" already exists`);
    const replaced = { ...row, ...rule.fields, description: rule.description, rule_key: key };
    byId.set(row.id, replaced);
    await checkRuleQuota(ctx, [...byId.values()].filter((r) => r.is_egress === row.is_egress));
    await ctx.tx
      .updateTable('security_group_rules')
      .set({ ...rule.fields, description: rule.description, rule_key: key })
      .where('id', '=', row.id)
      .execute();
  }
  return { Return: true };
}

interface DescriptionUpdateRequest {
  GroupId?: string;
  GroupName?: string;
  IpPermissions?: IpPermission[];
  SecurityGroupRuleDescriptions?: SecurityGroupRuleDescription[];
}

/**
 * AWS: the rules named (by permission, or by id with SecurityGroupRuleDescriptions) get the
 * descriptions given; a permission without a description clears it; a rule that does not exist
 * fails the call with InvalidPermission.NotFound (by id: InvalidSecurityGroupRuleId.NotFound).
 */
async function updateDescriptions(ctx: Context, input: DescriptionUpdateRequest, direction: Direction): Promise<{ Return: boolean }> {
  const group = await targetGroup(ctx, input);
  const permissions = input.IpPermissions ?? [];
  const byIds = input.SecurityGroupRuleDescriptions ?? [];
  if (permissions.length && byIds.length) {
    throw Errors.invalidParameterCombination('SecurityGroupRuleDescriptions cannot be used together with IpPermissions.');
  }
  if (!permissions.length && !byIds.length) throw Errors.missingParameter('IpPermissions');
  const existing = await existingRules(ctx, group.id, direction);
  const changes: { id: string; description: string | null }[] = [];
  if (byIds.length) {
    const rows = rulesById(existing, byIds.map((d, i) => d.SecurityGroupRuleId ?? missing(`SecurityGroupRuleDescription.${i + 1}.SecurityGroupRuleId`)));
    for (const row of rows) changes.push({ id: row.id, description: ruleDescription(byIds.find((d) => d.SecurityGroupRuleId === row.id)!.Description) });
  } else {
    const byKey = new Map(existing.map((r) => [r.rule_key, r]));
    for (const rule of await resolveRules(ctx, group, requestedRules(permissions))) {
      const row = byKey.get(ruleKey(rule.fields));
      if (!row) throw Errors.invalidPermissionNotFound('The specified rule does not exist in this security group.');
      changes.push({ id: row.id, description: rule.description });
    }
  }
  for (const change of changes) {
    await ctx.tx.updateTable('security_group_rules').set({ description: change.description }).where('id', '=', change.id).execute();
  }
  return { Return: true };
}

function missing(parameter: string): never {
  throw Errors.missingParameter(parameter);
}

export async function updateSecurityGroupRuleDescriptionsIngress(
  ctx: Context,
  input: UpdateSecurityGroupRuleDescriptionsIngressRequest,
): Promise<UpdateSecurityGroupRuleDescriptionsIngressResult> {
  return updateDescriptions(ctx, input, 'ingress');
}

export async function updateSecurityGroupRuleDescriptionsEgress(
  ctx: Context,
  input: UpdateSecurityGroupRuleDescriptionsEgressRequest,
): Promise<UpdateSecurityGroupRuleDescriptionsEgressResult> {
  return updateDescriptions(ctx, input, 'egress');
}
