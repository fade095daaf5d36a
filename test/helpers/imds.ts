/**
 * Test fixtures for the instance metadata service: raw requests to an instance's host URL
 * (`/_eni/imds/<instance-id>`), and a crawler that walks the tree as IMDS crawlers do, through
 * the listings alone.
 */
import assert from 'node:assert/strict';

export const imdsBase = (serverUrl: string, instanceId: string) => `${serverUrl}/_eni/imds/${instanceId}`;

export interface ImdsAnswer {
  status: number;
  contentType: string | null;
  body: string;
  headers: Headers;
}

export async function imds(base: string, path: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<ImdsAnswer> {
  const response = await fetch(base + path, { method: init.method ?? 'GET', headers: init.headers });
  return { status: response.status, contentType: response.headers.get('content-type'), body: await response.text(), headers: response.headers };
}

/** A value IMDS answers 200 for. */
export async function imdsValue(base: string, path: string, headers: Record<string, string> = {}): Promise<string> {
  const answer = await imds(base, path, { headers });
  assert.equal(answer.status, 200, `GET ${path}: ${answer.status} ${answer.body}`);
  return answer.body;
}

export async function imdsToken(base: string, ttl = 300): Promise<string> {
  const answer = await imds(base, '/latest/api/token', { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': String(ttl) } });
  assert.equal(answer.status, 200, answer.body);
  return answer.body;
}

/**
 * Every leaf below `path` (a directory ending in `/`), by its path relative to `path`, found only
 * by following listings: what a crawler such as cloud-init or ec2-net-utils sees.
 */
export async function crawl(base: string, path: string, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (relative: string) => {
    const listing = await imdsValue(base, path + relative, headers);
    assert.ok(!listing.endsWith('\n'), `the listing of ${path + relative} has no final newline`);
    for (const entry of listing.split('\n')) {
      if (entry.endsWith('/')) await walk(relative + entry);
      else out[relative + entry] = await imdsValue(base, path + relative + entry, headers);
    }
  };
  await walk('');
  return out;
}

/** IMDS's error page for a status (the XHTML page AWS's metadata service answers with). */
export function imdsErrorPage(status: number, text: string): string {
  const title = `${status} - ${text}`;
  return [
    '<?xml version="1.0" encoding="iso-8859-1"?>',
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
    '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
    '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">',
    '  <head>',
    `    <title>${title}</title>`,
    '  </head>',
    '  <body>',
    `    <h1>${title}</h1>`,
    '  </body>',
    '</html>',
  ].join('\n');
}

export function assertImdsError(answer: ImdsAnswer, status: number, text: string): void {
  assert.equal(answer.status, status, `expected ${status}, got ${answer.status}: ${answer.body}`);
  assert.equal(answer.contentType, 'text/html');
  assert.equal(answer.body, imdsErrorPage(status, text));
}
