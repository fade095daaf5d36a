/**
 * Builds the HTTP server from its parts: the store, the EC2 endpoint, the JSON extension API.
 */
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import pino from 'pino';
import { ec2Endpoint } from './api/ec2/endpoint.ts';
import { healthEndpoint } from './api/ext/health.ts';
import { cloudConfig, type Quotas, type Timings } from './cloud/config.ts';
import { openStore, type Store } from './store/index.ts';
import type { Durability } from './store/sqlite.ts';

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
  /** Access key id → account id. */
  accounts?: Record<string, string>;
  quotas?: Partial<Quotas>;
  /** Transition delays (instance pending/stopping/shutting-down, attaching/detaching). */
  timings?: Partial<Timings>;
  /** Whether each account and region gets AWS's default VPC on first use; default true. */
  defaultVpc?: boolean;
  /** Largest request body in bytes; default 1 MiB. */
  bodyLimit?: number;
}

export interface RunningServer {
  /** `http://HOST:PORT` with the real port. */
  url: string;
  host: string;
  port: number;
  store: Store;
  app: FastifyInstance;
  close(): Promise<void>;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  port: 4599,
  dataDir: '.eni-local',
  logLevel: 'warn',
  defaultRegion: 'us-east-1',
  bodyLimit: 1024 * 1024,
} as const;

export async function buildServer(options: ServerOptions, store: Store): Promise<FastifyInstance> {
  const startedAt = Date.now();
  const config = cloudConfig({
    quotas: options.quotas,
    timings: options.timings,
    defaultAccount: options.defaultAccount,
    defaultVpc: options.defaultVpc,
  });
  const app = Fastify({
    logger: { level: options.logLevel ?? DEFAULTS.logLevel, stream: pino.destination(2) },
    // Fastify's own per-request lines are replaced by the one line of the onResponse hook.
    logController: new LogController({ disableRequestLogging: true }), bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit });

  // One log line per request: what was asked, how it ended, how long it took.
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, ...request.ec2 },
      'request',
    );
  });

  await app.register(healthEndpoint, { store, startedAt });
  await app.register(ec2Endpoint, {
    store,
    config,
    bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
    identity: {
      defaultRegion: options.defaultRegion ?? DEFAULTS.defaultRegion,
      defaultAccount: config.defaultAccount,
      accounts: new Map(Object.entries(options.accounts ?? {})),
    },
  });
  return app;
}

/** Opens the store, builds the server and listens. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const store = await openStore({
    database: options.database,
    dataDir: path.resolve(options.dataDir ?? DEFAULTS.dataDir),
    durability: options.durability,
  });
  let app: FastifyInstance;
  try {
    app = await buildServer(options, store);
    await app.listen({ host: options.host ?? DEFAULTS.host, port: options.port ?? DEFAULTS.port });
  } catch (error) {
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? DEFAULTS.port);
  const host = options.host ?? DEFAULTS.host;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    store,
    app,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await store.close();
      })()),
  };
}
