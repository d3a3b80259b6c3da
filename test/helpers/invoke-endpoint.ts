import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';

/** One request the endpoint received, as it arrived on the wire. */
export interface ReceivedInvoke {
  method: string;
  /** The raw request target: path and query, still percent-encoded. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A scripted Invoke endpoint on loopback; `answer` writes each reply (or never does). */
export interface InvokeEndpoint {
  url: string;
  received: ReceivedInvoke[];
  /** Connections the endpoint saw closed, by either side. */
  closed(): number;
  stop(): Promise<void>;
}

/** Credentials every client made by `clientFor` signs with. */
export const TEST_CREDENTIALS = {
  accessKeyId: 'AKIDTEST',
  secretAccessKey: 'test-secret',
  sessionToken: 'tok',
};

/** Starts an endpoint that calls `answer` for every request once its body has arrived. */
export async function startInvokeEndpoint(
  answer: (res: ServerResponse, req: ReceivedInvoke) => void,
): Promise<InvokeEndpoint> {
  const received: ReceivedInvoke[] = [];
  let closed = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      received.push(got);
      answer(res, got);
    });
  });
  server.on('connection', (socket) => socket.on('close', () => closed++));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    closed: () => closed,
    stop: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A Lambda client for `endpoint`, with fixed credentials and no SDK retries. */
export function clientFor(
  endpoint: string,
  credentials: LambdaClient['config']['credentials'] | typeof TEST_CREDENTIALS = TEST_CREDENTIALS,
): LambdaClient {
  return new LambdaClient({ endpoint, region: 'eu-west-1', credentials, maxAttempts: 1 });
}

/** Answers with `status`, JSON `body` and `headers`. */
export function reply(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}
