import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * PostgreSQL only: `eni_expect_rows(changed, expected)` raises SQLSTATE EL001 unless a change
 * touched the rows it had to. A write whose row count decides (sql-text's `write` with `expected`)
 * carries it, so PostgreSQL itself aborts the transaction when the count is wrong, and the commit
 * can be sent behind the write without waiting for its answer. The embedded store checks the
 * count in the process.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create or replace function eni_expect_rows(changed bigint, expected bigint) returns bigint
    language plpgsql as $$
    begin
      if changed <> expected then
        raise exception 'eni-local: changed % rows, expected %', changed, expected using errcode = 'EL001';
      end if;
      return changed;
    end
    $$`.execute(db);
}
