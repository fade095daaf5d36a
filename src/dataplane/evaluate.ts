/**
 * Decides where a packet goes, as AWS's VPC does: the source interface's security groups
 * (egress, stateful), its subnet's network ACL (outbound, stateless), the route table (longest
 * prefix: local, internet gateway with 1:1 NAT, or an appliance interface), the destination
 * subnet's ACL (inbound, and the reply both ways, since ACLs are stateless), the destination
 * interface's security groups (ingress, stateful, CIDR or group references), and delivery to
 * the instance the interface is attached to at this moment — if it runs and is healthy.
 *
 * It only reads the state (in the caller's transaction), so a probe sees exactly what the
 * last committed request left: detach an interface and the very next probe follows it.
 */
import { formatIpv6, formatIpv6Cidr, maskOf6, parseIpv6 } from '../ipam/ipv6.ts';
import { formatIpv4, parseIpv4 } from '../ipam/ipv4.ts';
import type { Row, Tx } from '../store/schema.ts';
import { awsManagedList } from './aws-prefix-lists.ts';
import { decideNetworkAcl, isIpv6, longestPrefixMatch, matchSecurityGroupRule, protocolNumber, type FlowMatch, type Peer } from './rules.ts';

export type Endpoint = { kind: 'eni'; id: string } | { kind: 'instance'; id: string } | { kind: 'internet'; address?: string };

export interface FlowRequest {
  account: string;
  region: string;
  from: Endpoint;
  /** Destination address: private, Elastic/public, or on the internet; IPv4 or IPv6. */
  to: string;
  /** tcp, udp, icmp, icmpv6, -1 or a protocol number. */
  protocol: string;
  /** Destination port (TCP/UDP) or ICMP type; default 0 / 8 (echo). */
  port?: number;
  /** The source's ephemeral port, used for the reply through stateless ACLs; default 49152. */
  sourcePort?: number;
}

export type DropReason =
  | 'no-route'
  | 'no-destination'
  | 'no-public-ip'
  | 'sg-egress-denied'
  | 'nacl-denied'
  | 'sg-ingress-denied'
  | 'eni-not-attached'
  | 'instance-not-running'
  | 'instance-impaired'
  | 'source-dest-check'
  | 'invalid-flow';

export type HopKind =
  | 'network-interface'
  | 'instance'
  | 'security-group-egress'
  | 'network-acl-egress'
  | 'route-table'
  | 'internet-gateway'
  | 'egress-only-internet-gateway'
  | 'nat-gateway'
  | 'vpc-endpoint'
  | 'network-acl-ingress'
  | 'security-group-ingress'
  | 'network-acl-reply';

export interface Hop {
  component: HopKind;
  resourceId: string;
  verdict: 'pass' | 'drop';
  /** The rule, route or setting that decided. */
  rule?: string;
  detail?: string;
}

/**
 * What one interface saw of the flow: the matter of a flow-log record. AWS records at the
 * interface what its security groups and its subnet's ACL decided (ACCEPT or REJECT), whatever
 * the instance behind it then does with the packet: an impaired or stopped instance, or an
 * interface not (yet, or no longer) attached, still gets its records; an address no interface
 * holds gets none.
 */
export interface Observation {
  networkInterfaceId: string;
  subnetId: string;
  vpcId: string;
  direction: 'egress' | 'ingress';
  action: 'ACCEPT' | 'REJECT';
  /** As AWS logs them: traffic to a secondary IPv4 address shows the interface's primary one. */
  srcaddr: string;
  dstaddr: string;
  /** The packet's own addresses (the `pkt-srcaddr` / `pkt-dstaddr` fields). */
  pktSrcaddr: string;
  pktDstaddr: string;
  srcport: number;
  dstport: number;
  /** Measured by a real data plane (the linux one): the flow's protocol, packets, bytes and its window (epoch seconds). */
  measured?: { protocol: number; packets: number; bytes: number; start: number; end: number };
}

export interface FlowResult {
  delivered: boolean;
  reason?: DropReason;
  protocol: number;
  port: number;
  source: {
    kind: 'network-interface' | 'internet';
    address: string;
    publicAddress?: string;
    networkInterfaceId?: string;
    instanceId?: string;
    /** Behind a NAT gateway: the gateway and the private address it translated the source to. */
    natGatewayId?: string;
    natAddress?: string;
  };
  destination?: {
    kind: 'instance' | 'appliance' | 'internet' | 'vpc-endpoint';
    address: string;
    instanceId?: string;
    networkInterfaceId?: string;
    deviceIndex?: number;
    privateAddress?: string;
    vpcEndpointId?: string;
  };
  hops: Hop[];
  observations: Observation[];
}

