/**
 * Property-based fuzzing of the EC2 Query endpoint (fast-check), over EVERY served action: (a)
 * random requests built from the model's input shapes (valid structure, random and edge-case
 * values, ids of the right prefixes, ids of a small pre-built topology) and (b) plausible requests
 * put through a mutation (a required member dropped, a parameter duplicated, a value corrupted, an
 * unknown parameter, list index 0 or 99999999, broken encodings, Action and Version games…).
 * Every request goes as raw HTTP to a real server; every answer must be well-formed: never a
 * 5xx, an error is EC2's envelope with a code of the catalogue, a success is the action's XML. The
 * server must stay up, and the state must keep every invariant (checkInvariants) at the end.
 *
 * CI runs ENI_LOCAL_FUZZ_RUNS cases (default 3,000, split evenly over the actions and the two
 * kinds) with a fixed seed (ENI_LOCAL_FUZZ_SEED); `npm run fuzz` runs 50,000.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ACTIONS } from '../../src/api/ec2/actions/index.ts';
import { ec2Model } from '../../src/api/ec2/model.ts';
import type { Operation } from '../../src/api/ec2/model.ts';
import { checkInvariants } from '../../src/check.ts';
import {
  answerProblem,
  buildTopology,
  catalogueCodes,
  describeRequest,
  generateInput,
  MUTATIONS,
  mutate,
  send,
  servedOperations,
  withProtocol,
  type Topology,
  type WireRequest,
} from '../helpers/fuzz.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const RUNS = Number(process.env.ENI_LOCAL_FUZZ_RUNS ?? 3000);
const SEED = Number(process.env.ENI_LOCAL_FUZZ_SEED ?? 7_2024);

describe('fuzz: the EC2 Query endpoint answers every request well-formed', () => {
  let server: TestServer;
  let topology: Topology;
  let codes: Set<string>;
  const operations = servedOperations(ec2Model());
  const actions = operations.map((o) => o.name);
  const perAction = Math.max(1, Math.round(RUNS / 2 / operations.length));
  const stats = { cases: 0, statuses: new Map<number, number>(), codes: new Map<string, number>() };

  before(async () => {
    server = await startTestServer();
    topology = await buildTopology(server.client());
    codes = catalogueCodes();
  });
  after(() => server.stop());

  const healthy = async () => {
    const res = await fetch(`${server.url}/_eni/health`);
    assert.equal(res.status, 200, 'the server answers its health check');
  };

  /** Sends one request and records what came back; throws (a property failure) on a broken answer. */
  const exchange = async (request: WireRequest) => {
    const answer = await send(server.url, request);
    stats.cases++;
    stats.statuses.set(answer.status, (stats.statuses.get(answer.status) ?? 0) + 1);
    const code = /<Code>([^<]*)<\/Code>/.exec(answer.text)?.[1] ?? (answer.status === 200 ? 'success' : '?');
    stats.codes.set(code, (stats.codes.get(code) ?? 0) + 1);
    const problem = answerProblem(request, answer, codes);
    if (problem) throw new Error(`${problem}\n  request: ${describeRequest(request)}`);
  };

  /** Runs the property for every action, collecting every failure rather than stopping at the first. */
  const overEveryAction = async (kind: string, property: (operation: Operation) => fc.IAsyncProperty<unknown[]>) => {
    const failures: string[] = [];
    for (const [i, operation] of operations.entries()) {
      const details = await fc.check(property(operation), { seed: SEED + i, numRuns: perAction, endOnFailure: false });
      if (details.failed) {
        const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        failures.push(`${kind} ${operation.name}: ${error}\n${fc.defaultReportMessage(details) ?? ''}`);
      }
      await healthy();
    }
    assert.deepEqual(failures, [], failures.join('\n\n'));
  };

  test('every served action has a model shape, and the catalogue lists the codes it can produce', () => {
    assert.equal(operations.length, Object.keys(ACTIONS).length);
    for (const code of ['MissingAction', 'InvalidAction', 'MalformedQueryString', 'InvalidParameterValue', 'InvalidVpcID.NotFound', 'RequestTimeout']) {
      assert.ok(codes.has(code), code);
    }
  });

  test(`random requests from the model's input shapes, over every action (seed ${SEED})`, async (t) => {
    t.diagnostic(`seed ${SEED}, ${perAction} cases for each of ${operations.length} actions; ENI_LOCAL_FUZZ_SEED / ENI_LOCAL_FUZZ_RUNS change them`);
    await overEveryAction('random', (operation) =>
      fc.asyncProperty(fc.gen(), fc.constantFrom<'POST' | 'GET'>('POST', 'POST', 'POST', 'GET'), async (g, method) => {
        const pairs = generateInput(g, operation, { topology, plausible: false });
        await exchange({ method, pairs: withProtocol(operation.name, pairs) });
      }),
    );
  });

  test(`plausible requests, as they are or mutated, over every action (seed ${SEED})`, async (t) => {
    t.diagnostic(`mutations: ${MUTATIONS.join(', ')}`);
    await overEveryAction('mutated', (operation) =>
      fc.asyncProperty(fc.gen(), fc.oneof(
          // A third go as they are (to reach the rules behind a valid request), the rest through one to three mutations.
          { weight: 1, arbitrary: fc.constant([]) },
          { weight: 2, arbitrary: fc.array(fc.constantFrom(...MUTATIONS), { minLength: 1, maxLength: 3 }) },
        ), async (g, mutations) => {
        const request: WireRequest = { method: 'POST', pairs: withProtocol(operation.name, generateInput(g, operation, { topology, plausible: true })) };
        for (const mutation of mutations) mutate(g, request, mutation, operation, actions);
        await exchange(request);
      }),
    );
  });

  test('afterwards the server is up and the state keeps every invariant', async (t) => {
    await healthy();
    const violations = await checkInvariants(server.store);
    assert.deepEqual(violations, []);
    const top = (m: Map<string | number, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    t.diagnostic(`${stats.cases} requests; HTTP ${top(stats.statuses)}`);
    t.diagnostic(`answers: ${top(stats.codes)}`);
  });
});
