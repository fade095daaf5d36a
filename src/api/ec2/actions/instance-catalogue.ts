/** Instance types, images and key pairs: what a launch refers to. */
import type { ActionTable } from './types.ts';

export const instanceCatalogueActions: ActionTable = {};
