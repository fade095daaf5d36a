/** The strict form parser and the decoder's string checks (README, "Hardening"). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ec2Error } from '../../../src/cloud/errors.ts';
import { ec2Model } from '../../../src/api/ec2/model.ts';
import { decodeInput, parseFormParameters } from '../../../src/api/ec2/query-decode.ts';
import { escapeXml } from '../../../src/api/ec2/xml-encode.ts';

const parse = (...sources: (string | Buffer)[]) => parseFormParameters(sources.map((s) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s)));

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof Ec2Error, String(error));
    return error.code;
  }
  assert.fail('expected an Ec2Error');
}

test('form text decodes as URLSearchParams does for well-formed input', () => {
  const text = 'Action=DescribeVpcs&Filter.1.Name=tag%3AName&Filter.1.Value.1=a+b%20c&Empty=&Bare&&=x';
  assert.deepEqual(parse(text), [...new URLSearchParams(text)]);
  assert.deepEqual(parse('a=%F0%9F%98%80&b=%C3%A9'), [['a', '😀'], ['b', 'é']]);
  assert.deepEqual(parse(Buffer.from('a=é😀', 'utf8')), [['a', 'é😀']]);
  assert.deepEqual(parse('a=1', 'b=2'), [['a', '1'], ['b', '2']]);
});

test('bad percent-encoding and invalid UTF-8 are MalformedQueryString, never U+FFFD', () => {
  for (const text of ['a=%zz', 'a=%', 'a=%4', '%zz=1', 'a=%C3%28', 'a=%E2%82', 'a=%ED%A0%80', 'a=%C0%AF', 'a=%FF']) {
    assert.equal(codeOf(() => parse(text)), 'MalformedQueryString', text);
  }
  assert.equal(codeOf(() => parse(Buffer.from([0x61, 0x3d, 0xff]))), 'MalformedQueryString');
});

test('a name given twice, across sources too, and more than the maximum of parameters are refused', () => {
  assert.equal(codeOf(() => parse('Action=A&Action=B')), 'InvalidParameterValue');
  assert.equal(codeOf(() => parse('Action=A', 'Action=A')), 'InvalidParameterValue');
  assert.equal(codeOf(() => parse(Array.from({ length: 10_001 }, (_, i) => `p${i}=1`).join('&'))), 'InvalidParameterValue');
  assert.equal(parse('&'.repeat(100_000)).length, 0);
});

test('string parameters: length, control characters, U+FFFE/U+FFFF and lone surrogates are refused; tab, LF, CR kept', () => {
  const op = ec2Model().operations.get('CreateNetworkInterface')!;
  const decode = (description: string) => decodeInput(op, [['SubnetId', 'subnet-1'], ['Description', description]]);
  for (const bad of ['\u0000', '\u0001', '\u001f', '\u000b', '\uFFFE', '\uFFFF', '\uD800', 'a\uDC00', 'x'.repeat(64 * 1024 + 1)]) {
    assert.equal(codeOf(() => decode(bad)), 'InvalidParameterValue', JSON.stringify(bad.slice(0, 4)));
  }
  assert.equal(decode('\t\n\r 😀 \u007f').Description, '\t\n\r 😀 \u007f');
  assert.equal(codeOf(() => decodeInput(op, [['SubnetId', 'subnet-1'], ['subnetId', 'subnet-2']])), 'InvalidParameterValue');
  assert.equal(codeOf(() => decodeInput(op, [['SubnetId', 'subnet-1'], ['x'.repeat(513), '1']])), 'InvalidParameterValue');
});

test('escapeXml: markup and carriage returns are escaped; what XML cannot carry is dropped (only error messages can hold it)', () => {
  assert.equal(escapeXml('<a href="x">&\'</a>]]>\r\n\t'), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;]]&gt;&#xD;\n\t');
  assert.equal(escapeXml('a\u0001b\uFFFEc\uD800d😀'), 'abcd😀');
});
