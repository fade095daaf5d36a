/**
 * The PostgreSQL store's scope lanes: a scope's writers on one node run one at a time, in the
 * order they came, and each hands its connection to the next as soon as it has sent its commit;
 * writers that name their resources take their scope's lock shared and their resources' locks, in
 * one order, and at most so many of them per scope run at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { RESOURCE_LOCK, SCOPE_LOCK, scopeGates, scopeLanes, scopeLock, type Turn } from '../../src/store/postgres.ts';

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

test('a writer of the whole scope takes its lock exclusively; one of named resources shares it and takes each resource once, in one order', () => {
  const whole = scopeLock({ account: '111111111111', region: 'us-east-1' }).text;
  const locks = (text: string) => [...text.matchAll(/pg_advisory_xact_lock(_shared)?\((\d+), (-?\d+)\)/g)].map((m) => ({ shared: !!m[1], space: Number(m[2]), key: Number(m[3]) }));
  const scope = locks(whole).find((l) => l.space === SCOPE_LOCK)!;
  assert.equal(scope.shared, false);

  const a = locks(scopeLock({ account: '111111111111', region: 'us-east-1', resources: ['eni-0aaa', 'i-0bbb', 'eni-0aaa'] }).text);
  const b = locks(scopeLock({ account: '111111111111', region: 'us-east-1', resources: ['i-0bbb', 'eni-0aaa'] }).text);
  assert.deepEqual(a, b, 'the same resources, in any order and repeated, take the same locks in the same order');
  assert.deepEqual(
    a.filter((l) => l.space === SCOPE_LOCK),
    [{ ...scope, shared: true }],
    "the scope's own lock, shared",
  );
  const resources = a.filter((l) => l.space === RESOURCE_LOCK);
  assert.equal(resources.length, 2);
  assert.ok(resources.every((l) => !l.shared));
  assert.ok(resources[0].key < resources[1].key, 'taken in ascending key order');
  assert.ok(a.findIndex((l) => l.space === SCOPE_LOCK) < a.findIndex((l) => l.space === RESOURCE_LOCK), "the scope's lock first");

  // Another account naming the same interface (attached under a permission) queues behind it.
  const other = locks(scopeLock({ account: '222222222222', region: 'us-east-1', resources: ['eni-0aaa'] }).text);
  assert.ok(resources.some((l) => l.key === other.find((o) => o.space === RESOURCE_LOCK)!.key));
});

test('a gate lets so many of one key run at once, the rest in the order they came; other keys do not wait', async () => {
  const through = scopeGates(2);
  const log: string[] = [];
  const ends = [gate(), gate(), gate()];
  const runs = ends.map((end, i) =>
    through('A', async () => {
      log.push(`a${i} starts`);
      await end.promise;
      log.push(`a${i} ends`);
    }),
  );
  const other = through('B', async () => void log.push('b runs'));
  await tick();
  assert.deepEqual(log, ['a0 starts', 'a1 starts', 'b runs']);
  ends[1].open();
  await runs[1];
  await tick();
  assert.deepEqual(log.slice(3), ['a1 ends', 'a2 starts'], 'the freed place goes to the one that waited');
  ends[0].open();
  ends[2].open();
  await Promise.all([...runs, other]);
  // A failure frees its place too.
  const failing = through('A', async () => {
    throw new Error('failed');
  });
  await assert.rejects(failing, /failed/);
  assert.equal(await through('A', async () => 'ran'), 'ran');
});
