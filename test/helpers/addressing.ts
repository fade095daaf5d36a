/**
 * Test fixtures for the addressing suites (IPv4, IPv6, Elastic IPs, internet gateways): address
 * arithmetic done independently of the server, internet gateways, Elastic IP reads and clean-up,
 * and a wider "nothing changed" check that also covers VPC blocks, Elastic IPs and gateways.
 */
import assert from 'node:assert/strict';
import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  DescribeAddressesCommand,
  DescribeInternetGatewaysCommand,
  DescribeVpcsCommand,
  DisassociateAddressCommand,
  ReleaseAddressCommand,
  type Address,
  type EC2Client,
  type Instance,
  type InternetGateway,
  type Vpc,
} from '@aws-sdk/client-ec2';
import ipaddr from 'ipaddr.js';
import { expectEc2Error } from './server.ts';
import { describeInstance, pollUntil, snapshot } from './topology.ts';

/** Where eni-local takes Elastic IPs and automatic public IPv4 addresses from by default. */
export const PUBLIC_POOL = '198.18.0.0/15';

// --- IPv4 arithmetic --------------------------------------------------------------------------------

export function ipv4ToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  assert.equal(parts.length, 4, `${ip} is a dotted quad`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function ipv4Range(cidr: string): { first: number; last: number; prefix: number } {
  const [base, bits] = cidr.split('/');
  const prefix = Number(bits);
  const size = 2 ** (32 - prefix);
  const first = ipv4ToInt(base) - (ipv4ToInt(base) % size);
  return { first, last: first + size - 1, prefix };
}

export function inIpv4Cidr(ip: string, cidr: string): boolean {
  const { first, last } = ipv4Range(cidr);
  const n = ipv4ToInt(ip);
  return n >= first && n <= last;
}

/** The five addresses AWS reserves in an IPv4 subnet: the first four and the last. */
export function reservedIpv4(cidr: string): string[] {
  const { first, last } = ipv4Range(cidr);
  return [first, first + 1, first + 2, first + 3, last].map(intToIpv4);
}

/** Asserts that `prefix` is an aligned /28 (`x.y.z.16/28` style) inside `subnetCidr`. */
export function assertAlignedIpv4Prefix(prefix: string, subnetCidr: string): void {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/28$/.exec(prefix);
  assert.ok(match, `${prefix} is a /28`);
  assert.equal(ipv4ToInt(match[1]) % 16, 0, `${prefix} starts on a multiple of 16`);
  assert.ok(inIpv4Cidr(match[1], subnetCidr) && inIpv4Cidr(intToIpv4(ipv4ToInt(match[1]) + 15), subnetCidr), `${prefix} lies in ${subnetCidr}`);
}

/** The 16 addresses of a /28 prefix. */
export function addressesOfPrefix(prefix: string): string[] {
  const { first } = ipv4Range(prefix);
  return Array.from({ length: 16 }, (_, i) => intToIpv4(first + i));
}

// --- IPv6 arithmetic --------------------------------------------------------------------------------

export function ipv6ToBigInt(ip: string): bigint {
  let value = 0n;
  for (const part of ipaddr.IPv6.parse(ip).parts) value = (value << 16n) | BigInt(part);
  return value;
}

/** RFC 5952 text (lower case, longest zero run compressed), as EC2 prints IPv6 addresses. */
export function bigIntToIpv6(value: bigint): string {
  const parts: number[] = [];
  for (let i = 7; i >= 0; i--) parts.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  return new ipaddr.IPv6(parts).toRFC5952String();
}

export function ipv6Block(cidr: string): { network: bigint; prefix: number; last: bigint } {
  const [base, bits] = cidr.split('/');
  const prefix = Number(bits);
  const hostBits = BigInt(128 - prefix);
  const network = (ipv6ToBigInt(base) >> hostBits) << hostBits;
  return { network, prefix, last: network + (1n << hostBits) - 1n };
}

export function inIpv6Cidr(ip: string, cidr: string): boolean {
  const { network, last } = ipv6Block(cidr);
  const value = ipv6ToBigInt(ip.includes('/') ? ip.split('/')[0] : ip);
  return value >= network && value <= last;
}

/** The `index`-th /64 of a VPC's /56, in canonical form. */
export function subnet64(vpcBlock: string, index: number): string {
  const { network, prefix } = ipv6Block(vpcBlock);
  assert.equal(prefix, 56, `${vpcBlock} is a /56`);
  assert.ok(index >= 0 && index < 256);
  return `${bigIntToIpv6(network + (BigInt(index) << 64n))}/64`;
}

/** The address at `offset` inside an IPv6 block, in canonical form. */
export function ipv6At(cidr: string, offset: bigint): string {
  return bigIntToIpv6(ipv6Block(cidr).network + offset);
}

/** The full eight-group form of an IPv6 address (`2001:db8:0:0:0:0:0:1`). */
export function expandIpv6(ip: string): string {
  return ipaddr.IPv6.parse(ip).toNormalizedString();
}

/** Whether the text is the canonical (RFC 5952) form of an IPv6 address or CIDR. */
export function isCanonicalIpv6(text: string): boolean {
  const [address, bits] = text.split('/');
  return bigIntToIpv6(ipv6ToBigInt(address)) === address && (bits === undefined || /^\d+$/.test(bits));
}

// --- public addresses ------------------------------------------------------------------------------

export function publicDnsName(publicIp: string, region = 'us-east-1'): string {
  const host = `ec2-${publicIp.replaceAll('.', '-')}`;
  return region === 'us-east-1' ? `${host}.compute-1.amazonaws.com` : `${host}.${region}.compute.amazonaws.com`;
}

/** The caller's Elastic IP with this allocation id, as DescribeAddresses reports it. */
export async function describeAddress(ec2: EC2Client, allocationId: string): Promise<Address> {
  const { Addresses } = await ec2.send(new DescribeAddressesCommand({ AllocationIds: [allocationId] }));
  assert.equal(Addresses!.length, 1);
  return Addresses![0];
}

/** Every Elastic IP of the caller in the client's region. */
export async function allAddresses(ec2: EC2Client): Promise<Address[]> {
  return (await ec2.send(new DescribeAddressesCommand({}))).Addresses ?? [];
}

/** Disassociates and releases every Elastic IP of the caller in the client's region. */
export async function releaseAllAddresses(ec2: EC2Client): Promise<void> {
  for (const a of await allAddresses(ec2)) {
    if (a.AssociationId) await ec2.send(new DisassociateAddressCommand({ AssociationId: a.AssociationId }));
    await ec2.send(new ReleaseAddressCommand({ AllocationId: a.AllocationId }));
  }
}

/** What an Elastic IP's association looks like in DescribeAddresses. */
export function associationOf(a: Address) {
  return {
    AssociationId: a.AssociationId,
    InstanceId: a.InstanceId,
    NetworkInterfaceId: a.NetworkInterfaceId,
    PrivateIpAddress: a.PrivateIpAddress,
  };
}

/** The public IPv4 of an instance as DescribeInstances shows it on the instance and its primary interface. */
export async function publicIpOf(ec2: EC2Client, instanceId: string): Promise<string | undefined> {
  const instance = await describeInstance(ec2, instanceId);
  const primary = instance.NetworkInterfaces?.find((n) => n.Attachment?.DeviceIndex === 0);
  assert.equal(instance.PublicIpAddress, primary?.Association?.PublicIp, 'the instance mirrors its primary interface');
  return instance.PublicIpAddress;
}

/** Polls DescribeInstances until the instance reaches the state. */
export async function waitForState(ec2: EC2Client, instanceId: string, state: string): Promise<Instance> {
  await pollUntil(
    async () => (await describeInstance(ec2, instanceId)).State?.Name,
    (s) => s === state,
  );
  return describeInstance(ec2, instanceId);
}

// --- internet gateways ------------------------------------------------------------------------------

/** Creates an internet gateway and attaches it to the VPC when one is given; returns its id. */
export async function createGateway(ec2: EC2Client, vpcId?: string): Promise<string> {
  const id = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  if (vpcId) await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId }));
  return id;
}

