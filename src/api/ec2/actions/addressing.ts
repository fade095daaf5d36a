/** Public addresses, internet gateways and egress-only internet gateways. */
import * as addressAttributes from '../../../cloud/address-attributes.ts';
import * as addresses from '../../../cloud/addresses.ts';
import * as egressOnlyGateways from '../../../cloud/egress-only-internet-gateways.ts';
import * as gateways from '../../../cloud/internet-gateways.ts';
import type { ActionTable } from './types.ts';

export const addressingActions: ActionTable = {
  AllocateAddress: addresses.allocateAddress,
  AssociateAddress: addresses.associateAddress,
  DisassociateAddress: addresses.disassociateAddress,
  ReleaseAddress: addresses.releaseAddress,
  DescribeAddresses: addresses.describeAddresses,
  DescribeAddressesAttribute: addressAttributes.describeAddressesAttribute,
  ModifyAddressAttribute: addressAttributes.modifyAddressAttribute,
  ResetAddressAttribute: addressAttributes.resetAddressAttribute,
  CreateInternetGateway: gateways.createInternetGateway,
  AttachInternetGateway: gateways.attachInternetGateway,
  DetachInternetGateway: gateways.detachInternetGateway,
  DeleteInternetGateway: gateways.deleteInternetGateway,
  DescribeInternetGateways: gateways.describeInternetGateways,
  CreateEgressOnlyInternetGateway: egressOnlyGateways.createEgressOnlyInternetGateway,
  DeleteEgressOnlyInternetGateway: egressOnlyGateways.deleteEgressOnlyInternetGateway,
  DescribeEgressOnlyInternetGateways: egressOnlyGateways.describeEgressOnlyInternetGateways,
};
