import { type Kysely } from 'kysely';

/**
 * Public IPv4 addresses (Elastic IPs and the ones AWS assigns at launch) with their
 * associations, and the internet gateway's attachment state.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('internet_gateways').addColumn('attachment_state', 'text').execute();
  await db.updateTable('internet_gateways' as never).set({ attachment_state: 'available' } as never).where('vpc_id' as never, 'is not', null).execute();

  // AWS: whether the launch asked for a public IPv4 on the primary interface (given again at start)
  await db.schema.alterTable('instances').addColumn('auto_public_ip', 'integer', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable('public_addresses')
    .addColumn('public_ip', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    // elastic (allocated by the user) or auto (assigned at launch, released at stop)
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('allocation_id', 'text', (c) => c.unique())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('network_border_group', 'text', (c) => c.notNull())
    .addColumn('association_id', 'text', (c) => c.unique())
    // DisassociateAddress is idempotent: the last association id stays known
    .addColumn('previous_association_id', 'text')
    .addColumn('network_interface_id', 'text')
    .addColumn('private_ip_address', 'text')
    .addColumn('vpc_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    // AWS: one public address per private IPv4 address
    .addUniqueConstraint('public_addresses_one_per_private_ip', ['network_interface_id', 'private_ip_address'])
    .execute();
  await db.schema.createIndex('public_addresses_scope').on('public_addresses').columns(['account_id', 'region', 'allocation_id']).execute();
  await db.schema.createIndex('public_addresses_eni').on('public_addresses').columns(['network_interface_id']).execute();
  // Delegated IPv4 prefixes (/28) of interfaces, as the VPC CNI uses them.
  await db.schema
    .createTable('ipv4_prefixes')
    .addColumn('vpc_id', 'text', (c) => c.notNull())
    .addColumn('first_address', 'bigint', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('subnet_id', 'text', (c) => c.notNull().references('subnets.id'))
    .addColumn('network_interface_id', 'text', (c) => c.notNull().references('network_interfaces.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ipv4_prefixes_pk', ['vpc_id', 'first_address'])
    .execute();
  await db.schema.createIndex('ipv4_prefixes_eni').on('ipv4_prefixes').columns(['network_interface_id']).execute();
  await db.schema.createIndex('ipv4_prefixes_prefix').on('ipv4_prefixes').columns(['prefix']).execute();

  // IPv6: a subnet's /64, interfaces' addresses and delegated /80 prefixes (unique within a VPC).
  await db.schema.alterTable('subnets').addColumn('ipv6_cidr_block', 'text').execute();
  await db.schema.alterTable('subnets').addColumn('ipv6_association_id', 'text').execute();
  await db.schema
    .createTable('ipv6_addresses')
    .addColumn('vpc_id', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    // 'address' for a single address, 'prefix' for a delegated /80
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subnet_id', 'text', (c) => c.notNull().references('subnets.id'))
    .addColumn('network_interface_id', 'text', (c) => c.notNull().references('network_interfaces.id').onDelete('cascade'))
    .addColumn('is_primary', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ipv6_addresses_pk', ['vpc_id', 'address'])
    .execute();
  await db.schema.createIndex('ipv6_addresses_eni').on('ipv6_addresses').columns(['network_interface_id']).execute();
  await db.schema.createIndex('ipv6_addresses_address').on('ipv6_addresses').columns(['address']).execute();
  await db.schema.createIndex('ipv6_addresses_subnet').on('ipv6_addresses').columns(['subnet_id']).execute();

  await db.schema.createIndex('public_addresses_vpc').on('public_addresses').columns(['vpc_id']).execute();
}
