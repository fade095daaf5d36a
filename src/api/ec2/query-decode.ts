/**
 * The generic EC2 Query decoder: turns form parameters such as `Filter.1.Name`,
 * `Filter.1.Value.2`, `TagSpecification.1.Tag.1.Key` or `SourceDestCheck.Value` into the typed
 * input of an operation, validated against its shape in the official model.
 *
 * EC2 flavour of the Query protocol (botocore EC2Serializer): lists are always flattened
 * (`Name.1`, `Name.2`, 1-based, no `.member.`), structures nest with dots, booleans are
 * `true`/`false`, timestamps ISO 8601, blobs base64.
 *
 * What a request is held to (README, "Hardening"): at most `maxParameters` parameters, each name
 * at most once, list indexes up to `maxListIndex`, strings up to `maxStringLength` characters of
 * what XML 1.0 can carry back (no control character but tab, newline and carriage return), and a
 * query string and body that are strict `application/x-www-form-urlencoded` UTF-8.
 */
import { Errors } from '../../cloud/errors.ts';
import type { Member, Operation, Shape } from './model.ts';

/** Parameters the protocol itself uses, never members of an operation's input. */
const PROTOCOL_PARAMETERS = new Set(['Action', 'Version']);
const isProtocolParameter = (key: string) => PROTOCOL_PARAMETERS.has(key) || key.startsWith('X-Amz-');

export interface DecodeLimits {
  /** Highest accepted list index (`Filter.N`): a guard against `Filter.99999999.Name`. */
  maxListIndex: number;
  /** Most parameters in one request. */
  maxParameters: number;
  /** Longest string value, in characters (UTF-16 code units); AWS's own, shorter limits are the rules' business. */
  maxStringLength: number;
  /** Longest parameter name (the model's longest is under 100 characters). */
  maxNameLength: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxListIndex: 10_000, maxParameters: 10_000, maxStringLength: 64 * 1024, maxNameLength: 512 };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const hexValue = (byte: number) =>
  byte >= 0x30 && byte <= 0x39 ? byte - 0x30 : byte >= 0x41 && byte <= 0x46 ? byte - 0x37 : byte >= 0x61 && byte <= 0x66 ? byte - 0x57 : -1;

/** Percent-decodes one name or value (`+` is a space) and reads the bytes as UTF-8, strictly. */
function decodeComponent(bytes: Uint8Array, start: number, end: number): string {
  // Plain ASCII without escapes, the common case, needs no copy.
  let plain = true;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === 0x25 || b === 0x2b || b >= 0x80) {
      plain = false;
      break;
    }
  }
  if (plain) return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  const out = new Uint8Array(end - start);
  let n = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === 0x2b) {
      out[n++] = 0x20;
    } else if (b === 0x25) {
      const hi = i + 2 < end ? hexValue(bytes[i + 1]) : -1;
      const lo = hi >= 0 ? hexValue(bytes[i + 2]) : -1;
      if (lo < 0) {
        const seen = Buffer.from(bytes.buffer, bytes.byteOffset + i, Math.min(3, end - i)).toString('latin1');
        throw Errors.malformedQueryString(`The query string contains an invalid percent-encoding ('${seen}').`);
      }
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  try {
    return utf8.decode(out.subarray(0, n));
  } catch {
    throw Errors.malformedQueryString('The query string is not valid UTF-8 once percent-decoded.');
  }
}

/**
 * Parses `application/x-www-form-urlencoded` text (a raw query string, a request body) into its
 * name/value pairs, as URLSearchParams does but strictly: a `%` not followed by two hex digits, or
 * bytes that are not UTF-8, are MalformedQueryString instead of being kept or replaced by U+FFFD,
 * so that what is stored is exactly what the client meant. Refuses more than `maxParameters`
 * pairs over all the sources, and any name given twice (`Action` and `Version` included).
 */
