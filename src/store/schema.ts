/**
 * The tables of the store, as Kysely sees them. Every resource row carries the account and
 * region that own it; booleans are stored as 0/1 integers and times as ISO-8601 text so that
 * SQLite and PostgreSQL share one set of queries.
 */
import type { Generated, Insertable, Selectable, Transaction, Kysely } from 'kysely';

export interface Scoped {
  account_id: string;
  region: string;
}

export interface VpcTable extends Scoped {
  id: string;
  cidr_block: string;
  state: string;
  is_default: number;
  instance_tenancy: string;
  dhcp_options_id: string;
  enable_dns_support: number;
  enable_dns_hostnames: number;
  created_at: string;
}

export interface VpcCidrBlockTable extends Scoped {
  association_id: string;
  vpc_id: string;
  cidr_block: string;
  /** 4 or 6 */
  family: number;
  state: string;
  is_primary: number;
}

export interface TagTable extends Scoped {
  resource_id: string;
  resource_type: string;
  key: string;
  value: string;
}

export interface ClientTokenTable extends Scoped {
  action: string;
  token: string;
  /** A digest of the request's parameters, to answer IdempotentParameterMismatch. */
  request_hash: string;
  resource_id: string;
  created_at: string;
}

export interface Database {
  vpcs: VpcTable;
  vpc_cidr_blocks: VpcCidrBlockTable;
  tags: TagTable;
  client_tokens: ClientTokenTable;
}

export type Tx = Transaction<Database> | Kysely<Database>;
export type Row<T extends keyof Database> = Selectable<Database[T]>;
export type NewRow<T extends keyof Database> = Insertable<Database[T]>;
export type { Generated };
