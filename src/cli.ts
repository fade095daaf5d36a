/**
 * The `eni-local` command. Every option can also come from an environment variable
 * (ENI_LOCAL_HOST, ENI_LOCAL_PORT, …); a flag wins over the variable.
 */
import { Command, Option, InvalidArgumentError } from 'commander';
import path from 'node:path';
import { AWS_DEFAULT_QUOTAS, DEFAULT_TIMINGS, type Quotas, type Timings } from './cloud/config.ts';
import { checkInvariants } from './check.ts';
import { openStore } from './store/index.ts';
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

const TIMING_NAMES = Object.keys(DEFAULT_TIMINGS) as (keyof Timings)[];

/** `--timing attachingMs=500`, repeatable; ENI_LOCAL_TIMINGS takes `a=1,b=2`. */
function timingSetting(value: string, previous: Partial<Timings> = {}): Partial<Timings> {
  const out = { ...previous };
  for (const part of value.split(',').filter(Boolean)) {
    const [name, raw] = part.split('=');
    const n = Number(raw);
    if (!TIMING_NAMES.includes(name as keyof Timings) || !Number.isInteger(n) || n < 0) {
      throw new InvalidArgumentError(`expected NAME=MILLISECONDS with NAME one of ${TIMING_NAMES.join(', ')}`);
    }
    out[name as keyof Timings] = n;
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
  timing?: Partial<Timings>;
  defaultVpc: boolean;
  publicIpv4Pool?: string;
  dataplane: 'simulated' | 'linux';
  guestNetwork: 'aws' | 'primary' | 'none' | 'ec2-net-utils';
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
  .addOption(
    new Option('--timing <name=ms>', `how long a transitional state lasts (repeatable): ${TIMING_NAMES.join(', ')}`)
      .env('ENI_LOCAL_TIMINGS')
      .argParser(timingSetting),
  )
  .addOption(new Option('--no-default-vpc', "do not give each account and region AWS's default VPC on first use").env('ENI_LOCAL_NO_DEFAULT_VPC'))
  .addOption(
    new Option('--public-ipv4-pool <cidr>', 'where Elastic IPs and automatic public IPv4 addresses come from (default 198.18.0.0/15)').env(
      'ENI_LOCAL_PUBLIC_IPV4_POOL',
    ),
  )
  .addOption(
    new Option('--dataplane <mode>', 'simulated: compute where packets go; linux: instances as network namespaces, interfaces as real links that move (root)')
      .env('ENI_LOCAL_DATAPLANE')
      .choices(['simulated', 'linux'])
      .default('simulated'),
  )
  .addOption(
    new Option(
      '--guest-network <mode>',
      "linux plane: how the guest configures an interface: aws (the result of Amazon Linux 2023's configuration), primary (its primary address only), none, ec2-net-utils (the real systemd-networkd and amazon-ec2-net-utils in every instance)",
    )
      .env('ENI_LOCAL_GUEST_NETWORK')
      .choices(['aws', 'primary', 'none', 'ec2-net-utils'])
      .default('aws'),
  )
  .action(async (opts: ServeOptions, command: Command) => {
    const server = await startServer({
      dataplane: opts.dataplane,
      guestNetwork: opts.guestNetwork,
      timings: opts.timing,
      defaultVpc: opts.defaultVpc,
      publicIpv4Pool: opts.publicIpv4Pool,
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
    // Only once the handlers are in place: whoever waits for this line may send SIGTERM at once.
    process.stdout.write(`eni-local ${VERSION} listening on ${server.url} (store: ${server.store.kind} ${server.store.location})\n`);
  });

// --- talking to a running server -------------------------------------------------------------------

interface RemoteOptions {
  endpoint: string;
  account?: string;
  region?: string;
  json?: boolean;
}

const remoteOptions = (command: Command) =>
  command
    .addOption(new Option('--endpoint <url>', 'the eni-local server').env('ENI_LOCAL_ENDPOINT').default(`http://${DEFAULTS.host}:${DEFAULTS.port}`))
    .addOption(new Option('--account <id>', 'account (default: the server default account)').env('ENI_LOCAL_ACCOUNT'))
    .addOption(new Option('--region <region>', 'region (default: AWS_REGION, else AWS_DEFAULT_REGION, as the AWS CLI reads them; else the server default region)'))
    .option('--json', 'print the raw JSON answer');

/** The region as the AWS CLI chooses it: the option, then AWS_REGION, then AWS_DEFAULT_REGION. */
function regionOf(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return option || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

async function callServer(opts: RemoteOptions, route: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.account) headers['x-eni-account'] = opts.account;
  const region = regionOf(opts.region);
  if (region) headers['x-eni-region'] = region;
  let response: Response;
  try {
    response = await fetch(new URL(route, opts.endpoint), { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  } catch (error) {
    // fetch says only "fetch failed": name the endpoint, the cause, and how to choose another.
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `no eni-local server answers at ${opts.endpoint} (${cause?.code ?? cause?.message ?? String(error)}). ` +
        'Start one with `eni-local serve` (`npm start` in a clone), or choose another server with --endpoint URL or ENI_LOCAL_ENDPOINT.',
    );
  }
  const text = await response.text();
  try {
    return { status: response.status, json: JSON.parse(text) as Record<string, unknown> };
  } catch {
    throw new Error(`${opts.endpoint} answered HTTP ${response.status} without JSON: is it an eni-local server? Choose another with --endpoint URL or ENI_LOCAL_ENDPOINT.`);
  }
}

function failOnError(answer: { status: number; json: Record<string, unknown> }): void {
  if (answer.status < 400) return;
  const error = answer.json.error as { code?: string; message?: string } | undefined;
  throw new Error(`${error?.code ?? answer.status}: ${error?.message ?? JSON.stringify(answer.json)}`);
}

interface Hop {
  component: string;
  resourceId: string;
  verdict: string;
  rule?: string;
  detail?: string;
}

remoteOptions(
  program
    .command('probe')
    .description('ask where a packet goes: the verdict and every hop with the rule that decided')
    .requiredOption('--from <source>', 'eni-…, i-…, internet or internet:ADDRESS')
    .requiredOption('--to <address>', 'destination IPv4 or IPv6 address (private, Elastic/public, or outside)')
    .option('--protocol <protocol>', 'tcp, udp, icmp, -1 or a number', 'tcp')
    .option('--port <port>', 'destination port (or ICMP type)', (v) => portNumber(v)),
).action(async (opts: RemoteOptions & { from: string; to: string; protocol: string; port?: number }) => {
  const answer = await callServer(opts, '/_eni/probe', { from: opts.from, to: opts.to, protocol: opts.protocol, port: opts.port });
  failOnError(answer);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(answer.json, null, 2)}\n`);
  } else {
    const result = answer.json as { delivered: boolean; reason?: string; destination?: { kind: string; instanceId?: string; networkInterfaceId?: string; deviceIndex?: number }; hops: Hop[] };
    const where = result.destination?.instanceId
      ? `${result.destination.instanceId} (${result.destination.networkInterfaceId}, device index ${result.destination.deviceIndex})`
      : (result.destination?.kind ?? '');
    process.stdout.write(result.delivered ? `DELIVERED to ${where}\n` : `DROPPED: ${result.reason}\n`);
    for (const hop of result.hops) {
      process.stdout.write(`  ${hop.verdict === 'pass' ? '✓' : '✗'} ${hop.component.padEnd(22)} ${hop.resourceId}${hop.rule ? `  [${hop.rule}]` : ''}${hop.detail ? `  ${hop.detail}` : ''}\n`);
    }
  }
  process.exitCode = (answer.json as { delivered: boolean }).delivered ? 0 : 3;
});

for (const [name, description] of [
  ['fail', 'make an instance fail its status checks: traffic to it is dropped (instance-impaired)'],
  ['recover', 'make a failed instance healthy again'],
] as const) {
  remoteOptions(program.command(name).description(description).argument('<instance-id>')).action(async (instanceId: string, opts: RemoteOptions) => {
    const answer = await callServer(opts, `/_eni/instances/${encodeURIComponent(instanceId)}/${name}`);
    failOnError(answer);
    process.stdout.write(opts.json ? `${JSON.stringify(answer.json)}\n` : `${instanceId}: ${(answer.json as { status: string }).status}\n`);
  });
}

program
  .command('exec')
  .description('run a command inside an instance (its network namespace), or on the internet side (`internet`): linux data plane, as root')
  .argument('<target>', 'i-… or internet')
  .argument('<command...>', 'the command and its arguments (after --)')
  .addOption(new Option('--endpoint <url>', 'the eni-local server, to tell its namespaces from another server\'s').env('ENI_LOCAL_ENDPOINT'))
  .action(async (target: string, command: string[], opts: { endpoint?: string }) => {
    const { execInPlane } = await import('./dataplane/linux/exec.ts');
    process.exitCode = await execInPlane(target, command, opts);
  });

const dataplane = program.command('dataplane').description('the linux data plane on this machine');
dataplane
  .command('status')
  .description('what the linux data planes on this machine hold: namespaces by server, and whether that server runs')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const { planeNamespaces } = await import('./dataplane/linux/plane.ts');
    const planes = await planeNamespaces();
    if (opts.json) process.stdout.write(`${JSON.stringify(planes, null, 2)}\n`);
    else if (!planes.length) process.stdout.write('no linux data plane namespaces on this machine\n');
    else for (const p of planes) process.stdout.write(`server ${p.prefix} (${p.alive ? 'running' : 'not running'}): ${p.namespaces.length} namespaces\n${p.namespaces.map((n) => `  ${n}\n`).join('')}`);
  });
dataplane
  .command('cleanup')
  .description('remove the namespaces (and with them every link, route and rule) that servers no longer running left behind')
  .option('--prefix <hex>', 'only the namespaces of this server prefix')
  .action(async (opts: { prefix?: string }) => {
    const { cleanupDeadPlanes } = await import('./dataplane/linux/plane.ts');
    const removed = await cleanupDeadPlanes(opts);
    process.stdout.write(removed.length ? `removed ${removed.length} namespaces:\n${removed.map((n) => `  ${n}\n`).join('')}` : 'nothing to remove\n');
  });

program
  .command('check')
  .description('scan the state for violations of the rules that must never break; exit code 1 if any')
  .addOption(new Option('--data-dir <dir>', 'the data directory of a SQLite store').env('ENI_LOCAL_DATA_DIR').default(DEFAULTS.dataDir))
  .addOption(new Option('--database <url>', 'sqlite:PATH or postgres://… (default: the SQLite file in the data directory)').env('ENI_LOCAL_DATABASE'))
  .option('--json', 'print the violations as JSON')
  .action(async (opts: { dataDir: string; database?: string; json?: boolean }) => {
    const store = await openStore({ database: opts.database, dataDir: path.resolve(opts.dataDir) });
    try {
      const violations = await checkInvariants(store);
      if (opts.json) process.stdout.write(`${JSON.stringify(violations, null, 2)}\n`);
      else if (!violations.length) process.stdout.write(`no violation (${store.location})\n`);
      else for (const v of violations) process.stdout.write(`${v.rule}: ${v.detail}\n`);
      process.exitCode = violations.length ? 1 : 0;
    } finally {
      await store.close();
    }
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`eni-local: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
