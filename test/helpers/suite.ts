/**
 * node:test's describe/test/hooks, with one difference: a suite skipped for a reason
 * (`describe(name, { skip: 'needs PostgreSQL' }, fn)`) lists each of its tests as skipped, with
 * that reason, instead of vanishing from the count — node:test counts a skipped suite as no test
 * at all, so `npm test` said "skipped 0" while whole suites did not run. Inside a skipped suite
 * the hooks never run (they would start what the suite needs) and the tests' bodies neither.
 */
import * as nodeTest from 'node:test';

type Skip = string | boolean | undefined;
type SuiteOptions = { skip?: Skip; concurrency?: number | boolean; timeout?: number };
type TestFn = (t: nodeTest.TestContext) => void | Promise<void>;
type TestOptions = { skip?: Skip; timeout?: number; concurrency?: number | boolean; todo?: Skip };
type HookFn = Parameters<typeof nodeTest.before>[0];

/** The reason the suite being declared is skipped, while its body runs. */
let skipping: string | undefined;

const reasonOf = (skip: Skip) => (skip === true ? 'skipped' : skip || undefined);

export function describe(name: string, fn: () => void): void;
export function describe(name: string, options: SuiteOptions, fn: () => void): void;
export function describe(name: string, a: SuiteOptions | (() => void), b?: () => void): void {
  const options = typeof a === 'function' ? {} : a;
  const fn = typeof a === 'function' ? a : b!;
  const reason = skipping ?? reasonOf(options.skip);
  const { skip: _skip, ...rest } = options;
  if (!reason) {
    void nodeTest.describe(name, rest, fn);
    return;
  }
  void nodeTest.describe(name, rest, () => {
    const outer = skipping;
    skipping = reason;
    try {
      fn();
    } finally {
      skipping = outer;
    }
  });
}

export function test(name: string, fn: TestFn): void;
export function test(name: string, options: TestOptions, fn: TestFn): void;
export function test(name: string, a: TestOptions | TestFn, b?: TestFn): void {
  const options = typeof a === 'function' ? {} : a;
  const fn = typeof a === 'function' ? a : b!;
  if (skipping) {
    void nodeTest.test(name, { ...options, skip: skipping }, () => {});
    return;
  }
  void nodeTest.test(name, options, fn);
}

const hook =
  (register: (fn: HookFn) => void) =>
  (fn: HookFn): void => {
    if (!skipping) register(fn);
  };

export const before = hook((fn) => nodeTest.before(fn));
export const after = hook((fn) => nodeTest.after(fn));
export const beforeEach = hook((fn) => nodeTest.beforeEach(fn));
export const afterEach = hook((fn) => nodeTest.afterEach(fn));
export type { TestContext } from 'node:test';
