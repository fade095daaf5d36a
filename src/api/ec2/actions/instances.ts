/** Instances: launch, state changes, description, attributes. */
import * as credits from '../../../cloud/credit-specifications.ts';
import * as hostnames from '../../../cloud/instance-hostnames.ts';
import * as instances from '../../../cloud/instances.ts';
import type { ActionTable } from './types.ts';

export const instanceActions: ActionTable = {
  RunInstances: instances.runInstances,
  StartInstances: instances.startInstances,
  StopInstances: instances.stopInstances,
  RebootInstances: instances.rebootInstances,
  TerminateInstances: instances.terminateInstances,
  DescribeInstances: instances.describeInstances,
  DescribeInstanceStatus: instances.describeInstanceStatus,
  ModifyInstanceAttribute: instances.modifyInstanceAttribute,
  DescribeInstanceAttribute: instances.describeInstanceAttribute,
  ModifyInstanceMetadataOptions: instances.modifyInstanceMetadataOptions,
  DescribeInstanceCreditSpecifications: credits.describeInstanceCreditSpecifications,
  ModifyPrivateDnsNameOptions: hostnames.modifyPrivateDnsNameOptions,
};
