/**
 * What the console knows of the cloud: the answer of GET /_eni/topology (the Describe actions'
 * own shapes, as JSON) and the indexes the picture is drawn from. Nothing here decides an AWS
 * rule: moves, attachments and their refusals are the server's.
 */
import type {
  Address,
  FlowLog,
  Instance,
  InstanceStatus,
  InternetGateway,
  NetworkInterface,
  Subnet,
  Tag,
  Vpc,
} from '@aws-sdk/client-ec2';

export interface SecurityGroupSummary {
  GroupId?: string;
  GroupName?: string;
  VpcId?: string;
  Description?: string;
  OwnerId?: string;
}

export interface Topology {
  account: string;
  region: string;
  time: string;
  availabilityZones: { ZoneName?: string; ZoneId?: string }[];
  vpcs: Vpc[];
  subnets: Subnet[];
  instances: Instance[];
  instanceStatuses: InstanceStatus[];
  instanceTypes: Record<string, { maximumNetworkInterfaces?: number; ipv4AddressesPerInterface?: number }>;
  networkInterfaces: NetworkInterface[];
  addresses: Address[];
  internetGateways: InternetGateway[];
  securityGroups: SecurityGroupSummary[];
  flowLogs: FlowLog[];
}

/** The data plane's answer to a probe (src/dataplane/evaluate.ts, FlowResult). */
export interface Hop {
  component: string;
  resourceId: string;
  verdict: 'pass' | 'drop';
  rule?: string;
  detail?: string;
}

export interface FlowResult {
  delivered: boolean;
  reason?: string;
  protocol: number;
  port: number;
  source: { kind: string; address: string; publicAddress?: string; networkInterfaceId?: string; instanceId?: string };
  destination?: {
    kind: string;
    address: string;
    instanceId?: string;
    networkInterfaceId?: string;
    deviceIndex?: number;
    privateAddress?: string;
  };
  hops: Hop[];
  /** The interfaces that saw the flow (what their flow logs record), whatever became of it after. */
  observations?: { networkInterfaceId: string; subnetId: string; vpcId: string; direction: string; action: 'ACCEPT' | 'REJECT' }[];
}

export type Selection =
  | { kind: 'network-interface'; id: string }
  | { kind: 'instance'; id: string }
  | { kind: 'subnet'; id: string }
  | { kind: 'vpc'; id: string }
  | { kind: 'internet' };

/** Everything the picture looks up, built once per topology. */
export interface TopologyIndex {
  topology: Topology;
  vpcs: Map<string, Vpc>;
  subnets: Map<string, Subnet>;
  instances: Map<string, Instance>;
  interfaces: Map<string, NetworkInterface>;
  /** Live (not terminated) instances of each subnet (the subnet of their primary interface). */
  instancesBySubnet: Map<string, Instance[]>;
  /** Interfaces attached to each instance, by device index. */
  interfacesByInstance: Map<string, NetworkInterface[]>;
  /** Interfaces attached to nothing (or to an instance not shown), in their subnet's tray. */
  trayBySubnet: Map<string, NetworkInterface[]>;
  subnetsByVpc: Map<string, Subnet[]>;
  groupNames: Map<string, string>;
  groupsByVpc: Map<string, SecurityGroupSummary[]>;
  /** Instance id → `ok`, `impaired`, … (DescribeInstanceStatus). */
  health: Map<string, string>;
  gatewaysByVpc: Map<string, InternetGateway[]>;
  /** Elastic IPs by the interface they are associated with. */
  addressesByInterface: Map<string, Address[]>;
  /** Every address the picture shows (private, public, Elastic) → its interface. */
  interfaceByAddress: Map<string, string>;
}

/** The picture of credentials that own nothing yet. */
export function emptyTopology(region: string): Topology {
  return {
    account: '',
    region,
    time: new Date().toISOString(),
    availabilityZones: [],
    vpcs: [],
    subnets: [],
    instances: [],
    instanceStatuses: [],
    instanceTypes: {},
    networkInterfaces: [],
    addresses: [],
    internetGateways: [],
    securityGroups: [],
    flowLogs: [],
  };
}

