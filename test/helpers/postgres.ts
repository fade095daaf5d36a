/**
 * PostgreSQL for the suite: when ENI_LOCAL_TEST_DATABASE is a PostgreSQL URL (what
 * `npm run test:postgres` sets), every test server gets a database of its own, made from that
 * URL's connection and dropped when the server stops, so tests never see each other's rows.
 * The URL's user needs CREATEDB.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** What every test database's name starts with; the run id (ENI_LOCAL_TEST_RUN_ID) follows. */
export const TEST_DATABASE_PREFIX = 'eni_local_test_';

export const isPostgresUrl = (url: string | undefined): url is string =>
  url !== undefined && (url.startsWith('postgres://') || url.startsWith('postgresql://'));

/** The PostgreSQL URL the suite runs against, or undefined when it runs on another store. */
export function postgresTestUrl(): string | undefined {
  const url = process.env.ENI_LOCAL_TEST_DATABASE;
  return isPostgresUrl(url) ? url : undefined;
}

/** Why the PostgreSQL-only tests are skipped in this run (for `test(…, { skip })`), or false. */
export function postgresSkipReason(): string | false {
  return postgresTestUrl()
    ? false
    : 'needs PostgreSQL: run `npm run test:postgres` with ENI_LOCAL_TEST_POSTGRES_URL set (ENI_LOCAL_TEST_DATABASE is not a postgres:// URL)';
}

/** Runs fn with one connection to the database the URL names, then closes it. */
export async function withConnection<T>(url: string, fn: (client: pg.Client) => Promise<T>, connectTimeoutMs = 10_000): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** `url` with its database replaced. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

let counter = 0;

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database (closing any connection still open to it). */
  drop(): Promise<void>;
}

/** Makes a new, empty database beside the one `adminUrl` names; eni-local migrates it on start. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const run = (process.env.ENI_LOCAL_TEST_RUN_ID ?? 'adhoc').replace(/[^a-z0-9]/g, '').slice(0, 12);
  const name = `${TEST_DATABASE_PREFIX}${run}_${process.pid}_${++counter}_${randomBytes(3).toString('hex')}`;
  // template0: nothing someone added to template1 leaks in.
  await withConnection(adminUrl, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`));
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: withDatabase(adminUrl, name),
    drop: () => (dropped ??= dropDatabase(adminUrl, name)),
  };
}

/**
 * DROP DATABASE … WITH (FORCE) ends the other sessions on it, but not one of another role: an
 * autovacuum worker that just started on the test's tables (42501), which ends by itself soon.
 */
async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await withConnection(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 50 || (code !== '42501' && code !== '55006')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Drops every test database whose name starts with the prefix (a run's leftovers); returns how many. */
export async function dropTestDatabases(adminUrl: string, prefix = TEST_DATABASE_PREFIX): Promise<number> {
  return withConnection(adminUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
    for (const { datname } of rows) await dropDatabase(adminUrl, datname);
    return rows.length;
  });
}
