/**
 * IPv6 CIDR math on 128-bit BigInts: parsing (through ipaddr.js), RFC 5952 canonical text,
 * containment, and random host addresses inside a block.
 */
import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';

export interface Ipv6Cidr {
  network: bigint;
  prefix: number;
}

const ALL = (1n << 128n) - 1n;

export function parseIpv6(text: string): bigint | undefined {
  if (!ipaddr.IPv6.isValid(text) || text.includes('%')) return undefined;
  let value = 0n;
  for (const part of ipaddr.IPv6.parse(text).parts) value = (value << 16n) | BigInt(part);
  return value;
}

export function formatIpv6(value: bigint): string {
  const parts: number[] = [];
  for (let i = 7; i >= 0; i--) parts.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  return new ipaddr.IPv6(parts).toRFC5952String();
}

export function maskOf6(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL << BigInt(128 - prefix)) & ALL;
}

/** Parses `addr/n`, clearing host bits; undefined when the text is not an IPv6 CIDR. */
export function parseIpv6Cidr(text: string): Ipv6Cidr | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const address = parseIpv6(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (address === undefined || !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > 128) return undefined;
  return { network: address & maskOf6(prefix), prefix };
}

export function formatIpv6Cidr(cidr: Ipv6Cidr): string {
  return `${formatIpv6(cidr.network)}/${cidr.prefix}`;
}

export function lastAddress6(cidr: Ipv6Cidr): bigint {
  return cidr.network | (~maskOf6(cidr.prefix) & ALL);
}

export function containsAddress6(cidr: Ipv6Cidr, address: bigint): boolean {
  return (address & maskOf6(cidr.prefix)) === cidr.network;
}

export function containsCidr6(outer: Ipv6Cidr, inner: Ipv6Cidr): boolean {
  return inner.prefix >= outer.prefix && containsAddress6(outer, inner.network);
}

/** A random value of `bits` bits. */
function randomBits(bits: number): bigint {
  const bytes = randomBytes(Math.ceil(bits / 8));
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value & ((1n << BigInt(bits)) - 1n);
}

/** A random block of `prefix` length inside `outer` (e.g. a /56 in a pool, a /80 in a /64). */
export function randomSubBlock(outer: Ipv6Cidr, prefix: number): Ipv6Cidr {
  const hostBits = prefix - outer.prefix;
  return { network: outer.network | (randomBits(hostBits) << BigInt(128 - prefix)), prefix };
}

/**
 * A random address of a subnet block that is not one of the five AWS reserves (the first
 * four and the last address of every subnet, IPv6 as IPv4).
 */
export function randomHostAddress(cidr: Ipv6Cidr): bigint {
  const hostBits = 128 - cidr.prefix;
  for (;;) {
    const offset = randomBits(hostBits);
    const max = (1n << BigInt(hostBits)) - 1n;
    if (offset >= 4n && offset < max) return cidr.network | offset;
  }
}
