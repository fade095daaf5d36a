/**
 * The instance metadata service through the server's host URL (`/_eni/imds/<instance-id>`):
 * the whole tree of an instance with three interfaces (secondary addresses, a delegated prefix,
 * IPv6, Elastic IPs), live as interfaces move, and IMDS's errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ModifyVpcAttributeCommand,
  AllocateAddressCommand,
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  AssociateSubnetCidrBlockCommand,
  AssociateVpcCidrBlockCommand,
  AttachInternetGatewayCommand,
  AttachNetworkInterfaceCommand,
  CreateInternetGatewayCommand,
  CreateTagsCommand,
  DescribeInstancesCommand,
  DetachNetworkInterfaceCommand,
  ModifyNetworkInterfaceAttributeCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { IMAGE_ID, createEni, createGroup, createNetwork, describeEni, describeInstance, launch, type Network } from '../helpers/topology.ts';
import { ipv4ToInt, publicDnsName, subnet64 } from '../helpers/addressing.ts';
import { assertImdsError, crawl, imds, imdsBase, imdsValue } from '../helpers/imds.ts';

const privateName = (ip: string) => `ip-${ip.replaceAll('.', '-')}.ec2.internal`;

describe('instance metadata (IMDS) on the host URL', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let net: Network;
  let vpcIpv4: string;
  let vpcIpv6: string;
  let subnetIpv6: string;
  let web: string;
  let db: string;
  let instanceA: string;
  let instanceB: string;
  let eth0: NetworkInterface;
  let eni1: NetworkInterface;
  let eni2: NetworkInterface;
  let eipOfEth0: string;
  let eipOfEni1: string;

  before(async () => {
    server = await startTestServer();
    ec2 = server.client();
    net = await createNetwork(ec2, '10.40.0.0/16', { a: { cidr: '10.40.1.0/24', zone: 'us-east-1a' }, b: { cidr: '10.40.2.0/24', zone: 'us-east-1a' } });
    vpcIpv4 = '10.40.0.0/16';
    // AWS: public hostnames exist only in a VPC with DNS hostnames on.
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: net.vpcId, EnableDnsHostnames: { Value: true } }));
    vpcIpv6 = (await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: net.vpcId, AmazonProvidedIpv6CidrBlock: true }))).Ipv6CidrBlockAssociation!.Ipv6CidrBlock!;
    subnetIpv6 = subnet64(vpcIpv6, 1);
    await ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: net.subnets.a.SubnetId!, Ipv6CidrBlock: subnetIpv6 }));
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: net.vpcId }));
    web = await createGroup(ec2, net.vpcId, 'web');
    db = await createGroup(ec2, net.vpcId, 'db');

    const a = await launch(ec2, { SubnetId: net.subnets.a.SubnetId!, InstanceType: 'm5.large', SecurityGroupIds: [web] });
    instanceA = a.InstanceId!;
    instanceB = (await launch(ec2, { SubnetId: net.subnets.a.SubnetId!, InstanceType: 'm5.large' })).InstanceId!;
    const e1 = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId!, SecondaryPrivateIpAddressCount: 2, Ipv6AddressCount: 1, Groups: [web, db] });
    // AWS: a prefix comes by its own request once the interface has secondary addresses.
    await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: e1.NetworkInterfaceId!, Ipv4PrefixCount: 1 }));
    const e2 = await createEni(ec2, { SubnetId: net.subnets.b.SubnetId!, Groups: [db] });
    await ec2.send(new AttachNetworkInterfaceCommand({ InstanceId: instanceA, NetworkInterfaceId: e1.NetworkInterfaceId!, DeviceIndex: 1 }));
    await ec2.send(new AttachNetworkInterfaceCommand({ InstanceId: instanceA, NetworkInterfaceId: e2.NetworkInterfaceId!, DeviceIndex: 2 }));
    const eth0Id = a.NetworkInterfaces!.find((n) => n.Attachment?.DeviceIndex === 0)!.NetworkInterfaceId!;
    const eip0 = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new AssociateAddressCommand({ AllocationId: eip0.AllocationId!, NetworkInterfaceId: eth0Id }));
    eipOfEth0 = eip0.PublicIp!;
    const secondary = e1.PrivateIpAddresses!.find((p) => !p.Primary)!.PrivateIpAddress!;
    const eip1 = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new AssociateAddressCommand({ AllocationId: eip1.AllocationId!, NetworkInterfaceId: e1.NetworkInterfaceId!, PrivateIpAddress: secondary }));
    eipOfEni1 = eip1.PublicIp!;
    eth0 = await describeEni(ec2, eth0Id);
    eni1 = await describeEni(ec2, e1.NetworkInterfaceId!);
    eni2 = await describeEni(ec2, e2.NetworkInterfaceId!);
  });
  after(() => server.stop());

  /** What AWS's IMDS lists for one attached interface, computed from DescribeNetworkInterfaces. */
  function expectedInterface(eni: NetworkInterface, deviceNumber: number, ipv6Subnet: string | undefined): Record<string, string> {
    const primary = eni.PrivateIpAddress!;
    const secondaries = eni.PrivateIpAddresses!.filter((p) => !p.Primary).map((p) => p.PrivateIpAddress!).sort((x, y) => ipv4ToInt(x) - ipv4ToInt(y));
    const associated = eni.PrivateIpAddresses!.filter((p) => p.Association?.PublicIp);
    const publics = [...associated].sort((x, y) => Number(y.Primary) - Number(x.Primary)).map((p) => p.Association!.PublicIp!);
    const groups = eni.Groups!;
    const out: Record<string, string> = {
      'device-number': String(deviceNumber),
      'interface-id': eni.NetworkInterfaceId!,
      'local-hostname': privateName(primary),
      'local-ipv4s': [primary, ...secondaries].join('\n'),
      mac: eni.MacAddress!,
      'network-card-index': '0',
      'owner-id': '000000000000',
      'security-group-ids': groups.map((g) => g.GroupId).join('\n'),
      'security-groups': groups.map((g) => g.GroupName).join('\n'),
      'subnet-id': eni.SubnetId!,
      'subnet-ipv4-cidr-block': eni.SubnetId === net.subnets.a.SubnetId ? '10.40.1.0/24' : '10.40.2.0/24',
      'vpc-id': net.vpcId,
      'vpc-ipv4-cidr-block': vpcIpv4,
      'vpc-ipv4-cidr-blocks': vpcIpv4,
      'vpc-ipv6-cidr-blocks': vpcIpv6,
    };
    if (ipv6Subnet) out['subnet-ipv6-cidr-blocks'] = ipv6Subnet;
    if (publics.length) {
      out['public-ipv4s'] = publics.join('\n');
      out['public-hostname'] = publicDnsName(publics[0]);
      for (const p of associated) out[`ipv4-associations/${p.Association!.PublicIp}`] = p.PrivateIpAddress!;
    }
    if (eni.Ipv6Addresses?.length) out.ipv6s = eni.Ipv6Addresses.map((a) => a.Ipv6Address).join('\n');
    if (eni.Ipv4Prefixes?.length) out['ipv4-prefix'] = eni.Ipv4Prefixes.map((p) => p.Ipv4Prefix).join('\n');
    return out;
  }

  const underMac = (mac: string, entries: Record<string, string>) =>
    Object.fromEntries(Object.entries(entries).map(([k, v]) => [`network/interfaces/macs/${mac}/${k}`, v]));

  test('every path of meta-data/ for an instance with three interfaces, secondary addresses, a prefix, IPv6 and Elastic IPs', async () => {
    const base = imdsBase(server.url, instanceA);
    const tree: Record<string, string> = await crawl(base, '/latest/meta-data/');
    const reservationId = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceA] }))).Reservations![0].ReservationId!;
    const zoneId = net.subnets.a.AvailabilityZoneId!;
    assert.ok(eni1.Ipv6Addresses?.length && eni1.Ipv4Prefixes?.length, 'the fixture has IPv6 and a prefix on eth1');
    assert.equal(tree[`network/interfaces/macs/${eni1.MacAddress}/ipv4-associations/${eipOfEni1}`], eni1.PrivateIpAddresses!.find((p) => !p.Primary && p.Association)!.PrivateIpAddress);
    assert.deepEqual(tree, {
      'ami-id': IMAGE_ID,
      'ami-launch-index': '0',
      hostname: privateName(eth0.PrivateIpAddress!),
      'instance-id': instanceA,
      'instance-life-cycle': 'on-demand',
      'instance-type': 'm5.large',
      'local-hostname': privateName(eth0.PrivateIpAddress!),
      'local-ipv4': eth0.PrivateIpAddress!,
      mac: eth0.MacAddress!,
      ...underMac(eth0.MacAddress!, expectedInterface(eth0, 0, subnetIpv6)),
      ...underMac(eni1.MacAddress!, expectedInterface(eni1, 1, subnetIpv6)),
      ...underMac(eni2.MacAddress!, expectedInterface(eni2, 2, undefined)),
      'placement/availability-zone': 'us-east-1a',
      'placement/availability-zone-id': zoneId,
      'placement/region': 'us-east-1',
      'public-hostname': publicDnsName(eipOfEth0),
      'public-ipv4': eipOfEth0,
      'reservation-id': reservationId,
      'security-groups': 'web',
    });
  });

  test('listings: directories end in /, one entry a line, in name order, no final newline', async () => {
    const base = imdsBase(server.url, instanceA);
    assert.equal(await imdsValue(base, '/latest/'), 'dynamic\nmeta-data');
    assert.equal(await imdsValue(base, '/latest/meta-data/network/'), 'interfaces/');
    assert.equal(await imdsValue(base, '/latest/meta-data/network/interfaces/'), 'macs/');
    assert.equal(await imdsValue(base, '/latest/meta-data/network/interfaces/macs/'), [eth0, eni1, eni2].map((e) => `${e.MacAddress}/`).join('\n'));
    assert.equal(await imdsValue(base, '/latest/meta-data/placement/'), 'availability-zone\navailability-zone-id\nregion');
    assert.equal(
      await imdsValue(base, `/latest/meta-data/network/interfaces/macs/${eni1.MacAddress}/`),
      [
        'device-number', 'interface-id', 'ipv4-associations/', 'ipv4-prefix', 'ipv6s', 'local-hostname', 'local-ipv4s', 'mac', 'network-card-index',
        'owner-id', 'public-hostname', 'public-ipv4s', 'security-group-ids', 'security-groups', 'subnet-id', 'subnet-ipv4-cidr-block',
        'subnet-ipv6-cidr-blocks', 'vpc-id', 'vpc-ipv4-cidr-block', 'vpc-ipv4-cidr-blocks', 'vpc-ipv6-cidr-blocks',
      ].join('\n'),
    );
    // A directory without its slash lists as well; runs of slashes are one (the SDK for JavaScript asks for //latest/…).
    assert.equal(await imdsValue(base, '/latest/meta-data/placement'), 'availability-zone\navailability-zone-id\nregion');
    assert.equal(await imdsValue(base, '//latest//meta-data/instance-id'), instanceA);
    const root = (await imdsValue(base, '/')).split('\n');
    assert.equal(root.at(-1), 'latest');
    assert.ok(root.includes('2016-09-02') && root.includes('1.0'));
    assert.equal(await imdsValue(base, '/2021-03-23/meta-data/instance-id'), instanceA, 'dated versions serve the tree too');
  });

  test('dynamic/instance-identity/document is AWS\'s JSON, field for field and in AWS\'s layout', async () => {
    const base = imdsBase(server.url, instanceA);
    const answer = await imds(base, '/latest/dynamic/instance-identity/document');
    assert.equal(answer.status, 200);
    assert.equal(answer.contentType, 'text/plain');
    const instance = await describeInstance(ec2, instanceA);
    const document = JSON.parse(answer.body);
    assert.deepEqual(Object.keys(document), [
      'accountId', 'architecture', 'availabilityZone', 'billingProducts', 'devpayProductCodes', 'marketplaceProductCodes', 'imageId',
      'instanceId', 'instanceType', 'kernelId', 'pendingTime', 'privateIp', 'ramdiskId', 'region', 'version',
    ]);
    assert.deepEqual(document, {
      accountId: '000000000000',
      architecture: 'x86_64',
      availabilityZone: 'us-east-1a',
      billingProducts: null,
      devpayProductCodes: null,
      marketplaceProductCodes: null,
      imageId: IMAGE_ID,
      instanceId: instanceA,
      instanceType: 'm5.large',
      kernelId: null,
      pendingTime: instance.LaunchTime!.toISOString().replace(/\.\d+Z$/, 'Z'),
      privateIp: eth0.PrivateIpAddress,
      ramdiskId: null,
      region: 'us-east-1',
      version: '2017-09-30',
    });
    assert.match(answer.body, /^\{\n {2}"accountId" : "000000000000",\n/);
    assert.equal(await imdsValue(base, '/latest/dynamic/'), 'instance-identity/');
  });

  test('user-data: the bytes given to RunInstances, 404 when none was given', async () => {
    const script = '#!/bin/bash\necho "hello from user data"\n';
    const withData = await launch(ec2, { SubnetId: net.subnets.b.SubnetId!, UserData: Buffer.from(script).toString('base64') });
    const base = imdsBase(server.url, withData.InstanceId!);
    const answer = await imds(base, '/latest/user-data');
    assert.equal(answer.status, 200);
    assert.equal(answer.body, script);
    assert.equal(await imdsValue(base, '/latest/'), 'dynamic\nmeta-data\nuser-data');
    assertImdsError(await imds(imdsBase(server.url, instanceA), '/latest/user-data'), 404, 'Not Found');
  });

  test('unknown paths, unknown versions and unknown or terminated instances are IMDS\'s 404 page', async () => {
    const base = imdsBase(server.url, instanceA);
    for (const path of ['/latest/meta-data/nope', '/latest/meta-data/network/interfaces/macs/02:00:00:00:00:00/', '/1999-01-01/meta-data/', '/latest/meta-data/instance-id/extra', '/latest/meta-data/tags/instance/']) {
      assertImdsError(await imds(base, path), 404, 'Not Found');
    }
    assertImdsError(await imds(imdsBase(server.url, 'i-0123456789abcdef0'), '/latest/meta-data/'), 404, 'Not Found');
    assertImdsError(await imds(`${server.url}/_eni/imds/not-an-id`, '/latest/meta-data/'), 404, 'Not Found');
    const gone = (await launch(ec2, { SubnetId: net.subnets.b.SubnetId! })).InstanceId!;
    assert.equal(await imdsValue(imdsBase(server.url, gone), '/latest/meta-data/instance-id'), gone);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone] }));
    assertImdsError(await imds(imdsBase(server.url, gone), '/latest/meta-data/instance-id'), 404, 'Not Found');
  });

  test('live: an assigned address and a group change show at once; moving eth2 to another instance moves its MAC to that instance\'s tree', async () => {
    const baseA = imdsBase(server.url, instanceA);
    const baseB = imdsBase(server.url, instanceB);
    const assigned = await ec2.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni2.NetworkInterfaceId!, SecondaryPrivateIpAddressCount: 1 }));
    const added = assigned.AssignedPrivateIpAddresses![0].PrivateIpAddress!;
    assert.equal(await imdsValue(baseA, `/latest/meta-data/network/interfaces/macs/${eni2.MacAddress}/local-ipv4s`), `${eni2.PrivateIpAddress}\n${added}`);
    await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni2.NetworkInterfaceId!, Groups: [web, db] }));
    assert.equal(await imdsValue(baseA, `/latest/meta-data/network/interfaces/macs/${eni2.MacAddress}/security-groups`), 'web\ndb');

    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: (await describeEni(ec2, eni2.NetworkInterfaceId!)).Attachment!.AttachmentId! }));
    assert.equal(await imdsValue(baseA, '/latest/meta-data/network/interfaces/macs/'), `${eth0.MacAddress}/\n${eni1.MacAddress}/`);
    assertImdsError(await imds(baseA, `/latest/meta-data/network/interfaces/macs/${eni2.MacAddress}/device-number`), 404, 'Not Found');
    await ec2.send(new AttachNetworkInterfaceCommand({ InstanceId: instanceB, NetworkInterfaceId: eni2.NetworkInterfaceId!, DeviceIndex: 1 }));

    const moved = await describeEni(ec2, eni2.NetworkInterfaceId!);
    const treeB = await crawl(baseB, `/latest/meta-data/network/interfaces/macs/${eni2.MacAddress}/`);
    assert.deepEqual(treeB, expectedInterface(moved, 1, undefined));
    const treeA = await crawl(baseA, '/latest/meta-data/network/interfaces/macs/');
    assert.deepEqual(Object.keys(treeA).filter((k) => k.startsWith(eni2.MacAddress!)), []);
    assert.deepEqual(
      Object.fromEntries(Object.entries(treeA).filter(([k]) => k.startsWith(eni1.MacAddress!)).map(([k, v]) => [k.slice(eni1.MacAddress!.length + 1), v])),
      expectedInterface(eni1, 1, subnetIpv6),
      'the interface that stayed reads as before',
    );
    assert.equal(await imdsValue(baseB, '/latest/meta-data/network/interfaces/macs/').then((l) => l.split('\n').length), 2);
  });

  test('tags/instance/ lists the instance\'s tags only when InstanceMetadataTags is enabled', async () => {
    const tagged = await launch(ec2, {
      SubnetId: net.subnets.b.SubnetId!,
      MetadataOptions: { InstanceMetadataTags: 'enabled' },
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web-1' }, { Key: 'team', Value: 'net' }] }],
    });
    const base = imdsBase(server.url, tagged.InstanceId!);
    assert.deepEqual(await crawl(base, '/latest/meta-data/tags/'), { 'instance/Name': 'web-1', 'instance/team': 'net' });
    await ec2.send(new CreateTagsCommand({ Resources: [tagged.InstanceId!], Tags: [{ Key: 'env', Value: 'test' }] }));
    assert.equal(await imdsValue(base, '/latest/meta-data/tags/instance'), 'Name\nenv\nteam');
    assert.ok((await imdsValue(base, '/latest/meta-data/')).split('\n').includes('tags/'));
    assert.ok(!(await imdsValue(imdsBase(server.url, instanceA), '/latest/meta-data/')).split('\n').includes('tags/'));
  });
});

