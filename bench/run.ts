/**
 * `npm run bench`: eni-local's benchmark. Starts the server as a child process (pinned to core 0
 * when taskset exists, the client to core 1), builds a fixture through the EC2 API, and drives
 * closed-loop workloads with signed EC2 Query requests from 16 keep-alive callers. Everything is
 * compared with a ceiling: a bare node:http server answering a canned response to the same
 * requests. Writes a table to the terminal and a JSON-lines file and an SVG chart to bench/out/.
 *
 *   npm run bench                       N = 1,000 and 10,000, 10 s per workload
 *   npm run bench -- --quick            N = 1,000, 3 s per workload
 *   npm run bench -- --n 1000,10000,100000 --duration 10 --profile
 *   npm run bench -- --help
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { QueryClient } from './lib/client.ts';
import { Fixture, ROOM_SIZE, expectOk } from './lib/fixture.ts';
import { closedLoop, type LoopResult, type NextOp } from './lib/loop.ts';
import { BIN, CEILING, ROOT, TASKSET, codeState, describeCode, pinSelf, spawnListening, type Child, type CodeState } from './lib/proc.ts';
import { Progress, duration, fixedRow, mib, ms, num, ratio, table } from './lib/report.ts';
import { lineChart, type Series } from './lib/svg.ts';
import { freshDatabase } from './lib/postgres.ts';
import { WORKLOADS, WORKLOAD_NOTES, ceilingOps, reserve, workloadOps, type Reserved, type Workload } from './lib/workloads.ts';
import { formatSummary, newestProfile, summarise } from './profile-summary.ts';

const HELP = `npm run bench -- [options]

  --quick                 N=1000 only, 3 s per workload (about 1-2 minutes)
  --n LIST                interface counts to measure at, e.g. 1000,10000,100000 (k and m suffixes work)
                          (default 1000,10000)
  --million               add N=1,000,000 (creating them through the API takes hours)
  --duration S            seconds per workload (default 10; quick: 3)
  --warmup S              unmeasured seconds before each workload (default: duration/5, at most 2;
                          a server's first workload: twice that and at least 3,000 answered requests)
  --concurrency C         concurrent keep-alive callers (default 16)
  --instances K           running m5.large instances (default 20)
  --workloads LIST        subset of: ${WORKLOADS.join(', ')}, or none
  --database URL          memory, sqlite:PATH or postgres://… (default: a SQLite file in a temporary directory);
                          on PostgreSQL the run makes a database of its own beside the one named (its user needs CREATEDB)
  --nodes N               with --database postgres://…: only the several-nodes benchmark — creates/s through
                          one server process and through N on the same database, load split by account
  --accounts A            accounts for --nodes (default 4)
  --auth MODE             open (default) or sigv4 (the server verifies every signature)
  --fixture-concurrency C requests in flight while creating the fixture's interfaces (default 32)
  --profile               at the largest N, run describe-filter and create once more with the server
                          under --cpu-prof (profiles in bench/out/prof/) and summarise them
  --profile-workloads LIST  with --profile: which workloads to profile (default describe-filter,create)
  --skip-ceiling          do not measure the bare node:http ceiling
  --skip-durability       do not measure create with --durability full
  --keep                  keep the temporary data directory
  --out DIR               where results go (default bench/out)
`;

/** The tables the benchmark fills, analyzed after filling them on PostgreSQL. */
const ANALYZED = ['network_interfaces', 'private_ip_addresses', 'network_interface_groups', 'tags', 'subnet_free_ranges', 'instances', 'events'];

// --- options -------------------------------------------------------------------------------------