export async function describeGateway(ec2: EC2Client, id: string): Promise<InternetGateway> {
  const { InternetGateways } = await ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] }));
  assert.equal(InternetGateways!.length, 1);
  return InternetGateways![0];
}

export async function describeVpc(ec2: EC2Client, id: string): Promise<Vpc> {
  const { Vpcs } = await ec2.send(new DescribeVpcsCommand({ VpcIds: [id] }));
  assert.equal(Vpcs!.length, 1);
  return Vpcs![0];
}

// --- refusals ---------------------------------------------------------------------------------------

/**
 * Everything observable about the VPCs (their blocks, subnets, interfaces, instances) and about
 * the caller's Elastic IPs and internet gateways in the client's region.
 */
export async function fullSnapshot(ec2: EC2Client, vpcIds: readonly string[]) {
  const [base, vpcs, addresses, gateways] = await Promise.all([
    snapshot(ec2, vpcIds),
    vpcIds.length ? ec2.send(new DescribeVpcsCommand({ VpcIds: [...vpcIds] })) : Promise.resolve({ Vpcs: [] }),
    allAddresses(ec2),
    ec2.send(new DescribeInternetGatewaysCommand({})),
  ]);
  return { ...base, vpcs: vpcs.Vpcs, addresses, gateways: gateways.InternetGateways };
}

/**
 * Asserts that the call fails with the EC2 error code and that nothing changed: the VPCs' blocks,
 * subnets (and their free address counts), interfaces and their addresses, instances, Elastic
 * IPs and their associations, and internet gateways and their attachments.
 */
export async function expectUnchanged(ec2: EC2Client, vpcIds: readonly string[], call: () => Promise<unknown>, code: string): Promise<Error> {
  const before = await fullSnapshot(ec2, vpcIds);
  const error = await expectEc2Error(call(), code);
  const after = await fullSnapshot(ec2, vpcIds);
  assert.deepEqual(after, before, `a call refused with ${code} must change nothing`);
  return error;
}
