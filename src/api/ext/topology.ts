/**
 * `GET /_eni/topology`: everything the web console draws, for the account and region of the
 * request (`x-eni-account` / `x-eni-region`), in one round trip and one store transaction — so
 * the picture is one consistent state, not a mix of before and after a concurrent request.
 *
 * Nothing here is a second source of truth: every list is what the matching Describe action
 * answers (the same cloud functions the EC2 endpoint calls), in the SDK's shapes, as JSON.
 */
import type { FastifyInstance } from 'fastify';
import type { InstanceStatus, SecurityGroup } from '@aws-sdk/client-ec2';
import { describeAddresses } from '../../cloud/addresses.ts';
import type { Context } from '../../cloud/context.ts';
import { describeFlowLogs } from '../../cloud/flow-logs.ts';
import { describeInstanceTypes } from '../../cloud/instance-types.ts';
import { describeInstances, describeInstanceStatus } from '../../cloud/instances.ts';
import { describeInternetGateways } from '../../cloud/internet-gateways.ts';
import { describeNetworkInterfaces } from '../../cloud/network-interfaces.ts';
import { describeAvailabilityZones } from '../../cloud/regions.ts';
import { describeSecurityGroups } from '../../cloud/security-groups.ts';
import { describeSubnets } from '../../cloud/subnets.ts';
import { describeVpcs } from '../../cloud/vpcs.ts';
import { inScope, sendError, type ExtOptions } from './scope.ts';

/** What an instance type allows, as far as moving interfaces is concerned. */
export interface InstanceTypeLimits {
  maximumNetworkInterfaces?: number;
  ipv4AddressesPerInterface?: number;
}

/** A security group without its rules: the console lists and picks groups, it does not edit rules. */
export type SecurityGroupSummary = Pick<SecurityGroup, 'GroupId' | 'GroupName' | 'VpcId' | 'Description' | 'OwnerId'>;

export async function describeTopology(ctx: Context) {
  // One transaction, so sequential: every list sees the same state.
  const zones = await describeAvailabilityZones(ctx, {});
  const vpcs = await describeVpcs(ctx, {});
  const subnets = await describeSubnets(ctx, {});
  const reservations = await describeInstances(ctx, {});
  const statuses = await describeInstanceStatus(ctx, { IncludeAllInstances: true });
  const interfaces = await describeNetworkInterfaces(ctx, {});
  const addresses = await describeAddresses(ctx, {});
  const gateways = await describeInternetGateways(ctx, {});
  const groups = await describeSecurityGroups(ctx, {});
  const flowLogs = await describeFlowLogs(ctx, {});
  const instances = (reservations.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  const types = [...new Set(instances.map((i) => i.InstanceType).filter((t): t is NonNullable<typeof t> => t !== undefined))];
  const instanceTypes: Record<string, InstanceTypeLimits> = {};
  if (types.length) {
    for (const info of (await describeInstanceTypes(ctx, { InstanceTypes: types })).InstanceTypes ?? []) {
      instanceTypes[info.InstanceType!] = {
        maximumNetworkInterfaces: info.NetworkInfo?.MaximumNetworkInterfaces,
        ipv4AddressesPerInterface: info.NetworkInfo?.Ipv4AddressesPerInterface,
      };
    }
  }
  return {
    account: ctx.account,
    region: ctx.region,
    time: ctx.now.toISOString(),
    availabilityZones: (zones.AvailabilityZones ?? []).map((z) => ({ ZoneName: z.ZoneName, ZoneId: z.ZoneId })),
    vpcs: vpcs.Vpcs ?? [],
    subnets: subnets.Subnets ?? [],
    instances,
    instanceStatuses: (statuses.InstanceStatuses ?? []) as InstanceStatus[],
    instanceTypes,
    networkInterfaces: interfaces.NetworkInterfaces ?? [],
    addresses: addresses.Addresses ?? [],
    internetGateways: gateways.InternetGateways ?? [],
    securityGroups: (groups.SecurityGroups ?? []).map(
      (g): SecurityGroupSummary => ({ GroupId: g.GroupId, GroupName: g.GroupName, VpcId: g.VpcId, Description: g.Description, OwnerId: g.OwnerId }),
    ),
    flowLogs: flowLogs.FlowLogs ?? [],
  };
}

export type Topology = Awaited<ReturnType<typeof describeTopology>>;

export async function topologyEndpoint(app: FastifyInstance, options: ExtOptions): Promise<void> {
  app.get('/_eni/topology', async (request, reply) => {
    try {
      const topology = await inScope(request, options, describeTopology);
      return reply.header('cache-control', 'no-store').send(topology);
    } catch (error) {
      return sendError(reply, error);
    }
  });
}
