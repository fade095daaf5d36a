/**
 * The closed loop: C callers, each sending its next request as soon as the previous answer is in,
 * for a fixed time. Measures throughput, latency percentiles, and the CPU both sides spent.
 */
import type { QueryClient, Response } from './client.ts';
import { machineBusyMicros } from './proc.ts';

/** One request of a workload and how to judge its answer. */
export interface Op {
  body: string;
  /** Whether the answer is right (called on HTTP 200 only); a string says what was wrong. */
  check?: (response: Response) => true | string;
  /** Called after a good answer (e.g. to remember an id for the next step). */
  after?: (response: Response) => void;
  /** Extra count this answer contributes (e.g. interfaces listed), summed into `items`. */
  items?: (response: Response) => number;
}

/** A workload: how caller `worker` makes its next request. */
export type NextOp = (worker: number) => Op;

export interface LoopOptions {
  client: QueryClient;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /**
   * Answered requests the warm-up needs besides its time (default 0): code a server has not run
   * yet is optimised by V8 only after many calls, on a background thread that a machine whose
   * cores the load fills runs late (a server's first workload measured after 0.6 s of warm-up
   * cost it up to 2× the CPU per request of the same workload run again).
   */
  warmupOps?: number;
  next: NextOp;
  /** CPU time of the server process, µs (sampled before and after). */
  serverCpu: () => number;
  /** Called about twice a second with the progress so far. */
  onProgress?: (p: { elapsedMs: number; ops: number; errors: number; warmup: boolean }) => void;
}

export interface LoopResult {
  ops: number;
  errors: number;
  /** Up to five distinct error descriptions with their counts. */
  errorKinds: Record<string, number>;
  wallMs: number;
  opsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Server CPU per request, µs. */
  serverCpuUsPerOp: number;
  clientCpuUsPerOp: number;
  /** Share of one core each side used during the measured window (1 = a whole core). */
  serverCoreShare: number;
  clientCoreShare: number;
  /** CPU the rest of the machine used meanwhile, in cores: the noise of a shared machine. */
  otherCores: number;
  items: number;
  itemsPerSec: number;
  /** The measured window on the machine's monotonic clock, µs (the clock V8's CPU profiles use). */
  windowUs: [number, number];
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

class Latencies {
  private data = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

function describeError(response: Response | undefined, error: unknown): string {
  if (!response) return `transport: ${error instanceof Error ? error.message : String(error)}`.slice(0, 120);
  const code = /<Code>([^<]*)<\/Code>/.exec(response.body)?.[1];
  return `HTTP ${response.status}${code ? ` ${code}` : ''}`;
}

export async function closedLoop(options: LoopOptions): Promise<LoopResult> {
  const { client, concurrency, next } = options;
  const latencies = new Latencies();
  let ops = 0;
  let errors = 0;
  let items = 0;
  const errorKinds: Record<string, number> = {};
  let measuring = false;
  let warmedOps = 0;
  let stopAt = Infinity;
  const startedAt = performance.now();

  const noteError = (what: string) => {
    if (!measuring) return;
    errors++;
    if (what in errorKinds || Object.keys(errorKinds).length < 5) errorKinds[what] = (errorKinds[what] ?? 0) + 1;
  };

  const worker = async (index: number) => {
    while (performance.now() < stopAt) {
      const op = next(index);
      const t0 = performance.now();
      let response: Response | undefined;
      try {
        response = await client.send(op.body);
      } catch (error) {
        noteError(describeError(undefined, error));
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      const t1 = performance.now();
      let verdict: true | string = response.status === 200 ? true : describeError(response, undefined);
      if (verdict === true && op.check) verdict = op.check(response);
      if (verdict !== true) {
        noteError(verdict);
        continue;
      }
      op.after?.(response);
      if (measuring) {
        ops++;
        latencies.push(t1 - t0);
        if (op.items) items += op.items(response);
      } else warmedOps++;
    }
  };

  // Warm-up: the same loop, not counted.
  let progressTimer: NodeJS.Timeout | undefined;
  const report = () =>
    options.onProgress?.({ elapsedMs: performance.now() - (measuredFrom || startedAt), ops, errors, warmup: !measuring });
  let measuredFrom = 0;
  progressTimer = setInterval(report, 500);
  const workers = Array.from({ length: concurrency }, (_, i) => worker(i));

  await new Promise((r) => setTimeout(r, options.warmupMs));
  // At most a minute more, should the workload be too slow to reach its count.
  const warmupOps = options.warmupOps ?? 0;
  const giveUpAt = performance.now() + 60_000;
  while (warmedOps < warmupOps && performance.now() < giveUpAt) await new Promise((r) => setTimeout(r, 50));
  const cpu0 = process.cpuUsage();
  const server0 = options.serverCpu();
  const machine0 = machineBusyMicros();
  measuredFrom = performance.now();
  const fromUs = monotonicUs();
  measuring = true;
  stopAt = measuredFrom + options.durationMs;
  await Promise.all(workers);
  const end = performance.now();
  const toUs = monotonicUs();
  const cpu = process.cpuUsage(cpu0);
  const server1 = options.serverCpu();
  const machine1 = machineBusyMicros();
  clearInterval(progressTimer);

  const wallMs = end - measuredFrom;
  const sorted = latencies.sorted();
  let sum = 0;
  for (const v of sorted) sum += v;
  const clientUs = cpu.user + cpu.system;
  const serverUs = server1 - server0;
  const per = (x: number) => (ops ? x / ops : NaN);
  return {
    ops,
    errors,
    errorKinds,
    wallMs,
    opsPerSec: (ops * 1000) / wallMs,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? sorted[sorted.length - 1] : NaN,
    meanMs: sorted.length ? sum / sorted.length : NaN,
    serverCpuUsPerOp: per(serverUs),
    clientCpuUsPerOp: per(clientUs),
    serverCoreShare: serverUs / 1000 / wallMs,
    clientCoreShare: clientUs / 1000 / wallMs,
    otherCores: Math.max(0, machine1 - machine0 - serverUs - clientUs) / 1000 / wallMs,
    items,
    itemsPerSec: (items * 1000) / wallMs,
    windowUs: [fromUs, toUs],
  };
}
