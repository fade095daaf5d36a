/**
 * Launch templates: CreateLaunchTemplate, CreateLaunchTemplateVersion, DescribeLaunchTemplates,
 * DescribeLaunchTemplateVersions, ModifyLaunchTemplate, DeleteLaunchTemplate,
 * DeleteLaunchTemplateVersions, and the template a RunInstances request names.
 *
 * AWS: a template has numbered, immutable versions (1, 2, …), a default version and a latest
 * one; a new version may start from a source version and override what it gives; the default
 * version cannot be deleted (delete the template instead). RunInstances with `LaunchTemplate`
 * (id or name, version `$Default`, `$Latest` or a number) launches with the version's data,
 * every parameter of the request overriding the template's, network interfaces merged by
 * device index. Like AWS, the template's data is checked when it is launched, not when saved.
 */
import type {
  CreateLaunchTemplateRequest,
  CreateLaunchTemplateResult,
  CreateLaunchTemplateVersionRequest,
  CreateLaunchTemplateVersionResult,
  DeleteLaunchTemplateRequest,
  DeleteLaunchTemplateResult,
  DeleteLaunchTemplateVersionsRequest,
  DeleteLaunchTemplateVersionsResult,
  DescribeLaunchTemplatesRequest,
  DescribeLaunchTemplatesResult,
  DescribeLaunchTemplateVersionsRequest,
  DescribeLaunchTemplateVersionsResult,
  InstanceNetworkInterfaceSpecification,
  LaunchTemplate,
  LaunchTemplateInstanceNetworkInterfaceSpecification,
  LaunchTemplateVersion,
  ModifyLaunchTemplateRequest,
  ModifyLaunchTemplateResult,
  RequestLaunchTemplateData,
  ResponseLaunchTemplateData,
  RunInstancesRequest,
  Tag,
  TagSpecification,
} from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import type { Row } from '../store/schema.ts';
import { filterCatalogue, pageCatalogue, type CatalogueSpec } from './catalogue-filter.ts';
import type { Context } from './context.ts';
import { idempotent } from './idempotency.ts';
import { isIdOf, newId } from './rules/ids.ts';
import { checkMaxResults } from './rules/paging.ts';
import { applyTagSpecifications, checkTagSpecificationTypes, deleteAllTags, tagsOf } from './tags.ts';

type TemplateRow = Row<'launch_templates'>;
type VersionRow = Row<'launch_template_versions'>;

const NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;
const MAX_DESCRIPTION = 255;
/** AWS: 5,000 launch templates a region, 10,000 versions a template. */
const TEMPLATES_PER_REGION = 5000;
const VERSIONS_PER_TEMPLATE = 10000;

// ---------------------------------------------------------------------------------------------
// Finding templates and versions
// ---------------------------------------------------------------------------------------------

function checkTemplateId(id: string): void {
  if (!isIdOf('lt', id)) throw Errors.launchTemplateIdMalformed(id);
}

async function templateById(ctx: Context, id: string): Promise<TemplateRow> {
  checkTemplateId(id);
  const row = await ctx.tx.selectFrom('launch_templates').selectAll().where('id', '=', id).where('account_id', '=', ctx.account).where('region', '=', ctx.region).executeTakeFirst();
  if (!row) throw Errors.launchTemplateIdNotFound(id);
  return row;
}

async function templateByName(ctx: Context, name: string): Promise<TemplateRow> {
  const row = await ctx.tx.selectFrom('launch_templates').selectAll().where('name', '=', name).where('account_id', '=', ctx.account).where('region', '=', ctx.region).executeTakeFirst();
  if (!row) throw Errors.launchTemplateNameNotFound(name);
  return row;
}

/** The template a request names by LaunchTemplateId or LaunchTemplateName (exactly one). */
async function namedTemplate(ctx: Context, input: { LaunchTemplateId?: string; LaunchTemplateName?: string }): Promise<TemplateRow> {
  if (input.LaunchTemplateId !== undefined && input.LaunchTemplateName !== undefined) {
    throw Errors.invalidParameterCombination('A launch template is named by LaunchTemplateId or LaunchTemplateName, not both.');
  }
  if (input.LaunchTemplateId !== undefined) return templateById(ctx, input.LaunchTemplateId);
  if (input.LaunchTemplateName !== undefined) return templateByName(ctx, input.LaunchTemplateName);
  throw Errors.missingParameter('LaunchTemplateId or LaunchTemplateName');
}

