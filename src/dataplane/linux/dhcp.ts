/**
 * The VPC's DHCP server, as AWS runs one behind every subnet: an interface asks with its MAC
 * address and is offered its primary private IPv4, its subnet's mask and router (`.1`), and the
 * options of the VPC's DHCP options set (AmazonProvidedDNS is the VPC's base + 2). What DHCP
 * says is the wire format of RFC 2131/2132; which lease an interface gets is the committed state.
 * Pure: `answer` turns one request into at most one reply; the plane owns the sockets.
 */
import { formatIpv4, lastAddress, maskOf, parseIpv4, parseIpv4Cidr } from '../../ipam/ipv4.ts';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

const MAGIC_COOKIE = 0x63825363;
const FIXED_LENGTH = 236;
/** BOOTP's minimum message: some clients drop anything shorter. */
const MINIMUM_LENGTH = 300;

export const MessageType = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;

const Option = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  DOMAIN_NAME: 15,
  INTERFACE_MTU: 26,
  BROADCAST: 28,
  NTP_SERVERS: 42,
  NETBIOS_NAME_SERVERS: 44,
  NETBIOS_NODE_TYPE: 46,
  REQUESTED_ADDRESS: 50,
  LEASE_TIME: 51,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  END: 255,
} as const;

export interface DhcpMessage {
  op: number;
  xid: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  giaddr: string;
  /** Lower-case `aa:bb:…` (Ethernet). */
  chaddr: string;
  type?: number;
  /** Option code → raw value. */
  options: Map<number, Buffer>;
}

/** What the server knows of the interface behind a MAC address. */
export interface Lease {
  address: string;
  subnetCidr: string;
  /** The VPC's options: `domain-name-servers`, `domain-name`, `ntp-servers`, `netbios-name-servers`, `netbios-node-type`, `ipv4-address-preferred-lease-time`. */
  options: Record<string, string[]>;
  /** The VPC's primary IPv4 block: where AmazonProvidedDNS answers (its base + 2). */
  vpcCidr: string;
  mtu: number;
}

export interface Reply {
  message: Buffer;
  /** Where the reply goes (always the interface's own address: the router knows its MAC address). */
  to: string;
}

const DEFAULT_LEASE_SECONDS = 3600;

export function parseDhcp(packet: Buffer): DhcpMessage | undefined {
  if (packet.length < FIXED_LENGTH + 4 || packet.readUInt32BE(FIXED_LENGTH) !== MAGIC_COOKIE) return undefined;
  const htype = packet[1];
  const hlen = packet[2];
  if (htype !== 1 || hlen !== 6) return undefined;
  const options = new Map<number, Buffer>();
  let at = FIXED_LENGTH + 4;
  while (at < packet.length) {
    const code = packet[at];
    if (code === Option.END) break;
    if (code === Option.PAD) {
      at += 1;
      continue;
    }
    if (at + 1 >= packet.length) return undefined;
    const length = packet[at + 1];
    if (at + 2 + length > packet.length) return undefined;
    const value = packet.subarray(at + 2, at + 2 + length);
    // RFC 3396: an option given more than once is the concatenation of its parts.
    options.set(code, options.has(code) ? Buffer.concat([options.get(code)!, value]) : Buffer.from(value));
    at += 2 + length;
  }
  const type = options.get(Option.MESSAGE_TYPE)?.[0];
  return {
    op: packet[0],
    xid: packet.readUInt32BE(4),
    flags: packet.readUInt16BE(10),
    ciaddr: readAddress(packet, 12),
    yiaddr: readAddress(packet, 16),
    giaddr: readAddress(packet, 24),
    chaddr: [...packet.subarray(28, 34)].map((b) => b.toString(16).padStart(2, '0')).join(':'),
    type,
    options,
  };
}

/**
 * The server's reply to one client message: an OFFER to a DISCOVER, an ACK or NAK to a REQUEST
 * (selecting, init-reboot, renewing or rebinding, RFC 2131 §4.3.2), an ACK without an address to an
 * INFORM; nothing to anything else, or to a REQUEST meant for another server.
 */
export function answer(request: DhcpMessage, lease: Lease | undefined): Reply | undefined {
  if (request.op !== 1 || !lease || request.giaddr !== '0.0.0.0') return undefined;
  const server = subnetRouter(lease.subnetCidr);
  switch (request.type) {
    case MessageType.DISCOVER:
      return reply(request, MessageType.OFFER, lease, server);
    case MessageType.REQUEST: {
      const serverId = addressOption(request, Option.SERVER_ID);
      if (serverId !== undefined && serverId !== server) return undefined;
      const wanted = addressOption(request, Option.REQUESTED_ADDRESS) ?? (request.ciaddr !== '0.0.0.0' ? request.ciaddr : undefined);
      if (wanted === undefined) return undefined;
      return reply(request, wanted === lease.address ? MessageType.ACK : MessageType.NAK, lease, server);
    }
    case MessageType.INFORM:
      return reply(request, MessageType.ACK, lease, server, false);
    default:
      return undefined;
  }
}

