/**
 * Test fixtures: a real eni-local server started through the library API, and an EC2 client of
 * the AWS SDK for JavaScript v3 pointed at it. ENI_LOCAL_TEST_DATABASE chooses the store the
 * suite runs against (default: memory); with a PostgreSQL URL each server gets a database of its
 * own, dropped when it stops (see postgres.ts).
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.ts';
import { createTestDatabase, postgresTestUrl, type TestDatabase } from './postgres.ts';

export interface TestServer extends RunningServer {
  dataDir: string;
  /** A client for the given region and credentials (default us-east-1, key AKIDTEST, secret `secret`). */
  client(options?: ClientOptions): EC2Client;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

export async function startTestServer(options: ServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'eni-local-test-'));
  const adminUrl = options.database === undefined ? postgresTestUrl() : undefined;
  const ownDatabase: TestDatabase | undefined = adminUrl ? await createTestDatabase(adminUrl) : undefined;
  let server: RunningServer;
  try {
    server = await startServer({
      port: 0,
      database: ownDatabase?.url ?? process.env.ENI_LOCAL_TEST_DATABASE ?? 'memory',
      logLevel: process.env.ENI_LOCAL_TEST_LOG_LEVEL ?? 'error',
      ...options,
      dataDir,
    });
  } catch (error) {
    await ownDatabase?.drop();
    throw error;
  }
  const clients: EC2Client[] = [];
  return {
    ...server,
    dataDir,
    client: (options = {}) => {
      const client = ec2Client(server.url, options);
      clients.push(client);
      return client;
    },
    stop: async () => {
      for (const c of clients) c.destroy();
      await server.close();
      await ownDatabase?.drop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ClientOptions {
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Default 1: client mistakes must never be retried into a slow test; 5xx would be a bug anyway. */
  maxAttempts?: number;
  /** Milliseconds the client's clock is off (the SDK signs with Date.now() + offset). */
  systemClockOffset?: number;
}

export function ec2Client(
  endpoint: string,
  { region = 'us-east-1', accessKeyId = 'AKIDTEST', secretAccessKey = 'secret', sessionToken, maxAttempts = 1, systemClockOffset }: ClientOptions = {},
) {
  return new EC2Client({
    endpoint,
    region,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    maxAttempts,
    ...(systemClockOffset !== undefined ? { systemClockOffset } : {}),
  });
}

/** Asserts that the promise fails with the EC2 error code (and HTTP status, when given). */
export async function expectEc2Error(promise: Promise<unknown>, code: string, status?: number): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { name: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    assert.equal(e.name, code, `expected ${code}, got ${e.name}: ${e.message}`);
    if (status !== undefined) assert.equal(e.$metadata?.httpStatusCode, status);
    return e;
  }
  assert.fail(`expected the call to fail with ${code}, but it succeeded`);
}

/** Raw EC2 Query call, for what the SDK would not send. */
export async function rawEc2(url: string, params: Record<string, string> | string, init: { method?: string; headers?: Record<string, string> } = {}) {
  const body = typeof params === 'string' ? params : new URLSearchParams({ Version: '2016-11-15', ...params }).toString();
  const response = await fetch(url + '/', {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...init.headers },
    body,
  });
  return { status: response.status, text: await response.text() };
}

/** The `<Code>` of an EC2 error envelope. */
export const errorCode = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
