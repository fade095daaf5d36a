/**
 * Test fixtures for network-interface and instance tests: a VPC with named subnets, launches,
 * reads of one resource, polling, and the check every refusal test makes — that a refused call
 * changed nothing (no interface, instance or address appeared, moved or vanished).
 */
import assert from 'node:assert/strict';
import {
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  RunInstancesCommand,
  type CreateNetworkInterfaceCommandInput,
  type EC2Client,
  type Instance,
  type NetworkInterface,
  type RunInstancesCommandInput,
  type Subnet,
} from '@aws-sdk/client-ec2';
import { expectEc2Error } from './server.ts';

/** Any well-formed image id launches (eni-local does not check images exist). */
export const IMAGE_ID = 'ami-12345678';

export interface Network {
  vpcId: string;
  /** The VPC's `default` security group. */
  defaultGroupId: string;
  subnets: Record<string, Subnet>;
}

/** Creates a VPC and the named subnets (`{ app: { cidr: '10.0.1.0/28', zone: 'us-east-1a' } }`). */
export async function createNetwork(
  ec2: EC2Client,
  cidr: string,
  subnets: Record<string, { cidr: string; zone: string }>,
): Promise<Network> {
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
  const out: Record<string, Subnet> = {};
  for (const [name, s] of Object.entries(subnets)) {
    out[name] = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: s.cidr, AvailabilityZone: s.zone }))).Subnet!;
  }
  return { vpcId, defaultGroupId: await defaultGroupOf(ec2, vpcId), subnets: out };
}

export async function defaultGroupOf(ec2: EC2Client, vpcId: string): Promise<string> {
  const { SecurityGroups } = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: ['default'] }] }),
  );
  assert.equal(SecurityGroups!.length, 1, `VPC ${vpcId} has one default group`);
  return SecurityGroups![0].GroupId!;
}

export async function createGroup(ec2: EC2Client, vpcId: string, name: string): Promise<string> {
  return (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: `${name} group` }))).GroupId!;
}

/** The subnet's AvailableIpAddressCount as DescribeSubnets reports it now. */
export async function freeAddresses(ec2: EC2Client, subnetId: string): Promise<number> {
  return (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }))).Subnets![0].AvailableIpAddressCount!;
}

export async function createEni(ec2: EC2Client, input: CreateNetworkInterfaceCommandInput): Promise<NetworkInterface> {
  return (await ec2.send(new CreateNetworkInterfaceCommand(input))).NetworkInterface!;
}

export async function describeEni(ec2: EC2Client, id: string): Promise<NetworkInterface> {
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }));
  assert.equal(NetworkInterfaces!.length, 1);
  return NetworkInterfaces![0];
}

export async function describeInstance(ec2: EC2Client, id: string): Promise<Instance> {
  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  const instances = (Reservations ?? []).flatMap((r) => r.Instances ?? []);
  assert.equal(instances.length, 1);
  return instances[0];
}

/** RunInstances with one instance of the image unless told otherwise; returns the first instance. */
export async function launch(ec2: EC2Client, input: Partial<RunInstancesCommandInput> = {}): Promise<Instance> {
  const reservation = await ec2.send(new RunInstancesCommand({ ImageId: IMAGE_ID, MinCount: 1, MaxCount: 1, InstanceType: 't2.micro', ...input }));
  return reservation.Instances![0];
}

/** The ids of the interfaces in a subnet or VPC, sorted. */
export async function eniIdsIn(ec2: EC2Client, filter: { subnetId?: string; vpcId?: string }): Promise<string[]> {
  const Filters = filter.subnetId ? [{ Name: 'subnet-id', Values: [filter.subnetId] }] : [{ Name: 'vpc-id', Values: [filter.vpcId!] }];
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ Filters }));
  return NetworkInterfaces!.map((n) => n.NetworkInterfaceId!).sort();
}

/** The ids of the instances (any state) in a VPC, sorted. */
export async function instanceIdsIn(ec2: EC2Client, vpcId: string): Promise<string[]> {
  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
  return (Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!).sort();
}

/** Everything observable about the VPCs' subnets, interfaces and instances. */
export async function snapshot(ec2: EC2Client, vpcIds: readonly string[]) {
  const Filters = [{ Name: 'vpc-id', Values: [...vpcIds] }];
  const [subnets, enis, instances] = await Promise.all([
    ec2.send(new DescribeSubnetsCommand({ Filters })),
    ec2.send(new DescribeNetworkInterfacesCommand({ Filters })),
    ec2.send(new DescribeInstancesCommand({ Filters })),
  ]);
  return {
    subnets: subnets.Subnets,
    networkInterfaces: enis.NetworkInterfaces,
    instances: (instances.Reservations ?? []).flatMap((r) => r.Instances ?? []),
  };
}

/**
 * Asserts that the call fails with the EC2 error code and that nothing in the VPCs changed:
 * the same interfaces with the same status, attachment, addresses, groups and MAC; the same
 * instances in the same states; the same free address counts.
 */
export async function expectRefused(ec2: EC2Client, vpcIds: readonly string[], call: () => Promise<unknown>, code: string): Promise<Error> {
  const before = await snapshot(ec2, vpcIds);
  const error = await expectEc2Error(call(), code);
  const after = await snapshot(ec2, vpcIds);
  assert.deepEqual(after, before, `a call refused with ${code} must change nothing`);
  return error;
}

/** Calls `read` until `done` holds (or fails after timeoutMs); returns every distinct value seen, in order. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 5000, intervalMs = 25 } = {},
): Promise<T[]> {
  const seen: T[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (!seen.length || JSON.stringify(seen[seen.length - 1]) !== JSON.stringify(value)) seen.push(value);
    if (done(value)) return seen;
    if (Date.now() > deadline) assert.fail(`condition not reached within ${timeoutMs} ms; seen ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** What an interface carries with it from one attachment to the next. */
export function identityOf(eni: NetworkInterface) {
  return {
    NetworkInterfaceId: eni.NetworkInterfaceId,
    MacAddress: eni.MacAddress,
    PrivateIpAddress: eni.PrivateIpAddress,
    PrivateIpAddresses: eni.PrivateIpAddresses?.map((a) => ({ Primary: a.Primary, PrivateIpAddress: a.PrivateIpAddress })),
    Groups: eni.Groups,
    Description: eni.Description,
    SourceDestCheck: eni.SourceDestCheck,
    SubnetId: eni.SubnetId,
    VpcId: eni.VpcId,
    TagSet: eni.TagSet,
  };
}

export const addressesOf = (eni: { PrivateIpAddresses?: { PrivateIpAddress?: string }[] }) =>
  (eni.PrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress!);
