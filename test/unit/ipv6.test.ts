import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containsCidr6, formatIpv6, formatIpv6Cidr, parseIpv6, parseIpv6Cidr, randomHostAddress, randomSubBlock } from '../../src/ipam/ipv6.ts';

test('IPv6 addresses parse to 128-bit values and print in RFC 5952 form', () => {
  assert.equal(formatIpv6(parseIpv6('2001:0DB8:0000:0000:0000:0000:0000:0001')!), '2001:db8::1');
  assert.equal(formatIpv6(parseIpv6('::')!), '::');
  assert.equal(parseIpv6('2001:db8::g'), undefined);
  assert.equal(parseIpv6('10.0.0.1'), undefined);
});

test('IPv6 CIDRs are canonicalised and nest', () => {
  assert.equal(formatIpv6Cidr(parseIpv6Cidr('2001:db8:1:2ff::5/56')!), '2001:db8:1:200::/56');
  const vpc = parseIpv6Cidr('2001:db8:1:200::/56')!;
  assert.ok(containsCidr6(vpc, parseIpv6Cidr('2001:db8:1:2ab::/64')!));
  assert.ok(!containsCidr6(vpc, parseIpv6Cidr('2001:db8:1:300::/64')!));
  assert.equal(parseIpv6Cidr('2001:db8::/129'), undefined);
});

test('random blocks and host addresses stay inside and avoid the five reserved addresses', () => {
  const pool = parseIpv6Cidr('2001:db8::/32')!;
  for (let i = 0; i < 100; i++) assert.ok(containsCidr6(pool, randomSubBlock(pool, 56)));
  // A /125 has eight addresses: the first four and the last are reserved, leaving offsets 4 to 6.
  const cidr = parseIpv6Cidr('2001:db8::/125')!;
  const seen = new Set<bigint>();
  for (let i = 0; i < 200; i++) {
    const offset = randomHostAddress(cidr) - cidr.network;
    assert.ok(offset >= 4n && offset <= 6n, String(offset));
    seen.add(offset);
  }
  assert.equal(seen.size, 3);
});
