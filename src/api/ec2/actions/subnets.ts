/** Subnets. */
import * as ipv6 from '../../../cloud/ipv6.ts';
import * as subnets from '../../../cloud/subnets.ts';
import type { ActionTable } from './types.ts';

export const subnetActions: ActionTable = {
  CreateSubnet: subnets.createSubnet,
  DescribeSubnets: subnets.describeSubnets,
  DeleteSubnet: subnets.deleteSubnet,
  ModifySubnetAttribute: subnets.modifySubnetAttribute,
  AssociateSubnetCidrBlock: ipv6.associateSubnetCidrBlock,
  DisassociateSubnetCidrBlock: ipv6.disassociateSubnetCidrBlock,
};
