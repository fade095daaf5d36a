/**
 * What a request is held to (README, "Hardening"): every limit answers a clean EC2 error envelope
 * through raw HTTP — never a 5xx, a hang or a silently altered value — and the server stays up.
 * User strings come back exactly as stored, escaped, through the SDK.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  AssociateVpcCidrBlockCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeAvailabilityZonesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeTagsCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { errorCode, expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createNetwork } from '../helpers/topology.ts';

const VERSION = 'Version=2016-11-15';
const ENVELOPE =
  /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>[^<]+<\/Code><Message>[^<]*<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/;

/** POSTs a body exactly as given (a string is sent as UTF-8, bytes as they are). */
async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(url + '/', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: response.status, text: await response.text() };
}

/** Sends raw bytes over one TCP connection and returns everything the server wrote before it closed. */
function rawHttp(port: number, chunks: (string | Buffer)[], { gapMs = 0, timeoutMs = 10_000 } = {}): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms; got ${Buffer.concat(received).toString('utf8')}`));
    }, timeoutMs);
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(received).toString('utf8'), ms: Date.now() - started });
    });
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

/** Status line and body of a raw HTTP/1.1 answer. */
function parseRawResponse(text: string) {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return { status, body };
}

describe('hardening: every limit is a clean EC2 error', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let subnetId: string;
  let vpcId: string;

  before(async () => {
    server = await startTestServer({ requestTimeout: 1_000 });
    ec2 = server.client();
    const network = await createNetwork(ec2, '10.7.0.0/16', { a: { cidr: '10.7.1.0/24', zone: 'us-east-1a' } });
    subnetId = network.subnets.a.SubnetId!;
    vpcId = network.vpcId;
  });
  after(() => server.stop());

  const healthy = async () => {
    const res = await fetch(`${server.url}/_eni/health`);
    assert.equal(res.status, 200);
  };

  /** A request (raw form body) answers this EC2 code and status, in a well-formed envelope. */
  const expectError = async (body: string | Buffer, code: string, status = 400) => {
    const res = await post(server.url, body);
    assert.equal(errorCode(res.text), code, res.text.slice(0, 500));
    assert.equal(res.status, status, res.text.slice(0, 500));
    assert.match(res.text, ENVELOPE);
    return res.text;
  };

  test('request body over the limit (1 MiB by default): InvalidParameterValue', async () => {
    const text = await expectError(`Action=DescribeVpcs&${VERSION}&Filter.1.Name=${'x'.repeat(1024 * 1024)}`, 'InvalidParameterValue');
    assert.match(text, /exceeds the maximum of 1048576 bytes/);
    await healthy();
  });

  test('more than 10,000 parameters: InvalidParameterValue', async () => {
    const many = Array.from({ length: 10_001 }, (_, i) => `VpcId.${i + 1}=vpc-1`).join('&');
    await expectError(`Action=DescribeVpcs&${VERSION}&${many}`, 'InvalidParameterValue');
    // Empty segments (`&&&`) are no parameters, as in any form body.
    const ok = await post(server.url, `Action=DescribeVpcs&${VERSION}${'&'.repeat(50_000)}`);
    assert.equal(ok.status, 200);
    await healthy();
  });

  test('a list index beyond 10,000 is InvalidParameterValue; index 0 or a non-number is UnknownParameter', async () => {
    await expectError(`Action=DescribeVpcs&${VERSION}&Filter.99999999.Name=x`, 'InvalidParameterValue');
    await expectError(`Action=DescribeVpcs&${VERSION}&Filter.${'9'.repeat(400)}.Name=x`, 'InvalidParameterValue');
    await expectError(`Action=DescribeVpcs&${VERSION}&Filter.0.Name=x`, 'UnknownParameter');
    await expectError(`Action=DescribeVpcs&${VERSION}&Filter.-1.Name=x`, 'UnknownParameter');
    await expectError(`Action=DescribeVpcs&${VERSION}&Filter.1e3.Name=x`, 'UnknownParameter');
  });

  test('any string parameter over 64 KiB is InvalidParameterValue, and the message does not echo it whole', async () => {
    const text = await expectError(`Action=DescribeVpcs&${VERSION}&Filter.1.Name=${'n'.repeat(64 * 1024 + 1)}`, 'InvalidParameterValue');
    assert.match(text, /exceeds the maximum length of 65536 characters/);
    const echoed = await expectError(`Action=DescribeVpcs&${VERSION}&DryRun=${'y'.repeat(60_000)}`, 'InvalidParameterValue');
    assert.ok(echoed.length < 2_000, `the message echoes ${echoed.length} characters`);
  });

  test('a parameter name over 512 characters is InvalidParameterValue, before any work on it', async () => {
    for (const name of ['a'.repeat(600_000), '.'.repeat(600_000), 'Filter.1.'.repeat(60_000)]) {
      const text = await expectError(`Action=DescribeVpcs&${VERSION}&${name}=1`, 'InvalidParameterValue');
      assert.match(text, /exceeds the maximum length of 512 characters/);
      assert.ok(text.length < 1_000, `the message echoes ${text.length} characters`);
    }
  });

  test("AWS's own string limits: interface and group descriptions 255, tag keys 127 and values 256, ClientToken 64", async () => {
    await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: 'd'.repeat(256) })), 'InvalidParameterValue', 400);
    const eni = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: 'd'.repeat(255) }))).NetworkInterface!;
    assert.equal(eni.Description, 'd'.repeat(255));
    await expectEc2Error(
      ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Description: { Value: 'e'.repeat(256) } })),
      'InvalidParameterValue',
      400,
    );
    await expectEc2Error(ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'long', Description: 'g'.repeat(256) })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new CreateTagsCommand({ Resources: [eni.NetworkInterfaceId!], Tags: [{ Key: 'k'.repeat(128), Value: 'v' }] })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new CreateTagsCommand({ Resources: [eni.NetworkInterfaceId!], Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] })), 'InvalidParameterValue');
    await ec2.send(new CreateTagsCommand({ Resources: [eni.NetworkInterfaceId!], Tags: [{ Key: 'k'.repeat(127), Value: 'v'.repeat(256) }] }));
    await expectEc2Error(ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, ClientToken: 't'.repeat(65) })), 'InvalidParameterValue');
  });

  test('bad percent-encoding and invalid UTF-8, in the body or the query string, are MalformedQueryString', async () => {
    const bad = [
      'Filter.1.Name=%zz',
      'Filter.1.Name=%C3%28', // a lead byte without its continuation
      'Filter.1.Name=%E2%82', // a truncated sequence
      'Filter.1.Name=%ED%A0%80', // a UTF-16 surrogate encoded as UTF-8 (CESU-8)
      'Filter.1.Name=%C0%AF', // an overlong encoding of '/'
      'Filter.1.Name=%',
      'Filter.1.Name=%4',
      'Filter%zz.1.Name=x',
    ];
    for (const pair of bad) {
      await expectError(`Action=DescribeVpcs&${VERSION}&${pair}`, 'MalformedQueryString');
      const res = await fetch(`${server.url}/?Action=DescribeVpcs&${VERSION}&${pair}`);
      const text = await res.text();
      assert.equal(res.status, 400, `${pair} → ${text}`);
      assert.equal(errorCode(text), 'MalformedQueryString', pair);
    }
    // Raw bytes that are not UTF-8 (not percent-encoded at all).
    await expectError(Buffer.concat([Buffer.from(`Action=DescribeVpcs&${VERSION}&Filter.1.Name=`), Buffer.from([0xff, 0xfe])]), 'MalformedQueryString');
    // Raw UTF-8 (not percent-encoded) is still text, as form bodies are read.
    const raw = await post(server.url, Buffer.from(`Action=DescribeVpcs&${VERSION}&Filter.1.Name=tag:é&Filter.1.Value.1=😀`, 'utf8'));
    assert.equal(raw.status, 200, raw.text);
    await healthy();
  });

  test('a parameter given twice, Action or Version given twice, or a name in both spellings: InvalidParameterValue', async () => {
    await expectError(`Action=DescribeVpcs&${VERSION}&VpcId.1=a&VpcId.1=b`, 'InvalidParameterValue');
    await expectError(`Action=DescribeVpcs&Action=DeleteVpc&${VERSION}&VpcId=vpc-1`, 'InvalidParameterValue');
    await expectError(`Action=DescribeVpcs&${VERSION}&${VERSION}`, 'InvalidParameterValue');
    await expectError(`Action=DeleteVpc&${VERSION}&VpcId=vpc-1&vpcId=vpc-2`, 'InvalidParameterValue');
    // Once in the query string and once in the body is twice too.
    const res = await fetch(`${server.url}/?Action=DescribeVpcs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Action=DeleteVpc&${VERSION}`,
    });
    assert.equal(errorCode(await res.text()), 'InvalidParameterValue');
  });

  test('an empty or missing Action is MissingAction', async () => {
    await expectError(`Action=&${VERSION}`, 'MissingAction');
    await expectError(VERSION, 'MissingAction');
    await expectError('', 'MissingAction');
  });

  test('MaxResults out of its model range and huge integers are InvalidParameterValue', async () => {
    for (const value of ['100000', '4', '0', '-1', '2147483648', '99999999999999999999', '1e3', '5.5', '0x10', ' ', '']) {
      await expectError(`Action=DescribeNetworkInterfaces&${VERSION}&MaxResults=${encodeURIComponent(value)}`, 'InvalidParameterValue');
    }
    await expectError(`Action=DescribeInstances&${VERSION}&MaxResults=100000`, 'InvalidParameterValue');
    // Actions whose model gives MaxResults no range: a negative one was an InternalError (found by the fuzz test).
    for (const action of ['DescribeFlowLogs', 'DescribeTags', 'DescribeInstanceStatus']) {
      for (const value of ['-5', '0', '1000001']) await expectError(`Action=${action}&${VERSION}&MaxResults=${value}`, 'InvalidParameterValue');
    }
    await expectError(`Action=CreateNetworkInterface&${VERSION}&SubnetId=${subnetId}&SecondaryPrivateIpAddressCount=99999999999`, 'InvalidParameterValue');
    await healthy();
  });

  test('control characters other than tab, newline and carriage return are refused at input; those three are kept', async () => {
    for (const c of ['\u0000', '\u0001', '\u0008', '\u000B', '\u000C', '\u001F', '\uFFFE', '\uFFFF']) {
      const text = await expectError(
        `Action=CreateNetworkInterface&${VERSION}&SubnetId=${subnetId}&Description=${encodeURIComponent(`a${c}b`)}`,
        'InvalidParameterValue',
      );
      assert.match(text, /contains the character U\+[0-9A-F]{4}, which is not allowed/);
    }
    const kept = 'tab\there\nnew line\r\ncrlf\rcr';
    const eni = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: kept }))).NetworkInterface!;
    assert.equal(eni.Description, kept);
  });

  test('a GET with a 100 KB query string is an EC2 error (431), not a crash, and the server stays up', async () => {
    const res = await fetch(`${server.url}/?Action=DescribeVpcs&${VERSION}&Filter.1.Name=${'q'.repeat(100_000)}`);
    const text = await res.text();
    assert.equal(res.status, 431);
    assert.equal(errorCode(text), 'InvalidParameterValue');
    assert.match(text, ENVELOPE);
    await healthy();
  });

  test('a stalled or slow body is cut off after requestTimeout with RequestTimeout (408), and the server stays up', async () => {
    const head = `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n`;
    // Half a body, then nothing.
    const stalled = await rawHttp(server.port, [head, `Action=DescribeVpcs&${VERSION}&`]);
    const answer = parseRawResponse(stalled.text);
    assert.equal(answer.status, 408, stalled.text);
    assert.equal(errorCode(answer.body), 'RequestTimeout');
    assert.match(answer.body, ENVELOPE);
    assert.ok(stalled.ms >= 900 && stalled.ms < 5_000, `cut off after ${stalled.ms} ms`);
    // A body that trickles in a byte at a time never completes in time either.
    const slow = await rawHttp(server.port, [head, ...'Action=DescribeVpcs&Version=2016-11-15&'.split('')], { gapMs: 100 });
    assert.equal(parseRawResponse(slow.text).status, 408, slow.text);
    // Headers that never end.
    const headless = await rawHttp(server.port, ['POST / HTTP/1.1\r\nHost: x\r\n']);
    assert.equal(parseRawResponse(headless.text).status, 408, headless.text);
    await healthy();
  });

  test('fuzz finding: InvalidVpc.Range from AssociateVpcCidrBlock names the block once, not a message inside a message', async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }))).Vpc!;
    const restricted = await expectEc2Error(ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc.VpcId, CidrBlock: '172.16.0.0/16' })), 'InvalidVpc.Range');
    assert.match(restricted.message, /^The CIDR '172\.16\.0\.0\/16' is restricted\./);
    const overlapping = await expectEc2Error(ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc.VpcId, CidrBlock: '10.20.1.0/24' })), 'InvalidVpc.Range');
    assert.match(overlapping.message, /^The CIDR '10\.20\.1\.0\/24' overlaps a CIDR block of vpc-/);
    assert.doesNotMatch(`${restricted.message} ${overlapping.message}`, /The CIDR '[^']*The CIDR/);
  });

  test('fuzz findings: names such as toString, constructor or __proto__ are nobody\'s own keys', async () => {
    // DescribeAccountAttributes looked the name up on a plain object: `toString` was a TypeError (InternalError).
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      await expectError(`Action=DescribeAccountAttributes&${VERSION}&AttributeName.1=${name}`, 'InvalidParameterValue');
    }
    // A flow log format naming ${constructor} was accepted as a field.
    await expectError(
      `Action=CreateFlowLogs&${VERSION}&ResourceType=VPC&ResourceId.1=${vpcId}&LogGroupName=g&LogFormat=${encodeURIComponent('${constructor} ${srcaddr}')}`,
      'InvalidParameterValue',
    );
    // The probe API took `constructor` and `__proto__` for protocols.
    for (const protocol of ['constructor', '__proto__']) {
      const res = await fetch(`${server.url}/_eni/probe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: 'internet', to: '198.18.0.7', protocol, port: 80 }),
      });
      assert.equal(res.status, 400, await res.text());
    }
    // A region named like us-constructor-1 (the credential scope chooses it) got a function's source in its zone ids.
    const { AvailabilityZones } = await server.client({ region: 'us-constructor-1' }).send(new DescribeAvailabilityZonesCommand({}));
    assert.match(AvailabilityZones![0].ZoneId!, /^usc1-az[0-9]$/);
  });

  test('bytes that are not HTTP get an EC2 error envelope too', async () => {
    const garbage = await rawHttp(server.port, ['\u0000\u0001 not http\r\n\r\n']);
    const answer = parseRawResponse(garbage.text);
    assert.equal(answer.status, 400, garbage.text);
    assert.match(answer.body, ENVELOPE);
    await healthy();
  });
});

