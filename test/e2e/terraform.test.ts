/**
 * Terraform with the AWS provider, as a new user would run it against eni-local, where the machine
 * has both (terraform on the PATH or at /usr/local/bin, the provider 5.100.0 in the filesystem mirror
 * /opt/tf-plugins or ENI_LOCAL_TF_PLUGINS): offline, through a CLI configuration that installs the
 * provider from the mirror only. The configurations are test/fixtures/terraform/.
 *
 * - use-cases/: the seed's use cases are applied, planned again (`-detailed-exitcode` 0: no drift)
 *   and destroyed, checked through the SDK at each step and left with nothing.
 * - move/: an ENI moved by changing aws_network_interface_attachment.instance_id, then planned with
 *   no drift. The provider waits about 2.5 minutes after every DetachNetworkInterface,
 *   on AWS as here: it polls DescribeNetworkInterfaces `attachment.attachment-id=…` for an
 *   attachment status `detached` that EC2 never reports (a detached interface has no attachment) and
 *   gives up after its 20 not-found checks (terraform-provider-aws#45835). The move itself pays that
 *   once; destroying the moved configuration would pay it again, and the use cases' destroy already
 *   shows that a destroy leaves nothing, so that destroy runs only with ENI_LOCAL_TEST_TERRAFORM_SLOW=1.
 *   Each case has its own server and the two run at once: the move's wait overlaps the use cases.
 *
 * Terraform must reach nothing but the endpoint: its proxy variables name a local trap that refuses
 * and records every request (Go never proxies loopback addresses), and each case asserts it saw none.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from '../helpers/suite.ts';
import {
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'terraform');
const MIRROR = process.env.ENI_LOCAL_TF_PLUGINS ?? '/opt/tf-plugins';
const PROVIDER = path.join(MIRROR, 'registry.terraform.io', 'hashicorp', 'aws', '5.100.0', 'linux_amd64');

const terraform = ['terraform', '/usr/local/bin/terraform'].find((bin) => spawnSync(bin, ['version'], { stdio: 'ignore' }).status === 0);
const skip = !terraform
  ? 'terraform is not installed on this machine'
  : !existsSync(PROVIDER)
    ? `the AWS provider 5.100.0 is not in the filesystem mirror ${MIRROR}`
    : false;
/** Destroying the moved configuration costs another 2.5-minute detach wait (see above). */
const destroyMoved = process.env.ENI_LOCAL_TEST_TERRAFORM_SLOW === '1';

/**
 * What terraform and the provider would have sent beyond the endpoint: a local proxy that refuses
 * every request and keeps its first line (`CONNECT iam.amazonaws.com:443 HTTP/1.1`). The provider
 * retries a refused request for minutes, so the terraform being run is stopped at the first one.
 */
class ProxyTrap {
  readonly requests: string[] = [];
  private readonly watchers = new Set<() => void>();
  private readonly server: Server = createServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      this.requests.push(chunk.toString('latin1').split('\r\n')[0]);
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      for (const watcher of this.watchers) watcher();
    });
    socket.on('error', () => {});
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Calls `fn` on every trapped request until the returned function is called. */
  watch(fn: () => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  stop = () => new Promise<void>((resolve) => this.server.close(() => resolve()));
}

