import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { issueToken, tokenAccepted, type TokenBinding } from '../../src/imds/tokens.ts';

test('an IMDS token lives at least its TTL, whenever in a second it is issued, and at most a second more', () => {
  const secret = randomBytes(32);
  const binding: TokenBinding = { kind: 'instance', account: '000000000000', region: 'us-east-1', instanceId: 'i-0123456789abcdef0' };
  for (const ms of [0, 1, 500, 999]) {
    const issued = new Date(1_796_000_000_000 + ms);
    const token = issueToken(secret, binding, 1, issued);
    const acceptedAfter = (later: number): boolean => tokenAccepted(secret, token, [binding], new Date(issued.getTime() + later));
    assert.equal(acceptedAfter(0), true, `issued at +${ms} ms`);
    assert.equal(acceptedAfter(999), true, `issued at +${ms} ms, 999 ms later`);
    assert.equal(acceptedAfter(2000), false, `issued at +${ms} ms, 2 s later`);
  }
});
