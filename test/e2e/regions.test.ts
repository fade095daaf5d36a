import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DescribeAccountAttributesCommand, DescribeAvailabilityZonesCommand, DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';

describe('regions and availability zones', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  test('DescribeRegions lists the regions that need no opt-in, with endpoints', async () => {
    const { Regions } = await server.client().send(new DescribeRegionsCommand({}));
    const east = Regions!.find((r) => r.RegionName === 'us-east-1')!;
    assert.equal(east.Endpoint, 'ec2.us-east-1.amazonaws.com');
    assert.equal(east.OptInStatus, 'opt-in-not-required');
    assert.ok(!Regions!.some((r) => r.RegionName === 'af-south-1'));
    const all = await server.client().send(new DescribeRegionsCommand({ AllRegions: true }));
    assert.ok(all.Regions!.some((r) => r.RegionName === 'af-south-1'));
    const filtered = await server.client().send(new DescribeRegionsCommand({ Filters: [{ Name: 'region-name', Values: ['eu-*'] }] }));
    assert.ok(filtered.Regions!.every((r) => r.RegionName!.startsWith('eu-')));
  });

  test('six zones per region, named after the region of the credential scope, with zone ids', async () => {
    const { AvailabilityZones } = await server.client({ region: 'us-east-1' }).send(new DescribeAvailabilityZonesCommand({}));
    assert.deepEqual(AvailabilityZones!.map((z) => z.ZoneName), ['a', 'b', 'c', 'd', 'e', 'f'].map((l) => `us-east-1${l}`));
    assert.deepEqual(AvailabilityZones!.map((z) => z.ZoneId), [1, 2, 3, 4, 5, 6].map((n) => `use1-az${n}`));
    assert.ok(AvailabilityZones!.every((z) => z.State === 'available' && z.RegionName === 'us-east-1'));
    const west = await server.client({ region: 'ap-southeast-2' }).send(new DescribeAvailabilityZonesCommand({ ZoneNames: ['ap-southeast-2b'] }));
    assert.deepEqual(west.AvailabilityZones!.map((z) => [z.ZoneName, z.ZoneId]), [['ap-southeast-2b', 'apse2-az2']]);
    const byFilter = await server.client().send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'zone-id', Values: ['use1-az3'] }] }));
    assert.deepEqual(byFilter.AvailabilityZones!.map((z) => z.ZoneName), ['us-east-1c']);
    await expectEc2Error(server.client().send(new DescribeAvailabilityZonesCommand({ ZoneNames: ['us-east-1z'] })), 'InvalidParameterValue');
  });

  test('DescribeAccountAttributes answers what Terraform reads', async () => {
    const { AccountAttributes } = await server.client().send(new DescribeAccountAttributesCommand({ AttributeNames: ['supported-platforms'] }));
    assert.deepEqual(AccountAttributes, [{ AttributeName: 'supported-platforms', AttributeValues: [{ AttributeValue: 'VPC' }] }]);
  });
});
