/**
 * How the JSON API under /_eni/ runs cloud code: in one store transaction, as an account and
 * region taken from the request (headers `x-eni-account` / `x-eni-region`, or the same names in
 * the query string or JSON body), with events published after commit — as the EC2 endpoint does.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CloudConfig } from '../../cloud/config.ts';
import type { Context } from '../../cloud/context.ts';
import type { EventBus } from '../../events.ts';
import type { Store } from '../../store/index.ts';
import { Ec2Error } from '../ec2/errors.ts';
import { runInContext } from '../run.ts';

export interface ExtOptions {
  store: Store;
  config: CloudConfig;
  events: EventBus;
  defaultRegion: string;
}

function pick(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers[`x-eni-${name}`];
  if (typeof header === 'string' && header) return header;
  const query = (request.query ?? {}) as Record<string, unknown>;
  if (typeof query[name] === 'string') return query[name] as string;
  const body = (request.body ?? {}) as Record<string, unknown>;
  return typeof body[name] === 'string' ? (body[name] as string) : undefined;
}

export function scopeOf(request: FastifyRequest, options: ExtOptions): { account: string; region: string } {
  return { account: pick(request, 'account') ?? options.config.defaultAccount, region: pick(request, 'region') ?? options.defaultRegion };
}

export async function inScope<T>(request: FastifyRequest, options: ExtOptions, fn: (ctx: Context) => Promise<T>): Promise<T> {
  const { account, region } = scopeOf(request, options);
  return runInContext(options, { account, region, requestId: request.id, writes: request.method !== 'GET' }, fn);
}

/** EC2 errors become JSON with the EC2 code and a 4xx status. */
export function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof Ec2Error) {
    const status = error.code.endsWith('.NotFound') ? 404 : error.status;
    return reply.code(status).send({ error: { code: error.code, message: error.message } });
  }
  throw error;
}
