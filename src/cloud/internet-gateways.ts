/**
 * Internet gateways: CreateInternetGateway, AttachInternetGateway, DetachInternetGateway,
 * DeleteInternetGateway, DescribeInternetGateways.
 * AWS: a gateway attaches to one VPC and a VPC takes one gateway; an attached gateway cannot
 * be deleted; a gateway cannot be detached while the VPC has public addresses mapped.
 */
import type {
  AttachInternetGatewayRequest,
  CreateInternetGatewayRequest,
  CreateInternetGatewayResult,
  DeleteInternetGatewayRequest,
  DescribeInternetGatewaysRequest,
  DescribeInternetGatewaysResult,
  DetachInternetGatewayRequest,
  InternetGateway,
  InternetGatewayAttachment,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row, Tx } from '../store/schema.ts';
import type { Context } from './context.ts';
import { countInRegion } from './counts.ts';
import { checkIds, newId } from './rules/ids.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';
import { getVpc } from './vpcs.ts';
import { getOwned } from './owned.ts';

type GatewayRow = Row<'internet_gateways'>;

const IGW_FILTERS: FilterSpec = {
  'internet-gateway-id': { column: 'id' },
  'attachment.vpc-id': { column: 'vpc_id' },
  // AWS reports an attached gateway's attachment state as `available`.
  'attachment.state': { column: 'attachment_state' },
  'owner-id': { column: 'account_id' },
};

export async function getInternetGateway(ctx: Context, id: string | undefined): Promise<GatewayRow> {
  return getOwned(ctx, { table: 'internet_gateways', prefix: 'igw', errors: Errors.internetGatewayId }, id, 'InternetGatewayId');
}

/** The gateway attached to a VPC, if any. */
export async function gatewayOfVpc(tx: Tx, vpcId: string): Promise<GatewayRow | undefined> {
  return tx.selectFrom('internet_gateways').selectAll().where('vpc_id', '=', vpcId).executeTakeFirst();
}

export async function insertInternetGateway(ctx: Context, vpcId: string | null): Promise<string> {
  if ((await countInRegion(ctx, 'internet_gateways')) >= ctx.config.quotas.internetGatewaysPerRegion) throw Errors.internetGatewayLimitExceeded();
  const id = newId('igw');
  await ctx.tx
    .insertInto('internet_gateways')
    .values({
      id,
      account_id: ctx.account,
      region: ctx.region,
      vpc_id: vpcId,
      attachment_state: vpcId ? 'available' : null,
      created_at: ctx.now.toISOString(),
    })
    .execute();
  return id;
}

async function gatewaysOf(tx: Tx, rows: GatewayRow[]): Promise<InternetGateway[]> {
  const tags = await tagsOf(tx, rows.map((r) => r.id));
  return rows.map((row) => ({
    InternetGatewayId: row.id,
    OwnerId: row.account_id,
    // AWS reports `available` here, a value outside the SDK's AttachmentStatus union.
    Attachments: row.vpc_id ? [{ VpcId: row.vpc_id, State: row.attachment_state as InternetGatewayAttachment['State'] }] : [],
    Tags: tags.get(row.id) ?? [],
  }));
}

export async function createInternetGateway(ctx: Context, input: CreateInternetGatewayRequest): Promise<CreateInternetGatewayResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['internet-gateway']);
  const id = await insertInternetGateway(ctx, null);
  await applyTagSpecifications(ctx, 'internet-gateway', id, input.TagSpecifications);
  return { InternetGateway: (await gatewaysOf(ctx.tx, [await getInternetGateway(ctx, id)]))[0] };
}

export async function attachInternetGateway(ctx: Context, input: AttachInternetGatewayRequest): Promise<Record<string, never>> {
  const gateway = await getInternetGateway(ctx, input.InternetGatewayId);
  const vpc = await getVpc(ctx, input.VpcId);
  if (gateway.vpc_id) {
    throw Errors.resourceAlreadyAssociated(`resource ${gateway.id} is already attached to network ${gateway.vpc_id}`);
  }
  const existing = await gatewayOfVpc(ctx.tx, vpc.id);
  if (existing) throw Errors.invalidParameterValue(`Network ${vpc.id} already has an internet gateway attached`);
  await ctx.tx
    .updateTable('internet_gateways')
    .set({ vpc_id: vpc.id, attachment_state: 'available' })
    .where('id', '=', gateway.id)
    .execute();
  return {};
}

export async function detachInternetGateway(ctx: Context, input: DetachInternetGatewayRequest): Promise<Record<string, never>> {
  const gateway = await getInternetGateway(ctx, input.InternetGatewayId);
  const vpc = await getVpc(ctx, input.VpcId);
  if (gateway.vpc_id !== vpc.id) throw Errors.gatewayNotAttached(`resource ${gateway.id} is not attached to network ${vpc.id}`);
  // AWS: public addresses mapped in the VPC (Elastic IPs, auto-assigned public IPv4) keep the gateway.
  const mapped = await ctx.tx
    .selectFrom('public_addresses')
    .select('public_ip')
    .where('vpc_id', '=', vpc.id)
    .where('network_interface_id', 'is not', null)
    .executeTakeFirst();
  if (mapped) {
    throw Errors.dependencyViolation(
      `Network ${vpc.id} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.`,
    );
  }
  await ctx.tx.updateTable('internet_gateways').set({ vpc_id: null, attachment_state: null }).where('id', '=', gateway.id).execute();
  return {};
}

export async function deleteInternetGateway(ctx: Context, input: DeleteInternetGatewayRequest): Promise<Record<string, never>> {
  const gateway = await getInternetGateway(ctx, input.InternetGatewayId);
  if (gateway.vpc_id) {
    throw Errors.dependencyViolation(`The internetGateway '${gateway.id}' has dependencies and cannot be deleted.`);
  }
  await ctx.tx.deleteFrom('internet_gateways').where('id', '=', gateway.id).execute();
  await deleteAllTags(ctx, gateway.id);
  return {};
}

export async function describeInternetGateways(ctx: Context, input: DescribeInternetGatewaysRequest): Promise<DescribeInternetGatewaysResult> {
  checkIds('igw', Errors.internetGatewayId, input.InternetGatewayIds ?? []);
  const page = await describeRows<GatewayRow>(ctx.tx, {
    table: 'internet_gateways',
    account: ctx.account,
    region: ctx.region,
    ids: input.InternetGatewayIds,
    idErrors: Errors.internetGatewayId,
    filters: input.Filters,
    spec: IGW_FILTERS,
    taggable: true,
    maxResults: input.MaxResults,
    nextToken: input.NextToken,
  });
  return { InternetGateways: await gatewaysOf(ctx.tx, page.rows), NextToken: page.nextToken };
}