/** A working directory holding one fixture configuration and a CLI configuration that keeps Terraform offline. */
class Workspace {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'eni-local-terraform-'));
  private readonly env: NodeJS.ProcessEnv;

  constructor(fixture: string, private readonly endpoint: string, private readonly trap: ProxyTrap) {
    cpSync(path.join(FIXTURES, fixture), this.dir, { recursive: true });
    const cliConfig = path.join(this.dir, 'cli.tfrc');
    writeFileSync(
      cliConfig,
      `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(MIRROR)}\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n` +
        `  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n`,
    );
    this.env = { ...process.env, TF_CLI_CONFIG_FILE: cliConfig, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_INPUT: '0' };
    delete this.env.TF_PLUGIN_CACHE_DIR;
    for (const name of ['NO_PROXY', 'no_proxy']) delete this.env[name];
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) this.env[name] = trap.url;
    for (const name of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete this.env[name];
  }

  /** Runs terraform asynchronously (the server answers in this process), resolving with its exit code and output. */
  run(args: string[]): Promise<{ code: number; output: string }> {
    return new Promise((resolve, reject) => {
      // Its own process group, so that a trapped request stops terraform and its provider together.
      const child = spawn(terraform!, args, { cwd: this.dir, env: this.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const unwatch = this.trap.watch(() => process.kill(-child.pid!, 'SIGKILL'));
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => {
        unwatch();
        resolve({ code: code ?? -1, output });
      });
    });
  }

  /** Runs a command that must succeed (or exit with `code`). */
  async expect(args: string[], code = 0): Promise<string> {
    const result = await this.run(args);
    assert.deepEqual(this.trap.requests, [], `terraform ${args.join(' ')} sent requests beyond the endpoint`);
    assert.equal(result.code, code, `terraform ${args.join(' ')} exited ${result.code}:\n${result.output.slice(-6000)}`);
    return result.output;
  }

  vars(extra: Record<string, string> = {}): string[] {
    return Object.entries({ endpoint: this.endpoint, ...extra }).flatMap(([k, v]) => ['-var', `${k}=${v}`]);
  }

  init = () => this.expect(['init', '-no-color', '-input=false']);
  apply = (vars: Record<string, string> = {}) => this.expect(['apply', '-auto-approve', '-no-color', '-parallelism=20', ...this.vars(vars)]);
  /** A plan with nothing to do: `-detailed-exitcode` is 0 only when state and configuration agree. */
  planNoChanges = (vars: Record<string, string> = {}) => this.expect(['plan', '-detailed-exitcode', '-no-color', '-parallelism=20', ...this.vars(vars)], 0);
  destroy = (vars: Record<string, string> = {}) => this.expect(['destroy', '-auto-approve', '-no-color', '-parallelism=20', ...this.vars(vars)]);

  async outputs(): Promise<Record<string, unknown>> {
    const json = JSON.parse(await this.expect(['output', '-json', '-no-color'])) as Record<string, { value: unknown }>;
    return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, v.value]));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What a destroy must leave: no VPC, address, interface, live instance or group the configuration made. */
async function assertNothingLeft(ec2: EC2Client, vpcId: string, tagPrefix: string): Promise<void> {
  const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
  assert.deepEqual(vpcs.Vpcs, [], 'the VPC is gone');
  const all = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!;
  assert.deepEqual(all.map((v) => v.IsDefault), [true], 'only the default VPC is left');
  assert.deepEqual((await ec2.send(new DescribeAddressesCommand({}))).Addresses, [], 'no Elastic IP is left');
  const tagged = [{ Name: 'tag:Name', Values: [`${tagPrefix}*`] }];
  assert.deepEqual((await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: tagged }))).NetworkInterfaces, [], 'no interface is left');
  assert.deepEqual((await ec2.send(new DescribeSubnetsCommand({ Filters: tagged }))).Subnets, [], 'no subnet is left');
  assert.deepEqual((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [`${tagPrefix}*`] }] }))).SecurityGroups, []);
  const instances = (await ec2.send(new DescribeInstancesCommand({ Filters: tagged }))).Reservations!.flatMap((r) => r.Instances!);
  assert.ok(instances.every((i) => i.State?.Name === 'terminated'), `every instance is terminated: ${instances.map((i) => `${i.InstanceId} ${i.State?.Name}`).join(', ')}`);
}

const eniOf = async (ec2: EC2Client, id: string) =>
  (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))).NetworkInterfaces![0];
const eniByName = async (ec2: EC2Client, name: string) =>
  (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'tag:Name', Values: [name] }] }))).NetworkInterfaces![0];