/** `$Latest`, `$Default` or a number, as the template's version number. */
function versionNumber(template: TemplateRow, version: string | undefined, fallback: '$Default' | '$Latest' = '$Default'): number {
  const text = version ?? fallback;
  if (text === '$Latest') return template.latest_version;
  if (text === '$Default') return template.default_version;
  if (!/^[0-9]{1,18}$/.test(text)) throw Errors.launchTemplateVersionMalformed(text);
  return Number(text);
}

async function versionRow(ctx: Context, template: TemplateRow, number: number, asked: string): Promise<VersionRow> {
  const row = await ctx.tx.selectFrom('launch_template_versions').selectAll().where('launch_template_id', '=', template.id).where('version_number', '=', number).executeTakeFirst();
  if (!row) throw Errors.launchTemplateVersionNotFound(asked, template.id);
  return row;
}

// ---------------------------------------------------------------------------------------------
// Template data
// ---------------------------------------------------------------------------------------------

/** The stored (answered) form of a version's data: AWS echoes what was given, with the IPv6 addresses in its response shape. */
function responseData(data: RequestLaunchTemplateData | undefined): ResponseLaunchTemplateData {
  if (data === undefined) throw Errors.missingParameter('LaunchTemplateData');
  if (data.UserData !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(data.UserData)) {
    throw Errors.invalidParameterValue('Invalid BASE64 encoding of user data.');
  }
  for (const spec of data.TagSpecifications ?? []) {
    if (spec.ResourceType === undefined) throw Errors.missingParameter('LaunchTemplateData.TagSpecification.N.ResourceType');
    if (!['instance', 'volume', 'network-interface', 'spot-instances-request'].includes(spec.ResourceType)) {
      throw Errors.invalidParameterValue(`'${spec.ResourceType}' is not a valid taggable resource type for a launch template.`);
    }
  }
  return JSON.parse(JSON.stringify(data)) as ResponseLaunchTemplateData;
}

function checkDescription(text: string | undefined): string | null {
  if (text === undefined) return null;
  if (text.length > MAX_DESCRIPTION) throw Errors.invalidParameterValueFor('VersionDescription', text, `It must be at most ${MAX_DESCRIPTION} characters long.`);
  return text;
}

const createdBy = (ctx: Context) => `arn:aws:iam::${ctx.account}:root`;

async function templateOf(ctx: Context, row: TemplateRow): Promise<LaunchTemplate> {
  const tags = (await tagsOf(ctx.tx, [row.id])).get(row.id) ?? [];
  return templateAnswer(ctx, row, tags);
}

function templateAnswer(ctx: Context, row: TemplateRow, tags: Tag[]): LaunchTemplate {
  return {
    LaunchTemplateId: row.id,
    LaunchTemplateName: row.name,
    CreateTime: new Date(row.created_at),
    CreatedBy: createdBy(ctx),
    DefaultVersionNumber: row.default_version,
    LatestVersionNumber: row.latest_version,
    Tags: tags,
  };
}

function versionAnswer(ctx: Context, template: TemplateRow, row: VersionRow): LaunchTemplateVersion {
  return {
    LaunchTemplateId: template.id,
    LaunchTemplateName: template.name,
    VersionNumber: row.version_number,
    VersionDescription: row.description ?? undefined,
    CreateTime: new Date(row.created_at),
    CreatedBy: createdBy(ctx),
    DefaultVersion: row.version_number === template.default_version,
    LaunchTemplateData: JSON.parse(row.data) as ResponseLaunchTemplateData,
  };
}

async function insertVersion(ctx: Context, templateId: string, number: number, description: string | null, data: ResponseLaunchTemplateData): Promise<VersionRow> {
  const row = { launch_template_id: templateId, version_number: number, description, data: JSON.stringify(data), created_at: ctx.now.toISOString() };
  await ctx.tx.insertInto('launch_template_versions').values(row).execute();
  return row;
}

