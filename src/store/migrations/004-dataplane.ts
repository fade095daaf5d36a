import { sql, type Kysely } from 'kysely';

/**
 * What the data plane decides with: route tables (with their routes and subnet associations),
 * network ACLs (entries and associations), flow logs and their records, Reachability Analyzer
 * paths and analyses.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const scoped = (name: string) =>
    db.schema
      .createTable(name)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('region', 'text', (c) => c.notNull());

  await scoped('route_tables')
    .addColumn('vpc_id', 'text', (c) => c.notNull().references('vpcs.id'))
    .addColumn('is_main', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('route_tables_scope').on('route_tables').columns(['account_id', 'region', 'id']).execute();
  await db.schema.createIndex('route_tables_vpc').on('route_tables').columns(['vpc_id']).execute();
  // AWS: one main route table per VPC
  await db.schema.createIndex('route_tables_one_main').on('route_tables').columns(['vpc_id']).unique().where(sql.ref('is_main'), '=', 1).execute();

  await db.schema
    .createTable('routes')
    .addColumn('route_table_id', 'text', (c) => c.notNull().references('route_tables.id').onDelete('cascade'))
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('family', 'integer', (c) => c.notNull())
    // local, igw-…, or null when the target is an interface
    .addColumn('gateway_id', 'text')
    .addColumn('network_interface_id', 'text')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('routes_pk', ['route_table_id', 'destination'])
    .execute();
  await db.schema.createIndex('routes_eni').on('routes').columns(['network_interface_id']).execute();
  await db.schema.createIndex('routes_gateway').on('routes').columns(['gateway_id']).execute();

  await db.schema
    .createTable('route_table_associations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('route_table_id', 'text', (c) => c.notNull().references('route_tables.id'))
    // null for the main association
    .addColumn('subnet_id', 'text', (c) => c.unique())
    .addColumn('is_main', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('route_table_associations_table').on('route_table_associations').columns(['route_table_id']).execute();

  await scoped('network_acls')
    .addColumn('vpc_id', 'text', (c) => c.notNull().references('vpcs.id'))
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('network_acls_scope').on('network_acls').columns(['account_id', 'region', 'id']).execute();
  await db.schema.createIndex('network_acls_vpc').on('network_acls').columns(['vpc_id']).execute();

  await db.schema
    .createTable('network_acl_entries')
    .addColumn('network_acl_id', 'text', (c) => c.notNull().references('network_acls.id').onDelete('cascade'))
    .addColumn('egress', 'integer', (c) => c.notNull())
    .addColumn('rule_number', 'integer', (c) => c.notNull())
    // protocol number as text, '-1' for all
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('rule_action', 'text', (c) => c.notNull())
    .addColumn('cidr_block', 'text')
    .addColumn('ipv6_cidr_block', 'text')
    .addColumn('port_from', 'integer')
    .addColumn('port_to', 'integer')
    .addColumn('icmp_type', 'integer')
    .addColumn('icmp_code', 'integer')
    .addPrimaryKeyConstraint('network_acl_entries_pk', ['network_acl_id', 'egress', 'rule_number'])
    .execute();

  await db.schema
    .createTable('network_acl_associations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('network_acl_id', 'text', (c) => c.notNull().references('network_acls.id'))
    .addColumn('subnet_id', 'text', (c) => c.notNull().unique())
    .execute();
  await db.schema.createIndex('network_acl_associations_acl').on('network_acl_associations').columns(['network_acl_id']).execute();

  await scoped('flow_logs')
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('traffic_type', 'text', (c) => c.notNull())
    .addColumn('log_destination_type', 'text', (c) => c.notNull())
    .addColumn('log_destination', 'text')
    .addColumn('log_group_name', 'text')
    .addColumn('log_format', 'text', (c) => c.notNull())
    .addColumn('max_aggregation_interval', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('flow_logs_scope').on('flow_logs').columns(['account_id', 'region', 'id']).execute();
  await db.schema.createIndex('flow_logs_resource').on('flow_logs').columns(['resource_id']).execute();

  await db.schema
    .createTable('flow_log_records')
    .addColumn('flow_log_id', 'text', (c) => c.notNull().references('flow_logs.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('line', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('flow_log_records_pk', ['flow_log_id', 'seq'])
    .execute();

  await scoped('network_insights_paths')
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('network_insights_paths_scope').on('network_insights_paths').columns(['account_id', 'region', 'id']).execute();

  await scoped('network_insights_analyses')
    .addColumn('path_id', 'text', (c) => c.notNull().references('network_insights_paths.id'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('network_insights_analyses_scope').on('network_insights_analyses').columns(['account_id', 'region', 'id']).execute();
  await db.schema.createIndex('network_insights_analyses_path').on('network_insights_analyses').columns(['path_id']).execute();
}
