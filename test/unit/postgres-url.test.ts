import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePostgresUrl, redactUrl } from '../../src/store/postgres.ts';

test('pool_size is eni-local’s own URL parameter: taken off the URL pg sees, checked', () => {
  assert.deepEqual(parsePostgresUrl('postgres://u:p@db.example:5432/eni?pool_size=25&sslmode=require'), {
    connectionString: 'postgres://u:p@db.example:5432/eni?sslmode=require',
    poolSize: 25,
  });
  assert.deepEqual(parsePostgresUrl('postgresql://u@localhost/eni'), { connectionString: 'postgresql://u@localhost/eni', poolSize: undefined });
  for (const bad of ['0', '-1', 'ten', '2.5']) assert.throws(() => parsePostgresUrl(`postgres://u@h/eni?pool_size=${bad}`), /pool_size/);
});

test('the location shown (health, start line) never carries the password', () => {
  assert.equal(redactUrl('postgres://eni:s3cret@10.0.0.1:5432/eni'), 'postgres://eni:***@10.0.0.1:5432/eni');
  assert.equal(redactUrl('postgres://eni@localhost/eni'), 'postgres://eni@localhost/eni');
});
