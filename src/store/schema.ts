/**
 * The tables of the store, as Kysely sees them. Every resource row carries the account and
 * region that own it; booleans are stored as 0/1 integers and times as ISO-8601 text so that
 * SQLite and PostgreSQL share one set of queries.
 */
import type { Generated, Insertable, Selectable, Transaction, Kysely } from 'kysely';

export interface Scoped {
  account_id: string;
  region: string;
}

export interface VpcTable extends Scoped {
  id: string;
  cidr_block: string;
  state: string;
  is_default: number;
  instance_tenancy: string;
  dhcp_options_id: string;
  enable_dns_support: number;
  enable_dns_hostnames: number;
  created_at: string;
}

export interface VpcCidrBlockTable extends Scoped {
  association_id: string;
  vpc_id: string;
  cidr_block: string;
  /** 4 or 6 */
  family: number;
  state: string;
  is_primary: number;
}

export interface TagTable extends Scoped {
  resource_id: string;
  resource_type: string;
  key: string;
  value: string;
}

export interface ClientTokenTable extends Scoped {
  action: string;
  token: string;
  /** A digest of the request's parameters, to answer IdempotentParameterMismatch. */
  request_hash: string;
  resource_id: string;
  created_at: string;
}

export interface AccountRegionTable extends Scoped {
  initialized_at: string;
}

export interface SubnetTable extends Scoped {
  id: string;
  vpc_id: string;
  cidr_block: string;
  /** The subnet's network and broadcast addresses as unsigned integers. */
  first_address: number;
  last_address: number;
  availability_zone: string;
  availability_zone_id: string;
  state: string;
  default_for_az: number;
  map_public_ip_on_launch: number;
  assign_ipv6_address_on_creation: number;
  /** Kept exact by the allocator in the same transaction as every allocation and release. */
  available_ip_address_count: number;
  created_at: string;
  ipv6_cidr_block: string | null;
  ipv6_association_id: string | null;
  /** Migration 016: an IPv6-only subnet (then `cidr_block` is '' and its range empty), and its hostname options at launch. */
  ipv6_native: Generated<number>;
  enable_dns64: Generated<number>;
  /** `ip-name` | `resource-name` */
  hostname_type: Generated<string>;
  resource_name_dns_a: Generated<number>;
  resource_name_dns_aaaa: Generated<number>;
}

export interface SubnetCidrReservationTable extends Scoped {
  id: string;
  subnet_id: string;
  vpc_id: string;
  cidr: string;
  /** 4 or 6 */
  family: number;
  /** `prefix` | `explicit` */
  reservation_type: string;
  description: string | null;
  /** The IPv4 range as unsigned integers; null for IPv6. */
  first_address: number | null;
  last_address: number | null;
  created_at: string;
}

export interface SubnetFreeRangeTable {
  subnet_id: string;
  first_address: number;
  last_address: number;
}

export interface SecurityGroupTable extends Scoped {
  id: string;
  vpc_id: string;
  group_name: string;
  description: string;
  is_vpc_default: number;
  created_at: string;
}

export interface SecurityGroupRuleTable extends Scoped {
  id: string;
  group_id: string;
  is_egress: number;
  ip_protocol: string;
  from_port: number | null;
  to_port: number | null;
  cidr_ipv4: string | null;
  cidr_ipv6: string | null;
  referenced_group_id: string | null;
  prefix_list_id: string | null;
  description: string | null;
  rule_key: string;
  created_at: string;
}

export interface InstanceTable extends Scoped {
  id: string;
  reservation_id: string;
  image_id: string;
  instance_type: string;
  key_name: string | null;
  state: string;
  transition_at: string | null;
  state_transition_reason: string;
  state_reason_code: string | null;
  state_reason_message: string | null;
  availability_zone: string;
  subnet_id: string;
  vpc_id: string;
  launch_time: string;
  ami_launch_index: number;
  client_token: string | null;
  disable_api_termination: number;
  disable_api_stop: number;
  shutdown_behavior: string;
  user_data: string | null;
  ebs_optimized: number;
  private_ip_address: string | null;
  impaired: Generated<number>;
  auto_public_ip: Generated<number>;
  terminated_at: string | null;
  created_at: string;
  /** The instance metadata options (migration 010): `optional`/`required`, 1–64, `enabled`/`disabled`. */
  metadata_http_tokens: Generated<string>;
  metadata_hop_limit: Generated<number>;
  metadata_http_endpoint: Generated<string>;
  metadata_http_ipv6: Generated<string>;
  metadata_tags: Generated<string>;
  /** `applied`, or `pending` while a change made on a stopped instance waits for its start. */
  metadata_options_state: Generated<string>;
  /** The hostname options (migration 016): `ip-name` | `resource-name`, and the resource-name DNS records. */
  hostname_type: Generated<string>;
  resource_name_dns_a: Generated<number>;
  resource_name_dns_aaaa: Generated<number>;
}

