/**
 * The `eni-local` command. Every option can also come from an environment variable
 * (ENI_LOCAL_HOST, ENI_LOCAL_PORT, …); a flag wins over the variable.
 */
import { Command, Option, InvalidArgumentError } from 'commander';
import { AWS_DEFAULT_QUOTAS, type Quotas } from './cloud/config.ts';
import { readCredentialsFile, type CredentialEntry } from './api/ec2/identity.ts';
import { startServer, readThrottleConfigFile, DEFAULTS, type ServerOptions } from './server.ts';
import { VERSION } from './version.ts';

const QUOTA_NAMES = Object.keys(AWS_DEFAULT_QUOTAS) as (keyof Quotas)[];

/** `--quota vpcsPerRegion=50`, repeatable; ENI_LOCAL_QUOTAS takes `a=1,b=2`. */
function quotaSetting(value: string, previous: Partial<Quotas> = {}): Partial<Quotas> {
  const out = { ...previous };
  for (const part of value.split(',').filter(Boolean)) {
    const [name, raw] = part.split('=');
    const n = Number(raw);
    if (!QUOTA_NAMES.includes(name as keyof Quotas) || !Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(`expected NAME=COUNT with NAME one of ${QUOTA_NAMES.join(', ')}`);
    }
    out[name as keyof Quotas] = n;
  }
  return out;
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port is 0 to 65535');
  return port;
}

interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  database?: string;
  durability: 'normal' | 'full';
  logLevel: string;
  region: string;
  quota?: Partial<Quotas>;
  auth: 'open' | 'sigv4';
  credentials?: string;
  accounts?: string;
  throttle: 'off' | 'aws';
  throttleConfig?: string;
}

/** sigv4 verifies against --credentials; open mode maps keys to accounts from --accounts and/or --credentials. */
function authSettings(opts: ServeOptions): Pick<ServerOptions, 'auth' | 'credentials'> {
  if (opts.auth === 'sigv4') {
    if (!opts.credentials) throw new Error('--auth sigv4 needs --credentials FILE (ENI_LOCAL_CREDENTIALS)');
    if (opts.accounts) throw new Error('--accounts is for open mode; with --auth sigv4 the accounts come from --credentials');
    return { auth: 'sigv4', credentials: opts.credentials };
  }
  const entries: CredentialEntry[] = [];
  for (const file of [opts.accounts, opts.credentials]) {
    if (file) entries.push(...readCredentialsFile(file, { requireSecrets: false }));
  }
  return { auth: 'open', credentials: entries };
}

function throttleSetting(opts: ServeOptions, throttleIsDefault: boolean): ServerOptions['throttle'] {
  if (!opts.throttleConfig) return opts.throttle;
  if (opts.throttle === 'off' && !throttleIsDefault) throw new Error('--throttle-config contradicts --throttle off');
  return readThrottleConfigFile(opts.throttleConfig);
}

const program = new Command('eni-local')
  .description('A local, AWS-compatible EC2 networking cloud built around the Elastic Network Interface.')
  .version(VERSION);

program
  .command('serve')
  .description('start the server (EC2 Query API at /, health at /_eni/health)')
  .addOption(new Option('--host <host>', 'interface to listen on').env('ENI_LOCAL_HOST').default(DEFAULTS.host))
  .addOption(
    new Option('--port <port>', 'TCP port (0 picks a free one)').env('ENI_LOCAL_PORT').argParser(portNumber).default(DEFAULTS.port),
  )
  .addOption(new Option('--data-dir <dir>', 'where the state lives').env('ENI_LOCAL_DATA_DIR').default(DEFAULTS.dataDir))
  .addOption(
    new Option('--database <url>', 'sqlite:PATH, memory, or postgres://USER:PASSWORD@HOST:PORT/DB to share state between nodes (default: SQLite file in the data directory)').env('ENI_LOCAL_DATABASE'),
  )
  .addOption(
    new Option('--durability <mode>', 'SQLite fsync policy: normal survives a process crash, full also a power loss')
      .env('ENI_LOCAL_DURABILITY')
      .choices(['normal', 'full'])
      .default('normal'),
  )
  .addOption(
    new Option('--log-level <level>', 'log level (logs go to stderr as JSON lines)')
      .env('ENI_LOCAL_LOG_LEVEL')
      .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
  )
  .addOption(
    new Option('--region <region>', 'region for requests that carry no credential scope').env('ENI_LOCAL_REGION').default(DEFAULTS.defaultRegion),
  )
  .addOption(
    new Option('--quota <name=count>', `override an AWS default quota (repeatable): ${QUOTA_NAMES.join(', ')}`)
      .env('ENI_LOCAL_QUOTAS')
      .argParser(quotaSetting),
  )
  .addOption(
    new Option('--auth <mode>', 'open: any signature, the access key only chooses the account; sigv4: verify every signature against --credentials')
      .env('ENI_LOCAL_AUTH')
      .choices(['open', 'sigv4'])
      .default('open'),
  )
  .addOption(
    new Option('--credentials <file>', 'JSON array of {"accessKeyId","secretAccessKey","accountId","sessionToken"?} (required with --auth sigv4)').env(
      'ENI_LOCAL_CREDENTIALS',
    ),
  )
  .addOption(
    new Option('--accounts <file>', 'open mode: access key → account, same JSON shape as --credentials (secrets ignored)').env('ENI_LOCAL_ACCOUNTS'),
  )
  .addOption(
    new Option('--throttle <mode>', "off, or aws: EC2's request token buckets per account and region (RequestLimitExceeded when empty)")
      .env('ENI_LOCAL_THROTTLE')
      .choices(['off', 'aws'])
      .default('off'),
  )
  .addOption(
    new Option('--throttle-config <file>', 'JSON bucket overrides {"categories":{…},"actions":{…}}, each {"capacity","refillRate"}; turns throttling on').env(
      'ENI_LOCAL_THROTTLE_CONFIG',
    ),
  )
  .action(async (opts: ServeOptions, command: Command) => {
    const server = await startServer({
      host: opts.host,
      port: opts.port,
      dataDir: opts.dataDir,
      database: opts.database,
      durability: opts.durability,
      logLevel: opts.logLevel,
      defaultRegion: opts.region,
      quotas: opts.quota,
      ...authSettings(opts),
      throttle: throttleSetting(opts, command.getOptionValueSource('throttle') === 'default'),
    });
    for (const warning of server.warnings) process.stderr.write(`eni-local: warning: ${warning}\n`);
    process.stdout.write(`eni-local ${VERSION} listening on ${server.url} (store: ${server.store.kind} ${server.store.location})\n`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`eni-local: ${signal} received, shutting down\n`);
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`eni-local: error while shutting down: ${String(error)}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`eni-local: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
