/**
 * The hostname options of instances: RunInstances PrivateDnsNameOptions (else the subnet's
 * PrivateDnsNameOptionsOnLaunch), ModifyPrivateDnsNameOptions, and the instance's
 * PrivateDnsNameOptions and PrivateDnsName.
 *
 * AWS: the hostname type is `ip-name` (`ip-10-0-1-5.ec2.internal`) or `resource-name`
 * (`i-0123456789abcdef0.REGION.compute.internal`); an instance in an IPv6-only subnet has no
 * IPv4 address to be named after, so it must be `resource-name` and cannot answer DNS A
 * records; AAAA records need an IPv6 block in the subnet. The hostname type changes only while
 * the instance is stopped; the record options at any time. The primary interface carries the
 * instance's name.
 */
import type {
  HostnameType,
  ModifyPrivateDnsNameOptionsRequest,
  ModifyPrivateDnsNameOptionsResult,
  PrivateDnsNameOptionsRequest,
  PrivateDnsNameOptionsResponse,
} from '@aws-sdk/client-ec2';
import type { Row } from '../store/schema.ts';
import type { Context } from './context.ts';
import { Errors } from './errors.ts';
import { getInstance } from './instances.ts';
import { privateDnsName, resourceDnsName } from './network-interfaces.ts';
import { isIpv6Only } from './subnets.ts';

export interface HostnameOptions {
  hostnameType: 'ip-name' | 'resource-name';
  dnsA: boolean;
  dnsAAAA: boolean;
}

const HOSTNAME_TYPES = ['ip-name', 'resource-name'] as const;

function hostnameType(value: string, parameter: string): HostnameOptions['hostnameType'] {
  if (!(HOSTNAME_TYPES as readonly string[]).includes(value)) throw Errors.invalidParameterValueFor(parameter, value);
  return value as HostnameOptions['hostnameType'];
}

/** The subnet's options for instances launched in it (PrivateDnsNameOptionsOnLaunch). */
export function subnetHostnameOptions(subnet: Row<'subnets'>): HostnameOptions {
  return {
    hostnameType: hostnameType(subnet.hostname_type, 'PrivateDnsHostnameTypeOnLaunch'),
    dnsA: Number(subnet.resource_name_dns_a) === 1,
    dnsAAAA: Number(subnet.resource_name_dns_aaaa) === 1,
  };
}

/** AWS's rules for options in a subnet: what an IPv6-only or IPv4-only subnet allows. */
function checkOptions(options: HostnameOptions, subnet: Row<'subnets'>): void {
  if (isIpv6Only(subnet)) {
    if (options.hostnameType === 'ip-name') {
      throw Errors.invalidParameterValue(`Subnet ${subnet.id} is IPv6-only: the hostname type of its instances must be resource-name.`);
    }
    if (options.dnsA) throw Errors.invalidParameterValue(`Subnet ${subnet.id} is IPv6-only: DNS A records for instance hostnames cannot be enabled.`);
  }
  if (options.dnsAAAA && !subnet.ipv6_cidr_block) {
    throw Errors.invalidParameterValue(`Subnet ${subnet.id} has no IPv6 CIDR block: DNS AAAA records for instance hostnames cannot be enabled.`);
  }
}

/** The options a launch gives its instances: the request's, over the subnet's. */
export function launchHostnameOptions(request: PrivateDnsNameOptionsRequest | undefined, subnet: Row<'subnets'>): HostnameOptions {
  const base = subnetHostnameOptions(subnet);
  const options: HostnameOptions = {
    hostnameType: request?.HostnameType !== undefined ? hostnameType(request.HostnameType, 'PrivateDnsNameOptions.HostnameType') : base.hostnameType,
    dnsA: request?.EnableResourceNameDnsARecord ?? base.dnsA,
    dnsAAAA: request?.EnableResourceNameDnsAAAARecord ?? base.dnsAAAA,
  };
  checkOptions(options, subnet);
  return options;
}

