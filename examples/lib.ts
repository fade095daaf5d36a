/**
 * What every example shares: finding (or starting) an eni-local server, an EC2 client of the
 * AWS SDK for JavaScript v3, the probe call of eni-local's data plane, waiting for states, the
 * tidy-up, and the printing of the story.
 *
 * Where the examples run (one convention for all six):
 *   - ENI_LOCAL_ENDPOINT set: that server, and only that one; if it does not answer, the example
 *     fails (exit 2) rather than quietly running somewhere else.
 *   - ENI_LOCAL_ENDPOINT unset: http://127.0.0.1:4599 (what `npm start` serves) if it answers,
 *     otherwise a throw-away server started in-process (`startServer({ port: 0, database: 'memory' })`).
 *   - ENI_LOCAL_EXAMPLE_SELF_HOST=1: always the in-process server.
 * Each example works in a region and VPC CIDR of its own, so all six can share one server, and
 * deletes what it built when it ends (set ENI_LOCAL_EXAMPLE_KEEP=1 to keep it for a look with the
 * AWS CLI; the next run of the same example removes it first).
 *
 * Exit codes: 0 every probe gave the expected verdict; 1 one did not (or a call failed); 2 no server.
 */
import {
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  AssociateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteNetworkInterfaceCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  DisassociateRouteTableCommand,
  EC2Client,
  ReleaseAddressCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
  type InstanceNetworkInterface,
  type IpPermission,
  type NetworkInterface,
  type ResourceType,
  type RunInstancesCommandInput,
  type TagSpecification,
} from '@aws-sdk/client-ec2';

// The SDK warns that its releases after January 2027 will need Node.js 22; this pinned one runs on Node.js 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const DEFAULT_ENDPOINT = 'http://127.0.0.1:4599';
/** Any well-formed image id launches: eni-local does not check that images exist. */
export const IMAGE_ID = 'ami-12345678';

export interface Lab {
  ec2: EC2Client;
  endpoint: string;
  region: string;
  /** The example's name, as the `eni-local-example` tag of everything it creates. */
  name: string;
  /** The account the VPC belongs to (known once createVpc ran); probes run as that account. */
  account?: string;
}

// --- the story ------------------------------------------------------------------------------------

let unexpected = 0;

export const say = (text: string) => console.log(text);

/** Records a deviation from the expected outcome (the example then exits 1). */
export function expect(ok: boolean, what: string): void {
  if (!ok) {
    unexpected += 1;
    console.log(`  !! UNEXPECTED: ${what}`);
  }
}

/** The conclusion, printed only if everything went as expected so far. */
export function conclude(text: string): void {
  if (!unexpected) say(`Conclusion: ${text}`);
}

// --- finding the server ----------------------------------------------------------------------------