export function parseFormParameters(sources: readonly Uint8Array[], limits = DEFAULT_DECODE_LIMITS): [string, string][] {
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (const bytes of sources) {
    let start = 0;
    while (start <= bytes.length) {
      let end = bytes.indexOf(0x26, start);
      if (end < 0) end = bytes.length;
      if (end > start) {
        if (out.length >= limits.maxParameters) {
          throw Errors.invalidParameterValue(`A request may carry at most ${limits.maxParameters} parameters.`);
        }
        const at = bytes.subarray(start, end).indexOf(0x3d);
        const eq = at < 0 ? end : start + at;
        const key = decodeComponent(bytes, start, eq);
        const value = eq < end ? decodeComponent(bytes, eq + 1, end) : '';
        if (seen.has(key)) throw Errors.duplicateParameter(key);
        seen.add(key);
        out.push([key, value]);
      }
      start = end + 1;
    }
  }
  return out;
}

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
    if (key.length > limits.maxNameLength) throw Errors.parameterNameTooLong(key, limits.maxNameLength);
    if (isProtocolParameter(key)) continue;
    if (seen.has(key)) throw Errors.duplicateParameter(key);
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
  const given = new Set<string>();
  for (const [key, child] of node.children ?? []) {
    const member = findMember(shape, key);
    if (!member) throw Errors.unknownParameter(prefix + key);
    // `SubnetId` and its lower-camel spelling `subnetId` are one parameter: both at once is a duplicate.
    if (given.has(member.name)) throw Errors.duplicateParameter(prefix + key);
    given.add(member.name);
    // AWS: an empty optional string is no parameter at all (the AWS SDK for Go, Terraform's, sends
    // `Placement.AvailabilityZone=` for an unset zone). An empty required one is kept, for the rules to refuse.
    if (isEmptyOptionalString(shape, member, child)) continue;
    out[member.name] = decodeValue(member, child, `${prefix}${key}`, limits);
  }
  for (const member of shape.required) {
    if (out[member.name] === undefined) throw Errors.missingParameter(prefix + member.wireName);
  }
  return out;
}

/**
 * Optional string members (`shape.member`) whose empty value means something on AWS, kept as sent:
 * a tag's empty value (CreateTags sets it; DeleteTags deletes only the tag holding it) and the
 * attribute values that clear an attribute (`Description.Value=` in ModifyNetworkInterfaceAttribute).
 */
export const EMPTY_STRING_IS_A_VALUE: ReadonlySet<string> = new Set([
  'Tag.Key', 'Tag.Value', 'AttributeValue.Value', 'ModifyInstanceAttributeRequest.Value',
]);

/** An optional string member sent as `Name=` (no value, no nested parameters), where empty means absent. */
function isEmptyOptionalString(shape: Extract<Shape, { kind: 'structure' }>, member: Member, node: Node): boolean {
  return (
    node.value === '' &&
    !node.children &&
    member.shape.kind === 'primitive' &&
    member.shape.type === 'string' &&
    !shape.required.includes(member) &&
    !EMPTY_STRING_IS_A_VALUE.has(`${shape.id}.${member.name}`)
  );
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
      return decodePrimitive(member, shape.type, node.value ?? '', name, limits);
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
    if (itemMember.shape.kind === 'primitive') return [decodePrimitive(itemMember, itemMember.shape.type, node.value, name, limits)];
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
    checkText(`${name}.key`, keyNode.value, limits);
    if (Object.hasOwn(out, keyNode.value)) throw Errors.duplicateParameter(`${name}.key`);
    // defineProperty: a key such as `__proto__` is a plain entry, never the object's prototype.
    Object.defineProperty(out, keyNode.value, {
      enumerable: true,
      writable: true,
      configurable: true,
      value: valueNode ? decodeValue(shape.value, valueNode, `${name}.value`, limits) : undefined,
    });
  }
  return out;
}

/**
 * Characters a string parameter may not hold: what XML 1.0 cannot carry back in a response even
 * escaped (C0 controls but tab, newline and carriage return; U+FFFE, U+FFFF; unpaired surrogates),
 * NUL included, which no store keeps the same way (PostgreSQL refuses it). Refusing them here
 * means every stored string comes back identical, rather than silently shortened on output.
 */
const FORBIDDEN_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The checks every string parameter passes, whatever its member: length and characters. */
function checkText(name: string, raw: string, limits: DecodeLimits): void {
  if (raw.length > limits.maxStringLength) throw Errors.parameterTooLong(name, limits.maxStringLength);
  const bad = FORBIDDEN_CHARACTER.exec(raw);
  if (bad) throw Errors.forbiddenCharacter(name, bad[0].charCodeAt(0));
}

function decodePrimitive(member: Member, type: string, raw: string, name: string, limits: DecodeLimits): unknown {
  switch (type) {
    case 'string':
    case 'blob':
      checkText(name, raw, limits);
      if (member.enum && !member.enum.has(raw)) throw Errors.invalidParameterValueFor(name, raw);
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
