/**
 * AWS's Reachability Analyzer through the EC2 API: CreateNetworkInsightsPath,
 * DescribeNetworkInsightsPaths, DeleteNetworkInsightsPath, StartNetworkInsightsAnalysis,
 * DescribeNetworkInsightsAnalyses, DeleteNetworkInsightsAnalysis.
 *
 * An analysis runs the same evaluation as the data plane's probes (src/dataplane/evaluate.ts),
 * so probes, analyses and flow logs always agree. It completes at once (status `succeeded`).
 */
import type {
  AnalysisComponent,
  CreateNetworkInsightsPathRequest,
  CreateNetworkInsightsPathResult,
  DeleteNetworkInsightsAnalysisRequest,
  DeleteNetworkInsightsAnalysisResult,
  DeleteNetworkInsightsPathRequest,
  DeleteNetworkInsightsPathResult,
  DescribeNetworkInsightsAnalysesRequest,
  DescribeNetworkInsightsAnalysesResult,
  DescribeNetworkInsightsPathsRequest,
  DescribeNetworkInsightsPathsResult,
  Explanation,
  NetworkInsightsAnalysis,
  NetworkInsightsPath,
  PathComponent,
  StartNetworkInsightsAnalysisRequest,
  StartNetworkInsightsAnalysisResult,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { DEFAULT_INTERNET_ADDRESS, evaluateFlow, type DropReason, type Endpoint, type FlowResult, type Hop } from '../dataplane/evaluate.ts';
import { describeRows } from '../store/describe.ts';
import type { Context } from './context.ts';
import { getOwned } from './owned.ts';
import { checkIds, isIdOf, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';

/** AWS's explanation code for each reason the data plane drops a packet. */
const EXPLANATION_CODES: Record<DropReason, string> = {
  'no-route': 'NO_ROUTE_TO_DESTINATION',
  'no-destination': 'NO_ROUTE_TO_DESTINATION',
  'no-public-ip': 'IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS',
  'sg-egress-denied': 'ENI_SG_RULES_MISMATCH',
  'sg-ingress-denied': 'ENI_SG_RULES_MISMATCH',
  'nacl-denied': 'SUBNET_ACL_RESTRICTION',
  'eni-not-attached': 'BAD_STATE_ATTACHMENT',
  'instance-not-running': 'BAD_STATE',
  'instance-impaired': 'BAD_STATE',
  'source-dest-check': 'ENI_SOURCE_DEST_CHECK_RESTRICTION',
  'invalid-flow': 'CANNOT_ROUTE',
};

const arnOf = (ctx: Context, id: string) => {
  const type = id.startsWith('eni-') ? 'network-interface' : id.startsWith('i-') ? 'instance' : id.startsWith('igw-') ? 'internet-gateway' : id.startsWith('sg-') ? 'security-group' : id.startsWith('acl-') ? 'network-acl' : id.startsWith('rtb-') ? 'route-table' : id.startsWith('nip-') ? 'network-insights-path' : id.startsWith('nia-') ? 'network-insights-analysis' : 'resource';
  return `arn:aws:ec2:${ctx.region}:${ctx.account}:${type}/${id}`;
};

async function checkEndpointResource(ctx: Context, id: string, parameter: string): Promise<void> {
  const kinds = [
    { prefix: 'i', table: 'instances' as const, errors: Errors.instanceId },
    { prefix: 'eni', table: 'network_interfaces' as const, errors: Errors.networkInterfaceId },
    { prefix: 'igw', table: 'internet_gateways' as const, errors: Errors.internetGatewayId },
  ];
  const kind = kinds.find((k) => isIdOf(k.prefix, id));
  if (!kind) throw Errors.invalidParameterValueFor(parameter, id, 'eni-local analyses paths between instances, network interfaces and internet gateways.');
  await getOwned(ctx, kind, id, parameter);
}

export async function createNetworkInsightsPath(ctx: Context, input: CreateNetworkInsightsPathRequest): Promise<CreateNetworkInsightsPathResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['network-insights-path']);
  if (input.Source === undefined) throw Errors.missingParameter('Source');
  if (input.Protocol === undefined) throw Errors.missingParameter('Protocol');
  if (input.Destination === undefined && input.DestinationIp === undefined) throw Errors.missingParameter('Destination or DestinationIp');
  await checkEndpointResource(ctx, input.Source, 'Source');
  if (input.Destination !== undefined) await checkEndpointResource(ctx, input.Destination, 'Destination');
  if (input.Source.startsWith('igw-') && input.Destination?.startsWith('igw-')) {
    throw Errors.invalidParameterCombination('The source and the destination cannot both be internet gateways.');
  }
  const id = newId('nip');
  const path: NetworkInsightsPath = {
    NetworkInsightsPathId: id,
    NetworkInsightsPathArn: arnOf(ctx, id),
    CreatedDate: ctx.now,
    Source: input.Source,
    SourceArn: arnOf(ctx, input.Source),
    Destination: input.Destination,
    DestinationArn: input.Destination ? arnOf(ctx, input.Destination) : undefined,
    SourceIp: input.SourceIp,
    DestinationIp: input.DestinationIp,
    Protocol: input.Protocol,
    DestinationPort: input.DestinationPort,
    FilterAtSource: input.FilterAtSource,
    FilterAtDestination: input.FilterAtDestination,
  };
  await ctx.tx.insertInto('network_insights_paths').values({ id, account_id: ctx.account, region: ctx.region, body: JSON.stringify(path), created_at: ctx.now.toISOString() }).execute();
  await applyTagSpecifications(ctx, 'network-insights-path', id, input.TagSpecifications);
  return { NetworkInsightsPath: { ...path, Tags: (await tagsOf(ctx.tx, [id])).get(id) ?? [] } };
}

