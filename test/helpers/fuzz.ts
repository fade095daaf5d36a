/**
 * The parts of the EC2 protocol fuzz test (test/e2e/fuzz.test.ts): the served operations, the
 * error codes the catalogue can produce, a small topology whose ids the requests name, request
 * generators driven by the model's input shapes (random values, or plausible ones to mutate),
 * mutations of a request on the wire, and the checks every answer must pass.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AssociateRouteTableCommand,
  AssociateVpcCidrBlockCommand,
  AttachInternetGatewayCommand,
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateFlowLogsCommand,
  CreateInternetGatewayCommand,
  CreateEgressOnlyInternetGatewayCommand,
  ModifyAddressAttributeCommand,
  CreateKeyPairCommand,
  CreateNatGatewayCommand,
  CreateNetworkAclCommand,
  CreateNetworkInsightsPathCommand,
  CreateLaunchTemplateCommand,
  CreateManagedPrefixListCommand,
  CreateNetworkInterfaceCommand,
  CreateNetworkInterfacePermissionCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCidrReservationCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  DescribeImagesCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DescribeInternetGatewaysCommand,
  RunInstancesCommand,
  StartNetworkInsightsAnalysisCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import fc from 'fast-check';
import { subnet64 } from './addressing.ts';
import { ACTIONS } from '../../src/api/ec2/actions/index.ts';
import { Ec2Error, Errors } from '../../src/cloud/errors.ts';
import type { Ec2Model, Member, Operation, Shape } from '../../src/api/ec2/model.ts';

export const API_VERSION = '2016-11-15';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

// --- what is served, and what it may answer -------------------------------------------------------

/** Every served action with its model operation; throws if a handler has no shape in the model. */
export function servedOperations(model: Ec2Model): Operation[] {
  return Object.keys(ACTIONS)
    .sort()
    .map((name) => {
      const operation = model.operations.get(name);
      if (!operation) throw new Error(`${name} has a handler but no shape in model.json`);
      return operation;
    });
}

/**
 * Every code the error catalogue can produce: each constructor called with dummy arguments (the
 * code of a constructor never depends on them), each id-error pair's two, and the codes the
 * endpoint may build from the catalogue's own factories.
 */
export function catalogueCodes(): Set<string> {
  const codes = new Set<string>();
  const tryCall = (fn: (...args: never[]) => unknown) => {
    for (const args of [['x', 'x', 'x'], [['x'], 'x'], [1, 1]] as unknown[][]) {
      try {
        const made = (fn as (...a: unknown[]) => unknown)(...args);
        if (made instanceof Ec2Error) return codes.add(made.code);
      } catch {
        // another shape of arguments
      }
    }
    throw new Error(`an error constructor could not be called: ${fn.toString().slice(0, 80)}`);
  };
  for (const entry of Object.values(Errors)) {
    if (typeof entry === 'function') tryCall(entry as (...args: never[]) => unknown);
    else for (const fn of Object.values(entry)) tryCall(fn as (...args: never[]) => unknown);
  }
  return codes;
}

// --- a small topology to name --------------------------------------------------------------------

/** Ids of existing resources by prefix (`vpc`, `subnet`, `eni-attach`, …), and a few other real values. */
export interface Topology {
  ids: Map<string, string[]>;
  vpcCidrs: string[];
  subnetCidrs: string[];
  privateIps: string[];
  publicIps: string[];
  keyNames: string[];
  groupNames: string[];
}

