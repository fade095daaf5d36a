/**
 * ClientToken idempotency (AWS "Ensuring idempotency"): the same token with the same parameters
 * returns the first call's result without creating anything; the same token with other
 * parameters is IdempotentParameterMismatch. Tokens are per account, region and action.
 */
import { createHash } from 'node:crypto';
import { Errors } from '../api/ec2/errors.ts';
import type { Context } from './context.ts';

const MAX_TOKEN_LENGTH = 64;

function requestHash(input: object): string {
  const { ClientToken: _token, DryRun: _dryRun, ...rest } = input as Record<string, unknown>;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/**
 * Runs `create` once per token: a repeat with the same parameters gets `existing(id)` of the
 * resource the first call made. Without a token, simply creates.
 */
export async function idempotent<T>(
  ctx: Context,
  action: string,
  input: { ClientToken?: string },
  create: () => Promise<{ id: string; result: T }>,
  existing: (id: string) => Promise<T>,
): Promise<T> {
  const token = input.ClientToken;
  if (token === undefined) return (await create()).result;
  if (token.length > MAX_TOKEN_LENGTH || !/^[\x20-\x7e]*$/.test(token)) {
    throw Errors.invalidParameterValueFor('ClientToken', token, `A client token is at most ${MAX_TOKEN_LENGTH} ASCII characters.`);
  }
  const hash = requestHash(input);
  const seen = await ctx.tx
    .selectFrom('client_tokens')
    .select(['request_hash', 'resource_id'])
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('action', '=', action)
    .where('token', '=', token)
    .executeTakeFirst();
  if (seen) {
    if (seen.request_hash !== hash) throw Errors.idempotentParameterMismatch(token);
    return existing(seen.resource_id);
  }
  const { id, result } = await create();
  await ctx.tx
    .insertInto('client_tokens')
    .values({ account_id: ctx.account, region: ctx.region, action, token, request_hash: hash, resource_id: id, created_at: ctx.now.toISOString() })
    .execute();
  return result;
}
