import type { Kysely } from 'kysely';

/**
 * Every index is one more page written by each insert (a create writes ~30 pages to the WAL).
 * Indexes on columns that are null for most rows now index only the rows that have a value
 * (their queries all ask for a value), and the ones 005 made redundant go:
 * network_interfaces_instance is a prefix of the (instance_id, card, device) slot constraint;
 * the single-column transition indexes gave way to the scoped ones of 005.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('network_interfaces_instance').execute();
  await db.schema.dropIndex('network_interfaces_transition').execute();
  await db.schema.dropIndex('instances_transition').execute();
  await db.schema.dropIndex('network_interfaces_due').execute();
  await db.schema
    .createIndex('network_interfaces_due')
    .on('network_interfaces')
    .columns(['account_id', 'region', 'attachment_transition_at'])
    .where('attachment_transition_at', 'is not', null)
    .execute();
  await db.schema.dropIndex('instances_due').execute();
  await db.schema
    .createIndex('instances_due')
    .on('instances')
    .columns(['account_id', 'region', 'transition_at'])
    .where('transition_at', 'is not', null)
    .execute();
}
