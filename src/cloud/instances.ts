/**
 * Instances as far as their network is concerned: RunInstances (with its network interfaces),
 * Start/Stop/Reboot/TerminateInstances, DescribeInstances, DescribeInstanceStatus,
 * Modify/DescribeInstanceAttribute.
 *
 * AWS: the primary interface (device index 0) is made at launch unless an existing one is
 * given, and is deleted with the instance by default; the instance's zone is its primary
 * interface's; the instance type bounds how many interfaces and addresses it takes.
 * States and codes: pending 0, running 16, shutting-down 32, terminated 48, stopping 64, stopped 80.
 */
import type {
  DescribeInstanceAttributeRequest,
  InstanceAttribute as DescribeInstanceAttributeResult,
  DescribeInstanceStatusRequest,
  DescribeInstanceStatusResult,
  DescribeInstancesRequest,
  DescribeInstancesResult,
  Instance,
  InstanceMetadataOptionsRequest,
  InstanceMetadataOptionsResponse,
  InstanceNetworkInterfaceSpecification,
  InstanceStateChange,
  InstanceStateName,
  ModifyInstanceAttributeRequest,
  ModifyInstanceMetadataOptionsRequest,
  ModifyInstanceMetadataOptionsResult,
  RebootInstancesRequest,
  Reservation,
  RunInstancesRequest,
  StartInstancesRequest,
  StartInstancesResult,
  StopInstancesRequest,
  StopInstancesResult,
  TerminateInstancesRequest,
  TerminateInstancesResult,
} from '@aws-sdk/client-ec2';
import { withLaunchTemplate } from './launch-templates.ts';
import { wildcardRegex } from './catalogue-filter.ts';
import { derivedInstanceFilter } from './instance-filters.ts';
import { Errors } from './errors.ts';
import { describeRows, type FilterField, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { assignAutoPublicIp, releaseAutoPublicIps, restoreAutoPublicIp } from './addresses.ts';
import { idempotent } from './idempotency.ts';
import {
  addressRequest,
  attachInterface,
  checkAttachment,
  createInterface,
  getInterface,
  instanceInterfacesOf,
  typeOf,
} from './network-interfaces.ts';
import { architectureOf } from './instance-types.ts';
import { findImage } from './images.ts';
import { findZone } from './regions.ts';
import { checkIds, newId } from './rules/ids.ts';
import { findInstanceType } from './rules/instance-types.ts';
import { groupsForInterface } from './security-groups.ts';
import { getSubnet, isIpv6Only } from './subnets.ts';
import { hostnameColumns, instanceDnsName, launchHostnameOptions, namePrimaryInterface, privateDnsNameOptionsOf } from './instance-hostnames.ts';
import { checkTagSpecificationTypes, applyTagSpecifications, tagsOf } from './tags.ts';
import { settleTransitions } from './transitions.ts';
import { inOrder } from '../store/in-order.ts';
import { checkMaxResults } from './rules/paging.ts';
import { getOwned } from './owned.ts';

type InstanceRow = Row<'instances'>;

export const STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const stateOf = (name: string) => ({ Code: STATE_CODES[name], Name: name as InstanceStateName });

/** AWS's default instance type when RunInstances names none. */
const DEFAULT_INSTANCE_TYPE = 'm1.small';
const MAX_LAUNCH = 1000;

/** A filter on a column of the instance's interfaces. */
const onInterfaces = (column: string, type?: 'boolean' | 'integer'): FilterField => ({ table: 'network_interfaces', foreignKey: 'instance_id', column, type });
/** A filter on a table keyed by interface (addresses, groups, public addresses). */
const viaInterfaces = (
  table: 'private_ip_addresses' | 'ipv6_addresses' | 'network_interface_groups' | 'public_addresses' | 'ipv4_prefixes',
  column: string,
  type?: 'boolean',
): FilterField => ({
  table: 'network_interfaces',
  foreignKey: 'instance_id',
  column: 'id',
  in: { table, key: 'network_interface_id', column, type },
});
/** A filter on the tags of an instance's interfaces. */
const onInterfaceTags = (column: 'key' | 'value'): FilterField => ({
  table: 'network_interfaces',
  foreignKey: 'instance_id',
  column: 'id',
  in: { table: 'tags', key: 'resource_id', column },
});

const INSTANCE_FILTERS: FilterSpec = {
  'instance-id': { column: 'id' },
  'instance-type': { column: 'instance_type' },
  'instance-state-name': { column: 'state' },
  'instance-state-code': { column: 'state', type: 'string' },
  'availability-zone': { column: 'availability_zone' },
  'subnet-id': { column: 'subnet_id' },
  'vpc-id': { column: 'vpc_id' },
  'image-id': { column: 'image_id' },
  'key-name': { column: 'key_name' },
  'reservation-id': { column: 'reservation_id' },
  'launch-time': { column: 'launch_time' },
  'client-token': { column: 'client_token' },
  'owner-id': { column: 'account_id' },
  'private-ip-address': { column: 'private_ip_address' },
  'ip-address': viaInterfaces('public_addresses', 'public_ip'),
  'ami-launch-index': { column: 'ami_launch_index', type: 'integer' },
  'network-interface.network-interface-id': onInterfaces('id'),
  'network-interface.subnet-id': onInterfaces('subnet_id'),
  'network-interface.vpc-id': onInterfaces('vpc_id'),
  'network-interface.mac-address': onInterfaces('mac_address'),
  'network-interface.description': onInterfaces('description'),
  'network-interface.status': onInterfaces('status'),
  'network-interface.source-dest-check': onInterfaces('source_dest_check', 'boolean'),
  'network-interface.requester-managed': onInterfaces('requester_managed', 'boolean'),
  'network-interface.private-dns-name': onInterfaces('private_dns_name'),
  'network-interface.attachment.attachment-id': onInterfaces('attachment_id'),
  'network-interface.attachment.device-index': onInterfaces('device_index', 'integer'),
  'network-interface.attachment.network-card-index': onInterfaces('network_card_index', 'integer'),
  'network-interface.attachment.status': onInterfaces('attachment_status'),
  'network-interface.attachment.attach-time': onInterfaces('attach_time'),
  'network-interface.attachment.delete-on-termination': onInterfaces('delete_on_termination', 'boolean'),
  'network-interface.addresses.private-ip-address': viaInterfaces('private_ip_addresses', 'address'),
  'network-interface.private-ip-address': viaInterfaces('private_ip_addresses', 'address'),
  'network-interface.ipv6-addresses.ipv6-address': viaInterfaces('ipv6_addresses', 'address'),
  'network-interface.association.public-ip': viaInterfaces('public_addresses', 'public_ip'),
  'network-interface.group-id': viaInterfaces('network_interface_groups', 'group_id'),
  'instance.group-id': viaInterfaces('network_interface_groups', 'group_id'),
  'group-id': viaInterfaces('network_interface_groups', 'group_id'),
  // AWS: the instance's own source/destination check is its primary interface's.
  'source-dest-check': { table: 'network_interfaces', foreignKey: 'instance_id', column: 'source_dest_check', type: 'boolean', where: { device_index: 0 } },
  'network-interface.addresses.primary': {
    table: 'network_interfaces',
    foreignKey: 'instance_id',
    column: 'id',
    in: { table: 'private_ip_addresses', key: 'network_interface_id', column: 'is_primary', type: 'boolean' },
  },
  'network-interface.addresses.association.public-ip': viaInterfaces('public_addresses', 'public_ip'),
  'network-interface.addresses.association.ip-owner-id': viaInterfaces('public_addresses', 'account_id'),
  'network-interface.association.ip-owner-id': viaInterfaces('public_addresses', 'account_id'),
  'network-interface.association.allocation-id': viaInterfaces('public_addresses', 'allocation_id'),
  'network-interface.association.association-id': viaInterfaces('public_addresses', 'association_id'),
  'network-interface.attachment.instance-id': onInterfaces('instance_id'),
  'network-interface.attachment.instance-owner-id': onInterfaces('account_id'),
  'network-interface.owner-id': onInterfaces('account_id'),
  'network-interface.requester-id': onInterfaces('requester_id'),
  'network-interface.availability-zone': onInterfaces('availability_zone'),
  // Rewritten before they get here (see instanceFilters): names to ids, DNS names to addresses.
  'network-interface.group-name': viaInterfaces('network_interface_groups', 'group_id'),
  'instance.group-name': viaInterfaces('network_interface_groups', 'group_id'),
  'group-name': viaInterfaces('network_interface_groups', 'group_id'),
  // The primary interface carries the instance's name (after its address, or after its id: instance-hostnames.ts).
  'private-dns-name': { table: 'network_interfaces', foreignKey: 'instance_id', column: 'private_dns_name', where: { device_index: 0, network_card_index: 0 } },
  'private-dns-name-options.hostname-type': { column: 'hostname_type' },
  'private-dns-name-options.enable-resource-name-dns-a-record': { column: 'resource_name_dns_a', type: 'boolean' },
  'private-dns-name-options.enable-resource-name-dns-aaaa-record': { column: 'resource_name_dns_aaaa', type: 'boolean' },
  'dns-name': viaInterfaces('public_addresses', 'public_ip'),
  'network-interface.public-dns-name': viaInterfaces('public_addresses', 'public_ip'),
  'network-interface.association.public-dns-name': viaInterfaces('public_addresses', 'public_ip'),
  'network-interface.addresses.association.public-dns-name': viaInterfaces('public_addresses', 'public_ip'),
  'network-interface.addresses.private-dns-name': viaInterfaces('private_ip_addresses', 'address'),
  'network-interface.addresses.association.allocation-id': viaInterfaces('public_addresses', 'allocation_id'),
  'network-interface.addresses.association.association-id': viaInterfaces('public_addresses', 'association_id'),
  // IPv6 addresses are held in canonical text, IPv6 prefixes as their /80: one column answers both filters.
  'ipv6-address': viaInterfaces('ipv6_addresses', 'address'),
  'network-interface.ipv6-address': viaInterfaces('ipv6_addresses', 'address'),
  'network-interface.ipv6-addresses.is-primary-ipv6': viaInterfaces('ipv6_addresses', 'is_primary', 'boolean'),
  'network-interface.ipv6-prefixes.ipv6-prefix': viaInterfaces('ipv6_addresses', 'address'),
  'network-interface.ipv4-prefixes.ipv4-prefix': viaInterfaces('ipv4_prefixes', 'prefix'),
  // AWS: an interface in an IPv6-only subnet is IPv6-native.
  'network-interface.ipv6-native': {
    table: 'network_interfaces',
    foreignKey: 'instance_id',
    column: 'subnet_id',
    in: { table: 'subnets', key: 'id', column: 'ipv6_native', type: 'boolean' },
  },
  'network-interface.tag-key': onInterfaceTags('key'),
  'network-interface.tag-value': onInterfaceTags('value'),
  'launch-index': { column: 'ami_launch_index', type: 'integer' },
  'ebs-optimized': { column: 'ebs_optimized', type: 'boolean' },
  reason: { column: 'state_transition_reason' },
  'state-reason-code': { column: 'state_reason_code' },
  'state-reason-message': { column: 'state_reason_message' },
  'usage-operation-update-time': { column: 'launch_time' },
  'metadata-options.http-tokens': { column: 'metadata_http_tokens' },
  'metadata-options.http-put-response-hop-limit': { column: 'metadata_hop_limit', type: 'integer' },
  'metadata-options.http-endpoint': { column: 'metadata_http_endpoint' },
  'metadata-options.http-protocol-ipv6': { column: 'metadata_http_ipv6' },
  'metadata-options.instance-metadata-tags': { column: 'metadata_tags' },
  'metadata-options.state': { column: 'metadata_options_state' },
};

/** Group names as the ids of the caller's groups of those names (wildcards honoured). */
async function groupIdsNamed(ctx: Context, names: readonly string[]): Promise<string[]> {
  const patterns = names.map(wildcardRegex);
  const rows = await ctx.tx.selectFrom('security_groups').select(['id', 'group_name']).where('account_id', '=', ctx.account).where('region', '=', ctx.region).execute();
  const ids = rows.filter((r) => patterns.some((p) => p.test(r.group_name))).map((r) => r.id);
  // A value no id has: the filter then matches nothing.
  return ids.length ? ids : [' '];
}

/** `ip-10-0-1-5.ec2.internal` or `ec2-198-18-0-1.compute-1.amazonaws.com` as the address it names. */
function addressOfDnsName(name: string): string {
  const m = /^(?:ip|ec2)-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\./.exec(name);
  return m ? `${m[1]}.${m[2]}.${m[3]}.${m[4]}` : ' ';
}

/** Filters on a DNS name, which the tables hold as the address it names. */
const DNS_NAME_FILTERS = new Set([
  'dns-name',
  'network-interface.public-dns-name',
  'network-interface.association.public-dns-name',
  'network-interface.addresses.association.public-dns-name',
  'network-interface.addresses.private-dns-name',
]);

/** The filters of DescribeInstances that name what the tables do not hold as such, rewritten onto what they do. */
async function instanceFilters(ctx: Context, filters: DescribeInstancesRequest['Filters']): Promise<DescribeInstancesRequest['Filters']> {
  if (!filters) return filters;
  const out: NonNullable<DescribeInstancesRequest['Filters']> = [];
  for (const f of filters) {
    const values = f.Values ?? [];
    if (f.Name === 'group-name' || f.Name === 'instance.group-name' || f.Name === 'network-interface.group-name') {
      out.push({ Name: f.Name, Values: values.length ? await groupIdsNamed(ctx, values) : values });
    } else if (DNS_NAME_FILTERS.has(f.Name ?? '')) {
      out.push({ Name: f.Name, Values: values.map(addressOfDnsName) });
    } else {
      const derived = derivedInstanceFilter(ctx.region, f);
      if (derived === undefined) out.push(f);
      else if (derived !== 'always') out.push(derived);
    }
  }
  return stateCodeFilters(out);
}

// --- launching -------------------------------------------------------------------------------------

/** One interface of a launch, resolved and checked, before anything is written. */
type PlannedInterface =
  | { kind: 'existing'; deviceIndex: number; networkCardIndex: number; eni: Row<'network_interfaces'> }
  | {
      kind: 'new';
      deviceIndex: number;
      networkCardIndex: number;
      subnet: Row<'subnets'>;
      description?: string;
      primary?: string;
      secondaries: string[];
      count: number;
      groupIds?: string[];
      deleteOnTermination: boolean;
      interfaceType?: string;
      associatePublicIp?: boolean;
      ipv4Prefixes: string[];
      ipv4PrefixCount: number;
      ipv6Addresses: string[];
      ipv6AddressCount?: number;
      ipv6Prefixes: string[];
      ipv6PrefixCount: number;
    };

async function defaultSubnet(ctx: Context, zoneName: string | undefined): Promise<Row<'subnets'>> {
  let query = ctx.tx
    .selectFrom('subnets')
    .selectAll()
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .where('default_for_az', '=', 1)
    .orderBy('availability_zone');
  if (zoneName !== undefined) query = query.where('availability_zone', '=', zoneName);
  const subnet = await query.executeTakeFirst();
  if (!subnet) throw Errors.vpcIdNotSpecified('No default VPC for this user. A subnet must be specified.');
  return subnet;
}

/** Resolves group names (allowed for the default VPC, as on AWS) to ids in the subnet's VPC. */
async function groupIdsByName(ctx: Context, vpcId: string, names: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const name of names) {
    const group = await ctx.tx
      .selectFrom('security_groups')
      .select('id')
      .where('vpc_id', '=', vpcId)
      .where('group_name', '=', name)
      .executeTakeFirst();
    if (!group) throw Errors.invalidGroupNameNotFound(name);
    ids.push(group.id);
  }
  return ids;
}

