/**
 * The linux data plane: the committed state, carried by the kernel. One reconciler reads the
 * whole state after every committed change (in commit order: syncs run one at a time, and each
 * request's answer waits for the sync that follows its commit), renders what the kernel must
 * hold (render.ts), and applies the difference from what it applied before: namespaces, the
 * veth pairs of interfaces and their moves, guest configuration, routes, rules and nftables.
 * On start it adopts what a previous process of the same server left (after a crash) and
 * rebuilds the rest; on stop it removes every namespace it made.
 *
 * The server reaches into the plane only through sockets that a short-lived helper opens inside
 * a namespace and hands over (Node's IPC, SCM_RIGHTS on a unix socket): the metadata service and
 * the DHCP server on each VPC router, the EC2 API on the internet side. No route, link or NAT
 * joins the plane to the host's network namespace.
 */
import { spawn } from 'node:child_process';
import type dgram from 'node:dgram';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import type { Store } from '../../store/index.ts';
import { addNamespaces, applyNft, deleteNamespace, extraTables, ipBatch, linksOf, listNamespaces, missingCommands, missingPrivileges, runCommand, setSysctls } from './kernel.ts';
import { PLANE, PLANE_NAMESPACE, PlaneNames, ROUTER_UPLINK } from './names.ts';
import { FLOW_SETS, guestFlush, isDelivering, isManagedHost, renderPlane, type GuestNetwork, type IpRule, type LinkConfig, type NamespaceConfig, type PlaneConfig } from './render.ts';
import { readTopology, type InterfaceState, type Topology } from './topology.ts';
import { answer as answerDhcp, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, parseDhcp } from './dhcp.ts';
import { Ec2NetUtilsGuests, missingGuestCommands } from './guest.ts';
import type { Observation } from '../evaluate.ts';
import { cidrContains, protocolNumber } from '../rules.ts';

export interface PlaneLog {
  warn(detail: object, message: string): void;
  info(detail: object, message: string): void;
}

export interface ImdsCaller {
  instanceId: string;
  account: string;
  region: string;
}

export interface LinuxPlaneOptions {
  store: Store;
  /** Six hex digits that prefix every namespace of this server. */
  prefix: string;
  guestNetwork: GuestNetwork;
  log: PlaneLog;
  /** Hands over a connection that reached the EC2 API's address from inside the plane. */
  apiConnection?: (socket: net.Socket) => void;
  /** Answers one metadata request of an instance. */
  imds?: (caller: ImdsCaller, request: http.IncomingMessage, response: http.ServerResponse) => void;
  /** When the next transition (an attachment, an instance state) is due, epoch ms. */
  nextDue?: () => Promise<number>;
  /** Settles the transitions that came due: a committed change, synced like any other. */
  settleDue?: () => Promise<void>;
  /** Writes flow-log records of what the kernel counted, per account and region. */
  recordFlows?: (account: string, region: string, observations: Observation[]) => Promise<void>;
  /** How often the kernel's flow counters are read while a flow log exists; default 2 s. */
  flowLogIntervalMs?: number;
}

export class PlaneUnavailableError extends Error {}

interface Applied {
  sysctls?: string;
  addresses: Set<string>;
  routes: Set<string>;
  rules: Set<string>;
  neighbours?: Set<string>;
  nft?: string;
}

interface LinkState {
  routerNamespace: string;
  routerName: string;
  home: { namespace: string; name: string; up: boolean };
  /** The guest configuration applied to it where it is now (JSON), if any. */
  guest?: string;
}

const ruleKey = (rule: IpRule) => `-${rule.family} ${rule.text}`;

/** Opens listening sockets inside a namespace and hands them to this process. */
const LISTEN_HELPER = `
const net = require('node:net');
const dgram = require('node:dgram');
const specs = JSON.parse(process.argv[1]);
let sent = 0;
for (const spec of specs) {
  if (spec.udp) {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    socket.on('error', (error) => { process.send({ error: String(error), spec }, () => process.exit(1)); });
    socket.bind(spec.port, spec.host, () => {
      process.send({ spec }, socket, () => { if (++sent === specs.length) process.exit(0); });
    });
    continue;
  }
  const server = net.createServer();
  server.on('error', (error) => { process.send({ error: String(error), spec }, () => process.exit(1)); });
  server.listen({ host: spec.host, port: spec.port, ipv6Only: spec.host.includes(':') }, () => {
    process.send({ spec }, server, () => { if (++sent === specs.length) process.exit(0); });
  });
}`;

