import { sql, type Kysely } from 'kysely';

/** VPCs, their CIDR blocks, tags and idempotency tokens. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('vpcs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('cidr_block', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .addColumn('instance_tenancy', 'text', (c) => c.notNull())
    .addColumn('dhcp_options_id', 'text', (c) => c.notNull())
    .addColumn('enable_dns_support', 'integer', (c) => c.notNull())
    .addColumn('enable_dns_hostnames', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('vpcs_scope').on('vpcs').columns(['account_id', 'region', 'id']).execute();
  // AWS: an account has at most one default VPC per region.
  await db.schema
    .createIndex('vpcs_one_default')
    .on('vpcs')
    .columns(['account_id', 'region'])
    .unique()
    .where(sql.ref('is_default'), '=', 1)
    .execute();

  await db.schema
    .createTable('vpc_cidr_blocks')
    .addColumn('association_id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('vpc_id', 'text', (c) => c.notNull().references('vpcs.id').onDelete('cascade'))
    .addColumn('cidr_block', 'text', (c) => c.notNull())
    .addColumn('family', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('is_primary', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('vpc_cidr_blocks_vpc').on('vpc_cidr_blocks').columns(['vpc_id']).execute();

  await db.schema
    .createTable('tags')
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('tags_pk', ['resource_id', 'key'])
    .execute();
  await db.schema.createIndex('tags_key_value').on('tags').columns(['key', 'value', 'resource_id']).execute();
  await db.schema
    .createIndex('tags_scope')
    .on('tags')
    .columns(['account_id', 'region', 'resource_type', 'resource_id'])
    .execute();

  await db.schema
    .createTable('client_tokens')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('client_tokens_pk', ['account_id', 'region', 'action', 'token'])
    .execute();
}