async function planInterfaces(ctx: Context, input: RunInstancesRequest, count: number): Promise<PlannedInterface[]> {
  const entries = input.NetworkInterfaces ?? [];
  if (!entries.length) return [await planPrimaryFromInstanceLevel(ctx, input, count)];
  // AWS: with NetworkInterface.N, subnet, groups and addresses go inside the entries.
  if (input.SubnetId !== undefined) {
    throw Errors.invalidParameterCombination('Network interfaces and an instance-level subnet ID may not be specified on the same request');
  }
  if (input.SecurityGroupIds?.length || input.SecurityGroups?.length) {
    throw Errors.invalidParameterCombination('Network interfaces and an instance-level security groups may not be specified on the same request');
  }
  if (input.PrivateIpAddress !== undefined) {
    throw Errors.invalidParameterCombination('Network interfaces and an instance-level private IP address may not be specified on the same request');
  }
  if (input.Ipv6AddressCount !== undefined || input.Ipv6Addresses?.length) {
    throw Errors.invalidParameterCombination('Network interfaces and instance-level IPv6 addresses may not be specified on the same request');
  }
  const planned: PlannedInterface[] = [];
  for (const entry of entries) planned.push(await planEntry(ctx, entry, entries.length, count));
  const slots = new Set(planned.map((p) => `${p.networkCardIndex}/${p.deviceIndex}`));
  if (slots.size !== planned.length) throw Errors.invalidParameterValue('Each network interface requires a unique device index.');
  if (!planned.some((p) => p.deviceIndex === 0 && p.networkCardIndex === 0)) {
    throw Errors.invalidParameterValue('A network interface with device index 0 is required.');
  }
  return planned;
}

