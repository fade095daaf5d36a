/**
 * Programs inside instances that call the EC2 API as on AWS: the AWS CLI run in an instance's
 * namespace with AWS_ENDPOINT_URL_EC2 at the API's address on the internet side, reached through
 * the instance's internet gateway (so only with a public address), and keepalived on two instances
 * moving a floating interface through the API when VRRP elects a new master.
 * Every packet stays between namespaces of the test server's plane.
 */
import {
  AllocateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  DescribeRouteTablesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createGroup, createNetwork, describeEni, launch, type Network } from '../helpers/topology.ts';
import { execIn, linuxPlaneSkip, onlyOnceSkip, namespaceOf, namespacesOf, stopCleanly } from '../helpers/plane.ts';
import { awsCliArgs, awsCliEnvironment, awsCliSkip } from '../helpers/aws-cli.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const skip = linuxPlaneSkip() || awsCliSkip() || onlyOnceSkip();
const keepalivedSkip = skip || (spawnSync('keepalived', ['--version']).status === 0 ? false : 'keepalived is not installed (Debian: keepalived)');

/** A VPC whose main route table sends 0.0.0.0/0 to an internet gateway. */
async function publicNetwork(ec2: EC2Client, cidr: string, subnets: Record<string, { cidr: string; zone: string }>): Promise<Network> {
  const network = await createNetwork(ec2, cidr, subnets);
  const gatewayId = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: network.vpcId }));
  const { RouteTables } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [network.vpcId] }] }));
  await ec2.send(new CreateRouteCommand({ RouteTableId: RouteTables![0].RouteTableId!, DestinationCidrBlock: '0.0.0.0/0', GatewayId: gatewayId }));
  return network;
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the AWS CLI inside an instance', { skip }, () => {
  let server: TestServer;
  let ec2: EC2Client;

  before(async () => {
    server = await startTestServer({ dataplane: 'linux', defaultVpc: false });
    ec2 = server.client();
  });
  after(() => stopCleanly(server, []));

  /** `aws ec2 …` inside the instance, as `eni-local exec i-… -- aws ec2 …` runs it. */
  const aws = async (instanceId: string, args: string[]): Promise<CliResult> => {
    try {
      const { stdout, stderr } = await run('ip', ['netns', 'exec', namespaceOf(server, instanceId), 'aws', ...awsCliArgs(), ...args], { env: awsCliEnvironment(), timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
    }
  };

  test('with an Elastic IP and a route to its internet gateway, an instance describes and attaches interfaces through the EC2 API', async () => {
    const net = await publicNetwork(ec2, '10.40.0.0/16', { a: { cidr: '10.40.1.0/24', zone: 'us-east-1a' } });
    const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const { AllocationId } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new AssociateAddressCommand({ AllocationId, InstanceId: instance.InstanceId }));
    const eni = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId, Description: 'hot-plugged' });

    const described = await aws(instance.InstanceId!, ['ec2', 'describe-network-interfaces', '--filters', `Name=vpc-id,Values=${net.vpcId}`, '--output', 'json']);
    assert.equal(described.code, 0, described.stderr);
    const ids = (JSON.parse(described.stdout) as { NetworkInterfaces: { NetworkInterfaceId: string }[] }).NetworkInterfaces.map((n) => n.NetworkInterfaceId).sort();
    assert.deepEqual(ids, [instance.NetworkInterfaces![0].NetworkInterfaceId!, eni.NetworkInterfaceId!].sort());

    // The instance attaches an interface to itself, as a script on it does.
    const attached = await aws(instance.InstanceId!, ['ec2', 'attach-network-interface', '--network-interface-id', eni.NetworkInterfaceId!, '--instance-id', instance.InstanceId!, '--device-index', '1', '--output', 'json']);
    assert.equal(attached.code, 0, attached.stderr);
    assert.match((JSON.parse(attached.stdout) as { AttachmentId: string }).AttachmentId, /^eni-attach-[0-9a-f]{17}$/);
    assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Attachment?.InstanceId, instance.InstanceId);
    // And the kernel followed before the answer: eth1 is there, with the interface's MAC address.
    const { stdout } = await run('ip', ['-n', namespaceOf(server, instance.InstanceId!), '-j', 'link', 'show', 'eth1']);
    assert.equal((JSON.parse(stdout) as { address: string }[])[0].address, eni.MacAddress);
  });

  test('without a public address the call has no path out of the VPC and fails, as on AWS', async () => {
    const net = await publicNetwork(ec2, '10.41.0.0/16', { a: { cidr: '10.41.1.0/24', zone: 'us-east-1a' } });
    const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const result = await aws(instance.InstanceId!, ['ec2', 'describe-network-interfaces', '--cli-connect-timeout', '2', '--cli-read-timeout', '2']);
    assert.notEqual(result.code, 0, 'the CLI fails');
    assert.match(result.stderr, /Could not connect to the endpoint URL|Connect timeout|timed out/i);
    assert.match(result.stderr, /198\.51\.100\.1/, 'it tried the API address inside the plane, nothing else');
  });

  test('the VPC router does not forward multicast (VRRP must use unicast peers), as a VPC does not', async () => {
    const net = await createNetwork(ec2, '10.42.0.0/16', { a: { cidr: '10.42.1.0/24', zone: 'us-east-1a' } });
    const group = await createGroup(ec2, net.vpcId, 'peers');
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'udp', FromPort: 5405, ToPort: 5405, UserIdGroupPairs: [{ GroupId: group }] }] }));
    const sender = await launch(ec2, { SubnetId: net.subnets.a.SubnetId, SecurityGroupIds: [group] });
    const listener = await launch(ec2, { SubnetId: net.subnets.a.SubnetId, SecurityGroupIds: [group] });
    // The listener joins VRRP's group 224.0.0.18 on eth0 and prints every datagram it receives.
    const listen = `const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true }); s.on('message', (m) => console.log(m.toString())); s.bind(5405, () => { s.addMembership('224.0.0.18', ${JSON.stringify(listener.PrivateIpAddress)}); console.log('ready'); })`;
    const child = spawn('ip', ['netns', 'exec', namespaceOf(server, listener.InstanceId!), process.execPath, '-e', listen], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const received: string[] = [];
      let ready!: () => void;
      const isReady = new Promise<void>((resolve) => (ready = resolve));
      let unicast!: () => void;
      const gotUnicast = new Promise<void>((resolve) => (unicast = resolve));
      let pending = '';
      child.stdout!.on('data', (d: Buffer) => {
        pending += d.toString();
        const lines = pending.split('\n');
        pending = lines.pop()!;
        for (const line of lines) {
          if (line === 'ready') ready();
          else received.push(line);
          if (line === 'unicast') unicast();
        }
      });
      await isReady;
      // Three multicast datagrams (TTL 255, as VRRP sends), then one unicast datagram: the unicast one arrives, the multicast ones never did.
      const send = `const s = require('node:dgram').createSocket('udp4'); s.bind(() => { s.setMulticastInterface(${JSON.stringify(sender.PrivateIpAddress)}); s.setMulticastTTL(255); let n = 0; const next = () => { if (n < 3) { n++; s.send('multicast', 5405, '224.0.0.18', next); } else s.send('unicast', 5405, ${JSON.stringify(listener.PrivateIpAddress)}, () => s.close()); }; next(); })`;
      let delivered = false;
      for (let i = 0; i < 20 && !delivered; i++) {
        await execIn(server, sender.InstanceId!, [process.execPath, '-e', send]);
        delivered = await Promise.race([gotUnicast.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
      }
      assert.ok(delivered, 'unicast between the two instances is delivered');
      assert.ok(!received.includes('multicast'), `no multicast datagram crossed the router (received: ${received.join(', ')})`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  /** Runs examples/07-keepalived-failover against this test server, as a user runs it. */
  const runKeepalivedExample = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, ENI_LOCAL_ENDPOINT: server.url };
      for (const name of ['ENI_LOCAL_EXAMPLE_SELF_HOST', 'ENI_LOCAL_EXAMPLE_KEEP', 'NODE_TEST_CONTEXT']) delete env[name];
      const child = spawn(process.execPath, ['--import', 'tsx', 'examples/07-keepalived-failover/run.ts', ...args], { cwd: ROOT, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // Bounded: the example's own loops end long before this.
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });

  for (const [how, args] of [['the master fails (eni-local fail)', []], ["the master's keepalived is killed", ['--kill']]] as const) {
    test(`keepalived: when ${how}, the standby's notify_master moves the floating interface with the AWS CLI and the client's requests resume there`, { skip: keepalivedSkip, timeout: 300_000 }, async () => {
      const before = new Set(namespacesOf(server));
      const result = await runKeepalivedExample([...args]);
      const output = `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
      assert.equal(result.code, 0, output);
      assert.match(result.stdout, /Client \(internet → [0-9.]+:80\): keepalived-a answers\./, output);
      assert.match(result.stdout, /then keepalived-b answers/, output);
      assert.match(result.stdout, /notify_master: .*i-[0-9a-f]{17}: detached eni-[0-9a-f]{17} from i-/, output);
      assert.match(result.stdout, /Conclusion: /, output);
      // The example tidied up after itself: no instance of it is left in the plane.
      assert.deepEqual(namespacesOf(server).filter((ns) => !before.has(ns)), [], 'the example terminated its instances');
    });
  }
});
