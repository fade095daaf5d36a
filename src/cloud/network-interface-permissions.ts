/**
 * Network interface permissions: CreateNetworkInterfacePermission,
 * DescribeNetworkInterfacePermissions, DeleteNetworkInterfacePermission.
 *
 * AWS: the owner of an interface lets another account attach it to that account's instances
 * (INSTANCE-ATTACH; the instance must be in the interface's zone) or associate that account's
 * Elastic IPs with it (EIP-ASSOCIATE). A permission is removed only while the other account has
 * the interface attached if the call says Force; the attachment then stays.
 */
import type {
  CreateNetworkInterfacePermissionRequest,
  CreateNetworkInterfacePermissionResult,
  DeleteNetworkInterfacePermissionRequest,
  DeleteNetworkInterfacePermissionResult,
  DescribeNetworkInterfacePermissionsRequest,
  DescribeNetworkInterfacePermissionsResult,
  NetworkInterfacePermission,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import { describeRows, type FilterSpec } from '../store/describe.ts';
import type { Row } from '../store/schema.ts';
import type { Context } from './context.ts';
import { getInterface } from './network-interfaces.ts';
import { getOwned } from './owned.ts';
import { checkIds, newId } from './rules/ids.ts';

type PermissionRow = Row<'network_interface_permissions'>;

const PERMISSION_FILTERS: FilterSpec = {
  'network-interface-permission.network-interface-permission-id': { column: 'id' },
  'network-interface-permission.network-interface-id': { column: 'network_interface_id' },
  'network-interface-permission.aws-account-id': { column: 'aws_account_id' },
  'network-interface-permission.aws-service': { column: 'aws_service' },
  'network-interface-permission.permission': { column: 'permission' },
};

const PERMISSIONS = ['INSTANCE-ATTACH', 'EIP-ASSOCIATE'];

function permissionOf(row: PermissionRow): NetworkInterfacePermission {
  return {
    NetworkInterfacePermissionId: row.id,
    NetworkInterfaceId: row.network_interface_id,
    AwsAccountId: row.aws_account_id ?? undefined,
    AwsService: row.aws_service ?? undefined,
    Permission: row.permission as NetworkInterfacePermission['Permission'],
    PermissionState: { State: row.state as 'granted' },
  };
}

export async function createNetworkInterfacePermission(
  ctx: Context,
  input: CreateNetworkInterfacePermissionRequest,
): Promise<CreateNetworkInterfacePermissionResult> {
  const eni = await getInterface(ctx, input.NetworkInterfaceId);
  if (input.Permission === undefined) throw Errors.missingParameter('Permission');
  if (!PERMISSIONS.includes(input.Permission)) throw Errors.invalidParameterValueFor('Permission', input.Permission);
  if (input.AwsAccountId !== undefined && input.AwsService !== undefined) {
    throw Errors.invalidParameterCombination('Only one of AwsAccountId or AwsService may be specified.');
  }
  // AWS documents AwsService as not supported yet.
  if (input.AwsService !== undefined) throw Errors.invalidParameterValueFor('AwsService', input.AwsService, 'AwsService is not supported.');
  const account = input.AwsAccountId;
  if (account === undefined) throw Errors.missingParameter('AwsAccountId');
  if (!/^[0-9]{12}$/.test(account)) throw Errors.invalidParameterValueFor('AwsAccountId', account, 'An account id is 12 digits.');
  if (account === ctx.account) throw Errors.invalidParameterValue('You cannot grant a network interface permission to the interface\'s own account.');
  if (eni.requester_managed === 1) throw Errors.operationNotPermitted(`You are not allowed to manage the requester-managed network interface ${eni.id}.`);
  const existing = await ctx.tx
    .selectFrom('network_interface_permissions')
    .select('id')
    .where('network_interface_id', '=', eni.id)
    .where('aws_account_id', '=', account)
    .where('permission', '=', input.Permission)
    .executeTakeFirst();
  if (existing) {
    throw Errors.invalidPermissionIdDuplicate(`The permission ${input.Permission} for account ${account} already exists on ${eni.id} (${existing.id}).`);
  }
  const row: PermissionRow = {
    id: newId('eni-perm'),
    account_id: ctx.account,
    region: ctx.region,
    network_interface_id: eni.id,
    aws_account_id: account,
    aws_service: null,
    permission: input.Permission,
    state: 'granted',
    created_at: ctx.now.toISOString(),
  };
  await ctx.tx.insertInto('network_interface_permissions').values(row).execute();
  ctx.emit({ type: 'network-interface-permission.created', networkInterfacePermissionId: row.id, networkInterfaceId: eni.id, awsAccountId: account, permission: row.permission });
  return { InterfacePermission: permissionOf(row) };
}

export async function describeNetworkInterfacePermissions(
  ctx: Context,
  input: DescribeNetworkInterfacePermissionsRequest,
): Promise<DescribeNetworkInterfacePermissionsResult> {
  const ids = input.NetworkInterfacePermissionIds ?? [];
  checkIds('eni-perm', Errors.permissionId, ids);
  const page = await describeRows<PermissionRow>(ctx.tx, {
    table: 'network_interface_permissions',
    account: ctx.account,
    region: ctx.region,
    ids,
    idErrors: Errors.permissionId,
    filters: input.Filters,
    spec: PERMISSION_FILTERS,
    // AWS: pages of 50 unless told otherwise.
    maxResults: input.MaxResults ?? (ids.length ? undefined : 50),
    nextToken: input.NextToken,
  });
  return { NetworkInterfacePermissions: page.rows.map(permissionOf), NextToken: page.nextToken };
}

export async function deleteNetworkInterfacePermission(
  ctx: Context,
  input: DeleteNetworkInterfacePermissionRequest,
): Promise<DeleteNetworkInterfacePermissionResult> {
  const permission = await getOwned(
    ctx,
    { table: 'network_interface_permissions', prefix: 'eni-perm', errors: Errors.permissionId },
    input.NetworkInterfacePermissionId,
    'NetworkInterfacePermissionId',
  );
  if (permission.permission === 'INSTANCE-ATTACH' && !input.Force) {
    const eni = await ctx.tx.selectFrom('network_interfaces').select(['id', 'instance_owner_id']).where('id', '=', permission.network_interface_id).executeTakeFirst();
    // AWS: not while the account it names has the interface attached, unless forced.
    if (eni && eni.instance_owner_id === permission.aws_account_id) {
      throw Errors.operationNotPermitted(
        `The network interface ${eni.id} is attached to an instance of account ${permission.aws_account_id}; use Force to delete the permission ${permission.id}.`,
      );
    }
  }
  await ctx.tx.deleteFrom('network_interface_permissions').where('id', '=', permission.id).execute();
  ctx.emit({ type: 'network-interface-permission.deleted', networkInterfacePermissionId: permission.id });
  return { Return: true };
}
