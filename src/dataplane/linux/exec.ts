/**
 * `eni-local exec i-… -- CMD…`: runs a real process inside an instance's network namespace (or
 * the internet's), as the user who runs the command (root), with the instance's view of AWS:
 * the EC2 API at its address on the internet side; in an ec2-net-utils guest, in its mount
 * namespace too (its /run: `networkctl` works).
 */
import { spawn } from 'node:child_process';
import { guestPid, inGuest } from './guest.ts';
import { listNamespaces } from './kernel.ts';
import { PLANE, PLANE_NAMESPACE } from './names.ts';

/** The namespace of a target among the plane namespaces on this machine (one server's, if an endpoint names it). */
export async function namespaceFor(target: string, endpoint?: string): Promise<string> {
  let prefix: string | undefined;
  if (endpoint) {
    const answer = await fetch(new URL('/_eni/dataplane', endpoint)).catch((error: unknown) => {
      throw new Error(`cannot reach the eni-local server at ${endpoint} (${(error as Error).message})`);
    });
    const status = (await answer.json()) as { mode?: string; prefix?: string };
    if (status.mode !== 'linux') throw new Error(`the server at ${endpoint} runs the ${status.mode ?? 'simulated'} data plane: start it with --dataplane linux`);
    prefix = status.prefix;
  }
  const suffix = `-${target}`;
  const matches = listNamespaces().filter((ns) => {
    const owner = PLANE_NAMESPACE.exec(ns)?.[1];
    return owner && (!prefix || owner === prefix) && ns === `eni-${owner}${suffix}`;
  });
  if (!matches.length) throw new Error(`no namespace for ${target} on this machine: is a server with --dataplane linux running, and does ${target} exist (not terminated)?`);
  if (matches.length > 1) throw new Error(`${target} is in the namespaces of several servers (${matches.join(', ')}): choose one with --endpoint`);
  return matches[0];
}

export async function execInPlane(target: string, command: readonly string[], options: { endpoint?: string }): Promise<number> {
  if (!command.length) throw new Error('nothing to run: eni-local exec TARGET -- COMMAND [ARGS…]');
  const namespace = await namespaceFor(target, options.endpoint);
  const env = { ...process.env, AWS_ENDPOINT_URL_EC2: `http://${PLANE.apiIpv4}`, AWS_ENDPOINT_URL: `http://${PLANE.apiIpv4}` };
  // An ec2-net-utils guest has its own /run (networkd, D-Bus): run the command in its mount namespace too.
  const pid = await guestPid(namespace);
  const [program, ...args] = pid ? inGuest(pid, command) : ['ip', 'netns', 'exec', namespace, ...command];
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: 'inherit', env });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
