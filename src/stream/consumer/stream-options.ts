import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_WORK_DIR } from '../../backends/backends.js';
import { defaultKinesisClient, defaultSqsClient } from '../../backends/stream-clients.js';
import { UsageError } from '../../errors.js';
import { leasesPrefix, type StreamScope } from '../../protocol/store-layout.js';
import type { ObjectStore } from '../../store/object-store.js';
import { openStore } from '../../store/open-store.js';
import type { Stream } from '../types.js';
import type { ProcessBatch } from './batch-runner.js';
import { type LeaseManager, SoleOwner } from './lease-manager.js';
import { ShardLeases } from './shard-leases.js';
import type { ReaderPacing } from './shard-reader.js';
import type { StreamFaults } from './stream-faults.js';

/** Leases shared by the consumers of one job on one stream. */
export interface SharedLeases {
  /** This consumer's id: unique per process, or two processes would share its leases. */
  owner: string;
  /** How long a lease lasts without renewal. @default 10000 */
  leaseMs?: number;
}

/** How to run a stream job. Every field has a default. */
export interface StreamOptions {
  /** Stream name or ARN, overriding the job's. @default the job's `stream` */
  stream?: string;
  /** Folder or s3:// URL (or an open store) for checkpoints and store dead letters. @default '.fanout' */
  store?: string | ObjectStore;
  /** @default an HTTP/1.1 client from the SDK's usual configuration (`AWS_ENDPOINT_URL_KINESIS`, ...) */
  kinesis?: KinesisClient;
  /** Used only when the job has a `dlq`. @default an SQS client from the SDK's usual configuration */
  sqs?: SQSClient;
  /**
   * Share the stream's shards with other consumers of this job through leases in the store (see
   * ShardLeases), kept under the stream's own keys. `owner` must be unique per consumer process.
   * Leases are renewed every `leaseMs / 3` and the shard list refreshed every `leaseMs`, unless
   * `leaseRenewMs` or `shardRefreshMs` say otherwise.
   */
  shared?: SharedLeases;
  /** Which shards this consumer reads, for a lease scheme of your own. @default SoleOwner (all of them) */
  leases?: LeaseManager;
  /**
   * Runs one batch; defaults to the job's `process` in this thread. The CLI passes one that runs
   * batches on an invoker (worker pool or Lambda).
   */
  process?: (job: Stream, shardId: string) => ProcessBatch;
  /** @default 5000 */
  metricsIntervalMs?: number;
  /**
   * Raise a shard's lanes (up to 10) while its iterator age grows, lower them (to the job's
   * parallelization) when it is idle; looked at every `autoTuneMs`. @default false
   */
  autoTune?: boolean;
  /** @default 2000 */
  autoTuneMs?: number;
  /** How often leases are renewed; keep it well under the lease length. @default 3000 */
  leaseRenewMs?: number;
  /** How often the shard list is refreshed (also at once when a shard ends). @default 10000 */
  shardRefreshMs?: number;
  /** Pacing of each shard's GetRecords calls. @default { minIntervalMs: 200, idleMs: 1000, throttleBaseMs: 250, throttleCapMs: 5000 } */
  pacing?: ReaderPacing;
  /** First retry delay of a failing batch; later ones double, with jitter. @default 100 */
  retryBaseMs?: number;
}

/** The consumer's defaults, in one place. */
export const STREAM_OPTION_DEFAULTS = {
  store: DEFAULT_WORK_DIR,
  metricsIntervalMs: 5000,
  autoTune: false,
  autoTuneMs: 2000,
  leaseRenewMs: 3000,
  shardRefreshMs: 10_000,
  leaseMs: 10_000,
  retryBaseMs: 100,
  /** Longest wait between retries of a failing batch. */
  retryCapMs: 10_000,
  pacing: { minIntervalMs: 200, idleMs: 1000, throttleBaseMs: 250, throttleCapMs: 5000 },
} as const;

