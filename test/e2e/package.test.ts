/**
 * The npm package as a user gets it: `npm pack`, installed from the tarball into an empty folder
 * (no tsx, no TypeScript, no dev dependencies), then the `eni-local` command serves and a
 * plain-Node script uses the library; a TypeScript consumer type-checks against its declarations.
 *
 * The package is built into a copy (the files `npm pack` would ship, with a fresh dist/), so the
 * clone's own dist/ — which other tests run — is never rewritten under them. Installing needs the
 * npm registry (the package's two runtime dependencies, from npm's cache when it has them).
 * better-sqlite3 fetches or compiles its native binding in an install script; that is
 * better-sqlite3's own business, so the install runs without scripts and the binding the clone's
 * install made (same pinned version, same Node) is put in place.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const BINDING = path.join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');

describe('the npm package, installed from its tarball', () => {
  let work: string;
  let consumer: string;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'eni-local-package-'));
    // What `npm pack` ships, per package.json's "files".
    const { stdout } = await run(NPM, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    const staging = path.join(work, 'package');
    for (const file of files.filter((f) => !f.startsWith('dist/'))) {
      mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
      cpSync(path.join(ROOT, file), path.join(staging, file));
    }
    await run(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--out', path.join(staging, 'dist')]);
    const packed = await run(NPM, ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: staging });
    const tarball = path.join(work, packed.stdout.trim().split('\n').pop()!);

    consumer = path.join(work, 'consumer');
    mkdirSync(consumer);
    writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run(NPM, ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], { cwd: consumer, timeout: 240_000 });
    mkdirSync(path.dirname(path.join(consumer, BINDING)), { recursive: true });
    cpSync(path.join(ROOT, BINDING), path.join(consumer, BINDING));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('it holds the build, not the sources, and needs neither tsx nor any other development tool', () => {
    const installed = path.join(consumer, 'node_modules', 'eni-local');
    assert.ok(existsSync(path.join(installed, 'dist', 'eni-local.mjs')));
    assert.ok(existsSync(path.join(installed, 'dist', 'index.mjs')));
    assert.ok(existsSync(path.join(installed, 'dist', 'types', 'index.d.ts')));
    assert.ok(!existsSync(path.join(installed, 'src', 'cli.ts')), 'no TypeScript sources');
    for (const tool of ['tsx', 'typescript', 'esbuild', 'fastify', 'cookie']) {
      assert.ok(!existsSync(path.join(consumer, 'node_modules', tool)), `${tool} is not installed with the package`);
    }
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; exports: Record<string, unknown> };
    assert.deepEqual(Object.keys(manifest.dependencies).sort(), ['better-sqlite3', 'pg']);
    assert.deepEqual(manifest.exports['.'], { types: './dist/types/index.d.ts', import: './dist/index.mjs' });
  });

  test('npx eni-local runs the installed command', async () => {
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const { stdout } = await run(NPM, ['exec', '--no', '--', 'eni-local', '--version'], { cwd: consumer });
    assert.equal(stdout.trim(), version);
  });

  test('eni-local serve (the bin npx runs) starts, answers the EC2 API, its health and the console, and stops on SIGTERM', async () => {
    // The bin itself rather than npx, whose wrapper dies of the signal instead of passing it on.
    const bin = path.join(consumer, 'node_modules', '.bin', 'eni-local');
    const child = spawn(bin, ['serve', '--port', '0', '--database', 'memory', '--log-level', 'warn'], { cwd: consumer });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start within 30 s:\n${out}`)), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      });
      const health = (await (await fetch(`${url}/_eni/health`)).json()) as { status: string };
      assert.equal(health.status, 'ok');
      const vpcs = await (await fetch(url, { method: 'POST', body: new URLSearchParams({ Action: 'DescribeVpcs', Version: '2016-11-15' }) })).text();
      assert.match(vpcs, /<cidrBlock>172\.31\.0\.0\/16<\/cidrBlock>/, 'the default VPC');
      assert.equal((await fetch(`${url}/console/`)).status, 200, 'the console is in the package');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, out);
  });

  test("a plain-Node script imports startServer from 'eni-local' and uses it", async () => {
    writeFileSync(
      path.join(consumer, 'script.mjs'),
      [
        "import { startServer, VERSION } from 'eni-local';",
        "const server = await startServer({ port: 0, database: 'memory' });",
        "const body = new URLSearchParams({ Action: 'CreateVpc', Version: '2016-11-15', CidrBlock: '10.0.0.0/16' });",
        'const answer = await (await fetch(server.url, { method: "POST", body })).text();',
        'console.log(JSON.stringify({ version: VERSION, store: server.store.kind, vpc: /<vpcId>vpc-[0-9a-f]{17}<\\/vpcId>/.test(answer) }));',
        'await server.close();',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['script.mjs'], { cwd: consumer });
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.deepEqual(JSON.parse(stdout), { version, store: 'memory', vpc: true });
  });

  test('a TypeScript consumer type-checks against the declarations alone (skipLibCheck off)', async () => {
    writeFileSync(
      path.join(consumer, 'check.ts'),
      [
        "import { startServer, VERSION, type RunningServer, type ServerOptions } from 'eni-local';",
        "const options: ServerOptions = { port: 0, database: 'memory', timings: { attachingMs: 500 }, auth: 'open' };",
        'const server: RunningServer = await startServer(options);',
        'const url: string = server.url;',
        'const unsubscribe: () => void = server.events.subscribe((event) => console.log(event.type, url, VERSION));',
        'unsubscribe();',
        'await server.close();',
        '// @ts-expect-error: not an option',
        "void startServer({ durability: 'sometimes' });",
      ].join('\n'),
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const compilerOptions = { noEmit: true, strict: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [] };
    writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    assert.equal(result.code, 0, result.out);
  });
});
