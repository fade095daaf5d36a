import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateVpcCommand,
  DeleteVpcCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  ModifyVpcAttributeCommand,
  paginateDescribeVpcs,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';

describe('VPCs', () => {
  let server: TestServer;
  let ec2: EC2Client;
  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 50 }, accounts: { AKIDOTHER: '111111111111' } });
    ec2 = server.client({ region: 'eu-west-1' });
  });
  after(() => server.stop());

  test('CreateVpc canonicalises the block and returns the VPC in the caller account', async () => {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.7.9/16' }));
    assert.match(Vpc!.VpcId!, /^vpc-[0-9a-f]{17}$/);
    assert.equal(Vpc!.CidrBlock, '10.1.0.0/16');
    assert.equal(Vpc!.State, 'available');
    assert.equal(Vpc!.OwnerId, '000000000000');
    assert.equal(Vpc!.IsDefault, false);
    assert.equal(Vpc!.CidrBlockAssociationSet![0].CidrBlock, '10.1.0.0/16');
    assert.deepEqual(Vpc!.Tags, []);
  });

  test('a block outside /16 to /28 is InvalidVpc.Range; a malformed one InvalidParameterValue', async () => {
    await expectEc2Error(ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/8' })), 'InvalidVpc.Range', 400);
    await expectEc2Error(ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/29' })), 'InvalidVpc.Range');
    await expectEc2Error(ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0/16' })), 'InvalidParameterValue');
    await expectEc2Error(ec2.send(new CreateVpcCommand({ CidrBlock: '300.0.0.0/16' })), 'InvalidParameterValue');
  });

  test('DescribeVpcs by id, by filters (vpc-id, cidr, state, tags) and with wildcards', async () => {
    const a = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'team', Value: 'blue' }] }] }))).Vpc!;
    const b = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.21.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'team', Value: 'red' }, { Key: 'env', Value: 'ci' }] }] }))).Vpc!;
    const byId = await ec2.send(new DescribeVpcsCommand({ VpcIds: [a.VpcId!] }));
    assert.deepEqual(byId.Vpcs!.map((v) => v.VpcId), [a.VpcId]);
    assert.deepEqual(byId.Vpcs![0].Tags, [{ Key: 'team', Value: 'blue' }]);

    const ids = async (Filters: { Name: string; Values: string[] }[]) =>
      ((await ec2.send(new DescribeVpcsCommand({ Filters }))).Vpcs ?? []).map((v) => v.VpcId).sort();
    assert.deepEqual(await ids([{ Name: 'vpc-id', Values: [b.VpcId!] }]), [b.VpcId]);
    assert.deepEqual(await ids([{ Name: 'cidr', Values: ['10.20.0.0/16'] }]), [a.VpcId]);
    assert.deepEqual(await ids([{ Name: 'tag:team', Values: ['blue', 'red'] }]), [a.VpcId, b.VpcId].sort());
    assert.deepEqual(await ids([{ Name: 'tag:team', Values: ['r*'] }]), [b.VpcId]);
    assert.deepEqual(await ids([{ Name: 'tag:team', Values: ['BLUE'] }]), [], 'filter values are case-sensitive');
    assert.deepEqual(await ids([{ Name: 'tag-key', Values: ['env'] }]), [b.VpcId]);
    assert.deepEqual(await ids([{ Name: 'cidr', Values: ['10.2?.0.0/16'] }, { Name: 'tag:env', Values: ['ci'] }]), [b.VpcId]);
    assert.deepEqual(await ids([{ Name: 'cidr-block-association.cidr-block', Values: ['10.21.0.0/16'] }]), [b.VpcId]);
    assert.ok((await ids([{ Name: 'state', Values: ['available'] }])).includes(a.VpcId!));
    const defaults = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs!;
    assert.deepEqual(defaults.map((v) => v.CidrBlock), ['172.31.0.0/16']);
  });

  test('an unknown filter name is refused with InvalidParameterValue', async () => {
    await expectEc2Error(ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })), 'InvalidParameterValue');
  });

  test('an unknown id is InvalidVpcID.NotFound, a malformed one InvalidVpcID.Malformed', async () => {
    await expectEc2Error(ec2.send(new DescribeVpcsCommand({ VpcIds: ['vpc-0123456789abcdef0'] })), 'InvalidVpcID.NotFound');
    await expectEc2Error(ec2.send(new DescribeVpcsCommand({ VpcIds: ['vpc-xyz'] })), 'InvalidVpcID.Malformed');
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: 'subnet-0123456789abcdef0' })), 'InvalidVpcID.Malformed');
  });

  test('DescribeVpcs pages with MaxResults and NextToken through every VPC exactly once', async () => {
    const other = server.client({ region: 'ap-south-1' });
    const created = new Set<string>();
    for (let i = 0; i < 12; i++) created.add((await other.send(new CreateVpcCommand({ CidrBlock: `10.${i}.0.0/16` }))).Vpc!.VpcId!);
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateDescribeVpcs({ client: other, pageSize: 5 }, {})) {
      pages++;
      assert.ok(page.Vpcs!.length <= 5);
      seen.push(...page.Vpcs!.map((v) => v.VpcId!));
    }
    assert.equal(pages, 3);
    const defaultVpc = (await other.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0].VpcId!;
    assert.deepEqual(new Set(seen), new Set([...created, defaultVpc]));
    assert.equal(seen.length, created.size + 1);
    await expectEc2Error(other.send(new DescribeVpcsCommand({ MaxResults: 5, NextToken: 'garbage' })), 'InvalidNextToken');
    await expectEc2Error(other.send(new DescribeVpcsCommand({ MaxResults: 4 })), 'InvalidParameterValue');
  });

  test('resources are scoped by region and by account', async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16' }))).Vpc!;
    await expectEc2Error(server.client({ region: 'us-west-2' }).send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] })), 'InvalidVpcID.NotFound');
    const otherAccount = server.client({ region: 'eu-west-1', accessKeyId: 'AKIDOTHER' });
    await expectEc2Error(otherAccount.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] })), 'InvalidVpcID.NotFound');
    await expectEc2Error(otherAccount.send(new DeleteVpcCommand({ VpcId: vpc.VpcId })), 'InvalidVpcID.NotFound');
    const theirs = (await otherAccount.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16' }))).Vpc!;
    assert.equal(theirs.OwnerId, '111111111111');
    assert.ok(!(await ec2.send(new DescribeVpcsCommand({}))).Vpcs!.some((v) => v.VpcId === theirs.VpcId));
  });

  test('DeleteVpc removes the VPC; deleting it again is InvalidVpcID.NotFound', async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!;
    await ec2.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }));
    await expectEc2Error(ec2.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] })), 'InvalidVpcID.NotFound');
    await expectEc2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpc.VpcId })), 'InvalidVpcID.NotFound');
  });

  test('DryRun answers DryRunOperation (412) once valid, changes nothing, and still validates', async () => {
    const before = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs!.length;
    await expectEc2Error(ec2.send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/16', DryRun: true })), 'DryRunOperation', 412);
    assert.equal((await ec2.send(new DescribeVpcsCommand({}))).Vpcs!.length, before);
    await expectEc2Error(ec2.send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/8', DryRun: true })), 'InvalidVpc.Range');
  });

  test('the VPC quota (5, the default VPC included) is enforced with VpcLimitExceeded', async () => {
    const small = await startTestServer();
    try {
      const c = small.client();
      for (let i = 0; i < 4; i++) await c.send(new CreateVpcCommand({ CidrBlock: `10.${i}.0.0/16` }));
      await expectEc2Error(c.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' })), 'VpcLimitExceeded');
    } finally {
      await small.stop();
    }
  });

  test('DNS attributes: described, modified one at a time', async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.70.0.0/16' }))).Vpc!;
    const support = await ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsSupport' }));
    assert.equal(support.EnableDnsSupport?.Value, true);
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpc.VpcId, EnableDnsHostnames: { Value: true } }));
    const hostnames = await ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsHostnames' }));
    assert.equal(hostnames.EnableDnsHostnames?.Value, true);
    await expectEc2Error(
      ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpc.VpcId, EnableDnsHostnames: { Value: true }, EnableDnsSupport: { Value: true } })),
      'InvalidParameterCombination',
    );
  });
});
