/**
 * Summarises a V8 CPU profile (.cpuprofile, as written by `node --cpu-prof`): where the samples
 * fell, by function (self time), by function including callees (total time, recursion counted
 * once), and by package or area (eni-local's own source, kysely, better-sqlite3, fastify, Node's
 * internals, the garbage collector, idle).
 *
 *   npx tsx bench/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  name: string;
  where: string;
  area: string;
  selfMs: number;
  selfShare: number;
  totalMs: number;
  totalShare: number;
}

export interface ProfileSummary {
  file: string;
  window?: [number, number];
  /** Sampled wall time, ms. */
  durationMs: number;
  /** Time not idle (what the process was busy with), ms: the base of the shares. */
  busyMs: number;
  idleMs: number;
  byFunction: FunctionTime[];
  byArea: { area: string; selfMs: number; share: number }[];
}

/** Which package or part of the program a script URL belongs to. */
export function areaOf(url: string, name: string): string {
  if (!url) {
    if (name === '(garbage collector)') return 'GC';
    if (name === '(idle)') return 'idle';
    if (name === '(program)') return 'V8/native (program)';
    return 'native';
  }
  // better-sqlite3 runs the statement inside the JS frame that calls it: kysely's executeQuery.
  if (name === 'executeQuery' && url.includes('/kysely/') && url.includes('sqlite-driver')) return 'SQLite: running statements (better-sqlite3 native, under kysely executeQuery)';
  if (name === 'prepare' && url.includes('/better-sqlite3/')) return 'SQLite: preparing statements (better-sqlite3 prepare)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const src = url.indexOf('/src/');
  if (src >= 0) {
    const rest = url.slice(src + 1).split('/');
    return `eni-local ${rest.slice(0, Math.min(rest.length - 1, 3)).join('/')}`;
  }
  return url.replace(/^file:\/\//, '');
}

function shortWhere(frame: CallFrame): string {
  if (!frame.url) return '';
  let u = frame.url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) u = u.slice(nm + '/node_modules/'.length);
  else {
    const src = u.indexOf('/src/');
    if (src >= 0) u = u.slice(src + 1);
  }
  return `${u}:${frame.lineNumber + 1}`;
}

/**
 * Summarises a profile; with `window` ([from, to] in µs of the machine's monotonic clock, which
 * is process.hrtime's and V8's), only the samples taken inside it count.
 */
export function summarise(file: string, window?: [number, number]): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) byId.set(node.id, node);
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);

  // Self time per node: each sample's time delta goes to the node it hit (V8 records the delta
  // before a sample, so the next delta is the time that sample stands for).
  const selfUs = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  let at = profile.startTime;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i] ?? 0;
    if (window && (at < window[0] || at > window[1])) continue;
    first = Math.min(first, at);
    last = Math.max(last, at);
    const dt = timeDeltas[i + 1] ?? 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt));
  }

  const keyOf = (f: CallFrame) => `${f.functionName || '(anonymous)'}|${f.url}|${f.lineNumber}|${f.columnNumber}`;
  const fn = new Map<string, { name: string; where: string; area: string; self: number; total: number }>();
  const entry = (node: ProfileNode) => {
    const key = keyOf(node.callFrame);
    let e = fn.get(key);
    if (!e) {
      const name = node.callFrame.functionName || '(anonymous)';
      e = { name, where: shortWhere(node.callFrame), area: areaOf(node.callFrame.url, name), self: 0, total: 0 };
      fn.set(key, e);
    }
    return e;
  };
  let idle = 0;
  let all = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    all += us;
    if (node.callFrame.functionName === '(idle)') idle += us;
    entry(node).self += us;
    // Total time: every distinct function on the stack gets the sample once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at)!;
      const key = keyOf(n.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      entry(n).total += us;
    }
  }
  const busy = all - idle;
  const share = (us: number) => (busy > 0 ? us / busy : 0);
  const byFunction = [...fn.values()]
    .filter((e) => e.name !== '(idle)' && e.name !== '(root)')
    .map((e) => ({ name: e.name, where: e.where, area: e.area, selfMs: e.self / 1000, selfShare: share(e.self), totalMs: e.total / 1000, totalShare: share(e.total) }))
    .sort((a, b) => b.selfMs - a.selfMs);
  const areas = new Map<string, number>();
  for (const e of fn.values()) if (e.name !== '(idle)') areas.set(e.area, (areas.get(e.area) ?? 0) + e.self);
  const byArea = [...areas.entries()].map(([area, us]) => ({ area, selfMs: us / 1000, share: share(us) })).sort((a, b) => b.selfMs - a.selfMs);
  const durationUs = window ? Math.max(0, last - first) : profile.endTime - profile.startTime;
  return { file, window, durationMs: durationUs / 1000, busyMs: busy / 1000, idleMs: idle / 1000, byFunction, byArea };
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`.padStart(6);

/** The summary as text: areas, top self time, top total time among eni-local's own functions. */
export function formatSummary(s: ProfileSummary, top = 25): string {
  const lines: string[] = [];
  lines.push(`profile ${s.file}`);
  lines.push(`${s.window ? 'measured window: ' : ''}sampled ${(s.durationMs / 1000).toFixed(1)} s, busy ${(s.busyMs / 1000).toFixed(1)} s, idle ${(s.idleMs / 1000).toFixed(1)} s (shares below are of the busy time)`);
  lines.push('');
  lines.push('by area (self time):');
  for (const a of s.byArea.slice(0, 16)) lines.push(`  ${pct(a.share)}  ${a.area}`);
  lines.push('');
  lines.push(`top ${top} functions by self time:`);
  for (const f of s.byFunction.slice(0, top)) lines.push(`  ${pct(f.selfShare)}  ${f.name.slice(0, 48).padEnd(48)}  ${f.where}`);
  lines.push('');
  lines.push(`top ${Math.min(top, 20)} eni-local functions by total time (self + callees):`);
  const own = s.byFunction.filter((f) => f.area.startsWith('eni-local')).sort((a, b) => b.totalMs - a.totalMs);
  for (const f of own.slice(0, Math.min(top, 20))) lines.push(`  ${pct(f.totalShare)}  ${f.name.slice(0, 48).padEnd(48)}  ${f.where}`);
  return lines.join('\n');
}

/**
 * The newest main-thread .cpuprofile in a directory. Node names them
 * CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread (others are
 * workers, e.g. the tsx loader's hooks thread).
 */
export function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f));
  const main = files.filter((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  return (main.length ? main : files).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const valueOf = (name: string) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
  const top = Number(valueOf('--top') ?? 25);
  // --window FROM,TO: µs of the monotonic clock (the bench's JSON lines give each run's windowUs).
  const window = valueOf('--window')?.split(',').map(Number) as [number, number] | undefined;
  const inputs = args.filter((a, i) => !a.startsWith('--') && !['--top', '--window'].includes(args[i - 1]));
  if (!inputs.length) {
    process.stderr.write('usage: tsx bench/profile-summary.ts FILE.cpuprofile|DIR [--top N] [--window FROM_US,TO_US]\n');
    process.exit(2);
  }
  for (const input of inputs) {
    const file = statSync(input).isDirectory() ? newestProfile(input) : input;
    if (!file) {
      process.stderr.write(`no .cpuprofile in ${input}\n`);
      process.exitCode = 1;
      continue;
    }
    process.stdout.write(`${formatSummary(summarise(file, window), top)}\n\n`);
  }
}
