/** Subnets. */
import * as subnets from '../../../cloud/subnets.ts';
import type { ActionTable } from './types.ts';

export const subnetActions: ActionTable = {
  CreateSubnet: subnets.createSubnet,
  DescribeSubnets: subnets.describeSubnets,
  DeleteSubnet: subnets.deleteSubnet,
  ModifySubnetAttribute: subnets.modifySubnetAttribute,
};
