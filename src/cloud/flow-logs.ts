/**
 * VPC Flow Logs: CreateFlowLogs, DescribeFlowLogs, DeleteFlowLogs, and the records the data
 * plane writes for every evaluated flow — AWS's default format (version 2 fields), one record
 * per interface that saw the flow, kept in the store (readable at GET /_eni/flow-logs/{id})
 * and appended to a file per flow log under the data directory.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type {
  CreateFlowLogsRequest,
  CreateFlowLogsResult,
  DeleteFlowLogsRequest,
  DeleteFlowLogsResult,
  DescribeFlowLogsRequest,
  DescribeFlowLogsResult,
  FlowLog,
  UnsuccessfulItem,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import type { FlowResult, Observation } from '../dataplane/evaluate.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { findOwned } from './owned.ts';
import { isIdOf, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';
import { checkMaxResults } from './rules/paging.ts';

export const DEFAULT_LOG_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

const RESOURCE_TYPES: Record<string, { prefix: string; table: 'network_interfaces' | 'subnets' | 'vpcs' }> = {
  NetworkInterface: { prefix: 'eni', table: 'network_interfaces' },
  Subnet: { prefix: 'subnet', table: 'subnets' },
  VPC: { prefix: 'vpc', table: 'vpcs' },
};

const FLOW_LOG_FILTERS: FilterSpec = {
  'flow-log-id': { column: 'id' },
  'resource-id': { column: 'resource_id' },
  'traffic-type': { column: 'traffic_type' },
  'log-destination-type': { column: 'log_destination_type' },
  'log-group-name': { column: 'log_group_name' },
};

/** The fields a log format may name, as AWS documents them (version 2 and the common later ones). */
const FIELDS: Record<string, (o: Observation, r: RecordContext) => string | number> = {
  version: () => 2,
  'account-id': (_o, r) => r.account,
  'interface-id': (o) => o.networkInterfaceId,
  srcaddr: (o) => o.srcaddr,
  dstaddr: (o) => o.dstaddr,
  srcport: (o) => o.srcport,
  dstport: (o) => o.dstport,
  protocol: (o, r) => o.measured?.protocol ?? r.protocol,
  packets: (o) => o.measured?.packets ?? 1,
  bytes: (o, r) => o.measured?.bytes ?? (r.protocol === 6 ? 60 : 84),
  start: (o, r) => o.measured?.start ?? r.epoch,
  end: (o, r) => o.measured?.end ?? r.epoch,
  action: (o) => o.action,
  'log-status': () => 'OK',
  'vpc-id': (o) => o.vpcId,
  'subnet-id': (o) => o.subnetId,
  'instance-id': (_o, r) => r.instanceOf(_o.networkInterfaceId),
  type: (o) => (o.srcaddr.includes(':') ? 'IPv6' : 'IPv4'),
  'pkt-srcaddr': (o) => o.pktSrcaddr,
  'pkt-dstaddr': (o) => o.pktDstaddr,
  region: (_o, r) => r.region,
  'flow-direction': (o) => o.direction,
  'tcp-flags': (o, r) => ((o.measured?.protocol ?? r.protocol) === 6 ? 2 : 0),
};

interface RecordContext {
  account: string;
  region: string;
  protocol: number;
  epoch: number;
  instanceOf: (eniId: string) => string;
}

function checkFormat(format: string): void {
  const fields = [...format.matchAll(/\$\{([a-z0-9-]+)\}/g)].map((m) => m[1]);
  if (!fields.length) throw Errors.invalidParameterValueFor('LogFormat', format, 'A log format names fields as ${field}.');
  const unknown = fields.find((f) => !Object.hasOwn(FIELDS, f));
  if (unknown) throw Errors.invalidParameterValueFor('LogFormat', format, `Unknown or unsupported field '${unknown}'.`);
}

