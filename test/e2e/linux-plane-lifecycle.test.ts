/**
 * The linux data plane across time: an attachment reaches the kernel only once `attached`;
 * the server killed with SIGKILL during moves rebuilds the kernel from the store on restart;
 * `eni-local exec`, `dataplane status` and `dataplane cleanup` from the command line.
 */
import {
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  DetachNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  CreateSubnetCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import { BIN, spawnServer } from '../helpers/process.ts';
import { ec2Client, startTestServer } from '../helpers/server.ts';
import { createEni, createNetwork, launch } from '../helpers/topology.ts';
import { curl, execIn, httpServer, linuxPlaneSkip, onlyOnceSkip } from '../helpers/plane.ts';

const run = promisify(execFile);
const skip = linuxPlaneSkip() || onlyOnceSkip();

/** Where each interface's kernel link is, by MAC address, read off the kernel alone: namespace → ethN. */
function kernelHomes(prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  const namespaces = spawnSync('ip', ['netns', 'list']).stdout.toString().split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`eni-${prefix}-i-`));
  for (const ns of namespaces) {
    const links = JSON.parse(spawnSync('ip', ['-n', ns, '-j', 'link', 'show']).stdout.toString()) as { ifname: string; address: string }[];
    for (const link of links) if (link.ifname.startsWith('eth')) out.set(link.address, `${ns.slice(`eni-${prefix}-`.length)}/${link.ifname}`);
  }
  return out;
}

/** Where the store says each attached interface is: instance/ethN by MAC address. */
async function storeHomes(ec2: EC2Client, vpcId: string): Promise<Map<string, string>> {
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
  const out = new Map<string, string>();
  for (const eni of NetworkInterfaces!) {
    if (eni.Attachment?.Status === 'attached') out.set(eni.MacAddress!, `${eni.Attachment.InstanceId}/eth${eni.Attachment.DeviceIndex}`);
  }
  return out;
}

describe('linux data plane over time', { skip }, () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('nothing reaches a standby until its attachment is attached', async () => {
    const server = await startTestServer({ dataplane: 'linux', defaultVpc: false, timings: { attachingMs: 1500 } });
    cleanups.push(() => server.stop());
    const ec2 = server.client();
    const net = await createNetwork(ec2, '10.20.0.0/16', { a: { cidr: '10.20.1.0/24', zone: 'us-east-1a' } });
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: net.defaultGroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.20.0.0/16' }] }] }));
    const standby = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const client = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const eni = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId });
    const attach = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: standby.InstanceId, DeviceIndex: 1 }));
    const program = await httpServer(server, standby.InstanceId!, 'standby');
    cleanups.push(() => program.stop());
    const url = `http://${eni.PrivateIpAddress}/`;
    assert.equal((await curl(server, client.InstanceId!, url, { timeoutSeconds: 0.5 })).ok, false, 'while attaching, the interface is not in the instance');
    // No request is needed: the attachment becomes attached on time and the kernel follows.
    await new Promise((r) => setTimeout(r, 1700));
    assert.equal((await curl(server, client.InstanceId!, url)).body.trim(), `standby ${eni.PrivateIpAddress}`);
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attach.AttachmentId }));
    assert.equal((await curl(server, client.InstanceId!, url, { timeoutSeconds: 0.5 })).ok, false, 'detaching: no longer delivered');
  });

  test('after kill -9 during moves and a restart, the kernel matches the store; a clean stop leaves nothing', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'eni-local-plane-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const args = ['--port', '0', '--data-dir', dataDir, '--dataplane', 'linux', '--no-default-vpc', '--log-level', 'error'];
    let serverProcess = await spawnServer(args);
    cleanups.push(() => serverProcess.stop('SIGKILL'));
    let ec2 = ec2Client(serverProcess.url);
    const status = (await (await fetch(`${serverProcess.url}/_eni/dataplane`)).json()) as { prefix: string };
    // Whatever happens, nothing of this server stays on the machine.
    cleanups.push(() => run(process.execPath, [BIN, 'dataplane', 'cleanup', '--prefix', status.prefix]));
    const net = await createNetwork(ec2, '10.21.0.0/16', { a: { cidr: '10.21.1.0/24', zone: 'us-east-1a' } });
    const instances = [];
    for (let i = 0; i < 3; i++) instances.push(await launch(ec2, { SubnetId: net.subnets.a.SubnetId, InstanceType: 'm5.large' }));
    const enis = [];
    for (let i = 0; i < 3; i++) enis.push(await createEni(ec2, { SubnetId: net.subnets.a.SubnetId }));
    // A mix of moves, some still in flight when the server dies.
    const moves: Promise<unknown>[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [i, eni] of enis.entries()) {
        const target = instances[(i + round) % instances.length];
        const attached = (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni.NetworkInterfaceId!] }))).NetworkInterfaces![0].Attachment;
        if (attached?.AttachmentId) await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attached.AttachmentId }));
        const move = ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: target.InstanceId, DeviceIndex: 1 + round }));
        if (round < 2) await move;
        else moves.push(move.catch(() => undefined));
      }
    }
    await serverProcess.stop('SIGKILL');
    await Promise.all(moves);
    ec2.destroy();

    serverProcess = await spawnServer(args);
    ec2 = ec2Client(serverProcess.url);
    const expected = await storeHomes(ec2, net.vpcId);
    assert.deepEqual(kernelHomes(status.prefix), expected, 'every attached interface is in its instance at its device index, and only those');
    // The CLI: exec in an instance, status, and no cleanup of a running server.
    const { stdout } = await run(process.execPath, [BIN, 'exec', instances[0].InstanceId!, '--', 'ip', '-j', 'link', 'show', 'eth0']);
    assert.equal((JSON.parse(stdout) as { address: string }[])[0].address, instances[0].NetworkInterfaces![0].MacAddress);
    const listed = (await run(process.execPath, [BIN, 'dataplane', 'status', '--json'])).stdout;
    assert.ok((JSON.parse(listed) as { prefix: string; alive: boolean }[]).some((p) => p.prefix === status.prefix && p.alive));
    await run(process.execPath, [BIN, 'dataplane', 'cleanup', '--prefix', status.prefix]);
    assert.equal(kernelHomes(status.prefix).size, expected.size, 'cleanup leaves a running server alone');
    ec2.destroy();

    // Killed again, the namespaces stay behind until `dataplane cleanup` removes them.
    await serverProcess.stop('SIGKILL');
    const before = (await run(process.execPath, [BIN, 'dataplane', 'status', '--json'])).stdout;
    assert.ok((JSON.parse(before) as { prefix: string; alive: boolean }[]).some((p) => p.prefix === status.prefix && !p.alive));
    await run(process.execPath, [BIN, 'dataplane', 'cleanup', '--prefix', status.prefix]);
    const remaining = spawnSync('ip', ['netns', 'list']).stdout.toString().split('\n').filter((n) => n.startsWith(`eni-${status.prefix}-`));
    assert.deepEqual(remaining, []);

    // And a clean stop after a restart leaves nothing either.
    serverProcess = await spawnServer(args);
    assert.equal(await serverProcess.stop('SIGTERM'), 0);
    const afterStop = spawnSync('ip', ['netns', 'list']).stdout.toString().split('\n').filter((n) => n.startsWith(`eni-${status.prefix}-`));
    assert.deepEqual(afterStop, []);
  });
});

