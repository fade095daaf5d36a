/**
 * The console: connects with the chosen region and credentials, draws the topology of the
 * account those credentials act as, keeps it live from the event stream, and runs what the
 * person asks through the EC2 API and the JSON API.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ActionsContext, type ConsoleActions, type DialogState, type MenuTarget, type Notice } from './actions';
import {
  AUTH_CODES,
  ec2Client,
  eventsUrl,
  signWith,
  failureOf,
  fetchTopology,
  loadSettings,
  probe,
  saveSettings,
  setInstanceHealth,
  TOPOLOGY_EVENTS,
  type ApiFailure,
  type Scope,
  type Settings,
} from './api';
import { Details } from './Details';
import { Dialog } from './Dialogs';
import { Menu } from './Menu';
import { emptyTopology, indexTopology, type FlowResult, type Selection, type TopologyIndex } from './model';
import { accountOf, detachInterface, disassociateElasticIp, moveInterface, regionNames } from './operations';
import { Picture, type PathMarks } from './Picture';
import { PathOverlay, TrafficPanel, type TrafficForm, type TrafficStats } from './Traffic';

type Connection = 'connecting' | 'connected' | 'failed';

const ZOOMS = [0.25, 0.4, 0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5];
/** Coalesces a burst of events (a launch emits several) into one refetch. */
const REFRESH_DEBOUNCE_MS = 150;
/** Changes the event stream does not announce (a new VPC, a rule) still show within this. */
const POLL_MS = 10_000;

