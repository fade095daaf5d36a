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

/** `eni_lower_due(account, region, due, terminated)`: the scope's bounds become no later than the times given (a null lowers nothing). */
async function postgresTriggers(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function eni_lower_due(account text, place text, due text, term text) returns void
    language sql as $$
      insert into due_scopes as d (account_id, region, due_at, terminated_at) values (account, place, due, term)
      on conflict (account_id, region) do update
        set due_at = least(d.due_at, excluded.due_at), terminated_at = least(d.terminated_at, excluded.terminated_at)
    $$`.execute(db);
  await sql`
    create or replace function eni_instances_due() returns trigger
    language plpgsql as $$
    begin
      perform eni_lower_due(new.account_id, new.region, new.transition_at, case when new.state = 'terminated' then new.terminated_at end);
      return null;
    end
    $$`.execute(db);
  await sql`
    create or replace function eni_network_interfaces_due() returns trigger
    language plpgsql as $$
    begin
      perform eni_lower_due(new.account_id, new.region, new.attachment_transition_at, null);
      if new.instance_owner_id is not null and new.instance_owner_id <> new.account_id then
        perform eni_lower_due(new.instance_owner_id, new.region, new.attachment_transition_at, null);
      end if;
      return null;
    end
    $$`.execute(db);
  await sql`
    create or replace function eni_nat_gateways_due() returns trigger
    language plpgsql as $$
    begin
      perform eni_lower_due(new.account_id, new.region, new.transition_at, null);
      return null;
    end
    $$`.execute(db);
  await sql`create trigger instances_due_insert after insert on instances for each row
    when (new.transition_at is not null or (new.state = 'terminated' and new.terminated_at is not null)) execute function eni_instances_due()`.execute(db);
  await sql`create trigger instances_due_update after update of transition_at, terminated_at, state on instances for each row
    when (new.transition_at is not null or (new.state = 'terminated' and new.terminated_at is not null)) execute function eni_instances_due()`.execute(db);
  await sql`create trigger network_interfaces_due after insert or update of attachment_transition_at, instance_owner_id on network_interfaces for each row
    when (new.attachment_transition_at is not null) execute function eni_network_interfaces_due()`.execute(db);
  await sql`create trigger nat_gateways_due after insert or update of transition_at on nat_gateways for each row
    when (new.transition_at is not null) execute function eni_nat_gateways_due()`.execute(db);
}

/** The same rules in SQLite's trigger language (an upsert per bound; SQLite's `min()` is null if any argument is). */
async function sqliteTriggers(db: Kysely<unknown>): Promise<void> {
  // `select … where` rather than `values`: the held attachment lowers its instance owner's bound only when that is another account.
  const lower = (account: string, due: string, term: string, when = 'true') => `
    insert into due_scopes (account_id, region, due_at, terminated_at) select ${account}, new.region, ${due}, ${term} where ${when}
    on conflict (account_id, region) do update set
      due_at = coalesce(min(due_at, excluded.due_at), due_at, excluded.due_at),
      terminated_at = coalesce(min(terminated_at, excluded.terminated_at), terminated_at, excluded.terminated_at);`;
  const instance = lower('new.account_id', 'new.transition_at', "case when new.state = 'terminated' then new.terminated_at end");
  const attachment =
    lower('new.account_id', 'new.attachment_transition_at', 'null') +
    lower('new.instance_owner_id', 'new.attachment_transition_at', 'null', 'new.instance_owner_id is not null and new.instance_owner_id <> new.account_id');
  const gateway = lower('new.account_id', 'new.transition_at', 'null');
  const instanceWhen = "new.transition_at is not null or (new.state = 'terminated' and new.terminated_at is not null)";
  const triggers = [
    `create trigger instances_due_insert after insert on instances for each row when ${instanceWhen} begin ${instance} end`,
    `create trigger instances_due_update after update of transition_at, terminated_at, state on instances for each row when ${instanceWhen} begin ${instance} end`,
    `create trigger network_interfaces_due_insert after insert on network_interfaces for each row when new.attachment_transition_at is not null begin ${attachment} end`,
    `create trigger network_interfaces_due_update after update of attachment_transition_at, instance_owner_id on network_interfaces for each row when new.attachment_transition_at is not null begin ${attachment} end`,
    `create trigger nat_gateways_due_insert after insert on nat_gateways for each row when new.transition_at is not null begin ${gateway} end`,
    `create trigger nat_gateways_due_update after update of transition_at on nat_gateways for each row when new.transition_at is not null begin ${gateway} end`,
  ];
  for (const text of triggers) await sql.raw(text).execute(db);
}
