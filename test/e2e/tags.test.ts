import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateTagsCommand, CreateVpcCommand, DeleteTagsCommand, DescribeTagsCommand, DescribeVpcsCommand, paginateDescribeTags, type EC2Client } from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';

describe('tags', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  before(async () => {
    server = await startTestServer();
    ec2 = server.client();
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  });
  after(() => server.stop());

  const tagsOf = async (id: string) => (await ec2.send(new DescribeVpcsCommand({ VpcIds: [id] }))).Vpcs![0].Tags;

  test('CreateTags adds and overwrites; the tags show on the resource and in DescribeTags', async () => {
    await ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'Name', Value: 'one' }, { Key: 'env', Value: 'ci' }] }));
    await ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'Name', Value: 'two' }] }));
    assert.deepEqual(await tagsOf(vpcId), [{ Key: 'Name', Value: 'two' }, { Key: 'env', Value: 'ci' }]);
    const described = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [vpcId] }] }));
    assert.deepEqual(described.Tags, [
      { ResourceId: vpcId, ResourceType: 'vpc', Key: 'Name', Value: 'two' },
      { ResourceId: vpcId, ResourceType: 'vpc', Key: 'env', Value: 'ci' },
    ]);
    const byKey = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['env'] }, { Name: 'resource-type', Values: ['vpc'] }] }));
    assert.deepEqual(byKey.Tags!.map((t) => t.Value), ['ci']);
  });

  test('DeleteTags removes a key whatever its value, or only when the value matches', async () => {
    await ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await ec2.send(new DeleteTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'a' }, { Key: 'b', Value: 'not-2' }] }));
    const keys = (await tagsOf(vpcId))!.map((t) => t.Key);
    assert.ok(!keys.includes('a'));
    assert.ok(keys.includes('b'));
  });

  test('tags on unknown, malformed or unsupported ids are refused', async () => {
    await expectEc2Error(ec2.send(new CreateTagsCommand({ Resources: ['vpc-0123456789abcdef0'], Tags: [{ Key: 'k', Value: 'v' }] })), 'InvalidVpcID.NotFound');
    await expectEc2Error(ec2.send(new CreateTagsCommand({ Resources: ['nothing-1'], Tags: [{ Key: 'k', Value: 'v' }] })), 'InvalidID');
  });

  test('tag keys and values follow AWS limits; aws: is reserved; 50 tags at most', async () => {
    await expectEc2Error(ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'aws:x', Value: 'v' }] })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'k'.repeat(128), Value: 'v' }] })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] })), 'InvalidParameterValue');
    const fresh = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }))).Vpc!.VpcId!;
    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await expectEc2Error(ec2.send(new CreateTagsCommand({ Resources: [fresh], Tags: many })), 'TagLimitExceeded');
    assert.deepEqual(await tagsOf(fresh), [], 'a refused CreateTags leaves no tag behind');
  });

  test('strings with XML specials come back intact', async () => {
    const value = `<img src=x onerror="alert(1)"> & ]]> 'q' 😀`;
    await ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'html', Value: value }] }));
    assert.equal((await tagsOf(vpcId))!.find((t) => t.Key === 'html')!.Value, value);
  });

  test('DescribeTags pages through every tag', async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.2.0.0/16' }))).Vpc!.VpcId!;
    await ec2.send(new CreateTagsCommand({ Resources: [vpc], Tags: Array.from({ length: 12 }, (_, i) => ({ Key: `p${i}`, Value: String(i) })) }));
    const keys: string[] = [];
    for await (const page of paginateDescribeTags({ client: ec2, pageSize: 5 }, { Filters: [{ Name: 'resource-id', Values: [vpc] }] })) {
      keys.push(...page.Tags!.map((t) => t.Key!));
    }
    assert.equal(keys.length, 12);
    assert.equal(new Set(keys).size, 12);
  });
});