// ---------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------

export async function createLaunchTemplate(ctx: Context, input: CreateLaunchTemplateRequest): Promise<CreateLaunchTemplateResult> {
  checkTagSpecificationTypes(input.TagSpecifications, ['launch-template']);
  const name = input.LaunchTemplateName;
  if (name === undefined) throw Errors.missingParameter('LaunchTemplateName');
  if (!NAME.test(name)) throw Errors.launchTemplateNameMalformed(name);
  const description = checkDescription(input.VersionDescription);
  const data = responseData(input.LaunchTemplateData);
  return idempotent(
    ctx,
    'CreateLaunchTemplate',
    input,
    async () => {
      const taken = await ctx.tx.selectFrom('launch_templates').select('id').where('account_id', '=', ctx.account).where('region', '=', ctx.region).where('name', '=', name).executeTakeFirst();
      if (taken) throw Errors.launchTemplateNameAlreadyExists();
      const { n } = await ctx.tx
        .selectFrom('launch_templates')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', ctx.account)
        .where('region', '=', ctx.region)
        .executeTakeFirstOrThrow();
      if (Number(n) >= TEMPLATES_PER_REGION) throw Errors.invalidParameterValue(`You have reached the maximum number of launch templates (${TEMPLATES_PER_REGION}).`);
      const row: TemplateRow = { id: newId('lt'), account_id: ctx.account, region: ctx.region, name, default_version: 1, latest_version: 1, created_at: ctx.now.toISOString() };
      await ctx.tx.insertInto('launch_templates').values(row).execute();
      await insertVersion(ctx, row.id, 1, description, data);
      await applyTagSpecifications(ctx, 'launch-template', row.id, input.TagSpecifications);
      return { id: row.id, result: { LaunchTemplate: await templateOf(ctx, row) } };
    },
    async (id) => ({ LaunchTemplate: await templateOf(ctx, await templateById(ctx, id)) }),
  );
}

export async function createLaunchTemplateVersion(ctx: Context, input: CreateLaunchTemplateVersionRequest): Promise<CreateLaunchTemplateVersionResult> {
  const template = await namedTemplate(ctx, input);
  const description = checkDescription(input.VersionDescription);
  let data = responseData(input.LaunchTemplateData);
  if (input.SourceVersion !== undefined) {
    // AWS: the new version has the source version's data, with what this request gives replacing it.
    const source = await versionRow(ctx, template, versionNumber(template, input.SourceVersion), input.SourceVersion);
    data = { ...(JSON.parse(source.data) as ResponseLaunchTemplateData), ...data };
  }
  if (template.latest_version >= VERSIONS_PER_TEMPLATE) throw Errors.invalidParameterValue(`A launch template has at most ${VERSIONS_PER_TEMPLATE} versions.`);
  const number = template.latest_version + 1;
  const row = await insertVersion(ctx, template.id, number, description, data);
  await ctx.tx.updateTable('launch_templates').set({ latest_version: number }).where('id', '=', template.id).execute();
  return { LaunchTemplateVersion: versionAnswer(ctx, { ...template, latest_version: number }, row) };
}

export async function modifyLaunchTemplate(ctx: Context, input: ModifyLaunchTemplateRequest): Promise<ModifyLaunchTemplateResult> {
  const template = await namedTemplate(ctx, input);
  let updated = template;
  if (input.DefaultVersion !== undefined) {
    const number = versionNumber(template, input.DefaultVersion);
    await versionRow(ctx, template, number, input.DefaultVersion);
    await ctx.tx.updateTable('launch_templates').set({ default_version: number }).where('id', '=', template.id).execute();
    updated = { ...template, default_version: number };
  }
  return { LaunchTemplate: await templateOf(ctx, updated) };
}

export async function deleteLaunchTemplate(ctx: Context, input: DeleteLaunchTemplateRequest): Promise<DeleteLaunchTemplateResult> {
  const template = await namedTemplate(ctx, input);
  const answer = await templateOf(ctx, template);
  await ctx.tx.deleteFrom('launch_template_versions').where('launch_template_id', '=', template.id).execute();
  await ctx.tx.deleteFrom('launch_templates').where('id', '=', template.id).execute();
  await deleteAllTags(ctx, template.id);
  return { LaunchTemplate: answer };
}

