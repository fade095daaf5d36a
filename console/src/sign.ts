/**
 * Signing the console's calls to the JSON API with the same credentials as its EC2 calls
 * (Signature Version 4, service `ec2`), so a `--auth sigv4` server knows who asks: the SDK's
 * own signer (@smithy/signature-v4), with SHA-256 from the browser's WebCrypto.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import type { Settings } from './api';

type Data = string | ArrayBuffer | ArrayBufferView;

/** A copy in a plain ArrayBuffer, as WebCrypto takes it. */
function bytes(data: Data): Uint8Array<ArrayBuffer> {
  const view = typeof data === 'string' ? new TextEncoder().encode(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const copy = new Uint8Array(new ArrayBuffer(view.byteLength));
  copy.set(view);
  return copy;
}

/** SHA-256, or HMAC-SHA-256 with a secret, in the shape the signer expects. */
class WebCryptoSha256 {
  private chunks: Uint8Array<ArrayBuffer>[] = [];
  constructor(private readonly secret?: Data) {}

  update(data: Data): void {
    this.chunks.push(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    const length = this.chunks.reduce((n, c) => n + c.length, 0);
    const message = new Uint8Array(length);
    let offset = 0;
    for (const chunk of this.chunks) {
      message.set(chunk, offset);
      offset += chunk.length;
    }
    if (this.secret === undefined) return new Uint8Array(await crypto.subtle.digest('SHA-256', message));
    const key = await crypto.subtle.importKey('raw', bytes(this.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    return new Uint8Array(await crypto.subtle.sign('HMAC', key, message));
  }

  reset(): void {
    this.chunks = [];
  }
}

function signer(settings: Settings): SignatureV4 {
  const { accessKeyId, secretAccessKey, sessionToken } = settings.credentials;
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    region: settings.region,
    service: 'ec2',
    sha256: WebCryptoSha256,
  });
}

function requestOf(method: string, path: string, headers: Record<string, string>, body?: string) {
  const url = new URL(path, window.location.origin);
  return {
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...headers, host: url.host },
    body,
  };
}

/** The headers that sign a JSON API call (the browser adds Host itself; it must not be set). */
export async function signedHeaders(settings: Settings, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Record<string, string>> {
  const signed = await signer(settings).sign(requestOf(method, path, headers, body));
  const { host: _host, ...rest } = signed.headers as Record<string, string>;
  return rest;
}

/** A presigned URL, for what cannot send headers (EventSource). */
export async function presignedUrl(settings: Settings, path: string): Promise<string> {
  const signed = await signer(settings).presign(requestOf('GET', path, {}), { expiresIn: 3600 });
  const query = new URLSearchParams(signed.query as Record<string, string>);
  return `${signed.path}?${query}`;
}