type Eni = Row<'network_interfaces'>;
/** A route as the lookup sees it: a route to a prefix list appears once per entry, naming its list. */
type RouteOfTable = Row<'routes'> & { prefixListId?: string };

/** What a route sends its traffic to, as a route table lists it. */
const targetOfRoute = (route: Row<'routes'>) => route.gateway_id ?? route.network_interface_id ?? route.nat_gateway_id ?? route.egress_only_internet_gateway_id;

/** The default address of "somewhere on the internet" (TEST-NET-3, never a real host). */
export const DEFAULT_INTERNET_ADDRESS = '203.0.113.10';
const EPHEMERAL_PORT = 49152;

class Drop extends Error {
  constructor(readonly reason: DropReason) {
    super(reason);
  }
}

/** One flow's evaluation: reads what it needs, records hops and observations. */
class Evaluation {
  readonly hops: Hop[] = [];
  readonly observations: Observation[] = [];
  readonly flow: FlowMatch;
  readonly reply: FlowMatch;
  readonly sourcePort: number;
  result: Partial<FlowResult> = {};

  constructor(
    readonly tx: Tx,
    readonly request: FlowRequest,
  ) {
    const protocol = protocolNumber(request.protocol);
    const icmp = protocol === 1 || protocol === 58;
    this.flow = { protocol, port: request.port ?? (icmp ? 8 : 0) };
    this.sourcePort = icmp ? 0 : (request.sourcePort ?? EPHEMERAL_PORT);
    this.reply = { protocol, port: icmp ? 0 : this.sourcePort };
  }

  pass(component: HopKind, resourceId: string, rule?: string, detail?: string): void {
    this.hops.push({ component, resourceId, verdict: 'pass', rule, detail });
  }

  drop(component: HopKind, resourceId: string, reason: DropReason, rule?: string, detail?: string): never {
    this.hops.push({ component, resourceId, verdict: 'drop', rule, detail });
    throw new Drop(reason);
  }

  observe(eni: Eni, direction: 'egress' | 'ingress', action: 'ACCEPT' | 'REJECT', src: string, dst: string): void {
    // AWS ("Flow log limitations"): traffic sent to a secondary private IPv4 address, or to an
    // address that is none of the interface's (an appliance), shows the primary one as dstaddr.
    const dstaddr = direction === 'ingress' && !isIpv6(dst) ? eni.private_ip_address : dst;
    this.observations.push({
      networkInterfaceId: eni.id,
      subnetId: eni.subnet_id,
      vpcId: eni.vpc_id,
      direction,
      action,
      srcaddr: src,
      dstaddr,
      pktSrcaddr: src,
      pktDstaddr: dst,
      srcport: this.sourcePort,
      dstport: this.flow.port,
    });
  }

  // --- reading the state ----------------------------------------------------------------------

  scoped<T extends 'network_interfaces' | 'instances'>(table: T) {
    return this.tx.selectFrom(table as 'network_interfaces').selectAll().where('account_id', '=', this.request.account).where('region', '=', this.request.region);
  }

  async groupsOf(eniId: string): Promise<string[]> {
    const rows = await this.tx.selectFrom('network_interface_groups').select('group_id').where('network_interface_id', '=', eniId).orderBy('position').execute();
    return rows.map((r) => r.group_id);
  }

  async rulesOf(groupIds: readonly string[], egress: boolean) {
    if (!groupIds.length) return [];
    return this.tx
      .selectFrom('security_group_rules')
      .select(['id', 'group_id', 'ip_protocol', 'from_port', 'to_port', 'cidr_ipv4', 'cidr_ipv6', 'referenced_group_id', 'prefix_list_id'])
      .where('group_id', 'in', [...groupIds])
      .where('is_egress', '=', egress ? 1 : 0)
      .orderBy('id')
      .execute();
  }

  /** The current CIDRs of prefix lists (AWS-managed ones from the catalogue, the caller's from the store). */
  async prefixListCidrs(ids: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const own: string[] = [];
    for (const id of new Set(ids)) {
      const aws = awsManagedList(this.request.region, id);
      if (aws) out.set(id, [...aws.entries]);
      else {
        own.push(id);
        out.set(id, []);
      }
    }
    if (!own.length) return out;
    const rows = await this.tx.selectFrom('managed_prefix_list_entries').select(['prefix_list_id', 'cidr']).where('prefix_list_id', 'in', own).where('removed_version', 'is', null).execute();
    for (const row of rows) out.get(row.prefix_list_id)!.push(row.cidr);
    return out;
  }

