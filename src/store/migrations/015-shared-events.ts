import { PostgresAdapter, type Kysely } from 'kysely';

/**
 * What several nodes on one PostgreSQL database share beyond the resources: the event stream's
 * log (every committed change, numbered in commit order; see the PostgreSQL store's event log)
 * and the request throttle's token buckets. The embedded store, one process, keeps both in
 * memory and leaves these tables empty.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('events')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) => c.primaryKey())
    // The event as JSON text, without its id.
    .addColumn('body', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('throttle_buckets')
    // account, region and bucket key
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('tokens', 'double precision', (c) => c.notNull())
    // seconds since the epoch, the database's clock
    .addColumn('updated_at', 'double precision', (c) => c.notNull())
    .execute();
}
