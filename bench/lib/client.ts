/**
 * The benchmark's EC2 client: raw EC2 Query requests (`POST /`, form body) over keep-alive
 * node:http sockets, each signed with Signature Version 4 by the AWS SDK's own signer, the way
 * the SDKs send them. Nothing is parsed beyond what a check needs: the caller gets status and text.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export const API_VERSION = '2016-11-15';

/** The signer's hash constructor: Node's crypto through the SDK's adapter (as the project's auth module uses it). */
class Sha256 extends Hash {
  constructor(secret?: ConstructorParameters<typeof Hash>[1]) {
    super('sha256', secret);
  }
}

export interface Response {
  status: number;
  body: string;
}

export interface ClientOptions {
  /** Most sockets kept open (one per concurrent caller). */
  sockets: number;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export type Params = Record<string, string | number>;

/** `Action=…&Version=…&…`, encoded as the SDK's query serializer does. */
export function formBody(action: string, params: Params = {}): string {
  let out = `Action=${action}&Version=${API_VERSION}`;
  for (const [k, v] of Object.entries(params)) out += `&${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
  return out;
}

export class QueryClient {
  readonly url: URL;
  private readonly agent: http.Agent;
  private readonly signer: SignatureV4;
  private readonly hostHeader: string;

  constructor(url: string, options: ClientOptions) {
    this.url = new URL(url);
    this.hostHeader = this.url.host;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.sockets, maxFreeSockets: options.sockets });
    this.signer = new SignatureV4({
      credentials: { accessKeyId: options.accessKeyId ?? 'bench', secretAccessKey: options.secretAccessKey ?? 'bench-secret' },
      region: options.region ?? 'us-east-1',
      service: 'ec2',
      sha256: Sha256,
    });
  }

  /** Sends one signed request; resolves with the status and body (rejects only on a transport failure). */
  async send(body: string): Promise<Response> {
    const bytes = Buffer.from(body, 'utf8');
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: this.url.hostname,
      port: Number(this.url.port),
      path: '/',
      query: {},
      headers: {
        host: this.hostHeader,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'content-length': String(bytes.length),
        'user-agent': 'eni-local-bench/1 aws-sdk-js/3 (emulated)',
        'amz-sdk-invocation-id': randomUUID(),
        'amz-sdk-request': 'attempt=1; max=1',
      },
      body: bytes,
    });
    return new Promise<Response>((resolve, reject) => {
      const req = http.request(
        { host: this.url.hostname, port: this.url.port, method: 'POST', path: '/', headers: signed.headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(bytes);
    });
  }

  call(action: string, params?: Params): Promise<Response> {
    return this.send(formBody(action, params));
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The text of the first `<name>…</name>` element, or undefined. */
export function xmlValue(body: string, name: string, from = 0): string | undefined {
  const open = `<${name}>`;
  const start = body.indexOf(open, from);
  if (start < 0) return undefined;
  const end = body.indexOf(`</${name}>`, start);
  return end < 0 ? undefined : body.slice(start + open.length, end);
}

/** Every `<name>…</name>` value, in order. */
export function xmlValues(body: string, name: string): string[] {
  const out: string[] = [];
  const open = `<${name}>`;
  const close = `</${name}>`;
  for (let at = body.indexOf(open); at >= 0; at = body.indexOf(open, at + 1)) {
    const end = body.indexOf(close, at);
    if (end < 0) break;
    out.push(body.slice(at + open.length, end));
  }
  return out;
}

/** How many times `<name>` opens. */
export function xmlCount(body: string, name: string): number {
  const open = `<${name}>`;
  let n = 0;
  for (let at = body.indexOf(open); at >= 0; at = body.indexOf(open, at + open.length)) n++;
  return n;
}

/** The EC2 error code of an error response. */
export function errorCode(body: string): string | undefined {
  return xmlValue(body, 'Code');
}
