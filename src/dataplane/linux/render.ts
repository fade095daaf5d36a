/**
 * The kernel state the plane wants, as a pure function of the topology: for every namespace its
 * sysctls, addresses, routes, policy rules and nftables ruleset (as `ip`/`nft` text), and for
 * every interface where its kernel interface lives and how the guest sees it configured.
 *
 * The shape, as AWS's hypervisor does it (everything that decides is outside the instance):
 *   internet ns ──uplink veth── VPC router ns ──one veth per ENI── instance ns (ethN)
 * - The router holds the other end of every ENI. Route tables are kernel tables chosen by the
 *   packet's incoming ENI (`iif` rules); the local route becomes one host route per address whose
 *   longest prefix match is `local`, so more specific routes (to an appliance) win as on AWS.
 * - Security groups (stateful: conntrack), network ACLs (stateless: every packet, both ways),
 *   source/destination check and the gateway's 1:1 NAT are one nftables table in the router.
 * - Proxy ARP on the router's ENI ends answers for the subnet router (base + 1) and the other
 *   hosts, so the guest keeps its ordinary on-link subnet and default route.
 */
import { longestPrefixMatch, protocolNumber, isIpv6 } from '../rules.ts';
import { formatIpv4, parseIpv4Cidr } from '../../ipam/ipv4.ts';
import type { AclEntryState, InstanceState, InterfaceState, RuleState, Topology, VpcState } from './topology.ts';
import { PLANE, ROUTER_UPLINK, type PlaneNames } from './names.ts';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, subnetRouter } from './dhcp.ts';

export type GuestNetwork = 'aws' | 'primary' | 'none' | 'ec2-net-utils';

export interface IpRule {
  family: 4 | 6;
  /** `ip rule add` arguments, with a priority. */
  text: string;
}

export interface NamespaceConfig {
  name: string;
  kind: 'internet' | 'parking' | 'router' | 'instance';
  sysctls: string[];
  /** `ip address replace` arguments. */
  addresses: string[];
  /** `ip route replace` arguments, each with its table. */
  routes: string[];
  rules: IpRule[];
  /** `ip neigh replace` arguments, each starting with its family (`-4 `, `-6 `). */
  neighbours?: string[];
  nft?: string;
  /** Router: the VPC it routes. Instance: the instance. */
  vpcId?: string;
  instanceId?: string;
}

export interface LinkConfig {
  eniId: string;
  mac: string;
  routerNamespace: string;
  routerName: string;
  /** Where the interface's own end lives, under which name, and whether it is up. */
  home: { namespace: string; name: string; up: boolean };
  /** In an instance: the guest configuration (`ip` commands) for its device, applied after a flush. */
  guest?: GuestConfig;
}

export interface GuestConfig {
  device: string;
  deviceIndex: number;
  /** Each an `ip` command line (`-4 address add …`, `-6 route add …`, `rule add …`). */
  commands: string[];
}

export interface UplinkConfig {
  vpcId: string;
  routerNamespace: string;
  internetName: string;
}

export interface PlaneConfig {
  namespaces: NamespaceConfig[];
  links: LinkConfig[];
  uplinks: UplinkConfig[];
}

/** What a NAT gateway does to what it forwards: the source becomes its own address (then the internet gateway's 1:1 NAT maps that to its Elastic IP). */
const NAT_GATEWAY_NFT = `table inet eni {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    iifname "eth0" oifname "eth0" meta nfproto ipv4 masquerade
  }
}
`;

/** Route table numbers: the rules' tables for traffic from an ENI; 50 for traffic from the uplink or the router itself. */
const INBOUND_TABLE = 50;
const RULE_FROM_ENI = 1000;
const RULE_INBOUND = 2000;
/** ec2-net-utils (Amazon Linux 2023): device N > 0 routes in table 10000 + N, chosen by source rules of that priority. */
const GUEST_RULE_BASE = 10000;
const GUEST_METRIC_BASE = 512;

const SYSCTLS_COMMON = ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_ra=0', 'net.ipv6.conf.default.accept_ra=0', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'];
const SYSCTLS_FORWARDING = ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'];

const prefixLength = (cidr: string) => Number(cidr.split('/')[1]);

/** A host that AWS runs for a service (a NAT gateway, an interface endpoint) rather than the user's instance. */
export function isManagedHost(instance: InstanceState): boolean {
  return !!instance.natGateway || instance.endpointService !== undefined;
}

/** Whether the interface's kernel interface belongs inside its instance now: attached (not attaching or detaching). */
export function isPlugged(eni: InterfaceState, instance: InstanceState | undefined): boolean {
  return !!eni.attachment && eni.attachment.status === 'attached' && !!instance;
}

/** Whether traffic reaches the interface: plugged into a running instance that passes its status checks. */
export function isDelivering(eni: InterfaceState, instance: InstanceState | undefined): boolean {
  return isPlugged(eni, instance) && instance!.state === 'running' && !instance!.impaired;
}

