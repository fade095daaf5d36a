// The layers of src/ point one way (README, "Layout"): a module imports only from its own layer
// or from layers below it. Type-only imports count too: a type is a dependency on its module.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** Top to bottom. Each entry: the layer's name and the paths under src/ it holds. */
export const LAYERS: readonly { layer: string; paths: readonly string[] }[] = [
  { layer: 'entry points', paths: ['cli.ts', 'index.ts', 'server.ts', 'check.ts'] },
  { layer: 'api', paths: ['api'] },
  { layer: 'imds', paths: ['imds'] },
  { layer: 'cloud', paths: ['cloud'] },
  { layer: 'dataplane', paths: ['dataplane'] },
  { layer: 'ipam', paths: ['ipam'] },
  { layer: 'store', paths: ['store'] },
  { layer: 'shared leaves', paths: ['events.ts', 'paths.ts', 'version.ts'] },
];

function layerOf(relative: string): number {
  const top = relative.split('/')[0];
  return LAYERS.findIndex((l) => l.paths.includes(top));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) ? [file] : [];
  });
}

/** Every module specifier a file names: static imports and re-exports, side-effect imports, import(). */
export function specifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.push(m[1]);
  return found;
}

test('the import scanner sees every kind of import', () => {
  const text = [
    "import { a } from '../cloud/a.ts';",
    "import type { B } from \"../store/b.ts\";",
    "export { c } from './c.ts';",
    "import './d.ts';",
    "const e = await import('../api/e.ts');",
  ].join('\n');
  assert.deepEqual(specifiers(text).sort(), ['../api/e.ts', '../cloud/a.ts', '../store/b.ts', './c.ts', './d.ts']);
});

test('every module of src/ belongs to a layer and imports nothing from a layer above its own', () => {
  const unplaced: string[] = [];
  const upward: string[] = [];
  for (const file of sourceFiles(src)) {
    const from = path.relative(src, file).split(path.sep).join('/');
    const own = layerOf(from);
    if (own < 0) {
      unplaced.push(from);
      continue;
    }
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = path.relative(src, path.resolve(path.dirname(file), spec)).split(path.sep).join('/');
      if (target.startsWith('..')) {
        upward.push(`${from} imports ${spec}, outside src/`);
        continue;
      }
      const theirs = layerOf(target);
      if (theirs >= 0 && theirs < own) upward.push(`${from} (${LAYERS[own].layer}) imports ${target} (${LAYERS[theirs].layer})`);
    }
  }
  assert.deepEqual(unplaced, [], 'modules in no layer: add their folder to LAYERS in test/unit/layers.test.ts (and to the README)');
  assert.deepEqual(upward, [], 'imports that point upward');
});
