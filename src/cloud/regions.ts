/**
 * Regions and Availability Zones: DescribeRegions, DescribeAvailabilityZones, and the
 * DescribeAccountAttributes answers tools such as Terraform read at start.
 * Every region has six zones, `<region>a` … `<region>f`, with AWS-style zone ids (`use1-az1`).
 */
import type {
  AvailabilityZone,
  DescribeAccountAttributesRequest,
  DescribeAccountAttributesResult,
  DescribeAvailabilityZonesRequest,
  DescribeAvailabilityZonesResult,
  DescribeRegionsRequest,
  DescribeRegionsResult,
  Region,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { filterCatalogue } from './catalogue-filter.ts';
import type { Context } from './context.ts';
import { defaultVpcId } from './vpcs.ts';

/** AWS's commercial regions that need no opt-in, plus the common opt-in ones. */
export const REGIONS: readonly { name: string; optIn: boolean }[] = [
  ...['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'eu-central-1', 'eu-west-1', 'eu-west-2',
    'eu-west-3', 'eu-north-1', 'ap-south-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1',
    'ap-southeast-2', 'sa-east-1'].map((name) => ({ name, optIn: false })),
  ...['af-south-1', 'ap-east-1', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'eu-south-1', 'eu-south-2',
    'eu-central-2', 'me-south-1', 'me-central-1', 'il-central-1', 'ca-west-1'].map((name) => ({ name, optIn: true })),
];

const ZONE_LETTERS = ['a', 'b', 'c', 'd', 'e', 'f'];

const DIRECTION_ABBREVIATIONS: Record<string, string> = {
  east: 'e', west: 'w', north: 'n', south: 's', central: 'c', northeast: 'ne', northwest: 'nw', southeast: 'se', southwest: 'sw',
};

/** `us-east-1` → `use1`, `ap-southeast-2` → `apse2`: the prefix of AWS zone ids. */
export function regionAbbreviation(region: string): string {
  const [area, direction, number] = region.split('-');
  const abbreviation = direction !== undefined && Object.hasOwn(DIRECTION_ABBREVIATIONS, direction) ? DIRECTION_ABBREVIATIONS[direction] : undefined;
  return `${area}${abbreviation ?? direction?.charAt(0) ?? ''}${number ?? ''}`;
}

export function isKnownRegion(region: string): boolean {
  return REGIONS.some((r) => r.name === region);
}

export interface Zone {
  name: string;
  id: string;
}

export function zonesOf(region: string): Zone[] {
  const abbreviation = regionAbbreviation(region);
  return ZONE_LETTERS.map((letter, i) => ({ name: `${region}${letter}`, id: `${abbreviation}-az${i + 1}` }));
}

/** The zone named by an AvailabilityZone or AvailabilityZoneId parameter, or InvalidParameterValue. */
export function findZone(region: string, by: { name?: string; id?: string }): Zone {
  const zones = zonesOf(region);
  if (by.name !== undefined && by.id !== undefined) {
    throw Errors.invalidParameterCombination('Only one of AvailabilityZone or AvailabilityZoneId may be specified.');
  }
  const zone = by.name !== undefined ? zones.find((z) => z.name === by.name) : zones.find((z) => z.id === by.id);
  if (!zone) {
    const value = by.name ?? by.id ?? '';
    throw Errors.invalidParameterValueFor(by.name !== undefined ? 'AvailabilityZone' : 'AvailabilityZoneId', value);
  }
  return zone;
}

const endpointOf = (region: string) => `ec2.${region}.amazonaws.com`;

export async function describeRegions(_ctx: Context, input: DescribeRegionsRequest): Promise<DescribeRegionsResult> {
  const all: Region[] = REGIONS.map((r) => ({
    RegionName: r.name,
    Endpoint: endpointOf(r.name),
    OptInStatus: r.optIn ? 'not-opted-in' : 'opt-in-not-required',
  }));
  let regions = input.AllRegions ? all : all.filter((r) => r.OptInStatus !== 'not-opted-in');
  if (input.RegionNames?.length) {
    for (const name of input.RegionNames) {
      if (!all.some((r) => r.RegionName === name)) throw Errors.invalidParameterValueFor('RegionName', name);
    }
    regions = all.filter((r) => input.RegionNames!.includes(r.RegionName!));
  }
  return {
    Regions: filterCatalogue(regions, input.Filters, {
      endpoint: (r) => r.Endpoint,
      'region-name': (r) => r.RegionName,
      'opt-in-status': (r) => r.OptInStatus,
    }),
  };
}

export async function describeAvailabilityZones(
  ctx: Context,
  input: DescribeAvailabilityZonesRequest,
): Promise<DescribeAvailabilityZonesResult> {
  let zones: AvailabilityZone[] = zonesOf(ctx.region).map((z) => ({
    ZoneName: z.name,
    ZoneId: z.id,
    State: 'available',
    RegionName: ctx.region,
    ZoneType: 'availability-zone',
    OptInStatus: 'opt-in-not-required',
    GroupName: ctx.region,
    NetworkBorderGroup: ctx.region,
    GroupLongName: ctx.region,
    Messages: [],
  }));
  for (const name of input.ZoneNames ?? []) findZone(ctx.region, { name });
  for (const id of input.ZoneIds ?? []) findZone(ctx.region, { id });
  if (input.ZoneNames?.length || input.ZoneIds?.length) {
    zones = zones.filter((z) => input.ZoneNames?.includes(z.ZoneName!) || input.ZoneIds?.includes(z.ZoneId!));
  }
  return {
    AvailabilityZones: filterCatalogue(zones, input.Filters, {
      'zone-name': (z) => z.ZoneName,
      'zone-id': (z) => z.ZoneId,
      'zone-type': (z) => z.ZoneType,
      state: (z) => z.State,
      'region-name': (z) => z.RegionName,
      'group-name': (z) => z.GroupName,
      'opt-in-status': (z) => z.OptInStatus,
      'network-border-group': (z) => z.NetworkBorderGroup,
      message: () => [],
    }),
  };
}

export async function describeAccountAttributes(
  ctx: Context,
  input: DescribeAccountAttributesRequest,
): Promise<DescribeAccountAttributesResult> {
  const defaultVpc = await defaultVpcId(ctx);
  const q = ctx.config.quotas;
  const all: Record<string, string[]> = {
    'supported-platforms': ['VPC'],
    'default-vpc': [defaultVpc ?? 'none'],
    'max-instances': ['1000'],
    'vpc-max-security-groups-per-interface': [String(q.securityGroupsPerInterface)],
    'max-elastic-ips': ['0'],
    'vpc-max-elastic-ips': [String(q.elasticIpsPerRegion)],
  };
  const names = input.AttributeNames?.length ? input.AttributeNames : Object.keys(all);
  return {
    AccountAttributes: names.map((name) => {
      // Own keys only: `toString` or `constructor` is no attribute (found by the fuzz test: a TypeError, InternalError).
      const values = Object.hasOwn(all, name) ? all[name] : undefined;
      if (!values) throw Errors.invalidParameterValueFor('AttributeName', name);
      return { AttributeName: name, AttributeValues: values.map((v) => ({ AttributeValue: v })) };
    }),
  };
}
