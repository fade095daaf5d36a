/**
 * Builds the HTTP server from its parts: the store, the EC2 endpoint, the JSON extension API.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import ipaddr from 'ipaddr.js';
import pino from 'pino';
import { openAuthenticator, sigv4Authenticator, type Authenticator, type AuthMode } from './api/ec2/auth.ts';
import { ec2ClientErrorHandler, ec2Endpoint } from './api/ec2/endpoint.ts';
import { credentialEntries, readCredentialsFile, type CredentialEntry } from './api/ec2/identity.ts';
import { RequestThrottle, throttleConfig, type ThrottleConfig } from './api/ec2/throttle.ts';
import { webConsole } from './api/ext/console.ts';
import { dataplaneEndpoints } from './api/ext/dataplane.ts';
import { healthEndpoint } from './api/ext/health.ts';
import { imdsHostEndpoint } from './api/ext/imds.ts';
import { EVENTS_KEPT, EventBus, type CloudEvent } from './events.ts';
import { cloudConfig, type Quotas, type Timings } from './cloud/config.ts';
import { openStore, type Store } from './store/index.ts';
import type { Durability } from './store/sqlite.ts';
import { LinuxPlane } from './dataplane/linux/plane.ts';
import { imdsRequestHandler } from './imds/service.ts';
import type { GuestNetwork } from './dataplane/linux/render.ts';
import { nextScheduled, runInContext, settleAllDue } from './api/run.ts';
import { recordObservations } from './cloud/flow-logs.ts';
import { createHash, randomBytes } from 'node:crypto';

export interface ServerOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** TCP port; default 4599; 0 picks a free one. */
  port?: number;
  /** Where the state lives; default ./.eni-local. */
  dataDir?: string;
  /** `memory`, `sqlite:PATH` or `postgres://…`; default SQLite in dataDir. */
  database?: string;
  durability?: Durability;
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  logLevel?: string;
  /** Region for requests that carry no credential scope; default us-east-1. */
  defaultRegion?: string;
  defaultAccount?: string;
  /** Access key id → account id (open mode). */
  accounts?: Record<string, string>;
  /**
   * `open` (default): any signature is accepted, the access key only chooses the account.
   * `sigv4`: every EC2 request must carry a valid Signature Version 4 made with a key of `credentials`.
   */
  auth?: AuthMode;
  /**
   * The access keys: a list, or the path of a JSON file holding one
   * (`[{"accessKeyId","secretAccessKey","accountId","sessionToken"?}]`). Required in sigv4 mode;
   * in open mode it only maps keys to accounts (secrets ignored).
   */
  credentials?: readonly CredentialEntry[] | string;
  /**
   * EC2's request throttling per account and region: `off` (default), `aws` (AWS's documented
   * token buckets), or AWS's buckets with overrides per category and per action.
   */
  throttle?: 'off' | 'aws' | ThrottleConfig;
  quotas?: Partial<Quotas>;
  /** Transition delays (instance pending/stopping/shutting-down, attaching/detaching). */
  timings?: Partial<Timings>;
  /** Whether each account and region gets AWS's default VPC on first use; default true. */
  defaultVpc?: boolean;
  /** Where Elastic IPs and automatic public IPv4 addresses come from; default 198.18.0.0/15 (reserved for testing). */
  publicIpv4Pool?: string;
  /** Largest request body in bytes; default 1 MiB. */
  bodyLimit?: number;
  /** Milliseconds a client has to send its whole request (line, headers, body); default 30 s. */
  requestTimeout?: number;
  /**
   * `simulated` (default): the data plane computes where packets would go. `linux`: instances are
   * network namespaces and interfaces real veth interfaces that move on attach (needs root or
   * CAP_NET_ADMIN + CAP_SYS_ADMIN, iproute2 and nftables).
   */
  dataplane?: 'simulated' | 'linux';
  /** Linux plane: how much of an interface the guest has configured (`aws` as Amazon Linux 2023, `primary`, `none`). */
  guestNetwork?: GuestNetwork;
  /** Linux plane: six hex digits every namespace of this server starts with (default: derived from the database). */
  dataplanePrefix?: string;
}

