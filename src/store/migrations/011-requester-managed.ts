import type { Kysely } from 'kysely';

/**
 * What AWS services put into a VPC for the caller, and who else may use an interface:
 * NAT gateways (their addresses as JSON: they are only ever read with the gateway), VPC
 * endpoints with their subnets (one requester-managed interface each), groups and route tables,
 * network interface permissions; routes to NAT gateways; the account of the instance an
 * interface is attached to when it is not the interface's own (another account's instance, or
 * `amazon-aws` for a service's `ela-attach-` attachment).
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

  await scoped('nat_gateways')
    .addColumn('vpc_id', 'text', (c) => c.notNull())
    .addColumn('subnet_id', 'text', (c) => c.notNull())
    .addColumn('availability_zone', 'text', (c) => c.notNull())
    .addColumn('connectivity_type', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    // when the current state (pending, deleting; failed and deleted: when the gateway is forgotten) ends
    .addColumn('transition_at', 'text')
    .addColumn('failure_code', 'text')
    .addColumn('failure_message', 'text')
    .addColumn('network_interface_id', 'text')
    .addColumn('addresses', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'text')
    .execute();
  await scopeIndex('nat_gateways');
  await db.schema.createIndex('nat_gateways_subnet').on('nat_gateways').columns(['subnet_id']).execute();
  await db.schema
    .createIndex('nat_gateways_due')
    .on('nat_gateways')
    .columns(['account_id', 'region', 'transition_at'])
    .where('transition_at', 'is not', null)
    .execute();

  await scoped('vpc_endpoints')
    .addColumn('vpc_id', 'text', (c) => c.notNull())
    .addColumn('service_name', 'text', (c) => c.notNull())
    .addColumn('endpoint_type', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('policy_document', 'text')
    .addColumn('private_dns_enabled', 'integer', (c) => c.notNull())
    .addColumn('ip_address_type', 'text', (c) => c.notNull())
    .addColumn('dns_record_ip_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await scopeIndex('vpc_endpoints');
  await db.schema.createIndex('vpc_endpoints_vpc').on('vpc_endpoints').columns(['vpc_id']).execute();

  await db.schema
    .createTable('vpc_endpoint_subnets')
    .addColumn('vpc_endpoint_id', 'text', (c) => c.notNull().references('vpc_endpoints.id').onDelete('cascade'))
    .addColumn('subnet_id', 'text', (c) => c.notNull())
    .addColumn('network_interface_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('vpc_endpoint_subnets_pk', ['vpc_endpoint_id', 'subnet_id'])
    .execute();
  await db.schema.createIndex('vpc_endpoint_subnets_eni').on('vpc_endpoint_subnets').columns(['network_interface_id']).execute();
  await db.schema
    .createTable('vpc_endpoint_groups')
    .addColumn('vpc_endpoint_id', 'text', (c) => c.notNull().references('vpc_endpoints.id').onDelete('cascade'))
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('vpc_endpoint_groups_pk', ['vpc_endpoint_id', 'group_id'])
    .execute();
  await db.schema.createIndex('vpc_endpoint_groups_group').on('vpc_endpoint_groups').columns(['group_id']).execute();
  await db.schema
    .createTable('vpc_endpoint_route_tables')
    .addColumn('vpc_endpoint_id', 'text', (c) => c.notNull().references('vpc_endpoints.id').onDelete('cascade'))
    .addColumn('route_table_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('vpc_endpoint_route_tables_pk', ['vpc_endpoint_id', 'route_table_id'])
    .execute();
  await db.schema.createIndex('vpc_endpoint_route_tables_table').on('vpc_endpoint_route_tables').columns(['route_table_id']).execute();

  await scoped('network_interface_permissions')
    .addColumn('network_interface_id', 'text', (c) => c.notNull())
    .addColumn('aws_account_id', 'text')
    .addColumn('aws_service', 'text')
    .addColumn('permission', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await scopeIndex('network_interface_permissions');
  await db.schema
    .createIndex('network_interface_permissions_eni')
    .on('network_interface_permissions')
    .columns(['network_interface_id', 'aws_account_id', 'permission'])
    .execute();

  await db.schema.alterTable('routes').addColumn('nat_gateway_id', 'text').execute();
  await db.schema.createIndex('routes_nat_gateway').on('routes').columns(['nat_gateway_id']).where('nat_gateway_id', 'is not', null).execute();
  await db.schema.alterTable('network_interfaces').addColumn('instance_owner_id', 'text').execute();
}