const revive = <T>(body: string, dates: string[]): T => {
  const value = JSON.parse(body) as Record<string, unknown>;
  for (const key of dates) if (typeof value[key] === 'string') value[key] = new Date(value[key] as string);
  return value as T;
};

async function getPath(ctx: Context, id: string | undefined): Promise<NetworkInsightsPath> {
  if (id === undefined) throw Errors.missingParameter('NetworkInsightsPathId');
  checkIds('nip', Errors.networkInsightsPathId, [id]);
  const row = await ctx.tx.selectFrom('network_insights_paths').selectAll().where('id', '=', id).where('account_id', '=', ctx.account).where('region', '=', ctx.region).executeTakeFirst();
  if (!row) throw Errors.networkInsightsPathId.notFound(id);
  return revive<NetworkInsightsPath>(row.body, ['CreatedDate']);
}

export async function describeNetworkInsightsPaths(ctx: Context, input: DescribeNetworkInsightsPathsRequest): Promise<DescribeNetworkInsightsPathsResult> {
  checkIds('nip', Errors.networkInsightsPathId, input.NetworkInsightsPathIds ?? []);
  const page = await describeRows<{ id: string; body: string }>(ctx.tx, {
    table: 'network_insights_paths',
    account: ctx.account,
    region: ctx.region,
    ids: input.NetworkInsightsPathIds,
    idErrors: Errors.networkInsightsPathId,
    filters: [],
    spec: {},
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  const tags = await tagsOf(ctx.tx, page.rows.map((r) => r.id));
  const fields: Record<string, (p: NetworkInsightsPath) => unknown> = {
    source: (p) => p.Source,
    destination: (p) => p.Destination,
    'destination-ip': (p) => p.DestinationIp,
    protocol: (p) => p.Protocol,
    'destination-port': (p) => (p.DestinationPort === undefined ? undefined : String(p.DestinationPort)),
  };
  const paths = page.rows
    .map((r) => ({ ...revive<NetworkInsightsPath>(r.body, ['CreatedDate']), Tags: tags.get(r.id) ?? [] }))
    .filter((p) =>
      (input.Filters ?? []).every((f) => {
        if (f.Name?.startsWith('tag:')) return p.Tags.some((t) => t.Key === f.Name!.slice(4) && f.Values?.includes(t.Value ?? ''));
        const get = fields[f.Name ?? ''];
        if (!get) throw Errors.invalidFilter(f.Name ?? '');
        return f.Values?.includes(String(get(p)));
      }),
    );
  return { NetworkInsightsPaths: paths, NextToken: page.nextToken };
}

export async function deleteNetworkInsightsPath(ctx: Context, input: DeleteNetworkInsightsPathRequest): Promise<DeleteNetworkInsightsPathResult> {
  const path = await getPath(ctx, input.NetworkInsightsPathId);
  const analysis = await ctx.tx.selectFrom('network_insights_analyses').select('id').where('path_id', '=', path.NetworkInsightsPathId!).executeTakeFirst();
  // AWS: a path with analyses keeps them; delete the analyses first.
  if (analysis) throw Errors.analysisExistsForPath(path.NetworkInsightsPathId!);
  await ctx.tx.deleteFrom('network_insights_paths').where('id', '=', path.NetworkInsightsPathId!).execute();
  await deleteAllTags(ctx, path.NetworkInsightsPathId!);
  return { NetworkInsightsPathId: path.NetworkInsightsPathId };
}

/**
 * The flows a path describes, resolved against the current state: one per destination address
 * it may mean. With a DestinationIp, that address. Without one, every address of the destination
 * interface (its primary instance interface for an instance) that the source could use: from an
 * internet gateway its public addresses — an Elastic IP or automatic public IPv4 on any of its
 * private addresses, the primary's first — otherwise its private addresses, primary first. AWS:
 * when several paths exist the analysis shows one that is reachable.
 */
async function flowsOf(ctx: Context, path: NetworkInsightsPath): Promise<{ from: Endpoint; to: string[]; port: number }> {
  const port = path.DestinationPort ?? path.FilterAtDestination?.DestinationPortRange?.FromPort ?? path.FilterAtSource?.DestinationPortRange?.FromPort ?? 0;
  const source = path.Source!;
  const from: Endpoint = source.startsWith('igw-')
    ? { kind: 'internet', address: path.SourceIp ?? DEFAULT_INTERNET_ADDRESS }
    : source.startsWith('eni-')
      ? { kind: 'eni', id: source }
      : { kind: 'instance', id: source };
  if (path.DestinationIp) return { from, to: [path.DestinationIp], port };
  const destination = path.Destination!;
  if (destination.startsWith('igw-')) return { from, to: [DEFAULT_INTERNET_ADDRESS], port };
  const eni = await ctx.tx
    .selectFrom('network_interfaces')
    .select(['id', 'private_ip_address'])
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where((eb) => (destination.startsWith('eni-') ? eb('id', '=', destination) : eb.and([eb('instance_id', '=', destination), eb('device_index', '=', 0)])))
    .executeTakeFirst();
  if (!eni) return { from, to: ['0.0.0.0'], port };
  const primaryFirst = <T extends { address: string }>(rows: T[]) => [...rows].sort((a, b) => Number(b.address === eni.private_ip_address) - Number(a.address === eni.private_ip_address));
  // An interface in an IPv6-only subnet is reached at its IPv6 addresses.
  const ipv6Addresses = async () =>
    (await ctx.tx.selectFrom('ipv6_addresses').select('address').where('network_interface_id', '=', eni.id).where('kind', '=', 'address').orderBy('address').execute()).map((r) => r.address);
  if (from.kind !== 'internet') {
    const privates = await ctx.tx.selectFrom('private_ip_addresses').select('address').where('network_interface_id', '=', eni.id).orderBy('address_int').execute();
    if (!privates.length) return { from, to: await ipv6Addresses(), port };
    return { from, to: primaryFirst(privates).map((r) => r.address), port };
  }
  // From the internet, a destination is reached at its public addresses.
  const mapped = await ctx.tx.selectFrom('public_addresses').select(['public_ip', 'private_ip_address']).where('network_interface_id', '=', eni.id).orderBy('public_ip').execute();
  const publics = primaryFirst(mapped.map((m) => ({ address: m.private_ip_address ?? '', publicIp: m.public_ip })));
  if (publics.length) return { from, to: publics.map((p) => p.publicIp), port };
  return { from, to: eni.private_ip_address ? [eni.private_ip_address] : await ipv6Addresses(), port };
}

/** The evaluation of a path: the first of its flows that is reachable, else the first one. */
async function evaluatePath(ctx: Context, path: NetworkInsightsPath): Promise<FlowResult> {
  const flows = await flowsOf(ctx, path);
  let first: FlowResult | undefined;
  // A destination with no address at all is evaluated as the unknown one is.
  for (const to of flows.to.length ? flows.to : ['0.0.0.0']) {
    const result = await evaluateFlow(ctx.tx, { account: ctx.account, region: ctx.region, from: flows.from, to, protocol: path.Protocol!, port: flows.port });
    // From an internet gateway, only a path through that gateway counts.
    const throughSource = !path.Source!.startsWith('igw-') || result.hops.some((h) => h.component === 'internet-gateway' && h.resourceId === path.Source);
    if (result.delivered && throughSource) return result;
    first ??= throughSource ? result : { ...result, delivered: false, reason: result.reason ?? 'no-route' };
  }
  return first!;
}

function componentOf(ctx: Context, id: string): AnalysisComponent {
  return { Id: id, Arn: arnOf(ctx, id) };
}

function pathComponents(ctx: Context, hops: Hop[]): PathComponent[] {
  return hops
    .filter((h) => h.verdict === 'pass' && h.resourceId)
    .map((h, i) => ({ SequenceNumber: i + 1, Component: componentOf(ctx, h.resourceId), AdditionalDetails: h.rule ? [{ AdditionalDetailType: h.component, Component: componentOf(ctx, h.resourceId) }] : undefined }));
}

function explanations(ctx: Context, result: FlowResult): Explanation[] {
  if (result.delivered || !result.reason) return [];
  const blocking = [...result.hops].reverse().find((h) => h.verdict === 'drop');
  const id = blocking?.resourceId?.split(',')[0] ?? '';
  const explanation: Explanation = { ExplanationCode: EXPLANATION_CODES[result.reason], Component: id ? componentOf(ctx, id) : undefined };
  if (result.reason === 'sg-egress-denied' || result.reason === 'sg-ingress-denied' || result.reason === 'nacl-denied') {
    explanation.Direction = result.reason === 'sg-egress-denied' || blocking?.component === 'network-acl-egress' ? 'egress' : 'ingress';
  }
  if (blocking?.component.startsWith('security-group')) explanation.SecurityGroups = (blocking.resourceId ?? '').split(',').filter(Boolean).map((g) => componentOf(ctx, g));
  if (blocking?.component.startsWith('network-acl')) explanation.Acl = componentOf(ctx, id);
  if (blocking?.component === 'route-table') explanation.RouteTable = componentOf(ctx, id);
  return [explanation];
}

export async function startNetworkInsightsAnalysis(ctx: Context, input: StartNetworkInsightsAnalysisRequest): Promise<StartNetworkInsightsAnalysisResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['network-insights-analysis']);
  const path = await getPath(ctx, input.NetworkInsightsPathId);
  const result = await evaluatePath(ctx, path);
  const id = newId('nia');
  const analysis: NetworkInsightsAnalysis = {
    NetworkInsightsAnalysisId: id,
    NetworkInsightsAnalysisArn: arnOf(ctx, id),
    NetworkInsightsPathId: path.NetworkInsightsPathId,
    StartDate: ctx.now,
    Status: 'succeeded',
    NetworkPathFound: result.delivered,
    ForwardPathComponents: pathComponents(ctx, result.hops),
    Explanations: explanations(ctx, result),
  };
  await ctx.tx
    .insertInto('network_insights_analyses')
    .values({ id, account_id: ctx.account, region: ctx.region, path_id: path.NetworkInsightsPathId!, body: JSON.stringify(analysis), created_at: ctx.now.toISOString() })
    .execute();
  await applyTagSpecifications(ctx, 'network-insights-analysis', id, input.TagSpecifications);
  return { NetworkInsightsAnalysis: { ...analysis, Tags: (await tagsOf(ctx.tx, [id])).get(id) ?? [] } };
}

