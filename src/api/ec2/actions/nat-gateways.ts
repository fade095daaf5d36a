/** NAT gateways. */
import * as natGateways from '../../../cloud/nat-gateways.ts';
import type { ActionTable } from './types.ts';

export const natGatewayActions: ActionTable = {
  CreateNatGateway: natGateways.createNatGateway,
  DescribeNatGateways: natGateways.describeNatGateways,
  DeleteNatGateway: natGateways.deleteNatGateway,
  AssociateNatGatewayAddress: natGateways.associateNatGatewayAddress,
  DisassociateNatGatewayAddress: natGateways.disassociateNatGatewayAddress,
  AssignPrivateNatGatewayAddress: natGateways.assignPrivateNatGatewayAddress,
  UnassignPrivateNatGatewayAddress: natGateways.unassignPrivateNatGatewayAddress,
};
