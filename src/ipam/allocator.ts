/**
 * The IPv4 allocator of a subnet. The free addresses are kept as disjoint ranges
 * (table subnet_free_ranges, indexed on both ends), so taking the lowest free address, taking a
 * given one and giving one back each cost a few indexed lookups however full the subnet is —
 * never a scan of the used addresses. The subnet's availableIpAddressCount is kept exact in
 * the same transaction.
 */
import type { Row, Tx } from '../store/schema.ts';
import { selectEach, selectFirst, write, selectRows, rowsText } from '../store/sql-text.ts';
import type { Ipv4Cidr } from './ipv4.ts';
import { lastAddress } from './ipv4.ts';

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

type FreeRange = Pick<Row<'subnet_free_ranges'>, 'first_address' | 'last_address'>;

const ADJUST_COUNT = 'update "subnets" set "available_ip_address_count" = "available_ip_address_count" + ? where "id" = ?';

async function adjustCount(tx: Tx, subnetId: string, delta: number): Promise<void> {
  await write(tx, ADJUST_COUNT, [delta, subnetId]);
}


type Reserved = { first_address: number | string; last_address: number | string };
/** The lowest reserved IPv4 range of the subnet that ends at or after an address and starts at or before another. */
const RESERVED_BETWEEN =
  'select "first_address", "last_address" from "subnet_cidr_reservations" where "subnet_id" = ? and "family" = 4 and "last_address" >= ? and "first_address" <= ? ' +
  'order by "first_address" limit 1';
/** The subnet's lowest free range, and whether it has reservations; the subnet given as an SQL expression. */
const lowestRangeText = (subnet: string) =>
  `select "first_address", "last_address", (select count(*) from "subnet_cidr_reservations" where "subnet_id" = ${subnet} and "family" = 4) as "reserved" ` +
  `from "subnet_free_ranges" where "subnet_id" = ${subnet} order by "first_address" limit 1`;
const LOWEST_RANGE_AND_RESERVED = lowestRangeText('?');
const LOWEST_RANGE_OF_INTERFACE = lowestRangeText('(select "subnet_id" from "network_interfaces" where "id" = ?)');

/** What allocateAny looks up first: the lowest free range (none when the subnet is full). */
export interface LookedUp {
  lowest: (FreeRange & { reserved: number | string }) | undefined;
}

/**
 * allocateAny's first lookup for the subnet of interface `eniId`, for a caller to fetch beside
 * its other lookups (one round trip on PostgreSQL) and hand to allocateAny. Valid for the
 * transaction's first allocation in that subnet only, as nothing in between may change the
 * subnet's free ranges.
 */
export async function lookUpForInterface(tx: Tx, eniId: string): Promise<LookedUp> {
  return { lowest: await selectFirst(tx, LOWEST_RANGE_OF_INTERFACE, [eniId, eniId]) };
}

/** The same for a subnet named by its id (see lookUpForInterface). */
export async function lookUpForSubnet(tx: Tx, subnetId: string): Promise<LookedUp> {
  return { lowest: await selectFirst(tx, LOWEST_RANGE_AND_RESERVED, [subnetId, subnetId]) };
}
const RANGE_AFTER = 'select "first_address", "last_address" from "subnet_free_ranges" where "subnet_id" = ? and "first_address" > ? order by "first_address" limit 1';

/**
 * Takes the lowest free address of the subnet outside its CIDR reservations (AWS never picks a
 * reserved address on its own; the caller may still name one), or undefined when there is none.
 * Without reservations this costs what it did before: one query (which also counts them), or
 * none when the caller looked it up already (`looked`, see lookUpForInterface).
 */
export async function allocateAny(tx: Tx, subnetId: string, looked?: LookedUp): Promise<number | undefined> {
  const { lowest } = looked ?? (await lookUpForSubnet(tx, subnetId));
  let range: FreeRange | undefined = lowest;
  if (lowest && !Number(lowest.reserved)) {
    // No reservation in the subnet (the common case): the lowest free address, in one round trip.
    const address = Number(lowest.first_address);
    await takeFromRange(tx, subnetId, { first: address, last: Number(lowest.last_address) }, address);
    return address;
  }
  while (range) {
    const first = Number(range.first_address);
    const last = Number(range.last_address);
    let candidate = first;
    for (;;) {
      const reserved = await selectFirst<Reserved>(tx, RESERVED_BETWEEN, [subnetId, candidate, last]);
      if (!reserved || Number(reserved.first_address) > candidate) break;
      candidate = Number(reserved.last_address) + 1;
      if (candidate > last) break;
    }
    if (candidate <= last) {
      await takeFromRange(tx, subnetId, { first, last }, candidate);
      return candidate;
    }
    range = await selectFirst<FreeRange>(tx, RANGE_AFTER, [subnetId, first]);
  }
  return undefined;
}

