/**
 * What every rule in cloud/ works with: the caller's account and region, the one store
 * transaction of the request, the clock and the settings. Nothing of HTTP or XML.
 */
import type { Transaction } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { EventInput } from '../events.ts';
import type { CloudConfig } from './config.ts';

export interface Context {
  readonly tx: Transaction<Database>;
  readonly account: string;
  readonly region: string;
  readonly requestId: string;
  /** The request's time: every timestamp written by one request is the same. */
  readonly now: Date;
  readonly config: CloudConfig;
  /** Runs fn once the transaction has committed (events, timers); never on rollback or DryRun. */
  afterCommit(fn: () => void): void;
  /** Publishes a state change on the event stream once the transaction has committed. */
  emit(event: EventInput): void;
}