describe('Terraform and the AWS provider 5.100', { skip, concurrency: true }, () => {
  // A server per case: the cases run at once, and each checks that its destroy leaves nothing.
  const servers: TestServer[] = [];
  const serve = async () => {
    const server = await startTestServer();
    servers.push(server);
    return { server, ec2: server.client({ accessKeyId: 'test', secretAccessKey: 'test' }) };
  };
  const trap = new ProxyTrap();
  before(() => trap.start());
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await trap.stop();
  });

  test('the seed\'s use cases apply, plan with no drift and destroy leaving nothing', { timeout: 600_000 }, async () => {
    const { server, ec2 } = await serve();
    const ws = new Workspace('use-cases', server.url, trap);
    try {
      await ws.init();
      await ws.apply();
      const out = await ws.outputs();
      assert.equal(out.account_id, '000000000000', 'the account comes from sts:GetCallerIdentity at the endpoint');
      assert.equal(out.vpc_cidr, '10.40.0.0/16');
      assert.equal(out.subnets, 2);
      assert.deepEqual(out.explicit_ips, ['10.40.1.10', '10.40.1.11']);
      const vpcId = out.vpc_id as string;

      // What the provider made, read through the SDK.
      const hostnames = await ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' }));
      assert.equal(hostnames.EnableDnsHostnames?.Value, true);
      const explicit = await eniByName(ec2, 'tf-explicit');
      const eip = explicit.PrivateIpAddresses!.find((p) => p.PrivateIpAddress === '10.40.1.11')!.Association;
      assert.equal(eip?.PublicIp, out.eip_public_ip, 'the Elastic IP is on the private address it was given');
      const counted = await eniByName(ec2, 'tf-counted');
      assert.equal(counted.PrivateIpAddresses!.length, 3, 'a primary and two counted secondary addresses');
      assert.equal(counted.Ipv6Addresses!.length, 2);
      assert.equal((await eniByName(ec2, 'tf-prefixes')).Ipv4Prefixes!.length, 1);
      const grouped = await eniByName(ec2, 'tf-grouped');
      assert.ok(grouped.Groups!.some((g) => g.GroupName === 'tf-db'), 'aws_network_interface_sg_attachment added its group');
      const primary = await eniByName(ec2, 'tf-primary');
      assert.equal(primary.Attachment?.DeviceIndex, 0, 'an instance launched on an existing ENI');
      const a = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [out.instance_a as string] }))).Reservations![0].Instances![0];
      assert.equal(a.Placement?.AvailabilityZone, 'us-east-1a', 'aws_instance with subnet_id (Placement.AvailabilityZone sent empty)');

      await ws.planNoChanges();
      await ws.destroy();
      await assertNothingLeft(ec2, vpcId, 'tf-');
    } finally {
      ws.remove();
    }
  });

  test('an ENI moves by changing aws_network_interface_attachment.instance_id', { timeout: 900_000 }, async () => {
    const { server, ec2 } = await serve();
    const ws = new Workspace('move', server.url, trap);
    try {
      await ws.init();
      await ws.apply();
      const out = await ws.outputs();
      assert.equal((await eniOf(ec2, out.moving_eni as string)).Attachment?.InstanceId, out.instance_a);

      await ws.apply({ attach_to: 'b' });
      const moved = await eniOf(ec2, out.moving_eni as string);
      assert.equal(moved.Attachment?.InstanceId, out.instance_b);
      assert.equal(moved.Attachment?.DeviceIndex, 1);
      assert.notEqual(moved.Attachment?.AttachmentId, out.attachment_id, 'the attachment was replaced');
      const a = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [out.instance_a as string] }))).Reservations![0].Instances![0];
      assert.deepEqual(a.NetworkInterfaces!.map((n) => n.Attachment?.DeviceIndex), [0], 'instance a keeps only its primary interface');
      await ws.planNoChanges({ attach_to: 'b' });

      if (destroyMoved) {
        await ws.destroy({ attach_to: 'b' });
        await assertNothingLeft(ec2, out.vpc_id as string, 'tf-move');
      }
    } finally {
      ws.remove();
    }
  });
});
