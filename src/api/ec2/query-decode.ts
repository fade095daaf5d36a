/**
 * The generic EC2 Query decoder: turns form parameters such as `Filter.1.Name`,
 * `Filter.1.Value.2`, `TagSpecification.1.Tag.1.Key` or `SourceDestCheck.Value` into the typed
 * input of an operation, validated against its shape in the official model.
 *
 * EC2 flavour of the Query protocol (botocore EC2Serializer): lists are always flattened
 * (`Name.1`, `Name.2`, 1-based, no `.member.`), structures nest with dots, booleans are
 * `true`/`false`, timestamps ISO 8601, blobs base64.
 */
import { Errors } from './errors.ts';
import type { Member, Operation, Shape } from './model.ts';

/** Parameters the protocol itself uses, never members of an operation's input. */
const PROTOCOL_PARAMETERS = new Set(['Action', 'Version']);
const isProtocolParameter = (key: string) => PROTOCOL_PARAMETERS.has(key) || key.startsWith('X-Amz-');

export interface DecodeLimits {
  /** Highest accepted list index (`Filter.N`): a guard against `Filter.99999999.Name`. */
  maxListIndex: number;
  /** Most parameters in one request. */
  maxParameters: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxListIndex: 10_000, maxParameters: 10_000 };

interface Node {
  value?: string;
  children?: Map<string, Node>;
}

/** Builds the dotted-name tree of a request's parameters, refusing duplicates. */
export function parameterTree(params: Iterable<[string, string]>, limits = DEFAULT_DECODE_LIMITS): Node {
  const root: Node = { children: new Map() };
  let count = 0;
  const seen = new Set<string>();
  for (const [key, value] of params) {
    if (++count > limits.maxParameters) {
      throw Errors.invalidParameterValue(`A request may carry at most ${limits.maxParameters} parameters.`);
    }
    if (isProtocolParameter(key)) continue;
    if (seen.has(key)) throw Errors.invalidParameterValue(`The parameter ${key} is given more than once.`);
    seen.add(key);
    let node = root;
    for (const part of key.split('.')) {
      node.children ??= new Map();
      let next = node.children.get(part);
      if (!next) {
        next = {};
        node.children.set(part, next);
      }
      node = next;
    }
    node.value = value;
  }
  return root;
}

/** Decodes the request parameters into the operation's input, or throws the EC2 error AWS gives. */
export function decodeInput(
  operation: Operation,
  params: Iterable<[string, string]>,
  limits = DEFAULT_DECODE_LIMITS,
): Record<string, unknown> {
  const tree = parameterTree(params, limits);
  return decodeStructure(operation.input, tree, '', limits);
}

function decodeStructure(
  shape: Extract<Shape, { kind: 'structure' }>,
  node: Node,
  prefix: string,
  limits: DecodeLimits,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (node.value !== undefined && node.value !== '' && !node.children) {
    throw Errors.invalidParameterValueFor(prefix.slice(0, -1), node.value, 'A structure was expected.');
  }
  for (const [key, child] of node.children ?? []) {
    const member = findMember(shape, key);
    if (!member) throw Errors.unknownParameter(prefix + key);
    out[member.name] = decodeValue(member, child, `${prefix}${key}`, limits);
  }
  for (const member of shape.required) {
    if (out[member.name] === undefined) throw Errors.missingParameter(prefix + member.wireName);
  }
  return out;
}

function findMember(shape: Extract<Shape, { kind: 'structure' }>, key: string): Member | undefined {
  const exact = shape.byWireName.get(key);
  if (exact) return exact;
  // AWS accepts the lower-camel locationName spelling too (e.g. `subnetId` for `SubnetId`).
  const upper = key.charAt(0).toUpperCase() + key.slice(1);
  return upper === key ? undefined : shape.byWireName.get(upper);
}

function decodeValue(member: Member, node: Node, name: string, limits: DecodeLimits): unknown {
  const shape = member.shape;
  switch (shape.kind) {
    case 'structure':
      return decodeStructure(shape, node, `${name}.`, limits);
    case 'list':
      return decodeList(shape.member, node, name, limits);
    case 'map':
      return decodeMap(shape, node, name, limits);
    case 'primitive':
      if (node.children) throw Errors.unknownParameter(`${name}.${node.children.keys().next().value}`);
      return decodePrimitive(member, shape.type, node.value ?? '', name);
  }
}

