/**
 * Test fixtures for the data-plane suites (route tables, network ACLs, probes, flow logs,
 * Reachability Analyzer, events): the JSON API under /_eni/ (probes, fault injection, flow-log
 * records, the event stream), reads of one route table or ACL, flow-log record parsing, and a
 * Reachability Analyzer waiter.
 */
import assert from 'node:assert/strict';
import {
  DescribeNetworkAclsCommand,
  DescribeNetworkInsightsAnalysesCommand,
  DescribeRouteTablesCommand,
  type DescribeNetworkInsightsAnalysesCommandInput,
  type DescribeNetworkInsightsAnalysesCommandOutput,
  type EC2Client,
  type NetworkAcl,
  type RouteTable,
} from '@aws-sdk/client-ec2';
// The same waiter machinery the SDK's generated waiters use (see @aws-sdk/client-ec2/dist-es/waiters).
import { checkExceptions, createWaiter, WaiterState, type WaiterConfiguration, type WaiterResult } from '@smithy/core/client';
import type { CloudEvent } from '../../src/events.ts';
import type { DropReason, FlowResult } from '../../src/dataplane/evaluate.ts';

export type { DropReason, FlowResult };

/** Where the data plane says "somewhere on the internet" is when a probe names no address. */
export const INTERNET_ADDRESS = '203.0.113.10';

// --- the JSON API ----------------------------------------------------------------------------------

export interface Scope {
  account?: string;
  region?: string;
}

const scopeHeaders = (scope: Scope = {}): Record<string, string> => ({
  ...(scope.account ? { 'x-eni-account': scope.account } : {}),
  ...(scope.region ? { 'x-eni-region': scope.region } : {}),
});

export interface ProbeRequest {
  /** `eni-…`, `i-…`, `internet` or `internet:ADDRESS`. */
  from: string;
  to: string;
  protocol?: string;
  port?: number;
  sourcePort?: number;
}

/** POST /_eni/probe with any body (for malformed-body tests); the status and the parsed JSON. */
export async function rawProbe(url: string, body: unknown, scope?: Scope): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${url}/_eni/probe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...scopeHeaders(scope) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/** A probe that must be evaluated (HTTP 200); its verdict, hops and observations. */
export async function probe(url: string, request: ProbeRequest, scope?: Scope): Promise<FlowResult> {
  const { status, json } = await rawProbe(url, { protocol: 'tcp', ...request }, scope);
  assert.equal(status, 200, `probe ${JSON.stringify(request)} answered ${status}: ${JSON.stringify(json)}`);
  return json as FlowResult;
}

/** The error envelope of the JSON API: `{ error: { code, message } }`. */
export function errorOf(json: unknown): { code?: string; message?: string } {
  return ((json as { error?: { code?: string; message?: string } })?.error ?? {}) as { code?: string; message?: string };
}

const describeFlow = (r: FlowResult) =>
  `delivered=${r.delivered} reason=${r.reason ?? '-'} hops=${r.hops.map((h) => `${h.component}:${h.verdict}${h.detail ? `(${h.detail})` : ''}`).join(' → ')}`;

export function assertDelivered(result: FlowResult, message = ''): FlowResult {
  assert.equal(result.delivered, true, `${message} expected delivery, got ${describeFlow(result)}`);
  assert.equal(result.reason, undefined);
  return result;
}

export function assertDropped(result: FlowResult, reason: DropReason, message = ''): FlowResult {
  assert.equal(result.delivered, false, `${message} expected a drop (${reason}), got ${describeFlow(result)}`);
  assert.equal(result.reason, reason, `${message} ${describeFlow(result)}`);
  return result;
}

/** The hop that dropped the flow. */
export function blockingHop(result: FlowResult) {
  const hop = [...result.hops].reverse().find((h) => h.verdict === 'drop');
  assert.ok(hop, `a dropped flow names the hop that dropped it: ${describeFlow(result)}`);
  return hop;
}

async function post(url: string, path: string, scope?: Scope): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: scopeHeaders(scope) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

/** POST /_eni/instances/{id}/fail: the instance keeps running but fails its status checks. */
export async function failInstance(url: string, instanceId: string, scope?: Scope) {
  const answer = await post(url, `/_eni/instances/${instanceId}/fail`, scope);
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  return answer.json;
}

