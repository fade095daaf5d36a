/**
 * How many SQL statements each benchmarked request costs, and which: starts eni-local in this
 * process with the driver's statements wrapped (better-sqlite3's statement runs; on PostgreSQL
 * pg's `Client.query`, i.e. round trips to the server, `begin` and `commit` included), builds a
 * small fixture, sends one request of each workload, and prints the count, the time, and with
 * --sql the statements themselves (`+`: sent while an earlier one was in flight, in its round trip;
 * `~`: not answered when the response came, e.g. a read's commit). On PostgreSQL it also counts
 * the round trips the request waited for (statements the store pipelines share one), and the
 * statements it did not wait for. A diagnostic companion of the benchmark: it changes nothing in src/.
 *
 *   npx tsx bench/sql-count.ts [--n 1000] [--sql] [--database memory|sqlite:PATH|postgres://…]
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { startServer } from '../src/index.ts';
import { QueryClient, formBody, xmlValue } from './lib/client.ts';
import { Fixture, expectOk } from './lib/fixture.ts';
import { table } from './lib/report.ts';

const { values: argv } = parseArgs({ options: { n: { type: 'string', default: '1000' }, sql: { type: 'boolean', default: false }, database: { type: 'string', default: 'memory' } } });

const statements: { sql: string; us: number; joined?: boolean; done?: boolean; trip?: number }[] = [];
let statementUs = 0;
let prepareUs = 0;
// The store keeps prepared statements, so count runs (on the statement class) rather than prepares.
const proto = Database.prototype as unknown as { prepare: (this: unknown, sql: string) => unknown };
const prepare = proto.prepare;
proto.prepare = function (this: unknown, sql: string) {
  const p0 = process.hrtime.bigint();
  try {
    return prepare.call(this, sql);
  } finally {
    prepareUs += Number(process.hrtime.bigint() - p0) / 1000;
  }
};
const probe = new Database(':memory:');
const statementProto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (this: { source: string }, ...a: unknown[]) => unknown>;
probe.close();
for (const method of ['all', 'run', 'get'] as const) {
  const original = statementProto[method];
  statementProto[method] = function (this: { source: string }, ...args: unknown[]) {
    const entry = { sql: this.source, us: 0 };
    statements.push(entry);
    const t0 = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      statementUs += us;
      entry.us += us;
    }
  };
}

// Which statements were answered when the server wrote its response (the request waited for those).
let answeredAtResponse: Set<unknown> | undefined;
const end = ServerResponse.prototype.end as (...a: unknown[]) => ServerResponse;
(ServerResponse.prototype as unknown as { end: (...a: unknown[]) => ServerResponse }).end = function (this: ServerResponse, ...args: unknown[]) {
  answeredAtResponse ??= new Set(statements.filter((s) => s.done));
  return end.apply(this, args);
};

// PostgreSQL: a query a client sends while none of its queries is in flight starts a round trip;
// one sent while another is still in flight (the store pipelines) travels with it.
let roundTrips = 0;
const inFlight = new WeakMap<object, number>();
const pgQuery = pg.Client.prototype.query as (this: pg.Client, ...a: unknown[]) => unknown;
(pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown }).query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0] as string | { text?: string } | undefined;
  const text = typeof first === 'string' ? first : (first?.text ?? String(first));
  const client = this;
  const entry = { sql: text, us: 0, joined: (inFlight.get(client) ?? 0) > 0 };
  statements.push(entry);
  if (!entry.joined) roundTrips++;
  (entry as { trip?: number }).trip = roundTrips;
  inFlight.set(client, (inFlight.get(client) ?? 0) + 1);
  const t0 = process.hrtime.bigint();
  const last = args.length - 1;
  const callback = args[last];
  if (typeof callback === 'function') {
    args[last] = (...a: unknown[]) => {
      done();
      return (callback as (...b: unknown[]) => unknown)(...a);
    };
  }
  const result = pgQuery.apply(this, args);
  function done() {
    (entry as { done?: boolean }).done = true;
    inFlight.set(client, (inFlight.get(client) ?? 1) - 1);
    const us = Number(process.hrtime.bigint() - t0) / 1000;
    statementUs += us;
    entry.us += us;
  }
  if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(done, done);
  return result;
};

const onPostgres = argv.database.startsWith('postgres');
const server = await startServer({
  port: 0,
  database: argv.database,
  logLevel: 'warn',
  quotas: { networkInterfacesPerRegion: 2_000_000, vpcsPerRegion: 50, subnetsPerVpc: 1000 },
});
const client = new QueryClient(server.url, { sockets: 32 });
try {
  const n = Number(argv.n);
  const fixture = await Fixture.build(client, { rooms: 1, instances: 2, instanceType: 'm5.large', region: 'us-east-1' });
  await fixture.fill(client, n, 32, () => {});
  const eni = fixture.enis[Math.floor(n / 2)];
  const free = fixture.enis.find((e) => e.subnet === fixture.instances[0].subnet && e.id !== eni.id)!;

  const rows: string[][] = [];
  const shown: string[] = [];
  const measure = async (label: string, body: string) => {
    // Once to warm up (and to settle anything pending), then the counted request.
    statements.length = 0;
    roundTrips = 0;
    answeredAtResponse = undefined;
    const t0 = performance.now();
    statementUs = 0;
    prepareUs = 0;
    const response = expectOk(await client.send(body), label);
    const ms = performance.now() - t0;
    const distinct = new Set(statements.map((s) => s.sql)).size;
    // Round trips the request waited for: those with a statement answered before the response.
    const answered = (s: (typeof statements)[number]) => answeredAtResponse?.has(s) ?? s.done;
    const awaited = new Set(statements.filter(answered).map((s) => s.trip)).size;
    const unawaited = statements.filter((s) => !answered(s)).length;
    rows.push([label, String(statements.length), onPostgres ? `${awaited}${unawaited ? ` (+${unawaited} unawaited)` : ''}` : '-', String(distinct), (prepareUs / 1000).toFixed(2), (statementUs / 1000).toFixed(2), ms.toFixed(2)]);
    if (argv.sql) {
      const list = statements.map((s, i) => `${String(i + 1).padStart(3)}.${s.joined ? '+' : ' '}${answered(s) ? ' ' : '~'}${(s.us / 1000).toFixed(3).padStart(8)} ms  ${s.sql}`);
      shown.push(`-- ${label}: ${statements.length} statements\n${list.join('\n')}`);
    }
    return response;
  };

  await measure('describe-id (first call, cold)', formBody('DescribeNetworkInterfaces', { 'NetworkInterfaceId.1': eni.id }));
  await measure('describe-id', formBody('DescribeNetworkInterfaces', { 'NetworkInterfaceId.1': eni.id }));
  await measure('describe-filter', formBody('DescribeNetworkInterfaces', { 'Filter.1.Name': 'private-ip-address', 'Filter.1.Value.1': eni.ip }));
  await measure('describe-tag', formBody('DescribeNetworkInterfaces', { 'Filter.1.Name': 'tag:bench', 'Filter.1.Value.1': '7' }));
  await measure('describe-all-page (first page)', formBody('DescribeNetworkInterfaces', { MaxResults: 1000 }));
  const attach = await measure('attach', formBody('AttachNetworkInterface', { NetworkInterfaceId: free.id, InstanceId: fixture.instances[0].id, DeviceIndex: 1 }));
  await measure('detach', formBody('DetachNetworkInterface', { AttachmentId: xmlValue(attach.body, 'attachmentId')! }));
  const assigned = await measure('assign', formBody('AssignPrivateIpAddresses', { NetworkInterfaceId: eni.id, SecondaryPrivateIpAddressCount: 1 }));
  const at = assigned.body.indexOf('<assignedPrivateIpAddressesSet>');
  await measure('unassign', formBody('UnassignPrivateIpAddresses', { NetworkInterfaceId: eni.id, 'PrivateIpAddress.1': xmlValue(assigned.body, 'privateIpAddress', at)! }));
  await measure('create', fixture.createRequest().body);

  process.stdout.write(`SQL statements per request, N=${n.toLocaleString('en-US')} interfaces (${argv.database} store, in-process; times include the wrapping)\n`);
  process.stdout.write(table(['request', 'statements', 'round trips', 'distinct', 'preparing ms', 'running ms', 'request ms'], rows) + '\n');
  if (shown.length) process.stdout.write('\n' + shown.join('\n\n') + '\n');
} finally {
  client.close();
  await server.close();
}
