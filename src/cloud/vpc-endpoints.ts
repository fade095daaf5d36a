/**
 * VPC endpoints to AWS services: CreateVpcEndpoint, DescribeVpcEndpoints, ModifyVpcEndpoint,
 * DeleteVpcEndpoints, DescribeVpcEndpointServices.
 *
 * AWS: an Interface endpoint puts one requester-managed interface (`vpc_endpoint`) in each of
 * its subnets, at most one subnet per Availability Zone, carrying the endpoint's security groups
 * (the VPC's default group when none is given); a Gateway endpoint (S3, DynamoDB) adds a route
 * to the service's AWS-managed prefix list in each of its route tables. Private DNS (the
 * default) needs the VPC's DNS support and hostnames on. Removing a subnet, or the endpoint,
 * deletes its interfaces; removing a route table, or the endpoint, its routes.
 */
import { createHash } from 'node:crypto';
import type {
  CreateVpcEndpointRequest,
  CreateVpcEndpointResult,
  DeleteVpcEndpointsRequest,
  DeleteVpcEndpointsResult,
  DescribeVpcEndpointServicesRequest,
  DescribeVpcEndpointServicesResult,
  DescribeVpcEndpointsRequest,
  DescribeVpcEndpointsResult,
  DnsEntry,
  ModifyVpcEndpointRequest,
  ModifyVpcEndpointResult,
  ServiceDetail,
  UnsuccessfulItem,
  VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { awsManagedListsOf } from '../dataplane/aws-prefix-lists.ts';
import { Errors } from './errors.ts';
import { filterCatalogue, pageCatalogue, type CatalogueSpec } from './catalogue-filter.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { idempotent } from './idempotency.ts';
import { createInterface, destroyInterface } from './network-interfaces.ts';
import { findOwned, getOwned } from './owned.ts';
import { zonesOf } from './regions.ts';
import { checkIds, isIdOf, newId } from './rules/ids.ts';
import { groupsForInterface } from './security-groups.ts';
import { getSubnet } from './subnets.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';
import { getVpc } from './vpcs.ts';

type EndpointRow = Row<'vpc_endpoints'>;

/** The AWS account that requests interface endpoints' interfaces (what RequesterId shows on AWS). */
export const VPC_ENDPOINT_REQUESTER_ID = '727180483921';

/** AWS's default endpoint policy: full access. */
const FULL_ACCESS_POLICY = '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}';

// --- the services ---------------------------------------------------------------------------------

/** AWS services offered as endpoints in every region: name suffix → endpoint types. */
const SERVICES: Record<string, readonly ('Interface' | 'Gateway')[]> = {
  'application-autoscaling': ['Interface'],
  autoscaling: ['Interface'],
  cloudformation: ['Interface'],
  dynamodb: ['Gateway', 'Interface'],
  ec2: ['Interface'],
  ec2messages: ['Interface'],
  'ecr.api': ['Interface'],
  'ecr.dkr': ['Interface'],
  ecs: ['Interface'],
  'ecs-agent': ['Interface'],
  'ecs-telemetry': ['Interface'],
  elasticloadbalancing: ['Interface'],
  events: ['Interface'],
  'execute-api': ['Interface'],
  kinesis: ['Interface'],
  'kinesis-streams': ['Interface'],
  kms: ['Interface'],
  lambda: ['Interface'],
  logs: ['Interface'],
  monitoring: ['Interface'],
  rds: ['Interface'],
  s3: ['Gateway', 'Interface'],
  secretsmanager: ['Interface'],
  sns: ['Interface'],
  sqs: ['Interface'],
  ssm: ['Interface'],
  ssmmessages: ['Interface'],
  states: ['Interface'],
  sts: ['Interface'],
};

interface Service {
  name: string;
  suffix: string;
  type: 'Interface' | 'Gateway';
}

const hex = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * The id of the AWS-managed prefix list a Gateway endpoint routes to (`com.amazonaws.REGION.s3`):
 * the region's list of that name in the catalogue DescribeManagedPrefixLists shows, so that the
 * route's destination resolves to the list's entries in the data plane.
 */
export function gatewayPrefixListId(serviceName: string): string {
  const region = serviceName.split('.')[2] ?? '';
  const list = awsManagedListsOf(region).find((l) => l.name === serviceName);
  return list?.id ?? `pl-${hex(`prefix-list ${serviceName}`, 8)}`;
}

function servicesOf(region: string): Service[] {
  return Object.entries(SERVICES)
    .flatMap(([suffix, types]) => types.map((type) => ({ name: `com.amazonaws.${region}.${suffix}`, suffix, type })))
    .sort((a, b) => (a.name === b.name ? a.type.localeCompare(b.type) : a.name < b.name ? -1 : 1));
}

function findService(region: string, name: string | undefined, type: string): Service {
  if (name === undefined) throw Errors.missingParameter('ServiceName');
  const matching = servicesOf(region).filter((s) => s.name === name);
  if (!matching.length) throw Errors.invalidServiceName(name);
  const service = matching.find((s) => s.type === type);
  if (!service) throw Errors.invalidParameter(`The Vpc Endpoint Service '${name}' does not support endpoint type ${type}.`);
  return service;
}

function serviceDetail(region: string, service: Service): ServiceDetail {
  const interfaceType = service.type === 'Interface';
  const privateDns = `${service.suffix}.${region}.amazonaws.com`;
  return {
    ServiceName: service.name,
    ServiceId: `vpce-svc-${hex(`${service.name} ${service.type}`, 17)}`,
    ServiceType: [{ ServiceType: service.type }],
    ServiceRegion: region,
    AvailabilityZones: zonesOf(region).map((z) => z.name),
    Owner: 'amazon',
    BaseEndpointDnsNames: [interfaceType ? `${service.suffix}.${region}.vpce.amazonaws.com` : `${service.suffix}.${region}.amazonaws.com`],
    PrivateDnsName: interfaceType ? privateDns : undefined,
    PrivateDnsNames: interfaceType ? [{ PrivateDnsName: privateDns }] : [],
    VpcEndpointPolicySupported: true,
    AcceptanceRequired: false,
    ManagesVpcEndpoints: false,
    PrivateDnsNameVerificationState: interfaceType ? 'verified' : undefined,
    SupportedIpAddressTypes: ['ipv4'],
    Tags: [],
  };
}

const SERVICE_FILTERS: CatalogueSpec<ServiceDetail> = {
  'service-name': (s) => s.ServiceName,
  'service-type': (s) => s.ServiceType?.map((t) => t.ServiceType),
  'service-region': (s) => s.ServiceRegion,
  owner: (s) => s.Owner,
  'supported-ip-address-types': (s) => s.SupportedIpAddressTypes,
};

export async function describeVpcEndpointServices(ctx: Context, input: DescribeVpcEndpointServicesRequest): Promise<DescribeVpcEndpointServicesResult> {
  const all = servicesOf(ctx.region);
  for (const name of input.ServiceNames ?? []) if (!all.some((s) => s.name === name)) throw Errors.invalidServiceName(name);
  for (const region of input.ServiceRegions ?? []) {
    if (region !== ctx.region) throw Errors.invalidParameterValue(`Cross-region endpoint services (${region}) are not supported by eni-local.`);
  }
  const named = input.ServiceNames?.length ? all.filter((s) => input.ServiceNames!.includes(s.name)) : all;
  const details = filterCatalogue(named.map((s) => serviceDetail(ctx.region, s)), input.Filters, SERVICE_FILTERS);
  const keyOf = (d: ServiceDetail) => `${d.ServiceName} ${d.ServiceType![0].ServiceType}`;
  const page = pageCatalogue(details, keyOf, { maxResults: input.MaxResults, nextToken: input.NextToken });
  return { ServiceNames: [...new Set(page.items.map((d) => d.ServiceName!))], ServiceDetails: page.items, NextToken: page.nextToken };
}

// --- reading endpoints ----------------------------------------------------------------------------

const ENDPOINT_FILTERS: FilterSpec = {
  'vpc-endpoint-id': { column: 'id' },
  'vpc-id': { column: 'vpc_id' },
  'service-name': { column: 'service_name' },
  'vpc-endpoint-state': { column: 'state' },
  'vpc-endpoint-type': { column: 'endpoint_type' },
  'ip-address-type': { column: 'ip_address_type' },
};

export async function getVpcEndpoint(ctx: Context, id: string | undefined, parameter = 'VpcEndpointId'): Promise<EndpointRow> {
  return getOwned(ctx, { table: 'vpc_endpoints', prefix: 'vpce', errors: Errors.vpcEndpointId }, id, parameter);
}

function dnsEntriesOf(row: EndpointRow, zones: readonly string[]): DnsEntry[] {
  if (row.endpoint_type !== 'Interface') return [];
  const suffix = row.service_name.split('.').slice(3).join('.');
  const base = `${row.id}-${hex(row.id, 8)}.${suffix}.${row.region}.vpce.amazonaws.com`;
  // The vpce.amazonaws.com zone of the region and the service's own name when private DNS is on.
  const hostedZone = `Z${hex(`vpce ${row.region}`, 12).toUpperCase()}`;
  const entries: DnsEntry[] = [{ DnsName: base, HostedZoneId: hostedZone }];
  for (const zone of zones) entries.push({ DnsName: `${row.id}-${hex(row.id, 8)}-${zone}.${suffix}.${row.region}.vpce.amazonaws.com`, HostedZoneId: hostedZone });
  if (row.private_dns_enabled === 1) entries.push({ DnsName: `${suffix}.${row.region}.amazonaws.com`, HostedZoneId: `Z${hex(`private ${row.id}`, 12).toUpperCase()}` });
  return entries;
}

async function endpointsOf(tx: Tx, rows: EndpointRow[]): Promise<VpcEndpoint[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const subnets = await tx
    .selectFrom('vpc_endpoint_subnets')
    .innerJoin('subnets', 'subnets.id', 'vpc_endpoint_subnets.subnet_id')
    .select(['vpc_endpoint_subnets.vpc_endpoint_id', 'vpc_endpoint_subnets.subnet_id', 'vpc_endpoint_subnets.network_interface_id', 'subnets.availability_zone'])
    .where('vpc_endpoint_subnets.vpc_endpoint_id', 'in', ids)
    .orderBy('vpc_endpoint_subnets.subnet_id')
    .execute();
  const groups = await tx
    .selectFrom('vpc_endpoint_groups')
    .innerJoin('security_groups', 'security_groups.id', 'vpc_endpoint_groups.group_id')
    .select(['vpc_endpoint_groups.vpc_endpoint_id', 'security_groups.id', 'security_groups.group_name'])
    .where('vpc_endpoint_groups.vpc_endpoint_id', 'in', ids)
    .orderBy('vpc_endpoint_groups.position')
    .execute();
  const tables = await tx.selectFrom('vpc_endpoint_route_tables').selectAll().where('vpc_endpoint_id', 'in', ids).orderBy('route_table_id').execute();
  const tags = await tagsOf(tx, ids);
  return rows.map((row) => {
    const mine = subnets.filter((s) => s.vpc_endpoint_id === row.id);
    return {
      VpcEndpointId: row.id,
      VpcEndpointType: row.endpoint_type as VpcEndpoint['VpcEndpointType'],
      VpcId: row.vpc_id,
      ServiceName: row.service_name,
      // AWS answers the state in lower case, whatever the model's enum says.
      State: row.state as VpcEndpoint['State'],
      PolicyDocument: row.policy_document ?? undefined,
      RouteTableIds: tables.filter((t) => t.vpc_endpoint_id === row.id).map((t) => t.route_table_id),
      SubnetIds: mine.map((s) => s.subnet_id),
      Groups: groups.filter((g) => g.vpc_endpoint_id === row.id).map((g) => ({ GroupId: g.id, GroupName: g.group_name })),
      IpAddressType: row.ip_address_type as VpcEndpoint['IpAddressType'],
      DnsOptions: row.endpoint_type === 'Interface' ? { DnsRecordIpType: row.dns_record_ip_type as 'ipv4' } : undefined,
      PrivateDnsEnabled: row.private_dns_enabled === 1,
      RequesterManaged: false,
      NetworkInterfaceIds: mine.map((s) => s.network_interface_id),
      DnsEntries: dnsEntriesOf(row, [...new Set(mine.map((s) => s.availability_zone))].sort()),
      CreationTimestamp: new Date(row.created_at),
      Tags: tags.get(row.id) ?? [],
      OwnerId: row.account_id,
    };
  });
}

export async function describeVpcEndpoints(ctx: Context, input: DescribeVpcEndpointsRequest): Promise<DescribeVpcEndpointsResult> {
  checkIds('vpce', Errors.vpcEndpointId, input.VpcEndpointIds ?? []);
  if (input.MaxResults !== undefined && (input.MaxResults < 1 || input.MaxResults > 1000)) {
    throw Errors.invalidParameterValueFor('MaxResults', String(input.MaxResults), 'It must be between 1 and 1000.');
  }
  const page = await describeRows<EndpointRow>(ctx.tx, {
    table: 'vpc_endpoints',
    account: ctx.account,
    region: ctx.region,
    ids: input.VpcEndpointIds,
    idErrors: Errors.vpcEndpointId,
    filters: input.Filters,
    spec: ENDPOINT_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { VpcEndpoints: await endpointsOf(ctx.tx, page.rows), NextToken: page.nextToken };
}

// --- subnets, groups, route tables ----------------------------------------------------------------

/** Puts one interface of the endpoint in each subnet; AWS: one subnet per zone, all in the endpoint's VPC. */
async function addSubnets(ctx: Context, endpoint: EndpointRow, subnetIds: readonly string[], groupIds: readonly string[]): Promise<void> {
  const current = await ctx.tx
    .selectFrom('vpc_endpoint_subnets')
    .innerJoin('subnets', 'subnets.id', 'vpc_endpoint_subnets.subnet_id')
    .select(['subnets.id', 'subnets.availability_zone'])
    .where('vpc_endpoint_id', '=', endpoint.id)
    .execute();
  const zones = new Map(current.map((s) => [s.availability_zone, s.id]));
  for (const subnetId of [...new Set(subnetIds)]) {
    const subnet = await getSubnet(ctx, subnetId);
    if (subnet.vpc_id !== endpoint.vpc_id) throw Errors.invalidParameter(`The subnet ID '${subnet.id}' does not belong to the VPC '${endpoint.vpc_id}'.`);
    if (zones.get(subnet.availability_zone) === subnet.id) continue;
    if (zones.has(subnet.availability_zone)) {
      throw Errors.duplicateSubnetsInSameZone(
        `Found another VPC endpoint subnet in the availability zone of ${subnet.id}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`,
      );
    }
    zones.set(subnet.availability_zone, subnet.id);
    const eniId = await createInterface(ctx, {
      subnet,
      description: `VPC Endpoint Interface ${endpoint.id}`,
      groupIds,
      interfaceType: 'vpc_endpoint',
      managed: { requesterId: VPC_ENDPOINT_REQUESTER_ID, sourceDestCheck: true },
    });
    await ctx.tx.insertInto('vpc_endpoint_subnets').values({ vpc_endpoint_id: endpoint.id, subnet_id: subnet.id, network_interface_id: eniId }).execute();
  }
}

async function removeSubnets(ctx: Context, endpoint: EndpointRow, subnetIds: readonly string[]): Promise<void> {
  for (const subnetId of subnetIds) {
    const row = await ctx.tx.selectFrom('vpc_endpoint_subnets').selectAll().where('vpc_endpoint_id', '=', endpoint.id).where('subnet_id', '=', subnetId).executeTakeFirst();
    if (!row) throw Errors.invalidParameter(`The subnet ID '${subnetId}' is not part of the VPC endpoint '${endpoint.id}'.`);
    await ctx.tx.deleteFrom('vpc_endpoint_subnets').where('vpc_endpoint_id', '=', endpoint.id).where('subnet_id', '=', subnetId).execute();
    await destroyInterface(ctx, { id: row.network_interface_id });
  }
}

/** Sets the endpoint's groups, and its interfaces' groups with them. */
async function setGroups(ctx: Context, endpoint: EndpointRow, groupIds: readonly string[]): Promise<void> {
  await ctx.tx.deleteFrom('vpc_endpoint_groups').where('vpc_endpoint_id', '=', endpoint.id).execute();
  if (groupIds.length) {
    await ctx.tx.insertInto('vpc_endpoint_groups').values(groupIds.map((group_id, position) => ({ vpc_endpoint_id: endpoint.id, group_id, position }))).execute();
  }
  const enis = await ctx.tx.selectFrom('vpc_endpoint_subnets').select('network_interface_id').where('vpc_endpoint_id', '=', endpoint.id).execute();
  for (const { network_interface_id } of enis) {
    await ctx.tx.deleteFrom('network_interface_groups').where('network_interface_id', '=', network_interface_id).execute();
    if (groupIds.length) {
      await ctx.tx
        .insertInto('network_interface_groups')
        .values(groupIds.map((group_id, position) => ({ network_interface_id, group_id, position })))
        .execute();
    }
  }
}

async function groupsOfEndpoint(tx: Tx, endpointId: string): Promise<string[]> {
  return (await tx.selectFrom('vpc_endpoint_groups').select('group_id').where('vpc_endpoint_id', '=', endpointId).orderBy('position').execute()).map((g) => g.group_id);
}

async function addRouteTables(ctx: Context, endpoint: EndpointRow, routeTableIds: readonly string[]): Promise<void> {
  const destination = gatewayPrefixListId(endpoint.service_name);
  for (const id of [...new Set(routeTableIds)]) {
    checkIds('rtb', Errors.routeTableId, [id]);
    const table = await findOwned(ctx, 'route_tables', id);
    if (!table) throw Errors.routeTableId.notFound(id);
    if (table.vpc_id !== endpoint.vpc_id) throw Errors.invalidParameter(`The route table '${id}' does not belong to the VPC '${endpoint.vpc_id}'.`);
    const existing = await ctx.tx.selectFrom('routes').select('gateway_id').where('route_table_id', '=', id).where('destination', '=', destination).executeTakeFirst();
    if (existing?.gateway_id === endpoint.id) continue;
    if (existing) throw Errors.routeAlreadyExists(destination, id);
    // A prefix-list destination: family 0 (neither IPv4 nor IPv6), the endpoint as the gateway.
    await ctx.tx.insertInto('routes').values({ route_table_id: id, destination, family: 0, gateway_id: endpoint.id, network_interface_id: null, origin: 'CreateRoute' }).execute();
    await ctx.tx.insertInto('vpc_endpoint_route_tables').values({ vpc_endpoint_id: endpoint.id, route_table_id: id }).execute();
  }
}

async function removeRouteTables(ctx: Context, endpoint: EndpointRow, routeTableIds: readonly string[]): Promise<void> {
  for (const id of routeTableIds) {
    const row = await ctx.tx.selectFrom('vpc_endpoint_route_tables').selectAll().where('vpc_endpoint_id', '=', endpoint.id).where('route_table_id', '=', id).executeTakeFirst();
    if (!row) throw Errors.invalidParameter(`The route table '${id}' is not associated with the VPC endpoint '${endpoint.id}'.`);
    await ctx.tx.deleteFrom('vpc_endpoint_route_tables').where('vpc_endpoint_id', '=', endpoint.id).where('route_table_id', '=', id).execute();
    await ctx.tx.deleteFrom('routes').where('route_table_id', '=', id).where('gateway_id', '=', endpoint.id).execute();
  }
}

function checkPolicy(policy: string | undefined): void {
  if (policy === undefined) return;
  try {
    const parsed: unknown = JSON.parse(policy);
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
  } catch {
    throw Errors.invalidParameterValueFor('PolicyDocument', policy, 'The policy document is not valid JSON.');
  }
}

function checkPrivateDns(vpc: Row<'vpcs'>): void {
  // AWS: private DNS needs both DNS attributes of the VPC.
  if (vpc.enable_dns_support !== 1 || vpc.enable_dns_hostnames !== 1) {
    throw Errors.invalidParameter(`Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for ${vpc.id}`);
  }
}

// --- creating, modifying, deleting ------------------------------------------------------------------

export async function createVpcEndpoint(ctx: Context, input: CreateVpcEndpointRequest): Promise<CreateVpcEndpointResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['vpc-endpoint']);
  // AWS: the default type is Gateway.
  const type = input.VpcEndpointType ?? 'Gateway';
  if (type !== 'Interface' && type !== 'Gateway') throw Errors.unsupported(`VPC endpoints of type ${type} are not supported by eni-local.`);
  if (input.ServiceNetworkArn !== undefined || input.ResourceConfigurationArn !== undefined || input.SubnetConfigurations?.length) {
    throw Errors.unsupported('Service network and resource endpoints, and subnet configurations, are not supported by eni-local.');
  }
  checkPolicy(input.PolicyDocument);
  const ipAddressType = input.IpAddressType ?? 'ipv4';
  if (ipAddressType !== 'ipv4') throw Errors.invalidParameter(`IpAddressType ${ipAddressType} is not supported by the endpoint service.`);
  if (input.DnsOptions?.DnsRecordIpType !== undefined && input.DnsOptions.DnsRecordIpType !== 'ipv4') {
    throw Errors.invalidParameter(`DnsRecordIpType ${input.DnsOptions.DnsRecordIpType} is not supported for IpAddressType ipv4.`);
  }
  if (type === 'Gateway') {
    if (input.SubnetIds?.length || input.SecurityGroupIds?.length) {
      throw Errors.invalidParameter('Subnets and security groups apply to Interface endpoints only.');
    }
    if (input.PrivateDnsEnabled) throw Errors.invalidParameter('Private DNS applies to Interface endpoints only.');
  } else if (input.RouteTableIds?.length) {
    throw Errors.invalidParameter('Route tables apply to Gateway endpoints only.');
  }
  const result = await idempotent(
    ctx,
    'CreateVpcEndpoint',
    input,
    async () => {
      const vpc = await getVpc(ctx, input.VpcId);
      const service = findService(ctx.region, input.ServiceName, type);
      const privateDns = type === 'Interface' && input.PrivateDnsEnabled !== false;
      if (privateDns) checkPrivateDns(vpc);
      const { n } = await ctx.tx
        .selectFrom('vpc_endpoints')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('vpc_id', '=', vpc.id)
        .where('endpoint_type', '=', type)
        .executeTakeFirstOrThrow();
      const limit = type === 'Interface' ? ctx.config.quotas.interfaceEndpointsPerVpc : ctx.config.quotas.gatewayEndpointsPerVpc;
      if (Number(n) >= limit) throw Errors.vpcEndpointLimitExceeded();
      const endpoint: EndpointRow = {
        id: newId('vpce'),
        account_id: ctx.account,
        region: ctx.region,
        vpc_id: vpc.id,
        service_name: service.name,
        endpoint_type: type,
        // AWS's own services accept at once.
        state: 'available',
        policy_document: input.PolicyDocument ?? FULL_ACCESS_POLICY,
        private_dns_enabled: privateDns ? 1 : 0,
        ip_address_type: ipAddressType,
        dns_record_ip_type: 'ipv4',
        created_at: ctx.now.toISOString(),
      };
      await ctx.tx.insertInto('vpc_endpoints').values(endpoint).execute();
      if (type === 'Interface') {
        const groups = await groupsForInterface(ctx, vpc.id, input.SecurityGroupIds);
        await setGroups(ctx, endpoint, groups);
        await addSubnets(ctx, endpoint, input.SubnetIds ?? [], groups);
      } else {
        await addRouteTables(ctx, endpoint, input.RouteTableIds ?? []);
      }
      await applyTagSpecifications(ctx, 'vpc-endpoint', endpoint.id, input.TagSpecifications);
      ctx.emit({ type: 'vpc-endpoint.created', vpcEndpointId: endpoint.id, vpcId: vpc.id, serviceName: service.name });
      return { id: endpoint.id, result: { VpcEndpoint: await describeOne(ctx, endpoint.id), ClientToken: input.ClientToken } };
    },
    async (id) => ({ VpcEndpoint: await describeOne(ctx, id), ClientToken: input.ClientToken }),
  );
  // AWS answers `pending` to the create, whatever the endpoint becomes.
  return { ...result, VpcEndpoint: result.VpcEndpoint && { ...result.VpcEndpoint, State: 'pending' as VpcEndpoint['State'] } };
}

async function describeOne(ctx: Context, id: string): Promise<VpcEndpoint> {
  return (await endpointsOf(ctx.tx, [await getVpcEndpoint(ctx, id)]))[0];
}

export async function modifyVpcEndpoint(ctx: Context, input: ModifyVpcEndpointRequest): Promise<ModifyVpcEndpointResult> {
  const endpoint = await getVpcEndpoint(ctx, input.VpcEndpointId);
  const interfaceType = endpoint.endpoint_type === 'Interface';
  const subnetsOrGroups = [input.AddSubnetIds, input.RemoveSubnetIds, input.AddSecurityGroupIds, input.RemoveSecurityGroupIds].some((l) => l?.length);
  if (!interfaceType && (subnetsOrGroups || input.PrivateDnsEnabled !== undefined)) {
    throw Errors.invalidParameter('Subnets, security groups and private DNS apply to Interface endpoints only.');
  }
  if (interfaceType && (input.AddRouteTableIds?.length || input.RemoveRouteTableIds?.length)) {
    throw Errors.invalidParameter('Route tables apply to Gateway endpoints only.');
  }
  if (input.ResetPolicy && input.PolicyDocument !== undefined) throw Errors.invalidParameterCombination('ResetPolicy cannot be combined with PolicyDocument.');
  if (input.SubnetConfigurations?.length) throw Errors.unsupported('Subnet configurations are not supported by eni-local.');
  if (input.IpAddressType !== undefined && input.IpAddressType !== 'ipv4') throw Errors.invalidParameter(`IpAddressType ${input.IpAddressType} is not supported by the endpoint service.`);
  checkPolicy(input.PolicyDocument);

  if (input.RemoveSubnetIds?.length) await removeSubnets(ctx, endpoint, input.RemoveSubnetIds);
  if (input.AddSecurityGroupIds?.length || input.RemoveSecurityGroupIds?.length) {
    const current = await groupsOfEndpoint(ctx.tx, endpoint.id);
    const removed = new Set(input.RemoveSecurityGroupIds ?? []);
    checkIds('sg', Errors.groupId, [...removed]);
    for (const id of removed) if (!current.includes(id)) throw Errors.invalidParameter(`The security group '${id}' is not associated with the VPC endpoint '${endpoint.id}'.`);
    const wanted = [...current.filter((g) => !removed.has(g)), ...(input.AddSecurityGroupIds ?? []).filter((g) => !current.includes(g))];
    // AWS: an interface endpoint keeps at least one security group.
    if (!wanted.length) throw Errors.invalidParameter('A VPC endpoint of type Interface must have at least one security group.');
    await setGroups(ctx, endpoint, await groupsForInterface(ctx, endpoint.vpc_id, wanted));
  }
  if (input.AddSubnetIds?.length) await addSubnets(ctx, endpoint, input.AddSubnetIds, await groupsOfEndpoint(ctx.tx, endpoint.id));
  if (input.RemoveRouteTableIds?.length) await removeRouteTables(ctx, endpoint, input.RemoveRouteTableIds);
  if (input.AddRouteTableIds?.length) await addRouteTables(ctx, endpoint, input.AddRouteTableIds);
  const set = (values: Partial<EndpointRow>) => ctx.tx.updateTable('vpc_endpoints').set(values).where('id', '=', endpoint.id).execute();
  if (input.PolicyDocument !== undefined) await set({ policy_document: input.PolicyDocument });
  if (input.ResetPolicy) await set({ policy_document: FULL_ACCESS_POLICY });
  if (input.PrivateDnsEnabled !== undefined) {
    if (input.PrivateDnsEnabled) checkPrivateDns(await getVpc(ctx, endpoint.vpc_id));
    await set({ private_dns_enabled: input.PrivateDnsEnabled ? 1 : 0 });
  }
  return { Return: true };
}

/** Deletes an endpoint with its interfaces and routes. */
async function destroyEndpoint(ctx: Context, endpoint: EndpointRow): Promise<void> {
  const subnets = await ctx.tx.selectFrom('vpc_endpoint_subnets').select('subnet_id').where('vpc_endpoint_id', '=', endpoint.id).execute();
  await removeSubnets(ctx, endpoint, subnets.map((s) => s.subnet_id));
  const tables = await ctx.tx.selectFrom('vpc_endpoint_route_tables').select('route_table_id').where('vpc_endpoint_id', '=', endpoint.id).execute();
  await removeRouteTables(ctx, endpoint, tables.map((t) => t.route_table_id));
  await ctx.tx.deleteFrom('vpc_endpoint_groups').where('vpc_endpoint_id', '=', endpoint.id).execute();
  await ctx.tx.deleteFrom('vpc_endpoints').where('id', '=', endpoint.id).execute();
  await deleteAllTags(ctx, endpoint.id);
  ctx.emit({ type: 'vpc-endpoint.deleted', vpcEndpointId: endpoint.id });
}

export async function deleteVpcEndpoints(ctx: Context, input: DeleteVpcEndpointsRequest): Promise<DeleteVpcEndpointsResult> {
  const ids = input.VpcEndpointIds ?? [];
  if (!ids.length) throw Errors.missingParameter('VpcEndpointId');
  // AWS: each id answers on its own; a malformed or unknown one is listed as unsuccessful.
  const unsuccessful: UnsuccessfulItem[] = [];
  for (const id of [...new Set(ids)]) {
    const endpoint = isIdOf('vpce', id) ? await findOwned(ctx, 'vpc_endpoints', id) : undefined;
    if (!endpoint) {
      unsuccessful.push({
        ResourceId: id,
        Error: isIdOf('vpce', id)
          ? { Code: 'InvalidVpcEndpoint.NotFound', Message: `The Vpc Endpoint Id '${id}' does not exist` }
          : { Code: 'InvalidVpcEndpointId.Malformed', Message: `Invalid Id: '${id}' (expecting 'vpce-...')` },
      });
      continue;
    }
    await destroyEndpoint(ctx, endpoint);
  }
  return { Unsuccessful: unsuccessful };
}
