import type { ObjectStore } from '../../store/object-store.js';
import { emitContext } from '../../task/batch-context.js';
import type { Stream } from '../types.js';
import type { ProcessBatch } from './batch-runner.js';
import type { CheckpointStore } from './checkpoints.js';
import type { DeadLetterSink } from './dead-letters.js';
import type { ShardInfo } from './shard-list.js';
import { ShardPipeline, type ShardStats } from './shard-pipeline.js';
import { type ReadStart, ShardReader } from './shard-reader.js';
import type { ResolvedStreamOptions } from './stream-options.js';

/** What every shard of one consumer shares. */
export interface ShardDeps {
  job: Stream;
  options: ResolvedStreamOptions;
  store: ObjectStore;
  checkpoints: CheckpointStore;
  deadLetters: DeadLetterSink;
  process: (job: Stream, shardId: string) => ProcessBatch;
  onCheckpoint(shardId: string, sequenceNumber: string | undefined, ended: boolean): void;
}

/** One shard being read and processed. */
export interface RunningShard {
  stats: ShardStats;
  reader: ShardReader;
  pipeline: ShardPipeline;
  /** Stops this shard alone (its lease was lost); the consumer's signal stops them all. */
  stop: AbortController;
  /** How the pipeline ended: the shard read to its end, or stopped. @throws what stopped it */
  outcome: Promise<'ended' | 'stopped'>;
  /** Iterator age at the auto-tuner's last look. */
  lastAge?: number | undefined;
}

/**
 * Starts reading one shard: after its checkpoint, at its beginning when it is the child of a shard
 * read to its end, or else at the job's starting position.
 */
export async function runShard(
  d: ShardDeps,
  shard: ShardInfo,
  ended: ReadonlySet<string>,
  signal: AbortSignal,
): Promise<RunningShard> {
  const { job, options: o } = d;
  const restored = await d.checkpoints.read(shard.shardId);
  const start: ReadStart = restored?.sequenceNumber
    ? { after: restored.sequenceNumber }
    : shard.parents.some((p) => ended.has(p))
      ? 'TRIM_HORIZON' // a child of a shard read to its end starts at its beginning
      : job.startingPosition;
  const reader = new ShardReader(o.kinesis, o.streamName, shard.shardId, start, o.pacing);
  const stats: ShardStats = { records: 0, retries: 0, deadLetters: 0, inFlight: 0 };
  const pipeline = new ShardPipeline({
    job,
    streamName: o.streamName,
    reader,
    checkpoints: d.checkpoints,
    restored,
    process: d.process(job, shard.shardId),
    deadLetters: d.deadLetters,
    retryBaseMs: o.retryBaseMs,
    retryCapMs: o.retryCapMs,
    stats,
    emitContext: emitContext(job.name, o.streamName, shard.shardId, d.store),
    onCheckpoint: (sequenceNumber, isEnded) => d.onCheckpoint(shard.shardId, sequenceNumber, isEnded),
  });
  const stop = new AbortController();
  const outcome = pipeline.run(AbortSignal.any([signal, stop.signal]));
  return { stats, reader, pipeline, stop, outcome };
}
