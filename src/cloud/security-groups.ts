/**
 * Security groups: the VPC's default group, CreateSecurityGroup, DeleteSecurityGroup,
 * DescribeSecurityGroups, Authorize/Revoke ingress and egress, DescribeSecurityGroupRules,
 * and the checks an interface's group set must pass.
 */
import type { Context } from './context.ts';
import { newId } from './rules/ids.ts';

export interface RuleFields {
  ip_protocol: string;
  from_port: number | null;
  to_port: number | null;
  cidr_ipv4: string | null;
  cidr_ipv6: string | null;
  referenced_group_id: string | null;
  prefix_list_id: string | null;
}

/** The canonical text of a rule's match: two rules of one group and direction are duplicates when it is equal. */
export function ruleKey(rule: RuleFields): string {
  return [rule.ip_protocol, rule.from_port ?? '', rule.to_port ?? '', rule.cidr_ipv4 ?? '', rule.cidr_ipv6 ?? '', rule.referenced_group_id ?? '', rule.prefix_list_id ?? ''].join('|');
}

export async function insertRule(ctx: Context, groupId: string, isEgress: boolean, rule: RuleFields, description: string | null): Promise<string> {
  const id = newId('sgr');
  await ctx.tx
    .insertInto('security_group_rules')
    .values({
      id,
      account_id: ctx.account,
      region: ctx.region,
      group_id: groupId,
      is_egress: isEgress ? 1 : 0,
      ...rule,
      description,
      rule_key: ruleKey(rule),
      created_at: ctx.now.toISOString(),
    })
    .execute();
  return id;
}

const ALL_TRAFFIC = { ip_protocol: '-1', from_port: null, to_port: null, cidr_ipv4: null, cidr_ipv6: null, referenced_group_id: null, prefix_list_id: null };

/**
 * AWS: every VPC comes with a group named `default` that allows all inbound traffic from its own
 * members and all outbound traffic; it cannot be deleted while the VPC exists.
 */
export async function createDefaultSecurityGroup(ctx: Context, vpcId: string): Promise<string> {
  const id = newId('sg');
  await ctx.tx
    .insertInto('security_groups')
    .values({
      id,
      account_id: ctx.account,
      region: ctx.region,
      vpc_id: vpcId,
      group_name: 'default',
      description: 'default VPC security group',
      is_vpc_default: 1,
      created_at: ctx.now.toISOString(),
    })
    .execute();
  await insertRule(ctx, id, false, { ...ALL_TRAFFIC, referenced_group_id: id }, null);
  await insertRule(ctx, id, true, { ...ALL_TRAFFIC, cidr_ipv4: '0.0.0.0/0' }, null);
  return id;
}

/** Removes the VPC's default group with the VPC (the caller has checked nothing else uses it). */
export async function deleteDefaultSecurityGroup(ctx: Context, vpcId: string): Promise<void> {
  const groups = await ctx.tx.selectFrom('security_groups').select('id').where('vpc_id', '=', vpcId).execute();
  for (const { id } of groups) {
    await ctx.tx.deleteFrom('security_group_rules').where('group_id', '=', id).execute();
    await ctx.tx.deleteFrom('tags').where('resource_id', '=', id).execute();
  }
  await ctx.tx.deleteFrom('security_groups').where('vpc_id', '=', vpcId).execute();
}