export function hostnameColumns(options: HostnameOptions) {
  return { hostname_type: options.hostnameType, resource_name_dns_a: options.dnsA ? 1 : 0, resource_name_dns_aaaa: options.dnsAAAA ? 1 : 0 };
}

function optionsOf(instance: Pick<Row<'instances'>, 'hostname_type' | 'resource_name_dns_a' | 'resource_name_dns_aaaa'>): HostnameOptions {
  return {
    hostnameType: instance.hostname_type as HostnameOptions['hostnameType'],
    dnsA: Number(instance.resource_name_dns_a) === 1,
    dnsAAAA: Number(instance.resource_name_dns_aaaa) === 1,
  };
}

export function privateDnsNameOptionsOf(instance: Pick<Row<'instances'>, 'hostname_type' | 'resource_name_dns_a' | 'resource_name_dns_aaaa'>): PrivateDnsNameOptionsResponse {
  const options = optionsOf(instance);
  return { HostnameType: options.hostnameType as HostnameType, EnableResourceNameDnsARecord: options.dnsA, EnableResourceNameDnsAAAARecord: options.dnsAAAA };
}

/** The instance's private DNS name: after its id, or after its primary private IPv4 (none without one). */
export function instanceDnsName(instance: Pick<Row<'instances'>, 'id' | 'region' | 'hostname_type' | 'private_ip_address'>): string {
  if (instance.hostname_type === 'resource-name') return resourceDnsName(instance.region, instance.id);
  return instance.private_ip_address ? privateDnsName(instance.region, instance.private_ip_address) : '';
}

const primaryInterface = (ctx: Context, instanceId: string) =>
  ctx.tx.selectFrom('network_interfaces').selectAll().where('instance_id', '=', instanceId).where('device_index', '=', 0).where('network_card_index', '=', 0).executeTakeFirst();

/** Gives the instance's primary interface the instance's name. */
export async function namePrimaryInterface(ctx: Context, instance: Pick<Row<'instances'>, 'id' | 'region' | 'hostname_type' | 'private_ip_address'>): Promise<void> {
  const eni = await primaryInterface(ctx, instance.id);
  if (!eni) return;
  const name = instance.hostname_type === 'resource-name' ? resourceDnsName(instance.region, instance.id) : eni.private_ip_address ? privateDnsName(eni.region, eni.private_ip_address) : '';
  await ctx.tx.updateTable('network_interfaces').set({ private_dns_name: name }).where('id', '=', eni.id).execute();
}

export async function modifyPrivateDnsNameOptions(ctx: Context, input: ModifyPrivateDnsNameOptionsRequest): Promise<ModifyPrivateDnsNameOptionsResult> {
  const instance = await getInstance(ctx, input.InstanceId);
  if (instance.state === 'terminated' || instance.state === 'shutting-down') {
    throw Errors.incorrectInstanceState(`The instance '${instance.id}' is not in a valid state for this operation.`);
  }
  const current = optionsOf(instance);
  const wanted: HostnameOptions = {
    hostnameType: input.PrivateDnsHostnameType !== undefined ? hostnameType(input.PrivateDnsHostnameType, 'PrivateDnsHostnameType') : current.hostnameType,
    dnsA: input.EnableResourceNameDnsARecord ?? current.dnsA,
    dnsAAAA: input.EnableResourceNameDnsAAAARecord ?? current.dnsAAAA,
  };
  // AWS: the hostname type of an instance changes only while it is stopped.
  if (wanted.hostnameType !== current.hostnameType && instance.state !== 'stopped') {
    throw Errors.incorrectInstanceState(`The instance '${instance.id}' must be stopped to change its hostname type.`);
  }
  const subnet = await ctx.tx.selectFrom('subnets').selectAll().where('id', '=', instance.subnet_id).executeTakeFirstOrThrow();
  checkOptions(wanted, subnet);
  await ctx.tx.updateTable('instances').set(hostnameColumns(wanted)).where('id', '=', instance.id).execute();
  await namePrimaryInterface(ctx, { ...instance, hostname_type: wanted.hostnameType });
  return { Return: true };
}