export interface NetworkInterfaceTable extends Scoped {
  id: string;
  vpc_id: string;
  subnet_id: string;
  availability_zone: string;
  availability_zone_id: string;
  description: string;
  mac_address: string;
  /** '' for an interface without IPv4 (in an IPv6-only subnet, migration 016). */
  private_ip_address: string;
  /** '' when the interface has no hostname (IPv6-only and not an instance's primary). */
  private_dns_name: string;
  status: string;
  client_token: string | null;
  source_dest_check: number;
  interface_type: string;
  requester_managed: number;
  requester_id: string | null;
  map_public_ip: number;
  created_at: string;
  attachment_id: string | null;
  instance_id: string | null;
  device_index: number | null;
  network_card_index: number | null;
  attach_time: string | null;
  delete_on_termination: number | null;
  attachment_status: string | null;
  attachment_transition_at: string | null;
  /** The account of the instance holding the interface when not its own: another account, or `amazon-aws` for a service's attachment. */
  instance_owner_id: string | null;
}

export interface PrivateIpAddressTable extends Scoped {
  vpc_id: string;
  address_int: number;
  address: string;
  subnet_id: string;
  network_interface_id: string;
  is_primary: number;
}

export interface NetworkInterfaceGroupTable {
  network_interface_id: string;
  group_id: string;
  position: number;
}

export interface KeyPairTable extends Scoped {
  id: string;
  key_name: string;
  key_type: string;
  key_fingerprint: string;
  public_key: string | null;
  created_at: string;
}

export interface EgressOnlyInternetGatewayTable extends Scoped {
  id: string;
  vpc_id: string;
  created_at: string;
}

export interface InternetGatewayTable extends Scoped {
  id: string;
  vpc_id: string | null;
  attachment_state: string | null;
  created_at: string;
}

export interface PublicAddressTable extends Scoped {
  public_ip: string;
  kind: 'elastic' | 'auto';
  allocation_id: string | null;
  domain: string;
  network_border_group: string;
  association_id: string | null;
  previous_association_id: string | null;
  network_interface_id: string | null;
  private_ip_address: string | null;
  vpc_id: string | null;
  created_at: string;
  /** The PTR record's domain name in effect (with its final dot); null: AWS's own name for the address. */
  ptr_domain_name: string | null;
  /** A PTR update in progress: the domain name ('' for a reset to AWS's name) and when it takes effect. */
  ptr_update_value: string | null;
  ptr_update_at: string | null;
}

export interface Ipv4PrefixTable extends Scoped {
  vpc_id: string;
  first_address: number;
  prefix: string;
  subnet_id: string;
  network_interface_id: string;
}

export interface Ipv6AddressTable extends Scoped {
  vpc_id: string;
  /** canonical text (RFC 5952); for a prefix, the /80 in CIDR form */
  address: string;
  kind: 'address' | 'prefix';
  subnet_id: string;
  network_interface_id: string;
  is_primary: number;
}

export interface RouteTableTable extends Scoped {
  id: string;
  vpc_id: string;
  is_main: number;
  created_at: string;
}

export interface RouteTableRouteTable {
  route_table_id: string;
  destination: string;
  family: number;
  gateway_id: string | null;
  network_interface_id: string | null;
  nat_gateway_id: string | null;
  egress_only_internet_gateway_id: string | null;
  origin: string;
}

export interface RouteTableAssociationTable {
  id: string;
  route_table_id: string;
  subnet_id: string | null;
  is_main: number;
}

export interface NetworkAclTable extends Scoped {
  id: string;
  vpc_id: string;
  is_default: number;
  created_at: string;
}

export interface NetworkAclEntryTable {
  network_acl_id: string;
  egress: number;
  rule_number: number;
  protocol: string;
  rule_action: string;
  cidr_block: string | null;
  ipv6_cidr_block: string | null;
  port_from: number | null;
  port_to: number | null;
  icmp_type: number | null;
  icmp_code: number | null;
}

export interface NetworkAclAssociationTable {
  id: string;
  network_acl_id: string;
  subnet_id: string;
}

export interface FlowLogTable extends Scoped {
  id: string;
  resource_id: string;
  resource_type: string;
  traffic_type: string;
  log_destination_type: string;
  log_destination: string | null;
  log_group_name: string | null;
  log_format: string;
  max_aggregation_interval: number;
  created_at: string;
}

export interface FlowLogRecordTable {
  flow_log_id: string;
  seq: number;
  line: string;
}

export interface InsightsTable extends Scoped {
  id: string;
  /** the SDK-shaped resource as JSON */
  body: string;
  created_at: string;
}

export interface NatGatewayTable extends Scoped {
  id: string;
  vpc_id: string;
  subnet_id: string;
  availability_zone: string;
  connectivity_type: string;
  state: string;
  transition_at: string | null;
  failure_code: string | null;
  failure_message: string | null;
  network_interface_id: string | null;
  /** JSON: the gateway's addresses (see nat-gateways.ts). */
  addresses: string;
  created_at: string;
  deleted_at: string | null;
}

