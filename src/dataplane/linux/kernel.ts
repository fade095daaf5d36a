/**
 * The only place that runs iproute2 and nftables: batches of `ip` commands in a namespace, an
 * nftables ruleset, listing namespaces and links. Every command names its namespace explicitly
 * (`ip -n NS`, `ip netns exec NS nft`): nothing here ever acts on the host's own namespace.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(command: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (error) => resolve({ code: 127, stdout, stderr: stderr + error.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** Whether a line of `ip` arguments is about IPv6 (an IPv6 literal in it). */
export function familyOf(line: string): 4 | 6 {
  return /(^|\s)[0-9a-f]*:[0-9a-f:]*(\/\d+)?(\s|$)/i.test(line) ? 6 : 4;
}

/**
 * Runs `ip` commands in a namespace, in order, each family's lines in one `ip -batch` (iproute2
 * takes no family per line). Lines may start with `-4 ` / `-6 `; otherwise the family is read off
 * the line. Returns the failures (the batch goes on past them).
 */
export async function ipBatch(namespace: string, lines: readonly string[]): Promise<string[]> {
  const errors: string[] = [];
  // Runs of consecutive lines of one family keep their order relative to each other.
  const runs: { family: 4 | 6; lines: string[] }[] = [];
  for (const raw of lines) {
    let line = raw;
    let family: 4 | 6;
    if (line.startsWith('-4 ') || line.startsWith('-6 ')) {
      family = line[1] === '6' ? 6 : 4;
      line = line.slice(3);
    } else if (/^(link|netns)\s/.test(line)) {
      family = 4;
    } else {
      family = familyOf(line);
    }
    const last = runs[runs.length - 1];
    if (last && last.family === family) last.lines.push(line);
    else runs.push({ family, lines: [line] });
  }
  for (const run of runs) {
    const result = await runCommand('ip', ['-n', namespace, `-${run.family}`, '-force', '-batch', '-'], run.lines.join('\n') + '\n');
    if (result.code !== 0) {
      for (const message of result.stderr.split('\n').filter(Boolean)) {
        const failed = /Command failed -:(\d+)/.exec(message);
        errors.push(failed ? `${namespace}: ${run.lines[Number(failed[1]) - 1]}` : `${namespace}: ${message}`);
      }
    }
  }
  return errors;
}

/** Replaces the namespace's `inet eni` table with `ruleset` in one nftables transaction. */
export async function applyNft(namespace: string, ruleset: string): Promise<string[]> {
  const text = `table inet eni\ndelete table inet eni\n${ruleset}`;
  const result = await runCommand('ip', ['netns', 'exec', namespace, 'nft', '-f', '-'], text);
  return result.code === 0 ? [] : [`${namespace}: nft: ${result.stderr.trim()}`];
}

export async function setSysctls(namespace: string, settings: readonly string[]): Promise<string[]> {
  if (!settings.length) return [];
  const result = await runCommand('ip', ['netns', 'exec', namespace, 'sysctl', '-q', '-w', ...settings]);
  return result.code === 0 ? [] : [`${namespace}: sysctl: ${result.stderr.trim()}`];
}

/** Named network namespaces on the machine (those `ip netns` manages). */
export function listNamespaces(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

export async function addNamespace(namespace: string): Promise<string[]> {
  const result = await runCommand('ip', ['netns', 'add', namespace]);
  if (result.code !== 0) return [`${namespace}: netns add: ${result.stderr.trim()}`];
  return ipBatch(namespace, ['link set lo up']);
}

/** Ends every process in the namespace, then removes it. */
export async function deleteNamespace(namespace: string): Promise<string[]> {
  const pids = await runCommand('ip', ['netns', 'pids', namespace]);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const result = await runCommand('ip', ['netns', 'delete', namespace]);
  return result.code === 0 ? [] : [`${namespace}: netns delete: ${result.stderr.trim()}`];
}

export interface KernelLink {
  name: string;
  mac: string;
  up: boolean;
}

export async function linksOf(namespace: string): Promise<KernelLink[]> {
  const result = await runCommand('ip', ['-n', namespace, '-j', 'link', 'show']);
  if (result.code !== 0) return [];
  const links = JSON.parse(result.stdout || '[]') as { ifname: string; address?: string; flags?: string[] }[];
  return links.map((l) => ({ name: l.ifname, mac: (l.address ?? '').toLowerCase(), up: (l.flags ?? []).includes('UP') }));
}

/** Kernel routing tables (other than main, local and default) that hold routes in the namespace. */
export async function extraTables(namespace: string): Promise<number[]> {
  const tables = new Set<number>();
  for (const family of ['-4', '-6']) {
    const result = await runCommand('ip', ['-n', namespace, family, '-j', 'route', 'show', 'table', 'all']);
    if (result.code !== 0) continue;
    for (const route of JSON.parse(result.stdout || '[]') as { table?: string }[]) {
      const n = Number(route.table);
      if (Number.isInteger(n) && n > 0 && n !== 253 && n !== 254 && n !== 255) tables.add(n);
    }
  }
  return [...tables];
}

/** What this process may do: the linux plane needs CAP_NET_ADMIN and CAP_SYS_ADMIN (or root). */
export function missingPrivileges(): string[] {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const eff = /CapEff:\s*([0-9a-f]+)/i.exec(status)?.[1];
    if (!eff) return [];
    const caps = BigInt(`0x${eff}`);
    const missing: string[] = [];
    if (!(caps & (1n << 12n))) missing.push('CAP_NET_ADMIN');
    if (!(caps & (1n << 21n))) missing.push('CAP_SYS_ADMIN');
    return missing;
  } catch {
    return process.getuid?.() === 0 ? [] : ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN'];
  }
}

/** The commands the plane cannot do without. */
export async function missingCommands(): Promise<string[]> {
  const missing: string[] = [];
  if ((await runCommand('ip', ['-V'])).code !== 0) missing.push("iproute2's ip");
  if ((await runCommand('nft', ['--version'])).code !== 0) missing.push("nftables' nft");
  return missing;
}
