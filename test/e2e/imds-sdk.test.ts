/**
 * The AWS SDKs' own metadata clients read the host URL unchanged, pointed at it only by
 * AWS_EC2_METADATA_SERVICE_ENDPOINT (or their endpoint option): the SDK for JavaScript v3's
 * MetadataService (@aws-sdk/ec2-metadata-service) and botocore's IMDS fetcher (boto3, the AWS
 * CLI), IMDSv1 and IMDSv2, region and identity document.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ModifyInstanceMetadataOptionsCommand } from '@aws-sdk/client-ec2';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { launch } from '../helpers/topology.ts';
import { imdsBase } from '../helpers/imds.ts';

type MetadataServiceModule = typeof import('@aws-sdk/ec2-metadata-service');
const metadataService: MetadataServiceModule | undefined = await import('@aws-sdk/ec2-metadata-service').catch(() => undefined);
const python = ['python3', 'python'].find((p) => spawnSync(p, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0);

describe('the AWS SDKs\' metadata clients against the host URL', () => {
  let server: TestServer;
  let instanceId: string;
  let base: string;
  before(async () => {
    server = await startTestServer();
    // eu-west-2, so that the region the clients find can only have come from the metadata.
    const ec2 = server.client({ region: 'eu-west-2' });
    const instance = await launch(ec2, { Placement: { AvailabilityZone: 'eu-west-2b' }, MetadataOptions: { HttpTokens: 'optional' } });
    instanceId = instance.InstanceId!;
    base = imdsBase(server.url, instanceId);
  });
  after(() => server.stop());

  describe('@aws-sdk/ec2-metadata-service', { skip: metadataService ? false : '@aws-sdk/ec2-metadata-service is not installed (npm install)' }, () => {
    const client = (options: ConstructorParameters<MetadataServiceModule['MetadataService']>[0] = {}) =>
      new metadataService!.MetadataService({ retries: 0, httpOptions: { timeout: 5000 }, ...options });

    test('IMDSv2 (its default): the instance id, the region and the identity document, through AWS_EC2_METADATA_SERVICE_ENDPOINT', async () => {
      const saved = process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
      process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = base;
      try {
        const metadata = client();
        assert.equal(await metadata.request('/latest/meta-data/instance-id', {}), instanceId);
        assert.equal(await metadata.request('/latest/meta-data/placement/region', {}), 'eu-west-2');
        const document = JSON.parse(await metadata.request('/latest/dynamic/instance-identity/document', {}));
        assert.equal(document.instanceId, instanceId);
        assert.equal(document.region, 'eu-west-2');
        assert.equal(document.availabilityZone, 'eu-west-2b');
        assert.match(await metadata.fetchMetadataToken(), /^[A-Za-z0-9+/]+=*$/);
      } finally {
        if (saved === undefined) delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
        else process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = saved;
      }
    });

    test('IMDSv1 (disableFetchToken): answered while HttpTokens is optional, refused (401) once it is required, when IMDSv2 still works', async () => {
      const v1 = client({ endpoint: base, disableFetchToken: true });
      assert.equal(await v1.request('/latest/meta-data/placement/availability-zone', {}), 'eu-west-2b');
      await server.client({ region: 'eu-west-2' }).send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: instanceId, HttpTokens: 'required' }));
      try {
        await assert.rejects(v1.request('/latest/meta-data/instance-id', {}), (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
          assert.equal(error.$metadata?.httpStatusCode, 401);
          return true;
        });
        assert.equal(await client({ endpoint: base }).request('/latest/meta-data/instance-id', {}), instanceId);
      } finally {
        await server.client({ region: 'eu-west-2' }).send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: instanceId, HttpTokens: 'optional' }));
      }
    });
  });

  const SCRIPT = `
import json, os, sys
import boto3
import botocore.session
from botocore.utils import IMDSFetcher, IMDSRegionProvider
base = sys.argv[1]
# botocore's own region lookup in the instance metadata (what defaults_mode=auto uses), configured
# from AWS_EC2_METADATA_SERVICE_ENDPOINT alone.
region = IMDSRegionProvider(botocore.session.get_session()).provide()
fetcher = IMDSFetcher(config={'ec2_metadata_service_endpoint': base})
token = fetcher._fetch_metadata_token()
document = fetcher._get_request('latest/dynamic/instance-identity/document', None, token).text
v1 = fetcher._get_request('latest/meta-data/instance-id', None, None)
macs = fetcher._get_request('latest/meta-data/network/interfaces/macs/', None, token).text
print(json.dumps({'region': region, 'token': token, 'document': json.loads(document),
                  'v1': [v1.status_code, v1.text], 'macs': macs}))
`;

  test('botocore: the region (IMDSRegionProvider) and the identity document over IMDSv2, and an IMDSv1 read', { skip: python ? false : 'boto3 is not installed for python3 on this machine' }, async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_SERVICE_ENDPOINT: base, AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' };
    delete env.AWS_REGION;
    delete env.AWS_DEFAULT_REGION;
    delete env.AWS_EC2_METADATA_DISABLED;
    const { stdout } = await promisify(execFile)(python!, ['-c', SCRIPT, base], { encoding: 'utf8', timeout: 60_000, env });
    const out = JSON.parse(stdout) as { region: string; token: string | null; document: Record<string, unknown>; v1: [number, string]; macs: string };
    assert.equal(out.region, 'eu-west-2');
    assert.ok(out.token, 'botocore got an IMDSv2 token from the instance\'s own path');
    assert.equal(out.document.instanceId, instanceId);
    assert.equal(out.document.region, 'eu-west-2');
    assert.deepEqual(out.v1, [200, instanceId]);
    assert.match(out.macs, /^02(:[0-9a-f]{2}){5}\/$/);
  });
});
