/**
 * The `eni-local` command. Every option can also come from an environment variable
 * (ENI_LOCAL_HOST, ENI_LOCAL_PORT, …); a flag wins over the variable.
 */
import { Command, Option, InvalidArgumentError } from 'commander';
import { AWS_DEFAULT_QUOTAS, type Quotas } from './cloud/config.ts';
import { startServer, DEFAULTS } from './server.ts';
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
    new Option('--database <url>', 'sqlite:PATH, memory (default: SQLite file in the data directory)').env('ENI_LOCAL_DATABASE'),
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
  .action(async (opts: { host: string; port: number; dataDir: string; database?: string; durability: 'normal' | 'full'; logLevel: string; region: string; quota?: Partial<Quotas> }) => {
    const server = await startServer({
      host: opts.host,
      port: opts.port,
      dataDir: opts.dataDir,
      database: opts.database,
      durability: opts.durability,
      logLevel: opts.logLevel,
      defaultRegion: opts.region,
      quotas: opts.quota,
    });
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