function count(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([kKmM]?)$/.exec(text.trim().replace(/[_,]/g, ''));
  if (!m) throw new Error(`not a count: ${text}`);
  return Math.round(Number(m[1]) * (m[2].toLowerCase() === 'k' ? 1e3 : m[2].toLowerCase() === 'm' ? 1e6 : 1));
}

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    million: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    concurrency: { type: 'string', default: '16' },
    instances: { type: 'string', default: '20' },
    workloads: { type: 'string' },
    database: { type: 'string' },
    nodes: { type: 'string' },
    accounts: { type: 'string', default: '4' },
    auth: { type: 'string', default: 'open' },
    'fixture-concurrency': { type: 'string', default: '32' },
    profile: { type: 'boolean', default: false },
    'profile-workloads': { type: 'string', default: 'describe-filter,create' },
    'skip-ceiling': { type: 'boolean', default: false },
    'skip-durability': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (argv.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const quick = argv.quick!;
const ns = [...new Set([...(argv.n ?? (quick ? '1000' : '1000,10000')).split(',').filter(Boolean).map(count), ...(argv.million ? [1_000_000] : [])])].sort(
  (a, b) => a - b,
);
const durationS = Number(argv.duration ?? (quick ? 3 : 10));
const warmupS = Number(argv.warmup ?? Math.min(2, durationS / 5));
const concurrency = Number(argv.concurrency);
const instanceCount = Number(argv.instances);
const fixtureConcurrency = Number(argv['fixture-concurrency']);
const workloadList = (list: string): Workload[] =>
  list.split(',').map((w) => {
    if (!(WORKLOADS as readonly string[]).includes(w)) throw new Error(`unknown workload ${w}: expected one of ${WORKLOADS.join(', ')}`);
    return w as Workload;
  });
const workloads: Workload[] = argv.workloads === 'none' ? [] : argv.workloads ? workloadList(argv.workloads) : [...WORKLOADS];
const profiledWorkloads = workloadList(argv['profile-workloads']!);
const auth = argv.auth!;
if (auth !== 'open' && auth !== 'sigv4') throw new Error('--auth is open or sigv4');
for (const [name, v] of Object.entries({ duration: durationS, warmup: warmupS, concurrency, instances: instanceCount, 'fixture-concurrency': fixtureConcurrency })) {
  if (!Number.isFinite(v) || v < 0 || (name !== 'warmup' && v === 0)) throw new Error(`--${name} must be a positive number`);
}
if (!ns.length || ns.some((n) => n < 2 * concurrency)) throw new Error(`every N must be at least ${2 * concurrency} (the stateful workloads reserve interfaces)`);
// attach-detach moves an interface on and off each caller's own instance (one device slot each).
if (workloads.includes('attach-detach') && instanceCount < concurrency) throw new Error(`attach-detach needs --instances of at least --concurrency (${concurrency})`);
// describe-tag asks for one of the 100 tag values: each must be on some interface.
if (workloads.includes('describe-tag') && ns.some((n) => n < 100)) throw new Error('describe-tag needs every N to be at least 100');

const outDir = path.resolve(argv.out ?? path.join(ROOT, 'bench', 'out'));
const REGION = 'us-east-1';
const INSTANCE_TYPE = 'm5.large';
const ACCESS_KEY = 'AKIDBENCHMARK';
const SECRET_KEY = 'bench-secret-key';

// --- state of the run ----------------------------------------------------------------------------

const progress = new Progress();
const records: Record<string, unknown>[] = [];
const children = new Set<Child>();
const startedAt = performance.now();
const stamp = new Date().toISOString().replace(/[:]/g, '').replace(/\..*$/, '');
const record = (type: string, data: Record<string, unknown>) => records.push({ type, ...data });

const clientPinned = pinSelf(1);
const serverCore = TASKSET && clientPinned ? 0 : undefined;
const pinning = serverCore !== undefined ? 'applied: server on core 0, client on core 1 (taskset)' : TASKSET ? 'not applied (taskset refused)' : 'not applied (no taskset)';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'eni-local-bench-'));
const given = argv.database ?? `sqlite:${path.join(dataDir, 'bench.sqlite')}`;
const storeKind = given === 'memory' ? 'memory' : given.startsWith('postgres') ? 'postgres' : 'sqlite';
// On PostgreSQL, a database of this run's own beside the one named (dropped at the end unless --keep).
const benchDatabase = storeKind === 'postgres' ? await freshDatabase(given, stamp) : undefined;
const database = benchDatabase?.url ?? given;
const rooms = 1 + Math.ceil(ns[ns.length - 1] / ROOM_SIZE);

let credentialsFile: string | undefined;
if (auth === 'sigv4') {
  credentialsFile = path.join(dataDir, 'credentials.json');
  writeFileSync(credentialsFile, JSON.stringify([{ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, accountId: '000000000000' }]));
}

