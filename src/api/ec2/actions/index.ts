/** Every served action, by name. An action is served once it has a handler here and a shape in model.json. */
import { addressingActions } from './addressing.ts';
import { foundationActions } from './foundation.ts';
import { instanceCatalogueActions } from './instance-catalogue.ts';
import { instanceActions } from './instances.ts';
import { natGatewayActions } from './nat-gateways.ts';
import { vpcEndpointActions } from './vpc-endpoints.ts';
import { networkInterfaceActions, networkInterfaceResources } from './network-interfaces.ts';
import { prefixListActions } from './prefix-lists.ts';
import { launchTemplateActions } from './launch-templates.ts';
import { routingActions } from './routing.ts';
import { securityGroupActions } from './security-groups.ts';
import { subnetActions } from './subnets.ts';
import type { ActionTable, ResourceTable } from './types.ts';

export const ACTIONS: ActionTable = {
  ...foundationActions,
  ...subnetActions,
  ...securityGroupActions,
  ...instanceCatalogueActions,
  ...networkInterfaceActions,
  ...instanceActions,
  ...addressingActions,
  ...routingActions,
  ...natGatewayActions,
  ...vpcEndpointActions,
  ...prefixListActions,
  ...launchTemplateActions,
};

/**
 * The writes that name every resource they touch before they run (see WriteScope.resources): a
 * shared store runs those of disjoint resources of one account side by side.
 */
export const RESOURCES: ResourceTable = {
  ...networkInterfaceResources,
};
