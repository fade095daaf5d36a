/**
 * The store: one interface over the embedded SQLite database and PostgreSQL.
 * Every EC2 action runs inside exactly one transaction; a thrown error rolls it back whole.
 */
import { Kysely, Migrator, type Transaction } from 'kysely';
import type { Database } from './schema.ts';
import { migrations } from './migrations/index.ts';

export type StoreKind = 'sqlite' | 'memory' | 'postgres';

export interface Store {
  readonly kind: StoreKind;
  /** Where the state lives, for humans (a file path or a redacted URL). */
  readonly location: string;
  readonly db: Kysely<Database>;
  /**
   * Runs fn in one transaction: committed if it returns, rolled back if it throws. A shared store
   * (PostgreSQL) may roll fn back and run it again after losing a race with another transaction,
   * so fn must keep no state of its own outside the transaction.
   */
  transaction<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const reason = error instanceof Error ? error.message : String(error ?? failed?.migrationName);
    throw new Error(`store migration failed: ${reason}`);
  }
}
