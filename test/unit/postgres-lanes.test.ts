/**
 * The PostgreSQL store's scope lanes: a scope's writers on one node run one at a time, in the
 * order they came, and each hands its connection to the next as soon as it has sent its commit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { scopeLanes, type Turn } from '../../src/store/postgres.ts';

/** A stand-in for a pooled connection: only its release is watched. */
function connection(name: string) {
  const released: string[] = [];
  const client = { name, release: () => released.push(name) } as unknown as pg.PoolClient;
  return { client, released };
}

/** A promise and its resolver, for work that ends when the test says. */
function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('writers of one scope run one at a time, in the order they came; other scopes do not wait', async () => {
  const inLane = scopeLanes();
  const log: string[] = [];
  const first = gate();
  const a = inLane('A', async () => {
    log.push('a starts');
    await first.promise;
    log.push('a ends');
  });
  const b = inLane('A', async () => void log.push('b runs'));
  const other = inLane('B', async () => void log.push('other scope runs'));
  await tick();
  assert.deepEqual(log, ['a starts', 'other scope runs']);
  first.open();
  await Promise.all([a, b, other]);
  assert.deepEqual(log, ['a starts', 'other scope runs', 'a ends', 'b runs']);
});

test('a writer that has sent its commit hands its connection to the next, who starts at once', async () => {
  const inLane = scopeLanes();
  const { client, released } = connection('c1');
  const commitAnswered = gate();
  const log: string[] = [];
  let handed: boolean | undefined;
  const a = inLane('A', async (turn) => {
    assert.equal(turn.take(), undefined, 'the first writer takes a connection of its own');
    await tick();
    handed = turn.passOn(client);
    await commitAnswered.promise;
    log.push('a has its answer');
  });
  let taken: pg.PoolClient | undefined;
  const b = inLane('A', async (turn) => {
    taken = turn.take();
    log.push('b starts');
    assert.equal(turn.take(), undefined, 'a handed connection is taken once');
  });
  await b;
  assert.equal(handed, true);
  assert.equal(taken, client);
  assert.deepEqual(log, ['b starts'], 'b did not wait for a’s commit to be answered');
  commitAnswered.open();
  await a;
  assert.deepEqual(released, [], 'the connection is b’s to give back, not the lane’s');
});

test('with nobody waiting, passOn keeps the connection with its writer; the lane then ends with it', async () => {
  const inLane = scopeLanes();
  const { client } = connection('c1');
  let passed: boolean | undefined;
  await inLane('A', async (turn) => {
    passed = turn.passOn(client);
  });
  assert.equal(passed, false);
  // The lane ended: the next writer starts at once, with no connection handed to it.
  let taken: pg.PoolClient | undefined = client;
  await inLane('A', async (turn) => {
    taken = turn.take();
  });
  assert.equal(taken, undefined);
});

test('a turn moves the lane on once: passing on and then ending does not start a second writer', async () => {
  const inLane = scopeLanes();
  const { client } = connection('c1');
  const log: string[] = [];
  const bRuns = gate();
  const a = inLane('A', async (turn) => {
    await tick();
    turn.passOn(client);
    assert.equal(turn.passOn(client), false, 'a turn passes on once');
  });
  const b = inLane('A', async () => {
    log.push('b starts');
    await bRuns.promise;
    log.push('b ends');
  });
  const c = inLane('A', async () => void log.push('c runs'));
  await a;
  await tick();
  assert.deepEqual(log, ['b starts'], 'c still waits for b');
  bRuns.open();
  await Promise.all([b, c]);
  assert.deepEqual(log, ['b starts', 'b ends', 'c runs']);
});

test('a writer that fails, at once or later, still lets the next one run; a connection handed and never taken is given back', async () => {
  const inLane = scopeLanes();
  const { client, released } = connection('c1');
  const results = await Promise.allSettled([
    inLane('A', async (turn: Turn) => {
      await tick();
      turn.passOn(client);
    }),
    inLane('A', () => {
      throw new Error('thrown before any await');
    }),
    inLane('A', async () => {
      throw new Error('rejected');
    }),
    inLane('A', async () => 'ran'),
  ]);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [undefined, 'thrown before any await', 'rejected', 'ran'],
  );
  assert.deepEqual(released, ['c1'], 'the writer it was handed to never took it: the lane gave it back');
});
