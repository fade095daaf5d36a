/** AWS's fixed names, for the control plane and the data planes alike. */

/** AWS's internal domain: `ec2.internal` in us-east-1, `REGION.compute.internal` elsewhere. */
export function internalDomain(region: string): string {
  return region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`;
}