/** The services whose interface endpoints this server answers itself (`com.amazonaws.REGION.<service>`). */
const ENDPOINT_SERVICES = new Set(['ec2', 'sts']);

export class LinuxPlane {
  readonly names: PlaneNames;
  private readonly applied = new Map<string, Applied>();
  private readonly links = new Map<string, LinkState>();
  private readonly uplinks = new Set<string>();
  private readonly listeners = new Map<string, net.Server[]>();
  private readonly imdsServers = new Map<string, http.Server>();
  private readonly dhcpSockets = new Map<string, dgram.Socket>();
  /** With `--guest-network ec2-net-utils`: each instance's systemd-networkd and ec2-net-utils. */
  private readonly guests: Ec2NetUtilsGuests | undefined;
  private topology: Topology = { vpcs: [], interfaces: [], instances: [], groupRules: {}, flowLogs: false, prefixLists: {} };
  private config: PlaneConfig = { namespaces: [], links: [], uplinks: [] };
  private running: Promise<void> | undefined;
  private again = false;
  private waiters: (() => void)[] = [];
  private dueTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The last failures to apply something, for `dataplane status`. */
  readonly errors: string[] = [];
  private syncs = 0;

  constructor(private readonly options: LinuxPlaneOptions) {
    this.names = new PlaneNames(options.prefix);
    this.guests = options.guestNetwork === 'ec2-net-utils' ? new Ec2NetUtilsGuests(options.log) : undefined;
  }

  /** Refuses to start without the privileges and commands it needs, with what to do about it. */
  static async checkHost(guestNetwork?: GuestNetwork): Promise<void> {
    const privileges = missingPrivileges();
    if (privileges.length) {
      throw new PlaneUnavailableError(
        `--dataplane linux needs root, or ${privileges.join(' and ')}: run it with sudo, or in a container started with --cap-add NET_ADMIN --cap-add SYS_ADMIN`,
      );
    }
    const commands = await missingCommands();
    if (commands.length) throw new PlaneUnavailableError(`--dataplane linux needs ${commands.join(' and ')} (Debian: apt-get install iproute2 nftables)`);
    if (guestNetwork === 'ec2-net-utils') {
      const missing = missingGuestCommands();
      if (missing.length) throw new PlaneUnavailableError(`--guest-network ec2-net-utils needs ${missing.join(', ')}`);
    }
  }

  async start(): Promise<void> {
    await LinuxPlane.checkHost(this.options.guestNetwork);
    mkdirSync(RUN_DIR, { recursive: true });
    writeFileSync(pidFile(this.options.prefix), `${process.pid}\n`);
    await this.adopt();
    await this.sync();
  }

  /** Takes over what a previous process of this server left in the kernel (after kill -9). */
  private async adopt(): Promise<void> {
    const topology = await readTopology(this.options.store);
    const byMac = new Map(topology.interfaces.map((e) => [e.mac.toLowerCase(), e.id]));
    const byRouterName = new Map(topology.interfaces.map((e) => [this.names.routerLink(e.id), e.id]));
    const existing = listNamespaces().filter((ns) => this.names.owns(ns));
    const homes = new Map<string, LinkState['home']>();
    for (const namespace of existing) {
      this.applied.set(namespace, { addresses: new Set(), routes: new Set(), rules: new Set() });
      const links = await linksOf(namespace);
      const isRouter = topology.vpcs.some((v) => this.names.router(v.id) === namespace);
      for (const link of links) {
        if (isRouter) {
          const eniId = byRouterName.get(link.name);
          if (eniId) this.links.set(eniId, { routerNamespace: namespace, routerName: link.name, home: homes.get(eniId) ?? { namespace: '', name: '', up: false } });
          if (link.name === ROUTER_UPLINK) this.uplinks.add(namespace);
        } else {
          const eniId = byMac.get(link.mac);
          if (eniId && link.name !== 'lo') {
            const home = { namespace, name: link.name, up: link.up };
            homes.set(eniId, home);
            const state = this.links.get(eniId);
            if (state) state.home = home;
          }
        }
      }
      // What routes and rules the previous process applied is not known: start those afresh.
      if (isRouter || namespace === this.names.internet) await this.flushOwned(namespace, isRouter);
    }
    for (const [eniId, state] of this.links) {
      const home = homes.get(eniId);
      if (home) state.home = home;
      else this.links.delete(eniId); // its other end is gone: recreate the pair
    }
  }

