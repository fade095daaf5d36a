/**
 * STS GetCallerIdentity on the EC2 endpoint's URL (what Terraform and Ansible ask for the account
 * id), through the AWS CLI, boto3 and raw signed requests; every other STS or IAM action refused
 * in that service's own error envelope.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from '../helpers/suite.ts';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { rawEc2, startTestServer, type TestServer } from '../helpers/server.ts';

const run = promisify(execFile);
const python = ['python3', 'python'].find((p) => spawnSync(p, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0);
const awsCli = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;

/** The CLI's environment: Alice's key, and no profile or config of the machine's. */
function cliEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDALICE', AWS_SECRET_ACCESS_KEY: 'x', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  return env;
}

const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret', accountId: '111111111111' };

class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

/** POSTs a Query body signed by the SDK's own signer for `service`. */
async function signedQuery(url: string, body: string, { service = 'sts', secretAccessKey = ALICE.secretAccessKey, region = 'us-east-1' } = {}) {
  const { host, hostname, port } = new URL(url);
  const signer = new SignatureV4({ credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey }, region, service, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname,
    port: Number(port),
    path: '/',
    query: {},
    headers: { host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const { host: _host, ...headers } = signed.headers;
  const response = await fetch(`${url}/`, { method: 'POST', headers, body });
  return { status: response.status, text: await response.text() };
}

const ERROR_ENVELOPE = (namespace: string, code: string) =>
  new RegExp(
    `^<\\?xml version="1.0" encoding="UTF-8"\\?>\\n<ErrorResponse xmlns="${namespace.replaceAll('.', '\\.')}"><Error><Type>Sender</Type><Code>${code.replaceAll('.', '\\.')}</Code><Message>[^<]*</Message></Error><RequestId>[0-9a-f-]{36}</RequestId></ErrorResponse>$`,
  );
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

describe('STS on the EC2 endpoint', () => {
  describe('open mode', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ accounts: { AKIDALICE: ALICE.accountId } });
    });
    after(() => server.stop());

    test('a signed GetCallerIdentity answers the key\'s account and an ARN naming the key, in STS\'s XML', async () => {
      const res = await signedQuery(server.url, 'Action=GetCallerIdentity&Version=2011-06-15');
      assert.equal(res.status, 200);
      assert.match(
        res.text,
        /^<\?xml version="1.0" encoding="UTF-8"\?>\n<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><GetCallerIdentityResult><Arn>arn:aws:iam::111111111111:user\/AKIDALICE<\/Arn><UserId>AKIDALICE<\/UserId><Account>111111111111<\/Account><\/GetCallerIdentityResult><ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/GetCallerIdentityResponse>$/,
      );
    });

    test('an unsigned GetCallerIdentity (told apart by its Version) is the default account\'s root; the partition follows the region', async () => {
      const res = await rawEc2(server.url, 'Action=GetCallerIdentity&Version=2011-06-15');
      assert.equal(res.status, 200);
      assert.match(res.text, /<Arn>arn:aws:iam::000000000000:root<\/Arn><UserId>000000000000<\/UserId><Account>000000000000<\/Account>/);
      const china = await signedQuery(server.url, 'Action=GetCallerIdentity&Version=2011-06-15', { region: 'cn-north-1' });
      assert.match(china.text, /<Arn>arn:aws-cn:iam::111111111111:user\/AKIDALICE<\/Arn>/);
    });

    test('every other STS action is InvalidAction in STS\'s envelope; every IAM action in IAM\'s', async () => {
      for (const body of ['Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::111111111111:role/r&RoleSessionName=s', 'Action=GetSessionToken&Version=2011-06-15', 'Action=GetCallerIdentity&Version=2010-01-01']) {
        const res = await signedQuery(server.url, body);
        assert.equal(res.status, 400, body);
        assert.match(res.text, ERROR_ENVELOPE(STS_NS, 'InvalidAction'), body);
      }
      const missing = await signedQuery(server.url, 'Version=2011-06-15');
      assert.match(missing.text, ERROR_ENVELOPE(STS_NS, 'MissingAction'));
      for (const action of ['GetUser', 'ListRoles', 'CreateUser']) {
        const res = await signedQuery(server.url, `Action=${action}&Version=2010-05-08`, { service: 'iam' });
        assert.equal(res.status, 400);
        assert.match(res.text, ERROR_ENVELOPE(IAM_NS, 'InvalidAction'));
        assert.match(res.text, new RegExp(`Could not find operation ${action} for version 2010-05-08`));
      }
      const unsignedIam = await rawEc2(server.url, 'Action=GetUser&Version=2010-05-08');
      assert.match(unsignedIam.text, ERROR_ENVELOPE(IAM_NS, 'InvalidAction'));
    });

    test('the AWS CLI\'s `aws sts get-caller-identity --endpoint-url` reads the account', { skip: awsCli ? false : 'the AWS CLI is not installed on this machine' }, async () => {
      const { stdout } = await run('aws', ['sts', 'get-caller-identity', '--endpoint-url', server.url, '--region', 'us-east-1', '--output', 'json'], {
        encoding: 'utf8',
        timeout: 60_000,
        env: cliEnvironment(),
      });
      assert.deepEqual(JSON.parse(stdout), { UserId: 'AKIDALICE', Account: '111111111111', Arn: 'arn:aws:iam::111111111111:user/AKIDALICE' });
    });

    test('boto3\'s STS client reads the identity and an STS error code', { skip: python ? false : 'boto3 is not installed for python3 on this machine' }, async () => {
      const script = `
import json, sys, boto3, botocore
sts = boto3.client('sts', endpoint_url=sys.argv[1], region_name='eu-west-1', aws_access_key_id='AKIDALICE', aws_secret_access_key='x')
me = sts.get_caller_identity()
try:
    sts.get_session_token()
    code = None
except botocore.exceptions.ClientError as e:
    code = e.response['Error']['Code']
print(json.dumps({'account': me['Account'], 'arn': me['Arn'], 'user': me['UserId'], 'error': code}))
`;
      const { stdout } = await run(python!, ['-c', script, server.url], { encoding: 'utf8', timeout: 60_000 });
      assert.deepEqual(JSON.parse(stdout), { account: '111111111111', arn: 'arn:aws:iam::111111111111:user/AKIDALICE', user: 'AKIDALICE', error: 'InvalidAction' });
    });
  });

  describe('sigv4 mode', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ auth: 'sigv4', credentials: [ALICE] });
    });
    after(() => server.stop());

    test('a request signed for sts with a listed key is verified and answered', async () => {
      const res = await signedQuery(server.url, 'Action=GetCallerIdentity&Version=2011-06-15');
      assert.equal(res.status, 200, res.text);
      assert.match(res.text, /<Account>111111111111<\/Account>/);
    });

    test('a wrong secret is SignatureDoesNotMatch (403) in STS\'s envelope; unsigned is refused', async () => {
      const res = await signedQuery(server.url, 'Action=GetCallerIdentity&Version=2011-06-15', { secretAccessKey: 'wrong' });
      assert.equal(res.status, 403);
      assert.match(res.text, ERROR_ENVELOPE(STS_NS, 'SignatureDoesNotMatch'));
      const unsigned = await rawEc2(server.url, 'Action=GetCallerIdentity&Version=2011-06-15');
      assert.equal(unsigned.status, 400);
      assert.match(unsigned.text, /<Code>MissingParameter<\/Code>/);
    });
  });
});
