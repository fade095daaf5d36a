import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePostgresUrl, redactUrl } from '../../src/store/postgres.ts';

test('pool_size is eni-local’s own URL parameter: taken off the URL pg sees, checked', () => {
  assert.deepEqual(parsePostgresUrl('postgres://u:p@db.example:5432/eni?pool_size=25&application_name=x'), {
    connectionString: 'postgres://u:p@db.example:5432/eni?application_name=x',
    poolSize: 25,
  });
  assert.deepEqual(parsePostgresUrl('postgresql://u@localhost/eni'), { connectionString: 'postgresql://u@localhost/eni', poolSize: undefined });
  for (const bad of ['0', '-1', 'ten', '2.5']) assert.throws(() => parsePostgresUrl(`postgres://u@h/eni?pool_size=${bad}`), /pool_size/);
});

test('the location shown (health, start line) never carries the password', () => {
  assert.equal(redactUrl('postgres://eni:s3cret@10.0.0.1:5432/eni'), 'postgres://eni:***@10.0.0.1:5432/eni');
  assert.equal(redactUrl('postgres://eni@localhost/eni'), 'postgres://eni@localhost/eni');
});

const files: Record<string, string> = { '/etc/ca.pem': 'CA PEM', '/etc/client.pem': 'CERT PEM', '/etc/client.key': 'KEY PEM' };
const readFile = (f: string) => {
  if (!(f in files)) throw new Error('ENOENT');
  return files[f];
};
const tls = (query: string) => parsePostgresUrl(`postgres://u:p@db.example/eni?${query}`, readFile);

test('TLS parameters are read as libpq reads them and taken off the URL pg sees', () => {
  assert.deepEqual(tls('sslmode=require&pool_size=3'), {
    connectionString: 'postgres://u:p@db.example/eni',
    poolSize: 3,
    ssl: { rejectUnauthorized: false },
  });
  assert.deepEqual(tls('sslmode=verify-full&sslrootcert=/etc/ca.pem').ssl, { rejectUnauthorized: true, ca: 'CA PEM' });
  assert.deepEqual(tls('sslmode=verify-full').ssl, { rejectUnauthorized: true }, 'no CA file: the system CAs');
  assert.deepEqual(tls('sslmode=verify-full&sslrootcert=system').ssl, { rejectUnauthorized: true });
  for (const query of ['sslmode=verify-ca&sslrootcert=/etc/ca.pem', 'sslmode=require&sslrootcert=/etc/ca.pem']) {
    const ssl = tls(query).ssl;
    assert.ok(ssl, query);
    assert.equal(ssl.rejectUnauthorized, true, `${query}: the chain is verified`);
    assert.equal(ssl.ca, 'CA PEM');
    assert.equal(ssl.checkServerIdentity?.(), undefined, `${query}: the host name is not`);
  }
  assert.deepEqual(tls('sslmode=verify-full&sslrootcert=/etc/ca.pem&sslcert=/etc/client.pem&sslkey=/etc/client.key').ssl, {
    rejectUnauthorized: true,
    ca: 'CA PEM',
    cert: 'CERT PEM',
    key: 'KEY PEM',
  });
  assert.deepEqual(tls('sslrootcert=/etc/ca.pem').ssl, { rejectUnauthorized: true, ca: 'CA PEM' }, 'a CA file alone: verify-full, as libpq');
  for (const mode of ['disable', 'allow', 'prefer']) assert.equal(tls(`sslmode=${mode}`).ssl, false, mode);
  assert.equal(tls('application_name=x').ssl, undefined, 'no TLS parameter: pg decides (plain)');
  assert.throws(() => tls('sslmode=required'), /sslmode must be one of/);
  assert.throws(() => tls('sslmode=verify-full&sslrootcert=/nope.pem'), /sslrootcert: cannot read \/nope.pem/);
});