  private async flushOwned(namespace: string, router: boolean): Promise<void> {
    const lines: string[] = ['-4 address flush dev lo scope global', '-6 address flush dev lo scope global'];
    if (router) {
      for (const table of await extraTables(namespace)) lines.push(`-4 route flush table ${table}`, `-6 route flush table ${table}`);
      for (const priority of [1000, 2000]) lines.push(`-4 rule flush priority ${priority}`, `-6 rule flush priority ${priority}`);
    } else {
      lines.push('-4 route flush table main', '-6 route flush table main proto boot');
    }
    this.record(await ipBatch(namespace, lines));
  }

  /** Brings the kernel to the committed state; resolves once a sync that began after the call has finished. */
  sync(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      if (this.running) {
        this.again = true;
        return;
      }
      this.running = this.loop();
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const waiters = this.waiters;
      this.waiters = [];
      try {
        await this.reconcile();
      } catch (error) {
        this.record([`sync failed: ${(error as Error).stack ?? String(error)}`]);
      }
      for (const resolve of waiters) resolve();
    } while (this.again || this.waiters.length);
    this.running = undefined;
  }

  private record(errors: readonly string[]): void {
    for (const error of errors) {
      this.options.log.warn({ dataplane: 'linux', error }, 'the linux data plane could not apply a change');
      this.errors.push(`${new Date().toISOString()} ${error}`);
      if (this.errors.length > 50) this.errors.shift();
    }
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    this.syncs += 1;
    this.topology = await readTopology(this.options.store);
    const config = renderPlane(this.topology, this.names, this.options.guestNetwork);
    this.config = config;
    const wanted = new Map(config.namespaces.map((n) => [n.name, n]));

    // 1. Namespaces that must exist, with their sysctls (the new ones made together).
    const created = config.namespaces.filter((ns) => !this.applied.has(ns.name));
    this.record(await addNamespaces(created));
    for (const ns of created) this.applied.set(ns.name, { addresses: new Set(), routes: new Set(), rules: new Set(), sysctls: ns.sysctls.join(' ') });
    for (const ns of config.namespaces) {
      const applied = this.applied.get(ns.name)!;
      const instance = ns.kind === 'instance' ? this.topology.instances.find((i) => i.id === ns.instanceId) : undefined;
      if (this.guests && instance && !isManagedHost(instance)) await this.guests.boot(ns.name, created.includes(ns));
      const sysctls = ns.sysctls.join(' ');
      if (applied.sysctls !== sysctls) {
        this.record(await setSysctls(ns.name, ns.sysctls));
        applied.sysctls = sysctls;
      }
    }

    // 2. Each VPC router's uplink to the internet.
    for (const uplink of config.uplinks) {
      if (this.uplinks.has(uplink.routerNamespace)) continue;
      this.record(
        await ipBatch(uplink.routerNamespace, [`link add ${ROUTER_UPLINK} type veth peer name ${uplink.internetName} netns ${this.names.internet}`, `link set ${ROUTER_UPLINK} up`]),
      );
      this.record(await ipBatch(this.names.internet, [`link set ${uplink.internetName} up`]));
      this.uplinks.add(uplink.routerNamespace);
    }

    // 3. Interfaces: create pairs, move the interface's own end where it belongs, configure the guest.
    await this.reconcileLinks(config.links, wanted);
    this.hotplug(config);

    // 4. Addresses, routes, rules and nftables of every namespace. A router's ruleset replaced
    // loses its flow counters: what they counted since the last read is recorded first.
    const replacing = config.namespaces.some((ns) => ns.kind === 'router' && ns.nft !== undefined && this.applied.get(ns.name)?.nft !== undefined && this.applied.get(ns.name)?.nft !== ns.nft);
    if (replacing && this.topology.flowLogs) await this.collectFlows().catch((error: unknown) => this.record([`reading flow counters: ${String(error)}`]));
    for (const ns of config.namespaces) await this.reconcileNamespace(ns);

    // 5. Namespaces that must go (a terminated instance, a deleted VPC), and their listeners.
    for (const name of [...this.applied.keys()]) {
      if (wanted.has(name)) continue;
      this.closeListeners(name);
      this.guests?.forget(name);
      this.record(await deleteNamespace(name));
      this.applied.delete(name);
      this.uplinks.delete(name);
      for (const [eniId, link] of this.links) if (link.routerNamespace === name || link.home.namespace === name) this.links.delete(eniId);
    }

    // 6. The metadata service on each router, the EC2 API on the internet side.
    await this.reconcileListeners(config);
    await this.scheduleDue();
    this.scheduleFlowLogs();
  }

  private async reconcileLinks(links: readonly LinkConfig[], wanted: Map<string, NamespaceConfig>): Promise<void> {
    const desired = new Map(links.map((l) => [l.eniId, l]));
    const batches = new Map<string, string[]>();
    const add = (namespace: string, ...lines: string[]) => batches.set(namespace, [...(batches.get(namespace) ?? []), ...lines]);
    const flush = async () => {
      for (const [namespace, lines] of batches) this.record(await ipBatch(namespace, lines));
      batches.clear();
    };

    // Interfaces deleted: removing the router's end removes the pair.
    for (const [eniId, link] of this.links) {
      if (desired.has(eniId)) continue;
      if (wanted.has(link.routerNamespace)) add(link.routerNamespace, `link del ${link.routerName}`);
      this.links.delete(eniId);
    }
    // New interfaces: a veth pair, the router's end up, the interface's end parked with its MAC address.
    for (const link of links) {
      if (this.links.has(link.eniId)) continue;
      const parked = this.names.parkedLink(link.eniId);
      add(
        link.routerNamespace,
        `link add ${link.routerName} mtu ${PLANE.interfaceMtu} type veth peer name ${parked} mtu ${PLANE.interfaceMtu} address ${link.mac} netns ${this.names.parking}`,
        `link set ${link.routerName} up`,
      );
      this.links.set(link.eniId, { routerNamespace: link.routerNamespace, routerName: link.routerName, home: { namespace: this.names.parking, name: parked, up: false } });
    }
    await flush();

    // Phase 1: every interface that leaves its namespace (or changes its name there) goes down, takes its parked name and moves.
    for (const link of links) {
      const state = this.links.get(link.eniId)!;
      const parked = this.names.parkedLink(link.eniId);
      const here = state.home;
      const moving = here.namespace !== link.home.namespace;
      const renaming = !moving && here.name !== link.home.name;
      if (!moving && !renaming) continue;
      if (here.up) add(here.namespace, `link set ${here.name} down`);
      if (here.name !== parked) add(here.namespace, `link set ${here.name} name ${parked}`);
      if (moving) add(here.namespace, `link set ${parked} netns ${link.home.namespace}`);
      state.home = { namespace: link.home.namespace, name: parked, up: false };
      state.guest = undefined; // moving or renaming a link drops its addresses and routes
    }
    await flush();

    // Phase 2: the name and state it has where it is now, and the guest's configuration.
    for (const link of links) {
      const state = this.links.get(link.eniId)!;
      const ns = link.home.namespace;
      if (state.home.name !== link.home.name) {
        add(ns, `link set ${state.home.name} name ${link.home.name}`);
        state.home.name = link.home.name;
      }
      if (state.home.up !== link.home.up) {
        add(ns, `link set ${link.home.name} ${link.home.up ? 'up' : 'down'}`);
        // A link taken down loses its routes (and IPv6 addresses): configure it again when it comes up.
        if (!link.home.up) state.guest = undefined;
        state.home.up = link.home.up;
      }
      const guest = link.guest && link.home.up ? JSON.stringify(link.guest) : undefined;
      if (guest && state.guest !== guest) {
        add(ns, ...guestFlush(link.guest!.device, link.guest!.deviceIndex), ...link.guest!.commands);
        state.guest = guest;
      }
    }
    await flush();
  }

  /**
   * Plays udev for the ec2-net-utils guests: a device that came up in an instance is `add`ed, one
   * that left it (detached, moved, or down with its stopped instance) is `remove`d.
   */
  private hotplug(config: PlaneConfig): void {
    const guests = this.guests;
    if (!guests) return;
    const managed = new Set(this.topology.instances.filter(isManagedHost).map((i) => this.names.instance(i.id)));
    const present = new Set<string>();
    for (const link of config.links) {
      const { namespace, name, up } = link.home;
      if (!up || namespace === this.names.parking || managed.has(namespace)) continue;
      present.add(`${namespace} ${name}`);
      if (!guests.has(namespace, name)) guests.plug(namespace, name);
    }
    for (const key of guests.devicesPlugged()) if (!present.has(key)) guests.unplug(...(key.split(' ') as [string, string]));
  }

  private async reconcileNamespace(ns: NamespaceConfig): Promise<void> {
    const applied = this.applied.get(ns.name)!;
    const lines: string[] = [];
    const wantAddresses = new Set(ns.addresses);
    const wantRoutes = new Set(ns.routes);
    const wantRules = new Map(ns.rules.map((r) => [ruleKey(r), r]));
    for (const route of applied.routes) if (!wantRoutes.has(route)) lines.push(`route del ${route}`);
    // A rule's key is `-4 TEXT` / `-6 TEXT`: its family, then what `ip rule` takes.
    for (const key of applied.rules) if (!wantRules.has(key)) lines.push(`${key.slice(0, 3)}rule del ${key.slice(3)}`);
    for (const address of applied.addresses) if (!wantAddresses.has(address)) lines.push(`address del ${address.replace(/ nodad$/, '')}`);
    const wantNeighbours = new Set(ns.neighbours ?? []);
    for (const neighbour of applied.neighbours ?? []) {
      if (!wantNeighbours.has(neighbour)) lines.push(`${neighbour.slice(0, 3)}neigh del ${neighbour.slice(3).replace(/ lladdr \S+/, '').replace(/ nud permanent$/, '')}`);
    }
    for (const address of ns.addresses) if (!applied.addresses.has(address)) lines.push(`address replace ${address}`);
    for (const route of ns.routes) if (!applied.routes.has(route)) lines.push(`route replace ${route}`);
    for (const [key, rule] of wantRules) if (!applied.rules.has(key)) lines.push(`-${rule.family} rule add ${rule.text}`);
    for (const neighbour of wantNeighbours) if (!applied.neighbours?.has(neighbour)) lines.push(`${neighbour.slice(0, 3)}neigh replace ${neighbour.slice(3)}`);
    if (lines.length) this.record(await ipBatch(ns.name, lines));
    applied.addresses = wantAddresses;
    applied.routes = wantRoutes;
    applied.rules = new Set(wantRules.keys());
    applied.neighbours = wantNeighbours;
    if (ns.nft !== undefined && applied.nft !== ns.nft) {
      const errors = await applyNft(ns.name, ns.nft);
      this.record(errors);
      applied.nft = errors.length ? undefined : ns.nft;
      // The new ruleset's sets start empty: forget what the old one had counted.
      for (const key of this.flowCounters.keys()) if (key.startsWith(`${ns.name} `)) this.flowCounters.delete(key);
    }
  }

  // --- listeners ------------------------------------------------------------------------------------

  private async reconcileListeners(config: PlaneConfig): Promise<void> {
    for (const ns of config.namespaces) {
      if (this.listeners.has(ns.name)) continue;
      if (ns.kind === 'router' && ns.vpcId) {
        const vpcId = ns.vpcId;
        const server = http.createServer((request, response) => this.answerMetadata(vpcId, request, response));
        this.imdsServers.set(ns.name, server);
        await this.listen(ns.name, [{ host: PLANE.imdsIpv4, port: 80 }, { host: PLANE.imdsIpv6, port: 80 }, { host: '0.0.0.0', port: DHCP_SERVER_PORT, udp: true }], (socket) =>
          server.emit('connection', socket),
        (socket) => {
          this.dhcpSockets.set(ns.name, socket);
          socket.on('message', (message) => this.serveDhcp(vpcId, socket, message));
        });
      } else if (ns.kind === 'internet' && this.options.apiConnection) {
        const accept = this.options.apiConnection;
        await this.listen(ns.name, [{ host: PLANE.apiIpv4, port: 80 }], (socket) => accept(socket));
      } else if (ns.kind === 'instance' && this.options.apiConnection) {
        // An interface endpoint of a service this server is (EC2, and STS for the caller's identity) answers on its interface's addresses.
        const service = this.topology.instances.find((i) => i.id === ns.instanceId)?.endpointService?.split('.').slice(3).join('.');
        const accept = this.options.apiConnection;
        if (service && ENDPOINT_SERVICES.has(service)) await this.listen(ns.name, [{ host: '0.0.0.0', port: 80 }], (socket) => accept(socket));
      }
    }
  }

  private listen(namespace: string, specs: { host: string; port: number; udp?: boolean }[], onConnection: (socket: net.Socket) => void, onDatagramSocket?: (socket: dgram.Socket) => void): Promise<void> {
    const servers: net.Server[] = [];
    this.listeners.set(namespace, servers);
    return new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', LISTEN_HELPER, JSON.stringify(specs)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('message', (message: { error?: string; spec?: { udp?: boolean } }, handle: unknown) => {
        if (message.error) {
          this.record([`${namespace}: cannot listen on ${JSON.stringify(message.spec)}: ${message.error}`]);
          return;
        }
        if (message.spec?.udp) {
          onDatagramSocket?.(handle as dgram.Socket);
          return;
        }
        const server = handle as net.Server;
        server.on('connection', onConnection);
        servers.push(server);
      });
      child.on('error', (error) => {
        this.record([`${namespace}: listener helper: ${error.message}`]);
        resolve();
      });
      child.on('exit', (code) => {
        if (code !== 0) this.record([`${namespace}: listener helper exited with ${code}: ${stderr.trim()}`]);
        resolve();
      });
    });
  }

  private closeListeners(namespace: string): void {
    for (const server of this.listeners.get(namespace) ?? []) server.close();
    this.listeners.delete(namespace);
    this.imdsServers.get(namespace)?.close();
    this.imdsServers.delete(namespace);
    this.dhcpSockets.get(namespace)?.close();
    this.dhcpSockets.delete(namespace);
  }

  /** The VPC's DHCP server: the interface with the client's MAC address, plugged into a running instance, gets its primary address. */
  private serveDhcp(vpcId: string, socket: dgram.Socket, packet: Buffer): void {
    const request = parseDhcp(packet);
    if (!request) return;
    const vpc = this.topology.vpcs.find((v) => v.id === vpcId);
    const eni = this.topology.interfaces.find((e) => e.vpcId === vpcId && e.mac.toLowerCase() === request.chaddr);
    const instance = eni?.attachment ? this.topology.instances.find((i) => i.id === eni.attachment!.instanceId) : undefined;
    const subnet = vpc?.subnets.find((s) => s.id === eni?.subnetId);
    const lease =
      vpc && eni && subnet && eni.ipv4[0] && isDelivering(eni, instance)
        ? { address: eni.ipv4[0], subnetCidr: subnet.cidr, options: vpc.dhcpOptions, vpcCidr: vpc.cidrs[0], mtu: PLANE.interfaceMtu }
        : undefined;
    const reply = answerDhcp(request, lease);
    if (!reply) return;
    socket.send(reply.message, DHCP_CLIENT_PORT, reply.to, (error) => {
      if (error) this.record([`${this.names.router(vpcId)}: DHCP reply to ${reply.to}: ${error.message}`]);
    });
  }

  /** The instance behind a metadata request is the one whose interface holds the request's source address. */
  private answerMetadata(vpcId: string, request: http.IncomingMessage, response: http.ServerResponse): void {
    const source = (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const eni = this.topology.interfaces.find((e) => e.vpcId === vpcId && (e.ipv4.includes(source) || e.ipv6.includes(source)));
    const instance = eni?.attachment ? this.topology.instances.find((i) => i.id === eni.attachment!.instanceId) : undefined;
    if (!instance || !this.options.imds) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    this.options.imds({ instanceId: instance.id, account: instance.account, region: instance.region }, request, response);
  }

  // --- transitions that come due ----------------------------------------------------------------------

  private async scheduleDue(): Promise<void> {
    const { nextDue, settleDue } = this.options;
    if (!nextDue || !settleDue || this.stopped) return;
    clearTimeout(this.dueTimer);
    this.dueTimer = undefined;
    const next = await nextDue();
    if (!Number.isFinite(next)) return;
    // Settling on time makes an attachment reach the kernel when it becomes `attached`, without waiting for a request.
    // Armed again once settled: when nothing was due after all (a wait longer than a timer holds,
    // 2^31 - 1 ms, ends early), no request ran, so no sync re-armed it.
    this.dueTimer = setTimeout(() => {
      this.dueTimer = undefined;
      settleDue()
        .then(() => this.scheduleDue())
        .catch((error: unknown) => this.record([`settling due transitions: ${String(error)}`]));
    }, Math.min(Math.max(0, next - Date.now()) + 5, 2 ** 31 - 1));
    this.dueTimer.unref();
  }

  // --- flow logs from the kernel's counters ------------------------------------------------------------

  private flowTimer: NodeJS.Timeout | undefined;
  /** Counters already recorded, per router namespace and set element. */
  private readonly flowCounters = new Map<string, { packets: number; bytes: number }>();

  private scheduleFlowLogs(): void {
    if (this.flowTimer || !this.topology.flowLogs || !this.options.recordFlows || this.stopped) return;
    this.flowTimer = setTimeout(() => {
      this.flowTimer = undefined;
      this.collectFlows()
        .catch((error: unknown) => this.record([`reading flow counters: ${String(error)}`]))
        .finally(() => this.scheduleFlowLogs());
    }, this.options.flowLogIntervalMs ?? 2000);
    this.flowTimer.unref();
  }

  /** Reads every router's flow sets and records what grew since the last read. */
  async collectFlows(): Promise<void> {
    const record = this.options.recordFlows;
    if (!record) return;
    const end = Math.floor(Date.now() / 1000);
    const byScope = new Map<string, Observation[]>();
    const seen = new Set<string>();
    for (const vpc of this.topology.vpcs) {
      const namespace = this.names.router(vpc.id);
      const result = await runCommand('ip', ['netns', 'exec', namespace, 'nft', '-j', 'list', 'table', 'inet', 'eni']);
      if (result.code !== 0) continue;
      const enis = this.topology.interfaces.filter((e) => e.vpcId === vpc.id);
      for (const item of (JSON.parse(result.stdout) as { nftables: { set?: { name: string; elem?: { elem: { val: { concat: (string | number)[] }; counter?: { packets: number; bytes: number } } }[] } }[] }).nftables) {
        const set = item.set;
        if (!set || !FLOW_SETS.includes(set.name)) continue;
        const direction = set.name[3] === 'e' ? 'egress' : 'ingress';
        const action = set.name[4] === 'a' ? 'ACCEPT' : 'REJECT';
        for (const { elem } of set.elem ?? []) {
          const [src, dst, protocol, sport, dport] = elem.val.concat as [string, string, string | number, number?, number?];
          const key = `${namespace} ${set.name} ${elem.val.concat.join(' ')}`;
          const counter = elem.counter ?? { packets: 0, bytes: 0 };
          const last = this.flowCounters.get(key) ?? { packets: 0, bytes: 0 };
          // A ruleset replaced since (a change of rules) starts its counters again.
          const packets = counter.packets >= last.packets ? counter.packets - last.packets : counter.packets;
          const bytes = counter.bytes >= last.bytes ? counter.bytes - last.bytes : counter.bytes;
          this.flowCounters.set(key, counter);
          seen.add(key);
          if (!packets) continue;
          const eni = ownerOf(enis, direction === 'egress' ? String(src) : String(dst));
          if (!eni) continue;
          const primary = (address: string) => (eni.ipv4.includes(address) ? eni.ipv4[0] : address);
          const observation: Observation = {
            networkInterfaceId: eni.id,
            subnetId: eni.subnetId,
            vpcId: eni.vpcId,
            direction,
            action,
            srcaddr: direction === 'egress' ? primary(String(src)) : String(src),
            dstaddr: direction === 'ingress' ? primary(String(dst)) : String(dst),
            pktSrcaddr: String(src),
            pktDstaddr: String(dst),
            srcport: Number(sport ?? 0),
            dstport: Number(dport ?? 0),
            measured: { protocol: protocolNumberOf(protocol), packets, bytes, start: end - Math.ceil((this.options.flowLogIntervalMs ?? 2000) / 1000), end },
          };
          const scope = `${eni.account} ${eni.region}`;
          byScope.set(scope, [...(byScope.get(scope) ?? []), observation]);
        }
      }
    }
    // Elements the kernel let expire are forgotten here too.
    for (const key of this.flowCounters.keys()) if (!seen.has(key)) this.flowCounters.delete(key);
    for (const [scope, observations] of byScope) {
      const [account, region] = scope.split(' ');
      await record(account, region, observations);
    }
  }

  // --- what exists ----------------------------------------------------------------------------------

  /** The namespace of an instance (running or stopped), or of the internet; undefined if there is none. */
  namespaceOf(target: string): string | undefined {
    if (target === 'internet') return this.names.internet;
    return this.topology.instances.some((i) => i.id === target) ? this.names.instance(target) : undefined;
  }

  status(): object {
    return {
      mode: 'linux',
      prefix: this.options.prefix,
      guestNetwork: this.options.guestNetwork,
      syncs: this.syncs,
      namespaces: this.config.namespaces.map((n) => ({ name: n.name, kind: n.kind, vpcId: n.vpcId, instanceId: n.instanceId })),
      interfaces: [...this.links].map(([eniId, l]) => ({ networkInterfaceId: eniId, namespace: l.home.namespace, name: l.home.name, up: l.home.up, router: `${l.routerNamespace}/${l.routerName}` })),
      addresses: { metadataService: PLANE.imdsIpv4, metadataServiceIpv6: PLANE.imdsIpv6, ec2Api: `http://${PLANE.apiIpv4}`, internetHost: PLANE.internetIpv4, internetRange: PLANE.internetIpv4Range },
      errors: [...this.errors],
    };
  }

  /** Removes every namespace, link and rule this server made. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.dueTimer);
    clearTimeout(this.flowTimer);
    await this.running;
    for (const namespace of [...this.listeners.keys()]) this.closeListeners(namespace);
    this.guests?.stop();
    await removeNamespaces(this.names, (e) => this.record(e));
    rmSync(pidFile(this.options.prefix), { force: true });
  }
}

const RUN_DIR = '/run/eni-local';
const pidFile = (prefix: string) => `${RUN_DIR}/${prefix}.pid`;

/** Instances first, so that no interface dies with its router while an instance still holds it. */
async function removeNamespaces(names: PlaneNames, record: (errors: string[]) => void): Promise<void> {
  const mine = listNamespaces().filter((ns) => names.owns(ns));
  const order = (ns: string) => (ns.includes('-i-') ? 0 : ns === names.parking ? 1 : ns.includes('-vpc-') ? 2 : 3);
  for (const ns of mine.sort((a, b) => order(a) - order(b))) record(await deleteNamespace(ns));
}

/** Whether the server of a prefix still runs (its pid file names a live process other than this one). */
function serverAlive(prefix: string): boolean {
  try {
    const pid = Number(readFileSync(pidFile(prefix), 'utf8').trim());
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every plane namespace on the machine, by server prefix. */
function namespacesByPrefix(): Map<string, string[]> {
  const byPrefix = new Map<string, string[]>();
  for (const ns of listNamespaces()) {
    const prefix = PLANE_NAMESPACE.exec(ns)?.[1];
    if (prefix) byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), ns]);
  }
  return byPrefix;
}