function serverArgs(durability: 'normal' | 'full'): string[] {
  return [
    'serve',
    '--host', '127.0.0.1',
    '--port', '0',
    '--data-dir', dataDir,
    '--log-level', 'warn',
    '--database', database,
    '--durability', durability,
    '--quota', 'networkInterfacesPerRegion=2000000',
    '--quota', `vpcsPerRegion=${Math.max(50, rooms + 5)}`,
    '--quota', 'subnetsPerVpc=1000',
    ...(credentialsFile ? ['--auth', 'sigv4', '--credentials', credentialsFile] : []),
  ];
}

const newClient = (url: string, sockets: number) => new QueryClient(url, { sockets, region: REGION, accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });

interface Server {
  code: CodeState;
  child: Child;
  client: QueryClient;
  fillClient: QueryClient;
  listeningMs: number;
  firstAnswerMs: number;
}

/** Starts eni-local and sends it a first request; the time to that answer is the start-up time. */
async function startServer(label: string, durability: 'normal' | 'full', nodeArgs: string[] = []): Promise<Server> {
  progress.phase(`starting eni-local (${label})…`);
  // The code this server runs: others may change src/ while a long run goes on.
  const code = codeState();
  firstCode ??= code;
  if (code.srcDigest !== firstCode.srcDigest || code.runs !== firstCode.runs) {
    codeChanged.push(label);
    progress.log(`WARNING: src/ changed since the run began; this server (${label}) runs ${describeCode(code)}`);
  }
  record('code', { label, ...code });
  const child = await spawnListening(BIN, serverArgs(durability), { core: serverCore, nodeArgs });
  children.add(child);
  const client = newClient(child.url, concurrency);
  expectOk(await client.call('DescribeNetworkInterfaces', { MaxResults: 5 }), 'first request');
  const firstAnswerMs = performance.now() - child.spawnedAt;
  return { code, child, client, fillClient: newClient(child.url, fixtureConcurrency), listeningMs: child.listeningMs, firstAnswerMs };
}

async function stopServer(server: Server): Promise<void> {
  server.client.close();
  server.fillClient.close();
  await server.child.stop();
  children.delete(server.child);
}

// --- measuring -----------------------------------------------------------------------------------

interface Measured extends LoopResult {
  label: string;
  n: number;
  stored: number;
}

const measured: Measured[] = [];
const ceilings: LoopResult[] = [];

/** Answered requests that warm up a server's first workload (see closedLoop's warmupOps). */
const FIRST_WARMUP_OPS = 3000;

/** fresh: the server's first workload (a server just started, or the one that made the fixture). */
async function run(label: string, n: number, client: QueryClient, next: NextOp, serverCpu: () => number, fresh = false): Promise<Measured> {
  const stored = fixture?.enis.length ?? 0;
  progress.phase(`[N=${n.toLocaleString('en-US')}] ${label}: warming up`);
  const result = await closedLoop({
    client,
    concurrency,
    durationMs: durationS * 1000,
    warmupMs: warmupS * 1000 * (fresh ? 2 : 1),
    warmupOps: fresh ? FIRST_WARMUP_OPS : 0,
    next,
    serverCpu,
    onProgress: (p) =>
      progress.update(
        p.warmup
          ? `[N=${n.toLocaleString('en-US')}] ${label}: warming up`
          : `[N=${n.toLocaleString('en-US')}] ${label}: ${(p.elapsedMs / 1000).toFixed(1)}/${durationS} s, ${num((p.ops * 1000) / Math.max(1, p.elapsedMs))} ops/s, ${p.errors} errors`,
      ),
  });
  return { label, n, stored, ...result };
}

function row(m: Measured, ceiling: LoopResult | undefined, isCeiling = false): string[] {
  return [
    isCeiling ? '–' : m.n.toLocaleString('en-US'),
    isCeiling ? '–' : m.stored.toLocaleString('en-US'),
    m.label,
    num(m.opsPerSec),
    ms(m.p50Ms),
    ms(m.p99Ms),
    num(m.serverCpuUsPerOp),
    num(m.clientCpuUsPerOp),
    `${Math.round(m.serverCoreShare * 100)}%`,
    `${Math.round(m.clientCoreShare * 100)}%${m.clientCoreShare > 0.9 ? '!' : ''}`,
    m.otherCores.toFixed(2),
    ceiling ? ratio(m.opsPerSec / ceiling.opsPerSec) : '–',
    ceiling ? ratio(m.serverCpuUsPerOp / ceiling.serverCpuUsPerOp) : '–',
    m.items ? num(m.itemsPerSec) : '',
    m.errors ? `${m.errors} ${Object.keys(m.errorKinds)[0] ?? ''}` : '0',
  ];
}

