/**
 * The several-nodes benchmark (`npm run bench -- --nodes N --database postgres://…`): write
 * throughput through one server process and through N on the same PostgreSQL database, the load
 * split between them by account. Each of A accounts (default 4) gets its own VPC and /16 subnet
 * and C/A closed-loop callers creating interfaces (CreateNetworkInterface with a tag); account i
 * talks to node i mod N. The phases run one after the other on the same database (fresh VPCs
 * each time); the report is total creates/s per phase and the ratio.
 *
 * With `pin` (taskset, as the main benchmark pins its server and client), node i runs on core
 * i mod cores: a kernel that packs runnable work onto as few virtual CPUs as it can (seen on a
 * 2-core microVM booted with `sched_vcpu_pack`: five processes runnable and half a core idle)
 * would otherwise run both nodes on one core, and the phases would measure the packing.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QueryClient, formBody, xmlValue } from './lib/client.ts';
import { expectOk } from './lib/fixture.ts';
import { closedLoop, type LoopResult } from './lib/loop.ts';
import { BIN, spawnListening, type Child } from './lib/proc.ts';
import { num, table } from './lib/report.ts';

export interface NodesOptions {
  database: string;
  nodes: number;
  accounts: number;
  concurrency: number;
  durationS: number;
  warmupS: number;
  dataDir: string;
  /** Pin node i to core i mod cores (see above). */
  pin: boolean;
  log: (line: string) => void;
}

export interface NodesPhase {
  nodes: number;
  opsPerSec: number;
  errors: number;
  perAccount: number[];
  serverCpuUsPerOp: number;
  /** Where the machine's time went, in cores: the nodes, this process (the callers), the rest (the database, mostly). */
  nodeCores: number;
  clientCores: number;
  otherCores: number;
}

const REGION = 'us-east-1';
/** Answered requests each node warms up with before a phase is measured (see closedLoop's warmupOps). */
const WARMUP_OPS_PER_NODE = 3000;
const key = (account: number) => `AKIDBENCHACCOUNT${account}`;

export async function nodesBenchmark(o: NodesOptions): Promise<NodesPhase[]> {
  const accountsFile = path.join(o.dataDir, 'accounts.json');
  writeFileSync(
    accountsFile,
    JSON.stringify(Array.from({ length: o.accounts }, (_, a) => ({ accessKeyId: key(a), secretAccessKey: 'x', accountId: String(100000000000 + a) }))),
  );
  const phases: NodesPhase[] = [];
  let block = 0;
  for (const count of [1, o.nodes]) {
    o.log(`--nodes: ${count} node(s), ${o.accounts} accounts, ${o.concurrency} callers, ${o.durationS} s, ${o.pin ? `node i on core i mod ${os.cpus().length}` : 'nodes not pinned'}`);
    const children: Child[] = [];
    const clients: QueryClient[] = [];
    try {
      for (let n = 0; n < count; n++) {
        children.push(
          await spawnListening(BIN, [
            'serve',
            '--host', '127.0.0.1',
            '--port', '0',
            '--data-dir', path.join(o.dataDir, `node-${n}`),
            '--log-level', 'warn',
            '--database', o.database,
            '--accounts', accountsFile,
            '--quota', 'networkInterfacesPerRegion=2000000',
            '--quota', 'vpcsPerRegion=200',
          ], o.pin ? { core: n % os.cpus().length } : {}),
        );
      }
      const perAccount = Math.max(1, Math.floor(o.concurrency / o.accounts));
      const subnets: string[] = [];
      for (let a = 0; a < o.accounts; a++) {
        const client = new QueryClient(children[a % count].url, { sockets: perAccount, region: REGION, accessKeyId: key(a), secretAccessKey: 'x' });
        clients.push(client);
        const cidr = `10.${block++ % 250}.0.0/16`;
        const vpc = xmlValue(expectOk(await client.call('CreateVpc', { CidrBlock: cidr }), 'CreateVpc').body, 'vpcId')!;
        const subnet = xmlValue(expectOk(await client.call('CreateSubnet', { VpcId: vpc, CidrBlock: cidr, AvailabilityZone: `${REGION}a` }), 'CreateSubnet').body, 'subnetId')!;
        subnets.push(subnet);
      }
      const cpu = () => children.reduce((s, c) => s + c.cpuMicros(), 0);
      const create = (a: number) => () => ({ body: formBody('CreateNetworkInterface', { SubnetId: subnets[a], 'TagSpecification.1.ResourceType': 'network-interface', 'TagSpecification.1.Tag.1.Key': 'bench', 'TagSpecification.1.Tag.1.Value': String(a) }) });
      // Fresh processes: every node first answers its share of requests unmeasured, so that a
      // node that gets half the load is not measured while still half as warm.
      const loopsPerNode = Math.ceil(o.accounts / count);
      await Promise.all(
        clients.map((client, a) =>
          closedLoop({ client, concurrency: perAccount, durationMs: 1, warmupMs: 0, warmupOps: Math.ceil(WARMUP_OPS_PER_NODE / loopsPerNode), next: create(a), serverCpu: cpu }),
        ),
      );
      const cpuBefore = children.map((c) => c.cpuMicros());
      const results: LoopResult[] = await Promise.all(
        clients.map((client, a) =>
          closedLoop({ client, concurrency: perAccount, durationMs: o.durationS * 1000, warmupMs: o.warmupS * 1000, next: create(a), serverCpu: cpu }),
        ),
      );
      const opsPerSec = results.reduce((s, r) => s + r.opsPerSec, 0);
      const phase = {
        nodes: count,
        opsPerSec,
        errors: results.reduce((s, r) => s + r.errors, 0),
        perAccount: results.map((r) => r.opsPerSec),
        // Every loop sampled all the nodes' CPU over the same window: one sample over the sum of ops.
        serverCpuUsPerOp: results[0].serverCpuUsPerOp * (results[0].ops / Math.max(1, results.reduce((s, r) => s + r.ops, 0))),
        // The same window for every loop (the nodes' CPU, this process's, the machine's), so one loop's shares are the phase's.
        nodeCores: results[0].serverCoreShare,
        clientCores: results[0].clientCoreShare,
        otherCores: results[0].otherCores,
      };
      phases.push(phase);
      o.log(`  node CPU during the phase, ms: ${children.map((c, i) => ((c.cpuMicros() - cpuBefore[i]) / 1000).toFixed(0)).join(' / ')}`);
      o.log(`  ${num(opsPerSec)} creates/s in total (${phase.perAccount.map((x) => num(x)).join(' + ')}), ${phase.errors} errors`);
    } finally {
      for (const c of clients) c.close();
      await Promise.all(children.map((c) => c.stop()));
    }
  }
  const [one, many] = phases;
  o.log(
    table(
      ['nodes', 'creates/s (all accounts)', 'per account', 'errors', 'node CPU µs/op', 'cores: nodes', 'callers', 'database+rest', 'idle'],
      phases.map((p) => [
        String(p.nodes),
        num(p.opsPerSec),
        p.perAccount.map((x) => num(x)).join(' / '),
        String(p.errors),
        num(p.serverCpuUsPerOp),
        p.nodeCores.toFixed(2),
        p.clientCores.toFixed(2),
        p.otherCores.toFixed(2),
        Math.max(0, os.cpus().length - p.nodeCores - p.clientCores - p.otherCores).toFixed(2),
      ]),
    ),
  );
  o.log(`${o.nodes} nodes ÷ 1 node: ${(many.opsPerSec / one.opsPerSec).toFixed(2)}×`);
  return phases;
}
