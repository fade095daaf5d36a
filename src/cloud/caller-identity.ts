/**
 * Who the caller is, as STS GetCallerIdentity tells it: the account the access key belongs to and
 * an ARN naming the key. Tools ask this for the account id (Terraform's AWS provider unless
 * `skip_requesting_account_id`, Ansible's amazon.aws modules) and read the partition off the ARN.
 *
 * eni-local has no IAM users: a key is described as a user of its account named after the key
 * (`arn:aws:iam::000000000000:user/AKIDTEST`, UserId the key); an unsigned request (open mode) as the
 * account's root (`arn:aws:iam::000000000000:root`, UserId the account id), as AWS shows root keys.
 */

export interface Caller {
  account: string;
  region: string;
  accessKeyId?: string;
}

export interface CallerIdentity {
  Account: string;
  Arn: string;
  UserId: string;
}

/** The AWS partition a region belongs to: what an ARN's second field says. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

export function callerIdentity(caller: Caller): CallerIdentity {
  const partition = partitionOf(caller.region);
  if (caller.accessKeyId === undefined) {
    return { Account: caller.account, Arn: `arn:${partition}:iam::${caller.account}:root`, UserId: caller.account };
  }
  return { Account: caller.account, Arn: `arn:${partition}:iam::${caller.account}:user/${caller.accessKeyId}`, UserId: caller.accessKeyId };
}