const HEADERS = ['N', 'stored', 'workload', 'ops/s', 'p50 ms', 'p99 ms', 'srv µs/op', 'cli µs/op', 'srv core', 'cli core', 'others', 'ops÷ceil', 'srvCPU÷ceil', 'ENIs/s', 'errors'];
const ALIGN = ['r', 'r', 'l'] as const;
const WIDTHS = [9, 9, 26, 7, 7, 7, 9, 9, 8, 8, 6, 8, 11, 7, 6];

/** Prints one result row as soon as it is measured (ratios against the ceiling measured so far). */
function logRow(m: Measured, isCeiling = false): void {
  progress.log(fixedRow(row(m, ceilingMean(), isCeiling), WIDTHS, [...ALIGN]));
}

/** The mean of the ceiling runs: the reference every ratio uses. */
function ceilingMean(): LoopResult | undefined {
  if (!ceilings.length) return undefined;
  const mean = (f: (r: LoopResult) => number) => ceilings.reduce((s, r) => s + f(r), 0) / ceilings.length;
  return {
    ...ceilings[0],
    opsPerSec: mean((r) => r.opsPerSec),
    p50Ms: mean((r) => r.p50Ms),
    p99Ms: mean((r) => r.p99Ms),
    serverCpuUsPerOp: mean((r) => r.serverCpuUsPerOp),
    clientCpuUsPerOp: mean((r) => r.clientCpuUsPerOp),
    serverCoreShare: mean((r) => r.serverCoreShare),
    clientCoreShare: mean((r) => r.clientCoreShare),
  };
}

async function measureCeiling(when: string): Promise<void> {
  if (argv['skip-ceiling']) return;
  progress.phase(`ceiling (${when}): starting the bare node:http server…`);
  const child = await spawnListening(CEILING, ['--response', path.join(dataDir, 'one-interface.xml')], { core: serverCore, nodeArgs: ['--import', 'tsx'] });
  children.add(child);
  const client = newClient(child.url, concurrency);
  try {
    const m = await run(`ceiling (${when})`, fixture.enis.length, client, ceilingOps(fixture), () => child.cpuMicros());
    ceilings.push(m);
    record('ceiling', { when, ...m });
    logRow(m, true);
  } finally {
    client.close();
    await child.stop();
    children.delete(child);
  }
}

// --- the run -------------------------------------------------------------------------------------

