import type { Kysely } from 'kysely';

/**
 * IPv6-only subnets, the hostname options of subnets and instances, and subnet CIDR reservations.
 *
 * An IPv6-only subnet has no IPv4 block: its `cidr_block` is '' and its address range is empty
 * (`first_address` 0 > `last_address` -1), so that no overlap check and no allocation ever finds
 * it; an interface without a private IPv4 (in such a subnet) has `private_ip_address` ''. Both
 * columns are NOT NULL since 002, and SQLite cannot drop that without rebuilding tables that
 * others reference.
 *
 * A reservation's IPv4 range is kept as integers (for the allocator's lookups); an IPv6 one as
 * canonical text only (IPv6 picks are random and checked against it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const add = async (table: string, columns: [string, 'text' | 'integer', string | number][]) => {
    for (const [name, type, value] of columns) {
      await db.schema.alterTable(table).addColumn(name, type, (c) => c.notNull().defaultTo(value)).execute();
    }
  };
  await add('subnets', [
    ['ipv6_native', 'integer', 0],
    ['enable_dns64', 'integer', 0],
    ['hostname_type', 'text', 'ip-name'],
    ['resource_name_dns_a', 'integer', 0],
    ['resource_name_dns_aaaa', 'integer', 0],
  ]);
  await add('instances', [
    ['hostname_type', 'text', 'ip-name'],
    ['resource_name_dns_a', 'integer', 0],
    ['resource_name_dns_aaaa', 'integer', 0],
  ]);

  await db.schema
    .createTable('subnet_cidr_reservations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('subnet_id', 'text', (c) => c.notNull().references('subnets.id').onDelete('cascade'))
    .addColumn('vpc_id', 'text', (c) => c.notNull())
    .addColumn('cidr', 'text', (c) => c.notNull())
    // 4 or 6
    .addColumn('family', 'integer', (c) => c.notNull())
    // prefix | explicit
    .addColumn('reservation_type', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    // the IPv4 range as integers; null for IPv6
    .addColumn('first_address', 'bigint')
    .addColumn('last_address', 'bigint')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('subnet_cidr_reservations_scope').on('subnet_cidr_reservations').columns(['account_id', 'region', 'id']).execute();
  await db.schema.createIndex('subnet_cidr_reservations_subnet').on('subnet_cidr_reservations').columns(['subnet_id', 'first_address']).execute();
  await db.schema.createIndex('subnet_cidr_reservations_vpc').on('subnet_cidr_reservations').columns(['vpc_id']).execute();
}
