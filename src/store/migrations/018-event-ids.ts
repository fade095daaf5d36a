import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * The shared event log numbers its events by transaction (the transaction's id and the event's
 * place in it, see the PostgreSQL store's event log), no longer from a sequence: the column's
 * default and its sequence go. Ids already in the log are far below the new ones, so the order
 * carries on. The embedded store keeps no events in the table: nothing to do there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`alter table "events" alter column "id" drop default`.execute(db);
  await sql`drop sequence if exists "events_id_seq"`.execute(db);
}