export async function createFlowLogs(ctx: Context, input: CreateFlowLogsRequest): Promise<CreateFlowLogsResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['vpc-flow-log']);
  const type = input.ResourceType;
  if (type === undefined) throw Errors.missingParameter('ResourceType');
  const kind = Object.hasOwn(RESOURCE_TYPES, type) ? RESOURCE_TYPES[type] : undefined;
  if (!kind) throw Errors.invalidParameterValueFor('ResourceType', type, 'eni-local logs NetworkInterface, Subnet and VPC resources.');
  if (!input.ResourceIds?.length) throw Errors.missingParameter('ResourceId.1');
  const trafficType = input.TrafficType ?? 'ALL';
  if (!['ACCEPT', 'REJECT', 'ALL'].includes(trafficType)) throw Errors.invalidParameterValueFor('TrafficType', trafficType);
  const destinationType = input.LogDestinationType ?? 'cloud-watch-logs';
  if (destinationType === 'cloud-watch-logs' && !input.LogGroupName && !input.LogDestination) throw Errors.missingParameter('LogGroupName or LogDestination');
  const format = input.LogFormat ?? DEFAULT_LOG_FORMAT;
  checkFormat(format);
  const interval = input.MaxAggregationInterval ?? 600;
  if (interval !== 60 && interval !== 600) throw Errors.invalidParameterValueFor('MaxAggregationInterval', String(interval));
  const ids: string[] = [];
  const unsuccessful: UnsuccessfulItem[] = [];
  for (const resourceId of input.ResourceIds) {
    // AWS answers per resource: the ones it cannot log come back in Unsuccessful.
    const exists =
      isIdOf(kind.prefix, resourceId) && (await findOwned(ctx, kind.table, resourceId));
    if (!exists) {
      unsuccessful.push({ ResourceId: resourceId, Error: { Code: 'InvalidParameter', Message: `${type} ${resourceId} does not exist` } });
      continue;
    }
    const id = newId('fl');
    await ctx.tx
      .insertInto('flow_logs')
      .values({
        id,
        account_id: ctx.account,
        region: ctx.region,
        resource_id: resourceId,
        resource_type: type,
        traffic_type: trafficType,
        log_destination_type: destinationType,
        log_destination: input.LogDestination ?? null,
        log_group_name: input.LogGroupName ?? null,
        log_format: format,
        max_aggregation_interval: interval,
        created_at: ctx.now.toISOString(),
      })
      .execute();
    await applyTagSpecifications(ctx, 'vpc-flow-log', id, input.TagSpecifications);
    ids.push(id);
  }
  return { FlowLogIds: ids, Unsuccessful: unsuccessful, ClientToken: input.ClientToken };
}

async function flowLogsOf(tx: Tx, rows: Row<'flow_logs'>[]): Promise<FlowLog[]> {
  const tags = await tagsOf(tx, rows.map((r) => r.id));
  return rows.map((row) => ({
    FlowLogId: row.id,
    CreationTime: new Date(row.created_at),
    DeliverLogsStatus: 'SUCCESS',
    FlowLogStatus: 'ACTIVE',
    ResourceId: row.resource_id,
    TrafficType: row.traffic_type as FlowLog['TrafficType'],
    LogDestinationType: row.log_destination_type as FlowLog['LogDestinationType'],
    LogDestination: row.log_destination ?? undefined,
    LogGroupName: row.log_group_name ?? undefined,
    LogFormat: row.log_format,
    MaxAggregationInterval: row.max_aggregation_interval,
    Tags: tags.get(row.id) ?? [],
  }));
}

