/**
 * eni-local as a library, for in-process tests:
 *
 *   import { startServer } from 'eni-local';
 *   const server = await startServer({ port: 0, database: 'memory' });
 *   // … point an EC2 client at server.url …
 *   await server.close();
 */
export { startServer, type ServerOptions, type RunningServer } from './server.ts';
export { VERSION } from './version.ts';
