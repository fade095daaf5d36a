/**
 * AWS's default VPC: every account has one in every region, made before the account's first
 * call there — 172.31.0.0/16, a default /20 subnet in each Availability Zone that maps public
 * IPv4 addresses on launch, the default security group and an attached internet gateway — so
 * that RunInstances without a subnet works as it does on AWS.
 */
import { parseIpv4Cidr } from '../ipam/ipv4.ts';
import type { Context } from './context.ts';
import { zonesOf } from './regions.ts';
import { insertInternetGateway } from './internet-gateways.ts';
import { insertSubnet } from './subnets.ts';
import { insertVpc } from './vpcs.ts';

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
