#!/usr/bin/env node
// The eni-local command. Installed from the registry or a tarball, the package holds only the
// build (dist/eni-local.mjs, one bundled module) and runs it: no tsx, no TypeScript sources.
// In a clone it runs the build (`npm run build`, which `npm install` runs) when that is at least
// as new as every source file, and otherwise the TypeScript sources through tsx's loader (a
// development dependency) — so an edit under src/ is never shadowed by a stale build.
// ENI_LOCAL_FROM_SOURCE=1 always runs the sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'dist', 'eni-local.mjs');
const sources = path.join(root, 'src');
const isClone = existsSync(path.join(sources, 'cli.ts'));

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(file) : statSync(file).mtimeMs);
  }
  return newest;
}

function buildIsCurrent() {
  if (!isClone) return true;
  if (process.env.ENI_LOCAL_FROM_SOURCE === '1') return false;
  try {
    return statSync(built).mtimeMs >= newestSource(sources);
  } catch {
    return false;
  }
}

if (buildIsCurrent()) {
  await import(built);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
