import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { errorCode, rawEc2, startTestServer, type TestServer } from '../helpers/server.ts';

describe('the EC2 Query protocol', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ bodyLimit: 64 * 1024 });
  });
  after(() => server.stop());

  const expectError = async (params: Record<string, string> | string, code: string, status = 400, init = {}) => {
    const res = await rawEc2(server.url, params, init);
    assert.equal(errorCode(res.text), code, res.text);
    assert.equal(res.status, status);
    assert.match(res.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>[^<]+<\/Code><Message>[^<]*<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/);
  };

  test('errors: missing action, unknown action, missing or unknown version', async () => {
    await expectError('Version=2016-11-15', 'MissingAction');
    await expectError({ Action: 'LaunchRockets' }, 'InvalidAction');
    await expectError('Action=DescribeVpcs', 'MissingParameter');
    await expectError({ Action: 'DescribeVpcs', Version: '2014-01-01' }, 'NoSuchVersion');
  });

  test('errors: unknown parameter, missing required member, value of the wrong type', async () => {
    await expectError({ Action: 'DescribeVpcs', Colour: 'blue' }, 'UnknownParameter');
    await expectError({ Action: 'DeleteVpc' }, 'MissingParameter');
    await expectError({ Action: 'DescribeVpcs', MaxResults: 'lots' }, 'InvalidParameterValue');
    await expectError({ Action: 'DescribeVpcs', 'Filter.99999999.Name': 'x' }, 'InvalidParameterValue');
  });

  test('a body over the limit is an EC2 error, not a crash', async () => {
    await expectError({ Action: 'DescribeVpcs', 'Filter.1.Name': 'x'.repeat(70 * 1024) }, 'InvalidParameterValue');
  });

  test('GET with the parameters in the query string works as POST does', async () => {
    const res = await fetch(`${server.url}/?Action=DescribeVpcs&Version=2016-11-15`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /<DescribeVpcsResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/"><requestId>[0-9a-f-]{36}<\/requestId><vpcSet><item>/);
  });

  test('odd bodies (bad percent-encoding, binary, JSON) never give a 5xx', async () => {
    for (const body of ['Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=%zz', '\u0000\u00ff\ufffd', '{"Action":"DescribeVpcs"}', '&&&===', 'Action']) {
      const res = await rawEc2(server.url, body);
      assert.ok(res.status < 500, `${JSON.stringify(body)} → ${res.status} ${res.text}`);
    }
  });

  test('the SDK receives the request id of a success', async () => {
    const out = await server.client().send(new DescribeVpcsCommand({}));
    assert.match(out.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
  });

  test('GET /_eni/health reports status, version, store and uptime', async () => {
    const res = await fetch(`${server.url}/_eni/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; version: string; store: { kind: string }; uptimeSeconds: number };
    assert.equal(body.status, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof body.uptimeSeconds, 'number');
    assert.ok(['memory', 'sqlite', 'postgres'].includes(body.store.kind));
  });
});
