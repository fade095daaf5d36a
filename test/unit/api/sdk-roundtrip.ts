/**
 * Runs the real AWS SDK's serializer and parser without a network: a request handler that
 * captures the Query body the SDK sends and answers with the XML we give it.
 */
import { EC2Client } from '@aws-sdk/client-ec2';

export interface Captured {
  body: string;
}

export function capturingClient(respond: (body: string) => { status: number; xml: string }, captured: Captured[] = []) {
  const client = new EC2Client({
    region: 'us-east-1',
    endpoint: 'http://localhost:1',
    credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: { body?: unknown }) {
        const body = typeof request.body === 'string' ? request.body : '';
        captured.push({ body });
        const { status, xml } = respond(body);
        return { response: { statusCode: status, headers: { 'content-type': 'text/xml' }, body: new TextEncoder().encode(xml) } };
      },
    },
  });
  return { client, captured };
}
