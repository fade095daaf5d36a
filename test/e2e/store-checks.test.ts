/**
 * Checks a write carries without waiting for its answer (sql-text's `write` with an expected row
 * count, and `verify`), on the store this run uses: the embedded one, or PostgreSQL under
 * `npm run test:postgres`, where they are pipelined and judged when their answer comes. Either
 * way a failed check fails the whole transaction with the check's own error and leaves nothing
 * behind; and `together` fails with the first step's error in the order given.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openStore, type Store } from '../../src/store/index.ts';
import { together } from '../../src/store/in-order.ts';
import { selectRows, verify, write } from '../../src/store/sql-text.ts';
import { createTestDatabase, postgresTestUrl, type TestDatabase } from '../helpers/postgres.ts';

const INSERT_VPC =
  'insert into "vpcs" ("id", "account_id", "region", "cidr_block", "state", "is_default", "dhcp_options_id", "instance_tenancy", "enable_dns_support", "enable_dns_hostnames", "created_at") ' +
  `values (?, '1', 'r', '10.0.0.0/16', 'available', 0, 'default', 'default', 1, 0, '')`;
const RENAME_STATE = 'update "vpcs" set "state" = ? where "id" = ?';
const VPCS = 'select "id", "state" from "vpcs" where "account_id" = \'1\' order by "id"';

class Refused extends Error {}

describe('checks that travel with a write', () => {
  let store: Store;
  let database: TestDatabase | undefined;

  before(async () => {
    const url = postgresTestUrl();
    if (url) database = await createTestDatabase(url);
    store = await openStore({ database: database?.url ?? 'memory', dataDir: '.' });
  });
  after(async () => {
    await store?.close();
    await database?.drop();
  });

  const committed = () => store.transaction((tx) => selectRows<{ id: string; state: string }>(tx, VPCS), { writes: false });

  test('a write that changes other than the rows expected fails its transaction with its own error; nothing is committed', async () => {
    const outcome = store.transaction(async (tx) => {
      await write(tx, INSERT_VPC, ['vpc-kept-not']);
      // Not waited for on PostgreSQL: it matches no row, so the statement after it is refused.
      await write(tx, RENAME_STATE, ['pending', 'vpc-missing'], { rows: 1, otherwise: () => new Refused('no such vpc') });
      await selectRows(tx, VPCS);
      return 'committed';
    });
    await assert.rejects(outcome, (error) => error instanceof Refused && error.message === 'no such vpc');
    assert.deepEqual(await committed(), []);
  });

  test('a failed check with nothing after it stops the commit', async () => {
    const outcome = store.transaction(async (tx) => {
      await write(tx, INSERT_VPC, ['vpc-last-not']);
      await write(tx, RENAME_STATE, ['pending', 'vpc-missing'], { rows: 1, otherwise: () => new Refused('last') });
    });
    await assert.rejects(outcome, Refused);
    assert.deepEqual(await committed(), []);
  });

  test('verify judges rows after a change: a limit passed fails the transaction, one kept commits', async () => {
    const limitOne = (rows: unknown[]) => (rows.length > 1 ? new Refused(`${rows.length} vpcs`) : undefined);
    await store.transaction(async (tx) => {
      await write(tx, INSERT_VPC, ['vpc-a']);
      await verify(tx, VPCS, [], limitOne);
    });
    const second = store.transaction(async (tx) => {
      await write(tx, INSERT_VPC, ['vpc-b']);
      await verify(tx, VPCS, [], limitOne);
    });
    await assert.rejects(second, (error) => error instanceof Refused && error.message === '2 vpcs');
    assert.deepEqual(await committed(), [{ id: 'vpc-a', state: 'available' }]);
    // A check that passes changes nothing about the write it follows.
    await store.transaction((tx) => write(tx, RENAME_STATE, ['pending', 'vpc-a'], { rows: 1, otherwise: () => new Refused('unexpected') }));
    assert.deepEqual(await committed(), [{ id: 'vpc-a', state: 'pending' }]);
  });
});

test('together: every step starts at once; the failure reported is the first in the order given, not the first to come', async () => {
  const started: string[] = [];
  const step = (name: string, ms: number, fail: boolean) => () => {
    started.push(name);
    return new Promise<string>((resolve, reject) => setTimeout(() => (fail ? reject(new Error(name)) : resolve(name)), ms));
  };
  assert.deepEqual(await together(step('a', 5, false), step('b', 1, false)), ['a', 'b']);
  started.length = 0;
  await assert.rejects(together(step('slow', 30, true), step('fast', 1, true), step('ok', 1, false)), /^Error: slow$/);
  assert.deepEqual(started, ['slow', 'fast', 'ok'], 'all started before any answered');
  await assert.rejects(
    together(
      () => {
        throw new Error('at once');
      },
      step('later', 1, true),
    ),
    /at once/,
  );
});