  async aclOf(subnetId: string, egress: boolean) {
    const association = await this.tx.selectFrom('network_acl_associations').select('network_acl_id').where('subnet_id', '=', subnetId).executeTakeFirst();
    if (!association) return undefined;
    const entries = await this.tx.selectFrom('network_acl_entries').selectAll().where('network_acl_id', '=', association.network_acl_id).where('egress', '=', egress ? 1 : 0).execute();
    return { id: association.network_acl_id, entries };
  }

  async routesOfSubnet(subnet: Pick<Row<'subnets'>, 'id' | 'vpc_id'>) {
    const explicit = await this.tx.selectFrom('route_table_associations').select('route_table_id').where('subnet_id', '=', subnet.id).executeTakeFirst();
    const tableId =
      explicit?.route_table_id ??
      (await this.tx.selectFrom('route_tables').select('id').where('vpc_id', '=', subnet.vpc_id).where('is_main', '=', 1).executeTakeFirst())?.id;
    if (!tableId) return { tableId: subnet.id, routes: [] };
    const rows = await this.tx.selectFrom('routes').selectAll().where('route_table_id', '=', tableId).execute();
    // A route to a prefix list stands for one route per entry: the longest prefix is chosen by entry.
    const lists = await this.prefixListCidrs(rows.filter((r) => r.destination.startsWith('pl-')).map((r) => r.destination));
    const routes = rows.flatMap((r): RouteOfTable[] =>
      lists.has(r.destination) ? lists.get(r.destination)!.map((cidr) => ({ ...r, destination: cidr, prefixListId: r.destination })) : [r],
    );
    return { tableId, routes };
  }

  /** The interface that owns an address of a VPC: as a private address, or inside a delegated prefix. */
  async ownerOf(vpcId: string, address: string): Promise<Eni | undefined> {
    let eniId: string | undefined;
    if (isIpv6(address)) {
      const value = parseIpv6(address)!;
      const exact = await this.tx.selectFrom('ipv6_addresses').select('network_interface_id').where('vpc_id', '=', vpcId).where('address', 'in', [formatIpv6(value), formatIpv6Cidr({ network: value & maskOf6(80), prefix: 80 })]).executeTakeFirst();
      eniId = exact?.network_interface_id;
    } else {
      const value = parseIpv4(address)!;
      const exact = await this.tx.selectFrom('private_ip_addresses').select('network_interface_id').where('vpc_id', '=', vpcId).where('address_int', '=', value).executeTakeFirst();
      const prefix = exact
        ? undefined
        : await this.tx.selectFrom('ipv4_prefixes').select('network_interface_id').where('vpc_id', '=', vpcId).where('first_address', '=', value - (value % 16)).executeTakeFirst();
      eniId = exact?.network_interface_id ?? prefix?.network_interface_id;
    }
    if (!eniId) return undefined;
    return this.tx.selectFrom('network_interfaces').selectAll().where('id', '=', eniId).executeTakeFirst();
  }

  // --- the checks -------------------------------------------------------------------------------

  /**
   * The instance holding an interface must be attached, running and healthy. Attached means
   * `attached`: nothing reaches or leaves an instance through an interface still `attaching` or
   * already `detaching`.
   */
  async checkHolder(eni: Eni): Promise<Row<'instances'>> {
    if (!eni.instance_id || eni.attachment_status !== 'attached') {
      const detail = eni.instance_id ? `the interface's attachment to ${eni.instance_id} is ${eni.attachment_status}` : 'the interface is not attached to an instance';
      this.drop('network-interface', eni.id, 'eni-not-attached', undefined, detail);
    }
    const instance = await this.tx.selectFrom('instances').selectAll().where('id', '=', eni.instance_id!).executeTakeFirstOrThrow();
    if (instance.state !== 'running') this.drop('instance', instance.id, 'instance-not-running', undefined, `the instance is ${instance.state}`);
    if (instance.impaired) this.drop('instance', instance.id, 'instance-impaired', undefined, 'the instance fails its status checks');
    return instance;
  }

  async checkSecurityGroups(eni: Eni, egress: boolean, peer: Peer): Promise<void> {
    const groups = await this.groupsOf(eni.id);
    const rules = await this.rulesOf(groups, egress);
    const lists = await this.prefixListCidrs(rules.flatMap((r) => (r.prefix_list_id ? [r.prefix_list_id] : [])));
    const rule = matchSecurityGroupRule(rules, peer, this.flow, lists);
    const component = egress ? 'security-group-egress' : 'security-group-ingress';
    if (!rule) {
      this.observe(eni, egress ? 'egress' : 'ingress', 'REJECT', egress ? this.result.source!.address : peer.address, egress ? peer.address : (this.result.destination?.privateAddress ?? this.request.to));
      this.drop(component, groups.join(','), egress ? 'sg-egress-denied' : 'sg-ingress-denied', undefined, `no rule of ${groups.join(', ')} allows it`);
    }
    this.pass(component, rule.group_id, rule.id);
  }