export function renderPlane(topology: Topology, names: PlaneNames, guestNetwork: GuestNetwork): PlaneConfig {
  const instances = new Map(topology.instances.map((i) => [i.id, i]));
  const enisByVpc = new Map<string, InterfaceState[]>();
  for (const eni of topology.interfaces) {
    const list = enisByVpc.get(eni.vpcId) ?? [];
    list.push(eni);
    enisByVpc.set(eni.vpcId, list);
  }
  const instanceOf = (eni: InterfaceState) => (eni.attachment ? instances.get(eni.attachment.instanceId) : undefined);

  const internet: NamespaceConfig = {
    name: names.internet,
    kind: 'internet',
    sysctls: [...SYSCTLS_COMMON, ...SYSCTLS_FORWARDING],
    addresses: [`${PLANE.internetUplinkIpv4}/32 dev lo`, `${PLANE.apiIpv4}/32 dev lo`, `${PLANE.internetIpv4}/32 dev lo`, `${PLANE.internetIpv6}/128 dev lo`],
    routes: [`local ${PLANE.internetIpv4Range} dev lo table local`, `local ${PLANE.internetIpv6Range} dev lo table local`],
    rules: [],
  };
  const parking: NamespaceConfig = { name: names.parking, kind: 'parking', sysctls: SYSCTLS_COMMON, addresses: [], routes: [], rules: [] };
  const namespaces: NamespaceConfig[] = [internet, parking];
  const links: LinkConfig[] = [];
  const uplinks: UplinkConfig[] = [];

  for (const vpc of topology.vpcs) {
    const enis = enisByVpc.get(vpc.id) ?? [];
    const router = renderRouter(vpc, enis, topology, names, instanceOf);
    namespaces.push(router);
    uplinks.push({ vpcId: vpc.id, routerNamespace: router.name, internetName: names.uplink(vpc.id) });
    internet.addresses.push(`${PLANE.internetLinkLocal}/64 dev ${names.uplink(vpc.id)} nodad`);
    if (vpc.internetGatewayId) {
      const uplink = names.uplink(vpc.id);
      // AWS: the internet reaches a VPC's public addresses (Elastic IPs, automatic public IPv4, its IPv6 blocks) through its gateway.
      for (const eni of enis) {
        for (const publicIp of Object.values(eni.publicIpv4)) internet.routes.push(`${publicIp}/32 via ${PLANE.routerUplinkIpv4} dev ${uplink} onlink src ${PLANE.internetIpv4} table main`);
      }
    }
    // The answers to what leaves through an egress-only internet gateway come back the same way (the router refuses the rest).
    if (vpc.internetGatewayId || vpc.egressOnlyInternetGatewayId) {
      for (const block of vpc.ipv6Cidrs) internet.routes.push(`${block} via ${PLANE.routerLinkLocal} dev ${names.uplink(vpc.id)} src ${PLANE.internetIpv6} table main`);
    }
    for (const eni of enis) {
      const instance = instanceOf(eni);
      const plugged = isPlugged(eni, instance);
      const home = plugged
        ? { namespace: names.instance(instance!.id), name: `eth${eni.attachment!.deviceIndex}`, up: instance!.state === 'running' }
        : { namespace: names.parking, name: names.parkedLink(eni.id), up: false };
      const subnet = vpc.subnets.find((s) => s.id === eni.subnetId);
      links.push({
        eniId: eni.id,
        mac: eni.mac,
        routerNamespace: router.name,
        routerName: names.routerLink(eni.id),
        home,
        // A NAT gateway or an endpoint is configured by AWS, whatever the users' guests do: its address and the subnet router as gateway.
        // With ec2-net-utils the guest configures itself (DHCP and the metadata service).
        guest:
          plugged && subnet && (isManagedHost(instance!) || guestNetwork !== 'ec2-net-utils')
            ? guestConfig(eni, home.name, eni.attachment!.deviceIndex, subnet.cidr, isManagedHost(instance!) ? 'primary' : (guestNetwork as Exclude<GuestNetwork, 'ec2-net-utils'>))
            : undefined,
      });
    }
  }

  for (const instance of topology.instances) {
    namespaces.push({
      name: names.instance(instance.id),
      kind: 'instance',
      instanceId: instance.id,
      // A NAT gateway forwards, back out of its one interface, translating the source to its own address.
      sysctls: instance.natGateway ? [...SYSCTLS_COMMON, ...SYSCTLS_FORWARDING, 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.default.send_redirects=0'] : SYSCTLS_COMMON,
      addresses: [],
      routes: [],
      rules: [],
      nft: instance.natGateway ? NAT_GATEWAY_NFT : undefined,
    });
  }
  return { namespaces, links, uplinks };
}

function renderRouter(
  vpc: VpcState,
  enis: InterfaceState[],
  topology: Topology,
  names: PlaneNames,
  instanceOf: (eni: InterfaceState) => InstanceState | undefined,
): NamespaceConfig {
  const addresses = [
    `${PLANE.routerUplinkIpv4}/32 dev lo`,
    `${PLANE.imdsIpv4}/32 dev lo`,
    `${PLANE.imdsIpv6}/128 dev lo`,
    `${PLANE.routerLinkLocal}/64 dev ${ROUTER_UPLINK} nodad`,
    ...vpc.subnets.filter((s) => s.cidr).map((s) => `${subnetRouter(s.cidr)}/32 dev lo`),
  ];
  const routes: string[] = [];
  const rules: IpRule[] = [
    { family: 4, text: `lookup ${INBOUND_TABLE} priority ${RULE_INBOUND}` },
    { family: 6, text: `lookup ${INBOUND_TABLE} priority ${RULE_INBOUND}` },
  ];
  const plugged = enis.filter((eni) => isPlugged(eni, instanceOf(eni)));
  for (const eni of enis) addresses.push(`${PLANE.routerLinkLocal}/64 dev ${names.routerLink(eni.id)} nodad`);

  // Traffic from the internet (after the gateway's NAT) and from the router itself goes straight to the interface.
  for (const eni of plugged) for (const route of hostRoutes(eni, names, vpc)) routes.push(`${route} table ${INBOUND_TABLE}`);
  // The router knows each interface's MAC address, as AWS's does: no ARP or neighbour discovery to wait for after a move
  // (a failed lookup while the interface was parked would otherwise hold the first packets back for a second).
  const neighbours: string[] = [];
  for (const eni of plugged) {
    const dev = names.routerLink(eni.id);
    for (const address of eni.ipv4) neighbours.push(`-4 ${address} lladdr ${eni.mac} dev ${dev} nud permanent`);
    for (const address of eni.ipv6) neighbours.push(`-6 ${address} lladdr ${eni.mac} dev ${dev} nud permanent`);
  }

  const tableNumbers = routeTableNumbers(vpc.routeTables.map((t) => t.id));
  const enisById = new Map(topology.interfaces.map((e) => [e.id, e]));
  for (const table of vpc.routeTables) {
    const number = tableNumbers.get(table.id)!;
    for (const route of table.routes) routes.push(`${renderRoute(route, vpc, enisById, instanceOf, names)} table ${number}`);
    // The local route: one host route per address whose best route is `local` (a more specific route wins, as on AWS).
    for (const eni of plugged) {
      for (const [address, route] of hostRouteEntries(eni, names, vpc)) {
        const best = longestPrefixMatch(table.routes, address);
        if (best?.gatewayId === 'local') routes.push(`${route} table ${number}`);
      }
    }
  }
  for (const eni of plugged) {
    const subnet = vpc.subnets.find((s) => s.id === eni.subnetId);
    const number = subnet?.routeTableId ? tableNumbers.get(subnet.routeTableId) : undefined;
    if (number === undefined) continue;
    for (const family of [4, 6] as const) rules.push({ family, text: `iif ${names.routerLink(eni.id)} lookup ${number} priority ${RULE_FROM_ENI}` });
  }
  return {
    name: names.router(vpc.id),
    kind: 'router',
    vpcId: vpc.id,
    sysctls: [...SYSCTLS_COMMON, ...SYSCTLS_FORWARDING, 'net.ipv4.conf.default.proxy_arp=1', 'net.ipv4.conf.all.proxy_arp=1'],
    addresses,
    routes,
    rules,
    neighbours,
    nft: renderRouterNft(vpc, enis, topology, names, instanceOf),
  };
}

/** Kernel table numbers for a VPC's route tables, stable per id (a hash, probed on collision). */
export function routeTableNumbers(ids: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  for (const id of [...ids].sort()) {
    let n = 100 + (Number.parseInt(id.slice(-6), 16) % 100_000 || 0);
    while (used.has(n)) n += 1;
    used.add(n);
    out.set(id, n);
  }
  return out;
}

/** Each of an interface's addresses and prefixes (its first address, for matching) and the router's route to it. */
function hostRouteEntries(eni: InterfaceState, names: PlaneNames, vpc: VpcState): [string, string][] {
  const dev = names.routerLink(eni.id);
  const primary4 = eni.ipv4[0];
  const primary6 = eni.ipv6[0];
  const subnet = vpc.subnets.find((s) => s.id === eni.subnetId);
  // What the router itself sends an interface (its DHCP server's replies) comes from the subnet's router address.
  const src = subnet?.cidr ? ` src ${subnetRouter(subnet.cidr)}` : '';
  const out: [string, string][] = [];
  for (const address of eni.ipv4) out.push([address, `${address}/32 dev ${dev}${src}`]);
  // Delegated prefixes are routed to the interface (AWS): through its primary address, so the guest need not answer ARP for each.
  for (const prefix of eni.ipv4Prefixes) out.push([prefix.split('/')[0], `${prefix} via ${primary4} dev ${dev} onlink`]);
  for (const address of eni.ipv6) out.push([address, `${address}/128 dev ${dev}`]);
  if (primary6) for (const prefix of eni.ipv6Prefixes) out.push([prefix.split('/')[0], `${prefix} via ${primary6} dev ${dev}`]);
  return out;
}

const hostRoutes = (eni: InterfaceState, names: PlaneNames, vpc: VpcState) => hostRouteEntries(eni, names, vpc).map(([, route]) => route);

function renderRoute(
  route: VpcState['routeTables'][number]['routes'][number],
  vpc: VpcState,
  enisById: Map<string, InterfaceState>,
  instanceOf: (eni: InterfaceState) => InstanceState | undefined,
  names: PlaneNames,
): string {
  const v6 = isIpv6(route.destination);
  if (route.gatewayId === 'local') return `blackhole ${route.destination}`;
  if (route.gatewayId && route.gatewayId === vpc.internetGatewayId) {
    return v6 ? `${route.destination} via ${PLANE.internetLinkLocal} dev ${ROUTER_UPLINK}` : `${route.destination} via ${PLANE.internetUplinkIpv4} dev ${ROUTER_UPLINK} onlink`;
  }
  // AWS: an egress-only internet gateway carries IPv6 only.
  if (v6 && route.gatewayId && route.gatewayId === vpc.egressOnlyInternetGatewayId) return `${route.destination} via ${PLANE.internetLinkLocal} dev ${ROUTER_UPLINK}`;
  if (route.networkInterfaceId) {
    const target = enisById.get(route.networkInterfaceId);
    // A route to an interface goes to whatever instance holds it now; none: a blackhole.
    if (target && isPlugged(target, instanceOf(target))) {
      const via = v6 ? target.ipv6[0] : target.ipv4[0];
      if (via) return `${route.destination} via ${via} dev ${names.routerLink(target.id)}${v6 ? '' : ' onlink'}`;
    }
  }
  return `blackhole ${route.destination}`;
}

// --- the guest ------------------------------------------------------------------------------------

/**
 * How the instance's operating system configures a device. `aws`: as Amazon Linux 2023 does at
 * boot and on hot-plug (ec2-net-utils): the primary address with the subnet's prefix, secondary
 * addresses as /32, IPv6 as /128; the default route of device 0 in the main table; for device
 * N > 0 its own table 10000 + N and a rule per address and prefix (priority 10000 + N), so that
 * replies leave by the interface they came in on. `primary`: only each device's primary address
 * and device 0's default route (a guest without policy routing). `none`: the link is up, nothing else.
 */
export function guestConfig(eni: InterfaceState, device: string, deviceIndex: number, subnetCidr: string, mode: Exclude<GuestNetwork, 'ec2-net-utils'>): GuestConfig {
  const commands: string[] = [];
  if (mode === 'none') return { device, deviceIndex, commands };
  // An interface of an IPv6-only subnet has no IPv4 at all (its subnet no IPv4 block).
  const [primary, ...secondaries] = eni.ipv4;
  const v4 = subnetCidr !== '' && primary !== undefined;
  const gateway = v4 ? subnetRouter(subnetCidr) : undefined;
  const v6Default = (extra: string) => `-6 route add default via ${PLANE.routerLinkLocal} dev ${device}${extra} proto static`;
  if (v4) commands.push(`-4 address add ${primary}/${prefixLength(subnetCidr)} dev ${device}`);
  if (mode === 'primary') {
    if (!v4 && eni.ipv6[0]) commands.push(`-6 address add ${eni.ipv6[0]}/128 dev ${device} nodad`);
    if (deviceIndex === 0) commands.push(v4 ? `-4 route add default via ${gateway} dev ${device} proto static` : v6Default(''));
    return { device, deviceIndex, commands };
  }
  if (v4) for (const address of secondaries) commands.push(`-4 address add ${address}/32 dev ${device} noprefixroute`);
  for (const address of eni.ipv6) commands.push(`-6 address add ${address}/128 dev ${device} nodad`);
  const metric = GUEST_METRIC_BASE + 10 * deviceIndex;
  if (deviceIndex === 0) {
    if (v4) commands.push(`-4 route add default via ${gateway} dev ${device} metric ${metric} proto static`);
    if (eni.ipv6.length) commands.push(v6Default(` metric ${metric}`));
    return { device, deviceIndex, commands };
  }
  const table = GUEST_RULE_BASE + deviceIndex;
  if (v4) {
    commands.push(`-4 route add ${subnetNetwork(subnetCidr)} dev ${device} table ${table} proto static`);
    commands.push(`-4 route add default via ${gateway} dev ${device} table ${table} proto static`);
    for (const source of [...eni.ipv4, ...eni.ipv4Prefixes]) commands.push(`-4 rule add from ${source} lookup ${table} priority ${table}`);
  }
  if (eni.ipv6.length) commands.push(v6Default(` table ${table}`));
  for (const source of [...eni.ipv6, ...eni.ipv6Prefixes]) commands.push(`-6 rule add from ${source} lookup ${table} priority ${table}`);
  return { device, deviceIndex, commands };
}

/** The commands that undo a device's guest configuration (before it is configured again). */
export function guestFlush(device: string, deviceIndex: number): string[] {
  const commands = [`-4 address flush dev ${device} scope global`, `-6 address flush dev ${device} scope global`, `-4 route flush dev ${device} proto static`, `-6 route flush dev ${device} proto static`];
  if (deviceIndex > 0) {
    const table = GUEST_RULE_BASE + deviceIndex;
    commands.push(`-4 route flush table ${table}`, `-6 route flush table ${table}`, `-4 rule flush priority ${table}`, `-6 rule flush priority ${table}`);
  }
  return commands;
}

function subnetNetwork(cidr: string): string {
  const block = parseIpv4Cidr(cidr)!;
  return `${formatIpv4(block.network)}/${block.prefix}`;
}

// --- nftables: security groups, network ACLs, source/destination check, NAT --------------------

const id = (resourceId: string) => resourceId.replace(/-/g, '_');

function setBlock(name: string, type: 'ipv4_addr' | 'ipv6_addr', elements: readonly string[]): string {
  const unique = [...new Set(elements)];
  return `  set ${name} {\n    type ${type}; flags interval;\n${unique.length ? `    elements = { ${unique.join(', ')} }\n` : ''}  }\n`;
}

/** nft match for a protocol and port range (TCP/UDP) or ICMP type/code; undefined when it can never match. */
function protocolMatch(protocol: string, from: number | null, to: number | null, icmpCode?: number | null): string | undefined {
  const n = protocolNumber(protocol);
  if (Number.isNaN(n)) return undefined;
  if (n === -1) return '';
  if (n === 6 || n === 17) {
    const name = n === 6 ? 'tcp' : 'udp';
    if (from === null || to === null || from === -1 || (from <= 0 && to >= 65535)) return `meta l4proto ${name} `;
    return `meta l4proto ${name} th dport ${from === to ? from : `${from}-${to}`} `;
  }
  if (n === 1 || n === 58) {
    const name = n === 1 ? 'icmp' : 'icmpv6';
    const l4 = n === 1 ? 'icmp' : 'ipv6-icmp';
    let text = `meta l4proto ${l4} `;
    if (from !== null && from !== -1) text += `${name} type ${from} `;
    if (icmpCode !== null && icmpCode !== undefined && icmpCode !== -1) text += `${name} code ${icmpCode} `;
    return text;
  }
  return `meta l4proto ${n} `;
}

function securityGroupRule(rule: RuleState, egress: boolean): string[] {
  const peer = egress ? 'daddr' : 'saddr';
  // AWS: for ICMP the rule's FromPort is the type and ToPort the code.
  const n = protocolNumber(rule.ip_protocol);
  const icmp = n === 1 || n === 58;
  const match = icmp ? protocolMatch(rule.ip_protocol, rule.from_port, null, rule.to_port) : protocolMatch(rule.ip_protocol, rule.from_port, rule.to_port);
  if (match === undefined) return [];
  if (rule.referenced_group_id) {
    const g = id(rule.referenced_group_id);
    return [`ip ${peer} @g4_${g} ${match}return`, `ip6 ${peer} @g6_${g} ${match}return`];
  }
  if (rule.prefix_list_id) {
    const l = id(rule.prefix_list_id);
    return [`ip ${peer} @pl4_${l} ${match}return`, `ip6 ${peer} @pl6_${l} ${match}return`];
  }
  if (rule.cidr_ipv4) return [`ip ${peer} ${rule.cidr_ipv4} ${match}return`];
  if (rule.cidr_ipv6) return [`ip6 ${peer} ${rule.cidr_ipv6} ${match}return`];
  return [];
}

// --- flow logs from real packets -------------------------------------------------------------------

/** The mark of a metadata connection that asked for a token. */
const PUT_MARK = '0x1';

/** An ACL's deny marks the packet and returns, so that the interface's chain records the REJECT before dropping it. */
const ACL_MARK = '0x1';
const ACL_DENIED = `meta mark set ${ACL_MARK} return`;

/**
 * The router counts every flow an interface accepts or rejects in dynamic sets (one per
 * direction, verdict and family; ports for TCP and UDP), which the plane reads and turns into
 * flow-log records. The interface is the one holding the source address (egress) or the
 * destination address (ingress) in this VPC.
 */
export const FLOW_SETS = ['egress', 'ingress'].flatMap((direction) => ['ACCEPT', 'REJECT'].flatMap((action) => ['f4', 'f6', 'n4', 'n6'].map((kind) => flowSetName(kind, direction, action))));

export function flowSetName(kind: string, direction: string, action: string): string {
  return `${kind}_${direction[0]}${action[0].toLowerCase()}`;
}

function flowSets(): string[] {
  return FLOW_SETS.map((name) => {
    const v6 = name[1] === '6';
    const address = v6 ? 'ipv6_addr' : 'ipv4_addr';
    const type = name[0] === 'f' ? `${address} . ${address} . inet_proto . inet_service . inet_service` : `${address} . ${address} . inet_proto`;
    return `  set ${name} {\n    type ${type}; flags dynamic,timeout; timeout 10m; counter;\n  }\n`;
  });
}

function recordFlow(direction: 'egress' | 'ingress', action: 'ACCEPT' | 'REJECT', condition = ''): string[] {
  const set = (kind: string) => `@${flowSetName(kind, direction, action)}`;
  return [
    `${condition}meta l4proto { tcp, udp } update ${set('f4')} { ip saddr . ip daddr . meta l4proto . th sport . th dport }`,
    `${condition}meta l4proto { tcp, udp } update ${set('f6')} { ip6 saddr . ip6 daddr . meta l4proto . th sport . th dport }`,
    `${condition}meta l4proto != { tcp, udp } update ${set('n4')} { ip saddr . ip daddr . meta l4proto }`,
    `${condition}meta l4proto != { tcp, udp } update ${set('n6')} { ip6 saddr . ip6 daddr . meta l4proto }`,
  ];
}

/*
 * Connection tracking, as AWS's security groups do it. A flow is tracked (its packets pass once
 * the connection was allowed, even after the rule that allowed it is removed) unless it is a TCP
 * or UDP flow that a rule allows from or to everywhere (0.0.0.0/0, ::/0) while a rule of the
 * other direction allows everywhere on all ports: such an untracked flow is judged packet by
 * packet by the rules of the moment, so revoking its rule cuts it at once. ICMP is always tracked.
 * The connection's mark says where it started untracked: 0x8 at its source interface, 0x4 at its
 * destination; each interface skips the rules for established packets unless its own bit is set.
 */
const UNTRACKED_AT_SOURCE = '0x8';
const UNTRACKED_AT_DESTINATION = '0x4';

const everywhere = (rule: RuleState, family: 4 | 6) => (family === 4 ? rule.cidr_ipv4 === '0.0.0.0/0' : rule.cidr_ipv6 === '::/0');
const coversProtocol = (rule: RuleState, protocol: 6 | 17) => {
  const n = protocolNumber(rule.ip_protocol);
  return n === -1 || n === protocol;
};
const allPorts = (rule: RuleState) =>
  protocolNumber(rule.ip_protocol) === -1 || rule.from_port === null || rule.from_port === -1 || (rule.from_port <= 0 && (rule.to_port ?? 65535) >= 65535);

/** Whether the interface's groups leave TCP or UDP flows of one family untracked in one direction (the flow's direction at this interface). */
export function isUntracked(rules: readonly RuleState[], direction: 'ingress' | 'egress', protocol: 6 | 17, family: 4 | 6): boolean {
  const here = rules.filter((r) => (r.is_egress === 1) === (direction === 'egress'));
  const there = rules.filter((r) => (r.is_egress === 1) !== (direction === 'egress'));
  return here.some((r) => coversProtocol(r, protocol) && everywhere(r, family)) && there.some((r) => coversProtocol(r, protocol) && everywhere(r, family) && allPorts(r));
}

function trackingRules(rules: readonly RuleState[], direction: 'ingress' | 'egress'): string[] {
  // The flow starts here: leaving its source (egress) or arriving at its destination (ingress).
  const mine = direction === 'egress' ? UNTRACKED_AT_SOURCE : UNTRACKED_AT_DESTINATION;
  const peer = direction === 'egress' ? UNTRACKED_AT_DESTINATION : UNTRACKED_AT_SOURCE;
  const out: string[] = [];
  for (const [protocol, name] of [[6, 'tcp'], [17, 'udp']] as const) {
    for (const family of [4, 6] as const) {
      if (isUntracked(rules, direction, protocol, family)) out.push(`ct state new meta nfproto ${family === 4 ? 'ipv4' : 'ipv6'} meta l4proto ${name} ct mark set ct mark or ${mine}`);
    }
  }
  // Packets of the flow's own direction here, and the replies to a flow this interface started in the other direction.
  out.push(`ct state established,related ct direction original ct mark and ${mine} == 0 return`);
  out.push(`ct state established,related ct direction reply ct mark and ${peer} == 0 return`);
  return out;
}

function aclEntry(entry: AclEntryState, egress: boolean): string | undefined {
  const peer = egress ? 'daddr' : 'saddr';
  const n = protocolNumber(entry.protocol);
  const icmp = n === 1 || n === 58;
  const match = icmp ? protocolMatch(entry.protocol, entry.icmp_type, null, entry.icmp_code) : protocolMatch(entry.protocol, entry.port_from, entry.port_to);
  if (match === undefined) return undefined;
  const verdict = entry.rule_action === 'allow' ? 'return' : ACL_DENIED;
  if (entry.cidr_block) return `ip ${peer} ${entry.cidr_block} ${match}${verdict}`;
  if (entry.ipv6_cidr_block) return `ip6 ${peer} ${entry.ipv6_cidr_block} ${match}${verdict}`;
  return undefined;
}

function renderRouterNft(
  vpc: VpcState,
  enis: InterfaceState[],
  topology: Topology,
  names: PlaneNames,
  instanceOf: (eni: InterfaceState) => InstanceState | undefined,
): string {
  const parts: string[] = [];
  // Addresses of each group's members in this VPC, for rules that reference a group.
  const members4 = new Map<string, string[]>();
  const members6 = new Map<string, string[]>();
  for (const eni of enis) {
    for (const g of eni.groupIds) {
      members4.set(g, [...(members4.get(g) ?? []), ...eni.ipv4]);
      members6.set(g, [...(members6.get(g) ?? []), ...eni.ipv6]);
    }
  }
  const referenced = new Set<string>();
  for (const eni of enis) for (const g of eni.groupIds) for (const rule of topology.groupRules[g] ?? []) if (rule.referenced_group_id) referenced.add(rule.referenced_group_id);
  for (const [list, cidrs] of Object.entries(topology.prefixLists).sort()) {
    parts.push(setBlock(`pl4_${id(list)}`, 'ipv4_addr', cidrs.filter((c) => !c.includes(':'))));
    parts.push(setBlock(`pl6_${id(list)}`, 'ipv6_addr', cidrs.filter((c) => c.includes(':'))));
  }
  for (const g of [...referenced].sort()) {
    parts.push(setBlock(`g4_${id(g)}`, 'ipv4_addr', members4.get(g) ?? []));
    parts.push(setBlock(`g6_${id(g)}`, 'ipv6_addr', members6.get(g) ?? []));
  }

  const dnat: string[] = [];
  const snat: string[] = [];
  const down: string[] = [];
  const fromEni: string[] = [];
  const toEni: string[] = [];
  const imds: string[] = [];
  const hopLimits: string[] = [];
  const chains: string[] = [];
  for (const eni of enis) {
    const e = id(eni.id);
    const dev = names.routerLink(eni.id);
    parts.push(setBlock(`a4_${e}`, 'ipv4_addr', [...eni.ipv4, ...eni.ipv4Prefixes]));
    parts.push(setBlock(`a6_${e}`, 'ipv6_addr', [...eni.ipv6, ...eni.ipv6Prefixes]));
    if (vpc.internetGatewayId) {
      for (const [privateIp, publicIp] of Object.entries(eni.publicIpv4)) {
        dnat.push(`${publicIp} : ${privateIp}`);
        snat.push(`${privateIp} : ${publicIp}`);
      }
    }
    if (!isDelivering(eni, instanceOf(eni))) down.push(`"${dev}"`);
    fromEni.push(`"${dev}" : jump out_${e}`);
    toEni.push(`"${dev}" : jump in_${e}`);
    imds.push(`"${dev}" : jump imds_${e}`);
    const subnet = vpc.subnets.find((s) => s.id === eni.subnetId);
    const acl = subnet?.networkAclId ? vpc.networkAcls.find((a) => a.id === subnet.networkAclId) : undefined;
    const rules = eni.groupIds.flatMap((g) => topology.groupRules[g] ?? []);

    // Leaving the interface: source check, its groups' egress rules, its subnet's outbound ACL when it leaves the subnet.
    const out: string[] = [];
    if (eni.sourceDestCheck) out.push(`ip saddr != @a4_${e} drop`, `ip6 saddr != @a6_${e} drop`);
    out.push(`jump sg_out_${e}`);
    if (acl && subnet) {
      out.push(subnet.cidr ? `ip daddr != ${subnet.cidr} jump acl_out_${id(acl.id)}` : `meta nfproto ipv4 jump acl_out_${id(acl.id)}`);
      out.push(subnet.ipv6Cidr ? `ip6 daddr != ${subnet.ipv6Cidr} jump acl_out_${id(acl.id)}` : `meta nfproto ipv6 jump acl_out_${id(acl.id)}`);
      out.push(...recordFlow('egress', 'REJECT', `meta mark ${ACL_MARK} `), `meta mark ${ACL_MARK} drop`);
    }
    out.push(...recordFlow('egress', 'ACCEPT'));
    chains.push(chain(`out_${e}`, out));
    chains.push(chain(`sg_out_${e}`, !eni.securityGroupsApply ? ['return'] : [...trackingRules(rules, 'egress'), ...rules.filter((r) => r.is_egress === 1).flatMap((r) => securityGroupRule(r, true)), ...recordFlow('egress', 'REJECT'), 'drop']));

    // Arriving at the interface: its subnet's inbound ACL when it comes from outside the subnet, its groups' ingress rules, destination check.
    const into: string[] = [];
    if (acl && subnet) {
      into.push(subnet.cidr ? `ip saddr != ${subnet.cidr} jump acl_in_${id(acl.id)}` : `meta nfproto ipv4 jump acl_in_${id(acl.id)}`);
      into.push(subnet.ipv6Cidr ? `ip6 saddr != ${subnet.ipv6Cidr} jump acl_in_${id(acl.id)}` : `meta nfproto ipv6 jump acl_in_${id(acl.id)}`);
      into.push(...recordFlow('ingress', 'REJECT', `meta mark ${ACL_MARK} `), `meta mark ${ACL_MARK} drop`);
    }
    into.push(`jump sg_in_${e}`);
    if (eni.sourceDestCheck) into.push(`ip daddr != @a4_${e} drop`, `ip6 daddr != @a6_${e} drop`);
    // AWS: the interface's flow log records what its groups and ACL decided, whatever the instance then does with it.
    into.push(...recordFlow('ingress', 'ACCEPT'), 'oifname @down drop');
    chains.push(chain(`in_${e}`, into));
    chains.push(chain(`sg_in_${e}`, !eni.securityGroupsApply ? ['return'] : [...trackingRules(rules, 'ingress'), ...rules.filter((r) => r.is_egress === 0).flatMap((r) => securityGroupRule(r, false)), ...recordFlow('ingress', 'REJECT'), 'drop']));

    // The metadata service answers each interface from its own addresses only, as its instance's options allow.
    const metadata = instanceOf(eni)?.metadata;
    // AWS: the VPC's DHCP server answers every interface, whatever its groups and ACLs say.
    const imdsRules: string[] = [`udp sport ${DHCP_CLIENT_PORT} udp dport ${DHCP_SERVER_PORT} accept`];
    if (metadata?.endpoint) {
      // AWS: HttpPutResponseHopLimit is the IP TTL of the token (PUT) reply: mark the connection whose request is a PUT.
      imdsRules.push(`ip saddr @a4_${e} ip daddr ${PLANE.imdsIpv4} tcp dport 80 accept`);
      if (metadata.ipv6) imdsRules.push(`ip6 saddr @a6_${e} ip6 daddr ${PLANE.imdsIpv6} tcp dport 80 accept`);
      hopLimits.push(`oifname "${dev}" ct mark and ${PUT_MARK} == ${PUT_MARK} ip ttl set ${metadata.hopLimit}`, `oifname "${dev}" ct mark and ${PUT_MARK} == ${PUT_MARK} ip6 hoplimit set ${metadata.hopLimit}`);
    }
    chains.push(chain(`imds_${e}`, imdsRules));
  }
  for (const acl of vpc.networkAcls) {
    const sorted = [...acl.entries].sort((a, b) => a.rule_number - b.rule_number);
    for (const egress of [true, false]) {
      const lines = sorted.filter((x) => (x.egress === 1) === egress).map((x) => aclEntry(x, egress)).filter((x): x is string => !!x);
      chains.push(chain(`acl_${egress ? 'out' : 'in'}_${id(acl.id)}`, [...lines, ACL_DENIED]));
    }
  }

  const map = (name: string, elements: string[]) => `  map ${name} {\n    type ipv4_addr : ipv4_addr;\n${elements.length ? `    elements = { ${elements.join(', ')} }\n` : ''}  }\n`;
  parts.push(map('dnat4', dnat), map('snat4', snat));
  parts.push(...flowSets());
  parts.push(setBlock('public4', 'ipv4_addr', snat.map((s) => s.split(' : ')[0])));
  parts.push(`  set down {\n    type ifname;\n${down.length ? `    elements = { ${down.join(', ')} }\n` : ''}  }\n`);
  const vmap = (match: string, elements: string[]) => (elements.length ? [`${match} vmap { ${elements.join(', ')} }`] : []);
  parts.push(chain('prerouting', [`iifname "${ROUTER_UPLINK}" dnat ip to ip daddr map @dnat4`], 'type nat hook prerouting priority dstnat; policy accept;'));
  parts.push(chain('postrouting', [`oifname "${ROUTER_UPLINK}" snat ip to ip saddr map @snat4`], 'type nat hook postrouting priority srcnat; policy accept;'));
  parts.push(
    chain(
      'input',
      [
        'iifname "lo" accept',
        // AWS: HttpPutResponseHopLimit is the IP TTL of the token (PUT) reply: mark the connection whose request is a PUT (a packet of an established connection).
        `ip daddr ${PLANE.imdsIpv4} tcp dport 80 @ih,0,32 0x50555420 ct mark set ct mark or ${PUT_MARK}`,
        `ip6 daddr ${PLANE.imdsIpv6} tcp dport 80 @ih,0,32 0x50555420 ct mark set ct mark or ${PUT_MARK}`,
        'ct state established,related accept', `iifname "${ROUTER_UPLINK}" meta l4proto ipv6-icmp accept`, `iifname "${ROUTER_UPLINK}" drop`, 'iifname @down drop', 'meta l4proto { icmp, ipv6-icmp } accept', ...vmap('iifname', imds)],
      'type filter hook input priority filter; policy drop;',
    ),
  );
  parts.push(chain('output', hopLimits, 'type filter hook output priority filter; policy accept;'));
  parts.push(
    chain(
      'forward',
      ['iifname @down drop', ...egressOnlyRules(vpc), ...vmap('iifname', fromEni), ...vmap('oifname', toEni), `oifname "${ROUTER_UPLINK}" jump to_internet`, 'accept'],
      'type filter hook forward priority filter; policy drop;',
    ),
  );
  // AWS: the internet gateway drops IPv4 from an address without a public one (no NAT to do).
  parts.push(chain('to_internet', ['ip saddr != @public4 drop']));
  parts.push(...chains);
  return `table inet eni {\n${parts.join('')}}\n`;
}

/**
 * AWS: an egress-only internet gateway lets the answers to what left through it back in, and no
 * connection from the internet: without an internet gateway no new IPv6 connection comes in at
 * all; with one, none to a subnet whose IPv6 default route leads to the egress-only gateway (its
 * answer would leave through that gateway, which knows no such connection).
 */
function egressOnlyRules(vpc: VpcState): string[] {
  if (!vpc.egressOnlyInternetGatewayId) return [];
  const refuse = `iifname "${ROUTER_UPLINK}" meta nfproto ipv6 ct state new`;
  if (!vpc.internetGatewayId) return [`${refuse} drop`];
  const tables = new Map(vpc.routeTables.map((t) => [t.id, t.routes]));
  return vpc.subnets
    .filter((s) => s.ipv6Cidr && tables.get(s.routeTableId ?? '')?.some((r) => r.destination === '::/0' && r.gatewayId === vpc.egressOnlyInternetGatewayId))
    .map((s) => `${refuse} ip6 daddr ${s.ipv6Cidr} drop`);
}

function chain(name: string, rules: string[], header?: string): string {
  return `  chain ${name} {\n${header ? `    ${header}\n` : ''}${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
}