describe('linux data plane with --guest-network primary', { skip }, () => {
  test('a second interface without policy routing answers another subnet by the wrong interface, and source/destination check drops it', async () => {
    const server = await startTestServer({ dataplane: 'linux', defaultVpc: false, guestNetwork: 'primary' });
    const programs: { stop(): void }[] = [];
    try {
      const ec2 = server.client();
      const net = await createNetwork(ec2, '10.29.0.0/16', { a: { cidr: '10.29.1.0/24', zone: 'us-east-1a' }, b: { cidr: '10.29.2.0/24', zone: 'us-east-1a' }, c: { cidr: '10.29.3.0/24', zone: 'us-east-1a' } });
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: net.defaultGroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.29.0.0/16' }] }] }));
      const host = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
      const second = await createEni(ec2, { SubnetId: net.subnets.b.SubnetId });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: host.InstanceId, DeviceIndex: 1 }));
      programs.push(await httpServer(server, host.InstanceId!, 'host'));
      const client = await launch(ec2, { SubnetId: net.subnets.c.SubnetId });
      assert.equal((await curl(server, client.InstanceId!, `http://${host.PrivateIpAddress}/`)).ok, true, 'the primary interface answers');
      assert.equal((await curl(server, client.InstanceId!, `http://${second.PrivateIpAddress}/`, { timeoutSeconds: 1 })).ok, false, 'the reply leaves by eth0 with eth1\'s address: dropped');
      // The other Availability Zone is refused by the API, and no path appears in the kernel.
      const elsewhere = (await ec2.send(new CreateSubnetCommand({ VpcId: net.vpcId, CidrBlock: '10.29.4.0/24', AvailabilityZone: 'us-east-1b' }))).Subnet!;
      const far = await createEni(ec2, { SubnetId: elsewhere.SubnetId });
      await assert.rejects(ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: far.NetworkInterfaceId, InstanceId: host.InstanceId, DeviceIndex: 2 })), { name: 'InvalidParameterCombination' });
      const links = await execIn(server, host.InstanceId!, ['ip', '-br', 'link']);
      assert.doesNotMatch(links, /eth2/);
    } finally {
      for (const p of programs) p.stop();
      await server.stop();
    }
  });
});
