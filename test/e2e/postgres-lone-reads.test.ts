/**
 * A read on PostgreSQL whose first statements can only read goes as one statement, without
 * `begin`/`commit` (one statement, one snapshot): what it answers is what the transaction would
 * have answered; a read that sends more after them runs again as a transaction; one that writes
 * still ends as a writer, and its write happens once. Observed through PostgreSQL itself: inside
 * the one statement the transaction is the implicit one (isolation `read committed`, not the
 * readers' `repeatable read`).
 * Runs under `npm run test:postgres`; skipped (with the reason) on the other stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openPostgresStore } from '../../src/store/postgres.ts';
import { execute, selectRows } from '../../src/store/sql-text.ts';
import type { Store } from '../../src/store/store.ts';
import { createTestDatabase, postgresSkipReason, postgresTestUrl, type TestDatabase } from '../helpers/postgres.ts';

const skip = postgresSkipReason();

const ISOLATION = "select current_setting('transaction_isolation') as \"isolation\", current_setting('transaction_read_only') as \"readOnly\"";

describe('reads sent as one statement on PostgreSQL', { skip }, () => {
  let database: TestDatabase;
  let store: Store;

  before(async () => {
    database = await createTestDatabase(postgresTestUrl()!);
    store = await openPostgresStore({ url: database.url });
    await store.transaction((tx) => execute(tx, 'create table "lone_test" ("id" integer primary key, "n" integer not null)'));
    await store.transaction((tx) => execute(tx, 'insert into "lone_test" ("id", "n") values (1, 0)'));
  });

  after(async () => {
    await store?.close();
    await database?.drop();
  });

  test('two selects sent together go as one statement, each with its own parameters and its own rows', async () => {
    let runs = 0;
    const [modes, sums, none] = await store.transaction(
      (tx) => {
        runs++;
        return Promise.all([
          selectRows<{ isolation: string; readOnly: string; tag: string }>(tx, `${ISOLATION}, ? as "tag"`, ['first']),
          selectRows<{ n: number }>(tx, 'select "n" + ? + ? as "n" from (values (1), (2), (3)) as "v"("n") order by "n"', [10, 100]),
          selectRows(tx, 'select 1 as "x" where ? = ?', ['a', 'b']),
        ]);
      },
      { writes: false },
    );
    assert.equal(runs, 1);
    assert.deepEqual(modes, [{ isolation: 'read committed', readOnly: 'off', tag: 'first' }], 'one statement: the implicit transaction, no begin');
    assert.deepEqual(
      sums.map((r) => r.n),
      [111, 112, 113],
      "the second statement's placeholders are its own, its rows in its order",
    );
    assert.deepEqual(none, []);
  });

  test('the values come back as the transaction would have given them', async () => {
    const text = 'select \'text\' as "t", 7 as "i", count(*) as "big", null as "nothing", true as "yes", \'{"a":[1,"b"]}\'::json as "j" from "lone_test"';
    const [alone, mode] = await store.transaction((tx) => Promise.all([selectRows(tx, text), selectRows<{ isolation: string }>(tx, ISOLATION)]), { writes: false });
    assert.equal(mode[0].isolation, 'read committed', 'sent as one statement');
    const [begun] = await store.transaction((tx) => Promise.all([selectRows(tx, text), selectRows(tx, ISOLATION)]));
    assert.deepEqual(alone, begun);
    assert.deepEqual(alone, [{ t: 'text', i: 7, big: 1, nothing: null, yes: true, j: { a: [1, 'b'] } }]);
  });

  test("a `$` in a literal is no placeholder: such statements are not renumbered into one", async () => {
    const [quoted, numbered] = await store.transaction(
      (tx) => Promise.all([selectRows(tx, 'select \'it\'\'s $1\' as "q", ? as "p"', ['one']), selectRows(tx, 'select ? as "p"', ['two'])]),
      { writes: false },
    );
    assert.deepEqual(quoted, [{ q: "it's $1", p: 'one' }]);
    assert.deepEqual(numbered, [{ p: 'two' }]);
  });

  test('a read that sends another statement after its first ones runs again as a transaction, and the next such read begins at once', async () => {
    let runs = 0;
    const read = () =>
      store.transaction(
        async (tx) => {
          runs++;
          const [first] = await selectRows<{ x: number }>(tx, 'select 41 + ? as "x"', [0]);
          const [second] = await selectRows<{ isolation: string }>(tx, ISOLATION);
          return { x: first.x, isolation: second.isolation };
        },
        { writes: false },
      );
    assert.deepEqual(await read(), { x: 41, isolation: 'repeatable read' });
    assert.equal(runs, 2, 'the first run went as one statement, then sent a second: run again, begun');
    runs = 0;
    assert.deepEqual(await read(), { x: 41, isolation: 'repeatable read' });
    assert.equal(runs, 1, 'a read of that shape now begins as a transaction');
  });

  test('a read whose statement writes still ends as a writer, and writes once', async () => {
    const before = (await store.transaction((tx) => selectRows<{ n: number }>(tx, 'select "n" from "lone_test" where "id" = 1'), { writes: false }))[0].n;
    // A data-modifying CTE would run if it went alone, unbegun: it goes wrapped, is refused, and the read runs again.
    const [changed] = await store.transaction(
      (tx) =>
        selectRows<{ n: number; locks: number }>(
          tx,
          'with "c" as (update "lone_test" set "n" = "n" + 1 where "id" = 1 returning "n") select "n", (select count(*) from pg_locks where "locktype" = \'advisory\' and "pid" = pg_backend_pid()) as "locks" from "c"',
        ),
      { writes: false },
    );
    assert.equal(changed.n, before + 1);
    assert.ok(changed.locks >= 1, "it wrote as a writer, holding the writers' lock");
    const [plain] = await store.transaction(
      (tx) => Promise.all([selectRows(tx, ISOLATION), execute(tx, 'update "lone_test" set "n" = "n" + 1 where "id" = 1')]),
      { writes: false },
    );
    assert.equal(plain.length, 1);
    const [after] = await store.transaction((tx) => selectRows<{ n: number }>(tx, 'select "n" from "lone_test" where "id" = 1'), { writes: false });
    assert.equal(after.n, before + 2, 'each write happened exactly once');
  });

  test('a select that locks rows is not sent unbegun: refused in the READ ONLY transaction, it runs as a writer', async () => {
    const LOCKS = 'select (select count(*) from pg_locks where "locktype" = \'advisory\' and "pid" = pg_backend_pid()) as "locks" from "lone_test" for update';
    const [locked] = await store.transaction((tx) => Promise.all([selectRows<{ locks: number }>(tx, LOCKS), selectRows(tx, ISOLATION)]), { writes: false });
    assert.ok(locked[0].locks >= 1, "a writer's: it holds the writers' lock");
  });
});