/** StreamOptions with every default applied and clients opened. */
export interface ResolvedStreamOptions {
  streamName: string;
  store: ObjectStore;
  kinesis: KinesisClient;
  /** Set when the job has a `dlq`. */
  sqs: SQSClient | undefined;
  /** The lease manager for the stream's keys, made once the stream is known. */
  leases: (scope: StreamScope, faults?: StreamFaults) => LeaseManager;
  process: ((job: Stream, shardId: string) => ProcessBatch) | undefined;
  metricsIntervalMs: number;
  autoTune: boolean;
  autoTuneMs: number;
  leaseRenewMs: number;
  shardRefreshMs: number;
  pacing: Required<ReaderPacing>;
  retryBaseMs: number;
  retryCapMs: number;
}

/**
 * Applies the consumer's defaults and checks every option before anything is read.
 * @throws {UsageError} naming the bad option and the value received.
 */
export function resolveStreamOptions(job: Stream, o: StreamOptions = {}): ResolvedStreamOptions {
  const d = STREAM_OPTION_DEFAULTS;
  const streamName = o.stream ?? job.stream;
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new UsageError(`stream must be a stream name or ARN, got ${JSON.stringify(streamName)}`);
  }
  const p = o.pacing ?? {};
  if (o.shared && o.leases) throw new UsageError('give shared or leases, not both');
  const store = typeof o.store === 'object' ? o.store : openStore(o.store ?? d.store);
  const leaseMs = positiveInt('shared.leaseMs', o.shared?.leaseMs ?? d.leaseMs);
  const shared = o.shared;
  if (shared && (typeof shared.owner !== 'string' || shared.owner === '')) {
    throw new UsageError(`shared.owner must be a non-empty string, got ${shown(shared.owner)}`);
  }
  const leases = o.leases;
  return {
    streamName,
    store,
    kinesis: o.kinesis ?? defaultKinesisClient(),
    sqs: job.dlq === undefined ? undefined : (o.sqs ?? defaultSqsClient()),
    leases: shared
      ? (scope, faults) =>
          new ShardLeases({
            store,
            prefix: leasesPrefix(scope),
            owner: shared.owner,
            leaseMs,
            ...(faults && { faults }),
          })
      : () => leases ?? new SoleOwner(),
    process: o.process,
    metricsIntervalMs: positiveInt('metricsIntervalMs', o.metricsIntervalMs ?? d.metricsIntervalMs),
    autoTune: o.autoTune ?? d.autoTune,
    autoTuneMs: positiveInt('autoTuneMs', o.autoTuneMs ?? d.autoTuneMs),
    // A lease must be renewed well within its term, and a consumer must look for free shards about
    // as often as a dead one's leases run out.
    leaseRenewMs: positiveInt(
      'leaseRenewMs',
      o.leaseRenewMs ?? (shared ? Math.max(100, Math.floor(leaseMs / 3)) : d.leaseRenewMs),
    ),
    shardRefreshMs: positiveInt('shardRefreshMs', o.shardRefreshMs ?? (shared ? leaseMs : d.shardRefreshMs)),
    pacing: {
      minIntervalMs: nonNegative('pacing.minIntervalMs', p.minIntervalMs ?? d.pacing.minIntervalMs),
      idleMs: nonNegative('pacing.idleMs', p.idleMs ?? d.pacing.idleMs),
      throttleBaseMs: nonNegative('pacing.throttleBaseMs', p.throttleBaseMs ?? d.pacing.throttleBaseMs),
      throttleCapMs: nonNegative('pacing.throttleCapMs', p.throttleCapMs ?? d.pacing.throttleCapMs),
    },
    retryBaseMs: nonNegative('retryBaseMs', o.retryBaseMs ?? d.retryBaseMs),
    retryCapMs: d.retryCapMs,
  };
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new UsageError(`${name} must be a positive integer (ms), got ${shown(v)}`);
  }
  return v;
}

function nonNegative(name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new UsageError(`${name} must be a non-negative number (ms), got ${shown(v)}`);
  }
  return v;
}

/** A value as a message shows it: NaN and Infinity as themselves, where JSON would write null. */
const shown = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v));
