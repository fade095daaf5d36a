/**
 * CPU credit options of burstable (T family) instances: DescribeInstanceCreditSpecifications.
 * Terraform's aws_instance reads it back after every launch of a T instance.
 *
 * AWS: T2 instances launch `standard`, T3, T3a and T4g `unlimited` by default; with instance ids
 * the answer lists those of the instances that are burstable (every id must exist), without ids
 * the burstable instances whose option is `unlimited`. eni-local keeps each family's default
 * (no ModifyInstanceCreditSpecification, and RunInstances' CreditSpecification is not kept).
 */
import type {
  DescribeInstanceCreditSpecificationsRequest,
  DescribeInstanceCreditSpecificationsResult,
  InstanceCreditSpecification,
} from '@aws-sdk/client-ec2';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row } from '../store/schema.ts';
import type { Context } from './context.ts';
import { Errors } from './errors.ts';
import { isBurstable } from './instance-types.ts';
import { checkIds } from './rules/ids.ts';

const CREDIT_FILTERS: FilterSpec = { 'instance-id': { column: 'id' } };

/** A burstable type's default credit option (AWS: `standard` for T2, `unlimited` for later T families). */
export function defaultCpuCredits(instanceType: string): 'standard' | 'unlimited' {
  return instanceType.startsWith('t2.') ? 'standard' : 'unlimited';
}

export async function describeInstanceCreditSpecifications(
  ctx: Context,
  input: DescribeInstanceCreditSpecificationsRequest,
): Promise<DescribeInstanceCreditSpecificationsResult> {
  const ids = input.InstanceIds ?? [];
  checkIds('i', Errors.instanceId, ids);
  if (ids.length && input.MaxResults !== undefined) {
    throw Errors.invalidParameterCombination('The parameter instancesSet cannot be used with the parameter maxResults');
  }
  const page = await describeRows<Row<'instances'>>(ctx.tx, {
    table: 'instances',
    account: ctx.account,
    region: ctx.region,
    ids,
    idErrors: Errors.instanceId,
    filters: input.Filters,
    spec: CREDIT_FILTERS,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  const specifications: InstanceCreditSpecification[] = page.rows
    .filter((row) => row.state !== 'terminated' && isBurstable(row.instance_type))
    .map((row) => ({ InstanceId: row.id, CpuCredits: defaultCpuCredits(row.instance_type) }))
    .filter((spec) => ids.length > 0 || spec.CpuCredits === 'unlimited');
  return { InstanceCreditSpecifications: specifications, NextToken: page.nextToken };
}