async function planPrimaryFromInstanceLevel(ctx: Context, input: RunInstancesRequest, count: number): Promise<PlannedInterface> {
  const zone = input.Placement?.AvailabilityZone;
  if (zone !== undefined) findZone(ctx.region, { name: zone });
  const subnet = input.SubnetId !== undefined ? await getSubnet(ctx, input.SubnetId) : await defaultSubnet(ctx, zone);
  if (zone !== undefined && subnet.availability_zone !== zone) {
    throw Errors.invalidParameterValue(`Subnet ${subnet.id} is in ${subnet.availability_zone}, not in the requested ${zone}.`);
  }
  if (input.PrivateIpAddress !== undefined && count > 1) {
    throw Errors.invalidParameterCombination('A private IP address cannot be specified when launching more than one instance.');
  }
  if (input.Ipv6Addresses?.length && (count > 1 || input.Ipv6AddressCount !== undefined)) {
    throw Errors.invalidParameterCombination('Specific IPv6 addresses cannot be combined with an address count or with launching more than one instance.');
  }
  let groupIds = input.SecurityGroupIds;
  if (input.SecurityGroups?.length) {
    const vpc = await ctx.tx.selectFrom('vpcs').select('is_default').where('id', '=', subnet.vpc_id).executeTakeFirstOrThrow();
    // AWS: group names work only in the default VPC; elsewhere, ids are required.
    if (vpc.is_default !== 1) {
      throw Errors.invalidParameterCombination('The parameter groupName cannot be used with the parameter subnet');
    }
    groupIds = [...(groupIds ?? []), ...(await groupIdsByName(ctx, subnet.vpc_id, input.SecurityGroups))];
  }
  return {
    kind: 'new',
    deviceIndex: 0,
    networkCardIndex: 0,
    subnet,
    primary: input.PrivateIpAddress,
    secondaries: [],
    count: 0,
    groupIds,
    deleteOnTermination: true,
    ipv4Prefixes: [],
    ipv4PrefixCount: 0,
    ipv6Addresses: (input.Ipv6Addresses ?? []).map((a) => a.Ipv6Address!),
    ipv6AddressCount: input.Ipv6AddressCount,
    ipv6Prefixes: [],
    ipv6PrefixCount: 0,
  };
}

async function planEntry(ctx: Context, entry: InstanceNetworkInterfaceSpecification, entries: number, count: number): Promise<PlannedInterface> {
  if (entry.DeviceIndex === undefined && entry.NetworkInterfaceId === undefined) {
    throw Errors.invalidParameterValue('Each network interface requires a device index.');
  }
  const deviceIndex = entry.DeviceIndex ?? 0;
  const networkCardIndex = entry.NetworkCardIndex ?? 0;
  if (entry.AssociatePublicIpAddress !== undefined) {
    if (entries > 1) {
      throw Errors.invalidParameterCombination('The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.');
    }
    if (entry.NetworkInterfaceId !== undefined) {
      throw Errors.invalidParameterCombination('The associatePublicIPAddress parameter cannot be specified for a network interface with an ID.');
    }
    if (deviceIndex !== 0) {
      throw Errors.invalidParameterCombination('The associatePublicIPAddress parameter can only be specified for the network interface with DeviceIndex 0.');
    }
  }
  if (entry.Ipv6Addresses?.length && entry.Ipv6AddressCount !== undefined) {
    throw Errors.invalidParameterCombination('Ipv6Addresses and Ipv6AddressCount cannot be combined.');
  }
  if (entry.NetworkInterfaceId !== undefined) {
    if (entry.SubnetId !== undefined) throw Errors.invalidParameterCombination('A network interface may not specify both a network interface ID and a subnet');
    if (entry.DeleteOnTermination) {
      throw Errors.invalidParameterCombination('A network interface may not specify a network interface ID and delete on termination as true');
    }
    if (entry.Groups?.length || entry.PrivateIpAddress !== undefined || entry.PrivateIpAddresses?.length || entry.SecondaryPrivateIpAddressCount !== undefined || entry.Description !== undefined) {
      throw Errors.invalidParameterCombination('A network interface with an ID may not specify groups, addresses or a description.');
    }
    if (count > 1) throw Errors.invalidParameterCombination('An existing network interface cannot be used when launching more than one instance.');
    const eni = await getInterface(ctx, entry.NetworkInterfaceId);
    if (eni.attachment_id) throw Errors.networkInterfaceInUse(eni.id);
    return { kind: 'existing', deviceIndex, networkCardIndex, eni };
  }
  if (entry.SubnetId === undefined) throw Errors.missingParameter('NetworkInterface.N.SubnetId');
  const subnet = await getSubnet(ctx, entry.SubnetId);
  const addresses = addressRequest(entry.PrivateIpAddress, entry.PrivateIpAddresses, entry.SecondaryPrivateIpAddressCount);
  if (count > 1 && (addresses.primary !== undefined || addresses.secondaries.length)) {
    throw Errors.invalidParameterCombination('Private IP addresses cannot be specified when launching more than one instance.');
  }
  return {
    kind: 'new',
    deviceIndex,
    networkCardIndex,
    subnet,
    description: entry.Description,
    primary: addresses.primary,
    secondaries: addresses.secondaries,
    count: addresses.count,
    groupIds: entry.Groups,
    // AWS: an interface created by the launch is deleted with the instance unless told otherwise at index 0.
    deleteOnTermination: entry.DeleteOnTermination ?? deviceIndex === 0,
    interfaceType: entry.InterfaceType,
    associatePublicIp: entry.AssociatePublicIpAddress,
    ipv4Prefixes: (entry.Ipv4Prefixes ?? []).map((p) => p.Ipv4Prefix!),
    ipv4PrefixCount: entry.Ipv4PrefixCount ?? 0,
    ipv6Addresses: (entry.Ipv6Addresses ?? []).map((a) => a.Ipv6Address!),
    ipv6AddressCount: entry.Ipv6AddressCount,
    ipv6Prefixes: (entry.Ipv6Prefixes ?? []).map((p) => p.Ipv6Prefix!),
    ipv6PrefixCount: entry.Ipv6PrefixCount ?? 0,
  };
}

