/**
 * `npm run bench:plane`: the linux data plane with real packets (root only). Starts
 * `eni-local serve --dataplane linux` on a SQLite file as a child process and measures:
 *
 *   attach → packet   AttachNetworkInterface's response → the first UDP datagram received in the
 *                     new instance (a sender on the internet side sends to the interface's Elastic
 *                     IP every millisecond; p50/p99 over --moves moves between two instances)
 *   failover          a client on the internet side requests the Elastic IP over HTTP every
 *                     --interval-ms; detach (Force) + attach of the floating interface to the other
 *                     instance; from the detach call to the first answer from the new instance
 *   run-instances     one RunInstances of --instances m5.large instances with 3 interfaces each:
 *                     the call, until all are in the kernel, and the server's RSS
 *   rebuild           the server restarted on its SQLite file after a clean stop (the plane built
 *                     from nothing) and after kill -9 (the plane adopted): time to listening (the
 *                     plane is in sync before the server listens), checked against the store
 *
 * Every packet goes between namespaces of the plane. Writes bench/out/plane-<stamp>.jsonl (and
 * plane-latest.jsonl) and a table. Timing figures from a shared machine: compare ratios.
 *
 *   sudo npm run bench:plane
 *   sudo npm run bench:plane -- --moves 20 --failovers 3 --instances 10
 */
import { AllocateAddressCommand, AssociateAddressCommand, AttachInternetGatewayCommand, AttachNetworkInterfaceCommand, AuthorizeSecurityGroupIngressCommand, CreateInternetGatewayCommand, CreateNetworkInterfaceCommand, CreateRouteCommand, CreateSubnetCommand, CreateVpcCommand, DescribeInstancesCommand, DescribeNetworkInterfacesCommand, DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DetachNetworkInterfaceCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BIN, ROOT, spawnListening, type Child } from './lib/proc.ts';
import { mib, table } from './lib/report.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const HELP = `npm run bench:plane -- [options]      (as root: the linux data plane makes network namespaces)

  --moves N               attach → packet: interface moves measured (default 200)
  --failovers N           failovers seen by the HTTP client (default 20)
  --interval-ms MS        the failover client's request interval (default 10)
  --instances N           RunInstances of N m5.large instances with 3 interfaces each (default 100)
  --out DIR               where results go (default bench/out)
  --keep                  keep the temporary data directory
`;

const { values: argv } = parseArgs({
  options: {
    moves: { type: 'string', default: '200' },
    failovers: { type: 'string', default: '20' },
    'interval-ms': { type: 'string', default: '10' },
    instances: { type: 'string', default: '100' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (argv.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
if (process.getuid?.() !== 0) {
  console.error('npm run bench:plane: the linux data plane benchmark needs root (it makes network namespaces and nftables rules): run it with sudo');
  process.exit(2);
}
for (const [command, args, name] of [['ip', ['-V'], 'iproute2'], ['nft', ['--version'], 'nftables']] as const) {
  if (spawnSync(command, [...args]).status !== 0) {
    console.error(`npm run bench:plane: the linux data plane needs ${name}`);
    process.exit(2);
  }
}

const moves = Number(argv.moves);
const failovers = Number(argv.failovers);
const intervalMs = Number(argv['interval-ms']);
const instanceCount = Number(argv.instances);
const outDir = path.resolve(argv.out ?? path.join(ROOT, 'bench', 'out'));
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'eni-local-bench-plane-'));
const serverArgs = ['serve', '--port', '0', '--data-dir', dataDir, '--database', `sqlite:${path.join(dataDir, 'plane.sqlite')}`, '--dataplane', 'linux', '--no-default-vpc', '--log-level', 'error', '--quota', 'elasticIpsPerRegion=20'];

const records: Record<string, unknown>[] = [];
const record = (type: string, fields: Record<string, unknown>) => records.push({ type, ...fields });
/** Absolute milliseconds on a clock every process of the machine shares. */
const clock = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}
const summary = (values: number[]) => ({ count: values.length, p50Ms: percentile(values, 0.5), p99Ms: percentile(values, 0.99), minMs: Math.min(...values), maxMs: Math.max(...values) });
const f1 = (v: number) => v.toFixed(1);
/** Progress on stderr (the report goes to stdout). */
const progress = (text: string) => process.stderr.write(`[bench:plane ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

/** A program inside a namespace whose stdout lines go to `onLine`. */
function inNamespace(namespace: string, script: string, args: string[], onLine: (line: string) => void): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  let pending = '';
  child.stdout!.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  return child;
}

