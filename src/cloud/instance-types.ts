/**
 * DescribeInstanceTypes over the per-type table of rules/instance-types.json.
 * AWS: unknown names fail the whole call with InvalidInstanceType; results come in pages of at
 * most 100 (MaxResults 5–100, checked by the model) with a NextToken even when MaxResults is absent.
 * Fields the table does not hold (vCPUs, memory, performance of a few retired types) are omitted,
 * never invented.
 */
import type {
  ArchitectureType,
  DescribeInstanceTypesRequest,
  DescribeInstanceTypesResult,
  EnaSupport,
  InstanceTypeInfo as Ec2InstanceTypeInfo,
  NetworkInfo,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { filterCatalogue, pageCatalogue, type CatalogueSpec } from './catalogue-filter.ts';
import type { Context } from './context.ts';
import { instanceTypes, type InstanceTypeInfo } from './rules/instance-types.ts';

/** AWS: DescribeInstanceTypes answers at most 100 types a page, whether or not MaxResults is given. */
const DEFAULT_PAGE_SIZE = 100;

/**
 * The one family whose name does not follow the `<letters><generation><suffix>` pattern but is
 * Graviton: a1 (Graviton 1).
 */
const ARM_FAMILIES_WITHOUT_G = new Set(['a1']);

/**
 * Xen-based families that support ENA ("supported", not "required"): AWS lists every current Xen
 * type as ENA-capable except C4, D2, T2 and M4 below 16xlarge.
 */
const XEN_ENA_FAMILIES = new Set(['f1', 'g3', 'h1', 'i3', 'p2', 'p3', 'r4', 'x1', 'x1e']);

const familyOf = (type: string) => type.split('.')[0];

/**
 * The architecture of a type, from its family name. AWS: Graviton families carry a `g` in the
 * suffix after the generation digit (c6g, c7gn, m8gd, t4g, x2gd, im4gn, is4gen, g5g); Apple-silicon
 * Macs are arm64_mac, the Intel mac1 x86_64_mac.
 */
export function architectureOf(type: string): ArchitectureType {
  const family = familyOf(type);
  if (family === 'mac1') return 'x86_64_mac';
  if (family.startsWith('mac')) return 'arm64_mac';
  if (ARM_FAMILIES_WITHOUT_G.has(family)) return 'arm64';
  const parts = /^[a-z]+[0-9]+([a-z]*)$/.exec(family);
  return parts && parts[1].includes('g') ? 'arm64' : 'x86_64';
}

const isNitro = (t: InstanceTypeInfo) => t.hypervisor === 'nitro' || t.bareMetal;

/** AWS: ENA is required on Nitro and bare metal, optional on the Xen families above, absent elsewhere. */
export function enaSupportOf(t: InstanceTypeInfo): EnaSupport {
  if (isNitro(t)) return 'required';
  if (XEN_ENA_FAMILIES.has(familyOf(t.name)) || t.name === 'm4.16xlarge') return 'supported';
  return 'unsupported';
}

/** AWS: the burstable (CPU credit) families are the T families. */
export const isBurstable = (type: string) => /^t[0-9]+[a-z]*$/.test(familyOf(type));

function networkInfoOf(t: InstanceTypeInfo): NetworkInfo {
  return {
    NetworkPerformance: t.networkPerformance ?? undefined,
    MaximumNetworkInterfaces: t.maxNetworkInterfaces,
    MaximumNetworkCards: t.maxNetworkCards,
    DefaultNetworkCardIndex: t.defaultNetworkCardIndex,
    NetworkCards: t.networkCards.map((c) => ({ NetworkCardIndex: c.index, MaximumNetworkInterfaces: c.maxNetworkInterfaces })),
    Ipv4AddressesPerInterface: t.ipv4AddressesPerInterface,
    Ipv6AddressesPerInterface: t.ipv6AddressesPerInterface,
    Ipv6Supported: t.ipv6Supported,
    EnaSupport: enaSupportOf(t),
    EfaSupported: false,
    EncryptionInTransitSupported: false,
  };
}

/** One row of the table as DescribeInstanceTypes shows it. */
export function instanceTypeInfoOf(t: InstanceTypeInfo): Ec2InstanceTypeInfo {
  return {
    InstanceType: t.name as Ec2InstanceTypeInfo['InstanceType'],
    CurrentGeneration: t.currentGeneration,
    FreeTierEligible: t.freeTierEligible,
    SupportedUsageClasses: ['on-demand', 'spot'],
    SupportedRootDeviceTypes: ['ebs'],
    SupportedVirtualizationTypes: ['hvm'],
    BareMetal: t.bareMetal,
    Hypervisor: (t.hypervisor ?? undefined) as Ec2InstanceTypeInfo['Hypervisor'],
    ProcessorInfo: { SupportedArchitectures: [architectureOf(t.name)] },
    VCpuInfo: t.vCpus === null ? undefined : { DefaultVCpus: t.vCpus },
    MemoryInfo: t.memoryMiB === null ? undefined : { SizeInMiB: t.memoryMiB },
    NetworkInfo: networkInfoOf(t),
    BurstablePerformanceSupported: isBurstable(t.name),
  };
}

const INSTANCE_TYPE_FILTERS: CatalogueSpec<Ec2InstanceTypeInfo> = {
  'instance-type': (i) => i.InstanceType,
  'current-generation': (i) => i.CurrentGeneration,
  'free-tier-eligible': (i) => i.FreeTierEligible,
  hypervisor: (i) => i.Hypervisor,
  'bare-metal': (i) => i.BareMetal,
  'burstable-performance-supported': (i) => i.BurstablePerformanceSupported,
  'processor-info.supported-architecture': (i) => i.ProcessorInfo?.SupportedArchitectures ?? [],
  'supported-usage-class': (i) => i.SupportedUsageClasses ?? [],
  'supported-root-device-type': (i) => i.SupportedRootDeviceTypes ?? [],
  'supported-virtualization-type': (i) => i.SupportedVirtualizationTypes ?? [],
  'vcpu-info.default-vcpus': (i) => i.VCpuInfo?.DefaultVCpus,
  'memory-info.size-in-mib': (i) => i.MemoryInfo?.SizeInMiB,
  'network-info.network-performance': (i) => i.NetworkInfo?.NetworkPerformance,
  'network-info.maximum-network-interfaces': (i) => i.NetworkInfo?.MaximumNetworkInterfaces,
  'network-info.maximum-network-cards': (i) => i.NetworkInfo?.MaximumNetworkCards,
  'network-info.ipv4-addresses-per-interface': (i) => i.NetworkInfo?.Ipv4AddressesPerInterface,
  'network-info.ipv6-supported': (i) => i.NetworkInfo?.Ipv6Supported,
  'network-info.ipv6-addresses-per-interface': (i) => i.NetworkInfo?.Ipv6AddressesPerInterface,
  'network-info.ena-support': (i) => i.NetworkInfo?.EnaSupport,
  'network-info.efa-supported': (i) => i.NetworkInfo?.EfaSupported,
  'network-info.encryption-in-transit-supported': (i) => i.NetworkInfo?.EncryptionInTransitSupported,
};

function selectedTypes(names: readonly string[] | undefined): InstanceTypeInfo[] {
  const table = instanceTypes();
  if (!names?.length) return [...table.values()];
  const unknown = names.filter((n) => !table.has(n));
  if (unknown.length) throw Errors.invalidInstanceTypes([...new Set(unknown)]);
  return [...new Set(names)].map((n) => table.get(n)!);
}

export async function describeInstanceTypes(
  _ctx: Context,
  input: DescribeInstanceTypesRequest,
): Promise<DescribeInstanceTypesResult> {
  const infos = selectedTypes(input.InstanceTypes)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(instanceTypeInfoOf);
  const matching = filterCatalogue(infos, input.Filters, INSTANCE_TYPE_FILTERS);
  const page = pageCatalogue(matching, (i) => i.InstanceType!, {
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
    defaultPageSize: DEFAULT_PAGE_SIZE,
  });
  return { InstanceTypes: page.items, NextToken: page.nextToken };
}