function numberedChildren(node: Node, name: string, limits: DecodeLimits): Node[] {
  const entries: [number, Node][] = [];
  for (const [key, child] of node.children ?? []) {
    if (!/^[1-9][0-9]*$/.test(key)) throw Errors.unknownParameter(`${name}.${key}`);
    const index = Number(key);
    if (index > limits.maxListIndex) {
      throw Errors.invalidParameterValue(
        `The list index ${key} of parameter ${name} exceeds the maximum of ${limits.maxListIndex}.`,
      );
    }
    entries.push([index, child]);
  }
  return entries.sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}

function decodeList(itemMember: Member, node: Node, name: string, limits: DecodeLimits): unknown[] {
  // `Name=` with an empty value is how the generic Query serializer sends an empty list.
  if (!node.children) {
    if (node.value === '' || node.value === undefined) return [];
    // A lone `Name=value` for a list of strings: one item (older clients send it that way).
    if (itemMember.shape.kind === 'primitive') return [decodePrimitive(itemMember, itemMember.shape.type, node.value, name)];
    throw Errors.invalidParameterValueFor(name, node.value, 'A list was expected.');
  }
  return numberedChildren(node, name, limits).map((child, i) =>
    decodeValue(itemMember, child, `${name}.${i + 1}`, limits),
  );
}

function decodeMap(shape: Extract<Shape, { kind: 'map' }>, node: Node, name: string, limits: DecodeLimits) {
  const out: Record<string, unknown> = {};
  for (const entry of numberedChildren(node, name, limits)) {
    const keyNode = entry.children?.get('key') ?? entry.children?.get('Key');
    const valueNode = entry.children?.get('value') ?? entry.children?.get('Value');
    if (!keyNode || keyNode.value === undefined) throw Errors.missingParameter(`${name}.N.key`);
    out[keyNode.value] = valueNode ? decodeValue(shape.value, valueNode, `${name}.value`, limits) : undefined;
  }
  return out;
}

function decodePrimitive(member: Member, type: string, raw: string, name: string): unknown {
  switch (type) {
    case 'string':
    case 'blob':
      if (member.enum && !member.enum.has(raw)) throw Errors.invalidParameterValueFor(name, raw);
      // No store keeps a NUL in text the same way (PostgreSQL refuses it): refused here for all.
      if (raw.includes('\u0000')) throw Errors.invalidParameterValue(`The parameter ${name} contains a NUL character.`);
      return raw;
    case 'boolean': {
      const lower = raw.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      throw Errors.invalidParameterValueFor(name, raw, 'Expected a boolean (true or false).');
    }
    case 'integer':
    case 'long': {
      if (!/^-?[0-9]{1,16}$/.test(raw.trim())) throw Errors.invalidParameterValueFor(name, raw, 'Expected an integer.');
      const value = Number(raw);
      const limit = type === 'integer' ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
      if (!Number.isSafeInteger(value) || Math.abs(value) > limit) throw Errors.invalidParameterValueFor(name, raw);
      if (member.min !== undefined && value < member.min) {
        throw Errors.invalidParameterValueFor(name, raw, `Expecting a value greater than or equal to ${member.min}.`);
      }
      if (member.max !== undefined && value > member.max) {
        throw Errors.invalidParameterValueFor(name, raw, `Expecting a value less than or equal to ${member.max}.`);
      }
      return value;
    }
    case 'double':
    case 'float': {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw Errors.invalidParameterValueFor(name, raw);
      return value;
    }
    case 'timestamp': {
      const value = /^[0-9]+(\.[0-9]+)?$/.test(raw) ? new Date(Number(raw) * 1000) : new Date(raw);
      if (Number.isNaN(value.getTime())) throw Errors.invalidParameterValueFor(name, raw, 'Expected an ISO 8601 timestamp.');
      return value;
    }
    default:
      return raw;
  }
}