function zoneOfPlan(p: PlannedInterface): string {
  return p.kind === 'existing' ? p.eni.availability_zone : p.subnet.availability_zone;
}

/**
 * AWS: a public IPv4 is assigned at launch only to a single-interface launch's primary
 * interface — as AssociatePublicIpAddress says, else as the subnet's MapPublicIpOnLaunch (for an
 * existing interface, the setting it copied from its subnet when it was created).
 */
function wantsPublicIp(plan: PlannedInterface[]): boolean {
  if (plan.length !== 1) return false;
  const primary = plan[0];
  if (primary.kind === 'existing') return primary.eni.map_public_ip === 1 && primary.eni.private_ip_address !== '';
  // AWS: an interface in an IPv6-only subnet has no IPv4 to map a public address to.
  if (isIpv6Only(primary.subnet)) {
    if (primary.associatePublicIp) throw Errors.ipv6OnlySubnet(primary.subnet.id);
    return false;
  }
  return primary.associatePublicIp ?? primary.subnet.map_public_ip_on_launch === 1;
}

function checkPlanAgainstType(plan: PlannedInterface[], typeName: string): void {
  const type = typeOf({ instance_type: typeName });
  if (plan.length > type.maxNetworkInterfaces) throw Errors.attachmentLimitExceeded(plan.length, type.name);
  for (const p of plan) {
    if (p.kind !== 'new') continue;
    // Each delegated /28 prefix takes one of the interface's IPv4 slots.
    const addresses = 1 + p.secondaries.length + p.count + p.ipv4Prefixes.length + p.ipv4PrefixCount;
    if (addresses > type.ipv4AddressesPerInterface) {
      throw Errors.ipAddressLimitExceeded(
        `Number of private addresses (${addresses}) exceeds the limit of ${type.ipv4AddressesPerInterface} per interface for instance type ${type.name}.`,
      );
    }
    const ipv6 = p.ipv6Addresses.length + (p.ipv6AddressCount ?? 0) + p.ipv6Prefixes.length + p.ipv6PrefixCount;
    if (ipv6 > type.ipv6AddressesPerInterface) {
      throw Errors.ipAddressLimitExceeded(
        type.ipv6Supported
          ? `Number of IPv6 addresses (${ipv6}) exceeds the limit of ${type.ipv6AddressesPerInterface} per interface for instance type ${type.name}.`
          : `Instance type ${type.name} does not support IPv6.`,
      );
    }
  }
}

export async function runInstances(ctx: Context, request: RunInstancesRequest): Promise<Reservation> {
  // AWS: a launch template gives what the request does not.
  const input = await withLaunchTemplate(ctx, request);
  checkTagSpecificationTypes(input.TagSpecifications, ['instance', 'network-interface', 'volume', 'spot-instances-request']);
  if (input.ImageId === undefined) throw Errors.missingParameter('ImageId');
  checkIds('ami', Errors.imageId, [input.ImageId]);
  const min = input.MinCount!;
  const max = input.MaxCount!;
  if (min < 1 || max < min) throw Errors.invalidParameterValue(`MinCount (${min}) must be at least 1 and at most MaxCount (${max}).`);
  if (max > MAX_LAUNCH) throw Errors.instanceLimitExceeded(`A single launch can start at most ${MAX_LAUNCH} instances.`);
  const typeName = input.InstanceType ?? DEFAULT_INSTANCE_TYPE;
  if (!findInstanceType(typeName)) throw Errors.invalidParameterValue(`Invalid value '${typeName}' for InstanceType.`);
  if (input.KeyName !== undefined) {
    const key = await ctx.tx
      .selectFrom('key_pairs')
      .select('id')
      .where('account_id', '=', ctx.account)
      .where('region', '=', ctx.region)
      .where('key_name', '=', input.KeyName)
      .executeTakeFirst();
    if (!key) throw Errors.invalidKeyPairNotFound(input.KeyName);
  }
  return idempotent(
    ctx,
    'RunInstances',
    input,
    async () => {
      const reservation = await launch(ctx, input, typeName, min, max);
      return { id: reservation.ReservationId!, result: reservation };
    },
    async (reservationId) => (await reservationsOf(ctx, await instancesOfReservation(ctx, reservationId)))[0],
  );
}

async function launch(ctx: Context, input: RunInstancesRequest, typeName: string, min: number, max: number): Promise<Reservation> {
  const plan = await planInterfaces(ctx, input, max);
  checkPlanAgainstType(plan, typeName);
  const zone = zoneOfPlan(plan.find((p) => p.deviceIndex === 0 && p.networkCardIndex === 0)!);
  if (plan.some((p) => zoneOfPlan(p) !== zone)) {
    throw Errors.invalidParameterCombination('All network interfaces of an instance must be in the same availability zone.');
  }
  // AWS launches as many as it can between MinCount and MaxCount; what bounds it here is free addresses.
  const launchable = launchableCount(plan, max);
  if (launchable < min) throw Errors.insufficientFreeAddresses();

  const reservationId = newId('r');
  const metadata = launchMetadataOptions(ctx, input);
  const publicIp = wantsPublicIp(plan);
  const primaryPlan = plan.find((p) => p.deviceIndex === 0 && p.networkCardIndex === 0)!;
  const primarySubnet = primaryPlan.kind === 'existing' ? primaryPlan.eni.subnet_id : primaryPlan.subnet.id;
  const hostnames = launchHostnameOptions(input.PrivateDnsNameOptions, primaryPlan.kind === 'existing' ? await getSubnet(ctx, primarySubnet) : primaryPlan.subnet);
  const primaryVpc = primaryPlan.kind === 'existing' ? primaryPlan.eni.vpc_id : primaryPlan.subnet.vpc_id;
  const ids: string[] = [];
  for (let index = 0; index < launchable; index++) {
    const id = newId('i');
    ids.push(id);
    await ctx.tx
      .insertInto('instances')
      .values({
        id,
        account_id: ctx.account,
        region: ctx.region,
        reservation_id: reservationId,
        image_id: input.ImageId!,
        instance_type: typeName,
        key_name: input.KeyName ?? null,
        state: 'pending',
        transition_at: new Date(ctx.now.getTime() + ctx.config.timings.instancePendingMs).toISOString(),
        state_transition_reason: '',
        state_reason_code: null,
        state_reason_message: null,
        availability_zone: zone,
        subnet_id: primarySubnet,
        vpc_id: primaryVpc,
        launch_time: ctx.now.toISOString(),
        ami_launch_index: index,
        client_token: input.ClientToken ?? null,
        disable_api_termination: input.DisableApiTermination ? 1 : 0,
        disable_api_stop: input.DisableApiStop ? 1 : 0,
        shutdown_behavior: input.InstanceInitiatedShutdownBehavior ?? 'stop',
        user_data: input.UserData ?? null,
        ebs_optimized: input.EbsOptimized ? 1 : 0,
        private_ip_address: null,
        auto_public_ip: publicIp ? 1 : 0,
        terminated_at: null,
        created_at: ctx.now.toISOString(),
        ...metadataColumns(metadata),
        ...hostnameColumns(hostnames),
      })
      .execute();
    for (const p of plan) {
      const eniId = await attachPlanned(ctx, id, typeName, zone, p);
      // AWS: network-interface tag specifications tag the interfaces the launch creates.
      if (p.kind === 'new') await applyTagSpecifications(ctx, 'network-interface', eniId, input.TagSpecifications);
    }
    const primary = await ctx.tx
      .selectFrom('network_interfaces')
      .selectAll()
      .where('instance_id', '=', id)
      .where('device_index', '=', 0)
      .where('network_card_index', '=', 0)
      .executeTakeFirstOrThrow();
    const privateIp = primary.private_ip_address || null;
    await ctx.tx.updateTable('instances').set({ private_ip_address: privateIp }).where('id', '=', id).execute();
    await namePrimaryInterface(ctx, { id, region: ctx.region, hostname_type: hostnames.hostnameType, private_ip_address: privateIp });
    if (publicIp) await assignAutoPublicIp(ctx, primary);
    ctx.emit({ type: 'instance.state', instanceId: id, state: 'pending' });
    await applyTagSpecifications(ctx, 'instance', id, input.TagSpecifications);
  }
  const reservation = (await reservationsOf(ctx, await instancesOfReservation(ctx, reservationId)))[0];
  await settleTransitions(ctx);
  return reservation;
}

