import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { CreateTagsCommand, CreateVpcCommand, DescribeVpcsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { ec2Client } from '../helpers/server.ts';
import { BIN, spawnServer } from '../helpers/process.ts';

const run = promisify(execFile);

function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, command);
    if (existsSync(file)) return file;
  }
  return undefined;
}

describe('the eni-local command', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'eni-local-cli-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('--help documents every option and its environment variable', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'serve', '--help']);
    for (const text of ['--host', '--port', '--data-dir', '--database', '--log-level', '--durability', 'ENI_LOCAL_PORT', 'ENI_LOCAL_HOST', 'ENI_LOCAL_DATA_DIR', 'ENI_LOCAL_DATABASE', '--quota']) {
      assert.ok(stdout.includes(text), `help lacks ${text}:\n${stdout}`);
    }
  });

  test('serve prints the real URL, keeps state in SQLite under --data-dir across restarts, and stops cleanly on SIGTERM and SIGINT', async () => {
    const first = await spawnServer(['--port', '0', '--data-dir', dataDir, '--log-level', 'warn']);
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.doesNotMatch(first.url, /:0$/);
    const health = (await (await fetch(`${first.url}/_eni/health`)).json()) as { store: { kind: string } };
    assert.equal(health.store.kind, 'sqlite');
    const ec2 = ec2Client(first.url);
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!;
    await ec2.send(new CreateTagsCommand({ Resources: [vpc.VpcId!], Tags: [{ Key: 'Name', Value: 'kept' }] }));
    ec2.destroy();
    assert.equal(await first.stop('SIGTERM'), 0);
    assert.ok(existsSync(path.join(dataDir, 'eni-local.sqlite')));

    const second = await spawnServer(['--port', '0', '--log-level', 'warn'], { ENI_LOCAL_DATA_DIR: dataDir });
    const again = ec2Client(second.url);
    const { Vpcs } = await again.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }));
    assert.deepEqual(Vpcs![0].Tags, [{ Key: 'Name', Value: 'kept' }]);
    again.destroy();
    assert.equal(await second.stop('SIGINT'), 0);
  });

  test('settings come from environment variables too', async () => {
    const server = await spawnServer(['--log-level', 'warn'], { ENI_LOCAL_PORT: '0', ENI_LOCAL_DATABASE: 'memory', ENI_LOCAL_DATA_DIR: dataDir });
    const health = (await (await fetch(`${server.url}/_eni/health`)).json()) as { store: { kind: string } };
    assert.equal(health.store.kind, 'memory');
    await server.stop();
  });

  test('probe, fail and recover talk to a running server; check scans a data directory', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'eni-local-cli-probe-'));
    const server = await spawnServer(['--port', '0', '--data-dir', dir, '--log-level', 'warn', '--timing', 'attachingMs=0']);
    const ec2 = ec2Client(server.url);
    try {
      const [a, b] = (await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 2, MaxCount: 2, InstanceType: 't3.micro' }))).Instances!;
      const cli = (...args: string[]) => run(process.execPath, [BIN, ...args, '--endpoint', server.url]).then((r) => ({ code: 0, out: r.stdout }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
      const delivered = await cli('probe', '--from', a.InstanceId!, '--to', b.PrivateIpAddress!, '--port', '22');
      assert.equal(delivered.code, 0, delivered.out);
      assert.match(delivered.out, new RegExp(`^DELIVERED to ${b.InstanceId}`));
      assert.match(delivered.out, /✓ security-group-ingress/);
      assert.match((await cli('fail', b.InstanceId!)).out, /impaired/);
      const dropped = await cli('probe', '--from', a.InstanceId!, '--to', b.PrivateIpAddress!, '--port', '22', '--json');
      assert.equal(dropped.code, 3);
      assert.equal((JSON.parse(dropped.out) as { reason: string }).reason, 'instance-impaired');
      assert.match((await cli('recover', b.InstanceId!)).out, /ok/);
      assert.equal((await cli('probe', '--from', a.InstanceId!, '--to', b.PrivateIpAddress!, '--port', '22')).code, 0);
    } finally {
      ec2.destroy();
      await server.stop();
    }
    const check = await run(process.execPath, [BIN, 'check', '--data-dir', dir]);
    assert.match(check.stdout, /^no violation/);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a refused connection names the endpoint it tried and how to choose another', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const endpoint = `http://127.0.0.1:${port}`;
    for (const how of [['--endpoint', endpoint], []]) {
      const env = { ...process.env, ENI_LOCAL_ENDPOINT: endpoint };
      const failed = await run(process.execPath, [BIN, 'fail', 'i-0123456789abcdef0', ...how], { env }).then(
        () => assert.fail('the command succeeded without a server'),
        (e: { code: number; stderr: string }) => e,
      );
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, new RegExp(`no eni-local server answers at ${endpoint}/? \\(ECONNREFUSED\\)`));
      assert.match(failed.stderr, /--endpoint URL or ENI_LOCAL_ENDPOINT/);
      assert.doesNotMatch(failed.stderr, /fetch failed/);
    }
  });

  test('the subcommands choose the region as the AWS CLI does: --region, AWS_REGION, AWS_DEFAULT_REGION', async () => {
    const server = await spawnServer(['--port', '0', '--database', 'memory', '--log-level', 'warn']);
    const regional = ec2Client(server.url, { region: 'eu-west-1' });
    try {
      const [instance] = (await regional.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }))).Instances!;
      const fail = (env: Record<string, string>, ...args: string[]) => {
        const { AWS_REGION: _r, AWS_DEFAULT_REGION: _d, ...rest } = process.env;
        return run(process.execPath, [BIN, 'fail', instance.InstanceId!, '--endpoint', server.url, ...args], { env: { ...rest, ...env } }).then(
          (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
          (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
        );
      };
      // In the server's default region (us-east-1) the instance does not exist.
      assert.match((await fail({})).err, /InvalidInstanceID\.NotFound/);
      assert.match((await fail({ AWS_DEFAULT_REGION: 'eu-west-1' })).out, /impaired/);
      assert.match((await fail({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' })).out, /impaired/, 'AWS_REGION wins over AWS_DEFAULT_REGION');
      assert.match((await fail({ AWS_REGION: 'us-east-1' }, '--region', 'eu-west-1')).out, /impaired/, '--region wins over both');
    } finally {
      regional.destroy();
      await server.stop();
    }
  });

  const aws = which('aws');
  test('the AWS CLI creates, tags, describes (filtered and paginated) and deletes a VPC', { skip: aws ? false : 'the AWS CLI is not installed (.ci/run installs Debian awscli)' }, async () => {
    const server = await spawnServer(['--port', '0', '--database', 'memory', '--log-level', 'warn', '--quota', 'vpcsPerRegion=20']);
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDCLI', AWS_SECRET_ACCESS_KEY: 'secret', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const cli = async (...args: string[]) => JSON.parse((await run(aws!, ['--endpoint-url', server.url, '--output', 'json', 'ec2', ...args], { env })).stdout || '{}') as Record<string, any>;
    try {
      const created = await cli('create-vpc', '--cidr-block', '10.0.0.0/16');
      const id = created.Vpc.VpcId as string;
      for (let i = 1; i <= 6; i++) await cli('create-vpc', '--cidr-block', `10.${i}.0.0/16`);
      await cli('create-tags', '--resources', id, '--tags', 'Key=Name,Value=from-cli');
      const filtered = await cli('describe-vpcs', '--filters', 'Name=tag:Name,Values=from-cli');
      assert.deepEqual(filtered.Vpcs.map((v: { VpcId: string }) => v.VpcId), [id]);
      const paged = await cli('describe-vpcs', '--page-size', '5');
      assert.equal(paged.Vpcs.length, 8, 'the CLI follows NextToken through both pages (7 VPCs and the default one)');
      await cli('delete-vpc', '--vpc-id', id);
      await assert.rejects(cli('describe-vpcs', '--vpc-ids', id), /InvalidVpcID\.NotFound/);
    } finally {
      await server.stop();
    }
  });
});
