import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requireDevModule } from './dev-packages.js';

/** How to start the Kinesis emulator. */
export interface KinesisEmulatorOptions {
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
  /** How long a new stream stays CREATING (and a split or merge UPDATING). @default 50 */
  streamTransitionMs?: number;
  /** Most shards the emulator allows in total. @default 100 */
  shardLimit?: number;
}

/** A running in-memory Kinesis API on loopback. */
export interface KinesisEmulator {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Closes the server and drops its streams; safe to call twice. */
  stop(): Promise<void>;
}

interface KinesaliteOptions {
  createStreamMs: number;
  deleteStreamMs: number;
  updateStreamMs: number;
  shardLimit: number;
}

/**
 * Starts kinesalite in this process, in memory (no `path`, so its native LevelDB is never loaded).
 * It accepts any credentials. Clients must speak HTTP/1.1: the SDK's Kinesis client defaults to
 * HTTP/2, which kinesalite refuses, so pass `new NodeHttpHandler()` from `@smithy/node-http-handler`.
 * It lacks UpdateShardCount and ChildShards; SplitShard and MergeShards work.
 * @throws {UsageError} when kinesalite is not installed.
 */
export async function startKinesisEmulator(options: KinesisEmulatorOptions = {}): Promise<KinesisEmulator> {
  const kinesalite = requireDevModule<(o: KinesaliteOptions) => Server>('kinesalite');
  // kinesalite's default 500 ms per stream transition only slows tests and scripts down.
  const transition = options.streamTransitionMs ?? 50;
  const server = kinesalite({
    createStreamMs: transition,
    deleteStreamMs: transition,
    updateStreamMs: transition,
    shardLimit: options.shardLimit ?? 100,
  });
  await new Promise<void>((res, rej) =>
    server.once('error', rej).listen(options.port ?? 0, '127.0.0.1', () => res()),
  );
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => {
      stopped ??= new Promise<void>((res) => {
        // Idle keep-alive sockets would hold `close` open until they time out.
        server.closeAllConnections();
        server.close(() => res());
      });
      return stopped;
    },
  };
}
