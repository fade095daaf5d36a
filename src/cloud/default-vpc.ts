/**
 * AWS's default VPC: every account has one in every region, made before the account's first
 * call there — 172.31.0.0/16, a default /20 subnet in each Availability Zone that maps public
 * IPv4 addresses on launch, the default security group and an attached internet gateway — so
 * that RunInstances without a subnet works as it does on AWS.
 */
import type { CreateDefaultSubnetRequest, CreateDefaultSubnetResult, CreateDefaultVpcRequest, CreateDefaultVpcResult } from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { overlaps, parseIpv4Cidr } from '../ipam/ipv4.ts';
import type { Context } from './context.ts';
import { findZone, zonesOf } from './regions.ts';
import { insertInternetGateway } from './internet-gateways.ts';
import { insertSubnet, subnetsOf } from './subnets.ts';
import { defaultVpcId, insertVpc, vpcsOf } from './vpcs.ts';

export const DEFAULT_VPC_CIDR = '172.31.0.0/16';

/** Gives the caller's account and region their default VPC the first time they are seen. */
export async function initialiseAccountRegion(ctx: Context): Promise<void> {
  const seen = await ctx.tx
    .selectFrom('account_regions')
    .select('initialized_at')
    .where('account_id', '=', ctx.account)
    .where('region', '=', ctx.region)
    .executeTakeFirst();
  if (seen) return;
  await ctx.tx
    .insertInto('account_regions')
    .values({ account_id: ctx.account, region: ctx.region, initialized_at: ctx.now.toISOString() })
    .execute();
  if (ctx.config.defaultVpc) await createDefaultVpc(ctx);
}

export async function createDefaultVpc(ctx: Context): Promise<string> {
  const vpcId = await insertVpc(ctx, { cidrBlock: DEFAULT_VPC_CIDR, tenancy: 'default', isDefault: true });
  const base = parseIpv4Cidr(DEFAULT_VPC_CIDR)!.network;
  for (const [i, zone] of zonesOf(ctx.region).entries()) {
    await insertSubnet(ctx, {
      vpcId,
      cidr: { network: base + i * 4096, prefix: 20 },
      zone,
      defaultForAz: true,
      mapPublicIpOnLaunch: true,
    });
  }
  const igw = await insertInternetGateway(ctx, vpcId);
  // AWS: the default VPC's main route table sends 0.0.0.0/0 to its internet gateway.
  const main = await ctx.tx.selectFrom('route_tables').select('id').where('vpc_id', '=', vpcId).where('is_main', '=', 1).executeTakeFirstOrThrow();
  await ctx.tx
    .insertInto('routes')
    .values({ route_table_id: main.id, destination: '0.0.0.0/0', family: 4, gateway_id: igw, network_interface_id: null, origin: 'CreateRouteTable' })
    .execute();
  return vpcId;
}

/** AWS: CreateDefaultVpc makes the same default VPC again, after its owner deleted it. */
export async function createDefaultVpcAction(ctx: Context, _input: CreateDefaultVpcRequest): Promise<CreateDefaultVpcResult> {
  if (await defaultVpcId(ctx)) throw Errors.defaultVpcAlreadyExists();
  const id = await createDefaultVpc(ctx);
  const row = await ctx.tx.selectFrom('vpcs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return { Vpc: (await vpcsOf(ctx.tx, [row]))[0] };
}

/**
 * AWS: CreateDefaultSubnet gives a zone of the default VPC its default /20 again (the zone's own
 * slot of 172.31.0.0/16 if free, else the first free /20), mapping public IPv4 addresses.
 */
export async function createDefaultSubnet(ctx: Context, input: CreateDefaultSubnetRequest): Promise<CreateDefaultSubnetResult> {
  if (input.AvailabilityZone === undefined && input.AvailabilityZoneId === undefined) throw Errors.missingParameter('AvailabilityZone');
  if (input.Ipv6Native) throw Errors.unsupported('eni-local makes no IPv6-only default subnets.');
  const zone = findZone(ctx.region, { name: input.AvailabilityZone, id: input.AvailabilityZoneId });
  const vpcId = await defaultVpcId(ctx);
  if (vpcId === undefined) throw Errors.defaultVpcDoesNotExist();
  const existing = await ctx.tx.selectFrom('subnets').selectAll().where('vpc_id', '=', vpcId).execute();
  if (existing.some((s) => s.availability_zone === zone.name && s.default_for_az === 1)) throw Errors.defaultSubnetAlreadyExistsInAvailabilityZone(zone.name);
  const base = parseIpv4Cidr(DEFAULT_VPC_CIDR)!.network;
  const taken = existing.flatMap((s) => parseIpv4Cidr(s.cidr_block) ?? []);
  const own = zonesOf(ctx.region).findIndex((z) => z.name === zone.name);
  const slots = [own, ...Array.from({ length: 16 }, (_, i) => i).filter((i) => i !== own)];
  const slot = slots.find((i) => !taken.some((t) => overlaps(t, { network: base + i * 4096, prefix: 20 })));
  if (slot === undefined) throw Errors.insufficientCidrBlocks();
  const id = await insertSubnet(ctx, { vpcId, cidr: { network: base + slot * 4096, prefix: 20 }, zone, defaultForAz: true, mapPublicIpOnLaunch: true });
  const row = await ctx.tx.selectFrom('subnets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return { Subnet: (await subnetsOf(ctx.tx, [row]))[0] };
}
