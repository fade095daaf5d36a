import type { Kysely } from 'kysely';

/** DHCP options sets and their options (a key's values in order). VPCs name theirs in vpcs.dhcp_options_id. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dhcp_options')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dhcp_options_scope').on('dhcp_options').columns(['account_id', 'region', 'id']).execute();
  await db.schema
    .createTable('dhcp_option_values')
    .addColumn('dhcp_options_id', 'text', (c) => c.notNull().references('dhcp_options.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('dhcp_option_values_pk', ['dhcp_options_id', 'key', 'position'])
    .execute();
  await db.schema.createIndex('vpcs_dhcp_options').on('vpcs').columns(['dhcp_options_id']).execute();
}
