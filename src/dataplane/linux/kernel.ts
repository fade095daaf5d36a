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
 * Runs `ip` commands in a namespace: the IPv4 lines (and `link`/`netns` lines) in one
 * `ip -4 -batch`, then the IPv6 lines in one `ip -6 -batch` (iproute2 takes no family per line),
 * each family in the given order. Lines may start with `-4 ` / `-6 `; otherwise the family is
 * read off the line. Nothing the plane batches makes an IPv4 line wait for an IPv6 one: links come
 * first, and routes and rules of one family only name that family's addresses. Returns the
 * failures (the batch goes on past them).
 */
export async function ipBatch(namespace: string, lines: readonly string[]): Promise<string[]> {
  const errors: string[] = [];
  const byFamily: Record<4 | 6, string[]> = { 4: [], 6: [] };
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
    byFamily[family].push(line);
  }
  for (const family of [4, 6] as const) {
    const run = byFamily[family];
    if (!run.length) continue;
    const result = await runCommand('ip', ['-n', namespace, `-${family}`, '-force', '-batch', '-'], run.join('\n') + '\n');
    if (result.code !== 0) {
      for (const message of result.stderr.split('\n').filter(Boolean)) {
        const failed = /Command failed -:(\d+)/.exec(message);
        errors.push(failed ? `${namespace}: ${run[Number(failed[1]) - 1]}` : `${namespace}: ${message}`);
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

/**
 * Creates namespaces, each with its loopback up and its sysctls, in one shell: one process for
 * the server to start however many namespaces a change brings (RunInstances of 100 instances).
 */
export async function addNamespaces(namespaces: readonly { name: string; sysctls: readonly string[] }[]): Promise<string[]> {
  if (!namespaces.length) return [];
  const script = namespaces
    .map(({ name, sysctls }) => {
      const q = quote(name);
      const settings = sysctls.length ? ` && ip netns exec ${q} sysctl -q -w ${sysctls.map(quote).join(' ')}` : '';
      return `{ ip netns add ${q} && ip -n ${q} link set lo up${settings}; } 2>&1 | sed 's|^|${name}: |' >&2`;
    })
    .join('\n');
  const result = await runCommand('sh', ['-c', script]);
  return result.stderr.split('\n').filter(Boolean);
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Named network namespaces on the machine (those `ip netns` manages). */
export function listNamespaces(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
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
