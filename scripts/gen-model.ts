/**
 * Generates src/api/ec2/model.json: the part of the official EC2 API model (2016-11-15) that
 * eni-local serves, normalised so that every shape is named and self-contained.
 *
 * Source of structure (operations, members, locationName/queryName, lists, required members):
 * the official model in either of its published forms — botocore's
 * data/ec2/2016-11-15/service-2.json (plain or .gz; the newer, and complete with constraints)
 * or npm `aws-sdk` v2's apis/ec2-2016-11-15.min.json (older: it lacks members AWS has added
 * since, such as SecurityGroupArn, and strips constraints).
 * Source of constraints (integer min/max ranges, short string enums): botocore's service-2.json.
 *
 *   npm run gen-model -- --source PATH/service-2.json.gz --constraints PATH/service-2.json.gz
 *   (or: npm install --no-save aws-sdk@2.1693.0 && npm run gen-model -- --constraints …)
 *
 * To serve a new action: add it to SERVED_ACTIONS below and regenerate; never hand-edit model.json.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const SERVED_ACTIONS = [
  // foundation
  'CreateVpc', 'DescribeVpcs', 'DeleteVpc', 'DescribeVpcAttribute', 'ModifyVpcAttribute',
  // ClassicLink is retired, but tools that read a VPC back still ask (not enabled, for every VPC)
  'DescribeVpcClassicLink', 'DescribeVpcClassicLinkDnsSupport',
  'DescribeRegions', 'DescribeAvailabilityZones', 'DescribeAccountAttributes',
  'CreateTags', 'DeleteTags', 'DescribeTags',
  // resources around the ENI
  'CreateSubnet', 'DescribeSubnets', 'DeleteSubnet', 'ModifySubnetAttribute', 'CreateDefaultVpc', 'CreateDefaultSubnet',
  'CreateSubnetCidrReservation', 'GetSubnetCidrReservations', 'DeleteSubnetCidrReservation',
  'CreateDhcpOptions', 'DescribeDhcpOptions', 'AssociateDhcpOptions', 'DeleteDhcpOptions',
  'CreateSecurityGroup', 'DeleteSecurityGroup', 'DescribeSecurityGroups', 'DescribeSecurityGroupRules',
  'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress',
  'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress',
  'ModifySecurityGroupRules', 'UpdateSecurityGroupRuleDescriptionsIngress', 'UpdateSecurityGroupRuleDescriptionsEgress',
  'RunInstances', 'StartInstances', 'StopInstances', 'RebootInstances', 'TerminateInstances',
  'DescribeInstances', 'DescribeInstanceStatus', 'DescribeInstanceTypes',
  'ModifyInstanceAttribute', 'DescribeInstanceAttribute', 'DescribeImages', 'ModifyInstanceMetadataOptions',
  'DescribeInstanceCreditSpecifications', 'ModifyPrivateDnsNameOptions',
  'CreateKeyPair', 'ImportKeyPair', 'DescribeKeyPairs', 'DeleteKeyPair',
  // the network interface
  'CreateNetworkInterface', 'DeleteNetworkInterface', 'DescribeNetworkInterfaces',
  'AttachNetworkInterface', 'DetachNetworkInterface',
  'ModifyNetworkInterfaceAttribute', 'DescribeNetworkInterfaceAttribute', 'ResetNetworkInterfaceAttribute',
  'CreateNetworkInterfacePermission', 'DescribeNetworkInterfacePermissions', 'DeleteNetworkInterfacePermission',
  // addressing
  'AssignPrivateIpAddresses', 'UnassignPrivateIpAddresses', 'AssignIpv6Addresses', 'UnassignIpv6Addresses',
  'AssociateVpcCidrBlock', 'DisassociateVpcCidrBlock', 'AssociateSubnetCidrBlock', 'DisassociateSubnetCidrBlock',
  'AllocateAddress', 'DescribeAddresses', 'AssociateAddress', 'DisassociateAddress', 'ReleaseAddress',
  'CreateInternetGateway', 'AttachInternetGateway', 'DetachInternetGateway', 'DeleteInternetGateway',
  'DescribeInternetGateways',
  'CreateEgressOnlyInternetGateway', 'DescribeEgressOnlyInternetGateways', 'DeleteEgressOnlyInternetGateway',
  'DescribeAddressesAttribute', 'ModifyAddressAttribute', 'ResetAddressAttribute',
  // data plane
  'CreateRouteTable', 'DeleteRouteTable', 'CreateRoute', 'ReplaceRoute', 'DeleteRoute',
  'AssociateRouteTable', 'DisassociateRouteTable', 'ReplaceRouteTableAssociation', 'DescribeRouteTables',
  'CreateNetworkAcl', 'DeleteNetworkAcl', 'CreateNetworkAclEntry', 'ReplaceNetworkAclEntry',
  'DeleteNetworkAclEntry', 'ReplaceNetworkAclAssociation', 'DescribeNetworkAcls',
  'CreateNetworkInsightsPath', 'DescribeNetworkInsightsPaths', 'DeleteNetworkInsightsPath',
  'StartNetworkInsightsAnalysis', 'DescribeNetworkInsightsAnalyses', 'DeleteNetworkInsightsAnalysis',
  'CreateFlowLogs', 'DescribeFlowLogs', 'DeleteFlowLogs',
  // requester-managed interfaces: NAT gateways, VPC endpoints
  'CreateNatGateway', 'DescribeNatGateways', 'DeleteNatGateway',
  'AssociateNatGatewayAddress', 'DisassociateNatGatewayAddress', 'AssignPrivateNatGatewayAddress', 'UnassignPrivateNatGatewayAddress',
  'CreateVpcEndpoint', 'DescribeVpcEndpoints', 'ModifyVpcEndpoint', 'DeleteVpcEndpoints', 'DescribeVpcEndpointServices',
  // managed prefix lists
  'CreateManagedPrefixList', 'DescribeManagedPrefixLists', 'ModifyManagedPrefixList', 'DeleteManagedPrefixList',
  'GetManagedPrefixListEntries', 'GetManagedPrefixListAssociations', 'DescribePrefixLists',
  // launch templates
  'CreateLaunchTemplate', 'CreateLaunchTemplateVersion', 'DescribeLaunchTemplates', 'DescribeLaunchTemplateVersions',
  'ModifyLaunchTemplate', 'DeleteLaunchTemplate', 'DeleteLaunchTemplateVersions',
];

// Enums longer than this (instance types, resource types) are left to the rules in cloud/.
const MAX_ENUM = 64;

/**
 * Members (`Shape.member`, botocore's shape names) whose enum AWS does not enforce: the value is
 * the rules' business. AWS: AllocateAddress with an unknown Domain allocates a `vpc` address.
 */
