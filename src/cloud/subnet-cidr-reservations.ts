/**
 * Subnet CIDR reservations: CreateSubnetCidrReservation, GetSubnetCidrReservations,
 * DeleteSubnetCidrReservation.
 *
 * AWS: a reservation is an IPv4 or IPv6 range inside its subnet's block; the reservations of a
 * VPC never overlap; the range may hold addresses already in use (nothing is unassigned, and
 * deleting the reservation unassigns nothing either). AWS never picks an address of a reserved
 * range on its own (a count of secondary addresses, an automatic primary address, an
 * automatic IPv6 address); the caller may still name one (`explicit`: "you assign the reserved
 * addresses"). Delegated prefixes asked for by count come from the subnet's `prefix`
 * reservations (src/ipam/allocator.ts, cloud/ipv6.ts). A subnet's reservations go with it.
 */
import type {
  CreateSubnetCidrReservationRequest,
  CreateSubnetCidrReservationResult,
  DeleteSubnetCidrReservationRequest,
  DeleteSubnetCidrReservationResult,
  GetSubnetCidrReservationsRequest,
  GetSubnetCidrReservationsResult,
  SubnetCidrReservation,
} from '@aws-sdk/client-ec2';
import { containsCidr, formatIpv4Cidr, lastAddress, overlaps, parseIpv4Cidr } from '../ipam/ipv4.ts';
import { containsCidr6, formatIpv6Cidr, lastAddress6, parseIpv6Cidr, type Ipv6Cidr } from '../ipam/ipv6.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { Errors } from './errors.ts';
import { getOwned } from './owned.ts';
import { checkIds, newId } from './rules/ids.ts';
import { checkMaxResults } from './rules/paging.ts';
import { getSubnet, isIpv6Only } from './subnets.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';

type ReservationRow = Row<'subnet_cidr_reservations'>;

const RESERVATION_TYPES = ['prefix', 'explicit'] as const;

const RESERVATION_FILTERS: FilterSpec = {
  reservationType: { column: 'reservation_type' },
  'reservation-type': { column: 'reservation_type' },
  'subnet-id': { column: 'subnet_id' },
  'owner-id': { column: 'account_id' },
  cidr: { column: 'cidr' },
  'subnet-cidr-reservation-id': { column: 'id' },
};

/** AWS: a description of at most 255 characters. */
const MAX_DESCRIPTION = 255;

function overlaps6(a: Ipv6Cidr, b: Ipv6Cidr): boolean {
  return a.network <= lastAddress6(b) && b.network <= lastAddress6(a);
}

/** The reservation's range, checked against its subnet's block, in canonical form. */
function parseReservation(subnet: Row<'subnets'>, text: string): { family: 4 | 6; cidr: string; first?: number; last?: number } {
  const v4 = parseIpv4Cidr(text);
  if (v4) {
    const cidr = formatIpv4Cidr(v4);
    if (isIpv6Only(subnet) || !containsCidr(parseIpv4Cidr(subnet.cidr_block)!, v4)) {
      throw Errors.invalidParameterValue(`The CIDR ${cidr} is not within the CIDR block of subnet ${subnet.id}.`);
    }
    return { family: 4, cidr, first: v4.network, last: lastAddress(v4) };
  }
  const v6 = parseIpv6Cidr(text);
  if (!v6) throw Errors.invalidParameterValueFor('Cidr', text, 'This is not a valid CIDR block.');
  const cidr = formatIpv6Cidr(v6);
  if (!subnet.ipv6_cidr_block || !containsCidr6(parseIpv6Cidr(subnet.ipv6_cidr_block)!, v6)) {
    throw Errors.invalidParameterValue(`The CIDR ${cidr} is not within the IPv6 CIDR block of subnet ${subnet.id}.`);
  }
  return { family: 6, cidr };
}

