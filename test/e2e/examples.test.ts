/**
 * The six use-case examples of examples/, run as a user runs them (`node --import tsx
 * examples/0N-….ts`, child processes) against servers started here: each must exit 0 and tell its
 * story. All six share one server with AWS's default quotas, at the same time, as they are meant to.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DescribeAddressesCommand, DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one example to its end with the given environment (on top of a clean copy of ours). */
function runExample(file: string, env: Record<string, string>): Promise<Run> {
  const base = { ...process.env };
  for (const name of ['ENI_LOCAL_ENDPOINT', 'ENI_LOCAL_EXAMPLE_SELF_HOST', 'ENI_LOCAL_EXAMPLE_KEEP', 'NODE_TEST_CONTEXT']) delete base[name];
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${file}`], { cwd: ROOT, env: { ...base, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A net for a hung example, not a measure: on a loaded machine an example on PostgreSQL took over a minute.
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

function assertSucceeded(run: Run): void {
  assert.equal(run.code, 0, `exit code ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  assert.doesNotMatch(run.stdout, /UNEXPECTED|FAILED/);
  assert.match(run.stdout, /^Conclusion: /m);
}

const EXAMPLES: { file: string; region: string; lines: RegExp[] }[] = [
  {
    file: '01-management-network.ts',
    region: 'eu-west-1',
    lines: [
      /admin host → management address 10\.11\.9\.\d+: delivered to i-\w+ eth1$/m,
      /admin host → app address 10\.11\.1\.\d+: DROPPED: sg-ingress-denied/m,
      /web peer → management address 10\.11\.9\.\d+: DROPPED: sg-ingress-denied/m,
    ],
  },
  {
    file: '02-network-appliance.ts',
    region: 'eu-west-2',
    lines: [/with the check on: DROPPED: source-dest-check at network-interface eni-\w+$/m, /with the check off: delivered to i-\w+ eth0 \(as an appliance\)$/m],
  },
  {
    file: '03-dual-homed.ts',
    region: 'eu-central-1',
    lines: [/front client 10\.13\.1\.\d+ → 10\.13\.1\.\d+: delivered to (i-\w+) eth0$/m, /back client 10\.13\.2\.\d+ → 10\.13\.2\.\d+: delivered to (i-\w+) eth1$/m],
  },
  {
    file: '04-low-budget-ha.ts',
    region: 'us-west-2',
    lines: [
      /primary healthy: delivered to i-\w+ eth1 at 10\.14\.1\.\d+$/m,
      /primary failed: DROPPED: instance-impaired at instance i-\w+$/m,
      /DescribeInstanceStatus: primary impaired, standby ok/m,
      /after failover: delivered to i-\w+ eth1 at 10\.14\.1\.\d+$/m,
      /^Failover time: \d+ ms from detection to the first delivered probe$/m,
    ],
  },
  {
    file: '05-multi-ip.ts',
    region: 'ap-southeast-2',
    lines: [/shop [\d.]+: delivered to i-\w+ eth0 at 10\.15\.1\.\d+$/m, /blog [\d.]+: delivered/m, /docs [\d.]+: delivered/m],
  },
  {
    file: '06-multi-interface.ts',
    region: 'ca-central-1',
    lines: [
      /internet → [\d.]+:80: delivered to i-\w+ eth0 at 10\.16\.1\.\d+$/m,
      /web back → database 10\.16\.3\.\d+:5432: delivered to i-\w+ eth0$/m,
      /web front → database 10\.16\.3\.\d+:5432: DROPPED: sg-ingress-denied/m,
      /internet → database 10\.16\.3\.\d+:5432: DROPPED: no-route/m,
    ],
  },
];

describe('the use-case examples, together on one server with AWS default quotas', () => {
  let server: TestServer;
  let runs: Promise<Run>[];
  before(async () => {
    server = await startTestServer();
    runs = EXAMPLES.map((e) => runExample(e.file, { ENI_LOCAL_ENDPOINT: server.url }));
  });
  after(async () => {
    await Promise.all(runs ?? []);
    await server.stop();
  });

  for (const [i, example] of EXAMPLES.entries()) {
    test(`${example.file} exits 0 and tells its story`, async () => {
      const run = await runs[i];
      assertSucceeded(run);
      assert.ok(run.stdout.includes(`region ${example.region}`), run.stdout);
      for (const line of example.lines) assert.match(run.stdout, line);
    });
  }

  test('the dual-homed instance is one instance behind both addresses', async () => {
    const { stdout } = await runs[2];
    const ids = [...stdout.matchAll(/client [\d.]+ → [\d.]+: delivered to (i-\w+)/g)].map((m) => m[1]);
    assert.equal(ids.length, 2);
    assert.equal(ids[0], ids[1]);
  });

  test('each example removes what it built: only the default VPC and no Elastic IP remain, and a second run passes', async () => {
    await Promise.all(runs);
    for (const { region } of EXAMPLES) {
      const ec2 = server.client({ region });
      assert.deepEqual((await ec2.send(new DescribeVpcsCommand({}))).Vpcs!.map((v) => v.CidrBlock), ['172.31.0.0/16'], region);
      assert.deepEqual((await ec2.send(new DescribeAddressesCommand({}))).Addresses, [], region);
    }
    // Three Elastic IPs again: within the quota of five only because the first run released its own.
    assertSucceeded(await runExample('05-multi-ip.ts', { ENI_LOCAL_ENDPOINT: server.url }));
  });
});

describe('where an example runs', { concurrency: true }, () => {
  test('ENI_LOCAL_EXAMPLE_SELF_HOST=1 starts an in-process server', async () => {
    const run = await runExample('03-dual-homed.ts', { ENI_LOCAL_EXAMPLE_SELF_HOST: '1' });
    assertSucceeded(run);
    assert.match(run.stdout, /^eni-local at http:\/\/127\.0\.0\.1:\d+ \(started in-process\), region eu-central-1$/m);
  });

  test('an ENI_LOCAL_ENDPOINT that does not answer is an error (exit 2), not a silent fallback', async () => {
    const run = await runExample('01-management-network.ts', { ENI_LOCAL_ENDPOINT: 'http://127.0.0.1:1' });
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stderr, /no eni-local answers at ENI_LOCAL_ENDPOINT=http:\/\/127\.0\.0\.1:1/);
  });

  test('the failover waits for the real detach and attach when they take time, and times them', async () => {
    const slow = await startTestServer({ timings: { detachingMs: 300, attachingMs: 300 } });
    try {
      const run = await runExample('04-low-budget-ha.ts', { ENI_LOCAL_ENDPOINT: slow.url });
      assertSucceeded(run);
      const ms = Number(/^Failover time: (\d+) ms/m.exec(run.stdout)?.[1]);
      assert.ok(ms >= 600, `failover took ${ms} ms, less than the 300 ms detach + 300 ms attach`);
    } finally {
      await slow.stop();
    }
  });
});