  /** A network ACL check; `reply` checks the answer's direction with the source's ephemeral port. */
  async checkAcl(subnetId: string, egress: boolean, peerAddress: string, kind: 'forward' | 'reply', eni?: Eni): Promise<void> {
    const acl = await this.aclOf(subnetId, egress);
    if (!acl) return;
    const decision = decideNetworkAcl(acl.entries, peerAddress, kind === 'reply' ? this.reply : this.flow);
    const component = kind === 'reply' ? 'network-acl-reply' : egress ? 'network-acl-egress' : 'network-acl-ingress';
    const rule = `${egress ? 'egress' : 'ingress'} rule ${decision.ruleNumber}`;
    if (!decision.allow) {
      if (eni) this.observe(eni, egress ? 'egress' : 'ingress', 'REJECT', egress ? this.result.source!.address : peerAddress, egress ? peerAddress : (this.result.destination?.privateAddress ?? this.request.to));
      this.drop(component, acl.id, 'nacl-denied', rule, kind === 'reply' ? 'the stateless ACL refuses the reply' : undefined);
    }
    this.pass(component, acl.id, rule);
  }

  /** Delivery at an interface inside the VPC, after its ACL and groups. */
  async arriveAt(eni: Eni, from: { address: string; groupIds: readonly string[]; subnetId?: string }, kind: 'instance' | 'appliance'): Promise<void> {
    // AWS: a NAT gateway takes only what is routed to it, never traffic addressed to its interface.
    if (eni.interface_type === 'nat_gateway') {
      this.drop('network-interface', eni.id, 'no-destination', undefined, 'a NAT gateway accepts only traffic routed to it');
    }
    const crossing = from.subnetId !== eni.subnet_id;
    if (crossing) await this.checkAcl(eni.subnet_id, false, from.address, 'forward', eni);
    await this.checkSecurityGroups(eni, false, { address: from.address, groupIds: from.groupIds });
    // Stateless ACLs must let the reply out of this subnet (and into the source's, checked by the caller).
    if (crossing) await this.checkAcl(eni.subnet_id, true, from.address, 'reply', eni);
    // Recorded at the interface before the instance has its say (see Observation). Behind the
    // gateway's 1:1 NAT the interface sees its private address.
    this.observe(eni, 'ingress', 'ACCEPT', from.address, this.result.destination?.privateAddress ?? this.request.to);
    if (eni.interface_type === 'vpc_endpoint') {
      // An interface endpoint's interface hands the traffic to the AWS service behind it.
      const endpoint = await this.tx.selectFrom('vpc_endpoint_subnets').select('vpc_endpoint_id').where('network_interface_id', '=', eni.id).executeTakeFirst();
      this.pass('vpc-endpoint', endpoint?.vpc_endpoint_id ?? eni.id, undefined, `delivered to the endpoint's service through ${eni.id}`);
      this.result.destination = { kind: 'vpc-endpoint', address: this.request.to, networkInterfaceId: eni.id, vpcEndpointId: endpoint?.vpc_endpoint_id };
      return;
    }
    const instance = await this.checkHolder(eni);
    this.pass('network-interface', eni.id, `device index ${eni.device_index}`, `delivered to ${instance.id}`);
    this.result.destination = {
      kind,
      address: this.request.to,
      instanceId: instance.id,
      networkInterfaceId: eni.id,
      deviceIndex: eni.device_index ?? undefined,
      privateAddress: this.result.destination?.privateAddress,
    };
  }

  // --- the paths ---------------------------------------------------------------------------------

