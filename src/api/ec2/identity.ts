/**
 * Who is calling: the access key and region named by the request's Signature Version 4
 * credential scope (the `Authorization` header, or `X-Amz-Credential` in a presigned query),
 * and the account that key maps to. Signature verification is the sigv4 mode's concern (auth.ts).
 */
import { readFileSync } from 'node:fs';

export interface Identity {
  accessKeyId?: string;
  region: string;
  account: string;
}

export interface IdentityOptions {
  defaultRegion: string;
  /** Access key → account id. Keys not listed belong to the default account. */
  accounts: ReadonlyMap<string, string>;
  defaultAccount: string;
}

/**
 * One access key as the credentials file (`--credentials`, `--accounts`) lists it. The secret is
 * required to verify signatures (sigv4 mode) and ignored in open mode; a session token, when
 * given, must come with every request signed by the key.
 */
export interface CredentialEntry {
  accessKeyId: string;
  secretAccessKey?: string;
  accountId: string;
  sessionToken?: string;
}

const CREDENTIAL_IN_HEADER = /Credential=([^/,\s]+)\/([0-9]{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

export function credentialScope(authorization: string | undefined, query: URLSearchParams): CredentialScope | undefined {
  const source = authorization ?? (query.get('X-Amz-Credential') ? `Credential=${query.get('X-Amz-Credential')}` : undefined);
  const match = source ? CREDENTIAL_IN_HEADER.exec(source) : null;
  if (!match) return undefined;
  return { accessKeyId: match[1], date: match[2], region: match[3], service: match[4] };
}

export function identify(scope: CredentialScope | undefined, options: IdentityOptions): Identity {
  if (!scope) return { region: options.defaultRegion, account: options.defaultAccount };
  return {
    accessKeyId: scope.accessKeyId,
    region: scope.region,
    account: options.accounts.get(scope.accessKeyId) ?? options.defaultAccount,
  };
}

const ACCOUNT_ID = /^[0-9]{12}$/;

/**
 * Validates a list of credential entries (from a file or the library options). `requireSecrets`
 * for sigv4 mode, where every key must be able to verify a signature. Throws an Error naming the
 * source and the faulty entry.
 */
export function credentialEntries(value: unknown, source: string, { requireSecrets }: { requireSecrets: boolean }): CredentialEntry[] {
  if (!Array.isArray(value)) {
    throw new Error(`${source}: expected a JSON array of {"accessKeyId","secretAccessKey","accountId","sessionToken"?}`);
  }
  const seen = new Set<string>();
  return value.map((raw: unknown, index) => {
    const where = `${source}: entry ${index}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${where} is not an object`);
    const entry = raw as Record<string, unknown>;
    for (const key of Object.keys(entry)) {
      if (!['accessKeyId', 'secretAccessKey', 'accountId', 'sessionToken'].includes(key)) throw new Error(`${where} has an unknown field "${key}"`);
    }
    const { accessKeyId, secretAccessKey, accountId, sessionToken } = entry;
    if (typeof accessKeyId !== 'string' || !/^[^\s/]+$/.test(accessKeyId)) {
      throw new Error(`${where}: accessKeyId must be a non-empty string without spaces or slashes`);
    }
    if (seen.has(accessKeyId)) throw new Error(`${where}: access key ${accessKeyId} is listed twice`);
    seen.add(accessKeyId);
    if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) throw new Error(`${where}: accountId must be 12 digits`);
    if (secretAccessKey !== undefined && (typeof secretAccessKey !== 'string' || secretAccessKey === '')) {
      throw new Error(`${where}: secretAccessKey must be a non-empty string`);
    }
    if (requireSecrets && secretAccessKey === undefined) throw new Error(`${where}: secretAccessKey is required to verify signatures`);
    if (sessionToken !== undefined && (typeof sessionToken !== 'string' || sessionToken === '')) {
      throw new Error(`${where}: sessionToken must be a non-empty string`);
    }
    return {
      accessKeyId,
      accountId,
      ...(secretAccessKey !== undefined ? { secretAccessKey: secretAccessKey as string } : {}),
      ...(sessionToken !== undefined ? { sessionToken: sessionToken as string } : {}),
    };
  });
}

/** Reads and validates a credentials file (the JSON array of `CredentialEntry`). */
export function readCredentialsFile(file: string, options: { requireSecrets: boolean }): CredentialEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read credentials file ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return credentialEntries(value, file, options);
}
