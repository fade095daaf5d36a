/**
 * Runs a transaction's queries one after another: each step starts once the one before it has
 * answered. For steps that need what an earlier one found.
 */
export async function inOrder<T extends unknown[]>(...steps: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
  const results: unknown[] = [];
  for (const step of steps) results.push(await step());
  return results as T;
}

/**
 * Starts every step at once, in order, and waits for all of them: on a store that pipelines
 * (PostgreSQL) their first statements travel in one round trip; on the embedded store they run
 * one after another as before. Fails with the first step's failure in the order given, not in
 * the order they came, so the error a caller sees does not depend on the store's timing.
 */
export async function together<T extends unknown[]>(...steps: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
  const outcomes = await Promise.all(
    steps.map((step) => {
      try {
        return settled(step());
      } catch (error) {
        return Promise.resolve({ error });
      }
    }),
  );
  return outcomes.map(outcome) as T;
}

export type Settled<T> = { value: T } | { error: unknown };

/** A promise's outcome without its rejection: for work started now and judged later, in a chosen order. */
export const settled = <T>(promise: Promise<T>): Promise<Settled<T>> => promise.then((value) => ({ value }), (error: unknown) => ({ error }));

/** The value of a settled outcome, or its error thrown. */
export const outcome = <T>(s: Settled<T>): T => {
  if ('error' in s) throw s.error;
  return s.value;
};
