/**
 * The generic EC2 XML encoder: writes an operation's output, shaped as the SDK types
 * (PascalCase members), as the XML EC2 sends, driven by the output shape in the model:
 * element names are the model's locationNames, lists are `<item>` children, booleans are
 * lower-case, timestamps ISO 8601 with milliseconds, every string escaped.
 */
import type { Ec2Error } from '../../cloud/errors.ts';
import type { Member, Operation, Shape } from './model.ts';

export const XML_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

// A carriage return is written as a reference: XML parsers turn a literal one into a line feed.
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#xD;' };
const NEEDS_ESCAPE = /[&<>"'\r]/;
// Characters XML 1.0 cannot carry at all, even escaped. The decoder refuses them in parameters, so
// only an error message echoing a bad name or value can hold one: dropped rather than break the document.
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// Any character either of the above could concern: most strings hold none and are written as they are.
const ANY_SPECIAL = /[&<>"'\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

export function escapeXml(text: string): string {
  if (!ANY_SPECIAL.test(text)) return text;
  const clean = text.replace(INVALID_XML_CHARS, '');
  return NEEDS_ESCAPE.test(clean) ? clean.replace(/[&<>"'\r]/g, (c) => ESCAPES[c]) : clean;
}

export function encodeResponse(operation: Operation, output: Record<string, unknown>, requestId: string): string {
  const root = `${operation.name}Response`;
  let body = `${XML_DECLARATION}<${root} xmlns="${XML_NAMESPACE}"><requestId>${requestId}</requestId>`;
  if (operation.output.members.length === 0) {
    // Actions without output members still say <return>true</return>, as EC2 does.
    body += '<return>true</return>';
  } else {
    body += encodeMembers(operation.output, output);
  }
  return `${body}</${root}>`;
}

export function encodeError(error: Pick<Ec2Error, 'code' | 'message'>, requestId: string): string {
  return (
    `${XML_DECLARATION}<Response><Errors><Error><Code>${escapeXml(error.code)}</Code>` +
    `<Message>${escapeXml(error.message)}</Message></Error></Errors>` +
    `<RequestID>${requestId}</RequestID></Response>`
  );
}

function encodeMembers(shape: Extract<Shape, { kind: 'structure' }>, value: Record<string, unknown>): string {
  let out = '';
  for (const member of shape.members) {
    const v = value[member.name];
    if (v === undefined || v === null) continue;
    out += encodeElement(member, v);
  }
  return out;
}

function encodeElement(member: Member, value: unknown): string {
  const tag = member.xmlName;
  const inner = encodeContent(member.shape, value);
  return inner === '' ? `<${tag}/>` : `<${tag}>${inner}</${tag}>`;
}

function encodeContent(shape: Shape, value: unknown): string {
  switch (shape.kind) {
    case 'structure':
      return typeof value === 'object' ? encodeMembers(shape, value as Record<string, unknown>) : '';
    case 'list': {
      if (!Array.isArray(value)) return '';
      let out = '';
      for (const item of value) {
        if (item !== undefined && item !== null) out += encodeElement(shape.member, item);
      }
      return out;
    }
    case 'map': {
      let out = '';
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        out += `<item>${encodeElement(shape.key, k)}${encodeElement(shape.value, v)}</item>`;
      }
      return out;
    }
    case 'primitive':
      return encodePrimitive(shape.type, value);
  }
}

function encodePrimitive(type: string, value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (type === 'timestamp' && (typeof value === 'number' || typeof value === 'string')) {
    return new Date(value).toISOString();
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return escapeXml(String(value));
}
