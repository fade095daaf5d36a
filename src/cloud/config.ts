/**
 * Settings of the emulated cloud: AWS's default quotas (Amazon VPC quotas, EC2 quotas) and
 * the timings of asynchronous state changes. Every figure can be overridden per server.
 */
export interface Quotas {
  vpcsPerRegion: number;
  subnetsPerVpc: number;
  securityGroupsPerInterface: number;
  rulesPerSecurityGroup: number;
  securityGroupsPerRegion: number;
  networkInterfacesPerRegion: number;
  elasticIpsPerRegion: number;
  internetGatewaysPerRegion: number;
  /** AWS: egress-only internet gateways per Region (one per VPC). */
  egressOnlyInternetGatewaysPerRegion: number;
  tagsPerResource: number;
  /** AWS: NAT gateways per Availability Zone (pending, available or deleting). */
  natGatewaysPerAvailabilityZone: number;
  /** AWS: private IPv4 addresses per NAT gateway, and Elastic IPs per public NAT gateway. */
  privateIpsPerNatGateway: number;
  elasticIpsPerNatGateway: number;
  /** AWS: Interface and Gateway VPC endpoints per VPC. */
  interfaceEndpointsPerVpc: number;
  gatewayEndpointsPerVpc: number;
  /** Customer-managed prefix lists (Amazon VPC quotas: 100 a region). */
  prefixListsPerRegion: number;
}

/**
 * How long the transitional states last, in milliseconds. AWS takes seconds to minutes; the
 * defaults settle at once so that waiters and tests are fast, and a user who wants to see
 * `pending` or `attaching` in DescribeInstances/DescribeNetworkInterfaces sets a delay.
 */
export interface Timings {
  instancePendingMs: number;
  instanceStoppingMs: number;
  instanceShuttingDownMs: number;
  attachingMs: number;
  detachingMs: number;
  /** How long a terminated instance stays visible (AWS: about an hour). */
  terminatedVisibleMs: number;
  /** NAT gateways: `pending` → `available`, `deleting` → `deleted`; a deleted or failed one stays visible (AWS: about an hour). */
  natGatewayPendingMs: number;
  natGatewayDeletingMs: number;
  natGatewayDeletedVisibleMs: number;
  /**
   * The instance metadata service's lag after an attachment: for this long after an interface is
   * attached, its `device-number` reads `0`, as AWS's IMDS reports it before propagation
   * (amazon-ec2-net-utils, setup-policy-routes: "IMDS reports 0 for the device-number prior to
   * propagation"). 0: no lag.
   */
  imdsPropagationMs: number;
  /** How long an Elastic IP's PTR record update stays `PENDING` before it takes effect (AWS: minutes). */
  ptrRecordUpdateMs: number;
}

export const DEFAULT_TIMINGS: Timings = {
  instancePendingMs: 0,
  instanceStoppingMs: 0,
  instanceShuttingDownMs: 0,
  attachingMs: 0,
  detachingMs: 0,
  terminatedVisibleMs: 60 * 60 * 1000,
  natGatewayPendingMs: 0,
  natGatewayDeletingMs: 0,
  natGatewayDeletedVisibleMs: 60 * 60 * 1000,
  imdsPropagationMs: 0,
  ptrRecordUpdateMs: 0,
};

export interface CloudConfig {
  quotas: Quotas;
  timings: Timings;
  /** Whether each account and region gets AWS's default VPC on first use. */
  defaultVpc: boolean;
  /** Where Elastic IPs and auto-assigned public IPv4 addresses come from (default: a range reserved for testing). */
  publicIpv4Pool: string;
  /** The server's data directory (flow-log files live under it). */
  dataDir: string;
  /** Default account for requests whose access key maps to no account. */
  defaultAccount: string;
}

export const AWS_DEFAULT_QUOTAS: Quotas = {
  vpcsPerRegion: 5,
  subnetsPerVpc: 200,
  securityGroupsPerInterface: 5,
  rulesPerSecurityGroup: 60,
  securityGroupsPerRegion: 2500,
  networkInterfacesPerRegion: 5000,
  elasticIpsPerRegion: 5,
  internetGatewaysPerRegion: 5,
  egressOnlyInternetGatewaysPerRegion: 5,
  tagsPerResource: 50,
  natGatewaysPerAvailabilityZone: 5,
  privateIpsPerNatGateway: 8,
  elasticIpsPerNatGateway: 2,
  interfaceEndpointsPerVpc: 50,
  gatewayEndpointsPerVpc: 20,
  prefixListsPerRegion: 100,
};

export function cloudConfig(
  overrides: { quotas?: Partial<Quotas>; timings?: Partial<Timings>; defaultAccount?: string; defaultVpc?: boolean; publicIpv4Pool?: string; dataDir?: string } = {},
): CloudConfig {
  return {
    quotas: { ...AWS_DEFAULT_QUOTAS, ...overrides.quotas },
    timings: { ...DEFAULT_TIMINGS, ...overrides.timings },
    defaultVpc: overrides.defaultVpc ?? true,
    // RFC 2544's benchmarking range: never routed on the internet, so never someone's real address.
    publicIpv4Pool: overrides.publicIpv4Pool ?? '198.18.0.0/15',
    dataDir: overrides.dataDir ?? '.eni-local',
    defaultAccount: overrides.defaultAccount ?? '000000000000',
  };
}
