/**
 * Child processes of the benchmark (the eni-local server, the bare ceiling server) and what
 * /proc says about them: CPU time (utime + stime of every thread) and resident memory.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/eni-local.js', import.meta.url));
export const CEILING = fileURLToPath(new URL('../ceiling-server.ts', import.meta.url));

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The path of taskset, when this machine has it. */
export const TASKSET: string | undefined = ['/usr/bin/taskset', '/bin/taskset', '/usr/local/bin/taskset'].find((p) => existsSync(p));

/** CPU time a process has used (all its threads), in microseconds. */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLK_TCK;
}

/** CPU time the whole machine has spent busy (every core, not idle nor waiting for I/O), in microseconds. */
export function machineBusyMicros(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [, ...ticks] = line.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + (ticks[7] ?? 0);
  return (busy * 1e6) / CLK_TCK;
}

/** Resident set size of a process, in bytes (VmRSS), and its peak (VmHWM). */
export function processMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Pins this process (every thread) to one core; false when taskset is missing or refuses. */
export function pinSelf(core: number): boolean {
  if (!TASKSET) return false;
  try {
    execFileSync(TASKSET, ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Child {
  process: ChildProcess;
  pid: number;
  url: string;
  /** ms from spawn to the "listening on" line. */
  listeningMs: number;
  spawnedAt: number;
  /** The last lines the child wrote to stderr (for failure messages). */
  stderr(): string;
  cpuMicros(): number;
  memory(): { rss: number; hwm: number };
  /** SIGTERM, then wait for the exit (SIGKILL after the grace period). */
  stop(graceMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  /** Core to pin to with taskset (ignored when taskset is missing). */
  core?: number;
  /** node options before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  cwd?: string;
  startTimeoutMs?: number;
}

/** Spawns `node [nodeArgs] script args…` (through taskset when pinning) and waits for its "listening on URL" line. */
export async function spawnListening(script: string, args: string[], options: SpawnOptions = {}): Promise<Child> {
  const nodeArgv = [...(options.nodeArgs ?? []), script, ...args];
  const pinned = options.core !== undefined && TASKSET !== undefined;
  const command = pinned ? TASKSET! : process.execPath;
  const argv = pinned ? ['-c', String(options.core), process.execPath, ...nodeArgv] : nodeArgv;
  const spawnedAt = performance.now();
  const child = spawn(command, argv, { cwd: options.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  const { url, at } = await new Promise<{ url: string; at: number }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} did not start within ${options.startTimeoutMs ?? 120_000} ms:\n${out}\n${err}`)),
      options.startTimeoutMs ?? 120_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1], at: performance.now() });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout!.on('data', () => {});
  const pid = child.pid!;
  return {
    process: child,
    pid,
    url,
    listeningMs: at - spawnedAt,
    spawnedAt,
    stderr: () => err,
    cpuMicros: () => processCpuMicros(pid),
    memory: () => processMemory(pid),
    stop: async (graceMs = 30_000) => {
      if (exitedYet) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** What code a server started now would run: the commit, uncommitted changes, a digest of src/, built or sources. */
export interface CodeState {
  commit?: string;
  /** Files under src/ and bin/ that differ from the commit. */
  uncommitted?: number;
  /** SHA-1 over every file under src/ (path and content), first 12 hex digits. */
  srcDigest: string;
  /** What bin/eni-local.js runs: the compiled build when it is at least as new as every source, else the sources through tsx. */
  runs: 'build (dist/eni-local.mjs)' | 'sources (tsx)';
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(file));
    else out.push(file);
  }
  return out.sort();
}

export function codeState(): CodeState {
  const src = path.join(ROOT, 'src');
  const files = filesUnder(src);
  const hash = createHash('sha1');
  let newest = 0;
  for (const file of files) {
    hash.update(path.relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
    newest = Math.max(newest, statSync(file).mtimeMs);
  }
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined;
    }
  };
  const status = git(['status', '--porcelain', '--', 'src', 'bin']);
  let built = false;
  try {
    built = process.env.ENI_LOCAL_FROM_SOURCE !== '1' && statSync(path.join(ROOT, 'dist', 'eni-local.mjs')).mtimeMs >= newest;
  } catch {
    built = false;
  }
  return {
    commit: git(['rev-parse', '--short', 'HEAD']),
    uncommitted: status === undefined ? undefined : status.split('\n').filter(Boolean).length,
    srcDigest: hash.digest('hex').slice(0, 12),
    runs: built ? 'build (dist/eni-local.mjs)' : 'sources (tsx)',
  };
}

export function describeCode(c: CodeState): string {
  return `commit ${c.commit ?? '?'}${c.uncommitted ? ` + ${c.uncommitted} uncommitted file(s) in src/ or bin/` : ''}, src digest ${c.srcDigest}, server runs the ${c.runs}`;
}