/** Resolves when `test` holds, checked on every event and at most every 5 ms; rejects after `timeoutMs`. */
async function until(what: string, test: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

// A UDP listener: prints `<round> <time>` for the first datagram of each round it receives.
const LISTENER = `const s = require('node:dgram').createSocket('udp4'); let last = ''; s.on('message', (m) => { const r = m.toString(); if (r !== last) { last = r; console.log(r + ' ' + (performance.timeOrigin + performance.now())); } }); s.bind(9000, () => console.log('ready'));`;
// A UDP sender: a datagram carrying the current round to ADDRESS:9000 every millisecond; a round from stdin is acknowledged.
const SENDER = `const s = require('node:dgram').createSocket('udp4'); let round = '0'; require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => { round = l.trim(); console.log('ack ' + round); }); setInterval(() => s.send(round, 9000, process.argv[1]), 1); console.log('ready');`;
// An HTTP server answering its name.
const WEB = `require('node:http').createServer((q, r) => r.end(process.argv[1])).listen(80, () => console.log('ready'))`;
// An HTTP client: a new connection to ADDRESS every INTERVAL ms; prints `<start> <end> <body|fail>`.
const CLIENT = `const http = require('node:http'); const now = () => performance.timeOrigin + performance.now(); setInterval(() => { const t = now(); const q = http.get({ host: process.argv[1], port: 80, agent: false, timeout: 250 }, (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => console.log(t + ' ' + now() + ' ' + b)); }); q.on('timeout', () => q.destroy()); q.on('error', () => console.log(t + ' ' + now() + ' fail')); }, Number(process.argv[2])); console.log('ready');`;

async function ready(child: ChildProcess, lines: string[]): Promise<void> {
  await until('a helper program to start', () => lines.includes('ready') || child.exitCode !== null);
  if (child.exitCode !== null) throw new Error(`a helper program exited with ${child.exitCode}`);
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  record('machine', { cpus: os.cpus().length, loadAverageStart: os.loadavg(), node: process.version, kernel: os.release(), note: 'shared machine: other processes run beside the benchmark' });
  let server: Child = await spawnListening(BIN, serverArgs);
  const { prefix } = (await (await fetch(`${server.url}/_eni/dataplane`)).json()) as { prefix: string };
  record('plane', { prefix });
  progress(`server at ${server.url}, plane namespaces eni-${prefix}-…`);
  const ns = (target: string) => `eni-${prefix}-${target}`;
  const helpers: ChildProcess[] = [];
  let ec2 = new EC2Client({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'secret' }, maxAttempts: 1 });
  const out: string[] = [];
  try {
    // --- the network: one VPC, one /20 subnet, an internet gateway, the default group open to UDP 9000 and TCP 80
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!.VpcId!;
    const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.50.0.0/20', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    const table0 = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).RouteTables![0].RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: table0, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    const group = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).SecurityGroups![0].GroupId!;
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group,
        IpPermissions: [
          { IpProtocol: 'udp', FromPort: 9000, ToPort: 9000, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
          { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        ],
      }),
    );
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', InstanceType: 'm5.large', MinCount: 2, MaxCount: 2, SubnetId: subnetId }));
    const pair = run.Instances!.map((i) => i.InstanceId!);
    const eniId = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: 'floating' }))).NetworkInterface!.NetworkInterfaceId!;
    const { AllocationId, PublicIp } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new AssociateAddressCommand({ AllocationId, NetworkInterfaceId: eniId }));
    const attachment = async () => (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }))).NetworkInterfaces![0];
    const detach = async (force: boolean) => {
      const now = await attachment();
      if (!now.Attachment?.AttachmentId) return;
      await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: now.Attachment.AttachmentId, Force: force }));
      for (let i = 0; (await attachment()).Status !== 'available'; i++) if (i > 2000) throw new Error(`${eniId} never became available`);
    };
    const attach = (instanceId: string) => ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: instanceId, DeviceIndex: 1 }));

    // --- attach → first packet
    progress(`attach → packet: ${moves} moves`);
    const firsts = new Map<string, Map<string, number>>();
    for (const id of pair) {
      const seen = new Map<string, number>();
      firsts.set(id, seen);
      const lines: string[] = [];
      const child = inNamespace(ns(id), LISTENER, [], (line) => {
        lines.push(line);
        const [r, t] = line.split(' ');
        if (t) seen.set(r, Number(t));
      });
      helpers.push(child);
      await ready(child, lines);
    }
    const senderLines: string[] = [];
    const sender = inNamespace(ns('internet'), SENDER, [PublicIp!], (line) => senderLines.push(line));
    helpers.push(sender);
    await ready(sender, senderLines);
    const latencies: number[] = [];
    let lost = 0;
    for (let round = 1; round <= moves; round++) {
      const target = pair[round % 2];
      await detach(false);
      sender.stdin!.write(`${round}\n`);
      await until('the sender to take the round', () => senderLines.includes(`ack ${round}`));
      await attach(target);
      const answeredAt = clock();
      try {
        await until(`round ${round}'s first packet`, () => firsts.get(target)!.has(String(round)), 5000);
        latencies.push(firsts.get(target)!.get(String(round))! - answeredAt);
      } catch {
        lost += 1;
      }
    }
    sender.kill('SIGKILL');
    const attachToPacket = { ...summary(latencies), moves, lost, beforeResponse: latencies.filter((l) => l < 0).length, targetP50Ms: 50 };
    record('attach-to-packet', attachToPacket);

    // --- failover seen by an HTTP client on the internet side
    progress(`failover: ${failovers} failovers, the client every ${intervalMs} ms`);
    for (const [i, id] of pair.entries()) {
      const lines: string[] = [];
      const web = inNamespace(ns(id), WEB, [`instance-${i}`], (line) => lines.push(line));
      helpers.push(web);
      await ready(web, lines);
    }
    const answers: { start: number; end: number; body: string }[] = [];
    const clientLines: string[] = [];
    const client = inNamespace(ns('internet'), CLIENT, [PublicIp!, String(intervalMs)], (line) => {
      if (line === 'ready') return void clientLines.push(line);
      const [start, end, body] = line.split(' ');
      answers.push({ start: Number(start), end: Number(end), body });
    });
    helpers.push(client);
    await ready(client, clientLines);
    const holder = async () => pair.indexOf((await attachment()).Attachment?.InstanceId ?? '');
    const failoverMs: number[] = [];
    const apiMs: number[] = [];
    const unanswered: number[] = [];
    for (let n = 0; n < failovers; n++) {
      const from = await holder();
      const to = from === 0 ? 1 : 0;
      // Steady first: three answers in a row from the holder.
      const steadyFrom = answers.length;
      await until('a steady client', () => answers.slice(steadyFrom).filter((a) => a.body === `instance-${from}`).length >= 3, 10_000);
      const t0 = clock();
      await detach(true);
      await attach(pair[to]);
      apiMs.push(clock() - t0);
      await until(`the client answered by instance-${to}`, () => answers.some((a) => a.start >= t0 && a.body === `instance-${to}`), 10_000);
      const first = answers.filter((a) => a.start >= t0 && a.body === `instance-${to}`).sort((a, b) => a.end - b.end)[0];
      failoverMs.push(first.end - t0);
      unanswered.push(answers.filter((a) => a.start >= t0 && a.start < first.start && a.body === 'fail').length);
    }
    client.kill('SIGKILL');
    const failover = { ...summary(failoverMs), failovers, intervalMs, apiP50Ms: percentile(apiMs, 0.5), unansweredRequestsMax: Math.max(...unanswered) };
    record('failover', failover);

    // --- RunInstances: N instances × 3 interfaces
    progress(`RunInstances of ${instanceCount} × 3 interfaces`);
    const rssBefore = server.memory().rss;
    const t0 = clock();
    const big = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        InstanceType: 'm5.large',
        MinCount: instanceCount,
        MaxCount: instanceCount,
        NetworkInterfaces: [0, 1, 2].map((DeviceIndex) => ({ DeviceIndex, SubnetId: subnetId, Groups: [group] })),
      }),
    );
    const callMs = clock() - t0;
    const ids = big.Instances!.map((i) => i.InstanceId!);
    for (let i = 0; ; i++) {
      const states = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations!.flatMap((r) => r.Instances!).map((i) => i.State!.Name);
      if (states.every((s) => s === 'running')) break;
      if (i > 5000) throw new Error('the instances never all ran');
      await sleep(5);
    }
    const runningMs = clock() - t0;
    const inKernel = kernelInterfaces(prefix);
    const matched = ids.every((id) => inKernel.get(id) === 3);
    const runInstances = { instances: instanceCount, interfacesEach: 3, callMs, runningMs, inKernel: matched, rssBeforeBytes: rssBefore, rssAfterBytes: server.memory().rss, rssHwmBytes: server.memory().hwm };
    record('run-instances', runInstances);

    // --- the plane rebuilt at start, after a clean stop and after kill -9
    for (const h of helpers) h.kill('SIGKILL');
    const total = ids.length + pair.length;
    ec2.destroy();
    const rebuild: Record<string, unknown>[] = [];
    for (const how of ['clean stop', 'kill -9'] as const) {
      progress(`restart after ${how} with ${total} instances`);
      if (how === 'clean stop') await server.stop();
      else {
        server.process.kill('SIGKILL');
        await new Promise((r) => server.process.once('exit', r));
      }
      const left = kernelInterfaces(prefix).size;
      server = await spawnListening(BIN, serverArgs);
      const kernel = kernelInterfaces(prefix);
      const ok = ids.every((id) => kernel.get(id) === 3) && kernel.size === total;
      const fields = { after: how, instances: total, namespacesBefore: left, listeningMs: server.listeningMs, planeMatchesAtListening: ok, rssBytes: server.memory().rss };
      record('rebuild', fields);
      rebuild.push(fields);
    }

    // --- the report
    out.push(`eni-local linux plane benchmark — ${stamp}, ${os.cpus().length} cores (shared: other processes run beside it), load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    out.push('');
    out.push(
      table(
        ['measure', 'n', 'p50', 'p99', 'min', 'max', 'notes'],
        [
          ['attach response → first packet (ms)', String(latencies.length), f1(attachToPacket.p50Ms), f1(attachToPacket.p99Ms), f1(attachToPacket.minMs), f1(attachToPacket.maxMs), `target p50 ≤ 50 ms (${f1(attachToPacket.p50Ms / 50)}× of it); ${attachToPacket.beforeResponse} before the response; ${lost} lost`],
          ['failover seen by the client (ms)', String(failoverMs.length), f1(failover.p50Ms), f1(failover.p99Ms), f1(failover.minMs), f1(failover.maxMs), `detach+attach calls p50 ${f1(failover.apiP50Ms)} ms; client every ${intervalMs} ms; ≤ ${failover.unansweredRequestsMax} unanswered`],
        ],
        ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
      ),
    );
    out.push('');
    out.push(`RunInstances of ${instanceCount} × 3 interfaces: the call ${f1(callMs)} ms, all running ${f1(runningMs)} ms, in the kernel: ${matched ? 'yes' : 'NO'}; server RSS ${mib(rssBefore)} → ${mib(runInstances.rssAfterBytes)} (peak ${mib(runInstances.rssHwmBytes)})`);
    for (const r of rebuild) out.push(`Restart with ${total} instances after ${r.after}: listening (plane in sync) after ${f1(r.listeningMs as number)} ms, ${r.namespacesBefore} instance namespaces before, kernel matches the store: ${r.planeMatchesAtListening ? 'yes' : 'NO'}, RSS ${mib(r.rssBytes as number)}`);
  } finally {
    for (const h of helpers) h.kill('SIGKILL');
    ec2.destroy();
    await server.stop();
    // Whatever happened, nothing of this benchmark stays on the machine.
    spawnSync(process.execPath, [BIN, 'dataplane', 'cleanup', '--prefix', prefix]);
    if (!argv.keep) rmSync(dataDir, { recursive: true, force: true });
  }
  record('summary', { loadAverageEnd: os.loadavg() });
  const base = path.join(outDir, `plane-${stamp}`);
  writeFileSync(`${base}.jsonl`, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  copyFileSync(`${base}.jsonl`, path.join(outDir, 'plane-latest.jsonl'));
  out.push('');
  out.push(`Wrote ${path.relative(process.cwd(), base)}.jsonl (also plane-latest.jsonl)`);
  process.stdout.write(out.join('\n') + '\n');
}

/** Instance id → how many ethN links its namespace holds, read off the kernel alone. */
function kernelInterfaces(prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  const start = `eni-${prefix}-i-`;
  const namespaces = execFileSync('ip', ['netns', 'list']).toString().split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(start));
  for (const n of namespaces) {
    const links = JSON.parse(execFileSync('ip', ['-n', n, '-j', 'link', 'show']).toString()) as { ifname: string }[];
    out.set(n.slice(`eni-${prefix}-`.length), links.filter((l) => /^eth\d+$/.test(l.ifname)).length);
  }
  return out;
}

await main();