export async function recoverInstance(url: string, instanceId: string, scope?: Scope) {
  const answer = await post(url, `/_eni/instances/${instanceId}/recover`, scope);
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  return answer.json;
}

/** GET /_eni/flow-logs/{id}: the status and the record lines. */
export async function rawFlowLog(url: string, flowLogId: string): Promise<{ status: number; lines: string[]; json?: unknown }> {
  const response = await fetch(`${url}/_eni/flow-logs/${flowLogId}`);
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, lines: [], json: JSON.parse(text) };
  return { status: 200, lines: text.split('\n').filter((l) => l.length > 0) };
}

export async function flowLogLines(url: string, flowLogId: string): Promise<string[]> {
  const { status, lines } = await rawFlowLog(url, flowLogId);
  assert.equal(status, 200, `flow log ${flowLogId} is readable`);
  return lines;
}

// --- flow-log records --------------------------------------------------------------------------------

/** A record in AWS's default format (version 2): the 14 fields, in order. */
export interface FlowRecord {
  version: string;
  accountId: string;
  interfaceId: string;
  srcaddr: string;
  dstaddr: string;
  srcport: string;
  dstport: string;
  protocol: string;
  packets: string;
  bytes: string;
  start: string;
  end: string;
  action: string;
  logStatus: string;
}

/** Parses a default-format record, asserting it has exactly the 14 space-separated fields. */
export function parseRecord(line: string): FlowRecord {
  const fields = line.split(' ');
  assert.equal(fields.length, 14, `a default-format record has 14 fields: '${line}'`);
  const [version, accountId, interfaceId, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, logStatus] = fields;
  return { version, accountId, interfaceId, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, logStatus };
}

/** The records a flow log gained between two reads. */
export function newLines(before: readonly string[], after: readonly string[]): string[] {
  assert.deepEqual(after.slice(0, before.length), [...before], 'a flow log only ever grows at its end');
  return after.slice(before.length);
}

// --- route tables and ACLs ---------------------------------------------------------------------------

export async function describeRouteTable(ec2: EC2Client, id: string): Promise<RouteTable> {
  const { RouteTables } = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] }));
  assert.equal(RouteTables!.length, 1);
  return RouteTables![0];
}

export async function mainRouteTableOf(ec2: EC2Client, vpcId: string): Promise<RouteTable> {
  const { RouteTables } = await ec2.send(
    new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'association.main', Values: ['true'] }] }),
  );
  assert.equal(RouteTables!.length, 1, `VPC ${vpcId} has one main route table`);
  return RouteTables![0];
}

/** The ids of the route tables matching the filters, sorted. */
export async function routeTableIds(ec2: EC2Client, filters: { Name: string; Values: string[] }[]): Promise<string[]> {
  const { RouteTables } = await ec2.send(new DescribeRouteTablesCommand({ Filters: filters }));
  return RouteTables!.map((t) => t.RouteTableId!).sort();
}

export const routeTo = (table: RouteTable, destination: string) =>
  table.Routes?.find((r) => r.DestinationCidrBlock === destination || r.DestinationIpv6CidrBlock === destination);

export async function describeAcl(ec2: EC2Client, id: string): Promise<NetworkAcl> {
  const { NetworkAcls } = await ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [id] }));
  assert.equal(NetworkAcls!.length, 1);
  return NetworkAcls![0];
}

export async function defaultAclOf(ec2: EC2Client, vpcId: string): Promise<NetworkAcl> {
  const { NetworkAcls } = await ec2.send(
    new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'default', Values: ['true'] }] }),
  );
  assert.equal(NetworkAcls!.length, 1, `VPC ${vpcId} has one default network ACL`);
  return NetworkAcls![0];
}

export async function aclIds(ec2: EC2Client, filters: { Name: string; Values: string[] }[]): Promise<string[]> {
  const { NetworkAcls } = await ec2.send(new DescribeNetworkAclsCommand({ Filters: filters }));
  return NetworkAcls!.map((a) => a.NetworkAclId!).sort();
}

