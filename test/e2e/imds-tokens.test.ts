/**
 * IMDSv2 and the instance metadata options: the token endpoint's rules, HttpTokens,
 * HttpEndpoint, the options through RunInstances / ModifyInstanceMetadataOptions /
 * DescribeInstances with AWS's defaults and errors, and IMDS's 400/401/403/404/405 pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  DescribeImagesCommand,
  ModifyInstanceMetadataOptionsCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { describeInstance, launch } from '../helpers/topology.ts';
import { assertImdsError, imds, imdsBase, imdsToken, imdsValue } from '../helpers/imds.ts';

const TTL = 'X-aws-ec2-metadata-token-ttl-seconds';
const TOKEN = 'X-aws-ec2-metadata-token';

describe('IMDSv2 tokens and the instance metadata options', () => {
  let server: TestServer;
  let ec2: EC2Client;
  before(async () => {
    server = await startTestServer();
    ec2 = server.client();
  });
  after(() => server.stop());

  const options = async (id: string) => (await describeInstance(ec2, id)).MetadataOptions;

  describe('the options through the API', () => {
    test('a plain RunInstances of an image without ImdsSupport gets AWS\'s defaults: IMDSv1 allowed, hop limit 1, applied', async () => {
      const instance = await launch(ec2);
      const expected = { State: 'applied', HttpTokens: 'optional', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled', HttpProtocolIpv6: 'disabled', InstanceMetadataTags: 'disabled' };
      assert.deepEqual(instance.MetadataOptions, expected, 'in the RunInstances answer');
      assert.deepEqual(await options(instance.InstanceId!), expected);
    });

    test('an image with ImdsSupport v2.0 (Amazon Linux 2023) makes IMDSv2 required with hop limit 2', async () => {
      const { Images } = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['al2023-ami-2023*-x86_64'] }] }));
      const image = Images!.find((i) => i.ImdsSupport === 'v2.0')!;
      const instance = await launch(ec2, { ImageId: image.ImageId });
      assert.deepEqual(await options(instance.InstanceId!), {
        State: 'applied', HttpTokens: 'required', HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled', HttpProtocolIpv6: 'disabled', InstanceMetadataTags: 'disabled',
      });
    });

    test('MetadataOptions on RunInstances are stored as given', async () => {
      const instance = await launch(ec2, {
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 5, HttpEndpoint: 'enabled', HttpProtocolIpv6: 'enabled', InstanceMetadataTags: 'enabled' },
      });
      assert.deepEqual(await options(instance.InstanceId!), {
        State: 'applied', HttpTokens: 'required', HttpPutResponseHopLimit: 5, HttpEndpoint: 'enabled', HttpProtocolIpv6: 'enabled', InstanceMetadataTags: 'enabled',
      });
    });

    test('a hop limit outside 1–64 and an unknown HttpTokens value are InvalidParameterValue, and launch nothing', async () => {
      for (const limit of [0, 65]) {
        await expectEc2Error(launch(ec2, { MetadataOptions: { HttpPutResponseHopLimit: limit } }), 'InvalidParameterValue', 400);
      }
      await expectEc2Error(launch(ec2, { MetadataOptions: { HttpTokens: 'sometimes' as 'optional' } }), 'InvalidParameterValue', 400);
    });

    test('ModifyInstanceMetadataOptions answers pending with the new options, changes only what it names, and DescribeInstances says applied', async () => {
      const id = (await launch(ec2)).InstanceId!;
      const answer = await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'required', HttpPutResponseHopLimit: 3 }));
      assert.equal(answer.InstanceId, id);
      assert.deepEqual(answer.InstanceMetadataOptions, {
        State: 'pending', HttpTokens: 'required', HttpPutResponseHopLimit: 3, HttpEndpoint: 'enabled', HttpProtocolIpv6: 'disabled', InstanceMetadataTags: 'disabled',
      });
      assert.deepEqual(await options(id), { ...answer.InstanceMetadataOptions, State: 'applied' });
      await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, InstanceMetadataTags: 'enabled' }));
      assert.deepEqual(await options(id), {
        State: 'applied', HttpTokens: 'required', HttpPutResponseHopLimit: 3, HttpEndpoint: 'enabled', HttpProtocolIpv6: 'disabled', InstanceMetadataTags: 'enabled',
      });
    });

    test('on a stopped instance the change stays pending until it starts', async () => {
      const id = (await launch(ec2)).InstanceId!;
      await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
      await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpEndpoint: 'disabled' }));
      assert.equal((await options(id))?.State, 'pending');
      assert.equal((await options(id))?.HttpEndpoint, 'disabled');
      await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
      assert.equal((await options(id))?.State, 'applied');
    });

    test('ModifyInstanceMetadataOptions errors: unknown or malformed instance, hop limit out of range, terminated instance', async () => {
      await expectEc2Error(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: 'i-0123456789abcdef0', HttpTokens: 'required' })), 'InvalidInstanceID.NotFound', 400);
      await expectEc2Error(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: 'x-1', HttpTokens: 'required' })), 'InvalidInstanceID.Malformed', 400);
      const id = (await launch(ec2)).InstanceId!;
      for (const limit of [0, 65, -1]) {
        await expectEc2Error(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpPutResponseHopLimit: limit })), 'InvalidParameterValue', 400);
      }
      assert.equal((await options(id))?.HttpPutResponseHopLimit, 1, 'unchanged');
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      await expectEc2Error(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'required' })), 'IncorrectInstanceState', 400);
    });

    test('DryRun answers DryRunOperation and changes nothing', async () => {
      const id = (await launch(ec2)).InstanceId!;
      await expectEc2Error(ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'required', DryRun: true })), 'DryRunOperation', 412);
      assert.equal((await options(id))?.HttpTokens, 'optional');
    });
  });

  describe('the token endpoint', () => {
    let base: string;
    before(async () => {
      base = imdsBase(server.url, (await launch(ec2)).InstanceId!);
    });

    test('PUT /latest/api/token answers a token and its TTL; GETs with it are answered', async () => {
      const answer = await imds(base, '/latest/api/token', { method: 'PUT', headers: { [TTL]: '21600' } });
      assert.equal(answer.status, 200);
      assert.equal(answer.contentType, 'text/plain');
      assert.equal(answer.headers.get(TTL), '21600');
      assert.match(answer.body, /^[A-Za-z0-9+/]{54}==$/);
      assert.match(await imdsValue(base, '/latest/meta-data/instance-id', { [TOKEN]: answer.body }), /^i-/);
    });

    test('a missing, empty, zero, too long or non-numeric TTL is 400', async () => {
      assertImdsError(await imds(base, '/latest/api/token', { method: 'PUT' }), 400, 'Bad Request');
      for (const ttl of ['', '0', '21601', 'abc', '-5', '1.5']) {
        assertImdsError(await imds(base, '/latest/api/token', { method: 'PUT', headers: { [TTL]: ttl } }), 400, 'Bad Request');
      }
      assert.equal((await imds(base, '/latest/api/token', { method: 'PUT', headers: { [TTL]: '1' } })).status, 200);
    });

    test('a token PUT carrying X-Forwarded-For (relayed by a proxy) is 403', async () => {
      assertImdsError(await imds(base, '/latest/api/token', { method: 'PUT', headers: { [TTL]: '60', 'X-Forwarded-For': '203.0.113.9' } }), 403, 'Forbidden');
    });

    test('a GET with an invalid token is 401 even when tokens are optional; a token of another instance is refused', async () => {
      assertImdsError(await imds(base, '/latest/meta-data/', { headers: { [TOKEN]: 'not-a-token' } }), 401, 'Unauthorized');
      const other = imdsBase(server.url, (await launch(ec2)).InstanceId!);
      const otherToken = await imdsToken(other);
      assertImdsError(await imds(base, '/latest/meta-data/', { headers: { [TOKEN]: otherToken } }), 401, 'Unauthorized');
      assert.equal((await imds(other, '/latest/meta-data/', { headers: { [TOKEN]: otherToken } })).status, 200);
      // A tampered token (one character changed) is refused as well.
      const token = await imdsToken(base);
      const tampered = token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21);
      assertImdsError(await imds(base, '/latest/meta-data/', { headers: { [TOKEN]: tampered } }), 401, 'Unauthorized');
    });

    test('a token is refused once its TTL has passed', async () => {
      const token = await imdsToken(base, 1);
      assert.equal((await imds(base, '/latest/meta-data/', { headers: { [TOKEN]: token } })).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      assertImdsError(await imds(base, '/latest/meta-data/', { headers: { [TOKEN]: token } }), 401, 'Unauthorized');
    });

    test('methods other than GET, HEAD and the token PUT are 405', async () => {
      for (const method of ['POST', 'DELETE', 'PATCH']) {
        assertImdsError(await imds(base, '/latest/meta-data/', { method }), 405, 'Method Not Allowed');
      }
      assertImdsError(await imds(base, '/latest/meta-data/', { method: 'PUT', headers: { [TTL]: '60' } }), 405, 'Method Not Allowed');
      assertImdsError(await imds(base, '/latest/api/token'), 405, 'Method Not Allowed');
      const head = await imds(base, '/latest/meta-data/instance-id', { method: 'HEAD' });
      assert.equal(head.status, 200);
    });
  });

  describe('HttpTokens and HttpEndpoint', () => {
    test('HttpTokens=required: 401 without a token, answered with one; switching back to optional answers IMDSv1 again', async () => {
      const id = (await launch(ec2, { MetadataOptions: { HttpTokens: 'required' } })).InstanceId!;
      const base = imdsBase(server.url, id);
      assertImdsError(await imds(base, '/latest/meta-data/instance-id'), 401, 'Unauthorized');
      const token = await imdsToken(base);
      assert.equal(await imdsValue(base, '/latest/meta-data/instance-id', { [TOKEN]: token }), id);
      await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'optional' }));
      assert.equal(await imdsValue(base, '/latest/meta-data/instance-id'), id);
    });

    test('HttpEndpoint=disabled: every request is 403, the token PUT too; enabling it answers again', async () => {
      const id = (await launch(ec2)).InstanceId!;
      const base = imdsBase(server.url, id);
      const token = await imdsToken(base);
      await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpEndpoint: 'disabled' }));
      assertImdsError(await imds(base, '/latest/meta-data/instance-id'), 403, 'Forbidden');
      assertImdsError(await imds(base, '/latest/meta-data/instance-id', { headers: { [TOKEN]: token } }), 403, 'Forbidden');
      assertImdsError(await imds(base, '/latest/api/token', { method: 'PUT', headers: { [TTL]: '60' } }), 403, 'Forbidden');
      await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpEndpoint: 'enabled' }));
      assert.equal(await imdsValue(base, '/latest/meta-data/instance-id', { [TOKEN]: token }), id, 'tokens issued before still hold');
    });
  });

  describe('the root token endpoint of the host URL (for the SDK for JavaScript, whose token PUT drops the path)', () => {
    test('PUT /latest/api/token at the root answers a token every instance\'s host URL accepts', async () => {
      const a = imdsBase(server.url, (await launch(ec2, { MetadataOptions: { HttpTokens: 'required' } })).InstanceId!);
      const b = imdsBase(server.url, (await launch(ec2, { MetadataOptions: { HttpTokens: 'required' } })).InstanceId!);
      const token = await imdsToken(server.url);
      assert.equal((await imds(a, '/latest/meta-data/', { headers: { [TOKEN]: token } })).status, 200);
      assert.equal((await imds(b, '/latest/meta-data/', { headers: { [TOKEN]: token } })).status, 200);
      assertImdsError(await imds(server.url, '/latest/api/token', { method: 'PUT' }), 400, 'Bad Request');
      assertImdsError(await imds(server.url, '/latest/api/token', { method: 'PUT', headers: { [TTL]: '60', 'X-Forwarded-For': '10.0.0.1' } }), 403, 'Forbidden');
      assertImdsError(await imds(server.url, '/latest/meta-data/instance-id'), 404, 'Not Found');
    });
  });
});

describe('the host URL in --auth sigv4 mode', () => {
  let server: TestServer;
  const key = { accessKeyId: 'AKIDIMDS', secretAccessKey: 'imds-secret', accountId: '111122223333' };
  before(async () => {
    server = await startTestServer({ auth: 'sigv4', credentials: [key] });
  });
  after(() => server.stop());

  test('needs no signature from a loopback client (the SDKs\' metadata clients sign nothing) and serves the instance of the key\'s account', async () => {
    const ec2 = server.client({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
    const id = (await launch(ec2)).InstanceId!;
    const base = imdsBase(server.url, id);
    const token = await imdsToken(base);
    assert.equal(JSON.parse(await imdsValue(base, '/latest/dynamic/instance-identity/document', { [TOKEN]: token })).accountId, '111122223333');
    assert.equal(await imdsValue(base, '/latest/meta-data/network/interfaces/macs/'), `${(await describeInstance(ec2, id)).NetworkInterfaces![0].MacAddress}/`);
  });
});
