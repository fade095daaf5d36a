/**
 * `npm run build` (run by `npm install`): the server as one ES module, dist/eni-local.mjs, which
 * bin/eni-local.js runs. One file instead of some five hundred modules is what makes a start take
 * ~230 ms rather than ~330 ms: Node spends most of a start finding, reading and linking modules.
 * The native SQLite binding and the PostgreSQL driver (loaded only for postgres:// stores) stay
 * outside, loaded from node_modules. Types are checked by `npm run typecheck`, not here.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [path.join(root, 'src', 'cli.ts')],
  outfile: path.join(root, 'dist', 'eni-local.mjs'),
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
