/**
 * `npm run bench:plane` keeps working: a tiny run (3 moves, 1 failover, 2 instances × 3
 * interfaces) of the linux plane's benchmark from this checkout, checked for its records — every
 * part measured, nothing lost, the kernel matching the store after each restart, and nothing of
 * the benchmark's plane left on the machine. Figures are not judged here (they are measured,
 * never asserted in tests).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { linuxPlaneSkip, onlyOnceSkip } from '../helpers/plane.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const namespaces = () => spawnSync('ip', ['netns', 'list']).stdout.toString().split('\n').map((l) => l.split(' ')[0]).filter(Boolean);

test('npm run bench:plane measures attach → packet, failover, RunInstances and the rebuild, and leaves nothing behind', { skip: linuxPlaneSkip() || onlyOnceSkip(), timeout: 300_000 }, async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'eni-local-bench-plane-test-'));
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'bench/linux-plane.ts', '--moves', '3', '--failovers', '1', '--instances', '2', '--out', out],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    assert.match(stdout, /attach response → first packet/);
    const records = readFileSync(path.join(out, 'plane-latest.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; prefix?: string; count?: number; lost?: number; inKernel?: boolean; planeMatchesAtListening?: boolean; after?: string; namespacesBefore?: number });
    const of = (type: string) => records.filter((r) => r.type === type);
    assert.equal(of('attach-to-packet')[0].count, 3);
    assert.equal(of('attach-to-packet')[0].lost, 0);
    assert.equal(of('failover')[0].count, 1);
    assert.equal(of('run-instances')[0].inKernel, true);
    assert.deepEqual(of('rebuild').map((r) => [r.after, r.planeMatchesAtListening]), [['clean stop', true], ['kill -9', true]]);
    assert.equal(of('rebuild')[0].namespacesBefore, 0, 'a clean stop left no instance namespace');
    const prefix = of('plane')[0].prefix!;
    assert.match(prefix, /^[0-9a-f]{6}$/);
    const left = namespaces().filter((n) => n.startsWith(`eni-${prefix}-`));
    assert.deepEqual(left, [], 'the benchmark removed its plane');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
