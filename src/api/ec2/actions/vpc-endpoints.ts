/** VPC endpoints to AWS services. */
import * as endpoints from '../../../cloud/vpc-endpoints.ts';
import type { ActionTable } from './types.ts';

export const vpcEndpointActions: ActionTable = {
  CreateVpcEndpoint: endpoints.createVpcEndpoint,
  DescribeVpcEndpoints: endpoints.describeVpcEndpoints,
  ModifyVpcEndpoint: endpoints.modifyVpcEndpoint,
  DeleteVpcEndpoints: endpoints.deleteVpcEndpoints,
  DescribeVpcEndpointServices: endpoints.describeVpcEndpointServices,
};
