/**
 * The AWS-managed prefix lists every region has, as static data (like the instance-type
 * catalogue): their ids, names and entries. Read by the rules (cloud/prefix-lists.ts) and by
 * the data plane, which evaluates security group rules and routes that reference them. Ids are
 * per region, so a list is always looked up with the region of the caller.
 */
import { createHash } from 'node:crypto';

export const AWS_OWNER = 'AWS';

/** A prefix list as the rules see it, whoever owns it. */
export interface PrefixList {
  id: string;
  name: string;
  addressFamily: 'IPv4' | 'IPv6';
  maxEntries: number;
  version: number;
  state: string;
  stateMessage?: string;
  ownerId: string;
  region: string;
  awsManaged: boolean;
}

export interface AwsManagedList extends PrefixList {
  entries: readonly string[];
}

/**
 * The AWS-managed lists of a region. Their ids in us-east-1 are AWS's own there (Terraform and
 * docs show them); elsewhere they are derived from region and name, so they never change.
 * Their entries are a representative subset of the services' published ranges.
 */
const AWS_SERVICES: readonly { name: (region: string) => string; entries: readonly string[]; ids: Record<string, string> }[] = [
  {
    name: (region) => `com.amazonaws.${region}.s3`,
    entries: ['3.5.0.0/19', '16.182.0.0/16', '18.34.0.0/19', '18.34.232.0/21', '52.216.0.0/15', '54.231.0.0/16'],
    ids: { 'us-east-1': 'pl-63a5400a' },
  },
  {
    name: (region) => `com.amazonaws.${region}.dynamodb`,
    entries: ['3.218.180.0/22', '52.94.0.0/22', '52.119.224.0/20'],
    ids: { 'us-east-1': 'pl-02cd2c6b' },
  },
  {
    name: () => 'com.amazonaws.global.cloudfront.origin-facing',
    entries: ['3.172.64.0/18', '13.32.0.0/15', '52.84.0.0/15', '54.230.0.0/17', '64.252.64.0/18', '130.176.0.0/17'],
    ids: { 'us-east-1': 'pl-3b927c52' },
  },
];

function awsListId(region: string, name: string, ids: Record<string, string>): string {
  return ids[region] ?? `pl-${createHash('sha256').update(`${region}/${name}`).digest('hex').slice(0, 8)}`;
}

export function awsManagedListsOf(region: string): AwsManagedList[] {
  return AWS_SERVICES.map((service) => {
    const name = service.name(region);
    return {
      id: awsListId(region, name, service.ids),
      name,
      addressFamily: 'IPv4',
      maxEntries: service.entries.length,
      version: 1,
      state: 'create-complete',
      ownerId: AWS_OWNER,
      region,
      awsManaged: true,
      entries: service.entries,
    };
  });
}

/** A region's AWS-managed list with this id, if it is one. */
export function awsManagedList(region: string, id: string): AwsManagedList | undefined {
  return awsManagedListsOf(region).find((l) => l.id === id);
}
