/**
 * The console's only ways out: the EC2 Query API of this same server, through the AWS SDK as any
 * client would call it, and the server's JSON API under /_eni/. Credentials stay in this tab
 * (sessionStorage) and are sent nowhere else.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import type { FlowResult, Topology } from './model';
import { presignedUrl, signedHeaders } from './sign';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Settings {
  region: string;
  credentials: Credentials;
}

const CREDENTIALS_KEY = 'eni-console.credentials';
const REGION_KEY = 'eni-console.region';

/** In open mode any key works (the key chooses the account); a sigv4-mode server needs real ones. */
export const OPEN_MODE_CREDENTIALS: Credentials = { accessKeyId: 'console', secretAccessKey: 'console' };

export function loadSettings(): Settings {
  let credentials = OPEN_MODE_CREDENTIALS;
  try {
    const stored = JSON.parse(sessionStorage.getItem(CREDENTIALS_KEY) ?? 'null') as Credentials | null;
    if (stored && typeof stored.accessKeyId === 'string' && typeof stored.secretAccessKey === 'string') credentials = stored;
  } catch {
    // A broken entry is as good as none.
  }
  const region = new URLSearchParams(window.location.search).get('region') ?? localStorage.getItem(REGION_KEY) ?? 'us-east-1';
  return { region, credentials };
}

export function saveSettings(settings: Settings): void {
  // Secrets only in this tab's session storage: gone when the tab closes, never in localStorage.
  sessionStorage.setItem(CREDENTIALS_KEY, JSON.stringify(settings.credentials));
  localStorage.setItem(REGION_KEY, settings.region);
}

export function ec2Client(settings: Settings): EC2Client {
  const { accessKeyId, secretAccessKey, sessionToken } = settings.credentials;
  return new EC2Client({
    endpoint: window.location.origin,
    region: settings.region,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    maxAttempts: 3,
  });
}

/** An EC2 or JSON API refusal: AWS's code and message, shown as they are. */
export interface ApiFailure {
  code: string;
  message: string;
}

export class ApiError extends Error implements ApiFailure {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function failureOf(error: unknown): ApiFailure {
  if (error instanceof ApiError) return { code: error.code, message: error.message };
  const e = error as { name?: string; Code?: string; message?: string };
  return { code: e?.Code ?? e?.name ?? 'Error', message: e?.message ?? String(error) };
}

/** Codes that mean "these credentials do not sign for this server". */
export const AUTH_CODES = new Set([
  'AuthFailure',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'MissingAuthenticationToken',
  'IncompleteSignature',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
]);

export interface Scope {
  account?: string;
  region: string;
}

// The credentials the JSON API calls are signed with (the same as the EC2 calls'), once known.
let signing: Settings | undefined;

/** Signs every later JSON API call with these settings' credentials and region. */
export function signWith(settings: Settings): void {
  signing = settings;
}

async function signed(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Record<string, string>> {
  return signing ? { ...headers, ...(await signedHeaders(signing, method, path, headers, body)) } : headers;
}

async function json<T>(scope: Scope, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  let headers: Record<string, string> = { 'x-eni-region': scope.region };
  if (scope.account) headers['x-eni-account'] = scope.account;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  headers = await signed(method, path, headers, body);
  const response = await fetch(path, { method, headers, body, cache: 'no-store' });
  const text = await response.text();
  let value: unknown;
  try {
    value = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(`HTTP${response.status}`, text.slice(0, 200));
  }
  if (!response.ok) {
    const error = (value as { error?: ApiFailure } | undefined)?.error;
    throw new ApiError(error?.code ?? `HTTP${response.status}`, error?.message ?? response.statusText);
  }
  return value as T;
}

export const fetchTopology = (scope: Scope) => json<Topology>(scope, '/_eni/topology');

export interface ProbeRequest {
  from: string;
  to: string;
  protocol: string;
  port?: number;
}

export const probe = (scope: Scope, request: ProbeRequest) => json<FlowResult>(scope, '/_eni/probe', { method: 'POST', body: request });

export const setInstanceHealth = (scope: Scope, instanceId: string, action: 'fail' | 'recover') =>
  json<{ instanceId: string; state: string; status: string }>(scope, `/_eni/instances/${encodeURIComponent(instanceId)}/${action}`, { method: 'POST', body: {} });

/** The last lines of a flow log (GET /_eni/flow-logs/{id}). */
export async function flowLogLines(flowLogId: string, last = 12): Promise<string[]> {
  const path = `/_eni/flow-logs/${encodeURIComponent(flowLogId)}`;
  const response = await fetch(path, { headers: await signed('GET', path, {}), cache: 'no-store' });
  if (!response.ok) return [];
  return (await response.text()).split('\n').filter(Boolean).slice(-last);
}

/** The event stream's URL for a scope (EventSource cannot send headers: the query filters). */
export async function eventsUrl(scope: Scope): Promise<string> {
  const query = new URLSearchParams({ region: scope.region });
  if (scope.account) query.set('account', scope.account);
  return signing ? presignedUrl(signing, `/_eni/events?${query}`) : `/_eni/events?${query}`;
}

/** Event types that change the picture; `flow` events do not. */
export const TOPOLOGY_EVENTS = [
  'network-interface.created',
  'network-interface.deleted',
  'network-interface.attaching',
  'network-interface.attached',
  'network-interface.detaching',
  'network-interface.detached',
  'address.associated',
  'address.disassociated',
  'instance.state',
  'instance.failed',
  'instance.recovered',
];

/** Copies text; falls back to a selection copy where the Clipboard API is not offered (plain HTTP on another host). */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}
