/**
 * Egress-only internet gateways: CreateEgressOnlyInternetGateway,
 * DescribeEgressOnlyInternetGateways, DeleteEgressOnlyInternetGateway.
 *
 * AWS: IPv6 only. A gateway is made for one VPC and stays attached to it (`attached`) until it is
 * deleted, one a VPC and 5 a Region by default (Amazon VPC quotas); instances reach the internet over IPv6 through it, and the internet cannot open a
 * connection to them. Routes to it take IPv6 destinations only; they stay after the gateway
 * goes, as blackholes. A VPC with a gateway cannot be deleted.
 */
import type {
  CreateEgressOnlyInternetGatewayRequest,
  CreateEgressOnlyInternetGatewayResult,
  DeleteEgressOnlyInternetGatewayRequest,
  DeleteEgressOnlyInternetGatewayResult,
  DescribeEgressOnlyInternetGatewaysRequest,
  DescribeEgressOnlyInternetGatewaysResult,
  EgressOnlyInternetGateway,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { countInRegion } from './counts.ts';
import { idempotent } from './idempotency.ts';
import { checkIds, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';
import { getVpc } from './vpcs.ts';
import { getOwned } from './owned.ts';

type GatewayRow = Row<'egress_only_internet_gateways'>;

// AWS documents the tag filters only (tag:KEY, tag-key).
const EIGW_FILTERS: FilterSpec = {};

export async function getEgressOnlyInternetGateway(ctx: Context, id: string | undefined): Promise<GatewayRow> {
  return getOwned(ctx, { table: 'egress_only_internet_gateways', prefix: 'eigw', errors: Errors.egressOnlyInternetGatewayId }, id, 'EgressOnlyInternetGatewayId');
}

async function gatewaysOf(tx: Tx, rows: GatewayRow[]): Promise<EgressOnlyInternetGateway[]> {
  const tags = await tagsOf(tx, rows.map((r) => r.id));
  return rows.map((row) => ({
    EgressOnlyInternetGatewayId: row.id,
    Attachments: [{ VpcId: row.vpc_id, State: 'attached' }],
    Tags: tags.get(row.id) ?? [],
  }));
}

async function describeOne(ctx: Context, id: string): Promise<EgressOnlyInternetGateway> {
  return (await gatewaysOf(ctx.tx, [await getEgressOnlyInternetGateway(ctx, id)]))[0];
}

export async function createEgressOnlyInternetGateway(
  ctx: Context,
  input: CreateEgressOnlyInternetGatewayRequest,
): Promise<CreateEgressOnlyInternetGatewayResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['egress-only-internet-gateway']);
  return idempotent(
    ctx,
    'CreateEgressOnlyInternetGateway',
    input,
    async () => {
      const vpc = await getVpc(ctx, input.VpcId);
      // AWS (Amazon VPC quotas): one egress-only internet gateway attached to a VPC at a time, 5 a Region.
      const existing = await ctx.tx.selectFrom('egress_only_internet_gateways').select('id').where('vpc_id', '=', vpc.id).executeTakeFirst();
      if (existing) throw Errors.invalidParameterValue(`Network ${vpc.id} already has an egress-only internet gateway attached`);
      if ((await countInRegion(ctx, 'egress_only_internet_gateways')) >= ctx.config.quotas.egressOnlyInternetGatewaysPerRegion) throw Errors.egressOnlyInternetGatewayLimitExceeded();
      const id = newId('eigw');
      await ctx.tx
        .insertInto('egress_only_internet_gateways')
        .values({ id, account_id: ctx.account, region: ctx.region, vpc_id: vpc.id, created_at: ctx.now.toISOString() })
        .execute();
      await applyTagSpecifications(ctx, 'egress-only-internet-gateway', id, input.TagSpecifications);
      return { id, result: { EgressOnlyInternetGateway: await describeOne(ctx, id), ClientToken: input.ClientToken } };
    },
    async (id) => ({ EgressOnlyInternetGateway: await describeOne(ctx, id), ClientToken: input.ClientToken }),
  );
}

export async function deleteEgressOnlyInternetGateway(
  ctx: Context,
  input: DeleteEgressOnlyInternetGatewayRequest,
): Promise<DeleteEgressOnlyInternetGatewayResult> {
  const gateway = await getEgressOnlyInternetGateway(ctx, input.EgressOnlyInternetGatewayId);
  // AWS: routes to the gateway stay (DescribeRouteTables shows them as blackholes).
  await ctx.tx.deleteFrom('egress_only_internet_gateways').where('id', '=', gateway.id).execute();
  await deleteAllTags(ctx, gateway.id);
  return { ReturnCode: true };
}

export async function describeEgressOnlyInternetGateways(
  ctx: Context,
  input: DescribeEgressOnlyInternetGatewaysRequest,
): Promise<DescribeEgressOnlyInternetGatewaysResult> {
  checkIds('eigw', Errors.egressOnlyInternetGatewayId, input.EgressOnlyInternetGatewayIds ?? []);
  const page = await describeRows<GatewayRow>(ctx.tx, {
    table: 'egress_only_internet_gateways',
    account: ctx.account,
    region: ctx.region,
    ids: input.EgressOnlyInternetGatewayIds,
    idErrors: Errors.egressOnlyInternetGatewayId,
    filters: input.Filters,
    spec: EIGW_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { EgressOnlyInternetGateways: await gatewaysOf(ctx.tx, page.rows), NextToken: page.nextToken };
}
