/**
 * `npm run build` (run by `npm install` in a clone, and by `npm pack` before packing): what the
 * installed package runs, so that it needs neither tsx nor the TypeScript sources.
 *
 * - dist/eni-local.mjs: the command (src/cli.ts) as one ES module, which bin/eni-local.js runs.
 *   One file instead of some five hundred modules is what makes a start take ~230 ms rather than
 *   ~330 ms: Node spends most of a start finding, reading and linking modules.
 * - dist/index.mjs: the library (src/index.ts, `import { startServer } from 'eni-local'`), bundled
 *   the same way.
 * - dist/types/: the library's declarations. src/index.ts writes its public types out, so its
 *   declarations stand alone (no Fastify, Kysely or AWS SDK types needed by a user).
 *
 * The native SQLite binding and the PostgreSQL driver (loaded only for postgres:// stores) stay
 * outside, loaded from node_modules: they are the package's only runtime dependencies. Types are
 * checked by `npm run typecheck`, not here.
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
// `--out DIR` builds elsewhere than dist/ (the package test builds a copy of the package there).
const outFlag = process.argv.indexOf('--out');
const dist = outFlag > 0 ? path.resolve(process.argv[outFlag + 1]) : path.join(root, 'dist');

const bundle = (entry, outfile) =>
  build({
    entryPoints: [path.join(root, 'src', entry)],
    outfile: path.join(dist, outfile),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    external: ['better-sqlite3', 'pg', 'pg-native'],
    // Bundled CommonJS dependencies call require() for Node's own modules.
    banner: { js: "import { createRequire as __eniLocalCreateRequire } from 'node:module'; const require = __eniLocalCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });

await Promise.all([bundle('cli.ts', 'eni-local.mjs'), bundle('index.ts', 'index.mjs')]);

/** The declarations of src/index.ts and the modules it re-exports from, with `.js` specifiers. */
function writeDeclarations() {
  const out = path.join(dist, 'types');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const pending = ['index.ts'];
  const done = new Set();
  while (pending.length) {
    const file = pending.pop();
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(path.join(root, 'src', file), 'utf8');
    const { outputText, diagnostics } = ts.transpileDeclaration(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowImportingTsExtensions: true, strict: true },
    });
    if (diagnostics?.length) {
      throw new Error(`declarations of src/${file}: ${diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
    }
    const text = outputText.replace(/(from\s+['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g, (_m, a, spec, b) => {
      pending.push(path.posix.join(path.posix.dirname(file), `${spec}.ts`));
      return `${a}${spec}.js${b}`;
    });
    for (const m of text.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
      if (!m[1].startsWith('.')) throw new Error(`declarations of src/${file} import ${m[1]}: the package's types must stand alone`);
    }
    const target = path.join(out, file.replace(/\.ts$/, '.d.ts'));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
}

writeDeclarations();