/** The free range starting at or below an address (the one holding it, if it is free). */
const RANGE_AT_OR_BELOW =
  'select "first_address", "last_address" from "subnet_free_ranges" where "subnet_id" = ? and "first_address" <= ? order by "first_address" desc limit 1';

/** Takes the given address if it is free; false when it is in use or reserved. */
export async function allocateSpecific(tx: Tx, subnetId: string, address: number): Promise<boolean> {
  const range = await selectFirst<FreeRange>(tx, RANGE_AT_OR_BELOW, [subnetId, address]);
  if (!range || Number(range.last_address) < address) return false;
  await takeFromRange(tx, subnetId, { first: Number(range.first_address), last: Number(range.last_address) }, address);
  return true;
}

const MOVE_RANGE_START = 'update "subnet_free_ranges" set "first_address" = ? where "subnet_id" = ? and "first_address" = ?';
const MOVE_RANGE_END = 'update "subnet_free_ranges" set "last_address" = ? where "subnet_id" = ? and "first_address" = ?';
const DELETE_RANGE = 'delete from "subnet_free_ranges" where "subnet_id" = ? and "first_address" = ?';
const INSERT_RANGES = rowsText(3, (rows) => `insert into "subnet_free_ranges" ("subnet_id", "first_address", "last_address") values ${rows}`);

/** Removes [from, to] (inside `range`) from the free ranges, splitting the range as needed. */
async function takeFromRange(tx: Tx, subnetId: string, range: { first: number; last: number }, from: number, to = from): Promise<void> {
  if (from === range.first && to < range.last) {
    // The common case, the lowest free address: one update moves the range's start.
    await write(tx, MOVE_RANGE_START, [to + 1, subnetId, range.first]);
    await adjustCount(tx, subnetId, -(to - from + 1));
    return;
  }
  await write(tx, DELETE_RANGE, [subnetId, range.first]);
  const pieces: [string, number, number][] = [];
  if (range.first < from) pieces.push([subnetId, range.first, from - 1]);
  if (to < range.last) pieces.push([subnetId, to + 1, range.last]);
  if (pieces.length) await write(tx, INSERT_RANGES(pieces.length), pieces.flat());
  await adjustCount(tx, subnetId, -(to - from + 1));
}

/** The free ranges of at least n addresses (last - first >= n - 1), lowest first. */
const RANGES_OF_LENGTH =
  'select "first_address", "last_address" from "subnet_free_ranges" where "subnet_id" = ? and "last_address" - "first_address" >= ? order by "first_address"';

/**
 * Takes a free, aligned block of `size` addresses (a /28 prefix is 16), lowest first; undefined
 * when no free range holds one. Costs one pass over the ranges that are long enough.
 */
export async function allocateBlock(tx: Tx, subnetId: string, size: number): Promise<number | undefined> {
  const ranges = await selectRows<FreeRange>(tx, RANGES_OF_LENGTH, [subnetId, size - 1]);
  const reserved = (await selectRows<Reserved & { reservation_type: string }>(tx, RESERVED_OF_SUBNET, [subnetId])).map((r) => ({
    first: Number(r.first_address),
    last: Number(r.last_address),
    prefix: r.reservation_type === 'prefix',
  }));
  // AWS: prefixes asked for by count come from the subnet's `prefix` reservations first; never
  // from an `explicit` one; then from the unreserved addresses.
  const areas = [...reserved.filter((r) => r.prefix), undefined];
  for (const area of areas) {
    for (const r of ranges) {
      const first = Math.max(Number(r.first_address), area?.first ?? 0);
      const last = Math.min(Number(r.last_address), area?.last ?? Number.MAX_SAFE_INTEGER);
      let start = Math.ceil(first / size) * size;
      while (start + size - 1 <= last) {
        const end = start + size - 1;
        const clash = area ? undefined : reserved.find((x) => x.first <= end && x.last >= start);
        if (!clash) {
          await takeFromRange(tx, subnetId, { first: Number(r.first_address), last: Number(r.last_address) }, start, end);
          return start;
        }
        start = Math.ceil((clash.last + 1) / size) * size;
      }
    }
  }
  return undefined;
}