/** How many instances of the plan the subnets' free addresses allow, up to max. */
function launchableCount(plan: PlannedInterface[], max: number): number {
  const needs = new Map<string, { available: number; perInstance: number }>();
  for (const p of plan) {
    // An IPv6-only subnet's addresses never run out.
    if (p.kind !== 'new' || isIpv6Only(p.subnet)) continue;
    const need = needs.get(p.subnet.id) ?? { available: Number(p.subnet.available_ip_address_count), perInstance: 0 };
    need.perInstance += 1 + p.secondaries.length + p.count + 16 * (p.ipv4Prefixes.length + p.ipv4PrefixCount);
    needs.set(p.subnet.id, need);
  }
  let launchable = max;
  for (const { available, perInstance } of needs.values()) launchable = Math.min(launchable, Math.floor(available / perInstance));
  return launchable;
}

async function attachPlanned(ctx: Context, instanceId: string, typeName: string, zone: string, p: PlannedInterface): Promise<string> {
  const slot = { deviceIndex: p.deviceIndex, networkCardIndex: p.networkCardIndex };
  const eniId =
    p.kind === 'existing'
      ? p.eni.id
      : await createInterface(ctx, {
          subnet: p.subnet,
          description: p.description,
          primaryAddress: p.primary,
          secondaryAddresses: p.secondaries,
          secondaryCount: p.count,
          groupIds: p.groupIds,
          interfaceType: p.interfaceType,
          ipv4Prefixes: p.ipv4Prefixes,
          ipv4PrefixCount: p.ipv4PrefixCount,
          ipv6Addresses: p.ipv6Addresses,
          ipv6AddressCount: p.ipv6AddressCount,
          ipv6Prefixes: p.ipv6Prefixes,
          ipv6PrefixCount: p.ipv6PrefixCount,
        });
  const eni = await getInterface(ctx, eniId);
  await checkAttachment(ctx, eni, { id: instanceId, instance_type: typeName, availability_zone: zone }, slot);
  await attachInterface(ctx, eni, instanceId, { ...slot, deleteOnTermination: p.kind === 'new' && p.deleteOnTermination });
  return eniId;
}

// --- describing ----------------------------------------------------------------------------------

async function instancesOfReservation(ctx: Context, reservationId: string): Promise<InstanceRow[]> {
  return ctx.tx.selectFrom('instances').selectAll().where('reservation_id', '=', reservationId).orderBy('ami_launch_index').execute();
}

export async function getInstance(ctx: Context, id: string | undefined): Promise<InstanceRow> {
  return getOwned(ctx, { table: 'instances', prefix: 'i', errors: Errors.instanceId }, id, 'InstanceId');
}

async function instancesOf(tx: Tx, rows: InstanceRow[]): Promise<Instance[]> {
  const ids = rows.map((r) => r.id);
  const [interfaces, tags] = await inOrder(() => instanceInterfacesOf(tx, ids), () => tagsOf(tx, ids));
  return rows.map((row) => {
    const nics = interfaces.get(row.id) ?? [];
    const primary = nics.find((n) => n.Attachment?.DeviceIndex === 0 && n.Attachment?.NetworkCardIndex === 0);
    const terminated = row.state === 'terminated';
    const instance: Instance = {
      InstanceId: row.id,
      ImageId: row.image_id,
      State: stateOf(row.state),
      PrivateDnsName: terminated ? '' : instanceDnsName(row),
      PublicDnsName: primary?.Association?.PublicDnsName ?? '',
      StateTransitionReason: row.state_transition_reason,
      KeyName: row.key_name ?? undefined,
      AmiLaunchIndex: row.ami_launch_index,
      ProductCodes: [],
      InstanceType: row.instance_type as Instance['InstanceType'],
      LaunchTime: new Date(row.launch_time),
      Placement: { AvailabilityZone: row.availability_zone, GroupName: '', Tenancy: 'default' },
      Monitoring: { State: 'disabled' },
      SubnetId: terminated ? undefined : row.subnet_id,
      VpcId: terminated ? undefined : row.vpc_id,
      PrivateIpAddress: terminated ? undefined : (row.private_ip_address ?? undefined),
      PublicIpAddress: primary?.Association?.PublicIp,
      StateReason: row.state_reason_code ? { Code: row.state_reason_code, Message: row.state_reason_message ?? '' } : undefined,
      Architecture: architectureOf(row.instance_type),
      RootDeviceType: 'ebs',
      RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [],
      VirtualizationType: 'hvm',
      ClientToken: row.client_token ?? '',
      Tags: tags.get(row.id) ?? [],
      SecurityGroups: primary?.Groups ?? [],
      SourceDestCheck: primary?.SourceDestCheck,
      Hypervisor: 'xen',
      NetworkInterfaces: nics,
      EbsOptimized: row.ebs_optimized === 1,
      EnaSupport: true,
      PlatformDetails: 'Linux/UNIX',
      UsageOperation: 'RunInstances',
      UsageOperationUpdateTime: new Date(row.launch_time),
      PrivateDnsNameOptions: privateDnsNameOptionsOf(row),
      MetadataOptions: metadataOptionsResponse(row, row.metadata_options_state as 'pending' | 'applied'),
    };
    return instance;
  });
}

/** Groups instances into their reservations, keeping the order of first appearance. */
async function reservationsOf(ctx: Context, rows: InstanceRow[]): Promise<Reservation[]> {
  const instances = await instancesOf(ctx.tx, rows);
  const byReservation = new Map<string, Reservation>();
  rows.forEach((row, i) => {
    let reservation = byReservation.get(row.reservation_id);
    if (!reservation) {
      reservation = { ReservationId: row.reservation_id, OwnerId: row.account_id, Groups: [], Instances: [] };
      byReservation.set(row.reservation_id, reservation);
    }
    reservation.Instances!.push(instances[i]);
  });
  return [...byReservation.values()];
}