async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/_eni/health`, { signal: AbortSignal.timeout(10_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The data plane a server runs (`simulated` for servers older than the linux plane). */
async function dataplaneOf(endpoint: string): Promise<string> {
  const response = await fetch(`${endpoint}/_eni/dataplane`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
  if (!response?.ok) return 'simulated';
  return ((await response.json()) as { mode?: string }).mode ?? 'simulated';
}

async function findServer(dataplane: 'simulated' | 'linux'): Promise<{ endpoint: string; close?: () => Promise<void> }> {
  const explicit = process.env.ENI_LOCAL_ENDPOINT?.replace(/\/+$/, '');
  if (process.env.ENI_LOCAL_EXAMPLE_SELF_HOST !== '1') {
    const endpoint = explicit || DEFAULT_ENDPOINT;
    if (await answers(endpoint)) {
      if (dataplane === 'simulated' || (await dataplaneOf(endpoint)) === 'linux') return { endpoint };
      if (explicit) throw new Error(`the eni-local server at ENI_LOCAL_ENDPOINT=${explicit} runs the simulated data plane: this example needs one started with --dataplane linux`);
    } else if (explicit) throw new Error(`no eni-local answers at ENI_LOCAL_ENDPOINT=${explicit} (GET /_eni/health)`);
  }
  // Loaded only when needed: a user pointing at a running server does not load the server's code.
  const { startServer } = await import('../src/index.ts');
  const server = await startServer({ port: 0, database: 'memory', logLevel: 'error', ...(dataplane === 'linux' ? { dataplane } : {}) });
  return { endpoint: server.url, close: () => server.close() };
}

/**
 * Runs one example: finds the server, clears what an earlier run of it left, runs the story,
 * tidies up, and sets the exit code.
 */
export async function runExample(
  options: { name: string; title: string; region: string; /** `linux`: real packets (a server started with --dataplane linux, or one started here as root). */ dataplane?: 'simulated' | 'linux' },
  story: (lab: Lab) => Promise<void>,
): Promise<void> {
  let server: Awaited<ReturnType<typeof findServer>>;
  try {
    server = await findServer(options.dataplane ?? 'simulated');
  } catch (error) {
    console.error(`${options.title}: ${(error as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const ec2 = new EC2Client({
    endpoint: server.endpoint,
    region: options.region,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' },
  });
  const lab: Lab = { ec2, endpoint: server.endpoint, region: options.region, name: options.name };
  say(`== ${options.title} (${options.name}) ==`);
  say(`eni-local at ${server.endpoint}${server.close ? ' (started in-process)' : ''}, region ${options.region}`);
  try {
    await tearDown(lab);
    await story(lab);
    if (process.env.ENI_LOCAL_EXAMPLE_KEEP !== '1') await tearDown(lab);
  } catch (error) {
    unexpected += 1;
    console.log(`  !! FAILED: ${(error as Error).name}: ${(error as Error).message}`);
  } finally {
    ec2.destroy();
    await server.close?.();
  }
  if (unexpected) say(`RESULT: ${unexpected} unexpected outcome(s)`);
  process.exitCode = unexpected ? 1 : 0;
}

// --- the data plane ---------------------------------------------------------------------------------

export interface ProbeResult {
  delivered: boolean;
  reason?: string;
  destination?: { kind: 'instance' | 'appliance' | 'internet'; address: string; instanceId?: string; networkInterfaceId?: string; deviceIndex?: number; privateAddress?: string };
  hops: { component: string; resourceId: string; verdict: 'pass' | 'drop'; rule?: string; detail?: string }[];
}

/** Asks eni-local where a packet goes: `from` is eni-…, i-…, internet or internet:ADDRESS. */
export async function probe(lab: Lab, flow: { from: string; to: string; protocol?: string; port?: number }): Promise<ProbeResult> {
  const response = await fetch(`${lab.endpoint}/_eni/probe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-eni-region': lab.region, ...(lab.account ? { 'x-eni-account': lab.account } : {}) },
    body: JSON.stringify({ protocol: 'tcp', ...flow }),
  });
  const body = (await response.json()) as ProbeResult & { error?: { message: string } };
  if (!response.ok) throw new Error(`probe ${JSON.stringify(flow)} refused: ${body.error?.message ?? response.status}`);
  return body;
}

/** One line for a verdict: delivered to whom, or dropped where and why. */
export function verdict(result: ProbeResult): string {
  const d = result.destination;
  if (result.delivered) {
    if (d?.kind === 'internet') return `delivered to the internet (${d.address})`;
    const device = d?.deviceIndex === undefined ? '' : ` eth${d.deviceIndex}`;
    const via = d?.privateAddress ? ` at ${d.privateAddress}` : '';
    return `delivered to ${d?.instanceId}${device}${via}${d?.kind === 'appliance' ? ' (as an appliance)' : ''}`;
  }
  const hop = result.hops.find((h) => h.verdict === 'drop');
  return `DROPPED: ${result.reason}${hop ? ` at ${hop.component} ${hop.resourceId}` : ''}`;
}

/**
 * Probes a flow, prints `label: verdict`, and checks the outcome against what AWS would do:
 * `{ delivered: true, … }` fields of the destination, or `{ reason }` (or a list of reasons).
 */
export async function check(
  lab: Lab,
  label: string,
  flow: Parameters<typeof probe>[1],
  expected: ({ delivered: true } & Partial<NonNullable<ProbeResult['destination']>>) | { delivered: false; reason: string | string[] },
): Promise<ProbeResult> {
  const result = await probe(lab, flow);
  say(`  ${label}: ${verdict(result)}`);
  if (expected.delivered) {
    const { delivered: _, ...want } = expected;
    const got = Object.fromEntries(Object.keys(want).map((k) => [k, result.destination?.[k as keyof typeof want]]));
    expect(result.delivered && JSON.stringify(got) === JSON.stringify(want), `expected delivery to ${JSON.stringify(want)}`);
  } else {
    const reasons = ([] as string[]).concat(expected.reason);
    expect(!result.delivered && reasons.includes(result.reason!), `expected a drop with ${reasons.join(' or ')}`);
  }
  return result;
}

/** Fault injection: the instance keeps running but fails its status checks (`recover` undoes it). */
export async function setInstanceHealth(lab: Lab, instanceId: string, action: 'fail' | 'recover'): Promise<void> {
  const response = await fetch(`${lab.endpoint}/_eni/instances/${instanceId}/${action}`, {
    method: 'POST',
    headers: { 'x-eni-region': lab.region, ...(lab.account ? { 'x-eni-account': lab.account } : {}) },
  });
  if (!response.ok) throw new Error(`${action} ${instanceId}: HTTP ${response.status} ${await response.text()}`);
}

// --- building -------------------------------------------------------------------------------------

/** Name and example tags for a create call's TagSpecifications. */
export function tagged(lab: Lab, resourceType: ResourceType, name: string): TagSpecification[] {
  return [{ ResourceType: resourceType, Tags: [{ Key: 'Name', Value: name }, { Key: 'eni-local-example', Value: lab.name }] }];
}

export async function createVpc(lab: Lab, cidr: string): Promise<string> {
  const { Vpc } = await lab.ec2.send(new CreateVpcCommand({ CidrBlock: cidr, TagSpecifications: tagged(lab, 'vpc', lab.name) }));
  lab.account = Vpc!.OwnerId;
  return Vpc!.VpcId!;
}

export async function createSubnet(lab: Lab, vpcId: string, cidr: string, zone: string, name: string): Promise<string> {
  const { Subnet } = await lab.ec2.send(
    new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: `${lab.region}${zone}`, TagSpecifications: tagged(lab, 'subnet', name) }),
  );
  return Subnet!.SubnetId!;
}

/** A security group with the given ingress rules (and AWS's default: all egress allowed). */
export async function createGroup(lab: Lab, vpcId: string, name: string, ingress: IpPermission[]): Promise<string> {
  const { GroupId } = await lab.ec2.send(
    new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: name, Description: `${name} (${lab.name})`, TagSpecifications: tagged(lab, 'security-group', name) }),
  );
  if (ingress.length) await lab.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: ingress }));
  return GroupId!;
}

/** An ingress rule: `tcp(22, '10.0.3.0/24')` or `tcp(5432, { group: 'sg-…' })`. */
export function tcp(port: number, from: string | { group: string }): IpPermission {
  return {
    IpProtocol: 'tcp',
    FromPort: port,
    ToPort: port,
    ...(typeof from === 'string' ? { IpRanges: [{ CidrIp: from }] } : { UserIdGroupPairs: [{ GroupId: from.group }] }),
  };
}

/** An internet gateway attached to the VPC and a route table sending 0.0.0.0/0 to it, for these subnets. */
export async function connectToInternet(lab: Lab, vpcId: string, subnetIds: string[]): Promise<string> {
  const { InternetGateway } = await lab.ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: tagged(lab, 'internet-gateway', 'igw') }));
  const gatewayId = InternetGateway!.InternetGatewayId!;
  await lab.ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: vpcId }));
  const { RouteTable } = await lab.ec2.send(new CreateRouteTableCommand({ VpcId: vpcId, TagSpecifications: tagged(lab, 'route-table', 'public') }));
  await lab.ec2.send(new CreateRouteCommand({ RouteTableId: RouteTable!.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: gatewayId }));
  for (const SubnetId of subnetIds) await lab.ec2.send(new AssociateRouteTableCommand({ RouteTableId: RouteTable!.RouteTableId, SubnetId }));
  return gatewayId;
}

/** RunInstances for one instance, then waits until it runs; returns it as DescribeInstances shows it. */
export async function launch(lab: Lab, name: string, input: Partial<RunInstancesCommandInput>): Promise<Instance> {
  const { Instances } = await lab.ec2.send(
    new RunInstancesCommand({ ImageId: IMAGE_ID, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, TagSpecifications: tagged(lab, 'instance', name), ...input }),
  );
  return waitFor(`${name} running`, () => describeInstance(lab, Instances![0].InstanceId!), (i) => i.State?.Name === 'running');
}

export async function describeInstance(lab: Lab, instanceId: string): Promise<Instance> {
  const { Reservations } = await lab.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return Reservations![0].Instances![0];
}

export async function describeEni(lab: Lab, networkInterfaceId: string): Promise<NetworkInterface> {
  const { NetworkInterfaces } = await lab.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [networkInterfaceId] }));
  return NetworkInterfaces![0];
}

/** The instance's interface at a device index. */
export function eniAt(instance: Instance, deviceIndex: number): InstanceNetworkInterface {
  const eni = instance.NetworkInterfaces?.find((n) => n.Attachment?.DeviceIndex === deviceIndex);
  if (!eni) throw new Error(`${instance.InstanceId} has no interface at device index ${deviceIndex}`);
  return eni;
}

/** Reads until the condition holds, every `intervalMs`; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, { timeoutMs = 30_000, intervalMs = 25 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// --- tidying up ---------------------------------------------------------------------------------------

/**
 * Deletes everything tagged with this example's name — its Elastic IPs and its VPCs with all they
 * hold — in the order AWS requires, so that runs stay within the default quotas (5 VPCs and
 * 5 Elastic IPs a region).
 */
export async function tearDown(lab: Lab): Promise<void> {
  const { ec2 } = lab;
  const mine = [{ Name: 'tag:eni-local-example', Values: [lab.name] }];
  for (const address of (await ec2.send(new DescribeAddressesCommand({ Filters: mine }))).Addresses ?? []) {
    if (address.AssociationId) await ec2.send(new DisassociateAddressCommand({ AssociationId: address.AssociationId }));
    await ec2.send(new ReleaseAddressCommand({ AllocationId: address.AllocationId }));
  }
  for (const { VpcId } of (await ec2.send(new DescribeVpcsCommand({ Filters: mine }))).Vpcs ?? []) {
    const inVpc = [{ Name: 'vpc-id', Values: [VpcId!] }];
    const reservations = (await ec2.send(new DescribeInstancesCommand({ Filters: inVpc }))).Reservations ?? [];
    const instanceIds = reservations.flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== 'terminated').map((i) => i.InstanceId!);
    if (instanceIds.length) {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: instanceIds }));
      for (const id of instanceIds) await waitFor(`${id} terminated`, () => describeInstance(lab, id), (i) => i.State?.Name === 'terminated');
    }
    for (const eni of (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: inVpc }))).NetworkInterfaces ?? []) {
      if (eni.Attachment?.AttachmentId) {
        await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: eni.Attachment.AttachmentId, Force: true }));
        await waitFor(`${eni.NetworkInterfaceId} available`, () => describeEni(lab, eni.NetworkInterfaceId!), (n) => n.Status === 'available');
      }
      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId }));
    }
    for (const igw of (await ec2.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [VpcId!] }] }))).InternetGateways ?? []) {
      await ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId }));
      await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId }));
    }
    for (const table of (await ec2.send(new DescribeRouteTablesCommand({ Filters: inVpc }))).RouteTables ?? []) {
      if (table.Associations?.some((a) => a.Main)) continue;
      for (const a of table.Associations ?? []) await ec2.send(new DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId }));
      await ec2.send(new DeleteRouteTableCommand({ RouteTableId: table.RouteTableId }));
    }
    // Groups that other groups' rules refer to can go only once those rules are gone.
    const groups = ((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: inVpc }))).SecurityGroups ?? []).filter((g) => g.GroupName !== 'default');
    for (const group of groups) {
      const rules = (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [group.GroupId!] }] }))).SecurityGroupRules ?? [];
      const ingress = rules.filter((r) => !r.IsEgress).map((r) => r.SecurityGroupRuleId!);
      if (ingress.length) await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: group.GroupId, SecurityGroupRuleIds: ingress }));
    }
    for (const group of groups) await ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId }));
    for (const subnet of (await ec2.send(new DescribeSubnetsCommand({ Filters: inVpc }))).Subnets ?? []) {
      await ec2.send(new DeleteSubnetCommand({ SubnetId: subnet.SubnetId }));
    }
    await ec2.send(new DeleteVpcCommand({ VpcId }));
  }
}