const OPEN_ENUMS = new Set(['AllocateAddressRequest.Domain']);

type Json = Record<string, unknown>;
interface MemberRef { shape: string; locationName?: string; queryName?: string; min?: number; max?: number; enum?: string[] }
type Shape =
  | { type: 'structure'; members: Record<string, MemberRef>; required?: string[] }
  | { type: 'list'; member: MemberRef }
  | { type: 'map'; key: MemberRef; value: MemberRef }
  | { type: string };

const PRIMITIVES = new Set(['string', 'integer', 'long', 'boolean', 'timestamp', 'blob', 'double', 'float']);

function parseArgs(argv: string[]): { source: string; constraints?: string } {
  const here = path.dirname(fileURLToPath(import.meta.url));
  let source = path.join(here, '..', 'node_modules', 'aws-sdk', 'apis', 'ec2-2016-11-15.min.json');
  let constraints: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--source') source = argv[++i];
    else if (argv[i] === '--constraints') constraints = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return { source, constraints };
}

function readJson(file: string): Json {
  const raw = readFileSync(file);
  const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return JSON.parse(text) as Json;
}

/** Walks the aws-sdk model, naming every inline shape after its path. */
class Normaliser {
  readonly shapes: Record<string, Shape> = {};
  constructor(private readonly sdkShapes: Record<string, Json>) {}

  ref(node: Json, pathName: string): MemberRef {
    const out: MemberRef = { shape: this.shapeOf(node, pathName) };
    if (typeof node.locationName === 'string') out.locationName = node.locationName;
    if (typeof node.queryName === 'string') out.queryName = node.queryName;
    return out;
  }

  private shapeOf(node: Json, pathName: string): string {
    if (typeof node.shape === 'string') {
      const id = node.shape;
      const named = this.sdkShapes[id];
      const namedType = (named?.type as string | undefined) ?? 'string';
      // A named primitive (aws-sdk names some strings) is just that primitive.
      if (PRIMITIVES.has(namedType)) return namedType;
      if (!(id in this.shapes)) {
        this.shapes[id] = { type: 'pending' };
        this.shapes[id] = this.build(this.sdkShapes[id], id);
      }
      return id;
    }
    const type = (node.type as string | undefined) ?? 'string';
    if (PRIMITIVES.has(type)) return type;
    this.shapes[pathName] = this.build(node, pathName);
    return pathName;
  }

