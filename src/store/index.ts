import path from 'node:path';
import { openSqliteStore, type Durability } from './sqlite.ts';
import type { Store } from './store.ts';

export type { Store, StoreKind } from './store.ts';
export type { Tx, Database, Row, NewRow } from './schema.ts';

export interface OpenStoreOptions {
  /** `memory`, `sqlite:PATH` or `postgres://…` (`postgresql://…`); default: SQLite under dataDir. */
  database?: string;
  dataDir: string;
  durability?: Durability;
  /** PostgreSQL: most connections this process opens (default the URL's `?pool_size=N`, else 10). */
  poolSize?: number;
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
    // Loaded only when asked for: the driver costs every embedded start tens of milliseconds.
    const { openPostgresStore } = await import('./postgres.ts');
    return openPostgresStore({ url, poolSize: options.poolSize });
  }
  throw new Error(`unknown database URL ${JSON.stringify(url)}: expected memory, sqlite:PATH or postgres://…`);
}
