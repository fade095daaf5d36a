/**
 * For tests of the linux data plane: real programs on real sockets inside the namespaces a test
 * server made — an HTTP server in an instance, curl in another instance or on the internet side.
 * Traffic only ever goes between those namespaces.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestServer } from './server.ts';

const run = promisify(execFile);

/**
 * Why a heavy linux-plane suite does not run again on PostgreSQL (`npm run test:postgres`), or
 * false: what it checks is the kernel's side, the same whatever the store; linux-plane.test.ts
 * still runs there, so the plane's reading of a PostgreSQL store is covered.
 */
export function onlyOnceSkip(): string | false {
  return (process.env.ENI_LOCAL_TEST_DATABASE ?? '').startsWith('postgres')
    ? 'the kernel side does not depend on the store: run by npm test, not again on PostgreSQL (linux-plane.test.ts is)'
    : false;
}

/** Why the linux plane's tests cannot run here, or false. */
export function linuxPlaneSkip(): string | false {
  if (process.platform !== 'linux') return 'the linux data plane needs Linux';
  if (process.getuid?.() !== 0) return 'the linux data plane tests need root (network namespaces)';
  for (const [command, args, name] of [
    ['ip', ['-V'], 'iproute2'],
    ['nft', ['--version'], 'nftables'],
    ['curl', ['--version'], 'curl'],
  ] as const) {
    if (spawnSync(command, [...args]).status !== 0) return `the linux data plane tests need ${name}`;
  }
  return false;
}

export function namespaceOf(server: TestServer, target: string): string {
  const ns = server.plane!.namespaceOf(target);
  if (!ns) throw new Error(`no namespace for ${target}`);
  return ns;
}

/** Runs a command inside an instance (or `internet`); resolves with its output, rejects on a non-zero exit. */
export async function execIn(server: TestServer, target: string, command: string[], timeoutMs = 10_000): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'exec', namespaceOf(server, target), ...command], { timeout: timeoutMs });
  return stdout;
}

export interface Curl {
  ok: boolean;
  body: string;
  error?: string;
}

/** One HTTP request with curl from inside `from`; a refused, dropped or timed-out connection is `ok: false`. */
export async function curl(server: TestServer, from: string, url: string, options: { timeoutSeconds?: number; source?: string } = {}): Promise<Curl> {
  const args = ['curl', '-sS', '--max-time', String(options.timeoutSeconds ?? 5), '--connect-timeout', String(options.timeoutSeconds ?? 5)];
  if (options.source) args.push('--interface', options.source);
  try {
    return { ok: true, body: await execIn(server, from, [...args, url], 15_000) };
  } catch (error) {
    return { ok: false, body: '', error: String((error as { stderr?: string }).stderr ?? error).trim() };
  }
}

export interface RunningProgram {
  child: ChildProcess;
  stop(): void;
}

/**
 * An HTTP server inside an instance that answers `<name> <local address>` on every address (or
 * only `host`), a real process in the namespace until stopped.
 */
export async function httpServer(server: TestServer, instanceId: string, name: string, options: { port?: number; host?: string; tell?: 'local' | 'remote' } = {}): Promise<RunningProgram> {
  const port = options.port ?? 80;
  const side = options.tell === 'remote' ? 'remoteAddress' : 'localAddress';
  const script = `require('node:http').createServer((q, r) => r.end(${JSON.stringify(name)} + ' ' + q.socket.${side}.replace('::ffff:', '') + '\\n')).listen({ port: ${port}${options.host ? `, host: ${JSON.stringify(options.host)}` : ''} }, () => console.log('ready'))`;
  const child = spawn('ip', ['netns', 'exec', namespaceOf(server, instanceId), process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the HTTP server in ${instanceId} exited with ${code}`)));
  });
  return { child, stop: () => child.kill('SIGKILL') };
}

/** Repeats `fn` until it returns true or the time is up (for traffic that resumes after a move). */
export async function eventually(fn: () => Promise<boolean>, timeoutMs = 10_000, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}

/** Every plane namespace of the machine that belongs to the server. */
export function namespacesOf(server: TestServer): string[] {
  return namespacesOwnedBy(server.plane!.names);
}

function namespacesOwnedBy(names: { owns(name: string): boolean }): string[] {
  const out = spawnSync('ip', ['netns', 'list']).stdout.toString();
  return out
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n && names.owns(n));
}

/** Stops the programs, then the server: a clean stop leaves none of its namespaces behind. */
export async function stopCleanly(server: TestServer, programs: readonly RunningProgram[]): Promise<void> {
  for (const p of programs) p.stop();
  const names = server.plane!.names;
  await server.stop();
  assert.deepEqual(namespacesOwnedBy(names), [], 'a clean stop leaves no namespace behind');
}

export interface KeepAliveClient extends RunningProgram {
  /** Results so far: `ok` (an answer on the one kept-alive connection) or `fail`. */
  results: string[];
  /** Resolves with the results of the next `count` requests. */
  next(count: number): Promise<string[]>;
}

/**
 * A client inside `from` that sends a request every 100 ms over ONE kept-alive TCP connection
 * (it never opens another), printing `ok` or `fail` per request: whether an established
 * connection survives a rule change.
 */
export async function keepAliveClient(server: TestServer, from: string, host: string, port = 80): Promise<KeepAliveClient> {
  const script = `
const net = require('node:net');
const socket = net.connect({ host: ${JSON.stringify(host)}, port: ${port} });
let waiting = null;
socket.on('data', () => { if (waiting) { clearTimeout(waiting); waiting = null; console.log('ok'); } });
socket.on('error', () => {});
socket.on('connect', () => setInterval(() => {
  if (waiting) { clearTimeout(waiting); console.log('fail'); }
  socket.write('GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: keep-alive\\r\\n\\r\\n');
  waiting = setTimeout(() => { waiting = null; console.log('fail'); }, 90);
}, 100));`;
  const child = spawn('ip', ['netns', 'exec', namespaceOf(server, from), process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const results: string[] = [];
  const listeners: (() => void)[] = [];
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    results.push(...lines.filter(Boolean));
    for (const l of listeners.splice(0)) l();
  });
  const next = async (count: number) => {
    const start = results.length;
    while (results.length < start + count) await new Promise<void>((resolve) => listeners.push(resolve));
    return results.slice(start, start + count);
  };
  await next(3);
  return { child, results, next, stop: () => child.kill('SIGKILL') };
}
