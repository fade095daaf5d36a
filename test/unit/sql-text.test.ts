import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listText, placeholders, postgresText, rowsText } from '../../src/store/sql-text.ts';
import { describeRows } from '../../src/store/describe.ts';
import { openStore } from '../../src/store/index.ts';

test('placeholders, listText and rowsText write n values, n rows, and give back the same text for the same n', () => {
  assert.equal(placeholders(1), '?');
  assert.equal(placeholders(3), '?, ?, ?');
  assert.throws(() => placeholders(0));
  const byIds = listText((ids) => `select 1 where "id" in (${ids})`);
  assert.equal(byIds(2), 'select 1 where "id" in (?, ?)');
  assert.equal(byIds(2), byIds(2));
  const insert = rowsText(3, (rows) => `insert into "t" ("a", "b", "c") values ${rows}`);
  assert.equal(insert(1), 'insert into "t" ("a", "b", "c") values (?, ?, ?)');
  assert.equal(insert(2), 'insert into "t" ("a", "b", "c") values (?, ?, ?), (?, ?, ?)');
  assert.equal(placeholders(1500).split('?').length - 1, 1500);
});

test("PostgreSQL's placeholders are numbered in order; literals and names are left alone", () => {
  assert.equal(postgresText(`select "a" from "t" where "b" = ? and "c" like ? escape '\\' limit ?`), `select "a" from "t" where "b" = $1 and "c" like $2 escape '\\' limit $3`);
  assert.equal(postgresText('select 1'), 'select 1');
});

test('describeRows on the embedded store: wildcards, escapes, OR within a filter, AND across filters, paging', async () => {
  const store = await openStore({ database: 'memory', dataDir: '.' });
  try {
    const rows = [
      ['vpc-a1', '10.0.0.0/16', 'available'],
      ['vpc-a2', '10.1.0.0/16', 'pending'],
      ['vpc-b%', '10.2.0.0/16', 'available'],
    ];
    for (const [id, cidr, state] of rows) {
      await store.db
        .insertInto('vpcs')
        .values({ id, account_id: '1', region: 'r', cidr_block: cidr, state, is_default: 0, dhcp_options_id: 'default', instance_tenancy: 'default', enable_dns_support: 1, enable_dns_hostnames: 0, created_at: '' })
        .execute();
    }
    const spec = { 'cidr-block': { column: 'cidr_block' }, state: { column: 'state' }, 'vpc-id': { column: 'id' } };
    const ids = async (filters: { Name: string; Values: string[] }[], extra: { maxResults?: number; nextToken?: string } = {}) => {
      const page = await store.transaction((tx) => describeRows<{ id: string }>(tx, { table: 'vpcs', account: '1', region: 'r', spec, filters, ...extra }));
      return { ids: page.rows.map((r) => r.id), next: page.nextToken };
    };
    assert.deepEqual((await ids([{ Name: 'cidr-block', Values: ['10.?.0.0/16'] }])).ids, ['vpc-a1', 'vpc-a2', 'vpc-b%']);
    assert.deepEqual((await ids([{ Name: 'vpc-id', Values: ['vpc-b\\%'] }])).ids, ['vpc-b%'], 'an escaped LIKE special is literal');
    assert.deepEqual((await ids([{ Name: 'vpc-id', Values: ['vpc-a%'] }])).ids, [], '% is no wildcard in EC2 filters');
    assert.deepEqual((await ids([{ Name: 'state', Values: ['pending', 'available'] }, { Name: 'vpc-id', Values: ['vpc-a*'] }])).ids, ['vpc-a1', 'vpc-a2']);
    const first = await ids([], { maxResults: 2 });
    assert.deepEqual(first.ids, ['vpc-a1', 'vpc-a2']);
    assert.deepEqual((await ids([], { maxResults: 2, nextToken: first.next })).ids, ['vpc-b%']);
    await assert.rejects(ids([{ Name: 'nope', Values: ['x'] }]), /InvalidParameterValue|nope/);
  } finally {
    await store.close();
  }
});
