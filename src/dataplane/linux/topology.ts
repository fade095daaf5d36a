/**
 * What the linux data plane must carry, read from the store in one read transaction: every VPC
 * with its subnets, route tables, network ACLs and groups, every interface with its addresses and
 * attachment, every instance's state — of every account and region (one server, one plane).
 * Plain data, so that rendering it into kernel state is a pure function (render.ts).
 */
import type { Store } from '../../store/index.ts';
import { awsManagedList } from '../aws-prefix-lists.ts';
import { internalDomain } from '../aws-names.ts';
import type { Row } from '../../store/schema.ts';

export interface RouteState {
  destination: string;
  /** `local`, an internet gateway or egress-only internet gateway id, or undefined for a route to an interface. */
  gatewayId?: string;
  networkInterfaceId?: string;
}

export interface SubnetState {
  id: string;
  cidr: string;
  ipv6Cidr?: string;
  routeTableId?: string;
  networkAclId?: string;
}

export type RuleState = Pick<Row<'security_group_rules'>, 'id' | 'group_id' | 'is_egress' | 'ip_protocol' | 'from_port' | 'to_port' | 'cidr_ipv4' | 'cidr_ipv6' | 'referenced_group_id' | 'prefix_list_id'>;
export type AclEntryState = Pick<Row<'network_acl_entries'>, 'egress' | 'rule_number' | 'protocol' | 'rule_action' | 'cidr_block' | 'ipv6_cidr_block' | 'port_from' | 'port_to' | 'icmp_type' | 'icmp_code'>;

export interface VpcState {
  id: string;
  account: string;
  region: string;
  cidrs: string[];
  ipv6Cidrs: string[];
  /** The internet gateway attached to the VPC, if any. */
  internetGatewayId?: string;
  /** The VPC's egress-only internet gateway, if any (IPv6 out, answers back, nothing in). */
  egressOnlyInternetGatewayId?: string;
  subnets: SubnetState[];
  routeTables: { id: string; routes: RouteState[] }[];
  networkAcls: { id: string; entries: AclEntryState[] }[];
  /** What the VPC's DHCP server hands out: its options set's key → values (`default`: AmazonProvidedDNS and the region's domain). */
  dhcpOptions: Record<string, string[]>;
}

export interface InterfaceState {
  id: string;
  account: string;
  region: string;
  vpcId: string;
  subnetId: string;
  mac: string;
  sourceDestCheck: boolean;
  /** AWS: security groups do not apply to a NAT gateway's interface. */
  securityGroupsApply: boolean;
  groupIds: string[];
  /** Primary first. */
  ipv4: string[];
  ipv4Prefixes: string[];
  ipv6: string[];
  ipv6Prefixes: string[];
  /** private IPv4 → its public (Elastic or automatic) IPv4. */
  publicIpv4: Record<string, string>;
  attachment?: { instanceId: string; deviceIndex: number; status: string };
}

export interface InstanceState {
  id: string;
  account: string;
  region: string;
  vpcId: string;
  state: string;
  impaired: boolean;
  /** The instance metadata options the kernel enforces: whether IMDS answers, over IPv6 too, and the token reply's hop limit. */
  metadata: { endpoint: boolean; ipv6: boolean; hopLimit: number };
  /** A managed host of AWS's rather than the user's instance: a NAT gateway (its interface is eth0; it translates what it forwards). */
  natGateway?: boolean;
  /** A managed host of AWS's: an interface VPC endpoint's interface in one subnet (the instance id is the interface's), for this service. */
  endpointService?: string;
}

export interface Topology {
  vpcs: VpcState[];
  interfaces: InterfaceState[];
  instances: InstanceState[];
  /** Security group id → its rules (both directions). */
  groupRules: Record<string, RuleState[]>;
  /** Whether any flow log exists (the plane then reads the kernel's flow counters). */
  flowLogs: boolean;
  /** The current CIDRs of every prefix list a security group rule names. */
  prefixLists: Record<string, string[]>;
}

function group<T, K extends string>(rows: readonly T[], key: (row: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(row);
    else out.set(k, [row]);
  }
  return out;
}

