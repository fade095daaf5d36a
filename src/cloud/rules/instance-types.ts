/**
 * Per-instance-type network limits, from instance-types.json (DescribeInstanceTypes data as
 * published by AWS; provenance inside the file). The IPv4 figure counts the primary address.
 */
import { readFileSync } from 'node:fs';
import { packageFile } from '../../paths.ts';

export interface NetworkCard {
  index: number;
  maxNetworkInterfaces: number;
}

export interface InstanceTypeInfo {
  name: string;
  maxNetworkInterfaces: number;
  ipv4AddressesPerInterface: number;
  ipv6Supported: boolean;
  /** Zero where IPv6 is unsupported. */
  ipv6AddressesPerInterface: number;
  vCpus: number | null;
  memoryMiB: number | null;
  maxNetworkCards: number;
  defaultNetworkCardIndex: number;
  networkCards: NetworkCard[];
  hypervisor: string | null;
  bareMetal: boolean;
  currentGeneration: boolean;
  freeTierEligible: boolean;
  networkPerformance: string | null;
}

interface RawType {
  maxNetworkInterfaces: number;
  ipv4AddressesPerInterface: number;
  ipv6Supported: boolean | null;
  ipv6AddressesPerInterface: number | null;
  vCpus: number | null;
  memoryMiB: number | null;
  maxNetworkCards: number | null;
  defaultNetworkCardIndex: number | null;
  networkCards: NetworkCard[] | null;
  hypervisor: string | null;
  bareMetal: boolean | null;
  currentGeneration: boolean | null;
  freeTierEligible: boolean | null;
  networkPerformance: string | null;
}

let table: Map<string, InstanceTypeInfo> | undefined;

function load(): Map<string, InstanceTypeInfo> {
  const raw = JSON.parse(readFileSync(packageFile('src/cloud/rules/instance-types.json'), 'utf8')) as {
    instanceTypes: Record<string, RawType>;
  };
  const out = new Map<string, InstanceTypeInfo>();
  for (const [name, t] of Object.entries(raw.instanceTypes)) {
    const ipv6Supported = t.ipv6Supported ?? false;
    out.set(name, {
      name,
      maxNetworkInterfaces: t.maxNetworkInterfaces,
      ipv4AddressesPerInterface: t.ipv4AddressesPerInterface,
      ipv6Supported,
      // The file's rule: where IPv6 is supported and no figure is given, it equals the IPv4 figure.
      ipv6AddressesPerInterface: ipv6Supported ? (t.ipv6AddressesPerInterface ?? t.ipv4AddressesPerInterface) : 0,
      vCpus: t.vCpus,
      memoryMiB: t.memoryMiB,
      maxNetworkCards: t.maxNetworkCards ?? 1,
      defaultNetworkCardIndex: t.defaultNetworkCardIndex ?? 0,
      networkCards: t.networkCards?.length ? t.networkCards : [{ index: 0, maxNetworkInterfaces: t.maxNetworkInterfaces }],
      hypervisor: t.hypervisor,
      bareMetal: t.bareMetal ?? false,
      currentGeneration: t.currentGeneration ?? false,
      freeTierEligible: t.freeTierEligible ?? false,
      networkPerformance: t.networkPerformance,
    });
  }
  return out;
}

/** Every known instance type, by name. */
export function instanceTypes(): ReadonlyMap<string, InstanceTypeInfo> {
  table ??= load();
  return table;
}

export function findInstanceType(name: string): InstanceTypeInfo | undefined {
  return instanceTypes().get(name);
}
