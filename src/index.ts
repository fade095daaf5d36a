/**
 * eni-local as a library, for in-process tests:
 *
 *   import { startServer } from 'eni-local';
 *   const server = await startServer({ port: 0, database: 'memory' });
 *   // … point an EC2 client at server.url …
 *   await server.close();
 *
 * The types here are the package's public ones, written out rather than re-exported, so that the
 * package's declarations (dist/types/index.d.ts) stand alone: the server's own types reach into
 * Fastify, Kysely and the AWS SDK, which the installed package bundles instead of depending on.
 * `startServer` passes its options to the server's and returns the server's result, so the
 * compiler checks that these types fit the server's own.
 */
import { startServer as startEniLocal } from './server.ts';

export { VERSION } from './version.ts';

export interface ServerOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** TCP port; default 4599; 0 picks a free one. */
  port?: number;
  /** Where the state lives; default ./.eni-local. */
  dataDir?: string;
  /** `memory`, `sqlite:PATH` or `postgres://…`; default SQLite in dataDir. */
  database?: string;
  /** SQLite: `normal` survives a crash of the process, `full` also a power loss. */
  durability?: 'normal' | 'full';
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  logLevel?: string;
  /** Region for requests that carry no credential scope; default us-east-1. */
  defaultRegion?: string;
  defaultAccount?: string;
  /** Access key id → account id (open mode). */
  accounts?: Record<string, string>;
  /** `open` (default): any signature, the access key chooses the account; `sigv4`: valid signatures of `credentials` only. */
  auth?: 'open' | 'sigv4';
  /** The access keys, or the path of a JSON file holding them. Required in sigv4 mode. */
  credentials?: readonly CredentialEntry[] | string;
  /** EC2's request throttling: `off` (default), `aws`, or AWS's buckets with overrides. */
  throttle?: 'off' | 'aws' | ThrottleConfig;
  /** AWS's default quotas, overridden by name (e.g. `{ vpcsPerRegion: 50 }`). */
  quotas?: Partial<Record<string, number>>;
  /** How long transitions last in ms (`instancePendingMs`, `attachingMs`, `detachingMs`, …); default 0. */
  timings?: Partial<Record<string, number>>;
  /** Whether each account and region gets AWS's default VPC on first use; default true. */
  defaultVpc?: boolean;
  /** Where Elastic IPs and automatic public IPv4 addresses come from; default 198.18.0.0/15. */
  publicIpv4Pool?: string;
  /** Largest request body in bytes; default 1 MiB. */
  bodyLimit?: number;
  /** Milliseconds a client has to send its whole request; default 30 s. */
  requestTimeout?: number;
  /** `simulated` (default) or `linux` (network namespaces; needs root). */
  dataplane?: 'simulated' | 'linux';
  /** Linux plane: how much of an interface the guest has configured. */
  guestNetwork?: 'aws' | 'primary' | 'none' | 'ec2-net-utils';
  /** Linux plane: six hex digits every namespace of this server starts with. */
  dataplanePrefix?: string;
}

export interface CredentialEntry {
  accessKeyId: string;
  secretAccessKey?: string;
  accountId: string;
  sessionToken?: string;
}

export interface TokenBucketSettings {
  capacity: number;
  refillRate: number;
}

export interface ThrottleConfig {
  categories?: Partial<Record<string, TokenBucketSettings>>;
  actions?: Record<string, TokenBucketSettings>;
}

/** A committed state change, as GET /_eni/events streams it. */
export interface CloudEvent {
  id: number;
  type: string;
  time: string;
  account: string;
  region: string;
  [detail: string]: unknown;
}

export interface RunningServer {
  /** `http://HOST:PORT` with the real port. */
  url: string;
  host: string;
  port: number;
  /** Which store holds the state, and where (a file path or a redacted URL). */
  store: { readonly kind: string; readonly location: string };
  /** The live event stream: `subscribe` returns the function that unsubscribes. */
  events: { subscribe(listener: (event: CloudEvent) => void): () => void };
  /** What the server warned about at start, e.g. open mode on a public interface. */
  warnings: string[];
  close(): Promise<void>;
}

/** Starts a server; resolves once it listens. */
export function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  return startEniLocal(options);
}
