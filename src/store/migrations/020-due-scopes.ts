import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * `due_scopes`: per account and region, a time no later than its next transition (`due_at`: an
 * instance, an attachment it owns or whose instance it owns, a NAT gateway) and no later than its
 * first terminated instance's termination (`terminated_at`), so that a request learns that nothing
 * is due from one primary-key lookup instead of five `min()`s (cloud/transitions.ts `dueBound`).
 *
 * The database keeps the bounds low: triggers lower them whenever such a time is written, whoever
 * writes it. Only settling raises them (`settleDue`, which locks the row before it computes the
 * exact times, so that a concurrent lowering waits for it or is seen by it). A missing row is a
 * scope with nothing scheduled. Times are ISO strings, as in the tables, and compare as text.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('due_scopes')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text')
    .addColumn('terminated_at', 'text')
    .addPrimaryKeyConstraint('due_scopes_pk', ['account_id', 'region'])
    .execute();

  // What is scheduled today, per scope (the held attachments count for their instance's owner too).
  await sql`insert into due_scopes (account_id, region, due_at, terminated_at)
    select account_id, region, min(at), min(term) from (
      select account_id, region, transition_at as at, null as term from instances where transition_at is not null
      union all select account_id, region, null, terminated_at from instances where state = 'terminated' and terminated_at is not null
      union all select account_id, region, attachment_transition_at, null from network_interfaces where attachment_transition_at is not null
      union all select instance_owner_id, region, attachment_transition_at, null from network_interfaces
        where attachment_transition_at is not null and instance_owner_id is not null and instance_owner_id <> account_id
      union all select account_id, region, transition_at, null from nat_gateways where transition_at is not null
    ) as scheduled group by account_id, region`.execute(db);

  if (db.getExecutor().adapter instanceof PostgresAdapter) await postgresTriggers(db);
  else await sqliteTriggers(db);
}

/** A bound a written row lowers: whose scope (the row's `new.region`), to which times, and when (SQL over `new`). */
type Lowering = { account: string; due: string; terminated: string; when: string };

/** The rules, one set for both dialects: per table, the columns whose writes are watched, which rows, and the bounds they lower. */
const WATCHED: { table: string; columns: string; when: string; lowers: Lowering[] }[] = [
  {
    table: 'instances',
    columns: 'transition_at, terminated_at, state',
    when: "new.transition_at is not null or (new.state = 'terminated' and new.terminated_at is not null)",
    lowers: [{ account: 'new.account_id', due: 'new.transition_at', terminated: "case when new.state = 'terminated' then new.terminated_at end", when: 'true' }],
  },
  {
    table: 'network_interfaces',
    columns: 'attachment_transition_at, instance_owner_id',
    when: 'new.attachment_transition_at is not null',
    lowers: [
      { account: 'new.account_id', due: 'new.attachment_transition_at', terminated: 'null', when: 'true' },
      // Another account's instance holds the attachment: it settles with that account too.
      { account: 'new.instance_owner_id', due: 'new.attachment_transition_at', terminated: 'null', when: 'new.instance_owner_id is not null and new.instance_owner_id <> new.account_id' },
    ],
  },
  {
    table: 'nat_gateways',
    columns: 'transition_at',
    when: 'new.transition_at is not null',
    lowers: [{ account: 'new.account_id', due: 'new.transition_at', terminated: 'null', when: 'true' }],
  },
];

/** `eni_lower_due(account, region, due, terminated)` makes the scope's bounds no later than the times given (a null lowers nothing); a trigger per table calls it. */
async function postgresTriggers(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function eni_lower_due(account text, place text, due text, term text) returns void
    language sql as $$
      insert into due_scopes as d (account_id, region, due_at, terminated_at) values (account, place, due, term)
      on conflict (account_id, region) do update
        set due_at = least(d.due_at, excluded.due_at), terminated_at = least(d.terminated_at, excluded.terminated_at)
    $$`.execute(db);
  for (const { table, columns, when, lowers } of WATCHED) {
    const body = lowers.map((l) => `if ${l.when} then perform eni_lower_due(${l.account}, new.region, ${l.due}, ${l.terminated}); end if;`).join('\n');
    await sql.raw(`create or replace function eni_${table}_due() returns trigger language plpgsql as $$ begin ${body} return null; end $$`).execute(db);
    await sql.raw(`create trigger ${table}_due after insert or update of ${columns} on ${table} for each row when (${when}) execute function eni_${table}_due()`).execute(db);
  }
}

/** The same in SQLite's trigger language: an upsert per bound (SQLite's `min()` is null if any argument is), one trigger on insert and one on update. */
async function sqliteTriggers(db: Kysely<unknown>): Promise<void> {
  // `select … where` rather than `values`, for the lowering's own condition.
  const lower = (l: Lowering) => `
    insert into due_scopes (account_id, region, due_at, terminated_at) select ${l.account}, new.region, ${l.due}, ${l.terminated} where ${l.when}
    on conflict (account_id, region) do update set
      due_at = coalesce(min(due_at, excluded.due_at), due_at, excluded.due_at),
      terminated_at = coalesce(min(terminated_at, excluded.terminated_at), terminated_at, excluded.terminated_at);`;
  for (const { table, columns, when, lowers } of WATCHED) {
    const body = lowers.map(lower).join('');
    for (const [name, event] of [['insert', 'insert'], ['update', `update of ${columns}`]]) {
      await sql.raw(`create trigger ${table}_due_${name} after ${event} on ${table} for each row when ${when} begin ${body} end`).execute(db);
    }
  }
}