export async function deleteLaunchTemplateVersions(ctx: Context, input: DeleteLaunchTemplateVersionsRequest): Promise<DeleteLaunchTemplateVersionsResult> {
  const template = await namedTemplate(ctx, input);
  const versions = input.Versions ?? [];
  if (!versions.length) throw Errors.missingParameter('LaunchTemplateVersion');
  const result: Required<Pick<DeleteLaunchTemplateVersionsResult, 'SuccessfullyDeletedLaunchTemplateVersions' | 'UnsuccessfullyDeletedLaunchTemplateVersions'>> = {
    SuccessfullyDeletedLaunchTemplateVersions: [],
    UnsuccessfullyDeletedLaunchTemplateVersions: [],
  };
  const failed = (text: string, code: string, message: string, number?: number) =>
    result.UnsuccessfullyDeletedLaunchTemplateVersions.push({
      LaunchTemplateId: template.id,
      LaunchTemplateName: template.name,
      VersionNumber: number ?? (Number.isFinite(Number(text)) ? Number(text) : undefined),
      ResponseError: { Code: code as 'unexpectedError', Message: message },
    });
  for (const text of versions) {
    if (!/^[0-9]{1,18}$/.test(text)) {
      failed(text, 'launchTemplateVersionDoesNotExist', `The launch template version ${text} is not a version number.`);
      continue;
    }
    const number = Number(text);
    // AWS: the default version goes only with the template (DeleteLaunchTemplate).
    if (number === template.default_version) {
      failed(text, 'launchTemplateVersionIsDefault', 'The default version of a launch template cannot be deleted.', number);
      continue;
    }
    const gone = await ctx.tx.deleteFrom('launch_template_versions').where('launch_template_id', '=', template.id).where('version_number', '=', number).executeTakeFirst();
    if (Number(gone.numDeletedRows) === 0) {
      failed(text, 'launchTemplateVersionDoesNotExist', `The launch template version ${number} does not exist.`, number);
      continue;
    }
    result.SuccessfullyDeletedLaunchTemplateVersions.push({ LaunchTemplateId: template.id, LaunchTemplateName: template.name, VersionNumber: number });
  }
  return result;
}

interface TemplateItem {
  row: TemplateRow;
  tags: Tag[];
}

const TEMPLATE_FILTERS: CatalogueSpec<TemplateItem> = {
  'launch-template-name': (i) => i.row.name,
  'create-time': (i) => i.row.created_at,
};

function withTags<T extends { tags: Tag[] }>(spec: CatalogueSpec<T>, filters: readonly { Name?: string }[] | undefined): CatalogueSpec<T> {
  const out = { ...spec };
  for (const f of filters ?? []) {
    const name = f.Name ?? '';
    if (name.startsWith('tag:')) out[name] = (i) => i.tags.filter((t) => t.Key === name.slice(4)).map((t) => t.Value ?? '');
    else if (name === 'tag-key') out[name] = (i) => i.tags.map((t) => t.Key ?? '');
    else if (name === 'tag-value') out[name] = (i) => i.tags.map((t) => t.Value ?? '');
  }
  return out;
}

export async function describeLaunchTemplates(ctx: Context, input: DescribeLaunchTemplatesRequest): Promise<DescribeLaunchTemplatesResult> {
  checkMaxResults(input.MaxResults, { min: 1, max: 200 });
  const ids = input.LaunchTemplateIds ?? [];
  const names = input.LaunchTemplateNames ?? [];
  ids.forEach(checkTemplateId);
  const rows = await ctx.tx.selectFrom('launch_templates').selectAll().where('account_id', '=', ctx.account).where('region', '=', ctx.region).orderBy('id').execute();
  for (const id of ids) if (!rows.some((r) => r.id === id)) throw Errors.launchTemplateIdNotFound(id);
  for (const name of names) if (!rows.some((r) => r.name === name)) throw Errors.launchTemplateNameNotFound(name);
  const chosen = rows.filter((r) => (!ids.length && !names.length) || ids.includes(r.id) || names.includes(r.name));
  const tags = await tagsOf(ctx.tx, chosen.map((r) => r.id));
  const items = chosen.map((row) => ({ row, tags: tags.get(row.id) ?? [] }));
  const filtered = filterCatalogue(items, input.Filters, withTags(TEMPLATE_FILTERS, input.Filters));
  const page = pageCatalogue(filtered, (i) => i.row.id, { maxResults: input.MaxResults, nextToken: input.NextToken });
  return { LaunchTemplates: page.items.map((i) => templateAnswer(ctx, i.row, i.tags)), NextToken: page.nextToken };
}