const RESERVED_OF_SUBNET =
  'select "first_address", "last_address", "reservation_type" from "subnet_cidr_reservations" where "subnet_id" = ? and "family" = 4 order by "first_address"';

/** Takes a given aligned block if every address of it is free. */
export async function allocateSpecificBlock(tx: Tx, subnetId: string, start: number, size: number): Promise<boolean> {
  const range = await selectFirst<FreeRange>(tx, RANGE_AT_OR_BELOW, [subnetId, start]);
  if (!range || Number(range.last_address) < start + size - 1) return false;
  await takeFromRange(tx, subnetId, { first: Number(range.first_address), last: Number(range.last_address) }, start, start + size - 1);
  return true;
}

/** Gives back a block of addresses (a released prefix). */
export async function releaseBlock(tx: Tx, subnetId: string, start: number, size: number): Promise<void> {
  for (let a = start; a < start + size; a++) await release(tx, subnetId, a);
}

const RANGE_ENDING_AT = 'select "first_address" from "subnet_free_ranges" where "subnet_id" = ? and "last_address" = ?';
const RANGE_STARTING_AT = 'select "last_address" from "subnet_free_ranges" where "subnet_id" = ? and "first_address" = ?';

/** What release looks up first: the free ranges on either side of an address, in the subnet named. */
export interface Neighbours {
  subnetId: string | undefined;
  address: number;
  left: Pick<FreeRange, 'first_address'> | undefined;
  right: Pick<FreeRange, 'last_address'> | undefined;
}

const NEIGHBOURS_IN_SUBNET_OF_INTERFACE =
  'select "n"."subnet_id" as "subnet", ' +
  '(select "first_address" from "subnet_free_ranges" where "subnet_id" = "n"."subnet_id" and "last_address" = ?) as "left_first", ' +
  '(select "last_address" from "subnet_free_ranges" where "subnet_id" = "n"."subnet_id" and "first_address" = ?) as "right_last" ' +
  'from "network_interfaces" as "n" where "n"."id" = ?';

/**
 * release's first lookup, for an address given back to the subnet of interface `eniId`: for a
 * caller to fetch beside its other lookups (one round trip on PostgreSQL) and hand to release.
 * Valid for the transaction's first change to that subnet's free ranges only (see
 * lookUpForInterface); release uses it only for the subnet and address it was made for.
 */
export async function lookUpForRelease(tx: Tx, eniId: string, address: number): Promise<Neighbours> {
  const row = await selectFirst<{ subnet: string; left_first: number | string | null; right_last: number | string | null }>(tx, NEIGHBOURS_IN_SUBNET_OF_INTERFACE, [
    address - 1,
    address + 1,
    eniId,
  ]);
  const left = row?.left_first ?? undefined;
  const right = row?.right_last ?? undefined;
  return {
    subnetId: row?.subnet,
    address,
    left: left === undefined ? undefined : { first_address: Number(left) },
    right: right === undefined ? undefined : { last_address: Number(right) },
  };
}

/** Gives an address back, merging it with the free ranges on either side (looked up already: `looked`, see lookUpForRelease). */
export async function release(tx: Tx, subnetId: string, address: number, looked?: Neighbours): Promise<void> {
  const { left, right } = looked && looked.subnetId === subnetId && looked.address === address ? looked : await neighbours(tx, subnetId, address);
  if (left && right) {
    // Delete the right range first: the left one then takes its end, which must stay unique.
    await write(tx, DELETE_RANGE, [subnetId, address + 1]);
    await write(tx, MOVE_RANGE_END, [Number(right.last_address), subnetId, Number(left.first_address)]);
  } else if (left) {
    await write(tx, MOVE_RANGE_END, [address, subnetId, Number(left.first_address)]);
  } else if (right) {
    await write(tx, MOVE_RANGE_START, [address, subnetId, address + 1]);
  } else {
    await write(tx, INSERT_RANGES(1), [subnetId, address, address]);
  }
  await adjustCount(tx, subnetId, 1);
}

async function neighbours(tx: Tx, subnetId: string, address: number): Promise<Pick<Neighbours, 'left' | 'right'>> {
  // Both at once (one round trip on PostgreSQL).
  const [[left], [right]] = (await selectEach(tx, [
    [RANGE_ENDING_AT, [subnetId, address - 1]],
    [RANGE_STARTING_AT, [subnetId, address + 1]],
  ])) as [Pick<FreeRange, 'first_address'>[], Pick<FreeRange, 'last_address'>[]];
  return { left, right };
}
