/**
 * An Elastic IP's attributes: its reverse DNS (PTR) record, `domain-name` —
 * DescribeAddressesAttribute, ModifyAddressAttribute, ResetAddressAttribute.
 *
 * AWS: every Elastic IP has a PTR record, AWS's own name for the address
 * (`ec2-198-18-0-1.compute-1.amazonaws.com.`) until the owner sets a domain name; a change is
 * answered as an update `PENDING` (PtrRecordUpdate) and takes effect a while later, when the
 * record is the new name (with its final dot) and the update is gone. Reset returns to AWS's name
 * the same way. AWS also requires the domain name to resolve forward to the address; eni-local
 * has no DNS to ask and does not check that.
 */
import type {
  AddressAttribute,
  DescribeAddressesAttributeRequest,
  DescribeAddressesAttributeResult,
  ModifyAddressAttributeRequest,
  ModifyAddressAttributeResult,
  ResetAddressAttributeRequest,
  ResetAddressAttributeResult,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import type { Row } from '../store/schema.ts';
import type { Context } from './context.ts';
import { elasticIpPage, getAddress, publicDnsName } from './addresses.ts';

type AddressRow = Row<'public_addresses'>;

/** AWS's own PTR record of a public address: its public DNS name, fully qualified. */
const defaultPtrRecord = (row: Pick<AddressRow, 'region' | 'public_ip'>) => `${publicDnsName(row.region, row.public_ip)}.`;

/** The record in effect and the update still pending, as of now (an update whose time has come is in effect). */
function ptrOf(ctx: Context, row: AddressRow): { record: string; pending?: string } {
  const due = row.ptr_update_value !== null && row.ptr_update_at !== null && row.ptr_update_at <= ctx.now.toISOString();
  const domainName = due ? row.ptr_update_value || null : row.ptr_domain_name;
  const record = domainName ?? defaultPtrRecord(row);
  if (due || row.ptr_update_value === null) return { record };
  return { record, pending: row.ptr_update_value || defaultPtrRecord(row) };
}

function attributeOf(ctx: Context, row: AddressRow): AddressAttribute {
  const { record, pending } = ptrOf(ctx, row);
  return {
    PublicIp: row.public_ip,
    AllocationId: row.allocation_id ?? undefined,
    PtrRecord: record,
    PtrRecordUpdate: pending === undefined ? undefined : { Value: pending, Status: 'PENDING' },
  };
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A domain name as a PTR record holds it: lower case, with its final dot; undefined when it is not one. */
function fullyQualified(name: string): string | undefined {
  const bare = name.toLowerCase().replace(/\.$/, '');
  if (bare.length === 0 || bare.length > 253) return undefined;
  const labels = bare.split('.');
  // AWS: a name of at least two labels (a PTR record names a host in a domain).
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return undefined;
  return `${bare}.`;
}

/**
 * Starts an update of the PTR record (`value`: the new domain name, '' AWS's own) and answers as
 * AWS does: the record in effect, and the update pending (even when it takes effect at once).
 */
async function startUpdate(ctx: Context, row: AddressRow, value: string): Promise<AddressAttribute> {
  // An update that has come due is folded into the record first, so that it is not lost.
  const { record } = ptrOf(ctx, row);
  const inEffect = record === defaultPtrRecord(row) ? null : record;
  const at = new Date(ctx.now.getTime() + ctx.config.timings.ptrRecordUpdateMs).toISOString();
  const values = { ptr_domain_name: inEffect, ptr_update_value: value, ptr_update_at: at };
  await ctx.tx.updateTable('public_addresses').set(values).where('public_ip', '=', row.public_ip).execute();
  return {
    PublicIp: row.public_ip,
    AllocationId: row.allocation_id ?? undefined,
    PtrRecord: record,
    PtrRecordUpdate: { Value: value || defaultPtrRecord(row), Status: 'PENDING' },
  };
}

export async function modifyAddressAttribute(ctx: Context, input: ModifyAddressAttributeRequest): Promise<ModifyAddressAttributeResult> {
  const row = await getAddress(ctx, { allocationId: input.AllocationId });
  if (input.DomainName === undefined) throw Errors.missingParameter('DomainName');
  const name = fullyQualified(input.DomainName);
  if (!name) throw Errors.invalidDomainName(input.DomainName);
  return { Address: await startUpdate(ctx, row, name) };
}

export async function resetAddressAttribute(ctx: Context, input: ResetAddressAttributeRequest): Promise<ResetAddressAttributeResult> {
  const row = await getAddress(ctx, { allocationId: input.AllocationId });
  return { Address: await startUpdate(ctx, row, '') };
}

export async function describeAddressesAttribute(ctx: Context, input: DescribeAddressesAttributeRequest): Promise<DescribeAddressesAttributeResult> {
  const page = await elasticIpPage(ctx, {
    allocationIds: input.AllocationIds,
    spec: { 'allocation-id': { column: 'allocation_id' } },
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { Addresses: page.rows.map((row) => attributeOf(ctx, row)), NextToken: page.nextToken };
}
