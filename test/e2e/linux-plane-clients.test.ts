/**
 * Programs inside instances that call the EC2 API as on AWS: the AWS CLI run in an instance's
 * namespace with AWS_ENDPOINT_URL_EC2 at the API's address on the internet side, reached through
 * the instance's internet gateway (so only with a public address), and keepalived on two instances
 * moving a floating interface through the API when VRRP elects a new master.
 * Every packet stays between namespaces of the test server's plane.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  DescribeRouteTablesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createNetwork, describeEni, launch, type Network } from '../helpers/topology.ts';
import { linuxPlaneSkip, namespaceOf } from '../helpers/plane.ts';
import { awsCliArgs, awsCliEnvironment, awsCliSkip } from '../helpers/aws-cli.ts';

const run = promisify(execFile);
const skip = linuxPlaneSkip() || awsCliSkip();

/** A VPC whose main route table sends 0.0.0.0/0 to an internet gateway. */
async function publicNetwork(ec2: EC2Client, cidr: string, subnets: Record<string, { cidr: string; zone: string }>): Promise<Network> {
  const network = await createNetwork(ec2, cidr, subnets);
  const gatewayId = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: network.vpcId }));
  const { RouteTables } = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [network.vpcId] }] }));
  await ec2.send(new CreateRouteCommand({ RouteTableId: RouteTables![0].RouteTableId!, DestinationCidrBlock: '0.0.0.0/0', GatewayId: gatewayId }));
  return network;
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the AWS CLI inside an instance', { skip }, () => {
  let server: TestServer;
  let ec2: EC2Client;

  before(async () => {
    server = await startTestServer({ dataplane: 'linux', defaultVpc: false });
    ec2 = server.client();
  });
  after(async () => {
    const names = server.plane!.names;
    await server.stop();
    const left = spawnSync('ip', ['netns', 'list']).stdout.toString().split('\n').filter((n) => n && names.owns(n.split(' ')[0]));
    assert.deepEqual(left, [], 'a clean stop leaves no namespace behind');
  });

  /** `aws ec2 …` inside the instance, as `eni-local exec i-… -- aws ec2 …` runs it. */
  const aws = async (instanceId: string, args: string[]): Promise<CliResult> => {
    try {
      const { stdout, stderr } = await run('ip', ['netns', 'exec', namespaceOf(server, instanceId), 'aws', ...awsCliArgs(), ...args], { env: awsCliEnvironment(), timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
    }
  };

  test('with an Elastic IP and a route to its internet gateway, an instance describes and attaches interfaces through the EC2 API', async () => {
    const net = await publicNetwork(ec2, '10.40.0.0/16', { a: { cidr: '10.40.1.0/24', zone: 'us-east-1a' } });
    const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const { AllocationId } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await ec2.send(new AssociateAddressCommand({ AllocationId, InstanceId: instance.InstanceId }));
    const eni = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId, Description: 'hot-plugged' });

    const described = await aws(instance.InstanceId!, ['ec2', 'describe-network-interfaces', '--filters', `Name=vpc-id,Values=${net.vpcId}`, '--output', 'json']);
    assert.equal(described.code, 0, described.stderr);
    const ids = (JSON.parse(described.stdout) as { NetworkInterfaces: { NetworkInterfaceId: string }[] }).NetworkInterfaces.map((n) => n.NetworkInterfaceId).sort();
    assert.deepEqual(ids, [instance.NetworkInterfaces![0].NetworkInterfaceId!, eni.NetworkInterfaceId!].sort());

    // The instance attaches an interface to itself, as a script on it does.
    const attached = await aws(instance.InstanceId!, ['ec2', 'attach-network-interface', '--network-interface-id', eni.NetworkInterfaceId!, '--instance-id', instance.InstanceId!, '--device-index', '1', '--output', 'json']);
    assert.equal(attached.code, 0, attached.stderr);
    assert.match((JSON.parse(attached.stdout) as { AttachmentId: string }).AttachmentId, /^eni-attach-[0-9a-f]{17}$/);
    assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Attachment?.InstanceId, instance.InstanceId);
    // And the kernel followed before the answer: eth1 is there, with the interface's MAC address.
    const { stdout } = await run('ip', ['-n', namespaceOf(server, instance.InstanceId!), '-j', 'link', 'show', 'eth1']);
    assert.equal((JSON.parse(stdout) as { address: string }[])[0].address, eni.MacAddress);
  });

  test('without a public address the call has no path out of the VPC and fails, as on AWS', async () => {
    const net = await publicNetwork(ec2, '10.41.0.0/16', { a: { cidr: '10.41.1.0/24', zone: 'us-east-1a' } });
    const instance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const result = await aws(instance.InstanceId!, ['ec2', 'describe-network-interfaces', '--cli-connect-timeout', '2', '--cli-read-timeout', '2']);
    assert.notEqual(result.code, 0, 'the CLI fails');
    assert.match(result.stderr, /Could not connect to the endpoint URL|Connect timeout|timed out/i);
    assert.match(result.stderr, /198\.51\.100\.1/, 'it tried the API address inside the plane, nothing else');
  });
});