describe('--timing imdsPropagationMs', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ timings: { imdsPropagationMs: 1500 } });
  });
  after(() => server.stop());

  test('a newly attached interface is listed at once, its device-number reading 0 until the lag has passed (as AWS reports it before propagation)', async () => {
    const ec2 = server.client();
    const instance = await launch(ec2, { InstanceType: 'm5.large' });
    const eni = await createEni(ec2, { SubnetId: instance.SubnetId! });
    await ec2.send(new AttachNetworkInterfaceCommand({ InstanceId: instance.InstanceId!, NetworkInterfaceId: eni.NetworkInterfaceId!, DeviceIndex: 1 }));
    const base = imdsBase(server.url, instance.InstanceId!);
    assert.ok((await imdsValue(base, '/latest/meta-data/network/interfaces/macs/')).split('\n').includes(`${eni.MacAddress}/`));
    assert.equal(await imdsValue(base, `/latest/meta-data/network/interfaces/macs/${eni.MacAddress}/device-number`), '0');
    assert.equal(await imdsValue(base, `/latest/meta-data/network/interfaces/macs/${eni.MacAddress}/interface-id`), eni.NetworkInterfaceId);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    assert.equal(await imdsValue(base, `/latest/meta-data/network/interfaces/macs/${eni.MacAddress}/device-number`), '1');
  });
});
