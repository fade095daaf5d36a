/**
 * IMDSv2 session tokens, stateless: the expiry and an HMAC-SHA256 over (binding, expiry) with a
 * secret of this server process, so that any handler of the process checks any token it issued
 * without a table, and no token survives a restart (AWS: tokens do not survive a stop either).
 *
 * A binding says who may use the token: one instance (`instance:ACCOUNT:REGION:ID`, what the
 * instance's own endpoint issues) or the host URL's shared token endpoint (see service.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/index.ts';

/** AWS: a token lives 1 to 21,600 seconds (six hours). */
export const MAX_TOKEN_TTL_SECONDS = 21_600;

export type TokenBinding = { kind: 'instance'; account: string; region: string; instanceId: string } | { kind: 'host' };

const secrets = new WeakMap<Store, Buffer>();

/** The process's secret for a store: every handler over one store shares it. */
export function tokenSecret(store: Store): Buffer {
  let secret = secrets.get(store);
  if (!secret) secrets.set(store, (secret = randomBytes(32)));
  return secret;
}

const bindingText = (b: TokenBinding) => (b.kind === 'host' ? 'host' : `instance:${b.account}:${b.region}:${b.instanceId}`);

function mac(secret: Buffer, binding: TokenBinding, expiresAt: number, nonce: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${bindingText(binding)}\n${expiresAt}\n`).update(nonce).digest();
}

/**
 * A token: 4 bytes of expiry (epoch seconds), 4 random bytes, 32 bytes of HMAC — 40 bytes,
 * 56 characters of base64 like AWS's.
 */
export function issueToken(secret: Buffer, binding: TokenBinding, ttlSeconds: number, now: Date): string {
  // Rounded up to the second the expiry is kept in: a token lives at least its TTL (floored, one
  // of 1 s issued late in a second lived a few milliseconds), and at most a second more.
  const expiresAt = Math.ceil(now.getTime() / 1000) + ttlSeconds;
  const head = Buffer.alloc(8);
  head.writeUInt32BE(expiresAt, 0);
  randomBytes(4).copy(head, 4);
  return Buffer.concat([head, mac(secret, binding, expiresAt, head.subarray(4))]).toString('base64');
}

/** Whether the token was issued for one of these bindings and has not expired. */
export function tokenAccepted(secret: Buffer, token: string, bindings: readonly TokenBinding[], now: Date): boolean {
  const bytes = Buffer.from(token, 'base64');
  if (bytes.length !== 40 || bytes.toString('base64') !== token) return false;
  const expiresAt = bytes.readUInt32BE(0);
  if (expiresAt * 1000 <= now.getTime()) return false;
  const given = bytes.subarray(8);
  return bindings.some((binding) => timingSafeEqual(mac(secret, binding, expiresAt, bytes.subarray(4, 8)), given));
}
