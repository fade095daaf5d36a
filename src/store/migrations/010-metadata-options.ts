import type { Kysely } from 'kysely';

/**
 * Each instance's instance metadata options (RunInstances MetadataOptions,
 * ModifyInstanceMetadataOptions). Instances from before this migration get AWS's defaults for an
 * image without ImdsSupport v2.0: IMDSv1 allowed, hop limit 1, endpoint on, IPv6 endpoint and
 * tags off. `metadata_options_state` is `pending` while a change waits for a stopped instance to start.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const columns: [string, 'text' | 'integer', string | number][] = [
    ['metadata_http_tokens', 'text', 'optional'],
    ['metadata_hop_limit', 'integer', 1],
    ['metadata_http_endpoint', 'text', 'enabled'],
    ['metadata_http_ipv6', 'text', 'disabled'],
    ['metadata_tags', 'text', 'disabled'],
    ['metadata_options_state', 'text', 'applied'],
  ];
  for (const [name, type, value] of columns) {
    await db.schema
      .alterTable('instances')
      .addColumn(name, type, (c) => c.notNull().defaultTo(value))
      .execute();
  }
}
