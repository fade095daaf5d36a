/**
 * keepalived failover on the linux data plane: two instances run keepalived (Debian's), VRRP
 * between them by unicast over the VPC, and the one that becomes MASTER moves a floating interface
 * — the service's private address and Elastic IP — to itself with the AWS CLI through the EC2 API,
 * from inside the instance, as users do on AWS. A client on the internet side keeps requesting the
 * Elastic IP while the master fails; its requests resume on the standby.
 *
 *   sudo npx tsx examples/07-keepalived-failover/run.ts              # the master fails (eni-local fail)
 *   sudo npx tsx examples/07-keepalived-failover/run.ts --kill       # the master's keepalived is killed instead
 *
 * Needs root, keepalived, the AWS CLI and curl, and a server with --dataplane linux (ENI_LOCAL_ENDPOINT,
 * or http://127.0.0.1:4599 if it runs the linux plane; otherwise one is started in-process).
 */
import { AllocateAddressCommand, AssociateAddressCommand, AttachNetworkInterfaceCommand, AuthorizeSecurityGroupIngressCommand, CreateNetworkInterfaceCommand, type Instance } from '@aws-sdk/client-ec2';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { namespaceFor } from '../../src/dataplane/linux/exec.ts';
import { PLANE } from '../../src/dataplane/linux/names.ts';
import { conclude, connectToInternet, createGroup, createSubnet, createVpc, describeEni, expect, launch, runExample, say, setInstanceHealth, tagged, tcp, waitFor, type Lab } from '../lib.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const failure: 'fail' | 'kill' = process.argv.includes('--kill') ? 'kill' : 'fail';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'it needs root (network namespaces): run it with sudo';
  for (const [command, args, name] of [['keepalived', ['--version'], 'keepalived (Debian: apt-get install keepalived)'], ['aws', ['--version'], 'the AWS CLI (Debian: awscli)'], ['curl', ['--version'], 'curl'], ['ip', ['-V'], 'iproute2']] as const) {
    if (spawnSync(command, [...args]).status !== 0) return `it needs ${name}`;
  }
  return undefined;
}

/** A long-running program inside a namespace, in a process group of its own (so that it can be killed with its children). */
function start(namespace: string, command: string[], onLine: (line: string) => void = () => {}): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', namespace, ...command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let pending = '';
  const read = (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) onLine(line);
  };
  child.stdout!.on('data', read);
  child.stderr!.on('data', read);
  return child;
}