/** Removes the namespaces of servers that are no longer running; answers what it removed. */
export async function cleanupDeadPlanes(options: { prefix?: string } = {}): Promise<string[]> {
  const removed: string[] = [];
  for (const [prefix, namespaces] of namespacesByPrefix()) {
    if ((options.prefix && prefix !== options.prefix) || serverAlive(prefix)) continue;
    await removeNamespaces(new PlaneNames(prefix), () => {});
    rmSync(pidFile(prefix), { force: true });
    removed.push(...namespaces);
  }
  return removed;
}

/** Every plane namespace on the machine, by server prefix, and whether its server runs. */
export async function planeNamespaces(): Promise<{ prefix: string; alive: boolean; namespaces: string[] }[]> {
  return [...namespacesByPrefix()].map(([prefix, namespaces]) => ({ prefix, alive: serverAlive(prefix), namespaces: namespaces.sort() }));
}
/** The interface of a VPC that holds an address (as a private address or inside a delegated prefix). */
function ownerOf(enis: readonly InterfaceState[], address: string): InterfaceState | undefined {
  return enis.find((e) => e.ipv4.includes(address) || e.ipv6.includes(address) || [...e.ipv4Prefixes, ...e.ipv6Prefixes].some((p) => cidrContains(p, address)));
}

/** nftables names a protocol as /etc/protocols does (`ipv6-icmp`), or by number when it has no name. */
const protocolNumberOf = (value: string | number) => protocolNumber(value === 'ipv6-icmp' ? 'icmpv6' : String(value));