let fixture!: Fixture;
let firstCode: CodeState | undefined;
/** Servers started on other code than the first (labels). */
const codeChanged: string[] = [];
let reserved!: Reserved;

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const loadStart = os.loadavg();
  const header = [
    `eni-local benchmark, ${new Date().toISOString()}: node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? '?'}), load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`,
    `pinning ${pinning}`,
    `store ${storeKind}${storeKind === 'sqlite' ? ' file, durability normal' : ''}; auth ${auth}; ${concurrency} keep-alive callers; ${durationS} s per workload after ${warmupS} s warm-up (a server's first: twice that and at least ${FIRST_WARMUP_OPS.toLocaleString('en-US')} answered requests); N = ${ns.map((n) => n.toLocaleString('en-US')).join(', ')}; K = ${instanceCount} ${INSTANCE_TYPE}; ${rooms} rooms (/16 VPCs, a /17 subnet in each of two zones)`,
  ];
  header.push(`code ${describeCode(codeState())}`);
  for (const line of header) progress.log(line);
  record('meta', {
    stamp,
    node: process.version,
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    loadAverageStart: loadStart,
    pinning,
    pinned: serverCore !== undefined,
    store: storeKind,
    database: storeKind === 'postgres' ? 'postgres' : database,
    auth,
    concurrency,
    durationS,
    warmupS,
    ns,
    instances: instanceCount,
    instanceType: INSTANCE_TYPE,
    rooms,
    quick,
  });

  // Empty store: start-up time.
  let server = await startServer('empty store', 'normal');
  record('startup', { store: 'empty', stored: 0, listeningMs: server.listeningMs, firstAnswerMs: server.firstAnswerMs });
  const startups: string[][] = [['empty', '0', ms(server.listeningMs), ms(server.firstAnswerMs)]];

  progress.phase('building the fixture: VPCs, subnets, security groups, instances…');
  fixture = await Fixture.build(server.fillClient, { rooms, instances: instanceCount, instanceType: INSTANCE_TYPE, region: REGION });
  const memories: string[][] = [];
  const fills: string[][] = [];
  let first = true;
  for (const n of ns) {
    // The workloads that create interfaces (mixed, create) leave more than N: back to N first.
    if (fixture.enis.length > n) {
      const excess = fixture.enis.length - n;
      const t0 = performance.now();
      const deleted = await fixture.trim(server.fillClient, n, fixtureConcurrency, (done, wanted) =>
        progress.update(`[N=${n.toLocaleString('en-US')}] deleting the interfaces the workloads added: ${done.toLocaleString('en-US')}/${wanted.toLocaleString('en-US')}`),
      );
      record('trim', { n, excess, deleted, seconds: (performance.now() - t0) / 1000 });
      progress.log(`N=${n.toLocaleString('en-US')}: deleted ${deleted.toLocaleString('en-US')} interfaces the workloads had added, in ${duration((performance.now() - t0) / 1000)}`);
    }
    const fill = await fixture.fill(server.fillClient, n, fixtureConcurrency, (done, wanted, rate) =>
      progress.update(
        `[N=${n.toLocaleString('en-US')}] creating interfaces: ${done.toLocaleString('en-US')}/${wanted.toLocaleString('en-US')} (${num(rate)}/s${rate > 0 ? `, ${duration((wanted - done) / rate)} left` : ''})`,
      ),
    );
    const memory = server.child.memory();
    record('fixture', { n, stored: fixture.enis.length, created: fill.created, seconds: fill.seconds, perSec: fill.created / fill.seconds });
    record('memory', { n, stored: fixture.enis.length, when: 'after loading', rss: memory.rss, hwm: memory.hwm });
    fills.push([n.toLocaleString('en-US'), fill.created.toLocaleString('en-US'), duration(fill.seconds), num(fill.created / Math.max(fill.seconds, 1e-9))]);
    memories.push([n.toLocaleString('en-US'), fixture.enis.length.toLocaleString('en-US'), 'after creating them (same process)', mib(memory.rss), mib(memory.hwm)]);
    progress.log(`N=${n.toLocaleString('en-US')}: created ${fill.created.toLocaleString('en-US')} interfaces in ${duration(fill.seconds)}; server RSS ${mib(memory.rss)}`);
    if (storeKind === 'postgres') {
      // As pgbench vacuums before it measures: the planner's statistics describe the tables just
      // filled. Autovacuum would analyze them within a minute (its naptime); until then a young
      // table's plans assume it is empty (a filter by address then walks the whole account).
      const db = new pg.Client({ connectionString: database });
      await db.connect();
      try {
        await db.query(`analyze ${ANALYZED.map((t) => `"${t}"`).join(', ')}`);
      } finally {
        await db.end();
      }
    }

    if (first) {
      first = false;
      reserved = reserve(fixture, concurrency);
      // The ceiling answers with a real one-interface DescribeNetworkInterfaces response of this store.
      const sample = expectOk(await server.client.call('DescribeNetworkInterfaces', { 'NetworkInterfaceId.1': fixture.enis[0].id }), 'sample');
      writeFileSync(path.join(dataDir, 'one-interface.xml'), sample.body);
      progress.log(fixedRow(HEADERS, WIDTHS, [...ALIGN]));
      await measureCeiling('start');
    }

    for (const [i, workload] of workloads.entries()) {
      const srv = server;
      const m = await run(workload, n, srv.client, workloadOps(workload, fixture, reserved, concurrency), () => srv.child.cpuMicros(), i === 0 && n === ns[0]);
      measured.push(m);
      record('workload', { workload, ...m });
      logRow(m);
    }
  }

  if (!first) await measureCeiling('end');

  // Restart on the stored state (not for the throw-away memory store).
  const durabilityRows: string[][] = [];
  const largest = ns[ns.length - 1];
  if (storeKind !== 'memory') {
    await stopServer(server);
    server = await startServer(`restart with ${fixture.enis.length.toLocaleString('en-US')} interfaces stored`, 'normal');
    const memory = server.child.memory();
    record('startup', { store: 'restart', stored: fixture.enis.length, listeningMs: server.listeningMs, firstAnswerMs: server.firstAnswerMs });
    record('memory', { n: largest, stored: fixture.enis.length, when: 'after restart and a first request', rss: memory.rss, hwm: memory.hwm });
    startups.push(['restart', fixture.enis.length.toLocaleString('en-US'), ms(server.listeningMs), ms(server.firstAnswerMs)]);
    memories.push([largest.toLocaleString('en-US'), fixture.enis.length.toLocaleString('en-US'), 'after a restart and one request', mib(memory.rss), mib(memory.hwm)]);
    progress.log(`restart with ${fixture.enis.length.toLocaleString('en-US')} interfaces stored: listening after ${ms(server.listeningMs)} ms, first answer after ${ms(server.firstAnswerMs)} ms`);

    if (storeKind === 'sqlite' && !argv['skip-durability']) {
      for (const mode of ['normal', 'full'] as const) {
        if (mode === 'full') {
          await stopServer(server);
          server = await startServer('durability full', 'full');
        }
        const srv = server;
        const m = await run(`create, durability ${mode}`, largest, srv.client, workloadOps('create', fixture, reserved, concurrency), () => srv.child.cpuMicros(), true);
        record('durability', { mode, ...m });
        durabilityRows.push([mode, num(m.opsPerSec), ms(m.p50Ms), ms(m.p99Ms), num(m.serverCpuUsPerOp), `${Math.round(m.serverCoreShare * 100)}%`, String(m.errors)]);
        logRow(m);
      }
    }
  }
  await stopServer(server);

  // Profiles of one read and one write workload.
  const profiles: string[] = [];
  const profiledRuns: Measured[] = [];
  if (argv.profile) {
    for (const workload of profiledWorkloads) {
      const dir = path.join(outDir, 'prof', `${stamp}-${workload}`);
      mkdirSync(dir, { recursive: true });
      const srv = await startServer(`under --cpu-prof for ${workload}`, 'normal', ['--cpu-prof', '--cpu-prof-dir', dir]);
      const m = await run(`${workload} (profiled)`, largest, srv.client, workloadOps(workload, fixture, reserved, concurrency), () => srv.child.cpuMicros(), true);
      record('profiled', { workload, ...m, dir });
      profiledRuns.push(m);
      logRow(m);
      await stopServer(srv);
      const file = newestProfile(dir);
      if (!file) {
        progress.log(`no .cpuprofile was written in ${dir}`);
        continue;
      }
      // Only the measured window: not the start-up, the warm-up nor the shutdown.
      const summary = summarise(file, m.windowUs);
      record('profile', {
        workload,
        file: path.relative(ROOT, file),
        window: m.windowUs,
        busyMs: summary.busyMs,
        idleMs: summary.idleMs,
        byArea: summary.byArea.slice(0, 16),
        top: summary.byFunction.slice(0, 30),
      });
      profiles.push(`${workload}, N=${largest.toLocaleString('en-US')}:\n${formatSummary({ ...summary, file: path.relative(ROOT, file) }, 20)}`);
    }
  }

  // --- the report -----------------------------------------------------------------------------
  progress.clear();
  const totalS = (performance.now() - startedAt) / 1000;
  const loadEnd = os.loadavg();
  const ceiling = ceilingMean();
  const out: string[] = [''];
  out.push('='.repeat(100));
  out.push(...header);
  out.push(`load average at the end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}; the whole run took ${duration(totalS)}`);
  if (codeChanged.length) {
    out.push(
      `WARNING: src/ changed during the run: these servers ran other code than the first one: ${codeChanged.join('; ')} ` +
        '(see the "code" records of the JSON lines); compare only figures measured on the same code.',
    );
  }
  const busiest = Math.max(loadStart[0], loadEnd[0]);
  if (busiest > os.cpus().length * 0.75) {
    out.push(
      `NOTE: the machine was busy with other work (load average up to ${busiest.toFixed(1)} on ${os.cpus().length} cores; see the "others" column): ` +
        'throughput and latency are depressed and noisy; server CPU per op is the steadier figure.',
    );
  }
  out.push('');
  if (ceiling) {
    out.push('Ceiling: a bare node:http server (URLSearchParams over the form body, canned one-interface answer), same client and requests:');
    out.push(
      table(
        ['run', 'ops/s', 'p50 ms', 'p99 ms', 'srv µs/op', 'cli µs/op', 'srv core', 'cli core'],
        ceilings.map((c, i) => [
          i === 0 ? 'start' : 'end',
          num(c.opsPerSec),
          ms(c.p50Ms),
          ms(c.p99Ms),
          num(c.serverCpuUsPerOp),
          num(c.clientCpuUsPerOp),
          `${Math.round(c.serverCoreShare * 100)}%`,
          `${Math.round(c.clientCoreShare * 100)}%${c.clientCoreShare > 0.9 ? '!' : ''}`,
        ]),
      ),
    );
    out.push(`(ratios below use the mean of these: ${num(ceiling.opsPerSec)} ops/s, ${num(ceiling.serverCpuUsPerOp)} µs of server CPU per op)`);
    out.push('');
  }
  out.push('Workloads (an op is one API request; attach-detach and assign-unassign alternate their two requests):');
  if (measured.length) out.push(table(HEADERS, measured.map((m) => row(m, ceiling)), [...ALIGN]));
  for (const w of workloads) out.push(`  ${w.padEnd(17)} ${WORKLOAD_NOTES[w]}`);
  out.push('  srv/cli core: share of one core each side used; "!" marks a client that saturated its core (then the client, not the server, may be the limit)');
  out.push('  others: CPU the rest of the machine used meanwhile, in cores (on a shared machine, the noise: throughput suffers first, CPU per op less)');
  out.push('  ops÷ceil: throughput as a fraction of the ceiling\'s; srvCPU÷ceil: server CPU per op as a multiple of the ceiling\'s');
  const saturated = [...measured, ...ceilings].filter((m) => m.clientCoreShare > 0.9);
  out.push(
    saturated.length
      ? `  CLIENT SATURATED in ${saturated.map((m) => `${'label' in m ? (m as Measured).label : 'ceiling'}`).join(', ')}: those figures are client-bound`
      : '  the client never saturated its core',
  );
  for (const m of measured.filter((x) => x.errors)) out.push(`  errors in ${m.label} at N=${m.n}: ${JSON.stringify(m.errorKinds)}`);
  out.push('');
  out.push('Fixture (CreateNetworkInterface through the API, ' + fixtureConcurrency + ' in flight):');
  out.push(table(['N', 'created', 'took', 'per s'], fills));
  out.push('');
  out.push('Server start to first answered request (DescribeNetworkInterfaces MaxResults=5):');
  out.push(table(['store', 'interfaces', 'listening ms', 'first answer ms'], startups));
  out.push('');
  out.push('Server memory (from /proc):');
  out.push(table(['N', 'stored', 'when', 'RSS', 'peak RSS'], memories, ['r', 'r', 'l', 'r', 'r']));
  if (durabilityRows.length) {
    out.push('');
    out.push(`Durability (create, N=${largest.toLocaleString('en-US')}, each on a freshly restarted server):`);
    out.push(table(['mode', 'ops/s', 'p50 ms', 'p99 ms', 'srv µs/op', 'srv core', 'errors'], durabilityRows));
  }
  if (profiledRuns.length) {
    out.push('');
    out.push('Profiled runs (the server under --cpu-prof, which costs it some CPU; each on a freshly started server):');
    out.push(table(HEADERS, profiledRuns.map((m) => row(m, ceiling)), [...ALIGN]));
  }
  for (const p of profiles) {
    out.push('');
    out.push(`Profile of the server, ${p}`);
  }

  // Ratios against the mean ceiling go into the records too.
  if (ceiling) {
    for (const r of records) {
      if ((r.type === 'workload' || r.type === 'durability' || r.type === 'profiled') && typeof r.opsPerSec === 'number') {
        r.opsPerSecVsCeiling = r.opsPerSec / ceiling.opsPerSec;
        r.serverCpuPerOpVsCeiling = (r.serverCpuUsPerOp as number) / ceiling.serverCpuUsPerOp;
      }
    }
  }

  // Files: JSON lines, chart.
  record('summary', { totalSeconds: totalS, loadAverageEnd: loadEnd, ceilingMean: ceiling });
  const base = path.join(outDir, `bench-${stamp}`);
  writeFileSync(`${base}.jsonl`, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const byWorkload = (f: (m: Measured) => number): Series[] =>
    workloads.map((w) => ({ name: w, points: measured.filter((m) => m.label === w).map((m) => ({ x: m.n, y: f(m) })) }));
  const ceilingSeries = (f: (c: LoopResult) => number): Series[] =>
    ceiling ? [{ name: 'ceiling (bare node:http)', dashed: true, points: ns.map((n) => ({ x: n, y: f(ceiling) })) }] : [];
  const svg = lineChart(
    'eni-local benchmark',
    `${stamp}, ${storeKind} store, ${concurrency} callers, ${durationS} s per point, pinning ${serverCore !== undefined ? 'on' : 'off'}`,
    [
      { title: 'Throughput', yLabel: 'ops/s', series: [...byWorkload((m) => m.opsPerSec), ...ceilingSeries((c) => c.opsPerSec)] },
      { title: 'Median latency', yLabel: 'p50 (ms)', series: [...byWorkload((m) => m.p50Ms), ...ceilingSeries((c) => c.p50Ms)] },
      // The steadier figure on a shared machine.
      { title: 'Server CPU per op', yLabel: 'µs per op', series: [...byWorkload((m) => m.serverCpuUsPerOp), ...ceilingSeries((c) => c.serverCpuUsPerOp)] },
    ],
  );
  writeFileSync(`${base}.svg`, svg);
  copyFileSync(`${base}.jsonl`, path.join(outDir, 'latest.jsonl'));
  copyFileSync(`${base}.svg`, path.join(outDir, 'latest.svg'));
  out.push('');
  out.push(`Wrote ${path.relative(process.cwd(), base)}.jsonl and .svg (also latest.jsonl, latest.svg)`);
  process.stdout.write(out.join('\n') + '\n');
}