function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.exitCode === null && child.signalCode === null && child.pid) {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** A web server on every address of the instance, answering its name. */
const WEB = `require('node:http').createServer((q, r) => r.end(process.argv[1] + '\\n')).listen(80, () => console.log('ready'))`;

interface Node {
  instance: Instance;
  name: string;
  namespace: string;
  states: string[];
  keepalived?: ChildProcess;
}

const missingWhat = missing();
if (missingWhat) {
  console.error(`keepalived failover: ${missingWhat}`);
  process.exitCode = 2;
} else {
  await runExample({ name: '07-keepalived-failover', title: 'keepalived failover on real packets', region: 'sa-east-1', dataplane: 'linux' }, story);
}

async function story(lab: Lab): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'eni-local-keepalived-'));
  const programs: ChildProcess[] = [];
  try {
    await scenario(lab, dir, programs);
  } finally {
    for (const p of programs) kill(p);
    await Promise.all(programs.map(exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function scenario(lab: Lab, dir: string, programs: ChildProcess[]): Promise<void> {
  const vpcId = await createVpc(lab, '10.17.0.0/16');
  const subnet = await createSubnet(lab, vpcId, '10.17.1.0/24', 'a', 'service');
  await connectToInternet(lab, vpcId, [subnet]);
  // AWS: VRRP is IP protocol 112; the peers' group must let it in from its own members.
  const peers = await createGroup(lab, vpcId, 'vrrp-peers', []);
  await lab.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: peers, IpPermissions: [{ IpProtocol: '112', UserIdGroupPairs: [{ GroupId: peers }] }] }));
  const web = await createGroup(lab, vpcId, 'web', [tcp(80, '0.0.0.0/0')]);

  const nodes: Node[] = [];
  for (const name of ['keepalived-a', 'keepalived-b']) {
    const instance = await launch(lab, name, { SubnetId: subnet, SecurityGroupIds: [peers] });
    // Its own Elastic IP: the way out to the EC2 API (through the internet gateway).
    const eip = await lab.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagged(lab, 'elastic-ip', name) }));
    await lab.ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: instance.InstanceId }));
    nodes.push({ instance, name, namespace: await namespaceFor(instance.InstanceId!, lab.endpoint), states: [] });
  }
  const [a, b] = nodes;
  const { NetworkInterface: floating } = await lab.ec2.send(
    new CreateNetworkInterfaceCommand({ SubnetId: subnet, Groups: [web], Description: 'floating service address', TagSpecifications: tagged(lab, 'network-interface', 'floating') }),
  );
  const eniId = floating!.NetworkInterfaceId!;
  await lab.ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: a.instance.InstanceId, DeviceIndex: 1 }));
  const eip = await lab.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagged(lab, 'elastic-ip', 'service') }));
  await lab.ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eniId }));
  say(`Built ${vpcId}: ${a.name} ${a.instance.InstanceId} (${a.instance.PrivateIpAddress}) and ${b.name} ${b.instance.InstanceId} (${b.instance.PrivateIpAddress}),`);
  say(`  group vrrp-peers (IP protocol 112 from itself), floating interface ${eniId} (${floating!.PrivateIpAddress}, Elastic IP ${eip.PublicIp}) on ${a.name} as eth1.`);

  // Each instance: a web server, and keepalived with its notify_master script.
  const notifyLog = path.join(dir, 'notify.log');
  writeFileSync(notifyLog, '');
  for (const [i, node] of nodes.entries()) {
    const peer = nodes[1 - i];
    const env = path.join(dir, `${node.name}.env`);
    const variables = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: process.env.HOME ?? '/root',
      AWS_ENDPOINT_URL_EC2: `http://${PLANE.apiIpv4}`,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      AWS_DEFAULT_REGION: lab.region,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_MAX_ATTEMPTS: '2',
      FLOATING_ENI: eniId,
      DEVICE_INDEX: '1',
      NOTIFY_LOG: notifyLog,
    };
    writeFileSync(env, Object.entries(variables).map(([k, v]) => `export ${k}='${v}'\n`).join(''));
    const conf = readFileSync(path.join(HERE, 'keepalived.conf.template'), 'utf8')
      .replaceAll('@NAME@', node.name)
      .replaceAll('@PRIORITY@', i === 0 ? '150' : '100')
      .replaceAll('@SELF_IP@', node.instance.PrivateIpAddress!)
      .replaceAll('@PEER_IP@', peer.instance.PrivateIpAddress!)
      .replaceAll('@NOTIFY_MASTER@', path.join(HERE, 'notify-master.sh'))
      .replaceAll('@ENV_FILE@', env);
    writeFileSync(path.join(dir, `${node.name}.conf`), conf);

    const server = start(node.namespace, [process.execPath, '-e', WEB, node.name]);
    programs.push(server);
    await new Promise<void>((resolve, reject) => {
      server.stdout!.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`the web server on ${node.name} exited with ${code}`)));
    });
  }
  const startKeepalived = (node: Node) => {
    const files = (kind: string) => path.join(dir, `${node.name}.${kind}.pid`);
    // One machine runs both: pid files of their own; --vrrp: only the VRRP subsystem; -n -l: foreground, log to the console.
    node.keepalived = start(node.namespace, ['keepalived', '--vrrp', '-n', '-l', '-f', path.join(dir, `${node.name}.conf`), '-p', files('main'), '-r', files('vrrp'), '-c', files('checkers')], (line) => {
      const state = /Entering (MASTER|BACKUP|FAULT) STATE/.exec(line)?.[1];
      if (state) {
        node.states.push(state);
        say(`  ${node.name} keepalived: ${state}`);
      }
    });
    programs.push(node.keepalived);
  };
  const notified = () => readFileSync(notifyLog, 'utf8');
  startKeepalived(a);
  await waitFor(`${a.name} MASTER and holding ${eniId}`, async () => notified(), (log) => /already here|attached/.test(log), { timeoutMs: 30_000, intervalMs: 100 });
  startKeepalived(b);
  await waitFor(`${b.name} BACKUP`, async () => b.states, (s) => s.includes('BACKUP'), { timeoutMs: 30_000, intervalMs: 100 });

  // The client on the internet side: one request after another to the Elastic IP.
  const internet = await namespaceFor('internet', lab.endpoint);
  const request = async (): Promise<string> => {
    try {
      const { stdout } = await run('ip', ['netns', 'exec', internet, 'curl', '-sS', '--max-time', '0.5', '--connect-timeout', '0.5', `http://${eip.PublicIp}/`]);
      return stdout.trim();
    } catch {
      return 'no answer';
    }
  };
  const answers: string[] = [];
  for (let i = 0; i < 50 && answers.filter((x) => x === a.name).length < 3; i++) answers.push(await request());
  expect(answers.at(-1) === a.name, `the Elastic IP answers from ${a.name} before the failure`);
  say(`Client (internet → ${eip.PublicIp}:80): ${a.name} answers.`);

  const failedAt = performance.now();
  if (failure === 'fail') {
    await setInstanceHealth(lab, a.instance.InstanceId!, 'fail');
    say(`${a.name} fails (eni-local fail): its VRRP adverts stop, and so do its answers.`);
  } else {
    kill(a.keepalived!, 'SIGKILL');
    say(`${a.name}'s keepalived is killed (SIGKILL): its VRRP adverts stop.`);
  }
  const before = answers.length;
  let resumedAt: number | undefined;
  // Bounded: at most 600 requests (each ends within half a second).
  for (let i = 0; i < 600; i++) {
    const answer = await request();
    answers.push(answer);
    if (answer === b.name) {
      resumedAt = performance.now();
      break;
    }
  }
  const during = answers.slice(before);
  const lost = during.filter((x) => x !== a.name && x !== b.name).length;
  expect(resumedAt !== undefined, `the Elastic IP answers from ${b.name} after the failover`);
  if (resumedAt === undefined) return;
  say(`Client: ${during.length - 1} requests without an answer from ${b.name} (${lost} unanswered), then ${b.name} answers: ${Math.round(resumedAt - failedAt)} ms after the failure.`);
  for (const line of notified().trim().split('\n')) say(`  notify_master: ${line}`);

  const now = await describeEni(lab, eniId);
  expect(now.Attachment?.InstanceId === b.instance.InstanceId, `${eniId} is attached to ${b.name}`);
  const { stdout } = await run('ip', ['-n', b.namespace, '-j', 'link', 'show', 'eth1']);
  expect((JSON.parse(stdout) as { address: string }[])[0]?.address === floating!.MacAddress, `eth1 of ${b.name} has the floating interface's MAC address`);
  say(`${eniId} is ${b.name}'s eth1 now (same MAC ${floating!.MacAddress}, same address ${floating!.PrivateIpAddress}, same Elastic IP).`);
  if (failure === 'fail') await setInstanceHealth(lab, a.instance.InstanceId!, 'recover');
  if (!existsSync(notifyLog)) return;
  conclude(`keepalived's notify_master moved the floating interface through the EC2 API from inside ${b.name}; the client's requests to ${eip.PublicIp} resumed there.`);
}