  async fromInterface(eni: Eni): Promise<void> {
    const to = this.request.to;
    const ipv6 = isIpv6(to);
    let address = eni.private_ip_address;
    // An interface in an IPv6-only subnet has no IPv4 to send from (DNS64/NAT64 is not modelled).
    if (!ipv6 && !address) this.drop('network-interface', eni.id, 'no-route', undefined, 'the interface has no private IPv4 address (IPv6-only subnet)');
    if (ipv6) {
      const v6 = await this.tx.selectFrom('ipv6_addresses').select('address').where('network_interface_id', '=', eni.id).where('kind', '=', 'address').orderBy('address').executeTakeFirst();
      if (!v6) this.drop('network-interface', eni.id, 'no-route', undefined, 'the interface has no IPv6 address');
      address = v6.address;
    }
    const instance = await this.checkHolder(eni);
    this.result.source = { kind: 'network-interface', address, networkInterfaceId: eni.id, instanceId: instance.id };
    this.pass('network-interface', eni.id, undefined, `sent by ${instance.id} from ${address}`);
    const groups = await this.groupsOf(eni.id);

    const { tableId, routes } = await this.routesOfSubnet({ id: eni.subnet_id, vpc_id: eni.vpc_id });
    const route = longestPrefixMatch(routes, to);
    const target = route?.gateway_id === 'local' ? await this.ownerOf(eni.vpc_id, to) : route?.network_interface_id ? await this.tx.selectFrom('network_interfaces').selectAll().where('id', '=', route.network_interface_id).executeTakeFirst() : undefined;
    const targetGroups = target ? await this.groupsOf(target.id) : [];

    await this.checkSecurityGroups(eni, true, { address: to, groupIds: targetGroups });
    const leaving = !target || target.subnet_id !== eni.subnet_id;
    if (leaving) await this.checkAcl(eni.subnet_id, true, to, 'forward', eni);
    this.observe(eni, 'egress', 'ACCEPT', address, to);

    if (!route) this.drop('route-table', tableId, 'no-route', undefined, `no route to ${to}`);
    const routeText = `${route.prefixListId ? `${route.prefixListId} (${route.destination})` : route.destination} → ${targetOfRoute(route)}`;
    if (route.egress_only_internet_gateway_id) {
      await this.throughEgressOnlyGateway(eni, address, tableId, route, routeText);
      return;
    }
    if (route.nat_gateway_id) {
      await this.throughNatGateway(eni, address, tableId, route, routeText);
      return;
    }
    if (route.gateway_id?.startsWith('vpce-')) {
      // A Gateway endpoint's route (to its service's prefix list): the service is reached
      // privately, without a public address; the answer comes back through the subnet's ACL.
      this.pass('route-table', tableId, routeText);
      this.pass('vpc-endpoint', route.gateway_id, undefined, `to the AWS service at ${to}`);
      await this.checkAcl(eni.subnet_id, false, to, 'reply', eni);
      this.result.destination = { kind: 'internet', address: to };
      return;
    }
    if (route.gateway_id === 'local') {
      if (!target) this.drop('route-table', tableId, 'no-destination', routeText, `no interface in ${eni.vpc_id} has the address ${to}`);
      this.pass('route-table', tableId, routeText);
      if (leaving) await this.checkAcl(eni.subnet_id, false, to, 'reply', eni);
      await this.arriveAt(target, { address, groupIds: groups, subnetId: eni.subnet_id }, 'instance');
      return;
    }
    if (route.network_interface_id) {
      // A route to an interface goes to whatever instance holds that interface now.
      if (!target || !target.instance_id) this.drop('route-table', tableId, 'eni-not-attached', routeText, `the route's interface ${route.network_interface_id} is not attached (blackhole)`);
      this.pass('route-table', tableId, routeText);
      // AWS: an interface receiving traffic for an address that is not its own needs source/destination check off.
      const owns = (await this.ownerOf(target.vpc_id, to))?.id === target.id;
      if (!owns && target.source_dest_check === 1) {
        this.drop('network-interface', target.id, 'source-dest-check', 'sourceDestCheck=true', 'the appliance interface drops traffic not addressed to it');
      }
      if (leaving) await this.checkAcl(eni.subnet_id, false, to, 'reply', eni);
      await this.arriveAt(target, { address, groupIds: groups, subnetId: eni.subnet_id }, owns ? 'instance' : 'appliance');
      return;
    }
    await this.toInternet(eni, address, tableId, route);
  }