/** The whole plane's state as the last committed transaction left it. */
export async function readTopology(store: Store): Promise<Topology> {
  return store.transaction(
    async (tx) => {
      const [vpcs, cidrs, subnets, gateways, egressOnlyGateways, tables, routes, tableAssocs, acls, entries, aclAssocs, rules, enis, ipv4, prefixes, ipv6, publics, groups, flowLogs, listEntries, natGateways, instances, dhcpValues, endpointInterfaces] =
        await Promise.all([
          tx.selectFrom('vpcs').select(['id', 'account_id', 'region', 'cidr_block', 'dhcp_options_id']).orderBy('id').execute(),
          tx.selectFrom('vpc_cidr_blocks').select(['vpc_id', 'cidr_block', 'family', 'state']).execute(),
          tx.selectFrom('subnets').select(['id', 'vpc_id', 'cidr_block', 'ipv6_cidr_block']).orderBy('id').execute(),
          tx.selectFrom('internet_gateways').select(['id', 'vpc_id']).where('vpc_id', 'is not', null).execute(),
          tx.selectFrom('egress_only_internet_gateways').select(['id', 'vpc_id']).execute(),
          tx.selectFrom('route_tables').select(['id', 'vpc_id', 'is_main']).orderBy('id').execute(),
          tx.selectFrom('routes').select(['route_table_id', 'destination', 'gateway_id', 'network_interface_id', 'nat_gateway_id', 'egress_only_internet_gateway_id']).execute(),
          tx.selectFrom('route_table_associations').select(['route_table_id', 'subnet_id']).where('subnet_id', 'is not', null).execute(),
          tx.selectFrom('network_acls').select(['id', 'vpc_id']).orderBy('id').execute(),
          tx.selectFrom('network_acl_entries').selectAll().execute(),
          tx.selectFrom('network_acl_associations').select(['network_acl_id', 'subnet_id']).execute(),
          tx.selectFrom('security_group_rules').select(['region', 'id', 'group_id', 'is_egress', 'ip_protocol', 'from_port', 'to_port', 'cidr_ipv4', 'cidr_ipv6', 'referenced_group_id', 'prefix_list_id']).orderBy('id').execute(),
          tx.selectFrom('network_interfaces').selectAll().orderBy('id').execute(),
          tx.selectFrom('private_ip_addresses').select(['network_interface_id', 'address', 'address_int', 'is_primary']).execute(),
          tx.selectFrom('ipv4_prefixes').select(['network_interface_id', 'prefix']).execute(),
          tx.selectFrom('ipv6_addresses').select(['network_interface_id', 'address', 'kind']).execute(),
          tx.selectFrom('public_addresses').select(['network_interface_id', 'private_ip_address', 'public_ip']).where('network_interface_id', 'is not', null).execute(),
          tx.selectFrom('network_interface_groups').select(['network_interface_id', 'group_id', 'position']).orderBy('position').execute(),
          tx.selectFrom('flow_logs').select('id').limit(1).execute(),
          tx.selectFrom('managed_prefix_list_entries').select(['prefix_list_id', 'cidr']).where('removed_version', 'is', null).execute(),
          tx.selectFrom('nat_gateways').select(['id', 'account_id', 'region', 'vpc_id', 'state', 'network_interface_id']).where('state', '=', 'available').execute(),
          tx
            .selectFrom('instances')
            .select(['id', 'account_id', 'region', 'vpc_id', 'state', 'impaired', 'metadata_http_endpoint', 'metadata_http_ipv6', 'metadata_hop_limit'])
            .where('state', '!=', 'terminated')
            .orderBy('id')
            .execute(),
          tx.selectFrom('dhcp_option_values').select(['dhcp_options_id', 'key', 'value']).orderBy('dhcp_options_id').orderBy('key').orderBy('position').execute(),
          tx
            .selectFrom('vpc_endpoint_subnets')
            .innerJoin('vpc_endpoints', 'vpc_endpoints.id', 'vpc_endpoint_subnets.vpc_endpoint_id')
            .select(['vpc_endpoint_subnets.network_interface_id', 'vpc_endpoints.account_id', 'vpc_endpoints.region', 'vpc_endpoints.vpc_id', 'vpc_endpoints.service_name'])
            .where('vpc_endpoints.endpoint_type', '=', 'Interface')
            .where('vpc_endpoints.state', '=', 'available')
            .orderBy('vpc_endpoint_subnets.network_interface_id')
            .execute(),
        ]);

      const ownLists = new Map<string, string[]>();
      for (const entry of listEntries) ownLists.set(entry.prefix_list_id, [...(ownLists.get(entry.prefix_list_id) ?? []), entry.cidr]);
      const listCidrs = (id: string, region: string) => ownLists.get(id) ?? [...(awsManagedList(region, id)?.entries ?? [])];
      const natInterface = new Map(natGateways.filter((n) => n.network_interface_id).map((n) => [n.id, n.network_interface_id!]));
      const natOfInterface = new Map(natGateways.filter((n) => n.network_interface_id).map((n) => [n.network_interface_id!, n.id]));
      // An interface endpoint's interface is plugged into a managed host of its own (named after the interface).
      const endpointHosts = new Set(endpointInterfaces.map((e) => e.network_interface_id));
      const cidrsByVpc = group(cidrs.filter((c) => c.state === 'associated'), (c) => c.vpc_id);
      const subnetsByVpc = group(subnets, (s) => s.vpc_id);
      const routesByTable = group(routes, (r) => r.route_table_id);
      const tablesByVpc = group(tables, (t) => t.vpc_id);
      const tableOfSubnet = new Map(tableAssocs.map((a) => [a.subnet_id!, a.route_table_id]));
      const entriesByAcl = group(entries, (e) => e.network_acl_id);
      const aclsByVpc = group(acls, (a) => a.vpc_id);
      const aclOfSubnet = new Map(aclAssocs.map((a) => [a.subnet_id, a.network_acl_id]));
      const gatewayOfVpc = new Map(gateways.map((g) => [g.vpc_id!, g.id]));
      const egressOnlyGatewayOfVpc = new Map(egressOnlyGateways.map((g) => [g.vpc_id, g.id]));
      const dhcpSets = new Map<string, Record<string, string[]>>();
      for (const v of dhcpValues) {
        const set = dhcpSets.get(v.dhcp_options_id) ?? {};
        (set[v.key] ??= []).push(v.value);
        dhcpSets.set(v.dhcp_options_id, set);
      }

      const vpcStates: VpcState[] = vpcs.map((vpc) => {
        const blocks = cidrsByVpc.get(vpc.id) ?? [];
        const v4 = blocks.filter((b) => b.family === 4).map((b) => b.cidr_block);
        const main = (tablesByVpc.get(vpc.id) ?? []).find((t) => t.is_main === 1)?.id;
        return {
          id: vpc.id,
          account: vpc.account_id,
          region: vpc.region,
          cidrs: v4.length ? v4 : [vpc.cidr_block],
          ipv6Cidrs: blocks.filter((b) => b.family === 6).map((b) => b.cidr_block),
          internetGatewayId: gatewayOfVpc.get(vpc.id),
          egressOnlyInternetGatewayId: egressOnlyGatewayOfVpc.get(vpc.id),
          subnets: (subnetsByVpc.get(vpc.id) ?? []).map((s) => ({
            id: s.id,
            cidr: s.cidr_block,
            ipv6Cidr: s.ipv6_cidr_block ?? undefined,
            routeTableId: tableOfSubnet.get(s.id) ?? main,
            networkAclId: aclOfSubnet.get(s.id),
          })),
          routeTables: (tablesByVpc.get(vpc.id) ?? []).map((t) => ({
            id: t.id,
            routes: (routesByTable.get(t.id) ?? []).flatMap((r) => {
              // A route to a NAT gateway goes to its interface while it is available (a blackhole otherwise).
              const target = {
                // A route to an egress-only internet gateway names it as its gateway (a blackhole once it is gone).
                gatewayId: r.gateway_id ?? r.egress_only_internet_gateway_id ?? undefined,
                networkInterfaceId: r.network_interface_id ?? (r.nat_gateway_id ? natInterface.get(r.nat_gateway_id) : undefined),
              };
              // A route to a prefix list is a route to each of its CIDRs.
              const destinations = r.destination.startsWith('pl-') ? listCidrs(r.destination, vpc.region) : [r.destination];
              return destinations.map((destination) => ({ destination, ...target }));
            }),
          })),
          networkAcls: (aclsByVpc.get(vpc.id) ?? []).map((a) => ({ id: a.id, entries: entriesByAcl.get(a.id) ?? [] })),
          dhcpOptions:
            vpc.dhcp_options_id && vpc.dhcp_options_id !== 'default'
              ? (dhcpSets.get(vpc.dhcp_options_id) ?? {})
              : { 'domain-name': [internalDomain(vpc.region)], 'domain-name-servers': ['AmazonProvidedDNS'] },
        };
      });

      const ipv4ByEni = group([...ipv4].sort((a, b) => b.is_primary - a.is_primary || a.address_int - b.address_int), (a) => a.network_interface_id);
      const prefixesByEni = group(prefixes, (p) => p.network_interface_id);
      const ipv6ByEni = group(ipv6, (a) => a.network_interface_id);
      const publicsByEni = group(publics, (p) => p.network_interface_id!);
      const groupsByEni = group(groups, (g) => g.network_interface_id);
      const interfaces: InterfaceState[] = enis.map((eni) => ({
        id: eni.id,
        account: eni.account_id,
        region: eni.region,
        vpcId: eni.vpc_id,
        subnetId: eni.subnet_id,
        mac: eni.mac_address,
        // A NAT gateway forwards what is not addressed to it.
        sourceDestCheck: eni.source_dest_check === 1 && !natOfInterface.has(eni.id),
        securityGroupsApply: eni.interface_type !== 'nat_gateway',
        groupIds: (groupsByEni.get(eni.id) ?? []).map((g) => g.group_id),
        ipv4: (ipv4ByEni.get(eni.id) ?? []).map((a) => a.address),
        ipv4Prefixes: (prefixesByEni.get(eni.id) ?? []).map((p) => p.prefix),
        ipv6: (ipv6ByEni.get(eni.id) ?? []).filter((a) => a.kind === 'address').map((a) => a.address),
        ipv6Prefixes: (ipv6ByEni.get(eni.id) ?? []).filter((a) => a.kind === 'prefix').map((a) => a.address),
        publicIpv4: Object.fromEntries((publicsByEni.get(eni.id) ?? []).map((p) => [p.private_ip_address!, p.public_ip])),
        attachment: natOfInterface.has(eni.id)
          ? { instanceId: natOfInterface.get(eni.id)!, deviceIndex: 0, status: 'attached' }
          : endpointHosts.has(eni.id)
            ? { instanceId: eni.id, deviceIndex: 0, status: 'attached' }
          : eni.instance_id && eni.attachment_status
            ? { instanceId: eni.instance_id, deviceIndex: eni.device_index ?? 0, status: eni.attachment_status }
            : undefined,
      }));

      const groupRules: Record<string, RuleState[]> = {};
      const prefixLists: Record<string, string[]> = {};
      for (const rule of rules) {
        (groupRules[rule.group_id] ??= []).push(rule);
        if (rule.prefix_list_id) prefixLists[rule.prefix_list_id] ??= listCidrs(rule.prefix_list_id, rule.region);
      }

      return {
        vpcs: vpcStates,
        interfaces,
        instances: [
          ...natGateways.map((n) => ({
            id: n.id,
            account: n.account_id,
            region: n.region,
            vpcId: n.vpc_id,
            state: 'running',
            impaired: false,
            metadata: { endpoint: false, ipv6: false, hopLimit: 1 },
            natGateway: true,
          })),
          ...endpointInterfaces.map((e) => ({
            id: e.network_interface_id,
            account: e.account_id,
            region: e.region,
            vpcId: e.vpc_id,
            state: 'running',
            impaired: false,
            metadata: { endpoint: false, ipv6: false, hopLimit: 1 },
            endpointService: e.service_name,
          })),
          ...instances.map((i) => ({
          id: i.id,
          account: i.account_id,
          region: i.region,
          vpcId: i.vpc_id,
          state: i.state,
          impaired: i.impaired === 1,
          metadata: { endpoint: i.metadata_http_endpoint !== 'disabled', ipv6: i.metadata_http_ipv6 === 'enabled', hopLimit: Number(i.metadata_hop_limit) },
          })),
        ],
        groupRules,
        flowLogs: flowLogs.length > 0,
        prefixLists,
      };
    },
    { writes: false },
  );
}
