/** Route tables, network ACLs, flow logs and Reachability Analyzer. */
import * as flowLogs from '../../../cloud/flow-logs.ts';
import * as acls from '../../../cloud/network-acls.ts';
import * as insights from '../../../cloud/network-insights.ts';
import * as routeTables from '../../../cloud/route-tables.ts';
import type { ActionTable } from './types.ts';

export const routingActions: ActionTable = {
  CreateRouteTable: routeTables.createRouteTable,
  DeleteRouteTable: routeTables.deleteRouteTable,
  CreateRoute: routeTables.createRoute,
  ReplaceRoute: routeTables.replaceRoute,
  DeleteRoute: routeTables.deleteRoute,
  AssociateRouteTable: routeTables.associateRouteTable,
  DisassociateRouteTable: routeTables.disassociateRouteTable,
  ReplaceRouteTableAssociation: routeTables.replaceRouteTableAssociation,
  DescribeRouteTables: routeTables.describeRouteTables,
  CreateNetworkAcl: acls.createNetworkAcl,
  DeleteNetworkAcl: acls.deleteNetworkAcl,
  CreateNetworkAclEntry: acls.createNetworkAclEntry,
  ReplaceNetworkAclEntry: acls.replaceNetworkAclEntry,
  DeleteNetworkAclEntry: acls.deleteNetworkAclEntry,
  ReplaceNetworkAclAssociation: acls.replaceNetworkAclAssociation,
  DescribeNetworkAcls: acls.describeNetworkAcls,
  CreateFlowLogs: flowLogs.createFlowLogs,
  DescribeFlowLogs: flowLogs.describeFlowLogs,
  DeleteFlowLogs: flowLogs.deleteFlowLogs,
  CreateNetworkInsightsPath: insights.createNetworkInsightsPath,
  DescribeNetworkInsightsPaths: insights.describeNetworkInsightsPaths,
  DeleteNetworkInsightsPath: insights.deleteNetworkInsightsPath,
  StartNetworkInsightsAnalysis: insights.startNetworkInsightsAnalysis,
  DescribeNetworkInsightsAnalyses: insights.describeNetworkInsightsAnalyses,
  DeleteNetworkInsightsAnalysis: insights.deleteNetworkInsightsAnalysis,
};
