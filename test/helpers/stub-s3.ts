import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { defaultS3Client } from '../../src/store/s3-client.js';
import { S3RVER_CREDENTIALS } from './s3rver.js';

/** One HTTP request as the SDK hands it to its request handler. */
export interface StubRequest {
  method: string;
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string>;
}

/** What the stub answers: a status, headers, and a body (text, or a stream to cut short). */
export interface StubResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string | Readable;
}

/**
 * An S3 client of the store's default configuration whose HTTP layer is `answer` (called with the
 * request and its 1-based number): retry decisions, headers and error mapping without any server.
 */
export function stubbedClient(
  answer: (req: StubRequest, n: number) => StubResponse,
  maxAttempts = 3,
): { client: S3Client; requests: StubRequest[] } {
  const requests: StubRequest[] = [];
  const requestHandler = {
    async handle(req: StubRequest) {
      requests.push(req);
      const res = answer(req, requests.length);
      const body =
        typeof res.body === 'string' || res.body === undefined
          ? Readable.from([Buffer.from(res.body ?? '')])
          : res.body;
      return { response: { statusCode: res.statusCode, headers: res.headers ?? {}, body } };
    },
  };
  const client = defaultS3Client(
    maxAttempts,
    {
      region: 'us-east-1',
      credentials: S3RVER_CREDENTIALS,
      requestHandler: requestHandler as unknown as NonNullable<
        Parameters<typeof defaultS3Client>[1]
      >['requestHandler'],
    },
    {},
  );
  return { client, requests };
}

/** An S3 XML error response. */
export function s3Error(statusCode: number, code: string): StubResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code} from stub</Message></Error>`,
  };
}