export async function describeInstances(ctx: Context, input: DescribeInstancesRequest): Promise<DescribeInstancesResult> {
  const ids = input.InstanceIds ?? [];
  checkIds('i', Errors.instanceId, ids);
  // AWS: MaxResults cannot be combined with a list of ids.
  if (ids.length && input.MaxResults !== undefined) {
    throw Errors.invalidParameterCombination('The parameter instancesSet cannot be used with the parameter maxResults');
  }
  checkMaxResults(input.MaxResults);
  const page = await describeRows<InstanceRow>(ctx.tx, {
    table: 'instances',
    account: ctx.account,
    region: ctx.region,
    ids,
    idErrors: Errors.instanceId,
    filters: await instanceFilters(ctx, input.Filters),
    spec: INSTANCE_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { Reservations: await reservationsOf(ctx, page.rows), NextToken: page.nextToken };
}

/** `instance-state-code` filters on codes; the table stores names. */
function stateCodeFilters(filters: DescribeInstancesRequest['Filters']) {
  return filters?.map((f) =>
    f.Name === 'instance-state-code'
      ? { ...f, Values: (f.Values ?? []).map((v) => Object.keys(STATE_CODES).find((name) => String(STATE_CODES[name]) === v) ?? `#${v}`) }
      : f,
  );
}

export async function describeInstanceStatus(ctx: Context, input: DescribeInstanceStatusRequest): Promise<DescribeInstanceStatusResult> {
  const ids = input.InstanceIds ?? [];
  checkIds('i', Errors.instanceId, ids);
  // AWS: 5 to 1000, as for DescribeInstances (the model gives no range; unchecked, a negative one broke paging).
  checkMaxResults(input.MaxResults);
  const page = await describeRows<InstanceRow>(ctx.tx, {
    table: 'instances',
    account: ctx.account,
    region: ctx.region,
    ids,
    idErrors: Errors.instanceId,
    filters: stateCodeFilters(input.Filters),
    spec: {
      'availability-zone': { column: 'availability_zone' },
      'instance-state-name': { column: 'state' },
      'instance-state-code': { column: 'state' },
    },
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  // AWS: without IncludeAllInstances, only running instances are listed.
  const rows = input.IncludeAllInstances ? page.rows : page.rows.filter((r) => r.state === 'running');
  return {
    InstanceStatuses: rows.map((row) => {
      const running = row.state === 'running';
      const status = !running ? 'not-applicable' : row.impaired ? 'impaired' : 'ok';
      const check = { Name: 'reachability' as const, Status: !running ? undefined : row.impaired ? ('failed' as const) : ('passed' as const) };
      return {
        InstanceId: row.id,
        AvailabilityZone: row.availability_zone,
        InstanceState: stateOf(row.state),
        InstanceStatus: { Status: status, Details: running ? [check] : [] },
        SystemStatus: { Status: running ? 'ok' : 'not-applicable', Details: running ? [{ Name: 'reachability', Status: 'passed' }] : [] },
        Events: [],
      };
    }),
    NextToken: page.nextToken,
  };
}

// --- state changes --------------------------------------------------------------------------------

async function instancesForChange(ctx: Context, ids: readonly string[] | undefined): Promise<InstanceRow[]> {
  if (!ids?.length) throw Errors.missingParameter('InstanceId.1');
  checkIds('i', Errors.instanceId, ids);
  const rows = await ctx.tx
    .selectFrom('instances')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .execute();
  const found = new Set(rows.map((r) => r.id));
  const missing = [...new Set(ids)].filter((id) => !found.has(id));
  if (missing.length) throw Errors.instanceId.notFound(missing.join(', '));
  return [...new Set(ids)].map((id) => rows.find((r) => r.id === id)!);
}

function userInitiated(ctx: Context): string {
  return `User initiated (${ctx.now.toISOString().replace('T', ' ').slice(0, 19)} GMT)`;
}

async function setState(ctx: Context, id: string, values: Partial<InstanceRow>): Promise<void> {
  await ctx.tx.updateTable('instances').set(values).where('id', '=', id).execute();
  if (values.state) ctx.emit({ type: 'instance.state', instanceId: id, state: values.state });
}

const after = (ctx: Context, ms: number) => new Date(ctx.now.getTime() + ms).toISOString();

export async function stopInstances(ctx: Context, input: StopInstancesRequest): Promise<StopInstancesResult> {
  const rows = await instancesForChange(ctx, input.InstanceIds);
  for (const row of rows) {
    if (row.disable_api_stop === 1) {
      throw Errors.operationNotPermitted(`The instance '${row.id}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`);
    }
    if (row.state === 'pending' || row.state === 'shutting-down' || row.state === 'terminated') {
      throw Errors.incorrectInstanceState(`This instance '${row.id}' is not in a state from which it can be stopped.`);
    }
  }
  const changes: InstanceStateChange[] = [];
  for (const row of rows) {
    if (row.state === 'running') {
      await setState(ctx, row.id, {
        state: 'stopping',
        transition_at: after(ctx, ctx.config.timings.instanceStoppingMs),
        state_transition_reason: userInitiated(ctx),
        state_reason_code: 'Client.UserInitiatedShutdown',
        state_reason_message: 'Client.UserInitiatedShutdown: User initiated shutdown',
      });
      // AWS: the auto-assigned public IPv4 is released when the instance stops (a new one comes at start).
      await releaseAutoPublicIps(ctx, row.id);
    }
    changes.push({ InstanceId: row.id, PreviousState: stateOf(row.state), CurrentState: stateOf(row.state === 'running' ? 'stopping' : row.state) });
  }
  await settleTransitions(ctx);
  return { StoppingInstances: changes };
}

export async function startInstances(ctx: Context, input: StartInstancesRequest): Promise<StartInstancesResult> {
  const rows = await instancesForChange(ctx, input.InstanceIds);
  for (const row of rows) {
    if (row.state === 'stopping' || row.state === 'shutting-down' || row.state === 'terminated') {
      throw Errors.incorrectInstanceState(`The instance '${row.id}' is not in a state from which it can be started.`);
    }
  }
  const changes: InstanceStateChange[] = [];
  for (const row of rows) {
    if (row.state === 'stopped') {
      await setState(ctx, row.id, {
        state: 'pending',
        transition_at: after(ctx, ctx.config.timings.instancePendingMs),
        state_transition_reason: '',
        state_reason_code: null,
        state_reason_message: null,
        // AWS: metadata options changed while stopped are applied when the instance starts.
        metadata_options_state: 'applied',
      });
      await restoreAutoPublicIp(ctx, row.id);
    }
    changes.push({ InstanceId: row.id, PreviousState: stateOf(row.state), CurrentState: stateOf(row.state === 'stopped' ? 'pending' : row.state) });
  }
  await settleTransitions(ctx);
  return { StartingInstances: changes };
}

export async function rebootInstances(ctx: Context, input: RebootInstancesRequest): Promise<Record<string, never>> {
  const rows = await instancesForChange(ctx, input.InstanceIds);
  for (const row of rows) {
    if (row.state !== 'running') throw Errors.incorrectInstanceState(`The instance '${row.id}' is not in a state from which it can be rebooted.`);
  }
  return {};
}

export async function terminateInstances(ctx: Context, input: TerminateInstancesRequest): Promise<TerminateInstancesResult> {
  const rows = await instancesForChange(ctx, input.InstanceIds);
  for (const row of rows) {
    if (row.disable_api_termination === 1) {
      throw Errors.operationNotPermitted(`The instance '${row.id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`);
    }
  }
  const changes: InstanceStateChange[] = [];
  for (const row of rows) {
    const ending = row.state === 'shutting-down' || row.state === 'terminated';
    if (!ending) {
      await setState(ctx, row.id, {
        state: 'shutting-down',
        transition_at: after(ctx, ctx.config.timings.instanceShuttingDownMs),
        state_transition_reason: userInitiated(ctx),
        state_reason_code: 'Client.UserInitiatedShutdown',
        state_reason_message: 'Client.UserInitiatedShutdown: User initiated shutdown',
      });
    }
    // AWS: terminating is idempotent; a terminated instance reports terminated → terminated.
    changes.push({ InstanceId: row.id, PreviousState: stateOf(row.state), CurrentState: stateOf(ending ? row.state : 'shutting-down') });
  }
  await settleTransitions(ctx);
  return { TerminatingInstances: changes };
}

// --- attributes ------------------------------------------------------------------------------------

/** The instance's only interface, for the instance-level shortcuts AWS refuses with several. */
async function soleInterface(ctx: Context, instance: InstanceRow): Promise<string> {
  const nics = await ctx.tx.selectFrom('network_interfaces').select(['id', 'device_index']).where('instance_id', '=', instance.id).execute();
  if (nics.length > 1) throw Errors.invalidInstanceIdMultipleInterfaces(instance.id);
  const primary = nics.find((n) => n.device_index === 0);
  if (!primary) throw Errors.incorrectInstanceState(`The instance '${instance.id}' has no network interface.`);
  return primary.id;
}

export async function modifyInstanceAttribute(ctx: Context, input: ModifyInstanceAttributeRequest): Promise<Record<string, never>> {
  const instance = await getInstance(ctx, input.InstanceId);
  const legacy = input.Attribute !== undefined ? { [input.Attribute]: input.Value } : {};
  const changes = [
    input.SourceDestCheck, input.Groups?.length ? input.Groups : undefined, input.DisableApiTermination, input.DisableApiStop,
    input.InstanceInitiatedShutdownBehavior, input.InstanceType, input.UserData, input.EbsOptimized,
    ...Object.values(legacy),
  ].filter((v) => v !== undefined);
  // AWS: one attribute per call.
  if (changes.length !== 1) throw Errors.invalidParameterCombination('Exactly one attribute must be specified per ModifyInstanceAttribute call.');
  if (instance.state === 'terminated' || instance.state === 'shutting-down') {
    throw Errors.incorrectInstanceState(`The instance '${instance.id}' is not in a valid state for this operation.`);
  }
  if (input.SourceDestCheck || legacy.sourceDestCheck !== undefined) {
    const value = input.SourceDestCheck?.Value ?? legacy.sourceDestCheck === 'true';
    const eniId = await soleInterface(ctx, instance);
    await ctx.tx.updateTable('network_interfaces').set({ source_dest_check: value ? 1 : 0 }).where('id', '=', eniId).execute();
  }
  if (input.Groups?.length) {
    const eniId = await soleInterface(ctx, instance);
    const eni = await getInterface(ctx, eniId);
    const groups = await groupsForInterface(ctx, eni.vpc_id, input.Groups);
    await ctx.tx.deleteFrom('network_interface_groups').where('network_interface_id', '=', eniId).execute();
    await ctx.tx.insertInto('network_interface_groups').values(groups.map((group_id, position) => ({ network_interface_id: eniId, group_id, position }))).execute();
  }
  const set = (values: Partial<InstanceRow>) => setState(ctx, instance.id, values);
  const bool = (v: { Value?: boolean } | undefined, legacyValue: string | undefined) => (v?.Value ?? legacyValue === 'true') ? 1 : 0;
  if (input.DisableApiTermination || legacy.disableApiTermination !== undefined) await set({ disable_api_termination: bool(input.DisableApiTermination, legacy.disableApiTermination) });
  if (input.DisableApiStop || legacy.disableApiStop !== undefined) await set({ disable_api_stop: bool(input.DisableApiStop, legacy.disableApiStop) });
  if (input.EbsOptimized || legacy.ebsOptimized !== undefined) await set({ ebs_optimized: bool(input.EbsOptimized, legacy.ebsOptimized) });
  const behaviour = input.InstanceInitiatedShutdownBehavior?.Value ?? legacy.instanceInitiatedShutdownBehavior;
  if (behaviour !== undefined) {
    if (behaviour !== 'stop' && behaviour !== 'terminate') throw Errors.invalidParameterValueFor('InstanceInitiatedShutdownBehavior', behaviour);
    await set({ shutdown_behavior: behaviour });
  }
  const newType = input.InstanceType?.Value ?? legacy.instanceType;
  if (newType !== undefined) await changeInstanceType(ctx, instance, newType);
  const userData = input.UserData?.Value ?? legacy.userData;
  if (userData !== undefined) {
    if (instance.state !== 'stopped') throw Errors.incorrectInstanceState(`The instance '${instance.id}' must be stopped to change its user data.`);
    await set({ user_data: typeof userData === 'string' ? userData : Buffer.from(userData).toString('base64') });
  }
  return {};
}

/** AWS: the type changes only while stopped, and only to a type its interfaces and addresses fit. */
async function changeInstanceType(ctx: Context, instance: InstanceRow, typeName: string): Promise<void> {
  if (instance.state !== 'stopped') throw Errors.incorrectInstanceState(`The instance '${instance.id}' is not in the 'stopped' state.`);
  const type = findInstanceType(typeName);
  if (!type) throw Errors.invalidParameterValue(`Invalid value '${typeName}' for InstanceType.`);
  const nics = await ctx.tx.selectFrom('network_interfaces').select(['id', 'network_card_index']).where('instance_id', '=', instance.id).execute();
  if (nics.length > type.maxNetworkInterfaces) throw Errors.attachmentLimitExceeded(nics.length, type.name);
  for (const nic of nics) {
    if (!type.networkCards.some((c) => c.index === nic.network_card_index)) {
      throw Errors.invalidParameterValue(`Instance type ${type.name} has no network card ${nic.network_card_index}.`);
    }
    const { count } = await ctx.tx
      .selectFrom('private_ip_addresses')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('network_interface_id', '=', nic.id)
      .executeTakeFirstOrThrow();
    if (Number(count) > type.ipv4AddressesPerInterface) {
      throw Errors.ipAddressLimitExceeded(`Network interface ${nic.id} has more private IPv4 addresses than ${type.name} allows.`);
    }
  }
  await setState(ctx, instance.id, { instance_type: type.name });
}

export async function describeInstanceAttribute(ctx: Context, input: DescribeInstanceAttributeRequest): Promise<DescribeInstanceAttributeResult> {
  const instance = await getInstance(ctx, input.InstanceId);
  const attribute = input.Attribute;
  if (attribute === undefined) throw Errors.missingParameter('Attribute');
  const out: DescribeInstanceAttributeResult = { InstanceId: instance.id };
  const primary = () =>
    ctx.tx.selectFrom('network_interfaces').selectAll().where('instance_id', '=', instance.id).where('device_index', '=', 0).executeTakeFirst();
  switch (attribute) {
    case 'instanceType':
      out.InstanceType = { Value: instance.instance_type };
      break;
    case 'userData':
      out.UserData = instance.user_data ? { Value: instance.user_data } : {};
      break;
    case 'disableApiTermination':
      out.DisableApiTermination = { Value: instance.disable_api_termination === 1 };
      break;
    case 'disableApiStop':
      out.DisableApiStop = { Value: instance.disable_api_stop === 1 };
      break;
    case 'instanceInitiatedShutdownBehavior':
      out.InstanceInitiatedShutdownBehavior = { Value: instance.shutdown_behavior };
      break;
    case 'rootDeviceName':
      out.RootDeviceName = { Value: '/dev/xvda' };
      break;
    case 'blockDeviceMapping':
      out.BlockDeviceMappings = [];
      break;
    case 'productCodes':
      out.ProductCodes = [];
      break;
    case 'ebsOptimized':
      out.EbsOptimized = { Value: instance.ebs_optimized === 1 };
      break;
    case 'enaSupport':
      out.EnaSupport = { Value: true };
      break;
    // AWS: HVM images name no kernel or RAM disk, and the value is then absent.
    case 'kernel':
      out.KernelId = {};
      break;
    case 'ramdisk':
      out.RamdiskId = {};
      break;
    // Intel 82599 VF networking is not enabled unless asked for (ENA is what the types use).
    case 'sriovNetSupport':
      out.SriovNetSupport = {};
      break;
    case 'enclaveOptions':
      out.EnclaveOptions = { Enabled: false };
      break;
    case 'sourceDestCheck':
      out.SourceDestCheck = { Value: (await primary())?.source_dest_check !== 0 };
      break;
    case 'groupSet': {
      const eni = await primary();
      out.Groups = eni
        ? await ctx.tx
            .selectFrom('network_interface_groups')
            .innerJoin('security_groups', 'security_groups.id', 'network_interface_groups.group_id')
            .select(['security_groups.id as GroupId', 'security_groups.group_name as GroupName'])
            .where('network_interface_groups.network_interface_id', '=', eni.id)
            .orderBy('network_interface_groups.position')
            .execute()
        : [];
      break;
    }
    default:
      throw Errors.invalidParameterValue(`Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`);
  }
  return out;
}

// --- instance metadata options ---------------------------------------------------------------------

/** An instance's instance metadata options, as the IMDS enforces them. */
export interface MetadataOptions {
  httpTokens: 'optional' | 'required';
  httpPutResponseHopLimit: number;
  httpEndpoint: 'enabled' | 'disabled';
  httpProtocolIpv6: 'enabled' | 'disabled';
  instanceMetadataTags: 'enabled' | 'disabled';
}

/**
 * AWS: without MetadataOptions, an instance launched from an image whose ImdsSupport is v2.0
 * (Amazon Linux 2023) requires IMDSv2 with a hop limit of 2; from any other image, IMDSv1 is
 * allowed and the hop limit is 1 (InstanceMetadataOptionsRequest: "Default: 1", HttpTokens
 * default by the AMI's ImdsSupport; Image.ImdsSupport: "HttpTokens automatically set to required
 * ... HttpPutResponseHopLimit is set to 2"). Endpoint enabled, IPv6 endpoint and tags disabled.
 * (The account-level defaults of ModifyInstanceMetadataDefaults are not emulated: no-preference.)
 */
function launchMetadataOptions(ctx: Context, input: RunInstancesRequest): MetadataOptions {
  const v2 = findImage(ctx.region, input.ImageId!)?.ImdsSupport === 'v2.0';
  const requested = input.MetadataOptions ?? {};
  return {
    httpTokens: requested.HttpTokens ?? (v2 ? 'required' : 'optional'),
    httpPutResponseHopLimit: checkHopLimit(requested.HttpPutResponseHopLimit) ?? (v2 ? 2 : 1),
    httpEndpoint: requested.HttpEndpoint ?? 'enabled',
    httpProtocolIpv6: requested.HttpProtocolIpv6 ?? 'disabled',
    instanceMetadataTags: requested.InstanceMetadataTags ?? 'disabled',
  };
}

/** AWS: the hop limit is an integer from 1 to 64. */
function checkHopLimit(limit: number | undefined): number | undefined {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 64)) throw Errors.invalidHopLimit(String(limit));
  return limit;
}

function metadataColumns(options: MetadataOptions) {
  return {
    metadata_http_tokens: options.httpTokens,
    metadata_hop_limit: options.httpPutResponseHopLimit,
    metadata_http_endpoint: options.httpEndpoint,
    metadata_http_ipv6: options.httpProtocolIpv6,
    metadata_tags: options.instanceMetadataTags,
  };
}

type MetadataColumns = Pick<InstanceRow, 'metadata_http_tokens' | 'metadata_hop_limit' | 'metadata_http_endpoint' | 'metadata_http_ipv6' | 'metadata_tags'>;

/** The options a row holds. */
export function metadataOptionsOf(row: MetadataColumns): MetadataOptions {
  return {
    httpTokens: row.metadata_http_tokens === 'required' ? 'required' : 'optional',
    httpPutResponseHopLimit: Number(row.metadata_hop_limit),
    httpEndpoint: row.metadata_http_endpoint === 'disabled' ? 'disabled' : 'enabled',
    httpProtocolIpv6: row.metadata_http_ipv6 === 'enabled' ? 'enabled' : 'disabled',
    instanceMetadataTags: row.metadata_tags === 'enabled' ? 'enabled' : 'disabled',
  };
}

function metadataOptionsResponse(row: MetadataColumns, state: 'pending' | 'applied'): InstanceMetadataOptionsResponse {
  const options = metadataOptionsOf(row);
  return {
    State: state,
    HttpTokens: options.httpTokens,
    HttpPutResponseHopLimit: options.httpPutResponseHopLimit,
    HttpEndpoint: options.httpEndpoint,
    HttpProtocolIpv6: options.httpProtocolIpv6,
    InstanceMetadataTags: options.instanceMetadataTags,
  };
}

/**
 * AWS: ModifyInstanceMetadataOptions changes a running or stopped instance's options; what is not
 * given stays as it is. The answer says `pending`; DescribeInstances says `applied` from then on for
 * a running instance (the IMDS answers with the new options at once), and for a stopped one once it
 * has started.
 */
export async function modifyInstanceMetadataOptions(ctx: Context, input: ModifyInstanceMetadataOptionsRequest): Promise<ModifyInstanceMetadataOptionsResult> {
  const instance = await getInstance(ctx, input.InstanceId);
  if (instance.state === 'terminated' || instance.state === 'shutting-down') {
    throw Errors.incorrectInstanceState(`The instance '${instance.id}' is not in a valid state for this operation.`);
  }
  const current = metadataOptionsOf(instance);
  const requested: InstanceMetadataOptionsRequest = input;
  const next: MetadataOptions = {
    httpTokens: requested.HttpTokens ?? current.httpTokens,
    httpPutResponseHopLimit: checkHopLimit(requested.HttpPutResponseHopLimit) ?? current.httpPutResponseHopLimit,
    httpEndpoint: requested.HttpEndpoint ?? current.httpEndpoint,
    httpProtocolIpv6: requested.HttpProtocolIpv6 ?? current.httpProtocolIpv6,
    instanceMetadataTags: requested.InstanceMetadataTags ?? current.instanceMetadataTags,
  };
  const columns = metadataColumns(next);
  await ctx.tx
    .updateTable('instances')
    .set({ ...columns, metadata_options_state: instance.state === 'stopped' || instance.state === 'stopping' ? 'pending' : 'applied' })
    .where('id', '=', instance.id)
    .execute();
  ctx.emit({ type: 'instance.metadata-options', instanceId: instance.id });
  return { InstanceId: instance.id, InstanceMetadataOptions: metadataOptionsResponse(columns, 'pending') };
}