  /**
   * AWS: a NAT gateway replaces the source address with its own private address and sends the
   * traffic on by its own subnet's routes — a public one out of its internet gateway with its
   * Elastic IP as the source, a private one to the other networks its subnet routes to.
   */
  async throughNatGateway(eni: Eni, address: string, tableId: string, route: Row<'routes'>, routeText: string): Promise<void> {
    const to = this.request.to;
    const gateway = await this.tx.selectFrom('nat_gateways').selectAll().where('id', '=', route.nat_gateway_id!).executeTakeFirst();
    if (!gateway || gateway.state !== 'available' || !gateway.network_interface_id) {
      this.drop('route-table', tableId, 'no-route', routeText, `the NAT gateway ${route.nat_gateway_id} is ${gateway?.state ?? 'gone'} (blackhole)`);
    }
    if (isIpv6(to)) this.drop('route-table', tableId, 'no-route', routeText, 'a NAT gateway translates IPv4 only');
    this.pass('route-table', tableId, routeText);
    const nat = await this.tx.selectFrom('network_interfaces').selectAll().where('id', '=', gateway.network_interface_id).executeTakeFirstOrThrow();
    const crossing = nat.subnet_id !== eni.subnet_id;
    // The source subnet lets the answer back in; the gateway's subnet lets the traffic in and the answer out.
    await this.checkAcl(eni.subnet_id, false, to, 'reply', eni);
    if (crossing) await this.checkAcl(nat.subnet_id, false, address, 'forward');
    if (crossing) await this.checkAcl(nat.subnet_id, true, address, 'reply');
    const natAddress = nat.private_ip_address;
    this.pass('nat-gateway', gateway.id, undefined, `${address} → ${natAddress}`);
    this.result.source = { ...this.result.source!, natGatewayId: gateway.id, natAddress };

    const onward = await this.routesOfSubnet({ id: nat.subnet_id, vpc_id: nat.vpc_id });
    const next = longestPrefixMatch(onward.routes, to);
    if (!next) this.drop('route-table', onward.tableId, 'no-route', undefined, `no route to ${to} from the NAT gateway's subnet`);
    const nextText = `${next.destination} → ${targetOfRoute(next)}`;
    if (next.egress_only_internet_gateway_id) this.drop('route-table', onward.tableId, 'no-route', nextText, 'a NAT gateway translates IPv4 only');
    if (next.nat_gateway_id) this.drop('route-table', onward.tableId, 'no-route', nextText, 'a NAT gateway does not send traffic to another NAT gateway');
    if (next.gateway_id?.startsWith('vpce-')) {
      // The gateway's subnet reaches the AWS service through its Gateway endpoint, from the gateway's address.
      this.pass('route-table', onward.tableId, nextText);
      this.pass('vpc-endpoint', next.gateway_id, undefined, `to the AWS service at ${to}`);
      this.result.destination = { kind: 'internet', address: to };
      return;
    }
    if (next.gateway_id === 'local' || next.network_interface_id) {
      const target = next.gateway_id === 'local' ? await this.ownerOf(nat.vpc_id, to) : await this.tx.selectFrom('network_interfaces').selectAll().where('id', '=', next.network_interface_id!).executeTakeFirst();
      if (!target) this.drop('route-table', onward.tableId, 'no-destination', nextText, `no interface in ${nat.vpc_id} has the address ${to}`);
      if (next.network_interface_id && !target.instance_id) this.drop('route-table', onward.tableId, 'eni-not-attached', nextText, `the route's interface ${target.id} is not attached (blackhole)`);
      this.pass('route-table', onward.tableId, nextText);
      const owns = (await this.ownerOf(target.vpc_id, to))?.id === target.id;
      if (!owns && target.source_dest_check === 1) {
        this.drop('network-interface', target.id, 'source-dest-check', 'sourceDestCheck=true', 'the appliance interface drops traffic not addressed to it');
      }
      if (target.subnet_id !== nat.subnet_id) {
        await this.checkAcl(nat.subnet_id, true, to, 'forward');
        await this.checkAcl(nat.subnet_id, false, to, 'reply');
      }
      // The destination sees the gateway's address; the gateway has no security group to reference.
      await this.arriveAt(target, { address: natAddress, groupIds: [], subnetId: nat.subnet_id }, owns ? 'instance' : 'appliance');
      return;
    }
    // An internet gateway.
    const igw = await this.tx.selectFrom('internet_gateways').select(['id', 'vpc_id']).where('id', '=', next.gateway_id!).executeTakeFirst();
    if (!igw || igw.vpc_id !== nat.vpc_id) this.drop('route-table', onward.tableId, 'no-route', nextText, 'the internet gateway is not attached (blackhole)');
    if (gateway.connectivity_type === 'private') {
      this.drop('nat-gateway', gateway.id, 'no-route', undefined, 'a private NAT gateway does not send traffic to an internet gateway');
    }
    this.pass('route-table', onward.tableId, nextText);
    await this.checkAcl(nat.subnet_id, true, to, 'forward');
    const mapped = await this.tx.selectFrom('public_addresses').select('public_ip').where('network_interface_id', '=', nat.id).where('private_ip_address', '=', natAddress).executeTakeFirst();
    if (!mapped) this.drop('internet-gateway', igw.id, 'no-public-ip', undefined, `${natAddress} has no public IPv4 address`);
    this.result.source!.publicAddress = mapped.public_ip;
    this.pass('internet-gateway', igw.id, undefined, `${natAddress} → ${mapped.public_ip}`);
    await this.checkAcl(nat.subnet_id, false, to, 'reply');
    const inbound = await this.publicTarget(to);
    if (inbound) {
      await this.intoVpc(inbound, mapped.public_ip);
      return;
    }
    this.result.destination = { kind: 'internet', address: to };
  }

