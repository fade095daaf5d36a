import type { Kysely } from 'kysely';

/**
 * Egress-only internet gateways (one VPC each, for good) and routes to them; an Elastic IP's
 * reverse DNS (PTR) record: the domain name in effect (null: AWS's own name for the address),
 * and an update in progress (its value, '' for a reset to AWS's name, and when it takes effect).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('egress_only_internet_gateways')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('vpc_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('egress_only_internet_gateways_scope')
    .on('egress_only_internet_gateways')
    .columns(['account_id', 'region', 'id'])
    .execute();
  await db.schema.createIndex('egress_only_internet_gateways_vpc').on('egress_only_internet_gateways').columns(['vpc_id']).execute();
  await db.schema.alterTable('routes').addColumn('egress_only_internet_gateway_id', 'text').execute();
  await db.schema.alterTable('public_addresses').addColumn('ptr_domain_name', 'text').execute();
  await db.schema.alterTable('public_addresses').addColumn('ptr_update_value', 'text').execute();
  await db.schema.alterTable('public_addresses').addColumn('ptr_update_at', 'text').execute();
}
