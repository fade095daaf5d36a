import path from 'node:path';
import { openSqliteStore, type Durability } from './sqlite.ts';
import type { Store } from './store.ts';

export type { Store, StoreKind } from './store.ts';
export type { Tx, Database, Row, NewRow } from './schema.ts';

export interface OpenStoreOptions {
  /** `memory`, `sqlite:PATH`, or (later) `postgres://…`; default: SQLite under dataDir. */
  database?: string;
  dataDir: string;
  durability?: Durability;
}

/** Opens (and migrates) the store a database URL names. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const url = options.database ?? `sqlite:${path.join(options.dataDir, 'eni-local.sqlite')}`;
  if (url === 'memory' || url === 'sqlite::memory:') {
    return openSqliteStore({ file: ':memory:', durability: options.durability });
  }
  if (url.startsWith('sqlite:')) {
    return openSqliteStore({ file: url.slice('sqlite:'.length), durability: options.durability });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    throw new Error('PostgreSQL is not available yet in this build (see issue 6); use sqlite:PATH or memory');
  }
  throw new Error(`unknown database URL ${JSON.stringify(url)}: expected memory, sqlite:PATH or postgres://…`);
}
