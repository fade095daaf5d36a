/**
 * Traffic: probe a flow (POST /_eni/probe) once or every second, list its hops (each with the rule
 * that decided it), draw it over the picture from source to destination, and show the recent
 * flow-log records of the VPCs it crossed. When the destination interface moves, the next probe
 * ends at its new instance and the line follows.
 */
import { useEffect, useLayoutEffect, useState, type RefObject } from 'react';
import { useActions } from './actions';
import { flowLogLines, type ApiFailure } from './api';
import { nameOf, type FlowResult, type TopologyIndex } from './model';

export interface TrafficForm {
  from: string;
  to: string;
  protocol: string;
  port: string;
}

export interface TrafficStats {
  sent: number;
  delivered: number;
  dropped: number;
}

interface TrafficProps {
  index: TopologyIndex;
  form: TrafficForm;
  setForm(form: TrafficForm): void;
  steady: boolean;
  setSteady(steady: boolean): void;
  onProbe(): void;
  result: FlowResult | null;
  error: ApiFailure | null;
  stats: TrafficStats;
}

export function TrafficPanel({ index, form, setForm, steady, setSteady, onProbe, result, error, stats }: TrafficProps) {
  const actions = useActions();
  const interfaces = [...index.interfaces.values()].sort((a, b) => a.NetworkInterfaceId!.localeCompare(b.NetworkInterfaceId!));
  const instances = [...index.instances.values()].filter((i) => i.State?.Name !== 'terminated');
  const addresses = [...index.interfaceByAddress.keys()];
  const set = (patch: Partial<TrafficForm>) => setForm({ ...form, ...patch });
  const portless = form.protocol === 'icmp' || form.protocol === '-1';
  return (
    <div className="traffic">
      <form
        className="traffic-form"
        onSubmit={(e) => {
          e.preventDefault();
          onProbe();
        }}
      >
        <label>
          Source
          <select value={form.from} onChange={(e) => set({ from: e.target.value })} data-testid="traffic-from">
            <option value="internet">Internet</option>
            <optgroup label="Instances (primary interface)">
              {instances.map((i) => (
                <option key={i.InstanceId} value={i.InstanceId}>
                  {nameOf(i) ? `${nameOf(i)} ` : ''}
                  {i.InstanceId}
                </option>
              ))}
            </optgroup>
            <optgroup label="Network interfaces">
              {interfaces.map((n) => (
                <option key={n.NetworkInterfaceId} value={n.NetworkInterfaceId}>
                  {n.NetworkInterfaceId} {n.PrivateIpAddress}
                </option>
              ))}
            </optgroup>
          </select>
        </label>
        <label>
          Destination address
          <input value={form.to} onChange={(e) => set({ to: e.target.value })} list="known-addresses" placeholder="10.0.1.10 or an Elastic IP" spellCheck={false} data-testid="traffic-to" />
          <datalist id="known-addresses">
            {addresses.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        <div className="row">
          <label>
            Protocol
            <select value={form.protocol} onChange={(e) => set({ protocol: e.target.value })}>
              <option value="tcp">TCP</option>
              <option value="udp">UDP</option>
              <option value="icmp">ICMP</option>
              <option value="-1">all</option>
            </select>
          </label>
          <label>
            Port
            <input type="number" min={0} max={65535} value={portless ? '' : form.port} disabled={portless} onChange={(e) => set({ port: e.target.value })} />
          </label>
        </div>
        <div className="row">
          <button type="submit" className="primary" disabled={!form.to} data-testid="probe-once">
            Probe once
          </button>
          <label className="toggle">
            <input type="checkbox" checked={steady} disabled={!form.to} onChange={(e) => setSteady(e.target.checked)} data-testid="probe-steady" /> every second
          </label>
        </div>
      </form>
      {steady && (
        <p className="stats" aria-live="polite">
          {stats.sent} probes · {stats.delivered} delivered · {stats.dropped} dropped
        </p>
      )}
      {error && (
        <div className="notice error" role="alert" data-error-code={error.code}>
          <strong className="code">{error.code}</strong> <span className="message">{error.message}</span>
        </div>
      )}
      {result && <FlowView result={result} index={index} onSelect={(id) => selectById(actions, index, id)} />}
      {result && <FlowLogs result={result} index={index} />}
    </div>
  );
}

function selectById(actions: ReturnType<typeof useActions>, index: TopologyIndex, id: string) {
  if (index.interfaces.has(id)) actions.select({ kind: 'network-interface', id });
  else if (index.instances.has(id)) actions.select({ kind: 'instance', id });
  else if (index.subnets.has(id)) actions.select({ kind: 'subnet', id });
  else if (index.vpcs.has(id)) actions.select({ kind: 'vpc', id });
}

function FlowView({ result, index, onSelect }: { result: FlowResult; index: TopologyIndex; onSelect(id: string): void }) {
  const d = result.destination;
  return (
    <div className={`flow ${result.delivered ? 'delivered' : 'dropped'}`} data-testid="flow-result" data-delivered={String(result.delivered)} data-destination-instance={d?.instanceId ?? ''}>
      <p className="verdict">
        {result.delivered ? 'Delivered' : `Dropped: ${result.reason}`}
        {d?.instanceId && (
          <>
            {' '}
            {result.delivered ? 'to' : 'at'} <code>{d.instanceId}</code>
            {d.networkInterfaceId && (
              <>
                {' '}
                via <code>{d.networkInterfaceId}</code> (device {d.deviceIndex})
              </>
            )}
          </>
        )}
        {d?.kind === 'internet' && ' to the internet'}
      </p>
      <p className="endpoints">
        {result.source.address}
        {result.source.publicAddress ? ` (${result.source.publicAddress})` : ''} → {d?.address ?? '?'}
        {d?.privateAddress && d.privateAddress !== d.address ? ` (${d.privateAddress})` : ''} · protocol {result.protocol}
        {result.port ? ` port ${result.port}` : ''}
      </p>
      <ol className="hops">
        {result.hops.map((hop, i) => (
          <li key={i} className={`hop ${hop.verdict}`} data-verdict={hop.verdict}>
            <span className="mark" aria-label={hop.verdict === 'pass' ? 'passed' : 'dropped'}>
              {hop.verdict === 'pass' ? '✔' : '✖'}
            </span>
            <span className="component">{hop.component}</span>{' '}
            {hop.resourceId && (index.interfaces.has(hop.resourceId) || index.instances.has(hop.resourceId) || index.subnets.has(hop.resourceId) || index.vpcs.has(hop.resourceId)) ? (
              <button type="button" className="link" onClick={() => onSelect(hop.resourceId)}>
                {hop.resourceId}
              </button>
            ) : (
              <code>{hop.resourceId}</code>
            )}
            {hop.rule && <div className="rule">{hop.rule}</div>}
            {hop.detail && <div className="detail">{hop.detail}</div>}
          </li>
        ))}
      </ol>
    </div>
  );
}

/**
 * The interfaces that saw the flow — the ones whose flow logs have a record of it, dropped or
 * not (an impaired or stopped instance's interface still records what its groups decided) — and
 * the flow logs on them, their subnets or their VPCs.
 */
function flowLogsFor(result: FlowResult, index: TopologyIndex) {
  const seen = new Map<string, { subnetId: string; vpcId: string }>();
  for (const o of result.observations ?? []) seen.set(o.networkInterfaceId, { subnetId: o.subnetId, vpcId: o.vpcId });
  // An answer from a server that does not list observations: the two ends, as far as known.
  if (!result.observations) {
    for (const eniId of [result.source.networkInterfaceId, result.destination?.networkInterfaceId]) {
      const eni = eniId ? index.interfaces.get(eniId) : undefined;
      if (eni) seen.set(eni.NetworkInterfaceId!, { subnetId: eni.SubnetId!, vpcId: eni.VpcId! });
    }
  }
  const resources = new Set<string>();
  for (const [eniId, { subnetId, vpcId }] of seen) resources.add(eniId).add(subnetId).add(vpcId);
  return { interfaces: [...seen.keys()], logs: index.topology.flowLogs.filter((f) => f.ResourceId && resources.has(f.ResourceId)) };
}

function FlowLogs({ result, index }: { result: FlowResult; index: TopologyIndex }) {
  const { interfaces, logs } = flowLogsFor(result, index);
  const ids = logs.map((f) => f.FlowLogId!).join(',');
  const [lines, setLines] = useState<Record<string, string[]>>({});
  useEffect(() => {
    let live = true;
    void Promise.all(ids.split(',').filter(Boolean).map(async (id) => [id, await flowLogLines(id)] as const)).then((entries) => {
      if (live) setLines(Object.fromEntries(entries));
    });
    return () => {
      live = false;
    };
  }, [ids, result]);
  if (!interfaces.length) {
    return (
      <p className="hint-text" data-testid="flow-log-hint">
        No interface saw this flow, so no flow log records it.
      </p>
    );
  }
  if (!logs.length) {
    return (
      <p className="hint-text" data-testid="flow-log-hint">
        No flow log covers {interfaces.join(', ')}, their subnets or their VPCs (CreateFlowLogs makes one).
      </p>
    );
  }
  return (
    <div className="flow-logs">
      <h3>Recent flow-log records</h3>
      {logs.map((f) => (
        <div key={f.FlowLogId}>
          <p className="flow-log-head">
            <code>{f.FlowLogId}</code> on <code>{f.ResourceId}</code>
          </p>
          <pre className="flow-log-lines" data-testid="flow-log-lines">{(lines[f.FlowLogId!] ?? []).slice(-8).join('\n') || '(no records yet)'}</pre>
        </div>
      ))}
    </div>
  );
}

interface Point {
  x: number;
  y: number;
}

interface Line {
  points: Point[];
  width: number;
  height: number;
}

const near = (a: number, b: number) => Math.abs(a - b) < 0.5;
const sameLine = (a: Line | null, b: Line | null) =>
  a === b ||
  (a !== null &&
    b !== null &&
    near(a.width, b.width) &&
    near(a.height, b.height) &&
    a.points.length === b.points.length &&
    a.points.every((p, i) => near(p.x, b.points[i].x) && near(p.y, b.points[i].y)));

/** The element of the picture that stands for an id, or its nearest visible container (a collapsed subnet or VPC). */
function elementFor(stage: HTMLElement, index: TopologyIndex, id: string | undefined): HTMLElement | null {
  if (!id) return null;
  if (id === 'internet') return stage.querySelector('[data-node="internet"]');
  if (id.startsWith('igw-')) return stage.querySelector(`[data-igw-id="${CSS.escape(id)}"]`);
  const direct = stage.querySelector<HTMLElement>(`[data-eni-id="${CSS.escape(id)}"], [data-instance-id="${CSS.escape(id)}"]`);
  if (direct) return direct;
  const subnetId = index.interfaces.get(id)?.SubnetId ?? index.instances.get(id)?.SubnetId;
  const subnet = subnetId ? stage.querySelector<HTMLElement>(`[data-subnet-id="${CSS.escape(subnetId)}"]`) : null;
  if (subnet) return subnet;
  const vpcId = subnetId ? index.subnets.get(subnetId)?.VpcId : undefined;
  return vpcId ? stage.querySelector<HTMLElement>(`[data-vpc-id="${CSS.escape(vpcId)}"]`) : null;
}

/**
 * The path from source to destination, drawn over the picture (an SVG above the stage, not
 * catching the pointer) through the components it crosses (`via`: the internet gateway of the
 * VPC it enters or leaves by), from edge to facing edge of each.
 */
export function PathOverlay({ stage, index, source, destination, via = [], delivered }: { stage: RefObject<HTMLDivElement | null>; index: TopologyIndex; source?: string; destination?: string; via?: string[]; delivered?: boolean }) {
  const [line, setLine] = useState<Line | null>(null);
  const update = (next: Line | null) => setLine((current) => (sameLine(current, next) ? current : next));
  // After every render: cards grow and shrink (notices, moves), zoom and collapse move them.
  useLayoutEffect(() => {
    const root = stage.current;
    if (!root || !source || !destination) {
      update(null);
      return;
    }
    const measure = () => {
      const ids = [source, ...via, destination];
      const elements = ids.map((id) => elementFor(root, index, id));
      const ends = [elements[0], elements[elements.length - 1]];
      if (!ends[0] || !ends[1]) return update(null);
      const base = root.getBoundingClientRect();
      const rects = elements.filter((e): e is HTMLElement => e !== null).map((e) => e.getBoundingClientRect());
      const points: Point[] = [];
      for (let i = 0; i < rects.length - 1; i++) {
        const ra = rects[i];
        const rb = rects[i + 1];
        // From the edge of one that faces the next to the facing edge of the next.
        const down = rb.top >= ra.bottom;
        const up = rb.bottom <= ra.top;
        const edge = (r: DOMRect, side: 'top' | 'bottom' | 'middle') => ({
          x: r.left - base.left + r.width / 2,
          y: (side === 'top' ? r.top : side === 'bottom' ? r.bottom : r.top + r.height / 2) - base.top,
        });
        points.push(edge(ra, down ? 'bottom' : up ? 'top' : 'middle'), edge(rb, down ? 'top' : up ? 'bottom' : 'middle'));
      }
      update({ points, width: root.scrollWidth, height: root.scrollHeight });
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(root);
    return () => observer.disconnect();
  });
  if (!line) return null;
  const segments: string[] = [];
  for (let i = 0; i + 1 < line.points.length; i += 2) {
    const from = line.points[i];
    const to = line.points[i + 1];
    const bend = Math.max(20, Math.abs(to.y - from.y) / 2);
    segments.push(`M ${from.x} ${from.y} C ${from.x} ${from.y + (to.y >= from.y ? bend : -bend)}, ${to.x} ${to.y - (to.y >= from.y ? bend : -bend)}, ${to.x} ${to.y}`);
  }
  const first = line.points[0];
  const last = line.points[line.points.length - 1];
  return (
    <svg className={`path-overlay ${delivered ? 'delivered' : 'dropped'}`} width={line.width} height={line.height} aria-hidden="true" data-from={source} data-to={destination} data-via={via.join(' ')}>
      {segments.map((d, i) => (
        <path key={i} d={d} className="path-line" />
      ))}
      <circle cx={first.x} cy={first.y} r={6} className="path-dot" />
      <circle cx={last.x} cy={last.y} r={8} className="path-dot end" />
    </svg>
  );
}
