/** Subnets, the default VPC and its subnets, DHCP options sets. */
import * as defaultVpc from '../../../cloud/default-vpc.ts';
import * as dhcp from '../../../cloud/dhcp-options.ts';
import * as ipv6 from '../../../cloud/ipv6.ts';
import * as subnets from '../../../cloud/subnets.ts';
import * as reservations from '../../../cloud/subnet-cidr-reservations.ts';
import type { ActionTable } from './types.ts';

export const subnetActions: ActionTable = {
  CreateSubnet: subnets.createSubnet,
  DescribeSubnets: subnets.describeSubnets,
  DeleteSubnet: subnets.deleteSubnet,
  CreateSubnetCidrReservation: reservations.createSubnetCidrReservation,
  GetSubnetCidrReservations: reservations.getSubnetCidrReservations,
  DeleteSubnetCidrReservation: reservations.deleteSubnetCidrReservation,
  CreateDefaultVpc: defaultVpc.createDefaultVpcAction,
  CreateDefaultSubnet: defaultVpc.createDefaultSubnet,
  CreateDhcpOptions: dhcp.createDhcpOptions,
  DescribeDhcpOptions: dhcp.describeDhcpOptions,
  AssociateDhcpOptions: dhcp.associateDhcpOptions,
  DeleteDhcpOptions: dhcp.deleteDhcpOptions,
  ModifySubnetAttribute: subnets.modifySubnetAttribute,
  AssociateSubnetCidrBlock: ipv6.associateSubnetCidrBlock,
  DisassociateSubnetCidrBlock: ipv6.disassociateSubnetCidrBlock,
};
