/**
 * The IPv4 allocator of a subnet. The free addresses are kept as disjoint ranges
 * (table subnet_free_ranges, indexed on both ends), so taking the lowest free address, taking a
 * given one and giving one back each cost a few indexed lookups however full the subnet is —
 * never a scan of the used addresses. The subnet's availableIpAddressCount is kept exact in
 * the same transaction.
 */
import type { Tx } from '../store/schema.ts';
import type { Ipv4Cidr } from './ipv4.ts';
import { lastAddress } from './ipv4.ts';
import { inOrder } from '../store/in-order.ts';

/** AWS reserves the first four addresses and the last one of every subnet. */
export const RESERVED_AT_START = 4;
export const RESERVED_AT_END = 1;

export function usableRange(cidr: Ipv4Cidr): { first: number; last: number } {
  return { first: cidr.network + RESERVED_AT_START, last: lastAddress(cidr) - RESERVED_AT_END };
}

export function isReserved(cidr: Ipv4Cidr, address: number): boolean {
  const { first, last } = usableRange(cidr);
  return address < first || address > last;
}

/** Records a new subnet's usable addresses as one free range; returns how many there are. */
export async function initialiseSubnetRange(tx: Tx, subnetId: string, cidr: Ipv4Cidr): Promise<number> {
  const { first, last } = usableRange(cidr);
  await tx.insertInto('subnet_free_ranges').values({ subnet_id: subnetId, first_address: first, last_address: last }).execute();
  return last - first + 1;
}

async function adjustCount(tx: Tx, subnetId: string, delta: number): Promise<void> {
  await tx
    .updateTable('subnets')
    .set((eb) => ({ available_ip_address_count: eb('available_ip_address_count', '+', delta) }))
    .where('id', '=', subnetId)
    .execute();
}

/** Takes the lowest free address of the subnet, or undefined when the subnet is full. */
export async function allocateAny(tx: Tx, subnetId: string): Promise<number | undefined> {
  const range = await tx
    .selectFrom('subnet_free_ranges')
    .select(['first_address', 'last_address'])
    .where('subnet_id', '=', subnetId)
    .orderBy('first_address')
    .limit(1)
    .executeTakeFirst();
  if (!range) return undefined;
  const address = Number(range.first_address);
  await takeFromRange(tx, subnetId, { first: address, last: Number(range.last_address) }, address);
  return address;
}

/** Takes the given address if it is free; false when it is in use or reserved. */
export async function allocateSpecific(tx: Tx, subnetId: string, address: number): Promise<boolean> {
  const range = await tx
    .selectFrom('subnet_free_ranges')
    .select(['first_address', 'last_address'])
    .where('subnet_id', '=', subnetId)
    .where('first_address', '<=', address)
    .orderBy('first_address', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!range || Number(range.last_address) < address) return false;
  await takeFromRange(tx, subnetId, { first: Number(range.first_address), last: Number(range.last_address) }, address);
  return true;
}

/** Removes [from, to] (inside `range`) from the free ranges, splitting the range as needed. */
async function takeFromRange(tx: Tx, subnetId: string, range: { first: number; last: number }, from: number, to = from): Promise<void> {
  if (from === range.first && to < range.last) {
    // The common case, the lowest free address: one update moves the range's start.
    await tx
      .updateTable('subnet_free_ranges')
      .set({ first_address: to + 1 })
      .where('subnet_id', '=', subnetId)
      .where('first_address', '=', range.first)
      .execute();
    await adjustCount(tx, subnetId, -(to - from + 1));
    return;
  }
  await tx.deleteFrom('subnet_free_ranges').where('subnet_id', '=', subnetId).where('first_address', '=', range.first).execute();
  const pieces: { first_address: number; last_address: number }[] = [];
  if (range.first < from) pieces.push({ first_address: range.first, last_address: from - 1 });
  if (to < range.last) pieces.push({ first_address: to + 1, last_address: range.last });
  if (pieces.length) await tx.insertInto('subnet_free_ranges').values(pieces.map((p) => ({ subnet_id: subnetId, ...p }))).execute();
  await adjustCount(tx, subnetId, -(to - from + 1));
}

/**
 * Takes a free, aligned block of `size` addresses (a /28 prefix is 16), lowest first; undefined
 * when no free range holds one. Costs one pass over the ranges that are long enough.
 */
export async function allocateBlock(tx: Tx, subnetId: string, size: number): Promise<number | undefined> {
  const ranges = await tx
    .selectFrom('subnet_free_ranges')
    .select(['first_address', 'last_address'])
    .where('subnet_id', '=', subnetId)
    .where((eb) => eb(eb('last_address', '-', eb.ref('first_address')), '>=', size - 1))
    .orderBy('first_address')
    .execute();
  for (const r of ranges) {
    const first = Number(r.first_address);
    const last = Number(r.last_address);
    const start = Math.ceil(first / size) * size;
    if (start + size - 1 <= last) {
      await takeFromRange(tx, subnetId, { first, last }, start, start + size - 1);
      return start;
    }
  }
  return undefined;
}

/** Takes a given aligned block if every address of it is free. */
export async function allocateSpecificBlock(tx: Tx, subnetId: string, start: number, size: number): Promise<boolean> {
  const range = await tx
    .selectFrom('subnet_free_ranges')
    .select(['first_address', 'last_address'])
    .where('subnet_id', '=', subnetId)
    .where('first_address', '<=', start)
    .orderBy('first_address', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!range || Number(range.last_address) < start + size - 1) return false;
  await takeFromRange(tx, subnetId, { first: Number(range.first_address), last: Number(range.last_address) }, start, start + size - 1);
  return true;
}

/** Gives back a block of addresses (a released prefix). */
export async function releaseBlock(tx: Tx, subnetId: string, start: number, size: number): Promise<void> {
  for (let a = start; a < start + size; a++) await release(tx, subnetId, a);
}

/** Gives an address back, merging it with the free ranges on either side. */
export async function release(tx: Tx, subnetId: string, address: number): Promise<void> {
  const [left, right] = await inOrder(
    () => tx.selectFrom('subnet_free_ranges').select(['first_address']).where('subnet_id', '=', subnetId).where('last_address', '=', address - 1).executeTakeFirst(),
    () => tx.selectFrom('subnet_free_ranges').select(['last_address']).where('subnet_id', '=', subnetId).where('first_address', '=', address + 1).executeTakeFirst(),
  );
  if (left && right) {
    // Delete the right range first: the left one then takes its end, which must stay unique.
    await tx.deleteFrom('subnet_free_ranges').where('subnet_id', '=', subnetId).where('first_address', '=', address + 1).execute();
    await tx
      .updateTable('subnet_free_ranges')
      .set({ last_address: Number(right.last_address) })
      .where('subnet_id', '=', subnetId)
      .where('first_address', '=', Number(left.first_address))
      .execute();
  } else if (left) {
    await tx
      .updateTable('subnet_free_ranges')
      .set({ last_address: address })
      .where('subnet_id', '=', subnetId)
      .where('first_address', '=', Number(left.first_address))
      .execute();
  } else if (right) {
    await tx
      .updateTable('subnet_free_ranges')
      .set({ first_address: address })
      .where('subnet_id', '=', subnetId)
      .where('first_address', '=', address + 1)
      .execute();
  } else {
    await tx.insertInto('subnet_free_ranges').values({ subnet_id: subnetId, first_address: address, last_address: address }).execute();
  }
  await adjustCount(tx, subnetId, 1);
}