async function cleanup(): Promise<void> {
  for (const child of children) await child.stop(5000).catch(() => undefined);
  children.clear();
  if (!argv.keep) {
    rmSync(dataDir, { recursive: true, force: true });
    await benchDatabase?.drop().catch((error: unknown) => process.stderr.write(`could not drop database ${benchDatabase.name}: ${String(error)}\n`));
  } else process.stderr.write(`kept ${dataDir}${benchDatabase ? ` and database ${benchDatabase.name}` : ''}\n`);
}

process.on('SIGINT', () => {
  progress.clear();
  process.stderr.write('\ninterrupted\n');
  void cleanup().finally(() => process.exit(130));
});

try {
  if (argv.nodes !== undefined) {
    const nodes = Number(argv.nodes);
    if (!Number.isInteger(nodes) || nodes < 2) throw new Error('--nodes must be a whole number ≥ 2');
    if (storeKind !== 'postgres') throw new Error('--nodes needs --database postgres://… (several server processes share one database)');
    const { nodesBenchmark } = await import('./nodes.ts');
    progress.log(`eni-local several-nodes benchmark, ${new Date().toISOString()}: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const phases = await nodesBenchmark({
      database,
      nodes,
      accounts: Number(argv.accounts),
      concurrency,
      durationS,
      warmupS,
      dataDir,
      pin: serverCore !== undefined,
      log: (line) => progress.log(line),
    });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, `bench-nodes-${stamp}.jsonl`), phases.map((p) => JSON.stringify({ type: 'nodes', ...p })).join('\n') + '\n');
  } else await main();
  await cleanup();
} catch (error) {
  progress.clear();
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  for (const child of children) {
    const err = child.stderr().trim();
    if (err) process.stderr.write(`--- stderr of pid ${child.pid} (last lines) ---\n${err.split('\n').slice(-20).join('\n')}\n`);
  }
  if (records.length) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, `bench-${stamp}-partial.jsonl`), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
  await cleanup();
  process.exit(1);
}