export interface VpcEndpointTable extends Scoped {
  id: string;
  vpc_id: string;
  service_name: string;
  endpoint_type: string;
  state: string;
  policy_document: string | null;
  private_dns_enabled: number;
  ip_address_type: string;
  dns_record_ip_type: string;
  created_at: string;
}

export interface VpcEndpointSubnetTable {
  vpc_endpoint_id: string;
  subnet_id: string;
  network_interface_id: string;
}

export interface VpcEndpointGroupTable {
  vpc_endpoint_id: string;
  group_id: string;
  position: number;
}

export interface VpcEndpointRouteTableTable {
  vpc_endpoint_id: string;
  route_table_id: string;
}

export interface NetworkInterfacePermissionTable extends Scoped {
  id: string;
  network_interface_id: string;
  aws_account_id: string | null;
  aws_service: string | null;
  permission: string;
  state: string;
  created_at: string;
}

export interface ManagedPrefixListTable extends Scoped {
  id: string;
  name: string;
  /** IPv4 or IPv6 */
  address_family: string;
  max_entries: number;
  version: number;
  state: string;
  state_message: string | null;
  created_at: string;
}

export interface ManagedPrefixListEntryTable {
  prefix_list_id: string;
  cidr: string;
  description: string | null;
  /** The entry belongs to versions added_version ≤ v < removed_version (null: still current). */
  added_version: number;
  removed_version: number | null;
}

export interface LaunchTemplateTable extends Scoped {
  id: string;
  name: string;
  default_version: number;
  latest_version: number;
  created_at: string;
}

export interface LaunchTemplateVersionTable {
  launch_template_id: string;
  version_number: number;
  description: string | null;
  /** JSON: the version's LaunchTemplateData, as the API answers it. */
  data: string;
  created_at: string;
}

export interface DhcpOptionsTable extends Scoped {
  id: string;
  created_at: string;
}

export interface DhcpOptionValueTable {
  dhcp_options_id: string;
  key: string;
  value: string;
  position: number;
}

export interface ResourceCountTable extends Scoped {
  kind: string;
  count: number;
}

/** Lower bounds of each scope's next transition and first termination (migration 020; kept low by triggers, raised by settling). */
export interface DueScopeTable extends Scoped {
  due_at: string | null;
  terminated_at: string | null;
}

export interface Database {
  vpcs: VpcTable;
  vpc_cidr_blocks: VpcCidrBlockTable;
  tags: TagTable;
  client_tokens: ClientTokenTable;
  account_regions: AccountRegionTable;
  subnets: SubnetTable;
  subnet_free_ranges: SubnetFreeRangeTable;
  subnet_cidr_reservations: SubnetCidrReservationTable;
  security_groups: SecurityGroupTable;
  security_group_rules: SecurityGroupRuleTable;
  instances: InstanceTable;
  network_interfaces: NetworkInterfaceTable;
  private_ip_addresses: PrivateIpAddressTable;
  network_interface_groups: NetworkInterfaceGroupTable;
  key_pairs: KeyPairTable;
  internet_gateways: InternetGatewayTable;
  egress_only_internet_gateways: EgressOnlyInternetGatewayTable;
  public_addresses: PublicAddressTable;
  ipv4_prefixes: Ipv4PrefixTable;
  ipv6_addresses: Ipv6AddressTable;
  route_tables: RouteTableTable;
  routes: RouteTableRouteTable;
  route_table_associations: RouteTableAssociationTable;
  network_acls: NetworkAclTable;
  network_acl_entries: NetworkAclEntryTable;
  network_acl_associations: NetworkAclAssociationTable;
  flow_logs: FlowLogTable;
  flow_log_records: FlowLogRecordTable;
  network_insights_paths: InsightsTable;
  network_insights_analyses: InsightsTable & { path_id: string };
  resource_counts: ResourceCountTable;
  due_scopes: DueScopeTable;
  nat_gateways: NatGatewayTable;
  vpc_endpoints: VpcEndpointTable;
  vpc_endpoint_subnets: VpcEndpointSubnetTable;
  vpc_endpoint_groups: VpcEndpointGroupTable;
  vpc_endpoint_route_tables: VpcEndpointRouteTableTable;
  network_interface_permissions: NetworkInterfacePermissionTable;
  managed_prefix_lists: ManagedPrefixListTable;
  managed_prefix_list_entries: ManagedPrefixListEntryTable;
  launch_templates: LaunchTemplateTable;
  launch_template_versions: LaunchTemplateVersionTable;
  dhcp_options: DhcpOptionsTable;
  dhcp_option_values: DhcpOptionValueTable;
}

export type Tx = Transaction<Database> | Kysely<Database>;
export type Row<T extends keyof Database> = Selectable<Database[T]>;
export type NewRow<T extends keyof Database> = Insertable<Database[T]>;
export type { Generated };
