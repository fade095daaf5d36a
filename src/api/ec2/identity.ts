/**
 * Who is calling: the access key and region named by the request's Signature Version 4
 * credential scope (the `Authorization` header, or `X-Amz-Credential` in a presigned query),
 * and the account that key maps to. Signature verification is the auth mode's concern.
 */
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
