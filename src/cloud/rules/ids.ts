/** Resource ids and MAC addresses, in AWS's formats. */
import { randomBytes } from 'node:crypto';

/** `<prefix>-` and 17 lower-case hex digits, as AWS has issued since 2018. */
export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

/** `<prefix>-` followed by 8 or 17 lower-case hex digits (AWS still accepts the old 8-digit ids). */
export function isIdOf(prefix: string, id: string): boolean {
  const rest = id.startsWith(`${prefix}-`) ? id.slice(prefix.length + 1) : undefined;
  return rest !== undefined && /^[0-9a-f]{8}([0-9a-f]{9})?$/.test(rest);
}

/** Throws the kind's `.Malformed` error for the first id that is not of its shape. */
export function checkIds(prefix: string, errors: { malformed: (id: string) => Error }, ids: readonly string[]): void {
  for (const id of ids) if (!isIdOf(prefix, id)) throw errors.malformed(id);
}

/** A locally administered unicast MAC address (first octet 02), as AWS gives its interfaces. */
export function newMacAddress(): string {
  const bytes = randomBytes(5);
  return ['02', ...[...bytes].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
