/** Launch templates and their versions (RunInstances takes them through cloud/instances.ts). */
import * as templates from '../../../cloud/launch-templates.ts';
import type { ActionTable } from './types.ts';

export const launchTemplateActions: ActionTable = {
  CreateLaunchTemplate: templates.createLaunchTemplate,
  CreateLaunchTemplateVersion: templates.createLaunchTemplateVersion,
  DescribeLaunchTemplates: templates.describeLaunchTemplates,
  DescribeLaunchTemplateVersions: templates.describeLaunchTemplateVersions,
  ModifyLaunchTemplate: templates.modifyLaunchTemplate,
  DeleteLaunchTemplate: templates.deleteLaunchTemplate,
  DeleteLaunchTemplateVersions: templates.deleteLaunchTemplateVersions,
};