export interface RunningServer {
  /** `http://HOST:PORT` with the real port. */
  url: string;
  host: string;
  port: number;
  store: Store;
  app: FastifyInstance;
  /** The live event stream (what GET /_eni/events serves), for in-process tests. */
  events: EventBus;
  /** What the server warned about at start (also logged), e.g. open mode on a public interface. */
  warnings: string[];
  /** The linux data plane, when the server runs one. */
  plane?: LinuxPlane;
  close(): Promise<void>;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 4599,
  dataDir: '.eni-local',
  logLevel: 'warn',
  defaultRegion: 'us-east-1',
  bodyLimit: 1024 * 1024,
  requestTimeout: 30_000,
} as const;

export async function buildServer(options: ServerOptions, store: Store, events = new EventBus(), plane?: LinuxPlane): Promise<FastifyInstance> {
  const startedAt = Date.now();
  const throttle = requestThrottleFor(options.throttle, store);
  const config = cloudConfigFor(options);
  const authenticator = authenticatorFor(options, config.defaultAccount);
  const requestTimeout = options.requestTimeout ?? DEFAULTS.requestTimeout;
  const app = Fastify({
    logger: { level: options.logLevel ?? DEFAULTS.logLevel, stream: pino.destination(2) },
    // Fastify's own per-request lines are replaced by the one line of the onResponse hook.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    // Event streams stay open: closing the server closes them.
    forceCloseConnections: true,
    // A slow or stalled request is cut off (checked every second) instead of holding a connection
    // forever; Node only tracks the timeout when the server is created with it, hence `http` too.
    requestTimeout,
    http: { requestTimeout, connectionsCheckingInterval: 1000 },
    clientErrorHandler: ec2ClientErrorHandler({ requestTimeout, maxHeaderSize: http.maxHeaderSize }),
  });

  // One log line per request: what was asked, how it ended, how long it took (only when the
  // level shows it: the hook costs every request a promise and an object otherwise thrown away).
  if (app.log.level === 'info' || app.log.level === 'debug' || app.log.level === 'trace') {
    app.addHook('onResponse', async (request, reply) => {
      request.log.info(
        { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, ...request.ec2 },
        'request',
      );
    });
  }

  await app.register(healthEndpoint, { store, startedAt });
  await app.register(ec2Endpoint, {
    store,
    config,
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    authenticator,
    throttle,
    events,
    plane,
  });
  const ext = { store, config, events, plane, authenticator, defaultRegion: options.defaultRegion ?? DEFAULTS.defaultRegion };
  await app.register(dataplaneEndpoints, ext);
  await app.register(webConsole, ext);
  await app.register(imdsHostEndpoint, ext);
  return app;
}

function cloudConfigFor(options: ServerOptions) {
  return cloudConfig({
    quotas: options.quotas,
    timings: options.timings,
    defaultAccount: options.defaultAccount,
    defaultVpc: options.defaultVpc,
    publicIpv4Pool: options.publicIpv4Pool,
    dataDir: path.resolve(options.dataDir ?? DEFAULTS.dataDir),
  });
}

/** The authenticator the options ask for; throws on a missing or invalid credentials list. */
function authenticatorFor(options: ServerOptions, defaultAccount: string): Authenticator {
  const mode = options.auth ?? 'open';
  if (mode !== 'open' && mode !== 'sigv4') throw new Error(`auth must be 'open' or 'sigv4', not '${String(mode)}'`);
  const requireSecrets = mode === 'sigv4';
  const credentials =
    typeof options.credentials === 'string'
      ? readCredentialsFile(options.credentials, { requireSecrets })
      : credentialEntries(options.credentials ?? [], 'credentials', { requireSecrets });
  if (mode === 'sigv4') {
    if (!credentials.length) throw new Error('sigv4 mode needs credentials (a credentials file, or the list) to verify signatures against');
    return sigv4Authenticator({ credentials });
  }
  const accounts = new Map(Object.entries(options.accounts ?? {}));
  for (const entry of credentials) accounts.set(entry.accessKeyId, entry.accountId);
  return openAuthenticator({ defaultRegion: options.defaultRegion ?? DEFAULTS.defaultRegion, defaultAccount, accounts });
}