describe('hardening: user strings come back exactly as stored', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let subnetId: string;

  before(async () => {
    server = await startTestServer();
    ec2 = server.client();
    subnetId = (await createNetwork(ec2, '10.8.0.0/16', { a: { cidr: '10.8.1.0/24', zone: 'us-east-1a' } })).subnets.a.SubnetId!;
  });
  after(() => server.stop());

  const tricky = [
    'a <b> & "c" \'d\'',
    'ends with ]]> and <![CDATA[ x ]]>',
    '&amp; &lt; &#x41; &#65; &bogus;',
    'tab\tline\ncrlf\r\ncr\r',
    'emoji 😀👩‍👩‍👧 and é ñ 中文 𝕏',
    '\u007f\u0085\u00a0 C1 and nbsp',
    '  leading and trailing spaces  ',
    '</description><injected>true</injected>',
    '=&+%20?#',
  ];

  test('descriptions and tags with markup, entities, quotes, ]]>, tab/CR/LF and emoji round-trip through the SDK', async () => {
    for (const text of tricky) {
      const created = (
        await ec2.send(
          new CreateNetworkInterfaceCommand({
            SubnetId: subnetId,
            Description: text,
            TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: text.slice(0, 127), Value: text }] }],
          }),
        )
      ).NetworkInterface!;
      assert.equal(created.Description, text);
      const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [created.NetworkInterfaceId!] }));
      assert.equal(NetworkInterfaces![0].Description, text);
      assert.deepEqual(NetworkInterfaces![0].TagSet, [{ Key: text.slice(0, 127), Value: text }]);
      // And as a filter value: what was stored is found by the same text.
      const byTag = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'value', Values: [text] }] }));
      assert.ok(byTag.Tags!.some((t) => t.ResourceId === created.NetworkInterfaceId && t.Value === text), JSON.stringify(text));
    }
  });

  test('the raw XML escapes markup and carriage returns', async () => {
    const text = '<x>&"\'\r]]>';
    const eni = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Description: text }))).NetworkInterface!;
    const res = await post(server.url, `Action=DescribeNetworkInterfaces&${VERSION}&NetworkInterfaceId.1=${eni.NetworkInterfaceId}`);
    assert.equal(res.status, 200);
    assert.match(res.text, /<description>&lt;x&gt;&amp;&quot;&apos;&#xD;\]\]&gt;<\/description>/);
  });

  test('lone surrogates cannot be sent: their UTF-8 form is not UTF-8, and is refused', async () => {
    // An SDK cannot even encode one (encodeURIComponent throws); raw, the CESU-8 bytes are not UTF-8.
    const res = await post(server.url, `Action=CreateNetworkInterface&${VERSION}&SubnetId=${subnetId}&Description=%ED%B0%80`);
    assert.equal(errorCode(res.text), 'MalformedQueryString');
  });
});