export async function describeFlowLogs(ctx: Context, input: DescribeFlowLogsRequest): Promise<DescribeFlowLogsResult> {
  // AWS documents no range (nor does the model); unchecked, a negative one broke paging.
  checkMaxResults(input.MaxResults, { min: 1, max: 1000 });
  const page = await describeRows<Row<'flow_logs'>>(ctx.tx, {
    table: 'flow_logs',
    account: ctx.account,
    region: ctx.region,
    ids: input.FlowLogIds,
    filters: input.Filter,
    spec: FLOW_LOG_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { FlowLogs: await flowLogsOf(ctx.tx, page.rows), NextToken: page.nextToken };
}

export async function deleteFlowLogs(ctx: Context, input: DeleteFlowLogsRequest): Promise<DeleteFlowLogsResult> {
  if (!input.FlowLogIds?.length) throw Errors.missingParameter('FlowLogId.1');
  const unsuccessful: UnsuccessfulItem[] = [];
  for (const id of input.FlowLogIds) {
    const row = await ctx.tx.selectFrom('flow_logs').select('id').where('id', '=', id).where('account_id', '=', ctx.account).where('region', '=', ctx.region).executeTakeFirst();
    if (!row) {
      unsuccessful.push({ ResourceId: id, Error: { Code: 'InvalidFlowLogId.NotFound', Message: `Flow log ${id} does not exist` } });
      continue;
    }
    await ctx.tx.deleteFrom('flow_log_records').where('flow_log_id', '=', id).execute();
    await ctx.tx.deleteFrom('flow_logs').where('id', '=', id).execute();
    await deleteAllTags(ctx, id);
  }
  return { Unsuccessful: unsuccessful };
}

export function flowLogFile(dataDir: string, flowLogId: string): string {
  return path.join(dataDir, 'flow-logs', `${flowLogId}.log`);
}

/** Writes the records of one evaluated flow into every flow log that covers an interface that saw it. */
export async function recordFlow(ctx: Context, result: FlowResult): Promise<void> {
  await recordObservations(ctx, result.protocol, result.observations);
}

/** Writes what interfaces saw (evaluated, or measured by the linux plane) into every flow log that covers them. */
export async function recordObservations(ctx: Context, protocol: number, observations: readonly Observation[]): Promise<void> {
  const result = { protocol, observations };
  if (!result.observations.length) return;
  const eniIds = [...new Set(result.observations.map((o) => o.networkInterfaceId))];
  const enis = await ctx.tx.selectFrom('network_interfaces').select(['id', 'instance_id']).where('id', 'in', eniIds).execute();
  const record: RecordContext = {
    account: ctx.account,
    region: ctx.region,
    protocol: result.protocol,
    epoch: Math.floor(ctx.now.getTime() / 1000),
    instanceOf: (id) => enis.find((e) => e.id === id)?.instance_id ?? '-',
  };
  const lines = new Map<string, string[]>();
  for (const o of result.observations) {
    const logs = await ctx.tx
      .selectFrom('flow_logs')
      .selectAll()
      .where('account_id', '=', ctx.account)
      .where('region', '=', ctx.region)
      .where('resource_id', 'in', [o.networkInterfaceId, o.subnetId, o.vpcId])
      .execute();
    for (const log of logs) {
      if (log.traffic_type !== 'ALL' && log.traffic_type !== o.action) continue;
      const line = log.log_format.replace(/\$\{([a-z0-9-]+)\}/g, (_m, field: string) => String((Object.hasOwn(FIELDS, field) ? FIELDS[field](o, record) : undefined) ?? '-'));
      const { seq } = await ctx.tx.selectFrom('flow_log_records').select((eb) => eb.fn.max('seq').as('seq')).where('flow_log_id', '=', log.id).executeTakeFirstOrThrow();
      await ctx.tx.insertInto('flow_log_records').values({ flow_log_id: log.id, seq: Number(seq ?? 0) + 1, line }).execute();
      lines.set(log.id, [...(lines.get(log.id) ?? []), line]);
    }
  }
  ctx.afterCommit(() => {
    for (const [id, text] of lines) {
      const file = flowLogFile(ctx.config.dataDir, id);
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, text.map((l) => `${l}\n`).join(''));
    }
  });
}

/** The records of a flow log, oldest first. */
export async function flowLogRecords(tx: Tx, flowLogId: string, owner: { account: string; region: string }): Promise<string[] | undefined> {
  const log = await tx
    .selectFrom('flow_logs')
    .select('id')
    .where('id', '=', flowLogId)
    .where('account_id', '=', owner.account)
    .where('region', '=', owner.region)
    .executeTakeFirst();
  if (!log) return undefined;
  const rows = await tx.selectFrom('flow_log_records').select('line').where('flow_log_id', '=', flowLogId).orderBy('seq').execute();
  return rows.map((r) => r.line);
}
