import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containsCidr, formatIpv4, formatIpv4Cidr, overlaps, parseIpv4, parseIpv4Cidr, sizeOf } from '../../src/ipam/ipv4.ts';

test('parseIpv4 takes dotted quads only', () => {
  assert.equal(parseIpv4('10.0.1.5'), 0x0a000105);
  assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
  for (const bad of ['10.0.1', '10.0.1.256', '1.2.3.4.5', '0x0a.0.0.1', '', ' 10.0.0.1', '10.0.0.1/32']) assert.equal(parseIpv4(bad), undefined, bad);
  assert.equal(formatIpv4(0xc0a80001), '192.168.0.1');
});

test('parseIpv4Cidr clears host bits, as AWS canonicalises', () => {
  assert.equal(formatIpv4Cidr(parseIpv4Cidr('100.68.0.18/18')!), '100.68.0.0/18');
  assert.equal(formatIpv4Cidr(parseIpv4Cidr('10.0.0.0/0')!), '0.0.0.0/0');
  assert.equal(parseIpv4Cidr('10.0.0.0/33'), undefined);
  assert.equal(parseIpv4Cidr('10.0.0.0'), undefined);
  assert.equal(sizeOf(parseIpv4Cidr('10.0.0.0/28')!), 16);
});

test('containment and overlap', () => {
  const vpc = parseIpv4Cidr('10.0.0.0/16')!;
  assert.ok(containsCidr(vpc, parseIpv4Cidr('10.0.255.240/28')!));
  assert.ok(!containsCidr(vpc, parseIpv4Cidr('10.1.0.0/24')!));
  assert.ok(!containsCidr(parseIpv4Cidr('10.0.0.0/24')!, vpc));
  assert.ok(overlaps(parseIpv4Cidr('10.0.0.0/24')!, parseIpv4Cidr('10.0.0.128/25')!));
  assert.ok(!overlaps(parseIpv4Cidr('10.0.0.0/25')!, parseIpv4Cidr('10.0.0.128/25')!));
});
