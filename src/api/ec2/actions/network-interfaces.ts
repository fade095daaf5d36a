/** The network interface and its attachments. */
import * as ipv6 from '../../../cloud/ipv6.ts';
import * as enis from '../../../cloud/network-interfaces.ts';
import * as permissions from '../../../cloud/network-interface-permissions.ts';
import * as privateAddresses from '../../../cloud/private-addresses.ts';
import type { ActionTable, ResourceTable } from './types.ts';

export const networkInterfaceActions: ActionTable = {
  CreateNetworkInterface: enis.createNetworkInterface,
  DeleteNetworkInterface: enis.deleteNetworkInterface,
  DescribeNetworkInterfaces: enis.describeNetworkInterfaces,
  AttachNetworkInterface: enis.attachNetworkInterface,
  DetachNetworkInterface: enis.detachNetworkInterface,
  ModifyNetworkInterfaceAttribute: enis.modifyNetworkInterfaceAttribute,
  DescribeNetworkInterfaceAttribute: enis.describeNetworkInterfaceAttribute,
  ResetNetworkInterfaceAttribute: enis.resetNetworkInterfaceAttribute,
  CreateNetworkInterfacePermission: permissions.createNetworkInterfacePermission,
  DescribeNetworkInterfacePermissions: permissions.describeNetworkInterfacePermissions,
  DeleteNetworkInterfacePermission: permissions.deleteNetworkInterfacePermission,
  AssignPrivateIpAddresses: privateAddresses.assignPrivateIpAddresses,
  UnassignPrivateIpAddresses: privateAddresses.unassignPrivateIpAddresses,
  AssignIpv6Addresses: ipv6.assignIpv6Addresses,
  UnassignIpv6Addresses: ipv6.unassignIpv6Addresses,
};

/** The actions here that name what they touch (the others may touch anything in their account). */
export const networkInterfaceResources: ResourceTable = {
  AttachNetworkInterface: enis.attachResources,
  DetachNetworkInterface: enis.detachResources,
};
