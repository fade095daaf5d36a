/**
 * The data plane's JSON API:
 *   POST /_eni/probe                       evaluate a flow; the verdict and every hop
 *   POST /_eni/instances/{id}/fail|recover  fault injection
 *   GET  /_eni/flow-logs/{id}              a flow log's records, one per line
 *   GET  /_eni/events                      server-sent events of every committed state change
 *   GET  /_eni/dataplane                   which data plane runs; for the linux one, what it holds
 */
import type { FastifyInstance } from 'fastify';
import { setInstanceHealth } from '../../cloud/faults.ts';
import { flowLogRecords, recordFlow } from '../../cloud/flow-logs.ts';
import { evaluateFlow, FlowError, type Endpoint } from '../../dataplane/evaluate.ts';
import { inScope, parseJsonWithRawBody, scopeOf, sendError, type ExtOptions } from './scope.ts';

interface ProbeBody {
  from?: string;
  to?: string;
  protocol?: string;
  port?: number;
  sourcePort?: number;
}

/** `eni-…`, `i-…`, `internet` or `internet:ADDRESS`. */
export function parseEndpoint(text: string): Endpoint {
  if (text === 'internet') return { kind: 'internet' };
  if (text.startsWith('internet:')) return { kind: 'internet', address: text.slice('internet:'.length) };
  if (text.startsWith('eni-')) return { kind: 'eni', id: text };
  if (text.startsWith('i-')) return { kind: 'instance', id: text };
  throw new FlowError(`'${text}' is not a source: expected eni-…, i-…, internet or internet:ADDRESS`);
}

export async function dataplaneEndpoints(app: FastifyInstance, options: ExtOptions): Promise<void> {
  parseJsonWithRawBody(app);
  // A body Fastify cannot parse still gets the JSON API's error envelope.
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) app.log.error({ err: error }, 'unexpected error in the JSON API');
    return reply.code(status).send({ error: { code: status >= 500 ? 'InternalError' : 'InvalidRequest', message: error.message } });
  });

  app.post<{ Body: ProbeBody }>('/_eni/probe', async (request, reply) => {
    const body = request.body ?? {};
    try {
      if (typeof body.from !== 'string' || typeof body.to !== 'string') throw new FlowError('a probe needs "from" and "to"');
      const from = parseEndpoint(body.from);
      return await inScope(request, options, async (ctx) => {
        const result = await evaluateFlow(ctx.tx, {
          account: ctx.account,
          region: ctx.region,
          from,
          to: body.to!,
          protocol: body.protocol ?? 'tcp',
          port: body.port,
          sourcePort: body.sourcePort,
        });
        await recordFlow(ctx, result);
        ctx.emit({
          type: 'flow',
          from: body.from,
          to: body.to,
          protocol: result.protocol,
          port: result.port,
          delivered: result.delivered,
          reason: result.reason,
          destination: result.destination,
          hops: result.hops,
        });
        return result;
      });
    } catch (error) {
      if (error instanceof FlowError) return reply.code(400).send({ error: { code: 'InvalidParameterValue', message: error.message } });
      return sendError(reply, error);
    }
  });

  for (const health of ['fail', 'recover'] as const) {
    app.post<{ Params: { id: string } }>(`/_eni/instances/:id/${health}`, async (request, reply) => {
      try {
        return await inScope(request, options, (ctx) => setInstanceHealth(ctx, request.params.id, health === 'fail' ? 'impaired' : 'ok'));
      } catch (error) {
        return sendError(reply, error);
      }
    });
  }

  // What the kernel holds spans every account: in sigv4 mode only the plane's shape is told.
  app.get('/_eni/dataplane', async () => {
    if (!options.plane) return { mode: 'simulated' };
    const status = options.plane.status() as Record<string, unknown>;
    if (options.authenticator.mode === 'open') return status;
    return { mode: status.mode, prefix: status.prefix, guestNetwork: status.guestNetwork, addresses: status.addresses };
  });

  app.get<{ Params: { id: string } }>('/_eni/flow-logs/:id', async (request, reply) => {
    let lines: string[] | undefined;
    try {
      lines = await inScope(request, options, (ctx) => flowLogRecords(ctx.tx, request.params.id, ctx));
    } catch (error) {
      return sendError(reply, error);
    }
    if (!lines) return reply.code(404).send({ error: { code: 'InvalidFlowLogId.NotFound', message: `Flow log ${request.params.id} does not exist` } });
    return reply.type('text/plain; charset=utf-8').send(lines.map((l) => `${l}\n`).join(''));
  });

  app.get<{ Querystring: { account?: string; region?: string } }>('/_eni/events', async (request, reply) => {
    let account = request.query.account;
    let region = request.query.region;
    if (options.authenticator.mode === 'sigv4' || (request.raw.url ?? '').includes('X-Amz-Signature=')) {
      // EventSource cannot send headers: a signed stream is a presigned URL, and it sees its own account only.
      try {
        ({ account, region } = await scopeOf(request, options));
      } catch (error) {
        return sendError(reply, error);
      }
    }
    // A reconnecting client (Last-Event-ID) gets what it missed; a new one starts live.
    const lastId = request.headers['last-event-id'] === undefined ? Number.POSITIVE_INFINITY : Number(request.headers['last-event-id']) || 0;
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    out.write(': eni-local events\n\n');
    const send = (event: { id: number; type: string; account: string; region: string }) => {
      if ((account && event.account !== account) || (region && event.region !== region)) return;
      out.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    };
    for (const event of options.events.since(lastId)) send(event);
    const unsubscribe = options.events.subscribe(send);
    const keepAlive = setInterval(() => out.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  });
}
