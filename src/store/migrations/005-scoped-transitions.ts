import { sql, type Kysely } from 'kysely';

/**
 * Counts kept per account and region for the quotas checked on hot paths (network interfaces),
 * so that a create does not count the account's interfaces. And: every request settles the transitions due in its account and region: these indexes make that
 * a lookup of the due rows instead of a walk over the account's interfaces and instances.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('network_interfaces_due')
    .on('network_interfaces')
    .columns(['account_id', 'region', 'attachment_transition_at'])
    .execute();
  await db.schema.createIndex('instances_due').on('instances').columns(['account_id', 'region', 'transition_at']).execute();
  await db.schema
    .createTable('resource_counts')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('resource_counts_pk', ['account_id', 'region', 'kind'])
    .execute();
  await sql`insert into resource_counts (account_id, region, kind, count)
    select account_id, region, 'network-interface', count(*) from network_interfaces group by account_id, region`.execute(db);
  await db.schema.createIndex('instances_expiry').on('instances').columns(['account_id', 'region', 'state', 'terminated_at']).execute();
}