export function App() {
  const [settings, setSettings] = useState<Settings>(loadSettings);
  // The JSON API calls are signed like the EC2 calls, with the settings of the moment.
  signWith(settings);
  const ec2 = useMemo(() => ec2Client(settings), [settings]);
  const [regions, setRegions] = useState<string[]>([]);
  const [account, setAccount] = useState<string | undefined>();
  const [connection, setConnection] = useState<Connection>('connecting');
  const [connectError, setConnectError] = useState<ApiFailure | null>(null);
  const [live, setLive] = useState(false);
  const [index, setIndex] = useState<TopologyIndex | null>(null);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [notices, setNotices] = useState<Record<string, Notice>>({});
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [zoom, setZoom] = useState(1);
  const [query, setQuery] = useState('');
  const [menu, setMenu] = useState<{ target: MenuTarget; anchor: HTMLElement } | null>(null);
  const [dialog, setDialog] = useState<DialogState | null>(null);
  const [dragging, setDragging] = useState<{ eniId: string; zone?: string } | null>(null);
  const [tab, setTab] = useState<'details' | 'traffic'>('details');
  const [toast, setToast] = useState<{ text: string; error?: ApiFailure } | null>(null);
  const [trafficForm, setTrafficForm] = useState<TrafficForm>({ from: 'internet', to: '', protocol: 'tcp', port: '80' });
  const [steady, setSteady] = useState(false);
  const [flow, setFlow] = useState<{ result: FlowResult; from: string } | null>(null);
  // The path is drawn while probing (and for a while after a single probe), then cleared.
  const [pathShown, setPathShown] = useState(false);
  const [flowError, setFlowError] = useState<ApiFailure | null>(null);
  const [stats, setStats] = useState<TrafficStats>({ sent: 0, delivered: 0, dropped: 0 });
  const stage = useRef<HTMLDivElement>(null);

  const scope: Scope | null = connection === 'connected' ? { account, region: settings.region } : null;
  const ec2Ref = useRef(ec2);
  ec2Ref.current = ec2;
  const scopeRef = useRef(scope);
  scopeRef.current = scope;
  const indexRef = useRef(index);
  indexRef.current = index;

  // --- connecting: who these credentials are, which regions exist --------------------------------
  useEffect(() => {
    let current = true;
    setConnection('connecting');
    setConnectError(null);
    setIndex(null);
    (async () => {
      try {
        const [who, names] = await Promise.all([accountOf(ec2), regionNames(ec2)]);
        if (!current) return;
        setAccount(who);
        setRegions(names);
        setConnection('connected');
      } catch (error) {
        if (!current) return;
        const failure = failureOf(error);
        setConnectError(failure);
        setConnection('failed');
        if (AUTH_CODES.has(failure.code)) {
          setDialog({ kind: 'credentials', reason: `The server refused these credentials (${failure.code}): it checks signatures. Enter an access key it knows.` });
        }
      }
    })();
    return () => {
      current = false;
    };
  }, [ec2]);

  // --- the picture: fetched, then refetched on events (debounced) and every POLL_MS ---------------
  const fetching = useRef<{ running: boolean; again: boolean }>({ running: false, again: false });
  const refresh = useCallback(async () => {
    const state = fetching.current;
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = true;
    try {
      do {
        state.again = false;
        const at = scopeRef.current;
        if (!at) break;
        try {
          if (!at.account) {
            // These credentials own no security group, so no VPC, yet: their picture is empty until
            // one appears (never the server's default account, which may be someone else's).
            const who = await accountOf(ec2Ref.current).catch(() => undefined);
            if (who) setAccount(who);
            else setIndex((previous) => (previous?.topology.vpcs.length === 0 ? previous : indexTopology(emptyTopology(at.region))));
            continue;
          }
          const topology = await fetchTopology(at);
          // The region or account changed meanwhile: this answer is of another scope.
          if (scopeRef.current?.region !== at.region || scopeRef.current?.account !== at.account) continue;
          setIndex((previous) => indexTopology(topology, previous ?? undefined));
        } catch (error) {
          setToast({ text: 'Could not load the topology', error: failureOf(error) });
        }
      } while (state.again);
    } finally {
      state.running = false;
    }
  }, []);

  const debounce = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refreshSoon = useCallback(() => {
    clearTimeout(debounce.current);
    debounce.current = setTimeout(() => void refresh(), REFRESH_DEBOUNCE_MS);
  }, [refresh]);

  useEffect(() => {
    if (connection !== 'connected') return;
    void refresh();
    let source: EventSource | undefined;
    let closed = false;
    void eventsUrl({ account, region: settings.region }).then((url) => {
      if (closed) return;
      source = new EventSource(url);
      source.onopen = () => setLive(true);
      source.onerror = () => setLive(false);
      for (const type of TOPOLOGY_EVENTS) source.addEventListener(type, refreshSoon);
    });
    const poll = setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, POLL_MS);
    return () => {
      closed = true;
      source?.close();
      clearInterval(poll);
      setLive(false);
    };
  }, [connection, account, settings.region, refresh, refreshSoon]);

  // --- notices on cards and boxes ------------------------------------------------------------------
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const setNotice = useCallback((id: string, notice: Notice | undefined, clearAfterMs?: number) => {
    clearTimeout(timers.current.get(id));
    setNotices((all) => {
      const next = { ...all };
      if (notice) next[id] = notice;
      else delete next[id];
      return next;
    });
    if (clearAfterMs) timers.current.set(id, setTimeout(() => setNotices(({ [id]: _gone, ...rest }) => rest), clearAfterMs));
  }, []);

  /** Runs an operation on a card or box: "working", then done (briefly) or AWS's refusal (until dismissed). */
  const runOn = useCallback(
    async (id: string, label: string, op: () => Promise<unknown>) => {
      setNotice(id, { phase: 'working', text: `${label}…` });
      try {
        await op();
        setNotice(id, { phase: 'done', text: `${label} ✓` }, 2500);
      } catch (error) {
        setNotice(id, { text: `${label} refused`, error: failureOf(error) });
      } finally {
        void refresh();
      }
    },
    [refresh, setNotice],
  );

  const busy = useRef(new Set<string>());
  /** A card that moved is a new element: keyboard focus, if it was lost with the old one, follows it. */
  const refocus = useCallback((eniId: string) => {
    setTimeout(() => {
      if (document.activeElement && document.activeElement !== document.body) return;
      document.querySelector<HTMLElement>(`[data-eni-id="${CSS.escape(eniId)}"]`)?.focus();
    }, 300);
  }, []);
  const actions = useMemo<ConsoleActions>(
    () => ({
      select: (s) => {
        setSelection(s);
        if (s) setTab('details');
      },
      openMenu: (target, anchor) => setMenu({ target, anchor }),
      openDialog: (d) => setDialog(d),
      move: (eniId, instanceId) => {
        if (busy.current.has(eniId)) return;
        busy.current.add(eniId);
        const phaseText: Record<string, string> = {
          detaching: `detaching (for ${instanceId})…`,
          waiting: 'waiting until available…',
          attaching: `attaching to ${instanceId}…`,
          attached: `attached to ${instanceId} ✓`,
          restoring: 'refused: putting it back…',
        };
        setNotice(eniId, { phase: 'detaching', text: `moving to ${instanceId}…` });
        moveInterface(ec2, eniId, instanceId, (phase) => {
          setNotice(eniId, { phase, text: phaseText[phase] });
          if (phase === 'waiting' || phase === 'attached') void refresh();
        })
          .then(
            () => {
              setNotice(eniId, { phase: 'attached', text: phaseText.attached }, 3000);
              refocus(eniId);
            },
            (error: unknown) => setNotice(eniId, { text: `move to ${instanceId} refused`, error: failureOf(error) }),
          )
          .finally(() => {
            busy.current.delete(eniId);
            void refresh();
          });
      },
      detach: (eniId) => void runOn(eniId, 'detach', () => detachInterface(ec2, eniId)),
      failInstance: (instanceId, action) => {
        const at = scopeRef.current;
        if (at) void runOn(instanceId, action === 'fail' ? 'fail instance' : 'recover instance', () => setInstanceHealth(at, instanceId, action));
      },
      disassociateElasticIp: (eniId, associationId) => void runOn(eniId, 'disassociate Elastic IP', () => disassociateElasticIp(ec2, associationId)),
      toggleCollapsed: (id) =>
        setCollapsed((all) => {
          const next = new Set(all);
          if (!next.delete(id)) next.add(id);
          return next;
        }),
      dismissNotice: (id) => setNotice(id, undefined),
      startDrag: (eniId) => {
        const eni = indexRef.current?.interfaces.get(eniId);
        setDragging({ eniId, zone: eni ? (indexRef.current?.subnets.get(eni.SubnetId ?? '')?.AvailabilityZone ?? eni.AvailabilityZone) : undefined });
      },
      endDrag: () => setDragging(null),
      traceFrom: (source) => {
        setTrafficForm((f) => ({ ...f, from: source }));
        setTab('traffic');
      },
      traceTo: (address) => {
        setTrafficForm((f) => ({ ...f, to: address }));
        setTab('traffic');
      },
    }),
    [ec2, refresh, refocus, runOn, setNotice],
  );

  // --- traffic ---------------------------------------------------------------------------------------
  const formRef = useRef(trafficForm);
  formRef.current = trafficForm;
  const probeOnce = useCallback(async () => {
    const at = scopeRef.current;
    const form = formRef.current;
    if (!at || !form.to.trim()) return;
    const portless = form.protocol === 'icmp' || form.protocol === '-1';
    try {
      const result = await probe(at, { from: form.from, to: form.to.trim(), protocol: form.protocol, port: portless || form.port === '' ? undefined : Number(form.port) });
      setFlow({ result, from: form.from });
      setPathShown(true);
      setFlowError(null);
      setStats((s) => ({ sent: s.sent + 1, delivered: s.delivered + Number(result.delivered), dropped: s.dropped + Number(!result.delivered) }));
    } catch (error) {
      setFlowError(failureOf(error));
      setFlow(null);
    }
  }, []);
  useEffect(() => {
    if (!steady || connection !== 'connected') return;
    setStats({ sent: 0, delivered: 0, dropped: 0 });
    void probeOnce();
    const timer = setInterval(() => void probeOnce(), 1000);
    return () => {
      clearInterval(timer);
      // Probing stopped: the line over the picture goes (the last verdict stays in the panel).
      setPathShown(false);
    };
  }, [steady, connection, probeOnce]);
  // A single probe's line stays a few seconds.
  useEffect(() => {
    if (!pathShown || steady) return;
    const timer = setTimeout(() => setPathShown(false), 8000);
    return () => clearTimeout(timer);
  }, [pathShown, steady, flow]);

  const marks: PathMarks = useMemo(() => {
    if (!flow || !pathShown) return {};
    const d = flow.result.destination;
    const source = flow.from.startsWith('internet') ? 'internet' : flow.from;
    // Dropped at an interface (its instance impaired, stopped, or the interface not attached): the
    // line ends at the last interface that saw the flow.
    const reached = [...(flow.result.observations ?? [])].reverse().find((o) => o.direction === 'ingress')?.networkInterfaceId;
    const destination = d?.networkInterfaceId ?? (d?.kind === 'internet' ? 'internet' : d?.instanceId) ?? reached;
    // The internet gateways the flow crossed: the line goes through each.
    const via = flow.result.hops.filter((h) => h.component === 'internet-gateway' && h.resourceId.startsWith('igw-')).map((h) => h.resourceId);
    return { source, destination, via: [...new Set(via)], delivered: flow.result.delivered };
  }, [flow, pathShown]);

  useEffect(() => {
    if (!toast || toast.error) return;
    const timer = setTimeout(() => setToast(null), 4000);
    return () => clearTimeout(timer);
  }, [toast]);

  // --- keyboard: Escape leaves the selection; the picture is zoomed with buttons or Ctrl+wheel -------
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape' && !menu && !dialog) setSelection(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [menu, dialog]);

  const zoomBy = useCallback(
    (step: number) =>
      setZoom((z) => {
        // From a fitted zoom (not one of the steps), the next step up or down.
        const at = step > 0 ? ZOOMS.findIndex((v) => v > z + 0.001) : ZOOMS.length - 1 - [...ZOOMS].reverse().findIndex((v) => v < z - 0.001);
        return ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, ZOOMS.indexOf(z) >= 0 ? ZOOMS.indexOf(z) + step : at))] ?? 1;
      }),
    [],
  );
  /** The zoom at which the whole picture's width fits the canvas (never above 100 %). */
  const fitZoom = useCallback(() => {
    const area = canvas.current;
    const content = stage.current?.firstElementChild as HTMLElement | null;
    if (!area || !content) return;
    const natural = content.scrollWidth;
    const room = area.clientWidth - 24;
    if (natural > 0) setZoom(Math.max(0.25, Math.min(1, Math.floor((room / natural) * zoomRef.current * 100) / 100)));
  }, []);
  const zoomRef = useRef(zoom);
  zoomRef.current = zoom;
  // The first picture of a region is fitted to the window.
  const fitted = useRef<string | null>(null);
  useEffect(() => {
    if (!index || fitted.current === settings.region) return;
    fitted.current = settings.region;
    requestAnimationFrame(() => fitZoom());
  }, [index, settings.region, fitZoom]);
  // Pan: drag the picture's background.
  const pan = useRef<{ x: number; y: number; left: number; top: number } | null>(null);
  // Ctrl+wheel zooms the picture, not the page: a listener that may cancel (React's wheel listeners are passive).
  const canvas = useRef<HTMLElement>(null);
  useEffect(() => {
    const element = canvas.current;
    if (!element) return;
    const onWheel = (e: WheelEvent) => {
      if (!e.ctrlKey) return;
      e.preventDefault();
      zoomBy(e.deltaY < 0 ? 1 : -1);
    };
    element.addEventListener('wheel', onWheel, { passive: false });
    return () => element.removeEventListener('wheel', onWheel);
  }, [zoomBy]);
  const allBoxes = index ? [...index.vpcs.keys(), ...index.subnets.keys()] : [];

  return (
    <ActionsContext.Provider value={actions}>
      <div className="app">
        <header className="topbar">
          <h1>eni-local</h1>
          <span className={`live ${live ? 'on' : 'off'}`} title={live ? 'Live: updated from the event stream' : 'Not receiving events'}>
            {live ? '● live' : '○ offline'}
          </span>
          <button type="button" className="scope" onClick={() => setDialog({ kind: 'credentials' })} title="Region and credentials">
            {settings.region} · {account ?? index?.topology.account ?? '…'} · key {settings.credentials.accessKeyId}
          </button>
          <input className="search" type="search" placeholder="Find an interface (id, IP, MAC, group…)" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="Find an interface" />
          <div className="zoom" role="group" aria-label="Zoom">
            <button type="button" onClick={() => zoomBy(-1)} aria-label="Zoom out">
              −
            </button>
            <button type="button" onClick={() => setZoom(1)} aria-label="Zoom to 100%">
              {Math.round(zoom * 100)}%
            </button>
            <button type="button" onClick={() => zoomBy(1)} aria-label="Zoom in">
              +
            </button>
            <button type="button" onClick={fitZoom} aria-label="Zoom to fit" data-testid="zoom-fit">
              Fit
            </button>
          </div>
          <button type="button" onClick={() => setCollapsed(new Set(allBoxes.filter((id) => id.startsWith('subnet-'))))}>
            Collapse subnets
          </button>
          <button type="button" onClick={() => setCollapsed(new Set())}>
            Expand all
          </button>
        </header>
        <main
          className="canvas"
          ref={canvas}
          onPointerDown={(e) => {
            // Only the background pans: cards, buttons and boxes keep their clicks and drags.
            const target = e.target as HTMLElement;
            if (e.button !== 0 || target.closest('button, [draggable="true"], input, select, a, [data-eni-id], [data-instance-id]')) return;
            const area = canvas.current!;
            pan.current = { x: e.clientX, y: e.clientY, left: area.scrollLeft, top: area.scrollTop };
            area.setPointerCapture(e.pointerId);
            area.classList.add('panning');
          }}
          onPointerMove={(e) => {
            const start = pan.current;
            if (!start) return;
            canvas.current!.scrollLeft = start.left - (e.clientX - start.x);
            canvas.current!.scrollTop = start.top - (e.clientY - start.y);
          }}
          onPointerUp={(e) => {
            if (!pan.current) return;
            pan.current = null;
            canvas.current!.releasePointerCapture(e.pointerId);
            canvas.current!.classList.remove('panning');
          }}
        >
          {connection === 'connecting' && <p className="status-text">Connecting to {window.location.host}…</p>}
          {connection === 'failed' && connectError && (
            <div className="notice error" role="alert" data-error-code={connectError.code}>
              <strong className="code">{connectError.code}</strong> <span className="message">{connectError.message}</span>{' '}
              <button type="button" onClick={() => setDialog({ kind: 'credentials' })}>
                Credentials…
              </button>
            </div>
          )}
          {connection === 'connected' && !index && <p className="status-text">Loading the topology…</p>}
          {index && (
            <div className="stage" ref={stage}>
              <div className="zoomed" style={{ zoom }}>
                <Picture index={index} selection={selection} notices={notices} collapsed={collapsed} query={query} dragging={dragging} marks={marks} />
              </div>
              <PathOverlay stage={stage} index={index} source={marks.source} destination={marks.destination} via={marks.via} delivered={marks.delivered} />
            </div>
          )}
        </main>
        <aside className="side">
          <div className="tabs" role="tablist">
            <button type="button" role="tab" aria-selected={tab === 'details'} onClick={() => setTab('details')}>
              Details
            </button>
            <button type="button" role="tab" aria-selected={tab === 'traffic'} onClick={() => setTab('traffic')} data-testid="traffic-tab">
              Traffic{steady ? ' ●' : ''}
            </button>
          </div>
          <div className="tab-body" role="tabpanel">
            {index && tab === 'details' && <Details selection={selection} index={index} />}
            {index && tab === 'traffic' && (
              <TrafficPanel
                index={index}
                form={trafficForm}
                setForm={setTrafficForm}
                steady={steady}
                setSteady={setSteady}
                onProbe={() => void probeOnce()}
                result={flow?.result ?? null}
                error={flowError}
                stats={stats}
              />
            )}
          </div>
        </aside>
        {toast && (
          <div className="toast" role={toast.error ? 'alert' : 'status'}>
            {toast.text}
            {toast.error && (
              <>
                : <strong className="code">{toast.error.code}</strong> {toast.error.message}
              </>
            )}
            <button type="button" className="dismiss" aria-label="Dismiss" onClick={() => setToast(null)}>
              ×
            </button>
          </div>
        )}
        {menu && index && <Menu target={menu.target} anchor={menu.anchor} index={index} onClose={() => setMenu(null)} />}
        {dialog && (
          <Dialog
            dialog={dialog}
            index={index}
            ec2={ec2}
            settings={settings}
            regions={regions}
            onSettings={(next) => {
              saveSettings(next);
              setSettings(next);
            }}
            onClose={(changed, message) => {
              setDialog(null);
              if (message) setToast({ text: message });
              if (changed) void refresh();
            }}
          />
        )}
      </div>
    </ActionsContext.Provider>
  );
}