/** The ACL association of a subnet (every subnet has exactly one). */
export async function aclAssociationOf(ec2: EC2Client, subnetId: string): Promise<{ networkAclId: string; associationId: string }> {
  const { NetworkAcls } = await ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }));
  assert.equal(NetworkAcls!.length, 1, `subnet ${subnetId} is associated with exactly one ACL`);
  const association = NetworkAcls![0].Associations!.find((a) => a.SubnetId === subnetId)!;
  return { networkAclId: NetworkAcls![0].NetworkAclId!, associationId: association.NetworkAclAssociationId! };
}

// --- Reachability Analyzer ---------------------------------------------------------------------------

/**
 * Waits until every analysis matched by the input has Status `succeeded` (fails on `failed`):
 * the waiter AWS would generate for DescribeNetworkInsightsAnalyses, which @aws-sdk/client-ec2
 * does not ship.
 */
export async function waitUntilNetworkInsightsAnalysisSucceeded(
  params: WaiterConfiguration<EC2Client>,
  input: DescribeNetworkInsightsAnalysesCommandInput,
): Promise<WaiterResult<DescribeNetworkInsightsAnalysesCommandOutput>> {
  const checkState = async (client: EC2Client, request: DescribeNetworkInsightsAnalysesCommandInput) => {
    try {
      const result = await client.send(new DescribeNetworkInsightsAnalysesCommand(request));
      const statuses = (result.NetworkInsightsAnalyses ?? []).map((a) => a.Status);
      if (statuses.length > 0 && statuses.every((s) => s === 'succeeded')) return { state: WaiterState.SUCCESS, reason: result };
      if (statuses.some((s) => s === 'failed')) return { state: WaiterState.FAILURE, reason: result };
      return { state: WaiterState.RETRY, reason: result };
    } catch (exception) {
      return { state: WaiterState.RETRY, reason: exception };
    }
  };
  const result = await createWaiter({ minDelay: 5, maxDelay: 120, ...params }, input, checkState);
  return checkExceptions(result) as WaiterResult<DescribeNetworkInsightsAnalysesCommandOutput>;
}

// --- events --------------------------------------------------------------------------------------------

export type { CloudEvent };

/**
 * A subscriber of GET /_eni/events over HTTP, reading the server-sent events from a streaming
 * body. `events` holds everything received so far, in order.
 */
export class EventStream {
  readonly events: CloudEvent[] = [];
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];
  private done: Promise<void> = Promise.resolve();

  private constructor(readonly url: string) {}

  /**
   * Connects and resolves once the server has answered (the stream is live from then on).
   * `lastEventId` resumes after that event, as a reconnecting EventSource does (the server
   * replays what it still holds after it); without it the server replays all it holds.
   */
  static async open(url: string, query: Scope = {}, options: { lastEventId?: number } = {}): Promise<EventStream> {
    const stream = new EventStream(url);
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v) as [string, string][]).toString();
    const headers: Record<string, string> = options.lastEventId !== undefined ? { 'last-event-id': String(options.lastEventId) } : {};
    const response = await fetch(`${url}/_eni/events${params ? `?${params}` : ''}`, { signal: stream.controller.signal, headers });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    stream.done = stream.read(response.body!);
    return stream;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (!data) continue; // a comment (keep-alive or greeting)
          const event = JSON.parse(data) as CloudEvent;
          const type = /^event: (.*)$/m.exec(block)?.[1];
          assert.equal(type, event.type, 'the SSE event name is the event type');
          this.events.push(event);
          for (const w of this.waiters) w();
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }

  /** Resolves with the first received event (from `from` on) that matches, or fails after timeoutMs. */
  async waitFor(match: (e: CloudEvent) => boolean, { from = 0, timeoutMs = 3000 } = {}): Promise<CloudEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no matching event within ${timeoutMs} ms; received ${JSON.stringify(this.events.map((e) => e.type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters = [];
    }
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}

/** A sentinel: publishes one event of a known kind and waits for it, proving that everything before it has arrived. */
export async function drain(stream: EventStream, publish: () => Promise<string>): Promise<CloudEvent[]> {
  const marker = await publish();
  const event = await stream.waitFor((e) => e.networkInterfaceId === marker && e.type === 'network-interface.created');
  return stream.events.slice(0, stream.events.indexOf(event));
}
