/**
 * The live event stream: every state change a committed request made (interfaces created,
 * attached, detached, deleted; addresses associated; instance states; flow verdicts), in order,
 * for the console and for users' tests (`GET /_eni/events`). On the embedded store the process
 * numbers what it commits; on a shared store (PostgreSQL) every node delivers the store's event
 * log, so each streams the changes of every node, with the log's ids.
 */
import { EventEmitter } from 'node:events';

export interface CloudEvent {
  /** Increasing (per process, or the shared log's), for Last-Event-ID. */
  id: number;
  type: string;
  time: string;
  account: string;
  region: string;
  [detail: string]: unknown;
}

export type EventInput = { type: string } & Record<string, unknown>;

/** How many recent events are kept for clients that reconnect (Last-Event-ID). */
export const EVENTS_KEPT = 1000;

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly recent: CloudEvent[] = [];
  private nextId = 1;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: Omit<CloudEvent, 'id'>): CloudEvent {
    return this.deliver({ ...event, id: this.nextId } as CloudEvent);
  }

  /** Publishes an event numbered elsewhere (a shared store's log), ids increasing. */
  deliver(full: CloudEvent): CloudEvent {
    this.nextId = full.id + 1;
    this.recent.push(full);
    if (this.recent.length > EVENTS_KEPT) this.recent.shift();
    this.emitter.emit('event', full);
    return full;
  }

  /** Events kept in memory after the given id (for a client that reconnects). */
  since(id: number): CloudEvent[] {
    return this.recent.filter((e) => e.id > id);
  }

  subscribe(listener: (event: CloudEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
