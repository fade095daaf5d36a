/** NextToken values: opaque to clients, base64url of the last key a page returned. */
import { InvalidPageTokenError } from './errors.ts';

export function encodePageToken(key: string): string {
  return Buffer.from(JSON.stringify({ k: key }), 'utf8').toString('base64url');
}

/** The key a token carries, or InvalidPageTokenError. */
export function decodePageToken(token: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && typeof (parsed as { k: unknown }).k === 'string') return (parsed as { k: string }).k;
  } catch {
    // the error below
  }
  throw new InvalidPageTokenError(token);
}
