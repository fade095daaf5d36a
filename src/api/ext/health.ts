/** `GET /_eni/health`: is the server up, which version, which store, for how long. */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/index.ts';
import { VERSION } from '../../version.ts';

export async function healthEndpoint(app: FastifyInstance, options: { store: Store; startedAt: number }): Promise<void> {
  app.get('/_eni/health', async () => ({
    status: 'ok',
    version: VERSION,
    store: { kind: options.store.kind, location: options.store.location },
    uptimeSeconds: Math.round((Date.now() - options.startedAt) / 10) / 100,
  }));
}
