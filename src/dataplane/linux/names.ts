/**
 * Names in the kernel. Namespace names are global on the machine, so each carries the server's
 * prefix (`eni-<6 hex>-…`); interface names live inside namespaces the plane owns, so they only
 * need to be unique there, and fit Linux's 15 characters.
 */

/** The fixed addresses of the plane (documentation and benchmarking ranges: never a real host). */
export const PLANE = {
  /** Where every instance finds its metadata service (on the VPC router, as on AWS's hypervisor). */
  imdsIpv4: '169.254.169.254',
  imdsIpv6: 'fd00:ec2::254',
  /** The EC2 API as seen from inside the plane, on the internet side. */
  apiIpv4: '198.51.100.1',
  /** The internet: every address of these ranges is a host of the internet namespace. */
  internetIpv4Range: '203.0.113.0/24',
  internetIpv6Range: '2001:db8::/64',
  /** The internet's default source addresses (the simulated plane's DEFAULT_INTERNET_ADDRESS). */
  internetIpv4: '203.0.113.10',
  internetIpv6: '2001:db8::10',
  /** The router ↔ internet link's two ends: /32s on loopback, reached with `onlink` routes. */
  routerUplinkIpv4: '169.254.0.1',
  internetUplinkIpv4: '169.254.0.2',
  routerLinkLocal: 'fe80::1',
  internetLinkLocal: 'fe80::2',
  /** AWS: inside a VPC, jumbo frames (its DHCP server says so too); through the internet gateway 1500. */
  interfaceMtu: 9001,
} as const;

/** The last 14 hex digits of an id: unique enough inside one namespace, and short. */
const tail = (id: string) => id.slice(id.indexOf('-') + 1).slice(-14);

export class PlaneNames {
  constructor(readonly prefix: string) {}

  get internet(): string {
    return `eni-${this.prefix}-internet`;
  }

  /** Where detached interfaces wait: the same kernel interface, MAC address and counters. */
  get parking(): string {
    return `eni-${this.prefix}-parking`;
  }

  router(vpcId: string): string {
    return `eni-${this.prefix}-${vpcId}`;
  }

  instance(instanceId: string): string {
    return `eni-${this.prefix}-${instanceId}`;
  }

  /** Whether a namespace name belongs to this server. */
  owns(namespace: string): boolean {
    return namespace.startsWith(`eni-${this.prefix}-`);
  }

  /** The router's end of an interface's veth pair. */
  routerLink(eniId: string): string {
    return `v${tail(eniId)}`;
  }

  /** The interface's own end while it is not inside an instance (and while it moves). */
  parkedLink(eniId: string): string {
    return `p${tail(eniId)}`;
  }

  /** The internet's end of a VPC router's uplink. */
  uplink(vpcId: string): string {
    return `r${tail(vpcId)}`;
  }
}

/** The router's end of the uplink to the internet (inside each VPC router namespace). */
export const ROUTER_UPLINK = 'gw';

/** Every namespace name a server of any prefix made: `eni-<6 hex>-…`. */
export const PLANE_NAMESPACE = /^eni-([0-9a-f]{6})-/;
