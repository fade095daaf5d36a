/** Security groups and their rules. */
import type { ActionTable } from './types.ts';

export const securityGroupActions: ActionTable = {};
