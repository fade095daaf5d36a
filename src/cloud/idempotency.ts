/**
 * ClientToken idempotency (AWS "Ensuring idempotency"): the same token with the same parameters
 * returns the first call's result without creating anything; the same token with other
 * parameters is IdempotentParameterMismatch. Tokens are per account, region and action.
 */
import { createHash } from 'node:crypto';
import { Errors } from './errors.ts';
import type { Row } from '../store/schema.ts';
import { execute, selectFirst } from '../store/sql-text.ts';
import type { Context } from './context.ts';

const MAX_TOKEN_LENGTH = 64;

const TOKEN_SEEN =
  'select "request_hash", "resource_id" from "client_tokens" where "account_id" = ? and "region" = ? and "action" = ? and "token" = ?';
const RECORD_TOKEN =
  'insert into "client_tokens" ("account_id", "region", "action", "token", "request_hash", "resource_id", "created_at") values (?, ?, ?, ?, ?, ?, ?)';

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
  const seen = await selectFirst<Pick<Row<'client_tokens'>, 'request_hash' | 'resource_id'>>(ctx.tx, TOKEN_SEEN, [ctx.account, ctx.region, action, token]);
  if (seen) {
    if (seen.request_hash !== hash) throw Errors.idempotentParameterMismatch(token);
    return existing(seen.resource_id);
  }
  const { id, result } = await create();
  await execute(ctx.tx, RECORD_TOKEN, [ctx.account, ctx.region, action, token, hash, id, ctx.now.toISOString()]);
  return result;
}
