/**
 * The taggable resource kinds: how an id's prefix names its kind, table and errors. CreateTags,
 * DeleteTags, DescribeTags and TagSpecifications find resources through this one table.
 * A new kind of resource is taggable once it has a line here.
 */
import { Errors, type IdErrors } from './errors.ts';
import type { Database } from '../store/schema.ts';
import { isIdOf } from './rules/ids.ts';

export interface ResourceKind {
  /** The id prefix, e.g. `vpc` for `vpc-0a1b…`. */
  prefix: string;
  /** The TagSpecification / DescribeTags resource type, e.g. `vpc`, `network-interface`. */
  resourceType: string;
  table: keyof Database;
  idColumn: string;
  errors: IdErrors;
}

export const RESOURCE_KINDS: readonly ResourceKind[] = [
  { prefix: 'vpc', resourceType: 'vpc', table: 'vpcs', idColumn: 'id', errors: Errors.vpcId },
  { prefix: 'subnet', resourceType: 'subnet', table: 'subnets', idColumn: 'id', errors: Errors.subnetId },
  { prefix: 'scr', resourceType: 'subnet-cidr-reservation', table: 'subnet_cidr_reservations', idColumn: 'id', errors: Errors.subnetCidrReservationId },
  { prefix: 'sg', resourceType: 'security-group', table: 'security_groups', idColumn: 'id', errors: Errors.groupId },
  { prefix: 'sgr', resourceType: 'security-group-rule', table: 'security_group_rules', idColumn: 'id', errors: Errors.securityGroupRuleId },
  { prefix: 'i', resourceType: 'instance', table: 'instances', idColumn: 'id', errors: Errors.instanceId },
  { prefix: 'eni', resourceType: 'network-interface', table: 'network_interfaces', idColumn: 'id', errors: Errors.networkInterfaceId },
  { prefix: 'key', resourceType: 'key-pair', table: 'key_pairs', idColumn: 'id', errors: Errors.keyPairId },
  { prefix: 'eipalloc', resourceType: 'elastic-ip', table: 'public_addresses', idColumn: 'allocation_id', errors: Errors.allocationId },
  { prefix: 'rtb', resourceType: 'route-table', table: 'route_tables', idColumn: 'id', errors: Errors.routeTableId },
  { prefix: 'acl', resourceType: 'network-acl', table: 'network_acls', idColumn: 'id', errors: Errors.networkAclId },
  { prefix: 'fl', resourceType: 'vpc-flow-log', table: 'flow_logs', idColumn: 'id', errors: Errors.flowLogId },
  { prefix: 'nip', resourceType: 'network-insights-path', table: 'network_insights_paths', idColumn: 'id', errors: Errors.networkInsightsPathId },
  { prefix: 'nia', resourceType: 'network-insights-analysis', table: 'network_insights_analyses', idColumn: 'id', errors: Errors.networkInsightsAnalysisId },
  { prefix: 'igw', resourceType: 'internet-gateway', table: 'internet_gateways', idColumn: 'id', errors: Errors.internetGatewayId },
  { prefix: 'eigw', resourceType: 'egress-only-internet-gateway', table: 'egress_only_internet_gateways', idColumn: 'id', errors: Errors.egressOnlyInternetGatewayId },
  { prefix: 'nat', resourceType: 'natgateway', table: 'nat_gateways', idColumn: 'id', errors: Errors.natGatewayId },
  { prefix: 'vpce', resourceType: 'vpc-endpoint', table: 'vpc_endpoints', idColumn: 'id', errors: Errors.vpcEndpointId },
  { prefix: 'lt', resourceType: 'launch-template', table: 'launch_templates', idColumn: 'id', errors: { malformed: Errors.launchTemplateIdMalformed, notFound: Errors.launchTemplateIdNotFound } },
  { prefix: 'dopt', resourceType: 'dhcp-options', table: 'dhcp_options', idColumn: 'id', errors: Errors.dhcpOptionsId },
  { prefix: 'pl', resourceType: 'prefix-list', table: 'managed_prefix_lists', idColumn: 'id', errors: Errors.prefixListId },
];

// Longest prefix first, so that `eni-attach-` never passes for `eni-`.
const BY_PREFIX = [...RESOURCE_KINDS].sort((a, b) => b.prefix.length - a.prefix.length);

export function kindOfId(id: string): ResourceKind | undefined {
  return BY_PREFIX.find((k) => isIdOf(k.prefix, id));
}

export function kindOfType(resourceType: string): ResourceKind | undefined {
  return RESOURCE_KINDS.find((k) => k.resourceType === resourceType);
}
