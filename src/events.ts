/**
 * The live event stream: every state change a committed request made (interfaces created,
 * attached, detached, deleted; addresses associated; instance states; flow verdicts), in order,
 * for the console and for users' tests (`GET /_eni/events`). In-process: with several server
 * nodes, each node streams the changes it made.
 */
import { EventEmitter } from 'node:events';

export interface CloudEvent {
  /** Increasing per server process, for Last-Event-ID. */
  id: number;
  type: string;
  time: string;
  account: string;
  region: string;
  [detail: string]: unknown;
}

export type EventInput = { type: string } & Record<string, unknown>;

const KEEP = 1000;

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly recent: CloudEvent[] = [];
  private nextId = 1;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish(event: Omit<CloudEvent, 'id'>): CloudEvent {
    const full = { ...event, id: this.nextId++ } as CloudEvent;
    this.recent.push(full);
    if (this.recent.length > KEEP) this.recent.shift();
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
