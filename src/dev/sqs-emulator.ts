import { loadDevModule } from './dev-packages.js';

/** How to start the SQS emulator. */
export interface SqsEmulatorOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** Region in queue ARNs when a request does not name one. @default 'us-east-1' */
  region?: string;
}

/** A running in-memory SQS API on loopback. */
export interface SqsEmulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Closes the server and drops its queues; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts fauxqs in this process, in memory. Only 1.9.x runs on Node 20 (2.x needs Node 22). It speaks
 * SQS's JSON protocol, with redrive to a dead-letter queue, receive counts and FIFO queues, and accepts
 * any credentials. Its `startFauxqs` listens on every interface, so the app is built and bound to
 * 127.0.0.1 here instead; queue URLs then carry the host each request was sent to.
 * @throws {UsageError} when fauxqs is not installed.
 */
export async function startSqsEmulator(options: SqsEmulatorOptions = {}): Promise<SqsEmulator> {
  const { buildApp } = await loadDevModule('fauxqs', () => import('fauxqs'));
  const app = buildApp({ logger: false, defaultRegion: options.region ?? 'us-east-1' });
  const address = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${new URL(address).port}`,
    stop: () => {
      stopped ??= app.close();
      return stopped;
    },
  };
}
