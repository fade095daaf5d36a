/**
 * DescribeInstances filters on what every instance eni-local runs answers alike (`hypervisor`
 * is `xen` for all, `tenancy` is `default`, …) or never has (a kernel, a Spot request, an
 * Outpost, …), and on what is derived from another column (`architecture` from the instance
 * type, `availability-zone-id` from the zone). AWS takes all these names; eni-local answers
 * them truthfully by rewriting each onto a filter the table answers: a constant that a value
 * matches (wildcards honoured) drops the filter, otherwise nothing matches.
 */
import type { Filter } from '@aws-sdk/client-ec2';
import { wildcardRegex } from './catalogue-filter.ts';
import { architectureOf } from './instance-types.ts';
import { instanceTypes } from './rules/instance-types.ts';
import { zonesOf } from './regions.ts';

/** What every instance answers (see instancesOf in instances.ts). */
const CONSTANT: Readonly<Record<string, string>> = {
  hypervisor: 'xen',
  'virtualization-type': 'hvm',
  'root-device-type': 'ebs',
  'root-device-name': '/dev/xvda',
  tenancy: 'default',
  'monitoring-state': 'disabled',
  'platform-details': 'Linux/UNIX',
  'usage-operation': 'RunInstances',
  'ena-support': 'true',
  'placement-group-name': '',
  'metadata-options.http-protocol-ipv4': 'enabled',
  // No interface eni-local makes is managed by another service as an operator, or denies IGW traffic.
  'operator.managed': 'false',
  'network-interface.operator.managed': 'false',
  'network-interface.deny-all-igw-traffic': 'false',
};

/** Attributes no instance eni-local runs has: a filter on them matches nothing. */
const NEVER = new Set([
  'affinity',
  'block-device-mapping.attach-time',
  'block-device-mapping.delete-on-termination',
  'block-device-mapping.device-name',
  'block-device-mapping.status',
  'block-device-mapping.volume-id',
  'boot-mode',
  'current-instance-boot-mode',
  'capacity-reservation-id',
  'capacity-reservation-specification.capacity-reservation-preference',
  'capacity-reservation-specification.capacity-reservation-target.capacity-reservation-id',
  'capacity-reservation-specification.capacity-reservation-target.capacity-reservation-resource-group-arn',
  'enclave-options.enabled',
  'hibernation-options.configured',
  'host-id',
  'iam-instance-profile.arn',
  'iam-instance-profile.id',
  'instance-lifecycle',
  'kernel-id',
  'ramdisk-id',
  'maintenance-options.auto-recovery',
  'network-interface.addresses.association.carrier-ip',
  'network-interface.addresses.association.customer-owned-ip',
  'network-interface.association.carrier-ip',
  'network-interface.association.customer-owned-ip',
  'network-interface.operator.principal',
  'network-interface.outpost-arn',
  'network-performance-options.bandwidth-weighting',
  'operator.principal',
  'outpost-arn',
  'placement-partition-number',
  'platform',
  'product-code',
  'product-code.type',
  'requester-id',
  'spot-instance-request-id',
  'tpm-support',
]);

/** A filter that no instance matches (no instance id is a space). */
const NOTHING: Filter = { Name: 'instance-id', Values: [' '] };

const matchesAny = (values: readonly string[], actual: string) => values.map(wildcardRegex).some((p) => p.test(actual));

/** The filter rewritten onto one the instance table answers, or undefined when it is not one of these. */
export function derivedInstanceFilter(region: string, filter: Filter): Filter | 'always' | undefined {
  const name = filter.Name ?? '';
  const values = filter.Values ?? [];
  if (Object.hasOwn(CONSTANT, name)) return matchesAny(values, CONSTANT[name]) ? 'always' : NOTHING;
  if (NEVER.has(name)) return NOTHING;
  if (name === 'architecture') {
    const types = [...instanceTypes().keys()].filter((t) => matchesAny(values, architectureOf(t)));
    return types.length ? { Name: 'instance-type', Values: types } : NOTHING;
  }
  if (name === 'availability-zone-id') {
    const zones = zonesOf(region).filter((z) => matchesAny(values, z.id)).map((z) => z.name);
    return zones.length ? { Name: 'availability-zone', Values: zones } : NOTHING;
  }
  return undefined;
}
