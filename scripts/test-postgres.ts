/**
 * `npm run test:postgres`: the whole test suite (`npm test`) against PostgreSQL.
 *
 * ENI_LOCAL_TEST_POSTGRES_URL names a database whose user may create databases; each test server
 * gets a fresh database beside it (test/helpers/postgres.ts), dropped when it stops, and whatever
 * a crashed test left behind is dropped at the end of the run. Without the variable, or when the
 * server cannot be reached, the run is skipped with the reason and exits 0 — unless
 * ENI_LOCAL_TEST_POSTGRES_REQUIRED=1 (CI), which makes that a failure.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dropTestDatabases, isPostgresUrl, TEST_DATABASE_PREFIX, withConnection } from '../test/helpers/postgres.ts';

const url = process.env.ENI_LOCAL_TEST_POSTGRES_URL;
const required = process.env.ENI_LOCAL_TEST_POSTGRES_REQUIRED === '1';

function skip(reason: string): never {
  const line = `test:postgres: ${required ? 'FAILED' : 'SKIPPED'}: ${reason}`;
  process.stdout.write(`${line}\n`);
  if (!required) {
    process.stdout.write('test:postgres: set ENI_LOCAL_TEST_POSTGRES_URL=postgres://USER:PASSWORD@HOST:PORT/DATABASE (a user with CREATEDB) to run the suite on PostgreSQL.\n');
  }
  process.exit(required ? 1 : 0);
}

const redact = (u: string) => u.replace(/:\/\/([^:@/]*):[^@/]*@/, '://$1:***@');

if (!url) skip('ENI_LOCAL_TEST_POSTGRES_URL is not set.');
if (!isPostgresUrl(url)) skip(`ENI_LOCAL_TEST_POSTGRES_URL is not a postgres:// URL: ${redact(url)}`);

try {
  const canCreate = await withConnection(
    url,
    async (c) => (await c.query<{ ok: boolean }>('SELECT rolcreatedb OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user')).rows[0]?.ok,
    5_000,
  );
  if (!canCreate) skip(`the user of ${redact(url)} may not create databases (ALTER ROLE … CREATEDB).`);
} catch (error) {
  skip(`PostgreSQL at ${redact(url)} is not reachable: ${(error as Error).message}`);
}

const runId = `r${randomBytes(4).toString('hex')}`;
process.stdout.write(`test:postgres: running the suite against ${redact(url)} (a database per test server, run ${runId})\n`);
const started = Date.now();
const code = await new Promise<number>((resolve) => {
  const child = spawn('npm', ['test'], {
    stdio: 'inherit',
    env: { ...process.env, ENI_LOCAL_TEST_DATABASE: url, ENI_LOCAL_TEST_RUN_ID: runId },
  });
  child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
});
const left = await dropTestDatabases(url, `${TEST_DATABASE_PREFIX}${runId}_`).catch(() => 0);
process.stdout.write(
  `test:postgres: suite ${code === 0 ? 'passed' : 'failed'} in ${((Date.now() - started) / 1000).toFixed(1)} s` +
    (left ? `; dropped ${left} database(s) left behind` : '') +
    '\n',
);
process.exit(code);
