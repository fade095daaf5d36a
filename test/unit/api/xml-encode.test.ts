import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DescribeNetworkInterfacesCommand, DeleteVpcCommand, type NetworkInterface } from '@aws-sdk/client-ec2';
import { ec2Model } from '../../../src/api/ec2/model.ts';
import { encodeError, encodeResponse, escapeXml } from '../../../src/api/ec2/xml-encode.ts';
import { capturingClient } from './sdk-roundtrip.ts';

const model = ec2Model();

const eni: NetworkInterface = {
  NetworkInterfaceId: 'eni-0123456789abcdef0',
  SubnetId: 'subnet-0123456789abcdef0',
  VpcId: 'vpc-0123456789abcdef0',
  AvailabilityZone: 'us-east-1a',
  Description: 'a <b> & "c" \'d\' ]]> e',
  OwnerId: '000000000000',
  RequesterManaged: false,
  Status: 'in-use',
  MacAddress: '02:00:00:aa:bb:cc',
  PrivateIpAddress: '10.0.1.10',
  PrivateDnsName: 'ip-10-0-1-10.ec2.internal',
  SourceDestCheck: true,
  InterfaceType: 'interface',
  Groups: [{ GroupId: 'sg-1', GroupName: 'default' }],
  Attachment: {
    AttachmentId: 'eni-attach-0123456789abcdef0',
    AttachTime: new Date('2026-01-02T03:04:05.678Z'),
    DeleteOnTermination: false,
    DeviceIndex: 1,
    NetworkCardIndex: 0,
    InstanceId: 'i-0123456789abcdef0',
    InstanceOwnerId: '000000000000',
    Status: 'attached',
  },
  PrivateIpAddresses: [
    { Primary: true, PrivateIpAddress: '10.0.1.10', PrivateDnsName: 'ip-10-0-1-10.ec2.internal' },
    { Primary: false, PrivateIpAddress: '10.0.1.11', PrivateDnsName: 'ip-10-0-1-11.ec2.internal' },
  ],
  Ipv6Addresses: [],
  TagSet: [{ Key: 'Name', Value: '<script>alert(1)</script>' }],
};

test('DescribeNetworkInterfaces output encoded by us parses back to the same object in the SDK', async () => {
  const xml = encodeResponse(model.operations.get('DescribeNetworkInterfaces')!, { NetworkInterfaces: [eni], NextToken: 'next' }, 'req-1');
  const { client } = capturingClient(() => ({ status: 200, xml }));
  const out = await client.send(new DescribeNetworkInterfacesCommand({}));
  assert.equal(out.NextToken, 'next');
  assert.deepEqual(out.NetworkInterfaces, [eni]);
});

test('lists are <item> children, empty lists are empty elements, booleans lower-case', () => {
  const xml = encodeResponse(model.operations.get('DescribeNetworkInterfaces')!, { NetworkInterfaces: [eni] }, 'r');
  assert.match(xml, /<groupSet><item><groupId>sg-1<\/groupId><groupName>default<\/groupName><\/item><\/groupSet>/);
  assert.match(xml, /<ipv6AddressesSet\/>/);
  assert.match(xml, /<sourceDestCheck>true<\/sourceDestCheck>/);
  assert.match(xml, /<attachTime>2026-01-02T03:04:05.678Z<\/attachTime>/);
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<DescribeNetworkInterfacesResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/"><requestId>r<\/requestId>/);
  assert.doesNotMatch(xml, /<script>/);
});

test('an action without output members answers <return>true</return>', async () => {
  const xml = encodeResponse(model.operations.get('DeleteVpc')!, {}, 'r');
  assert.match(xml, /<return>true<\/return>/);
  const { client } = capturingClient(() => ({ status: 200, xml }));
  await client.send(new DeleteVpcCommand({ VpcId: 'vpc-1' }));
});

test('the error envelope is the one EC2 sends, and the SDK reads its code', async () => {
  const xml = encodeError({ code: 'InvalidVpcID.NotFound', message: "The vpc ID 'vpc-1' <x> does not exist" }, 'req-9');
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>The vpc ID &apos;vpc-1&apos; &lt;x&gt; does not exist</Message></Error></Errors><RequestID>req-9</RequestID></Response>',
  );
  const { client } = capturingClient(() => ({ status: 400, xml }));
  await assert.rejects(client.send(new DeleteVpcCommand({ VpcId: 'vpc-1' })), (e: Error) => e.name === 'InvalidVpcID.NotFound');
});

test('characters XML cannot carry are dropped; the rest is escaped', () => {
  assert.equal(escapeXml('a\u0000b\u0007c<&>'), 'abc&lt;&amp;&gt;');
  assert.equal(escapeXml('\ud800x'), 'x');
  assert.equal(escapeXml('😀'), '😀');
});