export async function describeNetworkInsightsAnalyses(ctx: Context, input: DescribeNetworkInsightsAnalysesRequest): Promise<DescribeNetworkInsightsAnalysesResult> {
  checkIds('nia', Errors.networkInsightsAnalysisId, input.NetworkInsightsAnalysisIds ?? []);
  const page = await describeRows<{ id: string; body: string }>(ctx.tx, {
    table: 'network_insights_analyses',
    account: ctx.account,
    region: ctx.region,
    ids: input.NetworkInsightsAnalysisIds,
    idErrors: Errors.networkInsightsAnalysisId,
    filters: [],
    spec: {},
    where: input.NetworkInsightsPathId ? { path_id: input.NetworkInsightsPathId } : undefined,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  const tags = await tagsOf(ctx.tx, page.rows.map((r) => r.id));
  const analyses = page.rows
    .map((r) => ({ ...revive<NetworkInsightsAnalysis>(r.body, ['StartDate']), Tags: tags.get(r.id) ?? [] }))
    .filter((a) =>
      (input.Filters ?? []).every((f) => {
        if (f.Name === 'path-found') return f.Values?.includes(String(a.NetworkPathFound));
        if (f.Name === 'status') return f.Values?.includes(String(a.Status));
        throw Errors.invalidFilter(f.Name ?? '');
      }),
    );
  return { NetworkInsightsAnalyses: analyses, NextToken: page.nextToken };
}

export async function deleteNetworkInsightsAnalysis(ctx: Context, input: DeleteNetworkInsightsAnalysisRequest): Promise<DeleteNetworkInsightsAnalysisResult> {
  const id = input.NetworkInsightsAnalysisId;
  if (id === undefined) throw Errors.missingParameter('NetworkInsightsAnalysisId');
  checkIds('nia', Errors.networkInsightsAnalysisId, [id]);
  const row = await ctx.tx.selectFrom('network_insights_analyses').select('id').where('id', '=', id).where('account_id', '=', ctx.account).where('region', '=', ctx.region).executeTakeFirst();
  if (!row) throw Errors.networkInsightsAnalysisId.notFound(id);
  await ctx.tx.deleteFrom('network_insights_analyses').where('id', '=', id).execute();
  await deleteAllTags(ctx, id);
  return { NetworkInsightsAnalysisId: id };
}