  /**
   * AWS: an egress-only internet gateway sends the VPC's IPv6 traffic to the internet untranslated
   * and lets the answers back in (it is stateful); nothing from the internet gets in through it
   * otherwise (see intoVpc).
   */
  async throughEgressOnlyGateway(eni: Eni, address: string, tableId: string, route: RouteOfTable, routeText: string): Promise<void> {
    const id = route.egress_only_internet_gateway_id!;
    const gateway = await this.tx.selectFrom('egress_only_internet_gateways').select(['id', 'vpc_id']).where('id', '=', id).executeTakeFirst();
    if (!gateway || gateway.vpc_id !== eni.vpc_id) this.drop('route-table', tableId, 'no-route', routeText, `the egress-only internet gateway ${id} is gone (blackhole)`);
    if (!isIpv6(this.request.to)) this.drop('route-table', tableId, 'no-route', routeText, 'an egress-only internet gateway carries IPv6 only');
    this.pass('route-table', tableId, routeText);
    this.result.source!.publicAddress = address;
    this.pass('egress-only-internet-gateway', gateway.id, undefined, 'IPv6, no translation; answers come back');
    await this.checkAcl(eni.subnet_id, false, this.request.to, 'reply', eni);
    const inbound = await this.publicTarget(this.request.to);
    if (inbound) {
      await this.intoVpc(inbound, address);
      return;
    }
    this.result.destination = { kind: 'internet', address: this.request.to };
  }

  async toInternet(eni: Eni, address: string, tableId: string, route: RouteOfTable): Promise<void> {
    const routeText = `${route.prefixListId ? `${route.prefixListId} (${route.destination})` : route.destination} → ${route.gateway_id}`;
    const gateway = await this.tx.selectFrom('internet_gateways').select(['id', 'vpc_id']).where('id', '=', route.gateway_id!).executeTakeFirst();
    if (!gateway || gateway.vpc_id !== eni.vpc_id) this.drop('route-table', tableId, 'no-route', routeText, 'the internet gateway is not attached (blackhole)');
    this.pass('route-table', tableId, routeText);
    let publicAddress = address;
    if (!isIpv6(address)) {
      // AWS: the internet gateway maps the private address 1:1 to its public (Elastic or automatic) address.
      const mapped = await this.tx.selectFrom('public_addresses').select('public_ip').where('network_interface_id', '=', eni.id).where('private_ip_address', '=', address).executeTakeFirst();
      if (!mapped) this.drop('internet-gateway', gateway.id, 'no-public-ip', undefined, `${address} has no public IPv4 address`);
      publicAddress = mapped.public_ip;
    }
    this.result.source!.publicAddress = publicAddress;
    this.pass('internet-gateway', gateway.id, undefined, isIpv6(address) ? 'IPv6, no translation' : `${address} → ${publicAddress}`);
    // The internet answers through the ACL of the source subnet.
    await this.checkAcl(eni.subnet_id, false, this.request.to, 'reply', eni);
    const inbound = await this.publicTarget(this.request.to);
    if (inbound) {
      await this.intoVpc(inbound, publicAddress);
      return;
    }
    this.result.destination = { kind: 'internet', address: this.request.to };
  }

  /** The interface a public address (Elastic IP, automatic public IPv4, or global IPv6) maps to, in the caller's scope. */
  async publicTarget(address: string): Promise<{ eni: Eni; privateAddress: string } | undefined> {
    if (isIpv6(address)) {
      const row = await this.tx.selectFrom('ipv6_addresses').select(['network_interface_id', 'address']).where('address', '=', formatIpv6(parseIpv6(address)!)).where('account_id', '=', this.request.account).where('region', '=', this.request.region).executeTakeFirst();
      const eni = row && (await this.tx.selectFrom('network_interfaces').selectAll().where('id', '=', row.network_interface_id).executeTakeFirst());
      return eni ? { eni, privateAddress: row.address } : undefined;
    }
    const row = await this.tx
      .selectFrom('public_addresses')
      .select(['network_interface_id', 'private_ip_address'])
      .where('public_ip', '=', address)
      .where('account_id', '=', this.request.account)
      .where('region', '=', this.request.region)
      .where('network_interface_id', 'is not', null)
      .executeTakeFirst();
    const eni = row && (await this.tx.selectFrom('network_interfaces').selectAll().where('id', '=', row.network_interface_id!).executeTakeFirst());
    return eni ? { eni, privateAddress: row.private_ip_address! } : undefined;
  }

