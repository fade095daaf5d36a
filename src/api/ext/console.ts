/**
 * The web console: the static files of the Vite build (`console/dist`, made by
 * `npm run build:console`, which `npm install` runs) at `/console/`, and the one JSON endpoint it
 * needs beside the EC2 API and the data plane's (`GET /_eni/topology`). Without a build,
 * `/console` answers a short page saying how to make one.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ExtOptions } from './scope.ts';
import { topologyEndpoint } from './topology.ts';
import { packageFile } from '../../paths.ts';

export const CONSOLE_DIST = packageFile('console/dist') + path.sep;

export interface ConsoleOptions extends ExtOptions {
  /** Where the built console is; default console/dist of this package. */
  consoleDir?: string;
}

/**
 * The console talks only to this origin, never renders HTML it did not build, and is never
 * framed (its buttons change state): what the Content-Security-Policy says.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>eni-local console: not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The web console is not built</h1>
<p>Build it once with <code>npm run build:console</code> (<code>npm install</code> does it too), then restart the server.</p>
</body></html>
`;

export async function webConsole(app: FastifyInstance, options: ConsoleOptions): Promise<void> {
  await app.register(topologyEndpoint, options);
  const root = options.consoleDir ?? CONSOLE_DIST;
  const assets = path.join(root, 'assets') + path.sep;
  await app.register(async (files) => {
    files.addHook('onSend', async (_request, reply) => {
      reply.headers(SECURITY_HEADERS);
    });
    if (!existsSync(path.join(root, 'index.html'))) {
      const notBuilt = async (_request: unknown, reply: FastifyReply) => reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
      files.get('/console', notBuilt);
      files.get('/console/*', notBuilt);
      return;
    }
    await files.register(fastifyStatic, {
      root,
      // No trailing slash: /console redirects to /console/.
      prefix: '/console',
      redirect: true,
      decorateReply: false,
      // The build writes .br and .gz beside each text asset (console/vite.config.ts).
      preCompressed: true,
      setHeaders: (reply, file) => {
        // Vite names assets after their content: they never change; the page itself always may.
        reply.header('cache-control', file.startsWith(assets) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  });
}
