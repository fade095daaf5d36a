import assert from 'node:assert/strict';
import { test } from 'node:test';
import { likePattern } from '../../src/store/describe.ts';
import { filterCatalogue, wildcardRegex } from '../../src/cloud/catalogue-filter.ts';

test('EC2 wildcards become LIKE patterns; LIKE specials and escapes are kept literal', () => {
  assert.equal(likePattern('abc'), undefined);
  assert.equal(likePattern('a*'), 'a%');
  assert.equal(likePattern('a?c'), 'a_c');
  assert.equal(likePattern('100%*'), '100\\%%');
  assert.equal(likePattern('a_b*'), 'a\\_b%');
  assert.equal(likePattern('\\**'), '*%');
  assert.equal(likePattern('\\*'), undefined, 'an escaped star alone is no wildcard');
});

test('in-memory filters share the semantics: AND across names, OR across values, case-sensitive', () => {
  const items = [{ n: 'us-east-1', t: 'x' }, { n: 'eu-west-1', t: 'y' }, { n: 'eu-west-2', t: 'x' }];
  const spec = { name: (i: { n: string }) => i.n, type: (i: { t: string }) => i.t };
  assert.deepEqual(filterCatalogue(items, [{ Name: 'name', Values: ['eu-*'] }, { Name: 'type', Values: ['x'] }], spec).map((i) => i.n), ['eu-west-2']);
  assert.deepEqual(filterCatalogue(items, [{ Name: 'name', Values: ['us-east-1', 'eu-west-?'] }], spec).length, 3);
  assert.deepEqual(filterCatalogue(items, [{ Name: 'name', Values: ['EU-*'] }], spec), []);
  assert.throws(() => filterCatalogue(items, [{ Name: 'nope', Values: ['x'] }], spec), /filter 'nope' is invalid/);
  assert.ok(wildcardRegex('a.b*').test('a.bcd'));
  assert.ok(!wildcardRegex('a.b').test('axb'));
});
