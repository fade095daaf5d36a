import type { Kysely } from 'kysely';

/**
 * Launch templates and their versions. A version's data is the SDK-shaped LaunchTemplateData as
 * JSON: it is only ever read whole (described, or merged into a RunInstances request).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('launch_templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('default_version', 'integer', (c) => c.notNull())
    .addColumn('latest_version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    // AWS: a name is unique in the account and region
    .addUniqueConstraint('launch_templates_name', ['account_id', 'region', 'name'])
    .execute();
  await db.schema
    .createTable('launch_template_versions')
    .addColumn('launch_template_id', 'text', (c) => c.notNull().references('launch_templates.id').onDelete('cascade'))
    .addColumn('version_number', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('launch_template_versions_pk', ['launch_template_id', 'version_number'])
    .execute();
}
