/**
 * Runs a transaction's queries one after another. One transaction is one connection, which
 * takes one query at a time (pg 8 warns about, and pg 9 refuses, queries issued concurrently on
 * one client): `Promise.all` over queries of one transaction is not allowed here.
 */
export async function inOrder<T extends unknown[]>(...steps: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
  const results: unknown[] = [];
  for (const step of steps) results.push(await step());
  return results as T;
}
