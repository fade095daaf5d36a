import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { ec2Model } from '../../../src/api/ec2/model.ts';
import { decodeInput } from '../../../src/api/ec2/query-decode.ts';
import { Ec2Error } from '../../../src/cloud/errors.ts';
import { capturingClient } from './sdk-roundtrip.ts';

const model = ec2Model();
const op = (name: string) => model.operations.get(name)!;
const params = (body: string) => [...new URLSearchParams(body).entries()];

function decodeError(name: string, body: string): Ec2Error {
  try {
    decodeInput(op(name), params(body));
  } catch (error) {
    assert.ok(error instanceof Ec2Error, String(error));
    return error;
  }
  assert.fail('expected an Ec2Error');
}

const ok = { status: 200, xml: '<R><requestId>x</requestId></R>' };

test('what the SDK serialises for CreateNetworkInterface decodes back to the same input', async () => {
  const { client, captured } = capturingClient(() => ok);
  const input = {
    SubnetId: 'subnet-0123456789abcdef0',
    Description: 'front & back <eni>',
    Groups: ['sg-1', 'sg-2'],
    PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: '10.0.1.10' }, { Primary: false, PrivateIpAddress: '10.0.1.11' }],
    Ipv6AddressCount: 2,
    TagSpecifications: [{ ResourceType: 'network-interface' as const, Tags: [{ Key: 'Name', Value: 'a=b&c' }, { Key: 'empty', Value: '' }] }],
    ClientToken: 'token-1',
    DryRun: false,
  };
  await client.send(new CreateNetworkInterfaceCommand(input));
  assert.match(captured[0].body, /SecurityGroupId\.1=sg-1/);
  assert.deepEqual(decodeInput(op('CreateNetworkInterface'), params(captured[0].body)), input);
});

test('nested lists of structures in RunInstances (NetworkInterface.N.PrivateIpAddresses.M) decode', async () => {
  const { client, captured } = capturingClient(() => ok);
  const input = {
    ImageId: 'ami-12345678',
    ClientToken: 'launch-1',
    MinCount: 1,
    MaxCount: 1,
    NetworkInterfaces: [
      { DeviceIndex: 0, SubnetId: 'subnet-1', Groups: ['sg-1'], PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.5', Primary: true }], DeleteOnTermination: true },
      { DeviceIndex: 1, NetworkInterfaceId: 'eni-1' },
    ],
  };
  await client.send(new RunInstancesCommand(input)).catch(() => undefined);
  assert.deepEqual(decodeInput(op('RunInstances'), params(captured[0].body)), input);
});

test('filters with several values, ids and paging decode for DescribeNetworkInterfaces', async () => {
  const { client, captured } = capturingClient(() => ok);
  const input = {
    Filters: [{ Name: 'tag:Name', Values: ['a*', 'b?'] }, { Name: 'subnet-id', Values: ['subnet-1'] }],
    NetworkInterfaceIds: ['eni-1', 'eni-2'],
    MaxResults: 5,
    NextToken: 'abc',
  };
  await client.send(new DescribeNetworkInterfacesCommand(input)).catch(() => undefined);
  assert.deepEqual(decodeInput(op('DescribeNetworkInterfaces'), params(captured[0].body)), input);
});

test('list items are ordered by their index, not by their order on the wire', () => {
  const input = decodeInput(op('DescribeVpcs'), params('VpcId.2=vpc-b&VpcId.10=vpc-c&VpcId.1=vpc-a'));
  assert.deepEqual(input.VpcIds, ['vpc-a', 'vpc-b', 'vpc-c']);
});

test('a missing required member is MissingParameter', () => {
  assert.equal(decodeError('CreateNetworkInterface', 'Description=x').code, 'MissingParameter');
  assert.match(decodeError('CreateTags', 'Tag.1.Key=a').message, /ResourceId/);
});

test('an unknown parameter is UnknownParameter', () => {
  assert.equal(decodeError('DescribeVpcs', 'Bogus=1').code, 'UnknownParameter');
  assert.equal(decodeError('DescribeVpcs', 'Filter.1.Bogus=1').code, 'UnknownParameter');
  assert.equal(decodeError('DescribeVpcs', 'VpcId.x=1').code, 'UnknownParameter');
});

test('values of the wrong type or out of range are InvalidParameterValue', () => {
  assert.equal(decodeError('DescribeVpcs', 'MaxResults=ten').code, 'InvalidParameterValue');
  assert.equal(decodeError('DescribeVpcs', 'MaxResults=4').code, 'InvalidParameterValue');
  assert.equal(decodeError('DescribeVpcs', 'MaxResults=1001').code, 'InvalidParameterValue');
  assert.equal(decodeError('DescribeVpcs', 'DryRun=yes').code, 'InvalidParameterValue');
  assert.equal(decodeError('DescribeVpcs', 'MaxResults=99999999999999999999').code, 'InvalidParameterValue');
});

test('a list index beyond the limit and a duplicate parameter are refused', () => {
  assert.equal(decodeError('DescribeVpcs', 'Filter.99999999.Name=x').code, 'InvalidParameterValue');
  assert.equal(decodeError('DescribeVpcs', 'VpcId.1=a&VpcId.1=b').code, 'InvalidParameterValue');
});

test('lower-camel parameter names and an empty list are accepted', () => {
  assert.deepEqual(decodeInput(op('DeleteVpc'), params('vpcId=vpc-1')), { VpcId: 'vpc-1' });
  assert.deepEqual(decodeInput(op('DescribeVpcs'), params('VpcId=')), { VpcIds: [] });
});

test('booleans, integers and timestamps take their types', () => {
  const input = decodeInput(op('ModifyNetworkInterfaceAttribute'), params('NetworkInterfaceId=eni-1&SourceDestCheck.Value=false&Attachment.DeleteOnTermination=TRUE&Attachment.AttachmentId=eni-attach-1'));
  assert.deepEqual(input, { NetworkInterfaceId: 'eni-1', SourceDestCheck: { Value: false }, Attachment: { DeleteOnTermination: true, AttachmentId: 'eni-attach-1' } });
});