/** The throttle: its buckets in the shared store when there is one (every node draws from them), else in this process. */
function requestThrottleFor(setting: ServerOptions['throttle'], store: Store): RequestThrottle | undefined {
  if (setting === undefined || setting === 'off') return undefined;
  if (typeof setting === 'string' && setting !== 'aws') throw new Error(`throttle must be 'off', 'aws' or an object of bucket overrides, not '${setting}'`);
  const config = setting === 'aws' ? {} : throttleConfig(setting, 'throttle');
  return new RequestThrottle(config, undefined, store.tokenBuckets);
}

/** Reads a `--throttle-config` file: `{"categories": {…}, "actions": {…}}`, each `{"capacity","refillRate"}`. */
export function readThrottleConfigFile(file: string): ThrottleConfig {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read throttle configuration ${file}: ${(error as Error).message}`);
  }
  return throttleConfig(value, file);
}

/** Whether a listening address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return false;
  const address = ipaddr.process(bare);
  return address.range() === 'loopback';
}

/** What deserves a warning at start. */
function startWarnings(options: ServerOptions, host: string): string[] {
  const warnings: string[] = [];
  if ((options.auth ?? 'open') === 'open' && !isLoopback(host)) {
    warnings.push(
      `listening on ${host} in open mode: anyone who can reach this address can use the EC2 API without credentials; use --auth sigv4 --credentials FILE, or --host 127.0.0.1`,
    );
  }
  return warnings;
}

/** Opens the store, builds the server and listens. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const store = await openStore({
    database: options.database,
    dataDir: path.resolve(options.dataDir ?? DEFAULTS.dataDir),
    durability: options.durability,
  });
  let app: FastifyInstance;
  const events = new EventBus();
  let plane: LinuxPlane | undefined;
  try {
    if (options.dataplane === 'linux') plane = await linuxPlaneFor(options, store, () => app);
    else if (options.dataplane !== undefined && options.dataplane !== 'simulated') throw new Error(`dataplane must be 'simulated' or 'linux', not '${String(options.dataplane)}'`);
    app = await buildServer(options, store, events, plane);
    // A shared store: this node streams what every node commits (the last KEEP for reconnects).
    await store.eventLog?.follow((event) => events.deliver(event as CloudEvent), EVENTS_KEPT);
    // The plane is rebuilt from the store before the first request is answered.
    await plane?.start();
    await app.listen({ host: options.host ?? DEFAULTS.host, port: options.port ?? DEFAULTS.port });
  } catch (error) {
    await plane?.stop();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? DEFAULTS.port);
  const host = options.host ?? DEFAULTS.host;
  const warnings = startWarnings(options, host);
  for (const warning of warnings) app.log.warn(warning);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    store,
    app,
    events,
    warnings,
    plane,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await plane?.stop();
        await store.close();
      })()),
  };
}

/** The linux plane of a server: its namespaces' prefix comes from the database, so a restart finds them again. */
async function linuxPlaneFor(options: ServerOptions, store: Store, app: () => FastifyInstance): Promise<LinuxPlane> {
  await LinuxPlane.checkHost(options.guestNetwork);
  const prefix = options.dataplanePrefix ?? (store.kind === 'memory' ? randomBytes(3).toString('hex') : createHash('sha256').update(store.location).digest('hex').slice(0, 6));
  if (!/^[0-9a-f]{6}$/.test(prefix)) throw new Error(`dataplanePrefix must be six lowercase hex digits, not '${prefix}'`);
  const config = cloudConfigFor(options);
  const log = pino({ level: options.logLevel ?? DEFAULTS.logLevel }, pino.destination(2));
  const runner = () => ({ store, config, plane });
  const plane: LinuxPlane = new LinuxPlane({
    store,
    prefix,
    guestNetwork: options.guestNetwork ?? 'aws',
    log,
    // A connection from inside the plane to the EC2 API's address is one more client of this server.
    apiConnection: (socket) => app().server.emit('connection', socket),
    imds: imdsRequestHandler({ store, config }),
    nextDue: () => nextScheduled(runner()),
    settleDue: () => settleAllDue(runner()),
    // Flow records change nothing the kernel carries: written without a sync.
    recordFlows: (account, region, observations) =>
      runInContext({ store, config }, { account, region, requestId: 'flow-logs', writes: true }, (ctx) => recordObservations(ctx, 0, observations)),
  });
  return plane;
}
