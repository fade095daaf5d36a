/** Resource ids and MAC addresses, in AWS's formats. */
import { randomBytes } from 'node:crypto';

/** `<prefix>-` and 17 lower-case hex digits, as AWS has issued since 2018. */
export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

/** What follows `<prefix>-` in a well-formed id: 8 or 17 lower-case hex digits (AWS still accepts the old 8-digit ids). */
const ID_DIGITS = /^[0-9a-f]{8}([0-9a-f]{9})?$/;

/**
 * Kinds whose ids AWS takes in other lengths. AWS: a security group id of up to 17 hex digits is
 * well-formed (`sg-123abc`, `sg-bbfe0e` answer InvalidGroup.NotFound, not InvalidGroupId.Malformed).
 */
const ID_DIGITS_OF: Readonly<Record<string, RegExp>> = { sg: /^[0-9a-f]{1,17}$/ };

/** Whether `id` is `<prefix>-` and the digits AWS accepts for that kind. */
export function isIdOf(prefix: string, id: string): boolean {
  const rest = id.startsWith(`${prefix}-`) ? id.slice(prefix.length + 1) : undefined;
  return rest !== undefined && (Object.hasOwn(ID_DIGITS_OF, prefix) ? ID_DIGITS_OF[prefix] : ID_DIGITS).test(rest);
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
