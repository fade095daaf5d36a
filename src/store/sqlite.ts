/**
 * The embedded default store: SQLite through better-sqlite3, in WAL mode.
 * `synchronous=NORMAL` survives a crash of the process (the default); `FULL` also a power loss.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.ts';
import { runDirectly, type DirectConnection } from './sql-text.ts';
import { migrate, type Store } from './store.ts';

export type Durability = 'normal' | 'full';

export interface SqliteOptions {
  /** A file path, or ':memory:'. */
  file: string;
  durability?: Durability;
}

export async function openSqliteStore(options: SqliteOptions): Promise<Store> {
  const memory = options.file === ':memory:';
  if (!memory) mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
  const sqlite = new SqliteDatabase(options.file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // EC2 filter values are case-sensitive; LIKE must be too, as it is on PostgreSQL.
  sqlite.pragma('case_sensitive_like = ON');
  // Pages are read through a memory map (no system call per page read; a 100k-interface store
  // is ~110 MiB) and the WAL is copied back every 10,000 pages (~40 MiB) rather than 1,000:
  // each checkpoint writes a page once however often it changed since the last one, and a create
  // changes ~30 pages. Measured: reads at 100k interfaces -4 µs of sys time, creates -25 µs.
  sqlite.pragma('mmap_size = 268435456');
  sqlite.pragma('wal_autocheckpoint = 10000');
  const statements = statementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: { close: () => sqlite.close(), prepare: statements } }) });
  await migrate(db);
  // A transaction holds the one connection from begin to commit: its SQL texts run there directly.
  const connection: DirectConnection = {
    all: (text, params) => statements(text).all(params),
    run: (text, params) => statements(text).run(params).changes,
  };
  return {
    kind: memory ? 'memory' : 'sqlite',
    location: memory ? 'memory' : path.resolve(options.file),
    db,
    transaction: (fn) =>
      db.transaction().execute((tx) => {
        runDirectly(tx, connection);
        return fn(tx);
      }),
    close: () => db.destroy(),
  };
}

/** How many prepared statements are kept, by SQL text (a describe of n ids has its own text). */
const STATEMENT_CACHE_SIZE = 512;

/**
 * Prepared statements kept and reused by SQL text, for Kysely's SQLite driver (which prepares
 * every statement it runs, and preparing costs more than running most of ours) and for the SQL
 * texts run directly. Least recently used statements are dropped beyond STATEMENT_CACHE_SIZE.
 * Safe because every statement is run to completion (`all` or `run`, never left iterating)
 * before the next one starts.
 */
function statementCache(sqlite: SqliteDatabase.Database): (text: string) => SqliteDatabase.Statement {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return (text) => {
    let statement = cache.get(text);
    if (statement) {
      cache.delete(text);
    } else {
      statement = sqlite.prepare(text);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    }
    cache.set(text, statement);
    return statement;
  };
}
