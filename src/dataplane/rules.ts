/**
 * The pure part of deciding a packet's fate: does a security group rule or a network ACL
 * entry match a flow. Addresses are text; families are told apart by a colon.
 */
import { containsAddress, parseIpv4, parseIpv4Cidr } from '../ipam/ipv4.ts';
import { containsAddress6, parseIpv6, parseIpv6Cidr } from '../ipam/ipv6.ts';
import type { NetworkAclEntryTable, SecurityGroupRuleTable } from '../store/schema.ts';

export const PROTOCOL_NUMBERS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 };

/** `tcp`, `6`, `-1`/`all` … as an IP protocol number (-1 for all). */
export function protocolNumber(protocol: string): number {
  const text = protocol.toLowerCase();
  if (text === '-1' || text === 'all') return -1;
  if (Object.hasOwn(PROTOCOL_NUMBERS, text)) return PROTOCOL_NUMBERS[text];
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : Number.NaN;
}

export const isIpv6 = (address: string) => address.includes(':');

/** Whether `address` lies in `cidr` (either family; a family mismatch never matches). */
export function cidrContains(cidr: string | null | undefined, address: string): boolean {
  if (!cidr) return false;
  if (isIpv6(address) !== cidr.includes(':')) return false;
  if (isIpv6(address)) {
    const block = parseIpv6Cidr(cidr);
    const value = parseIpv6(address);
    return !!block && value !== undefined && containsAddress6(block, value);
  }
  const block = parseIpv4Cidr(cidr);
  const value = parseIpv4(address);
  return !!block && value !== undefined && containsAddress(block, value);
}

export interface FlowMatch {
  /** IP protocol number. */
  protocol: number;
  /** Destination port for TCP/UDP; ICMP type for ICMP. */
  port: number;
}

function portsMatch(protocol: number, from: number | null, to: number | null, flow: FlowMatch): boolean {
  if (protocol === 6 || protocol === 17) {
    if (from === null || to === null || from === -1) return true;
    return flow.port >= from && flow.port <= to;
  }
  if (protocol === 1 || protocol === 58) return from === null || from === -1 || from === flow.port;
  return true;
}

/** What a security group rule check reads of the rule's row. */
export type SecurityGroupRule = Pick<
  SecurityGroupRuleTable,
  'id' | 'group_id' | 'ip_protocol' | 'from_port' | 'to_port' | 'cidr_ipv4' | 'cidr_ipv6' | 'referenced_group_id' | 'prefix_list_id'
>;

/** The peer on the other side of a security group check: its address and, inside the VPC, its groups. */
export interface Peer {
  address: string;
  groupIds: readonly string[];
}

/**
 * The first rule of the groups that allows the flow (security groups only allow), if any. A rule
 * that references a prefix list matches the addresses of the list's current entries.
 */
export function matchSecurityGroupRule(
  rules: readonly SecurityGroupRule[],
  peer: Peer,
  flow: FlowMatch,
  prefixLists: ReadonlyMap<string, readonly string[]> = new Map(),
): SecurityGroupRule | undefined {
  return rules.find((rule) => {
    const protocol = protocolNumber(rule.ip_protocol);
    if (protocol !== -1 && protocol !== flow.protocol) return false;
    if (protocol !== -1 && !portsMatch(protocol, rule.from_port, rule.to_port, flow)) return false;
    if (rule.referenced_group_id) return peer.groupIds.includes(rule.referenced_group_id);
    if (rule.prefix_list_id) return (prefixLists.get(rule.prefix_list_id) ?? []).some((cidr) => cidrContains(cidr, peer.address));
    return cidrContains(rule.cidr_ipv4, peer.address) || cidrContains(rule.cidr_ipv6, peer.address);
  });
}

/** What a network ACL check reads of the entry's row. */
export type NetworkAclEntry = Pick<
  NetworkAclEntryTable,
  'rule_number' | 'protocol' | 'rule_action' | 'cidr_block' | 'ipv6_cidr_block' | 'port_from' | 'port_to' | 'icmp_type'
>;

/** AWS: the first entry in rule-number order that matches decides; none matching means the `*` deny. */
export function decideNetworkAcl(entries: readonly NetworkAclEntry[], address: string, flow: FlowMatch): { allow: boolean; ruleNumber: number | '*' } {
  const sorted = [...entries].sort((a, b) => a.rule_number - b.rule_number);
  for (const entry of sorted) {
    const protocol = protocolNumber(entry.protocol);
    if (protocol !== -1 && protocol !== flow.protocol) continue;
    if (!cidrContains(entry.cidr_block, address) && !cidrContains(entry.ipv6_cidr_block, address)) continue;
    if (protocol === 1 || protocol === 58 ? !(entry.icmp_type === null || entry.icmp_type === -1 || entry.icmp_type === flow.port) : !portsMatch(protocol, entry.port_from, entry.port_to, flow)) continue;
    return { allow: entry.rule_action === 'allow', ruleNumber: entry.rule_number >= 32767 ? '*' : entry.rule_number };
  }
  return { allow: false, ruleNumber: '*' };
}

/** The longest-prefix route for an address, among routes of its family. */
export function longestPrefixMatch<R extends { destination: string }>(routes: readonly R[], address: string): R | undefined {
  let best: R | undefined;
  let bestLength = -1;
  for (const route of routes) {
    if (!cidrContains(route.destination, address)) continue;
    const length = Number(route.destination.split('/')[1]);
    if (length > bestLength) {
      best = route;
      bestLength = length;
    }
  }
  return best;
}
