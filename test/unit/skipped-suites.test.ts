// A suite skipped for a reason (no PostgreSQL, no chromium) counts each of its tests as skipped in
// the summary, with the reason: node:test alone reports a skipped suite as no test at all.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'skipped-suite.ts');

test('the tests of a skipped suite are reported skipped, with its reason; its hooks and bodies never run', () => {
  // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of stdout.
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', fixture], { encoding: 'utf8', env });
  assert.match(out, /^# tests 3$/m);
  assert.match(out, /^# skipped 2$/m);
  assert.match(out, /^# pass 1$/m);
  assert.match(out, /^# fail 0$/m);
  assert.equal(out.match(/# SKIP needs PostgreSQL/g)?.length, 2);
});
