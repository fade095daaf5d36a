/**
 * Reachability Analyzer end to end through the SDK: network insights paths (instances,
 * interfaces and internet gateways as sources, instances, interfaces or an address as
 * destinations), analyses with their forward path components and explanation codes, describing
 * and deleting both — and, for every drop reason, that a probe, an analysis of the same path and
 * the flow log of the VPC tell the same story.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AssociateRouteTableCommand,
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateFlowLogsCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateNetworkInsightsPathCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  DeleteNetworkInsightsAnalysisCommand,
  DeleteNetworkInsightsPathCommand,
  DescribeNetworkInsightsAnalysesCommand,
  DescribeNetworkInsightsPathsCommand,
  DetachNetworkInterfaceCommand,
  ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  StartNetworkInsightsAnalysisCommand,
  StopInstancesCommand,
  type CreateNetworkInsightsPathCommandInput,
  type EC2Client,
  type Instance,
  type NetworkInsightsAnalysis,
  type NetworkInsightsPath,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createGroup, createNetwork, launch, type Network } from '../helpers/topology.ts';
import { createGateway, waitForState } from '../helpers/addressing.ts';
import {
  aclAssociationOf,
  flowLogLines,
  mainRouteTableOf,
  parseRecord,
  probe,
  waitUntilNetworkInsightsAnalysisSucceeded,
  type DropReason,
  type FlowResult,
} from '../helpers/dataplane.ts';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const PATH_ID = /^nip-[0-9a-f]{17}$/;
const ANALYSIS_ID = /^nia-[0-9a-f]{17}$/;
const ROLE = 'arn:aws:iam::000000000000:role/flow-logs';
const RESOURCE_TYPES: Record<string, string> = {
  eni: 'network-interface',
  i: 'instance',
  igw: 'internet-gateway',
  sg: 'security-group',
  acl: 'network-acl',
  rtb: 'route-table',
  nip: 'network-insights-path',
  nia: 'network-insights-analysis',
};
const arnOf = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${RESOURCE_TYPES[id.slice(0, id.lastIndexOf('-'))]}/${id}`;

const primaryEniOf = (i: Instance) => i.NetworkInterfaces!.find((n) => n.Attachment?.DeviceIndex === 0)!.NetworkInterfaceId!;

describe('Reachability Analyzer', () => {
  let server: TestServer;
  let ec2: EC2Client;
  let block = 10;

  before(async () => {
    server = await startTestServer({ quotas: { vpcsPerRegion: 100, internetGatewaysPerRegion: 50, elasticIpsPerRegion: 50 } });
    ec2 = server.client();
  });
  after(() => server.stop());

  /** A VPC with subnets a and b, an instance in each (default group). */
  async function world(options: { gateway?: boolean } = {}): Promise<{ net: Network; a: Instance; b: Instance; n: number; igw?: string }> {
    const n = block++;
    const net = await createNetwork(ec2, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' }, b: { cidr: `10.${n}.2.0/24`, zone: 'us-east-1a' } });
    const a = await launch(ec2, { SubnetId: net.subnets.a.SubnetId });
    const b = await launch(ec2, { SubnetId: net.subnets.b.SubnetId });
    const igw = options.gateway ? await createGateway(ec2, net.vpcId) : undefined;
    return { net, a, b, n, igw };
  }

  const createPath = async (input: Omit<CreateNetworkInsightsPathCommandInput, 'Protocol'> & { Protocol?: CreateNetworkInsightsPathCommandInput['Protocol'] }): Promise<NetworkInsightsPath> =>
    (await ec2.send(new CreateNetworkInsightsPathCommand({ Protocol: 'tcp', ...input }))).NetworkInsightsPath!;
  const analyse = async (pathId: string): Promise<NetworkInsightsAnalysis> =>
    (await ec2.send(new StartNetworkInsightsAnalysisCommand({ NetworkInsightsPathId: pathId }))).NetworkInsightsAnalysis!;

  describe('paths', () => {
    test('CreateNetworkInsightsPath from an instance to an instance: nip- id, ARNs, protocol, port; Describe by id', async () => {
      const { a, b } = await world();
      const path = await createPath({
        Source: a.InstanceId,
        Destination: b.InstanceId,
        DestinationPort: 22,
        TagSpecifications: [{ ResourceType: 'network-insights-path', Tags: [{ Key: 'Name', Value: 'ssh' }] }],
      });
      assert.match(path.NetworkInsightsPathId!, PATH_ID);
      assert.equal(path.NetworkInsightsPathArn, arnOf(path.NetworkInsightsPathId!));
      assert.equal(path.Source, a.InstanceId);
      assert.equal(path.SourceArn, arnOf(a.InstanceId!));
      assert.equal(path.Destination, b.InstanceId);
      assert.equal(path.DestinationArn, arnOf(b.InstanceId!));
      assert.equal(path.Protocol, 'tcp');
      assert.equal(path.DestinationPort, 22);
      assert.ok(path.CreatedDate instanceof Date);
      assert.deepEqual(path.Tags, [{ Key: 'Name', Value: 'ssh' }]);
      const { NetworkInsightsPaths } = await ec2.send(new DescribeNetworkInsightsPathsCommand({ NetworkInsightsPathIds: [path.NetworkInsightsPathId!] }));
      assert.equal(NetworkInsightsPaths!.length, 1);
      assert.equal(NetworkInsightsPaths![0].Source, a.InstanceId);
      assert.equal(NetworkInsightsPaths![0].DestinationPort, 22);
    });

    test('sources and destinations: an interface, an internet gateway, an address', async () => {
      const { a, b, igw } = await world({ gateway: true });
      const eniPath = await createPath({ Source: primaryEniOf(a), Destination: primaryEniOf(b), DestinationPort: 443 });
      assert.equal(eniPath.SourceArn, arnOf(primaryEniOf(a)));
      assert.equal(eniPath.DestinationArn, arnOf(primaryEniOf(b)));
      const ipPath = await createPath({ Source: a.InstanceId, DestinationIp: b.PrivateIpAddress, DestinationPort: 22 });
      assert.equal(ipPath.DestinationIp, b.PrivateIpAddress);
      assert.equal(ipPath.Destination, undefined);
      const igwPath = await createPath({ Source: igw, Destination: b.InstanceId, DestinationPort: 22 });
      assert.equal(igwPath.Source, igw);
      assert.equal(igwPath.SourceArn, arnOf(igw!));
      // Interface to interface and instance to address are reachable in the default group.
      assert.equal((await analyse(eniPath.NetworkInsightsPathId!)).NetworkPathFound, true);
      assert.equal((await analyse(ipPath.NetworkInsightsPathId!)).NetworkPathFound, true);
    });

    test('DeleteNetworkInsightsPath deletes a path without analyses; afterwards it is InvalidNetworkInsightsPathId.NotFound', async () => {
      const { a, b } = await world();
      const path = await createPath({ Source: a.InstanceId, Destination: b.InstanceId, DestinationPort: 22 });
      const deleted = await ec2.send(new DeleteNetworkInsightsPathCommand({ NetworkInsightsPathId: path.NetworkInsightsPathId }));
      assert.equal(deleted.NetworkInsightsPathId, path.NetworkInsightsPathId);
      await expectEc2Error(ec2.send(new DescribeNetworkInsightsPathsCommand({ NetworkInsightsPathIds: [path.NetworkInsightsPathId!] })), 'InvalidNetworkInsightsPathId.NotFound');
      await expectEc2Error(ec2.send(new DeleteNetworkInsightsPathCommand({ NetworkInsightsPathId: path.NetworkInsightsPathId })), 'InvalidNetworkInsightsPathId.NotFound');
    });

    test('a path with analyses cannot be deleted (AWS: AnalysisExistsForNetworkInsightsPath); once its analyses are deleted, it can', async () => {
      const { a, b } = await world();
      const path = await createPath({ Source: a.InstanceId, Destination: b.InstanceId, DestinationPort: 22 });
      const analysis = await analyse(path.NetworkInsightsPathId!);
      await expectEc2Error(ec2.send(new DeleteNetworkInsightsPathCommand({ NetworkInsightsPathId: path.NetworkInsightsPathId })), 'AnalysisExistsForNetworkInsightsPath');
      assert.equal((await ec2.send(new DescribeNetworkInsightsPathsCommand({ NetworkInsightsPathIds: [path.NetworkInsightsPathId!] }))).NetworkInsightsPaths!.length, 1);
      await ec2.send(new DeleteNetworkInsightsAnalysisCommand({ NetworkInsightsAnalysisId: analysis.NetworkInsightsAnalysisId }));
      await ec2.send(new DeleteNetworkInsightsPathCommand({ NetworkInsightsPathId: path.NetworkInsightsPathId }));
    });
  });

  describe('analyses', () => {
    test('a reachable path: Status succeeded, NetworkPathFound true, forward path components numbered from 1 with ids and ARNs', async () => {
      const { net, a, b } = await world();
      const path = await createPath({ Source: a.InstanceId, Destination: b.InstanceId, DestinationPort: 22 });
      const analysis = await analyse(path.NetworkInsightsPathId!);
      assert.match(analysis.NetworkInsightsAnalysisId!, ANALYSIS_ID);
      assert.equal(analysis.NetworkInsightsAnalysisArn, arnOf(analysis.NetworkInsightsAnalysisId!));
      assert.equal(analysis.NetworkInsightsPathId, path.NetworkInsightsPathId);
      assert.ok(analysis.StartDate instanceof Date);
      assert.equal(analysis.Status, 'succeeded');
      assert.equal(analysis.NetworkPathFound, true);
      assert.ok(!analysis.Explanations?.length, 'a reachable path needs no explanation');
      const components = analysis.ForwardPathComponents!;
      assert.ok(components.length >= 3);
      assert.deepEqual(components.map((c) => c.SequenceNumber), components.map((_, i) => i + 1));
      for (const c of components) {
        assert.ok(c.Component?.Id, 'each component names its resource');
        assert.equal(c.Component!.Arn, arnOf(c.Component!.Id!));
      }
      const ids = components.map((c) => c.Component!.Id);
      for (const id of [primaryEniOf(a), net.defaultGroupId, (await mainRouteTableOf(ec2, net.vpcId)).RouteTableId!, primaryEniOf(b)]) {
        assert.ok(ids.includes(id), `the path goes through ${id}: ${ids.join(', ')}`);
      }
      assert.equal(ids[0], primaryEniOf(a), 'the path starts at the source');
      assert.equal(ids.at(-1), primaryEniOf(b), 'and ends at the destination');
    });

    test('from an internet gateway to an instance behind an Elastic IP: reachable once the group admits the port', async () => {
      const { net, b, igw } = await world({ gateway: true });
      await ec2.send(new CreateRouteCommand({ RouteTableId: (await mainRouteTableOf(ec2, net.vpcId)).RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: b.InstanceId }));
      const path = await createPath({ Source: igw, Destination: b.InstanceId, DestinationPort: 22 });
      assert.equal(path.SourceArn, arnOf(igw!));
      const closed = await analyse(path.NetworkInsightsPathId!);
      assert.equal(closed.NetworkPathFound, false);
      assert.equal(closed.Explanations![0].ExplanationCode, 'ENI_SG_RULES_MISMATCH');
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: net.defaultGroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
      const open = await analyse(path.NetworkInsightsPathId!);
      assert.equal(open.NetworkPathFound, true);
      assert.ok(open.ForwardPathComponents!.some((c) => c.Component?.Id === igw), 'the path goes through the gateway');
    });

    test('from an internet gateway to an interface with no destination IP: its Elastic IP on a secondary address is the destination, as on AWS; another VPC\'s gateway finds no path', async () => {
      const { net, a, igw } = await world({ gateway: true });
      await ec2.send(new CreateRouteCommand({ RouteTableId: (await mainRouteTableOf(ec2, net.vpcId)).RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: net.defaultGroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
      const eni = await createEni(ec2, { SubnetId: net.subnets.a.SubnetId, SecondaryPrivateIpAddressCount: 1 });
      await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: a.InstanceId, DeviceIndex: 1 }));
      const secondary = eni.PrivateIpAddresses!.find((p) => !p.Primary)!.PrivateIpAddress!;
      const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
      await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddress: secondary }));

      const path = await createPath({ Source: igw, Destination: eni.NetworkInterfaceId, DestinationPort: 22 });
      const found = await analyse(path.NetworkInsightsPathId!);
      assert.equal(found.NetworkPathFound, true, JSON.stringify(found.Explanations));
      assert.ok(found.ForwardPathComponents!.some((c) => c.Component?.Id === eni.NetworkInterfaceId), 'the path ends at the interface');
      // The same with the Elastic IP named: the same answer.
      assert.equal((await analyse((await createPath({ Source: igw, Destination: eni.NetworkInterfaceId, DestinationIp: eip.PublicIp, DestinationPort: 22 })).NetworkInsightsPathId!)).NetworkPathFound, true);

      const other = await world({ gateway: true });
      const elsewhere = await analyse((await createPath({ Source: other.igw, Destination: eni.NetworkInterfaceId, DestinationPort: 22 })).NetworkInsightsPathId!);
      assert.equal(elsewhere.NetworkPathFound, false, 'a gateway of another VPC leads to no path');
    });

    test('DescribeNetworkInsightsAnalyses by path id and by the path-found filter; DeleteNetworkInsightsAnalysis', async () => {
      const { a, b } = await world();
      const reachable = await createPath({ Source: a.InstanceId, Destination: b.InstanceId, DestinationPort: 22 });
      const unreachable = await createPath({ Source: a.InstanceId, DestinationIp: '8.8.8.8', DestinationPort: 443 });
      const found = await analyse(reachable.NetworkInsightsPathId!);
      const found2 = await analyse(reachable.NetworkInsightsPathId!);
      const notFound = await analyse(unreachable.NetworkInsightsPathId!);
      const ids = async (input: ConstructorParameters<typeof DescribeNetworkInsightsAnalysesCommand>[0] & object) =>
        ((await ec2.send(new DescribeNetworkInsightsAnalysesCommand(input))).NetworkInsightsAnalyses ?? []).map((x) => x.NetworkInsightsAnalysisId!).sort();
      assert.deepEqual(await ids({ NetworkInsightsPathId: reachable.NetworkInsightsPathId }), [found.NetworkInsightsAnalysisId!, found2.NetworkInsightsAnalysisId!].sort());
      assert.deepEqual(await ids({ NetworkInsightsPathId: unreachable.NetworkInsightsPathId }), [notFound.NetworkInsightsAnalysisId!]);
      assert.deepEqual(await ids({ NetworkInsightsAnalysisIds: [notFound.NetworkInsightsAnalysisId!] }), [notFound.NetworkInsightsAnalysisId!]);
      const mine = [found, found2, notFound].map((x) => x.NetworkInsightsAnalysisId!);
      const pathFound = (await ids({ Filters: [{ Name: 'path-found', Values: ['true'] }] })).filter((id) => mine.includes(id));
      assert.deepEqual(pathFound, [found.NetworkInsightsAnalysisId!, found2.NetworkInsightsAnalysisId!].sort());
      const pathNotFound = (await ids({ Filters: [{ Name: 'path-found', Values: ['false'] }] })).filter((id) => mine.includes(id));
      assert.deepEqual(pathNotFound, [notFound.NetworkInsightsAnalysisId!]);
      const described = (await ec2.send(new DescribeNetworkInsightsAnalysesCommand({ NetworkInsightsAnalysisIds: [notFound.NetworkInsightsAnalysisId!] }))).NetworkInsightsAnalyses![0];
      assert.equal(described.NetworkPathFound, false);
      assert.equal(described.Explanations![0].ExplanationCode, notFound.Explanations![0].ExplanationCode);

      const deleted = await ec2.send(new DeleteNetworkInsightsAnalysisCommand({ NetworkInsightsAnalysisId: found2.NetworkInsightsAnalysisId }));
      assert.equal(deleted.NetworkInsightsAnalysisId, found2.NetworkInsightsAnalysisId);
      assert.deepEqual(await ids({ NetworkInsightsPathId: reachable.NetworkInsightsPathId }), [found.NetworkInsightsAnalysisId!]);
      await expectEc2Error(ec2.send(new DescribeNetworkInsightsAnalysesCommand({ NetworkInsightsAnalysisIds: [found2.NetworkInsightsAnalysisId!] })), 'InvalidNetworkInsightsAnalysisId.NotFound');
    });

    test('a waiter on DescribeNetworkInsightsAnalyses (Status succeeded) returns at once with minDelay 1', async () => {
      const { a, b } = await world();
      const path = await createPath({ Source: a.InstanceId, Destination: b.InstanceId, DestinationPort: 22 });
      const analysis = await analyse(path.NetworkInsightsPathId!);
      const started = Date.now();
      const result = await waitUntilNetworkInsightsAnalysisSucceeded(
        { client: ec2, maxWaitTime: 10, minDelay: 1, maxDelay: 2 },
        { NetworkInsightsAnalysisIds: [analysis.NetworkInsightsAnalysisId!] },
      );
      assert.equal(result.state, 'SUCCESS');
      assert.equal(result.reason?.NetworkInsightsAnalyses?.[0].Status, 'succeeded');
      assert.ok(Date.now() - started < 5000);
    });
  });

  describe('probes, analyses and flow logs agree', () => {
    interface Situation {
      name: string;
      /** What the data plane should answer (undefined: delivered). */
      reason?: DropReason;
      /** AWS's explanation code for the drop; null where no AWS source confirms one (only "not found, with an explanation" is asserted). */
      code?: string | null;
      build(w: Awaited<ReturnType<typeof world>>): Promise<{ path: Omit<CreateNetworkInsightsPathCommandInput, 'Protocol'>; to: string; check?: (analysis: NetworkInsightsAnalysis) => void }>;
    }

    const situations: Situation[] = [
      {
        name: 'delivered',
        async build({ a, b }) {
          return { path: { Source: a.InstanceId, Destination: b.InstanceId }, to: b.PrivateIpAddress! };
        },
      },
      {
        name: 'the destination group admits nothing',
        reason: 'sg-ingress-denied',
        code: 'ENI_SG_RULES_MISMATCH',
        async build({ net, a }) {
          const lonely = await createGroup(ec2, net.vpcId, 'lonely');
          const c = await launch(ec2, { SubnetId: net.subnets.b.SubnetId, SecurityGroupIds: [lonely] });
          return {
            path: { Source: a.InstanceId, Destination: c.InstanceId },
            to: c.PrivateIpAddress!,
            check: (analysis) => {
              assert.equal(analysis.Explanations![0].Direction, 'ingress');
              assert.ok(analysis.Explanations![0].SecurityGroups?.some((g) => g.Id === lonely), 'the explanation names the group');
            },
          };
        },
      },
      {
        name: 'the source group lets nothing out',
        reason: 'sg-egress-denied',
        code: 'ENI_SG_RULES_MISMATCH',
        async build({ net, a, b }) {
          await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: net.defaultGroupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
          return { path: { Source: a.InstanceId, Destination: b.InstanceId }, to: b.PrivateIpAddress!, check: (analysis) => assert.equal(analysis.Explanations![0].Direction, 'egress') };
        },
      },
      {
        name: 'the destination subnet\'s ACL denies the source',
        reason: 'nacl-denied',
        code: 'SUBNET_ACL_RESTRICTION',
        async build({ net, a, b }) {
          const acl = (await ec2.send(new CreateNetworkAclCommand({ VpcId: net.vpcId }))).NetworkAcl!.NetworkAclId!;
          await ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: acl, RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: true, CidrBlock: '0.0.0.0/0' }));
          const { associationId } = await aclAssociationOf(ec2, net.subnets.b.SubnetId!);
          await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: associationId, NetworkAclId: acl }));
          return {
            path: { Source: a.InstanceId, Destination: b.InstanceId },
            to: b.PrivateIpAddress!,
            check: (analysis) => assert.equal(analysis.Explanations![0].Acl?.Id, acl, 'the explanation names the ACL'),
          };
        },
      },
      {
        name: 'the source subnet\'s ACL denies the way out',
        reason: 'nacl-denied',
        code: 'SUBNET_ACL_RESTRICTION',
        async build({ net, a, b }) {
          const acl = (await ec2.send(new CreateNetworkAclCommand({ VpcId: net.vpcId }))).NetworkAcl!.NetworkAclId!;
          await ec2.send(new CreateNetworkAclEntryCommand({ NetworkAclId: acl, RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0' }));
          const { associationId } = await aclAssociationOf(ec2, net.subnets.a.SubnetId!);
          await ec2.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: associationId, NetworkAclId: acl }));
          return { path: { Source: a.InstanceId, Destination: b.InstanceId }, to: b.PrivateIpAddress!, check: (analysis) => assert.equal(analysis.Explanations![0].Acl?.Id, acl) };
        },
      },
      {
        name: 'no route to an address outside the VPC',
        reason: 'no-route',
        code: 'NO_ROUTE_TO_DESTINATION',
        async build({ net, a }) {
          const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
          await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: net.subnets.a.SubnetId }));
          return { path: { Source: a.InstanceId, DestinationIp: '8.8.8.8' }, to: '8.8.8.8', check: (analysis) => assert.equal(analysis.Explanations![0].RouteTable?.Id, table) };
        },
      },
      {
        name: 'the destination instance is stopped',
        reason: 'instance-not-running',
        code: 'BAD_STATE',
        async build({ a, b }) {
          await ec2.send(new StopInstancesCommand({ InstanceIds: [b.InstanceId!] }));
          await waitForState(ec2, b.InstanceId!, 'stopped');
          return { path: { Source: a.InstanceId, Destination: b.InstanceId }, to: b.PrivateIpAddress! };
        },
      },
      {
        name: 'a route through an appliance whose source/destination check is on',
        reason: 'source-dest-check',
        code: 'ENI_SOURCE_DEST_CHECK_RESTRICTION',
        async build({ net, a, b }) {
          const table = (await ec2.send(new CreateRouteTableCommand({ VpcId: net.vpcId }))).RouteTable!.RouteTableId!;
          await ec2.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '198.51.100.0/24', NetworkInterfaceId: primaryEniOf(b) }));
          await ec2.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: net.subnets.a.SubnetId }));
          return { path: { Source: a.InstanceId, DestinationIp: '198.51.100.7' }, to: '198.51.100.7' };
        },
      },
      {
        name: 'to the internet without a public address',
        reason: 'no-public-ip',
        code: 'IGW_PUBLIC_IP_ASSOCIATION_FOR_EGRESS',
        async build({ net, a, igw }) {
          await ec2.send(new CreateRouteCommand({ RouteTableId: (await mainRouteTableOf(ec2, net.vpcId)).RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
          return { path: { Source: a.InstanceId, DestinationIp: '8.8.8.8' }, to: '8.8.8.8' };
        },
      },
      {
        name: 'the destination interface is detached',
        reason: 'eni-not-attached',
        code: null,
        async build({ net, a, b }) {
          const eni = await createEni(ec2, { SubnetId: net.subnets.b.SubnetId });
          const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: b.InstanceId, DeviceIndex: 1 }));
          await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
          return { path: { Source: a.InstanceId, Destination: eni.NetworkInterfaceId }, to: eni.PrivateIpAddress! };
        },
      },
      {
        name: 'an address of the VPC that nothing holds',
        reason: 'no-destination',
        code: null,
        async build({ n, a }) {
          return { path: { Source: a.InstanceId, DestinationIp: `10.${n}.2.250` }, to: `10.${n}.2.250` };
        },
      },
    ];

    test('for each situation: the probe\'s verdict, the analysis\'s NetworkPathFound and explanation, and the VPC flow log\'s records agree', async (t) => {
      for (const situation of situations) {
        await t.test(situation.name, async () => {
          const w = await world({ gateway: true });
          const { path: pathInput, to, check } = await situation.build(w);
          const log = (await ec2.send(new CreateFlowLogsCommand({ ResourceType: 'VPC', ResourceIds: [w.net.vpcId], TrafficType: 'ALL', LogGroupName: 'agree', DeliverLogsPermissionArn: ROLE }))).FlowLogIds![0];

          const result: FlowResult = await probe(server.url, { from: w.a.InstanceId!, to, protocol: 'tcp', port: 22 });
          const records = (await flowLogLines(server.url, log)).map(parseRecord);
          const path = await createPath({ ...pathInput, DestinationPort: 22 });
          const analysis = await analyse(path.NetworkInsightsPathId!);

          // The probe.
          assert.equal(result.reason, situation.reason, `probe: ${result.reason ?? 'delivered'}`);
          assert.equal(result.delivered, situation.reason === undefined);
          // The analysis.
          assert.equal(analysis.Status, 'succeeded');
          assert.equal(analysis.NetworkPathFound, result.delivered, 'the analysis finds a path exactly when the probe is delivered');
          if (!result.delivered) {
            assert.ok(analysis.Explanations?.length, 'an unreachable path is explained');
            if (situation.code) assert.equal(analysis.Explanations![0].ExplanationCode, situation.code, 'AWS\'s explanation code');
            check?.(analysis);
          }
          // The flow log: one record per interface that saw the flow, with its verdict.
          assert.deepEqual(
            records.map((r) => [r.interfaceId, r.srcaddr, r.dstaddr, r.dstport, r.action]),
            result.observations.map((o) => [o.networkInterfaceId, o.srcaddr, o.dstaddr, String(o.dstport), o.action]),
            'the flow log records what the probe observed',
          );
          if (result.delivered) assert.deepEqual(records.map((r) => r.action), ['ACCEPT', 'ACCEPT'], 'both interfaces accepted');
          if (['sg-ingress-denied', 'sg-egress-denied', 'nacl-denied'].includes(result.reason ?? '')) {
            assert.equal(records.at(-1)?.action, 'REJECT', 'a refusal by a group or an ACL is a REJECT record');
          }
          // An analysis sends no packets: it adds no records.
          assert.equal((await flowLogLines(server.url, log)).length, records.length, 'the analysis wrote no flow-log records');
        });
      }
    });
  });
});
