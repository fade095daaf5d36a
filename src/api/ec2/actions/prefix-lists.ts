/** Managed prefix lists (customer- and AWS-managed) and the legacy DescribePrefixLists. */
import * as prefixLists from '../../../cloud/prefix-lists.ts';
import type { ActionTable } from './types.ts';

export const prefixListActions: ActionTable = {
  CreateManagedPrefixList: prefixLists.createManagedPrefixList,
  DescribeManagedPrefixLists: prefixLists.describeManagedPrefixLists,
  ModifyManagedPrefixList: prefixLists.modifyManagedPrefixList,
  DeleteManagedPrefixList: prefixLists.deleteManagedPrefixList,
  GetManagedPrefixListEntries: prefixLists.getManagedPrefixListEntries,
  GetManagedPrefixListAssociations: prefixLists.getManagedPrefixListAssociations,
  DescribePrefixLists: prefixLists.describePrefixLists,
};
