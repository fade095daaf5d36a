/** VPCs, regions and zones, account attributes, tags. */
import * as ipv6 from '../../../cloud/ipv6.ts';
import * as regions from '../../../cloud/regions.ts';
import * as tags from '../../../cloud/tags.ts';
import * as vpcs from '../../../cloud/vpcs.ts';
import type { ActionTable } from './types.ts';

export const foundationActions: ActionTable = {
  CreateVpc: vpcs.createVpc,
  DescribeVpcs: vpcs.describeVpcs,
  DeleteVpc: vpcs.deleteVpc,
  DescribeVpcAttribute: vpcs.describeVpcAttribute,
  ModifyVpcAttribute: vpcs.modifyVpcAttribute,
  DescribeVpcClassicLink: vpcs.describeVpcClassicLink,
  DescribeVpcClassicLinkDnsSupport: vpcs.describeVpcClassicLinkDnsSupport,
  AssociateVpcCidrBlock: ipv6.associateVpcCidrBlock,
  DisassociateVpcCidrBlock: ipv6.disassociateVpcCidrBlock,
  DescribeRegions: regions.describeRegions,
  DescribeAvailabilityZones: regions.describeAvailabilityZones,
  DescribeAccountAttributes: regions.describeAccountAttributes,
  CreateTags: tags.createTags,
  DeleteTags: tags.deleteTags,
  DescribeTags: tags.describeTags,
};