  private build(node: Json, id: string): Shape {
    const type = (node.type as string | undefined) ?? 'string';
    if (type === 'structure') {
      const members: Record<string, MemberRef> = {};
      for (const [name, m] of Object.entries((node.members ?? {}) as Record<string, Json>)) {
        members[name] = this.ref(m, `${id}.${name}`);
      }
      const shape: Shape = { type, members };
      if (Array.isArray(node.required) && node.required.length) shape.required = node.required as string[];
      return shape;
    }
    if (type === 'list') return { type, member: this.ref((node.member ?? {}) as Json, `${id}.member`) };
    if (type === 'map') {
      return { type, key: this.ref((node.key ?? {}) as Json, `${id}.key`), value: this.ref((node.value ?? {}) as Json, `${id}.value`) };
    }
    return { type };
  }
}

/** Adds botocore's integer ranges and short enums to the members they constrain. */
function addConstraints(model: { operations: Record<string, { input: string }>; shapes: Record<string, Shape> }, botocore: Json): void {
  const bShapes = botocore.shapes as Record<string, Json>;
  const bOps = botocore.operations as Record<string, Json>;
  const seen = new Set<string>();
  const visit = (ourId: string, bName: string): void => {
    const key = `${ourId}|${bName}`;
    if (seen.has(key)) return;
    seen.add(key);
    const ours = model.shapes[ourId];
    const theirs = bShapes[bName];
    if (!ours || !theirs) return;
    if (ours.type === 'structure' && theirs.type === 'structure') {
      const members = (ours as { members: Record<string, MemberRef> }).members;
      for (const [name, ref] of Object.entries(members)) {
        const bRef = (theirs.members as Record<string, Json>)[name];
        if (!bRef) continue;
        const target = bShapes[bRef.shape as string];
        if (target && (target.type === 'integer' || target.type === 'long')) {
          if (typeof target.min === 'number') ref.min = target.min;
          if (typeof target.max === 'number') ref.max = target.max;
        }
        if (target && target.type === 'string' && Array.isArray(target.enum) && target.enum.length <= MAX_ENUM && !OPEN_ENUMS.has(`${bName}.${name}`)) {
          ref.enum = target.enum as string[];
        }
        visit(ref.shape, bRef.shape as string);
      }
    } else if (ours.type === 'list' && theirs.type === 'list') {
      const member = (ours as { member: MemberRef }).member;
      visit(member.shape, (theirs.member as Json).shape as string);
    }
  };
  for (const [op, def] of Object.entries(model.operations)) {
    const bInput = (bOps[op]?.input as Json | undefined)?.shape as string | undefined;
    if (bInput) visit(def.input, bInput);
  }
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(args.source)) {
    throw new Error(`${args.source} not found: run \`npm install --no-save aws-sdk@2.1693.0\` or pass --source`);
  }
  const sdk = readJson(args.source);
  const sdkOps = sdk.operations as Record<string, Json>;
  const norm = new Normaliser(sdk.shapes as Record<string, Json>);
  const operations: Record<string, { input: string; output: string }> = {};
  for (const action of SERVED_ACTIONS) {
    const op = sdkOps[action];
    if (!op) throw new Error(`action ${action} is not in the source model`);
    const input = norm.ref((op.input ?? { type: 'structure', members: {} }) as Json, `${action}Request`).shape;
    const output = norm.ref((op.output ?? { type: 'structure', members: {} }) as Json, `${action}Result`).shape;
    operations[action] = { input, output };
  }
  const model = {
    provenance: {
      generatedBy: 'scripts/gen-model.ts',
      source: `${args.source.includes('botocore') ? 'botocore' : 'npm aws-sdk v2'} ${path.basename(args.source)} (apiVersion ${(sdk.metadata as Json).apiVersion}, sha256 ${createHash('sha256').update(readFileSync(args.source)).digest('hex')})`,
      constraints: args.constraints
        ? `botocore ${path.basename(args.constraints)} (sha256 ${createHash('sha256').update(readFileSync(args.constraints)).digest('hex')})`
        : 'none',
      note: 'Generated file: do not edit; add an action to SERVED_ACTIONS in scripts/gen-model.ts and regenerate.',
    },
    metadata: sdk.metadata,
    operations,
    shapes: norm.shapes,
  };
  if (args.constraints) addConstraints(model, readJson(args.constraints));
  const here = path.dirname(fileURLToPath(import.meta.url));
  const out = path.join(here, '..', 'src', 'api', 'ec2', 'model.json');
  writeFileSync(out, JSON.stringify(model, null, 1) + '\n');
  console.log(`wrote ${out}: ${Object.keys(operations).length} operations, ${Object.keys(norm.shapes).length} shapes`);
}

main();