export function nameOf(resource: { Tags?: Tag[] } | undefined): string | undefined {
  return resource?.Tags?.find((t) => t.Key === 'Name')?.Value || undefined;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Keeps the previous object for every item whose JSON did not change, so that the memoised
 * cards of a 500-interface picture re-render only where something moved.
 */
export function shareUnchanged<T>(previous: Map<string, T> | undefined, items: T[], idOf: (item: T) => string | undefined): T[] {
  if (!previous) return items;
  const json = new Map<T, string>();
  return items.map((item) => {
    const id = idOf(item);
    const before = id === undefined ? undefined : previous.get(id);
    if (before === undefined) return item;
    let text = json.get(before);
    if (text === undefined) json.set(before, (text = JSON.stringify(before)));
    return text === JSON.stringify(item) ? before : item;
  });
}

export function indexTopology(topology: Topology, previous?: TopologyIndex): TopologyIndex {
  const interfacesList = shareUnchanged(previous?.interfaces, topology.networkInterfaces, (n) => n.NetworkInterfaceId);
  const instancesList = shareUnchanged(previous?.instances, topology.instances, (i) => i.InstanceId);
  const index: TopologyIndex = {
    topology,
    vpcs: new Map(topology.vpcs.map((v) => [v.VpcId!, v])),
    subnets: new Map(topology.subnets.map((s) => [s.SubnetId!, s])),
    instances: new Map(instancesList.map((i) => [i.InstanceId!, i])),
    interfaces: new Map(interfacesList.map((n) => [n.NetworkInterfaceId!, n])),
    instancesBySubnet: new Map(),
    interfacesByInstance: new Map(),
    trayBySubnet: new Map(),
    subnetsByVpc: new Map(),
    groupNames: new Map(topology.securityGroups.map((g) => [g.GroupId!, g.GroupName ?? g.GroupId!])),
    groupsByVpc: new Map(),
    health: new Map(),
    gatewaysByVpc: new Map(),
    addressesByInterface: new Map(),
    interfaceByAddress: new Map(),
  };
  const shown = new Set<string>();
  for (const instance of instancesList) {
    if (instance.State?.Name === 'terminated' || !instance.SubnetId) continue;
    shown.add(instance.InstanceId!);
    push(index.instancesBySubnet, instance.SubnetId, instance);
  }
  for (const eni of interfacesList) {
    const holder = eni.Attachment?.InstanceId;
    if (holder && shown.has(holder)) push(index.interfacesByInstance, holder, eni);
    else push(index.trayBySubnet, eni.SubnetId!, eni);
    for (const p of eni.PrivateIpAddresses ?? []) {
      if (p.PrivateIpAddress) index.interfaceByAddress.set(p.PrivateIpAddress, eni.NetworkInterfaceId!);
      if (p.Association?.PublicIp) index.interfaceByAddress.set(p.Association.PublicIp, eni.NetworkInterfaceId!);
    }
    for (const a of eni.Ipv6Addresses ?? []) if (a.Ipv6Address) index.interfaceByAddress.set(a.Ipv6Address, eni.NetworkInterfaceId!);
  }
  for (const list of index.interfacesByInstance.values()) list.sort((a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0));
  for (const subnet of topology.subnets) push(index.subnetsByVpc, subnet.VpcId!, subnet);
  for (const group of topology.securityGroups) push(index.groupsByVpc, group.VpcId!, group);
  for (const status of topology.instanceStatuses) {
    index.health.set(status.InstanceId!, status.InstanceStatus?.Status ?? 'unknown');
  }
  for (const gateway of topology.internetGateways) {
    for (const attachment of gateway.Attachments ?? []) if (attachment.VpcId) push(index.gatewaysByVpc, attachment.VpcId, gateway);
  }
  for (const address of topology.addresses) if (address.NetworkInterfaceId) push(index.addressesByInterface, address.NetworkInterfaceId, address);
  return index;
}

/** Zones of a VPC's subnets, in the region's order: the VPC box's columns. */
export function zonesOf(index: TopologyIndex, vpcId: string): string[] {
  const zones = new Set((index.subnetsByVpc.get(vpcId) ?? []).map((s) => s.AvailabilityZone!));
  const order = index.topology.availabilityZones.map((z) => z.ZoneName!);
  return [...zones].sort((a, b) => order.indexOf(a) - order.indexOf(b) || a.localeCompare(b));
}

/** The zone an instance is in (its placement, which is its primary interface's subnet's). */
export function zoneOfInstance(instance: Instance): string | undefined {
  return instance.Placement?.AvailabilityZone;
}

/** Whether a search text matches an interface (id, addresses, MAC, description, groups, name). */
export function interfaceMatches(eni: NetworkInterface, query: string, groupNames: Map<string, string>): boolean {
  if (!query) return true;
  const q = query.toLowerCase();
  const fields = [
    eni.NetworkInterfaceId,
    eni.MacAddress,
    eni.Description,
    eni.Attachment?.InstanceId,
    nameOf({ Tags: eni.TagSet }),
    ...(eni.PrivateIpAddresses ?? []).flatMap((p) => [p.PrivateIpAddress, p.Association?.PublicIp]),
    ...(eni.Ipv6Addresses ?? []).map((a) => a.Ipv6Address),
    ...(eni.Groups ?? []).flatMap((g) => [g.GroupId, groupNames.get(g.GroupId ?? '') ?? g.GroupName]),
  ];
  return fields.some((f) => f !== undefined && f !== null && String(f).toLowerCase().includes(q));
}

/** Instances listed in the "Move to…" / "Attach to…" menus: every live one. */
export function movableTargets(index: TopologyIndex): Instance[] {
  return [...index.instances.values()]
    .filter((i) => i.State?.Name !== 'terminated' && i.State?.Name !== 'shutting-down')
    .sort((a, b) => (zoneOfInstance(a) ?? '').localeCompare(zoneOfInstance(b) ?? '') || (nameOf(a) ?? a.InstanceId!).localeCompare(nameOf(b) ?? b.InstanceId!));
}

export const IDENTIFIER = /^(eni-attach|eni|i|vpc|subnet|sg|eipalloc|eipassoc|igw|rtb|acl|fl|ami|r|nia|nip)-[0-9a-f]{8,17}$/;
