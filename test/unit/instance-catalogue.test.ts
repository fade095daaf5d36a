import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findImage, imagesOf, isWellFormedImageId } from '../../src/cloud/images.ts';
import { pageCatalogue } from '../../src/cloud/catalogue-filter.ts';
import { architectureOf, enaSupportOf } from '../../src/cloud/instance-types.ts';
import { findInstanceType } from '../../src/cloud/rules/instance-types.ts';

test('architectures follow the family name: a g after the generation digit is Graviton', () => {
  const cases: Record<string, string> = {
    'a1.large': 'arm64',
    't4g.nano': 'arm64',
    'c6gn.large': 'arm64',
    'm8gd.xlarge': 'arm64',
    'x2gd.large': 'arm64',
    'im4gn.large': 'arm64',
    'is4gen.large': 'arm64',
    'g5g.xlarge': 'arm64',
    'i8ge.large': 'arm64',
    'g4dn.xlarge': 'x86_64',
    'g6e.xlarge': 'x86_64',
    'gr6.4xlarge': 'x86_64',
    'c7i-flex.large': 'x86_64',
    'u7i-12tb.224xlarge': 'x86_64',
    'p6-b200.48xlarge': 'x86_64',
    'inf2.xlarge': 'x86_64',
    'mac1.metal': 'x86_64_mac',
    'mac2-m2pro.metal': 'arm64_mac',
  };
  for (const [type, arch] of Object.entries(cases)) assert.equal(architectureOf(type), arch, type);
});

test('ENA is required on Nitro and bare metal, supported on the ENA-capable Xen families, else unsupported', () => {
  const ena = (name: string) => enaSupportOf(findInstanceType(name)!);
  assert.equal(ena('m5.large'), 'required');
  assert.equal(ena('i3.metal'), 'required');
  assert.equal(ena('i3.large'), 'supported');
  assert.equal(ena('p3.2xlarge'), 'supported');
  assert.equal(ena('m4.16xlarge'), 'supported');
  assert.equal(ena('m4.large'), 'unsupported');
  assert.equal(ena('c4.large'), 'unsupported');
  assert.equal(ena('t2.micro'), 'unsupported');
});

test('catalogue pages resume after the key their token names', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  const first = pageCatalogue(items, (i) => i, { maxResults: 2, nextToken: undefined });
  assert.deepEqual(first.items, ['a', 'b']);
  const second = pageCatalogue(items, (i) => i, { maxResults: 2, nextToken: first.nextToken });
  assert.deepEqual(second.items, ['c', 'd']);
  const last = pageCatalogue(items, (i) => i, { maxResults: 2, nextToken: second.nextToken });
  assert.deepEqual(last, { items: ['e'] });
  assert.deepEqual(pageCatalogue(items, (i) => i, { maxResults: undefined, nextToken: undefined }), { items });
  assert.deepEqual(pageCatalogue(items, (i) => i, { maxResults: 5, nextToken: undefined }), { items }, 'an exact fit has no next page');
  assert.throws(() => pageCatalogue(items, (i) => i, { maxResults: 2, nextToken: 'nope' }), /token 'nope' is invalid/);
});

test('image ids: any ami- id of 8 or 17 hex is well formed; the catalogue knows its own, per region', () => {
  assert.ok(isWellFormedImageId('ami-12345678'));
  assert.ok(isWellFormedImageId('ami-0123456789abcdef0'));
  assert.ok(!isWellFormedImageId('ami-0123456789ABCDEF0'));
  assert.ok(!isWellFormedImageId('ami-123'));
  assert.ok(!isWellFormedImageId('snap-12345678'));
  const east = imagesOf('us-east-1');
  assert.equal(east.length, 11);
  assert.equal(new Set(east.map((i) => i.ImageId)).size, east.length);
  assert.deepEqual(findImage('us-east-1', east[0].ImageId!), east[0]);
  assert.equal(findImage('eu-west-1', east[0].ImageId!), undefined, 'ids are regional');
  assert.equal(findImage('us-east-1', 'ami-0123456789abcdef0'), undefined);
});
