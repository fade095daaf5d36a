/**
 * boto3 (the AWS SDK for Python), signing and parsing as it does against AWS, when the machine
 * has it: create, tag, describe with a filter and a paginator, delete, and an EC2 error code.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from '../helpers/suite.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const python = ['python3', 'python'].find((p) => spawnSync(p, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0);

const SCRIPT = `
import json, sys, boto3, botocore
ec2 = boto3.client('ec2', endpoint_url=sys.argv[1], region_name='eu-west-2',
                   aws_access_key_id='AKIDPY', aws_secret_access_key='secret')
vpc = ec2.create_vpc(CidrBlock='10.7.0.0/16', TagSpecifications=[{'ResourceType': 'vpc', 'Tags': [{'Key': 'Name', 'Value': 'py'}]}])['Vpc']
subnet = ec2.create_subnet(VpcId=vpc['VpcId'], CidrBlock='10.7.1.0/24', AvailabilityZone='eu-west-2a')['Subnet']
eni = ec2.create_network_interface(SubnetId=subnet['SubnetId'], Description='from boto3')['NetworkInterface']
found = ec2.describe_network_interfaces(Filters=[{'Name': 'description', 'Values': ['from boto3']}])['NetworkInterfaces']
pages = list(ec2.get_paginator('describe_vpcs').paginate(PaginationConfig={'PageSize': 5}))
try:
    ec2.delete_vpc(VpcId=vpc['VpcId'])
    code = None
except botocore.exceptions.ClientError as e:
    code = e.response['Error']['Code']
print(json.dumps({'vpc': vpc['VpcId'], 'tags': vpc.get('Tags'), 'eni': eni['NetworkInterfaceId'], 'mac': eni['MacAddress'],
                  'found': [n['NetworkInterfaceId'] for n in found], 'vpcs': sum(len(p['Vpcs']) for p in pages), 'deleteError': code}))
`;

describe('boto3', { skip: python ? false : 'boto3 is not installed for python3 on this machine' }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  test('boto3 creates, tags, filters, paginates and reads EC2 error codes', async () => {
    // Asynchronously: the server runs in this process and must keep answering.
    const { stdout } = await promisify(execFile)(python!, ['-c', SCRIPT, server.url], { encoding: 'utf8', timeout: 60_000 });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    assert.match(String(out.vpc), /^vpc-[0-9a-f]{17}$/);
    assert.deepEqual(out.tags, [{ Key: 'Name', Value: 'py' }]);
    assert.match(String(out.mac), /^02(:[0-9a-f]{2}){5}$/);
    assert.deepEqual(out.found, [out.eni]);
    assert.equal(out.vpcs, 2, 'the new VPC and the default one');
    assert.equal(out.deleteError, 'DependencyViolation');
  });
});