  /** From the internet, through the VPC's gateway, to the interface behind a public address. */
  async intoVpc(target: { eni: Eni; privateAddress: string }, from: string): Promise<void> {
    const { eni, privateAddress } = target;
    const { tableId, routes } = await this.routesOfSubnet({ id: eni.subnet_id, vpc_id: eni.vpc_id });
    const back = longestPrefixMatch(routes, from);
    if (back?.egress_only_internet_gateway_id) {
      // AWS: an egress-only internet gateway refuses connections initiated from the internet.
      this.drop('egress-only-internet-gateway', back.egress_only_internet_gateway_id, 'no-route', undefined, `a connection from the internet to ${privateAddress} is refused: its subnet reaches the internet through an egress-only internet gateway`);
    }
    const gateway = await this.tx.selectFrom('internet_gateways').select('id').where('vpc_id', '=', eni.vpc_id).executeTakeFirst();
    if (!gateway) this.drop('internet-gateway', eni.vpc_id, 'no-route', undefined, `${eni.vpc_id} has no internet gateway attached`);
    this.pass('internet-gateway', gateway.id, undefined, `${this.request.to} → ${privateAddress}`);
    this.result.destination = { kind: 'instance', address: this.request.to, privateAddress };
    // The answer must find its way back: the destination subnet needs a route to the internet gateway.
    if (!back || back.gateway_id !== gateway.id) {
      this.drop('route-table', tableId, 'no-route', back ? `${back.destination} → ${targetOfRoute(back)}` : undefined, `no route back to ${from} through ${gateway.id}`);
    }
    this.pass('route-table', tableId, `${back.destination} → ${back.gateway_id}`, 'return path');
    await this.arriveAt(eni, { address: from, groupIds: [] }, 'instance');
  }

  async fromInternet(address: string): Promise<void> {
    this.result.source = { kind: 'internet', address };
    const target = await this.publicTarget(this.request.to);
    if (!target) {
      this.hops.push({ component: 'internet-gateway', resourceId: 'internet', verdict: 'drop', detail: `${this.request.to} is not a public address of this account and region` });
      throw new Drop('no-route');
    }
    await this.intoVpc(target, address);
  }
}

async function sourceInterface(ev: Evaluation, endpoint: Endpoint): Promise<Eni> {
  const { account, region } = ev.request;
  if (endpoint.kind === 'eni') {
    const eni = await ev.tx.selectFrom('network_interfaces').selectAll().where('id', '=', endpoint.id).where('account_id', '=', account).where('region', '=', region).executeTakeFirst();
    if (!eni) throw new FlowError(`network interface ${endpoint.id} not found`);
    return eni;
  }
  const eni = await ev.tx
    .selectFrom('network_interfaces')
    .selectAll()
    .where('instance_id', '=', (endpoint as { id: string }).id)
    .where('account_id', '=', account)
    .where('region', '=', region)
    .where('device_index', '=', 0)
    .where('network_card_index', '=', 0)
    .executeTakeFirst();
  if (!eni) throw new FlowError(`instance ${(endpoint as { id: string }).id} not found or without a primary interface`);
  return eni;
}

/** A flow that cannot be evaluated at all (unknown source, malformed address): the caller's mistake. */
export class FlowError extends Error {}

export async function evaluateFlow(tx: Tx, request: FlowRequest): Promise<FlowResult> {
  const to = request.to;
  if (parseIpv4(to) === undefined && parseIpv6(to) === undefined) throw new FlowError(`'${to}' is not an IPv4 or IPv6 address`);
  if (Number.isNaN(protocolNumber(request.protocol))) throw new FlowError(`'${request.protocol}' is not a protocol`);
  const normalized = { ...request, to: isIpv6(to) ? formatIpv6(parseIpv6(to)!) : formatIpv4(parseIpv4(to)!) };
  const ev = new Evaluation(tx, normalized);
  let reason: DropReason | undefined;
  try {
    if (request.from.kind === 'internet') {
      const from = request.from.address ?? DEFAULT_INTERNET_ADDRESS;
      if (parseIpv4(from) === undefined && parseIpv6(from) === undefined) throw new FlowError(`'${from}' is not an IPv4 or IPv6 address`);
      await ev.fromInternet(from);
    } else {
      await ev.fromInterface(await sourceInterface(ev, request.from));
    }
  } catch (error) {
    if (!(error instanceof Drop)) throw error;
    reason = error.reason;
  }
  return {
    delivered: reason === undefined,
    reason,
    protocol: ev.flow.protocol,
    port: ev.flow.port,
    source: ev.result.source ?? { kind: 'network-interface', address: '' },
    destination: ev.result.destination,
    hops: ev.hops,
    observations: ev.observations,
  };
}
