/** Security groups and their rules. */
import * as groups from '../../../cloud/security-groups.ts';
import type { ActionTable } from './types.ts';

export const securityGroupActions: ActionTable = {
  CreateSecurityGroup: groups.createSecurityGroup,
  DeleteSecurityGroup: groups.deleteSecurityGroup,
  DescribeSecurityGroups: groups.describeSecurityGroups,
  DescribeSecurityGroupRules: groups.describeSecurityGroupRules,
  AuthorizeSecurityGroupIngress: groups.authorizeSecurityGroupIngress,
  AuthorizeSecurityGroupEgress: groups.authorizeSecurityGroupEgress,
  RevokeSecurityGroupIngress: groups.revokeSecurityGroupIngress,
  RevokeSecurityGroupEgress: groups.revokeSecurityGroupEgress,
  ModifySecurityGroupRules: groups.modifySecurityGroupRules,
  UpdateSecurityGroupRuleDescriptionsIngress: groups.updateSecurityGroupRuleDescriptionsIngress,
  UpdateSecurityGroupRuleDescriptionsEgress: groups.updateSecurityGroupRuleDescriptionsEgress,
};
