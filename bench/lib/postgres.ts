/**
 * A database of the benchmark's own on the PostgreSQL server a `--database` URL names, so every
 * run starts from an empty store as the SQLite runs do (a database reused across runs grows, and
 * its measurements stop being comparable). The URL's user must be allowed to create databases.
 */
import pg from 'pg';

export interface BenchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function onServer<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(url: string, stamp: string): Promise<BenchDatabase> {
  const name = `eni_local_bench_${stamp.replace(/[^0-9a-z]/gi, '').toLowerCase()}_${process.pid}`;
  await onServer(url, (c) => c.query(`create database "${name}" template template0 encoding 'UTF8'`));
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    drop: () => onServer(url, (c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}
