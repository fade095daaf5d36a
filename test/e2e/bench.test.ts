/**
 * `npm run bench` keeps working: a tiny run (200 interfaces, 4 callers on their own 4 instances, 0.3 s per workload) of the real
 * benchmark from this checkout, checked for its outputs — every workload measured without an
 * error, the ceiling, start-up, memory and durability records, and the chart. Figures are not
 * judged here (performance is measured, never asserted in tests).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { WORKLOADS } from '../../bench/lib/workloads.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('npm run bench runs every workload and writes its JSON lines and chart', { timeout: 120_000 }, async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'eni-local-bench-test-'));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--n', '200', '--duration', '0.3', '--warmup', '0.1', '--concurrency', '4', '--instances', '4', '--out', out],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    assert.match(stdout, /Workloads/);
    const records = readFileSync(path.join(out, 'latest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; workload?: string; errors?: number; when?: string; store?: string });
    const measured = records.filter((r) => r.type === 'workload');
    assert.deepEqual([...new Set(measured.map((r) => r.workload))].sort(), [...WORKLOADS].sort());
    for (const r of measured) assert.equal(r.errors, 0, `${r.workload} answered errors`);
    assert.ok(records.some((r) => r.type === 'ceiling' && r.when === 'start'));
    assert.ok(records.some((r) => r.type === 'startup' && r.store === 'empty'));
    assert.ok(records.some((r) => r.type === 'memory'));
    assert.ok(existsSync(path.join(out, 'latest.svg')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
