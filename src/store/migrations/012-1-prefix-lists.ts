import type { Kysely } from 'kysely';

/**
 * Customer-managed prefix lists and their versioned entries. An entry row is part of every
 * version from `added_version` up to (not including) `removed_version`, so that any earlier
 * version can be read back (GetManagedPrefixListEntries TargetVersion). AWS-managed lists are
 * static data in code (cloud/prefix-lists.ts), not rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('managed_prefix_lists')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('address_family', 'text', (c) => c.notNull())
    .addColumn('max_entries', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_message', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('managed_prefix_lists_scope').on('managed_prefix_lists').columns(['account_id', 'region', 'id']).execute();
  await db.schema
    .createTable('managed_prefix_list_entries')
    .addColumn('prefix_list_id', 'text', (c) => c.notNull().references('managed_prefix_lists.id').onDelete('cascade'))
    .addColumn('cidr', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('added_version', 'integer', (c) => c.notNull())
    .addColumn('removed_version', 'integer')
    .addPrimaryKeyConstraint('managed_prefix_list_entries_pk', ['prefix_list_id', 'cidr', 'added_version'])
    .execute();
  // Security group rules and routes that name a prefix list (its associations, its dependants).
  await db.schema.createIndex('security_group_rules_prefix_list').on('security_group_rules').columns(['prefix_list_id']).where('prefix_list_id', 'is not', null).execute();
}
