import type { Migration } from 'kysely';
import * as foundation from './001-foundation.ts';
import * as eni from './002-eni.ts';
import * as addressing from './003-addressing.ts';
import * as dataplane from './004-dataplane.ts';
import * as scopedTransitions from './005-scoped-transitions.ts';
import * as leanIndexes from './006-lean-indexes.ts';
import * as metadataOptions from './010-metadata-options.ts';
import * as requesterManaged from './011-requester-managed.ts';
import * as prefixLists from './012-1-prefix-lists.ts';
import * as launchTemplates from './012-2-launch-templates.ts';
import * as dhcpOptions from './012-3-dhcp-options.ts';
import * as sharedEvents from './015-shared-events.ts';
import * as subnetOptions from './016-subnet-options.ts';
import * as egressOnlyGateways from './017-egress-only-gateways.ts';
import * as eventIds from './018-event-ids.ts';
import * as expectRows from './019-expect-rows.ts';
import * as dueScopes from './020-due-scopes.ts';

/** Every migration, in order. Names are stored in the database: never rename one that shipped. */
export const migrations: Record<string, Migration> = {
  '001-foundation': foundation,
  '002-eni': eni,
  '003-addressing': addressing,
  '004-dataplane': dataplane,
  '005-scoped-transitions': scopedTransitions,
  '006-lean-indexes': leanIndexes,
  '010-metadata-options': metadataOptions,
  '011-requester-managed': requesterManaged,
  '012-1-prefix-lists': prefixLists,
  '012-2-launch-templates': launchTemplates,
  '012-3-dhcp-options': dhcpOptions,
  '015-shared-events': sharedEvents,
  '016-subnet-options': subnetOptions,
  '017-egress-only-gateways': egressOnlyGateways,
  '018-event-ids': eventIds,
  '019-expect-rows': expectRows,
  '020-due-scopes': dueScopes,
};
