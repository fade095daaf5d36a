/**
 * IPv4 CIDR math on 32-bit unsigned integers: parsing (through ipaddr.js), canonical form,
 * containment and overlap. Pure functions; the allocators build on them.
 */
import ipaddr from 'ipaddr.js';

export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit integer. */
  network: number;
  prefix: number;
}

/** The address as an unsigned integer, or undefined if it is not a dotted-quad IPv4 address. */
export function parseIpv4(text: string): number | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  const [a, b, c, d] = ipaddr.IPv4.parse(text).octets;
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

export function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/**
 * Parses `a.b.c.d/n`. Host bits are cleared (AWS canonicalises `10.0.0.18/16` to `10.0.0.0/16`).
 * Undefined when the text is not an IPv4 CIDR.
 */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text.trim());
  if (!match) return undefined;
  const address = parseIpv4(match[1]);
  const prefix = Number(match[2]);
  if (address === undefined || prefix > 32) return undefined;
  return { network: (address & maskOf(prefix)) >>> 0, prefix };
}

export function formatIpv4Cidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

export function sizeOf(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function lastAddress(cidr: Ipv4Cidr): number {
  return cidr.network + sizeOf(cidr) - 1;
}

export function containsAddress(cidr: Ipv4Cidr, address: number): boolean {
  return address >= cidr.network && address <= lastAddress(cidr);
}

/** Whether `inner` lies wholly inside `outer`. */
export function containsCidr(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && containsAddress(outer, inner.network);
}

export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.network <= lastAddress(b) && b.network <= lastAddress(a);
}