export async function createSubnetCidrReservation(ctx: Context, input: CreateSubnetCidrReservationRequest): Promise<CreateSubnetCidrReservationResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['subnet-cidr-reservation']);
  if (input.Cidr === undefined) throw Errors.missingParameter('Cidr');
  if (input.ReservationType === undefined) throw Errors.missingParameter('ReservationType');
  if (!(RESERVATION_TYPES as readonly string[]).includes(input.ReservationType)) throw Errors.invalidParameterValueFor('ReservationType', input.ReservationType);
  if (input.Description !== undefined && input.Description.length > MAX_DESCRIPTION) {
    throw Errors.invalidParameterValueFor('Description', input.Description, `The description is at most ${MAX_DESCRIPTION} characters.`);
  }
  const subnet = await getSubnet(ctx, input.SubnetId);
  const range = parseReservation(subnet, input.Cidr);
  // AWS: the reservations of a VPC never overlap.
  const siblings = await ctx.tx.selectFrom('subnet_cidr_reservations').selectAll().where('vpc_id', '=', subnet.vpc_id).where('family', '=', range.family).execute();
  const clash = siblings.find((r) =>
    range.family === 4 ? overlaps(parseIpv4Cidr(r.cidr)!, parseIpv4Cidr(range.cidr)!) : overlaps6(parseIpv6Cidr(r.cidr)!, parseIpv6Cidr(range.cidr)!),
  );
  if (clash) throw Errors.invalidParameterValue(`The CIDR ${range.cidr} overlaps the subnet CIDR reservation ${clash.id} (${clash.cidr}).`);
  const id = newId('scr');
  await ctx.tx
    .insertInto('subnet_cidr_reservations')
    .values({
      id,
      account_id: ctx.account,
      region: ctx.region,
      subnet_id: subnet.id,
      vpc_id: subnet.vpc_id,
      cidr: range.cidr,
      family: range.family,
      reservation_type: input.ReservationType,
      description: input.Description ?? null,
      first_address: range.first ?? null,
      last_address: range.last ?? null,
      created_at: ctx.now.toISOString(),
    })
    .execute();
  await applyTagSpecifications(ctx, 'subnet-cidr-reservation', id, input.TagSpecifications);
  return { SubnetCidrReservation: (await reservationsOf(ctx.tx, [await getReservation(ctx, id)]))[0] };
}

async function getReservation(ctx: Context, id: string | undefined): Promise<ReservationRow> {
  return getOwned(ctx, { table: 'subnet_cidr_reservations', prefix: 'scr', errors: Errors.subnetCidrReservationId }, id, 'SubnetCidrReservationId');
}

async function reservationsOf(tx: Tx, rows: ReservationRow[]): Promise<SubnetCidrReservation[]> {
  const tags = await tagsOf(tx, rows.map((r) => r.id));
  return rows.map((row) => ({
    SubnetCidrReservationId: row.id,
    SubnetId: row.subnet_id,
    Cidr: row.cidr,
    ReservationType: row.reservation_type as SubnetCidrReservation['ReservationType'],
    OwnerId: row.account_id,
    Description: row.description ?? undefined,
    Tags: tags.get(row.id) ?? [],
  }));
}

export async function getSubnetCidrReservations(ctx: Context, input: GetSubnetCidrReservationsRequest): Promise<GetSubnetCidrReservationsResult> {
  const subnet = await getSubnet(ctx, input.SubnetId);
  checkMaxResults(input.MaxResults);
  const page = await describeRows<ReservationRow>(ctx.tx, {
    table: 'subnet_cidr_reservations',
    account: ctx.account,
    region: ctx.region,
    idErrors: Errors.subnetCidrReservationId,
    filters: [...(input.Filters ?? []), { Name: 'subnet-id', Values: [subnet.id] }],
    spec: RESERVATION_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  const shown = await reservationsOf(ctx.tx, page.rows);
  return {
    SubnetIpv4CidrReservations: shown.filter((_, i) => Number(page.rows[i].family) === 4),
    SubnetIpv6CidrReservations: shown.filter((_, i) => Number(page.rows[i].family) === 6),
    NextToken: page.nextToken,
  };
}

export async function deleteSubnetCidrReservation(ctx: Context, input: DeleteSubnetCidrReservationRequest): Promise<DeleteSubnetCidrReservationResult> {
  if (input.SubnetCidrReservationId !== undefined) checkIds('scr', Errors.subnetCidrReservationId, [input.SubnetCidrReservationId]);
  const row = await getReservation(ctx, input.SubnetCidrReservationId);
  const [shown] = await reservationsOf(ctx.tx, [row]);
  // AWS: the addresses in use in the range stay assigned.
  await ctx.tx.deleteFrom('subnet_cidr_reservations').where('id', '=', row.id).execute();
  await deleteAllTags(ctx, row.id);
  return { DeletedSubnetCidrReservation: shown };
}

/** The reservations of a subnet go with it. */
export async function forgetSubnetReservations(ctx: Context, subnetId: string): Promise<void> {
  const rows = await ctx.tx.selectFrom('subnet_cidr_reservations').select('id').where('subnet_id', '=', subnetId).execute();
  for (const row of rows) await deleteAllTags(ctx, row.id);
  await ctx.tx.deleteFrom('subnet_cidr_reservations').where('subnet_id', '=', subnetId).execute();
}

/** A subnet's IPv6 reservations, for the IPv6 picks (few rows: read once per assignment). */
export async function ipv6ReservationsOf(tx: Tx, subnetId: string): Promise<{ cidr: Ipv6Cidr; prefix: boolean }[]> {
  const rows = await tx.selectFrom('subnet_cidr_reservations').select(['cidr', 'reservation_type']).where('subnet_id', '=', subnetId).where('family', '=', 6).orderBy('cidr').execute();
  return rows.map((r) => ({ cidr: parseIpv6Cidr(r.cidr)!, prefix: r.reservation_type === 'prefix' }));
}
