/** Public addresses and internet gateways. */
import * as addresses from '../../../cloud/addresses.ts';
import * as gateways from '../../../cloud/internet-gateways.ts';
import type { ActionTable } from './types.ts';

export const addressingActions: ActionTable = {
  AllocateAddress: addresses.allocateAddress,
  AssociateAddress: addresses.associateAddress,
  DisassociateAddress: addresses.disassociateAddress,
  ReleaseAddress: addresses.releaseAddress,
  DescribeAddresses: addresses.describeAddresses,
  CreateInternetGateway: gateways.createInternetGateway,
  AttachInternetGateway: gateways.attachInternetGateway,
  DetachInternetGateway: gateways.detachInternetGateway,
  DeleteInternetGateway: gateways.deleteInternetGateway,
  DescribeInternetGateways: gateways.describeInternetGateways,
};