interface VersionItem {
  template: TemplateRow;
  row: VersionRow;
  data: ResponseLaunchTemplateData;
}

const VERSION_FILTERS: CatalogueSpec<VersionItem> = {
  'create-time': (i) => i.row.created_at,
  'ebs-optimized': (i) => (i.data.EbsOptimized === undefined ? undefined : String(i.data.EbsOptimized)),
  'iam-instance-profile': (i) => i.data.IamInstanceProfile?.Arn ?? i.data.IamInstanceProfile?.Name,
  'image-id': (i) => i.data.ImageId,
  'instance-type': (i) => i.data.InstanceType,
  'is-default-version': (i) => String(i.row.version_number === i.template.default_version),
  'kernel-id': (i) => i.data.KernelId,
  'ram-disk-id': (i) => i.data.RamDiskId,
};

export async function describeLaunchTemplateVersions(
  ctx: Context,
  input: DescribeLaunchTemplateVersionsRequest,
): Promise<DescribeLaunchTemplateVersionsResult> {
  checkMaxResults(input.MaxResults, { min: 1, max: 200 });
  const asked = input.Versions ?? [];
  let templates: TemplateRow[];
  if (input.LaunchTemplateId === undefined && input.LaunchTemplateName === undefined) {
    // AWS: without a template, only $Latest and $Default may be asked for, across all templates.
    if (asked.some((v) => v !== '$Latest' && v !== '$Default')) throw Errors.missingParameter('LaunchTemplateId or LaunchTemplateName');
    templates = await ctx.tx.selectFrom('launch_templates').selectAll().where('account_id', '=', ctx.account).where('region', '=', ctx.region).orderBy('id').execute();
  } else templates = [await namedTemplate(ctx, input)];
  const items: VersionItem[] = [];
  for (const template of templates) {
    let rows = await ctx.tx.selectFrom('launch_template_versions').selectAll().where('launch_template_id', '=', template.id).orderBy('version_number').execute();
    if (asked.length) {
      const numbers = asked.map((v) => versionNumber(template, v));
      if (input.LaunchTemplateId !== undefined || input.LaunchTemplateName !== undefined) {
        asked.forEach((v, i) => {
          if (!rows.some((r) => r.version_number === numbers[i])) throw Errors.launchTemplateVersionNotFound(v, template.id);
        });
      }
      rows = rows.filter((r) => numbers.includes(r.version_number));
    }
    if (input.MinVersion !== undefined) rows = rows.filter((r) => r.version_number >= versionNumber(template, input.MinVersion));
    if (input.MaxVersion !== undefined) rows = rows.filter((r) => r.version_number <= versionNumber(template, input.MaxVersion));
    for (const row of rows) items.push({ template, row, data: JSON.parse(row.data) as ResponseLaunchTemplateData });
  }
  const filtered = filterCatalogue(items, input.Filters, VERSION_FILTERS);
  const key = (i: VersionItem) => `${i.template.id}/${String(i.row.version_number).padStart(18, '0')}`;
  const page = pageCatalogue(filtered, key, { maxResults: input.MaxResults, nextToken: input.NextToken });
  return { LaunchTemplateVersions: page.items.map((i) => versionAnswer(ctx, i.template, i.row)), NextToken: page.nextToken };
}

// ---------------------------------------------------------------------------------------------
// RunInstances with a launch template
// ---------------------------------------------------------------------------------------------

