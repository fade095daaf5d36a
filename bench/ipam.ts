/**
 * The IPv4 allocator's cost against how full a subnet is: fill a /16 (65,531 usable addresses)
 * one allocation at a time, through the store the server uses (SQLite file by default,
 * `--database memory` or a `postgres://…` URL), and report the time per allocation in each
 * tenth of the way, then release and re-take addresses in the almost-full subnet.
 *
 *   npm run bench:ipam [-- --database memory] [--batch 500]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { allocateAny, allocateSpecific, release } from '../src/ipam/allocator.ts';
import { runInContext } from '../src/api/run.ts';
import { cloudConfig } from '../src/cloud/config.ts';
import { createSubnet } from '../src/cloud/subnets.ts';
import { createVpc } from '../src/cloud/vpcs.ts';
import { openStore } from '../src/store/index.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

const dataDir = mkdtempSync(path.join(tmpdir(), 'eni-local-bench-ipam-'));
const database = option('database', `sqlite:${path.join(dataDir, 'ipam.sqlite')}`);
const batch = Number(option('batch', '500'));
const store = await openStore({ database, dataDir });
const runner = { store, config: cloudConfig({ dataDir }) };
const scope = { account: '000000000000', region: 'us-east-1', requestId: 'bench', writes: true };

try {
  const subnetId = await runInContext(runner, scope, async (ctx) => {
    const vpc = await createVpc(ctx, { CidrBlock: '10.0.0.0/16' });
    return (await createSubnet(ctx, { VpcId: vpc.Vpc!.VpcId, CidrBlock: '10.0.0.0/16', AvailabilityZone: 'us-east-1a' })).Subnet!.SubnetId!;
  });
  const total = 65_536 - 5;
  const tenths: number[][] = Array.from({ length: 10 }, () => []);
  const taken: number[] = [];
  let done = 0;
  process.stdout.write(`filling a /16 (${total} addresses) on ${store.kind}, ${batch} allocations per transaction\n`);
  while (done < total) {
    const count = Math.min(batch, total - done);
    const started = process.hrtime.bigint();
    await runInContext(runner, scope, async (ctx) => {
      for (let i = 0; i < count; i++) {
        const address = await allocateAny(ctx.tx, subnetId);
        if (address === undefined) throw new Error(`the subnet ran out after ${done + i} addresses`);
        taken.push(address);
      }
    });
    const perAllocation = Number(process.hrtime.bigint() - started) / 1000 / count;
    tenths[Math.min(9, Math.floor((done / total) * 10))].push(perAllocation);
    done += count;
    if (process.stdout.isTTY) process.stdout.write(`\r  ${done}/${total}`);
  }
  process.stdout.write('\n\nfull (%)   µs per allocation (mean of batches)\n');
  const means = tenths.map((t) => t.reduce((a, b) => a + b, 0) / t.length);
  means.forEach((m, i) => process.stdout.write(`${String(i * 10).padStart(3)}–${String(i * 10 + 10).padEnd(3)}   ${m.toFixed(1)}\n`));
  process.stdout.write(`last tenth / first tenth: ${(means[9] / means[0]).toFixed(2)}\n`);

  // Free scattered addresses in the full subnet, then take them back, by any and by name.
  const freed = taken.filter((_, i) => i % 131 === 0);
  const started = process.hrtime.bigint();
  await runInContext(runner, scope, async (ctx) => {
    for (const a of freed) await release(ctx.tx, subnetId, a);
    for (let i = 0; i < freed.length / 2; i++) if ((await allocateAny(ctx.tx, subnetId)) === undefined) throw new Error('no address to reuse');
    for (const a of freed.slice(Math.ceil(freed.length / 2))) if (!(await allocateSpecific(ctx.tx, subnetId, a))) throw new Error('a freed address was not free');
  });
  const churn = Number(process.hrtime.bigint() - started) / 1000 / (freed.length * 2);
  process.stdout.write(`release and re-take ${freed.length} scattered addresses in the full subnet: ${churn.toFixed(1)} µs per operation\n`);
} finally {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
}
