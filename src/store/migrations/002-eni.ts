import { sql, type Kysely } from 'kysely';

/**
 * Subnets (with their free-address ranges), security groups and rules, instances, network
 * interfaces with their attachment, private IPv4 addresses and groups, key pairs, internet
 * gateways, and the record of which account/region has its default VPC.
 * The rules that must never break are constraints here: one private IPv4 per VPC, one MAC,
 * one interface per (instance, network card, device index), one group name per VPC.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const scoped = (name: string) =>
    db.schema
      .createTable(name)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('region', 'text', (c) => c.notNull());
  const scopeIndex = (table: string) =>
    db.schema.createIndex(`${table}_scope`).on(table).columns(['account_id', 'region', 'id']).execute();

  await db.schema
    .createTable('account_regions')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('initialized_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('account_regions_pk', ['account_id', 'region'])
    .execute();

  await scoped('subnets')
    .addColumn('vpc_id', 'text', (c) => c.notNull().references('vpcs.id'))
    .addColumn('cidr_block', 'text', (c) => c.notNull())
    .addColumn('first_address', 'bigint', (c) => c.notNull())
    .addColumn('last_address', 'bigint', (c) => c.notNull())
    .addColumn('availability_zone', 'text', (c) => c.notNull())
    .addColumn('availability_zone_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('default_for_az', 'integer', (c) => c.notNull())
    .addColumn('map_public_ip_on_launch', 'integer', (c) => c.notNull())
    .addColumn('assign_ipv6_address_on_creation', 'integer', (c) => c.notNull())
    .addColumn('available_ip_address_count', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await scopeIndex('subnets');
  await db.schema.createIndex('subnets_vpc').on('subnets').columns(['vpc_id', 'first_address']).execute();

  // The free IPv4 addresses of each subnet as disjoint ranges: allocation and release cost
  // O(log n) however full the subnet is (see src/ipam/allocator.ts).
  await db.schema
    .createTable('subnet_free_ranges')
    .addColumn('subnet_id', 'text', (c) => c.notNull().references('subnets.id').onDelete('cascade'))
    .addColumn('first_address', 'bigint', (c) => c.notNull())
    .addColumn('last_address', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('subnet_free_ranges_pk', ['subnet_id', 'first_address'])
    .execute();
  await db.schema.createIndex('subnet_free_ranges_last').on('subnet_free_ranges').columns(['subnet_id', 'last_address']).unique().execute();

  await scoped('security_groups')
    .addColumn('vpc_id', 'text', (c) => c.notNull().references('vpcs.id'))
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('is_vpc_default', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('security_groups_name', ['vpc_id', 'group_name'])
    .execute();
  await scopeIndex('security_groups');

  await scoped('security_group_rules')
    .addColumn('group_id', 'text', (c) => c.notNull().references('security_groups.id').onDelete('cascade'))
    .addColumn('is_egress', 'integer', (c) => c.notNull())
    .addColumn('ip_protocol', 'text', (c) => c.notNull())
    .addColumn('from_port', 'integer')
    .addColumn('to_port', 'integer')
    .addColumn('cidr_ipv4', 'text')
    .addColumn('cidr_ipv6', 'text')
    .addColumn('referenced_group_id', 'text')
    .addColumn('prefix_list_id', 'text')
    .addColumn('description', 'text')
    // protocol, ports and source/destination in one canonical string: a rule is a duplicate when this matches
    .addColumn('rule_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('security_group_rules_unique', ['group_id', 'is_egress', 'rule_key'])
    .execute();
  await db.schema.createIndex('security_group_rules_group').on('security_group_rules').columns(['group_id', 'is_egress']).execute();
  await db.schema.createIndex('security_group_rules_referenced').on('security_group_rules').columns(['referenced_group_id']).execute();

  await scoped('instances')
    .addColumn('reservation_id', 'text', (c) => c.notNull())
    .addColumn('image_id', 'text', (c) => c.notNull())
    .addColumn('instance_type', 'text', (c) => c.notNull())
    .addColumn('key_name', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    // when the current transitional state (pending, stopping, shutting-down) ends
    .addColumn('transition_at', 'text')
    .addColumn('state_transition_reason', 'text', (c) => c.notNull())
    .addColumn('state_reason_code', 'text')
    .addColumn('state_reason_message', 'text')
    .addColumn('availability_zone', 'text', (c) => c.notNull())
    .addColumn('subnet_id', 'text', (c) => c.notNull())
    .addColumn('vpc_id', 'text', (c) => c.notNull())
    .addColumn('launch_time', 'text', (c) => c.notNull())
    .addColumn('ami_launch_index', 'integer', (c) => c.notNull())
    .addColumn('client_token', 'text')
    .addColumn('disable_api_termination', 'integer', (c) => c.notNull())
    .addColumn('disable_api_stop', 'integer', (c) => c.notNull())
    .addColumn('shutdown_behavior', 'text', (c) => c.notNull())
    .addColumn('user_data', 'text')
    .addColumn('ebs_optimized', 'integer', (c) => c.notNull())
    // the primary interface's primary private IPv4, fixed for the instance's life (hidden once terminated)
    .addColumn('private_ip_address', 'text')
    // fault injection: a failed instance stays running but its status checks fail
    .addColumn('impaired', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('terminated_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await scopeIndex('instances');
  await db.schema.createIndex('instances_transition').on('instances').columns(['transition_at']).execute();
  await db.schema.createIndex('instances_reservation').on('instances').columns(['reservation_id']).execute();
  await db.schema.createIndex('instances_subnet').on('instances').columns(['subnet_id']).execute();

  await scoped('network_interfaces')
    .addColumn('vpc_id', 'text', (c) => c.notNull().references('vpcs.id'))
    .addColumn('subnet_id', 'text', (c) => c.notNull().references('subnets.id'))
    .addColumn('availability_zone', 'text', (c) => c.notNull())
    .addColumn('availability_zone_id', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('mac_address', 'text', (c) => c.notNull().unique())
    .addColumn('private_ip_address', 'text', (c) => c.notNull())
    .addColumn('private_dns_name', 'text', (c) => c.notNull())
    // available | in-use (derived from the attachment, kept as a column for filters)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('client_token', 'text')
    .addColumn('source_dest_check', 'integer', (c) => c.notNull())
    .addColumn('interface_type', 'text', (c) => c.notNull())
    .addColumn('requester_managed', 'integer', (c) => c.notNull())
    .addColumn('requester_id', 'text')
    // copied from the subnet's MapPublicIpOnLaunch when the interface is created, as AWS does
    .addColumn('map_public_ip', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    // the attachment: all null while the interface is available
    .addColumn('attachment_id', 'text', (c) => c.unique())
    .addColumn('instance_id', 'text', (c) => c.references('instances.id'))
    .addColumn('device_index', 'integer')
    .addColumn('network_card_index', 'integer')
    .addColumn('attach_time', 'text')
    .addColumn('delete_on_termination', 'integer')
    .addColumn('attachment_status', 'text')
    .addColumn('attachment_transition_at', 'text')
    .addUniqueConstraint('network_interfaces_slot', ['instance_id', 'network_card_index', 'device_index'])
    .execute();
  await scopeIndex('network_interfaces');
  await db.schema.createIndex('network_interfaces_subnet').on('network_interfaces').columns(['subnet_id']).execute();
  await db.schema.createIndex('network_interfaces_vpc').on('network_interfaces').columns(['vpc_id']).execute();
  await db.schema.createIndex('network_interfaces_instance').on('network_interfaces').columns(['instance_id']).execute();
  await db.schema.createIndex('network_interfaces_transition').on('network_interfaces').columns(['attachment_transition_at']).execute();

  await db.schema
    .createTable('private_ip_addresses')
    .addColumn('vpc_id', 'text', (c) => c.notNull())
    .addColumn('address_int', 'bigint', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('subnet_id', 'text', (c) => c.notNull().references('subnets.id'))
    .addColumn('network_interface_id', 'text', (c) => c.notNull().references('network_interfaces.id').onDelete('cascade'))
    .addColumn('is_primary', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    // AWS: a private IPv4 address is used once in a VPC
    .addPrimaryKeyConstraint('private_ip_addresses_pk', ['vpc_id', 'address_int'])
    .execute();
  await db.schema.createIndex('private_ip_addresses_eni').on('private_ip_addresses').columns(['network_interface_id', 'is_primary']).execute();
  await db.schema.createIndex('private_ip_addresses_address').on('private_ip_addresses').columns(['address']).execute();
  await db.schema.createIndex('private_ip_addresses_subnet').on('private_ip_addresses').columns(['subnet_id']).execute();
  // one primary per interface
  await db.schema
    .createIndex('private_ip_addresses_one_primary')
    .on('private_ip_addresses')
    .columns(['network_interface_id'])
    .unique()
    .where(sql.ref('is_primary'), '=', 1)
    .execute();

  await db.schema
    .createTable('network_interface_groups')
    .addColumn('network_interface_id', 'text', (c) => c.notNull().references('network_interfaces.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.notNull().references('security_groups.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('network_interface_groups_pk', ['network_interface_id', 'group_id'])
    .execute();
  await db.schema.createIndex('network_interface_groups_group').on('network_interface_groups').columns(['group_id']).execute();

  await scoped('key_pairs')
    .addColumn('key_name', 'text', (c) => c.notNull())
    .addColumn('key_type', 'text', (c) => c.notNull())
    .addColumn('key_fingerprint', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('key_pairs_name', ['account_id', 'region', 'key_name'])
    .execute();

  await scoped('internet_gateways')
    // AWS: a VPC has at most one internet gateway
    .addColumn('vpc_id', 'text', (c) => c.unique().references('vpcs.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await scopeIndex('internet_gateways');
}