/** A template's network interface as RunInstances takes one. */
function interfaceOfTemplate(spec: LaunchTemplateInstanceNetworkInterfaceSpecification): InstanceNetworkInterfaceSpecification {
  const { Ipv6Addresses, ...rest } = spec;
  return {
    ...(rest as InstanceNetworkInterfaceSpecification),
    Ipv6Addresses: Ipv6Addresses?.map((a) => ({ Ipv6Address: a.Ipv6Address })),
  };
}

/**
 * Interfaces merged by device index: an interface of the request replaces the members it gives
 * of the template's interface at the same index; the others stay as the template has them.
 */
function mergeInterfaces(
  fromTemplate: readonly InstanceNetworkInterfaceSpecification[],
  fromRequest: readonly InstanceNetworkInterfaceSpecification[],
): InstanceNetworkInterfaceSpecification[] {
  const out = fromTemplate.map((spec) => ({ ...spec }));
  for (const spec of fromRequest) {
    const index = out.findIndex((t) => (t.DeviceIndex ?? 0) === (spec.DeviceIndex ?? 0) && (t.NetworkCardIndex ?? 0) === (spec.NetworkCardIndex ?? 0));
    const defined = Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) as InstanceNetworkInterfaceSpecification;
    if (index >= 0) out[index] = { ...out[index], ...defined };
    else out.push(defined);
  }
  return out.sort((a, b) => (a.DeviceIndex ?? 0) - (b.DeviceIndex ?? 0));
}

/** Tag specifications of template and request: the request's replace the template's for the same resource type. */
function mergeTagSpecifications(fromTemplate: readonly TagSpecification[], fromRequest: readonly TagSpecification[]): TagSpecification[] {
  const types = new Set(fromRequest.map((s) => s.ResourceType));
  return [...fromTemplate.filter((s) => !types.has(s.ResourceType)), ...fromRequest];
}

/**
 * The RunInstances request a launch template stands behind: the version's data, with every
 * member the request gives winning. AWS: with the template's network interfaces, a request's
 * SubnetId and SecurityGroupIds go to the interface at device index 0.
 */
export async function withLaunchTemplate(ctx: Context, input: RunInstancesRequest): Promise<RunInstancesRequest> {
  const spec = input.LaunchTemplate;
  if (spec === undefined) return input;
  const template = await namedTemplate(ctx, spec);
  const version = await versionRow(ctx, template, versionNumber(template, spec.Version), spec.Version ?? '$Default');
  const data = JSON.parse(version.data) as ResponseLaunchTemplateData;
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as RunInstancesRequest;
  const merged: RunInstancesRequest = {
    ...(data as unknown as RunInstancesRequest),
    NetworkInterfaces: undefined,
    TagSpecifications: undefined,
    ...given,
  };
  const templateInterfaces = (data.NetworkInterfaces ?? []).map(interfaceOfTemplate);
  if (templateInterfaces.length) {
    let requested = input.NetworkInterfaces ?? [];
    if (!requested.length && (input.SubnetId !== undefined || input.SecurityGroupIds?.length)) {
      requested = [{ DeviceIndex: 0, SubnetId: input.SubnetId, Groups: input.SecurityGroupIds?.length ? input.SecurityGroupIds : undefined }];
      merged.SubnetId = undefined;
      merged.SecurityGroupIds = undefined;
    }
    merged.NetworkInterfaces = mergeInterfaces(templateInterfaces, requested);
    if (input.SubnetId === undefined) merged.SubnetId = undefined;
    if (!input.SecurityGroupIds?.length) merged.SecurityGroupIds = undefined;
  } else merged.NetworkInterfaces = input.NetworkInterfaces;
  merged.TagSpecifications = mergeTagSpecifications((data.TagSpecifications ?? []) as TagSpecification[], input.TagSpecifications ?? []);
  if (!merged.TagSpecifications.length) merged.TagSpecifications = undefined;
  if (data.MetadataOptions && input.MetadataOptions) merged.MetadataOptions = { ...data.MetadataOptions, ...input.MetadataOptions } as RunInstancesRequest['MetadataOptions'];
  else if (data.MetadataOptions) merged.MetadataOptions = { ...data.MetadataOptions, State: undefined } as RunInstancesRequest['MetadataOptions'];
  delete (merged as { LaunchTemplate?: unknown }).LaunchTemplate;
  return merged;
}
