/**
 * The embedded default store: SQLite through better-sqlite3, in WAL mode.
 * `synchronous=NORMAL` survives a crash of the process (the default); `FULL` also a power loss.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDialectConfig } from 'kysely';
import type { Database } from './schema.ts';
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
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  await migrate(db);
  return {
    kind: memory ? 'memory' : 'sqlite',
    location: memory ? 'memory' : path.resolve(options.file),
    db,
    transaction: (fn) => db.transaction().execute(fn),
    close: () => db.destroy(),
  };
}

/** How many prepared statements are kept, by SQL text (a describe of n ids has its own text). */
const STATEMENT_CACHE_SIZE = 512;

/**
 * The database as Kysely's SQLite driver sees it, with prepared statements kept and reused by SQL
 * text: the driver prepares every statement it runs, and preparing costs more than running most
 * of ours. Least recently used statements are dropped beyond STATEMENT_CACHE_SIZE. Safe because
 * the driver runs one statement at a time to completion (`all` or `run`, never left iterating).
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = sqlite.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}
