/**
 * AWS treats an empty optional string parameter as absent (the AWS SDK for Go, Terraform's, sends
 * `Placement.AvailabilityZone=` for an unset zone) and keeps refusing an empty required one. This
 * walks every served action's input, down every nested structure and list, and checks both.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ec2Model, type Member, type Shape } from '../../../src/api/ec2/model.ts';
import { decodeInput, EMPTY_STRING_IS_A_VALUE } from '../../../src/api/ec2/query-decode.ts';

type Structure = Extract<Shape, { kind: 'structure' }>;

const model = ec2Model();

/** A value the decoder accepts for a primitive member. */
function sampleValue(member: Member): string {
  const shape = member.shape;
  if (shape.kind !== 'primitive') throw new Error('not a primitive');
  switch (shape.type) {
    case 'string':
      return member.enum ? [...member.enum][0] : 'x';
    case 'blob':
      return 'eA==';
    case 'boolean':
      return 'true';
    case 'integer':
    case 'long':
      return String(member.min ?? 1);
    case 'double':
    case 'float':
      return '1';
    case 'timestamp':
      return '2020-01-01T00:00:00Z';
  }
}

/** The parameters that fill a structure's required members (recursively), under `prefix`. */
function requiredParameters(shape: Structure, prefix: string, depth = 0): [string, string][] {
  const out: [string, string][] = [];
  for (const member of shape.required) out.push(...memberParameters(member, `${prefix}${member.wireName}`, depth));
  return out;
}

function memberParameters(member: Member, name: string, depth: number): [string, string][] {
  const shape = member.shape;
  if (depth > 8) return [];
  if (shape.kind === 'primitive') return [[name, sampleValue(member)]];
  if (shape.kind === 'structure') {
    const inner = requiredParameters(shape, `${name}.`, depth + 1);
    // A structure with no required member still needs one parameter to be present.
    if (inner.length) return inner;
    const first = shape.members.find((m) => m.shape.kind === 'primitive');
    return first ? [[`${name}.${first.wireName}`, sampleValue(first)]] : [];
  }
  if (shape.kind === 'list') return memberParameters(shape.member, `${name}.1`, depth + 1);
  return [];
}

interface StringSite {
  action: string;
  /** The parameters that reach the member's structure (its ancestors' required members filled). */
  context: [string, string][];
  /** The member's full parameter name. */
  name: string;
  /** The decoded input's path to the member's structure (keys and list indexes). */
  path: (string | number)[];
  member: Member;
  required: boolean;
  /** `shape.member`, as EMPTY_STRING_IS_A_VALUE names it. */
  key: string;
}

/** Every string member reachable from an action's input, with the parameters that reach it. */
function stringSites(action: string, input: Structure): StringSite[] {
  const sites: StringSite[] = [];
  const walk = (shape: Structure, prefix: string, path: (string | number)[], context: [string, string][], seen: Set<string>) => {
    const here = [...context, ...requiredParameters(shape, prefix)];
    for (const member of shape.members) {
      const name = `${prefix}${member.wireName}`;
      const required = shape.required.includes(member);
      const without = here.filter(([k]) => k !== name && !k.startsWith(`${name}.`));
      const inner = member.shape;
      if (inner.kind === 'primitive' && inner.type === 'string') {
        sites.push({ action, context: without, name, path, member, required, key: `${shape.id}.${member.name}` });
      } else if (inner.kind === 'structure' && !seen.has(inner.id)) {
        walk(inner, `${name}.`, [...path, member.name], without, new Set([...seen, inner.id]));
      } else if (inner.kind === 'list' && inner.member.shape.kind === 'structure' && !seen.has(inner.member.shape.id)) {
        const item = inner.member.shape;
        walk(item, `${name}.1.`, [...path, member.name, 0], without, new Set([...seen, item.id]));
      }
    }
  };
  walk(input, '', [], [], new Set([input.id]));
  return sites;
}

const at = (value: unknown, path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, key) => (v as Record<string | number, unknown> | undefined)?.[key], value);

const sites = [...model.operations.values()].flatMap((op) => stringSites(op.name, op.input));

test('the walk reaches nested members of every served action (sanity)', () => {
  assert.ok(model.operations.size > 50);
  assert.ok(sites.some((s) => s.action === 'RunInstances' && s.name === 'Placement.AvailabilityZone'));
  assert.ok(sites.some((s) => s.action === 'RunInstances' && s.name === 'NetworkInterface.1.SubnetId'));
  assert.ok(sites.some((s) => s.required));
  for (const key of EMPTY_STRING_IS_A_VALUE) assert.ok(sites.some((s) => s.key === key), key);
  assert.ok(sites.length > 400, `${sites.length} string members`);
});

test('an empty optional string member of any served action, at any depth, decodes as absent', () => {
  const failures: string[] = [];
  for (const site of sites.filter((s) => !s.required && !EMPTY_STRING_IS_A_VALUE.has(s.key))) {
    try {
      const input = decodeInput(model.operations.get(site.action)!, [...site.context, [site.name, '']]);
      const holder = at(input, site.path) as Record<string, unknown> | undefined;
      if (holder && Object.hasOwn(holder, site.member.name)) failures.push(`${site.action} ${site.name}: kept as ${JSON.stringify(holder[site.member.name])}`);
    } catch (error) {
      failures.push(`${site.action} ${site.name}: ${(error as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('an empty required string member, or one whose empty value means something (a tag value), is kept', () => {
  const failures: string[] = [];
  for (const site of sites.filter((s) => s.required || EMPTY_STRING_IS_A_VALUE.has(s.key))) {
    try {
      const input = decodeInput(model.operations.get(site.action)!, [...site.context, [site.name, '']]);
      const holder = at(input, site.path) as Record<string, unknown> | undefined;
      if (holder?.[site.member.name] !== '') failures.push(`${site.action} ${site.name}: not kept`);
    } catch (error) {
      // An enum member refuses '' outright: refused is what is asked.
      if (!site.member.enum) failures.push(`${site.action} ${site.name}: ${(error as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
});