/** Builds a VPC with two subnets, a group and a rule, an interface attached to an instance, an Elastic IP, a gateway and routes, an ACL, a key pair, a flow log and a network insights path and analysis. */
export async function buildTopology(ec2: EC2Client): Promise<Topology> {
  const ids = new Map<string, string[]>();
  const add = (id: string | undefined) => {
    if (!id) return;
    const prefix = id.slice(0, id.lastIndexOf('-'));
    const list = ids.get(prefix) ?? [];
    if (!list.includes(id)) list.push(id);
    ids.set(prefix, list);
  };
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!;
  add(vpc.VpcId);
  const ipv6 = await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc.VpcId, AmazonProvidedIpv6CidrBlock: true }));
  add(ipv6.Ipv6CidrBlockAssociation?.AssociationId);
  const subnetA = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!;
  const subnetB = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.0.2.0/24', AvailabilityZone: 'us-east-1b' }))).Subnet!;
  add(subnetA.SubnetId);
  add(subnetB.SubnetId);
  // An IPv6-only subnet with an interface (no private IPv4), and CIDR reservations of both kinds.
  const vpcIpv6 = ipv6.Ipv6CidrBlockAssociation!.Ipv6CidrBlock!;
  const ipv6Only = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, Ipv6Native: true, Ipv6CidrBlock: subnet64(vpcIpv6, 3), AvailabilityZone: 'us-east-1a' }))).Subnet!;
  add(ipv6Only.SubnetId);
  add((await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: ipv6Only.SubnetId }))).NetworkInterface?.NetworkInterfaceId);
  add((await ec2.send(new CreateSubnetCidrReservationCommand({ SubnetId: subnetA.SubnetId, Cidr: '10.0.1.128/28', ReservationType: 'prefix' }))).SubnetCidrReservation?.SubnetCidrReservationId);
  add((await ec2.send(new CreateSubnetCidrReservationCommand({ SubnetId: subnetA.SubnetId, Cidr: '10.0.1.200/29', ReservationType: 'explicit' }))).SubnetCidrReservation?.SubnetCidrReservationId);
  const group = await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc.VpcId, GroupName: 'web', Description: 'web servers' }));
  add(group.GroupId);
  await ec2.send(
    new AuthorizeSecurityGroupIngressCommand({ GroupId: group.GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }),
  );
  const prefixList = await ec2.send(
    new CreateManagedPrefixListCommand({ PrefixListName: 'fuzz', AddressFamily: 'IPv4', MaxEntries: 5, Entries: [{ Cidr: '192.0.2.0/24' }] }),
  );
  add(prefixList.PrefixList?.PrefixListId);
  // AWS's S3 list in us-east-1.
  add('pl-63a5400a');
  const template = await ec2.send(
    new CreateLaunchTemplateCommand({ LaunchTemplateName: 'fuzz', LaunchTemplateData: { ImageId: 'ami-12345678', InstanceType: 't3.micro', NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetA.SubnetId }] } }),
  );
  add(template.LaunchTemplate?.LaunchTemplateId);
  const eni = (await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetA.SubnetId, Groups: [group.GroupId!], Description: 'fuzz <eni>' }))).NetworkInterface!;
  add(eni.NetworkInterfaceId);
  const reservation = await ec2.send(
    new RunInstancesCommand({ ImageId: 'ami-12345678', InstanceType: 'm5.large', MinCount: 1, MaxCount: 1, SubnetId: subnetA.SubnetId }),
  );
  const instance = reservation.Instances![0];
  add(instance.InstanceId);
  add(instance.NetworkInterfaces?.[0]?.NetworkInterfaceId);
  add(instance.NetworkInterfaces?.[0]?.Attachment?.AttachmentId);
  const attachment = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instance.InstanceId, DeviceIndex: 1 }));
  add(attachment.AttachmentId);
  const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!;
  add(igw.InternetGatewayId);
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId }));
  const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  add(eip.AllocationId);
  await ec2.send(new ModifyAddressAttributeCommand({ AllocationId: eip.AllocationId, DomainName: 'fuzz.example.com' }));
  const eigw = (await ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpc.VpcId, TagSpecifications: [{ ResourceType: 'egress-only-internet-gateway', Tags: [{ Key: 'Name', Value: 'fuzz' }] }] })))
    .EgressOnlyInternetGateway!;
  add(eigw.EgressOnlyInternetGatewayId);
  const association = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
  add(association.AssociationId);
  const routeTable = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc.VpcId }))).RouteTable!;
  add(routeTable.RouteTableId);
  await ec2.send(new CreateRouteCommand({ RouteTableId: routeTable.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw.InternetGatewayId }));
  await ec2.send(new CreateRouteCommand({ RouteTableId: routeTable.RouteTableId, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: eigw.EgressOnlyInternetGatewayId }));
  add((await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTable.RouteTableId, SubnetId: subnetB.SubnetId }))).AssociationId);
  add((await ec2.send(new CreateNetworkAclCommand({ VpcId: vpc.VpcId }))).NetworkAcl?.NetworkAclId);
  const key = await ec2.send(new CreateKeyPairCommand({ KeyName: 'fuzz-key', KeyType: 'ed25519' }));
  add(key.KeyPairId);
  const flowLogs = await ec2.send(
    new CreateFlowLogsCommand({ ResourceIds: [vpc.VpcId!], ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs', LogGroupName: 'fuzz' }),
  );
  for (const id of flowLogs.FlowLogIds ?? []) add(id);
  const path = (await ec2.send(new CreateNetworkInsightsPathCommand({ Source: igw.InternetGatewayId, Destination: eni.NetworkInterfaceId, Protocol: 'tcp', DestinationPort: 22 })))
    .NetworkInsightsPath!;
  add(path.NetworkInsightsPathId);
  add((await ec2.send(new StartNetworkInsightsAnalysisCommand({ NetworkInsightsPathId: path.NetworkInsightsPathId }))).NetworkInsightsAnalysis?.NetworkInsightsAnalysisId);
  // Requester-managed interfaces and what makes them: a private NAT gateway, an Interface and a Gateway endpoint; a permission.
  const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetB.SubnetId, ConnectivityType: 'private' }))).NatGateway!;
  add(nat.NatGatewayId);
  const interfaceEndpoint = (
    await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpc.VpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ssm', SubnetIds: [subnetA.SubnetId!], PrivateDnsEnabled: false }))
  ).VpcEndpoint!;
  add(interfaceEndpoint.VpcEndpointId);
  add((await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpc.VpcId, ServiceName: 'com.amazonaws.us-east-1.s3', RouteTableIds: [routeTable.RouteTableId!] }))).VpcEndpoint?.VpcEndpointId);
  for (const managed of (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'requester-managed', Values: ['true'] }] }))).NetworkInterfaces ?? []) {
    add(managed.NetworkInterfaceId);
    add(managed.Attachment?.AttachmentId);
  }
  add((await ec2.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, AwsAccountId: '111111111111', Permission: 'INSTANCE-ATTACH' }))).InterfacePermission?.NetworkInterfacePermissionId);
  await ec2.send(new CreateTagsCommand({ Resources: [vpc.VpcId!, eni.NetworkInterfaceId!, instance.InstanceId!], Tags: [{ Key: 'Name', Value: 'fuzz' }, { Key: 'env', Value: 'a&b<c>' }] }));

  // What the default VPC brought, and the associations only a Describe shows.
  for (const v of (await ec2.send(new DescribeVpcsCommand({}))).Vpcs ?? []) add(v.VpcId);
  for (const s of (await ec2.send(new DescribeSubnetsCommand({}))).Subnets ?? []) add(s.SubnetId);
  for (const g of (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []) add(g.GroupId);
  for (const r of (await ec2.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules ?? []) add(r.SecurityGroupRuleId);
  for (const gw of (await ec2.send(new DescribeInternetGatewaysCommand({}))).InternetGateways ?? []) add(gw.InternetGatewayId);
  for (const rt of (await ec2.send(new DescribeRouteTablesCommand({}))).RouteTables ?? []) {
    add(rt.RouteTableId);
    for (const a of rt.Associations ?? []) add(a.RouteTableAssociationId);
  }
  for (const image of (await ec2.send(new DescribeImagesCommand({ MaxResults: 5 }))).Images ?? []) add(image.ImageId);
  add('ami-12345678');
  for (const acl of (await ec2.send(new DescribeNetworkAclsCommand({}))).NetworkAcls ?? []) {
    add(acl.NetworkAclId);
    for (const a of acl.Associations ?? []) add(a.NetworkAclAssociationId);
  }
  return {
    ids,
    vpcCidrs: ['10.0.0.0/16', '172.31.0.0/16'],
    subnetCidrs: ['10.0.1.0/24', '10.0.2.0/24', '10.0.3.0/24', '10.0.1.0/28', '172.31.0.0/20'],
    privateIps: [eni.PrivateIpAddress!, instance.PrivateIpAddress!, '10.0.1.50', '10.0.1.0', '10.0.1.255'],
    publicIps: [eip.PublicIp!, '198.18.0.1'],
    keyNames: ['fuzz-key'],
    groupNames: ['web', 'default'],
  };
}

// --- values ----------------------------------------------------------------------------------------

/** A name and value; `raw` sends the value (`'value'`) or both (`'both'`) on the wire as written, unencoded. */
type Pair = [key: string, value: string, raw?: 'value' | 'both'];

/** An EC2 Query request as sent: its pairs (a `raw` value goes on the wire as it is), how, and extra bytes. */
export interface WireRequest {
  method: 'POST' | 'GET';
  pairs: Pair[];
  /** Bytes appended to the body as they are (invalid UTF-8, stray `&`, …). */
  tail?: string;
}

const pick = <T>(...values: T[]) => fc.constantFrom(...values);
const hex17 = fc.stringMatching(/^[0-9a-f]{17}$/);

const EDGE_STRINGS = [
  '',
  ' ',
  'a',
  'default',
  '*',
  '?',
  'true',
  '-1',
  '0',
  'null',
  '<x>&"\'',
  ']]>',
  '\t\n\r',
  '😀',
  '\u00e9\u4e2d',
  '%zz',
  'tag:Name',
  '10.0.0.0/16',
  '0.0.0.0/0',
  '::/0',
  '10.0.1.5',
  'x'.repeat(255),
  'x'.repeat(256),
];
const LONG_LENGTHS = [127, 128, 255, 256, 1025, 64 * 1024 + 1];
const anyString = fc.oneof(
  { weight: 4, arbitrary: pick(...EDGE_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: pick(...LONG_LENGTHS).map((n) => 'l'.repeat(n)) },
);
const ID_PREFIXES = ['vpc', 'subnet', 'sg', 'i', 'eni', 'eni-attach', 'eipalloc', 'eipassoc', 'igw', 'rtb', 'rtbassoc', 'acl', 'aclassoc', 'ami', 'key', 'fl', 'nip', 'nia', 'sgr', 'vpc-cidr-assoc', 'subnet-cidr-assoc', 'eni-perm', 'nat', 'vpce', 'ela-attach', 'pl', 'eigw', 'scr'];

/** Member names that hold ids, and the prefixes those ids have. */
const ID_FIELDS: [RegExp, string[]][] = [
  [/^VpcIds?$/, ['vpc']],
  [/^SubnetIds?$/, ['subnet']],
  [/^(GroupIds?|SecurityGroupIds?|Groups|SourceSecurityGroupId|ReferencedGroupId)$/, ['sg']],
  [/^InstanceIds?$/, ['i']],
  [/^NetworkInterfaceIds?$/, ['eni']],
  [/^AttachmentId$/, ['eni-attach', 'ela-attach']],
  [/^AllocationIds?$/, ['eipalloc']],
  [/^AssociationIds?$/, ['eipassoc', 'rtbassoc', 'aclassoc', 'vpc-cidr-assoc', 'subnet-cidr-assoc']],
  [/^(InternetGatewayIds?|GatewayId)$/, ['igw']],
  [/^EgressOnlyInternetGatewayIds?$/, ['eigw']],
  [/^RouteTableIds?$/, ['rtb']],
  [/^NetworkAclIds?$/, ['acl']],
  [/^ImageIds?$/, ['ami']],
  [/^KeyPairIds?$/, ['key']],
  [/^FlowLogIds?$/, ['fl']],
  [/^NetworkInsightsPathIds?$/, ['nip']],
  [/^NetworkInsightsAnalysisIds?$/, ['nia']],
  [/^SecurityGroupRuleIds?$/, ['sgr']],
  [/^(PrefixListIds?|DestinationPrefixListId)$/, ['pl']],
  [/^LaunchTemplateIds?$/, ['lt']],
  [/^DhcpOptionsIds?$/, ['dopt']],
  [/^NatGatewayIds?$/, ['nat']],
  [/^SubnetCidrReservationId$/, ['scr']],
  [/^VpcEndpointIds?$/, ['vpce']],
  [/^NetworkInterfacePermissionIds?$/, ['eni-perm']],
  [/^(SecondaryAllocationIds|AddSubnetIds|RemoveSubnetIds)$/, ['eipalloc', 'subnet']],
  [/^(AddRouteTableIds|RemoveRouteTableIds)$/, ['rtb']],
  [/^(AddSecurityGroupIds|RemoveSecurityGroupIds)$/, ['sg']],
  [/^(Resources|ResourceIds?|Source|Destination)$/, ['vpc', 'subnet', 'sg', 'i', 'eni', 'igw', 'rtb', 'acl']],
];
const FILTER_NAMES = [
  'vpc-id', 'subnet-id', 'group-id', 'instance-id', 'network-interface-id', 'tag:Name', 'tag:env', 'tag-key', 'tag-value',
  'state', 'status', 'availability-zone', 'description', 'cidr-block', 'private-ip-address', 'attachment.instance-id',
  'instance-state-name', 'key', 'value', 'resource-id', 'resource-type', 'domain', 'public-ip', 'ip-permission.from-port',
  'owner-id', 'is-default', 'association.main', 'route.gateway-id', 'route.egress-only-internet-gateway-id', 'entry.rule-number', 'bogus', '', 'tag:',
];
const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', '-1', '6', '17', '1', '58', '0', '256', 'all', 'TCP'];

/** One plausible or hostile value for a string member, chosen by its name. */
function stringArbitrary(field: string, parent: string, topology: Topology, plausible: boolean): fc.Arbitrary<string> {
  const hostile = plausible ? [] : [{ weight: 2, arbitrary: anyString }];
  const idRule = ID_FIELDS.find(([re]) => re.test(field));
  if (idRule) {
    const existing = idRule[1].flatMap((p) => topology.ids.get(p) ?? []);
    const ofRightPrefix = fc.tuple(pick(...idRule[1]), hex17).map(([p, h]) => `${p}-${h}`);
    if (plausible) return existing.length ? fc.oneof({ weight: 9, arbitrary: pick(...existing) }, { weight: 1, arbitrary: ofRightPrefix }) : ofRightPrefix;
    return fc.oneof(
      ...(existing.length ? [{ weight: 6, arbitrary: pick(...existing) }] : []),
      { weight: 2, arbitrary: ofRightPrefix },
      { weight: 1, arbitrary: fc.tuple(pick(...ID_PREFIXES), fc.stringMatching(/^[0-9a-f]{8}$/)).map(([p, h]) => `${p}-${h}`) },
      ...hostile,
    );
  }
  const choose = (values: string[]) => fc.oneof({ weight: 6, arbitrary: pick(...values) }, ...hostile);
  if (/Ipv6Cidr|Ipv6Prefix$/.test(field)) return choose(['2600:1f18::/56', '::/0', '2600:1f18:1:1::/64', 'fe80::/10', '10.0.0.0/16']);
  if (/Cidr|Prefix$/.test(field)) return choose([...topology.vpcCidrs, ...topology.subnetCidrs, '0.0.0.0/0', '10.0.1.16/28', '10.1.0.0/16', '300.1.1.1/8', '10.0.0.0/33']);
  if (/Ipv6Address/.test(field)) return choose(['2600:1f18::1', '::1', 'fe80::1', 'not-an-ip']);
  if (/PublicIp$/.test(field)) return choose([...topology.publicIps, '1.2.3.4', '198.18.0.200']);
  if (/(IpAddress|SourceIp|DestinationIp|Address)$/.test(field)) return choose([...topology.privateIps, '10.0.2.10', '192.168.0.1', '10.0.1.4']);
  if (field === 'Name' && parent === 'Filters') return choose(FILTER_NAMES);
  if (field === 'Values' || field === 'Value') return choose(['fuzz', 'a&b<c>', '*', 'available', 'running', 'us-east-1a', 'true', ...(topology.ids.get('vpc') ?? [])]);
  if (field === 'Key') return choose(['Name', 'env', 'aws:reserved', 'k'.repeat(127), 'k'.repeat(128)]);
  if (/AvailabilityZone$|ZoneNames?$/.test(field)) return choose(['us-east-1a', 'us-east-1b', 'us-east-1f', 'us-east-1z', 'eu-west-1a']);
  if (/ZoneIds?$/.test(field)) return choose(['use1-az1', 'use1-az6', 'use1-az9']);
  if (/RegionNames?$/.test(field)) return choose(['us-east-1', 'eu-west-1', 'mars-north-1']);
  if (/KeyNames?$/.test(field)) return choose([...topology.keyNames, 'new-key', 'k'.repeat(256)]);
  if (/GroupNames?$/.test(field)) return choose([...topology.groupNames, 'new-group', 'sg-1234', 'd'.repeat(256)]);
  if (/Protocol$/.test(field)) return choose(PROTOCOLS);
  if (field === 'RuleAction') return choose(['allow', 'deny', 'maybe']);
  if (field === 'ClientToken') return choose(['token-1', 'token-2', 't'.repeat(64), 't'.repeat(65), 'é']);
  if (field === 'NextToken') return choose(['eyJrIjoidnBjLTEifQ', 'garbage', '']);
  if (field === 'UserData') return choose(['IyEvYmluL3NoCg==', 'not base64!', '']);
  if (field === 'PublicKeyMaterial') return choose(['c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUMK', 'AAAA', '']);
  if (field === 'Description' || /Description$/.test(field)) return choose(['web server', '<b>&amp;</b>', ']]>', 'tab\tnew\nline', '😀 é', 'd'.repeat(255), 'd'.repeat(256)]);
  return plausible ? fc.oneof(pick('fuzz', 'default', 'true', 'all', 'us-east-1a'), fc.string({ maxLength: 6 })) : anyString;
}

function integerArbitrary(member: Member, field: string, plausible: boolean): fc.Arbitrary<string> {
  const lo = member.min ?? (/Count$|Index$|Port$|Number$/.test(field) ? 0 : -5);
  const hi = member.max ?? (/Count$/.test(field) ? 3 : /Port$/.test(field) ? 65535 : /RuleNumber$/.test(field) ? 32767 : 1000);
  const inRange = fc.integer({ min: Math.min(lo, hi), max: Math.max(lo, hi) }).map(String);
  if (plausible) return /Count$/.test(field) ? fc.integer({ min: 1, max: 2 }).map(String) : inRange;
  return fc.oneof(
    { weight: 5, arbitrary: inRange },
    {
      weight: 3,
      arbitrary: pick('0', '-1', '1', '2147483647', '2147483648', '-2147483649', '9007199254740993', '99999999999999999999', '1e3', '5.5', '0x10', ' 5', '', 'ten', '٣'),
    },
    { weight: 1, arbitrary: fc.bigInt().map(String) },
  );
}

function primitiveArbitrary(member: Member, type: string, field: string, parent: string, topology: Topology, plausible: boolean): fc.Arbitrary<string> {
  if (member.enum && (type === 'string' || type === 'blob')) {
    const values = [...member.enum];
    return plausible ? pick(...values) : fc.oneof({ weight: 5, arbitrary: pick(...values) }, { weight: 1, arbitrary: anyString });
  }
  switch (type) {
    case 'boolean':
      return plausible
        ? field === 'DryRun'
          ? fc.constantFrom('false', 'false', 'false', 'true')
          : pick('true', 'false')
        : pick('true', 'false', 'TRUE', 'False', 'yes', '1', '');
    case 'integer':
    case 'long':
      return integerArbitrary(member, field, plausible);
    case 'double':
    case 'float':
      return plausible ? pick('1', '0.5') : pick('1', '0.5', '-0', 'NaN', 'Infinity', '1e309', 'abc', '');
    case 'timestamp':
      return plausible ? pick('2024-01-01T00:00:00Z') : pick('2024-01-01T00:00:00Z', '0', '1700000000', '99999999999999', 'yesterday', '', '2024-13-45');
    default:
      return stringArbitrary(field, parent, topology, plausible);
  }
}

export interface GenerateOptions {
  topology: Topology;
  /** Plausible values only, every required member present: a request worth mutating. */
  plausible: boolean;
}

/** Generates the pairs of one request for the operation's input shape (not Action and Version). */
export function generateInput(g: fc.GeneratorValue, operation: Operation, options: GenerateOptions): Pair[] {
  const pairs: Pair[] = [];
  const percent = () => g(fc.integer, { min: 0, max: 99 });
  const structure = (shape: Extract<Shape, { kind: 'structure' }>, prefix: string, depth: number, parent: string) => {
    for (const member of shape.members) {
      const required = shape.required.includes(member);
      // A plausible request names the resources it acts on more often (AWS requires some ids the model does not, e.g. ImageId).
      const optional = depth >= 3 ? 3 : depth === 0 ? (options.plausible && /Ids?$/.test(member.name) ? 60 : 30) : 35;
      const chance = required ? (options.plausible ? 100 : 92) : optional;
      if (percent() >= chance) continue;
      value(member, `${prefix}${member.wireName}`, depth, member.name, parent);
    }
  };
  const value = (member: Member, name: string, depth: number, field: string, parent: string) => {
    const shape = member.shape;
    switch (shape.kind) {
      case 'structure':
        structure(shape, `${name}.`, depth + 1, field);
        return;
      case 'list': {
        const count = g(fc.integer, { min: options.plausible ? 1 : 0, max: depth >= 2 ? 1 : 3 });
        for (let i = 1; i <= count; i++) value(shape.member, `${name}.${i}`, depth + 1, field, parent);
        return;
      }
      case 'map': {
        const count = g(fc.integer, { min: 0, max: 2 });
        for (let i = 1; i <= count; i++) {
          pairs.push([`${name}.${i}.key`, g(() => anyString)]);
          value(shape.value, `${name}.${i}.value`, depth + 1, 'value', field);
        }
        return;
      }
      case 'primitive':
        pairs.push([name, g(() => primitiveArbitrary(member, shape.type, field, parent, options.topology, options.plausible))]);
    }
  };
  structure(operation.input, '', 0, '');
  return pairs;
}

/** The protocol's own parameters in front of an operation's. */
export function withProtocol(action: string, pairs: Pair[]): Pair[] {
  return [['Action', action], ['Version', API_VERSION], ...pairs];
}

// --- mutations -------------------------------------------------------------------------------------

const CORRUPT: { value: string; raw?: 'value' }[] = [
  { value: '' },
  { value: 'x'.repeat(64 * 1024 + 1) },
  { value: 'a\u0001b' },
  { value: '\u0000' },
  { value: '\uFFFE' },
  { value: '%zz', raw: 'value' },
  { value: '%C3%28', raw: 'value' },
  { value: '%ED%A0%80', raw: 'value' },
  { value: '%', raw: 'value' },
  { value: '-1' },
  { value: '99999999999999999999' },
  { value: 'true' },
  { value: '<injected/>&amp;' },
  { value: '😀' },
  { value: 'vpc-00000000000000000' },
];

/** The mutations a valid request goes through, by name (the name is reported with a failure). */
export const MUTATIONS = [
  'drop-required',
  'duplicate',
  'duplicate-other-value',
  'corrupt-value',
  'unknown-parameter',
  'unknown-nested-parameter',
  'list-index-0',
  'list-index-huge',
  'list-index-leading-zero',
  'structure-as-value',
  'value-with-children',
  'lower-camel-alias',
  'no-action',
  'empty-action',
  'action-twice',
  'other-action',
  'no-version',
  'bad-version',
  'bad-percent-in-key',
  'invalid-utf8-tail',
  'stray-separators',
  'as-get',
  'many-parameters',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** Applies one mutation to a request (pairs include Action and Version), in place. */
export function mutate(g: fc.GeneratorValue, request: WireRequest, mutation: Mutation, operation: Operation, actions: string[]): void {
  const pairs = request.pairs;
  const params = () => pairs.map((p, i) => [p, i] as const).filter(([p]) => p[0] !== 'Action' && p[0] !== 'Version');
  const anyParam = () => {
    const list = params();
    return list.length ? list[g(fc.integer, { min: 0, max: list.length - 1 })] : undefined;
  };
  const listKeys = () => params().filter(([p]) => /\.[1-9][0-9]*(\.|$)/.test(p[0]));
  switch (mutation) {
    case 'drop-required': {
      const required = operation.input.required;
      if (!required.length) return mutate(g, request, 'unknown-parameter', operation, actions);
      const member = required[g(fc.integer, { min: 0, max: required.length - 1 })];
      request.pairs = pairs.filter(([k]) => k !== member.wireName && !k.startsWith(`${member.wireName}.`));
      return;
    }
    case 'duplicate':
    case 'duplicate-other-value': {
      const chosen = anyParam();
      if (!chosen) return mutate(g, request, 'unknown-parameter', operation, actions);
      pairs.push([chosen[0][0], mutation === 'duplicate' ? chosen[0][1] : 'other']);
      return;
    }
    case 'corrupt-value': {
      const chosen = anyParam();
      const corrupt = CORRUPT[g(fc.integer, { min: 0, max: CORRUPT.length - 1 })];
      if (!chosen) {
        pairs.push(['DryRun', corrupt.value, corrupt.raw]);
        return;
      }
      pairs[chosen[1]] = [chosen[0][0], corrupt.value, corrupt.raw];
      return;
    }
    case 'unknown-parameter':
      pairs.push([g(() => pick('Bogus', 'bogus', 'Filter', 'X-Amz-Bogus', '', '.', 'a..b', '__proto__', 'constructor', 'Action.1')), '1']);
      return;
    case 'unknown-nested-parameter': {
      const chosen = anyParam();
      pairs.push([chosen ? `${chosen[0][0].split('.')[0]}.1.Bogus` : 'Filter.1.Bogus', 'x']);
      return;
    }
    case 'list-index-0':
    case 'list-index-huge':
    case 'list-index-leading-zero': {
      const index = mutation === 'list-index-0' ? '0' : mutation === 'list-index-huge' ? '99999999' : '01';
      const lists = listKeys();
      if (!lists.length) {
        pairs.push([`Filter.${index}.Name`, 'vpc-id']);
        return;
      }
      const [pair, at] = lists[g(fc.integer, { min: 0, max: lists.length - 1 })];
      pairs[at] = [pair[0].replace(/\.[1-9][0-9]*(?=\.|$)/, `.${index}`), pair[1], pair[2]];
      return;
    }
    case 'structure-as-value':
      pairs.push([g(() => pick('Filter.1', 'TagSpecification.1', 'Filter', 'IpPermissions.1', 'NetworkInterface.1')), 'x']);
      return;
    case 'value-with-children': {
      const chosen = anyParam();
      pairs.push([`${chosen ? chosen[0][0] : 'DryRun'}.Extra`, 'x']);
      return;
    }
    case 'lower-camel-alias': {
      const chosen = anyParam();
      if (!chosen) return;
      const key = chosen[0][0];
      pairs.push([key.charAt(0).toLowerCase() + key.slice(1), chosen[0][1]]);
      return;
    }
    case 'no-action':
      request.pairs = pairs.filter(([k]) => k !== 'Action');
      return;
    case 'empty-action':
      request.pairs = pairs.map((p) => (p[0] === 'Action' ? ['Action', ''] : p));
      return;
    case 'action-twice':
      pairs.push(['Action', g(() => pick(...actions))]);
      return;
    case 'other-action':
      request.pairs = pairs.map((p) =>
        p[0] === 'Action' ? ['Action', g(() => pick(...actions, 'describeVpcs', 'LaunchRockets', 'constructor', '__proto__', 'toString'))] : p,
      );
      return;
    case 'no-version':
      request.pairs = pairs.filter(([k]) => k !== 'Version');
      return;
    case 'bad-version':
      request.pairs = pairs.map((p) => (p[0] === 'Version' ? ['Version', g(() => pick('2014-01-01', '', '2016-11-15 ', 'latest'))] : p));
      return;
    case 'bad-percent-in-key':
      pairs.push([g(() => pick('%zz', 'Filter%2', 'A%C3%28')), 'x', 'both']);
      return;
    case 'invalid-utf8-tail':
      request.tail = g(() => pick('&Description=\xff\xfe', '&\xc3', '&Filter.1.Name=\xed\xa0\x80', '&&&', '&=', '&=x', '&x=='));
      return;
    case 'stray-separators':
      request.tail = g(() => pick('&', '&&', '&=', '=', '&a', '&+=+', '&Filter.1.Name=a+b%20c'));
      return;
    case 'as-get':
      request.method = 'GET';
      return;
    case 'many-parameters': {
      const n = g(() => pick(500, 10_001));
      for (let i = 1; i <= n; i++) pairs.push([`Zz.${i}`, '1']);
      return;
    }
  }
}

// --- the wire --------------------------------------------------------------------------------------

/** Percent-encodes as the SDKs do (RFC 3986 unreserved characters kept); lone surrogates become U+FFFD. */
export function formEncode(text: string): string {
  return encodeURIComponent(Buffer.from(text, 'utf8').toString('utf8')).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The form text of a request's pairs (a raw value, or a key marked raw, is written as it is). */
export function encodePairs(request: WireRequest): Buffer {
  const text = request.pairs
    .map(([k, v, raw]) => `${raw === 'both' ? k : formEncode(k)}=${raw ? v : formEncode(v)}`)
    .join('&');
  return Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from(request.tail ?? '', 'latin1')]);
}

export interface Answer {
  status: number;
  text: string;
}

/** Sends a request as raw EC2 Query HTTP: a form body, or the query string of a GET. */
export async function send(url: string, request: WireRequest): Promise<Answer> {
  const bytes = encodePairs(request);
  const response =
    request.method === 'GET'
      ? await fetch(`${url}/?${bytes.toString('latin1')}`)
      : await fetch(`${url}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
          body: new Uint8Array(bytes),
        });
  return { status: response.status, text: await response.text() };
}

// --- the checks ------------------------------------------------------------------------------------

/** Why a document is not well-formed XML 1.0 (of the shapes EC2 answers), or undefined when it is. */
export function xmlProblem(text: string): string | undefined {
  if (!text.startsWith(XML_DECLARATION)) return 'no XML declaration';
  const body = text.slice(XML_DECLARATION.length);
  const bad = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.exec(body);
  if (bad) return `a character XML 1.0 cannot carry: U+${bad[0].codePointAt(0)!.toString(16)}`;
  const token = /<(\/?)([A-Za-z_][A-Za-z0-9_.:-]*)((?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/y;
  const badEntity = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/;
  const stack: string[] = [];
  let roots = 0;
  while (token.lastIndex < body.length) {
    const at = token.lastIndex;
    const m = token.exec(body);
    if (!m || m[6]) return `malformed markup at ${at}: ${JSON.stringify(body.slice(at, at + 40))}`;
    const [, close, name, attrs, selfClosing, textNode] = m;
    if (textNode !== undefined) {
      if (!stack.length) return `text outside the root at ${at}`;
      if (badEntity.test(textNode)) return `an unescaped & at ${at}`;
      if (textNode.includes(']]>')) return `]]> in text at ${at}`;
      continue;
    }
    if (attrs && badEntity.test(attrs)) return `an unescaped & in attributes at ${at}`;
    if (close) {
      if (attrs || selfClosing) return `a malformed closing tag at ${at}`;
      if (stack.pop() !== name) return `</${name}> closes nothing open at ${at}`;
      continue;
    }
    if (!stack.length && ++roots > 1) return 'more than one root element';
    if (!selfClosing) stack.push(name);
  }
  if (stack.length) return `unclosed <${stack[stack.length - 1]}>`;
  if (!roots) return 'no root element';
  return undefined;
}

const ERROR_ENVELOPE =
  /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Response><Errors><Error><Code>([^<]+)<\/Code><Message>[^<]*<\/Message><\/Error><\/Errors><RequestID>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}<\/RequestID><\/Response>$/;
const SUCCESS_ROOT = new RegExp(
  `^<\\?xml version="1\\.0" encoding="UTF-8"\\?>\\n<([A-Za-z]+)Response xmlns="${NAMESPACE.replace(/[./]/g, '\\$&')}"><requestId>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}</requestId>`,
);

/** Why an answer breaks the contract (a 5xx, a malformed envelope, an unknown code…), or undefined. */
export function answerProblem(request: WireRequest, answer: Answer, codes: ReadonlySet<string>): string | undefined {
  if (answer.status >= 500) return `HTTP ${answer.status}: ${answer.text.slice(0, 300)}`;
  const xml = xmlProblem(answer.text);
  if (xml) return `not well-formed XML (${xml}): ${answer.text.slice(0, 300)}`;
  if (answer.status === 200) {
    const root = SUCCESS_ROOT.exec(answer.text);
    if (!root) return `a success without the <ActionResponse xmlns=…><requestId> root: ${answer.text.slice(0, 200)}`;
    const actions = request.pairs.filter(([k]) => k === 'Action');
    if (actions.length === 1 && actions[0][1] !== root[1]) return `Action ${actions[0][1]} answered as ${root[1]}Response`;
    if (!answer.text.endsWith(`</${root[1]}Response>`)) return 'a success whose root does not close the document';
    return undefined;
  }
  const envelope = ERROR_ENVELOPE.exec(answer.text);
  if (!envelope) return `HTTP ${answer.status} without the EC2 error envelope: ${answer.text.slice(0, 300)}`;
  if (!codes.has(envelope[1])) return `code ${envelope[1]} is not in the error catalogue`;
  if (envelope[1] === 'InternalError') return `InternalError: ${answer.text.slice(0, 300)}`;
  return undefined;
}

/** A request, shortened for a report. */
export function describeRequest(request: WireRequest): string {
  const body = encodePairs(request).toString('latin1');
  return `${request.method} ${body.length > 600 ? `${body.slice(0, 600)}… (${body.length} bytes)` : body}`;
}
