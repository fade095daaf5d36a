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
  tagsPerResource: number;
}

export interface CloudConfig {
  quotas: Quotas;
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
  tagsPerResource: 50,
};

export function cloudConfig(overrides: { quotas?: Partial<Quotas>; defaultAccount?: string } = {}): CloudConfig {
  return {
    quotas: { ...AWS_DEFAULT_QUOTAS, ...overrides.quotas },
    defaultAccount: overrides.defaultAccount ?? '000000000000',
  };
}