function reply(request: DhcpMessage, type: number, lease: Lease, server: string, withAddress = true): Reply {
  const block = parseIpv4Cidr(lease.subnetCidr)!;
  const options: [number, Buffer][] = [
    [Option.MESSAGE_TYPE, Buffer.from([type])],
    [Option.SERVER_ID, addressBytes(server)],
  ];
  if (type !== MessageType.NAK) {
    const leaseSeconds = Number(lease.options['ipv4-address-preferred-lease-time']?.[0] ?? DEFAULT_LEASE_SECONDS) || DEFAULT_LEASE_SECONDS;
    if (withAddress) {
      options.push(
        [Option.LEASE_TIME, uint32(leaseSeconds)],
        [Option.RENEWAL_TIME, uint32(Math.floor(leaseSeconds / 2))],
        [Option.REBINDING_TIME, uint32(Math.floor((leaseSeconds * 7) / 8))],
      );
    }
    options.push(
      [Option.SUBNET_MASK, uint32(maskOf(block.prefix))],
      [Option.ROUTER, addressBytes(server)],
      [Option.BROADCAST, uint32(lastAddress(block))],
      [Option.INTERFACE_MTU, Buffer.from([lease.mtu >> 8, lease.mtu & 0xff])],
    );
    const dns = (lease.options['domain-name-servers'] ?? []).map((v) => (v === 'AmazonProvidedDNS' ? amazonProvidedDns(lease.vpcCidr) : v)).filter((v) => parseIpv4(v) !== undefined);
    if (dns.length) options.push([Option.DNS_SERVERS, Buffer.concat(dns.map(addressBytes))]);
    const domain = lease.options['domain-name']?.join(' ');
    if (domain) options.push([Option.DOMAIN_NAME, Buffer.from(domain, 'ascii')]);
    const ntp = (lease.options['ntp-servers'] ?? []).filter((v) => parseIpv4(v) !== undefined);
    if (ntp.length) options.push([Option.NTP_SERVERS, Buffer.concat(ntp.map(addressBytes))]);
    const netbios = (lease.options['netbios-name-servers'] ?? []).filter((v) => parseIpv4(v) !== undefined);
    if (netbios.length) options.push([Option.NETBIOS_NAME_SERVERS, Buffer.concat(netbios.map(addressBytes))]);
    const nodeType = Number(lease.options['netbios-node-type']?.[0]);
    if (Number.isInteger(nodeType) && nodeType > 0) options.push([Option.NETBIOS_NODE_TYPE, Buffer.from([nodeType])]);
  }
  const message = Buffer.alloc(Math.max(MINIMUM_LENGTH, FIXED_LENGTH + 4 + options.reduce((n, [, v]) => n + 2 + v.length, 0) + 1));
  message[0] = 2; // BOOTREPLY
  message[1] = 1;
  message[2] = 6;
  message.writeUInt32BE(request.xid, 4);
  message.writeUInt16BE(request.flags, 10);
  if (type === MessageType.ACK && !withAddress) addressBytes(request.ciaddr).copy(message, 12);
  if (type !== MessageType.NAK && withAddress) addressBytes(lease.address).copy(message, 16);
  Buffer.from(request.chaddr.split(':').map((h) => parseInt(h, 16))).copy(message, 28);
  message.writeUInt32BE(MAGIC_COOKIE, FIXED_LENGTH);
  let at = FIXED_LENGTH + 4;
  for (const [code, value] of options) {
    message[at] = code;
    message[at + 1] = value.length;
    value.copy(message, at + 2);
    at += 2 + value.length;
  }
  message[at] = Option.END;
  return { message, to: lease.address };
}

/** AWS: the subnet's router is its base + 1; the DHCP server answers from it. */
export function subnetRouter(cidr: string): string {
  return formatIpv4(parseIpv4Cidr(cidr)!.network + 1);
}

/** AWS: the Amazon DNS server is at the base of the VPC's primary IPv4 block + 2. */
export function amazonProvidedDns(vpcCidr: string): string {
  return formatIpv4(parseIpv4Cidr(vpcCidr)!.network + 2);
}

function addressOption(message: DhcpMessage, code: number): string | undefined {
  const value = message.options.get(code);
  return value && value.length === 4 ? readAddress(value, 0) : undefined;
}

const readAddress = (buffer: Buffer, at: number) => `${buffer[at]}.${buffer[at + 1]}.${buffer[at + 2]}.${buffer[at + 3]}`;
const addressBytes = (address: string) => uint32(parseIpv4(address) ?? 0);

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0);
  return buffer;
}
