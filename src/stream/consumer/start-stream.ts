import { sleep } from '../../backoff.js';
import { type FanoutError, toFanoutError, UsageError } from '../../errors.js';
import type { Stream } from '../types.js';
import { nextLanes } from './auto-tune.js';
import { batchContext, batchTaskId, emitContext, streamJobId } from './batch-context.js';
import type { ProcessBatch } from './batch-runner.js';
import { CheckpointStore } from './checkpoints.js';
import { type DeadLetterSink, SqsDeadLetters, StoreDeadLetters } from './dead-letters.js';
import { MetricsTally } from './metrics-tally.js';
import { listShards, readyShards, type ShardInfo } from './shard-list.js';
import { ShardPipeline, type ShardStats } from './shard-pipeline.js';
import { type ReadStart, ShardReader } from './shard-reader.js';
import { StreamEmitter, type StreamEvents } from './stream-events.js';
import { resolveStreamOptions, type StreamOptions } from './stream-options.js';

export type { StreamOptions } from './stream-options.js';

/** A running consumer. */
export interface StreamHandle {
  /** Stops reading, lets in-flight batches finish, checkpoints, and resolves. */
  stop(): Promise<void>;
  on<E extends keyof StreamEvents>(event: E, listener: (value: StreamEvents[E]) => void): StreamHandle;
}

/**
 * Starts consuming a Kinesis stream with a stream job: every owned shard is read, processed in
 * ordered lanes and checkpointed to the store; a restarted consumer resumes after its checkpoints.
 *
 * @example
 * const handle = startStream(defineStream({ name: 'n', stream: 's', process: async () => {} }));
 * handle.on('metrics', (m) => console.log(m.recordsPerSecond));
 * await handle.stop();
 * @throws {UsageError} when an option is out of range (see resolveStreamOptions), before anything is read.
 */
export function startStream(job: Stream, options: StreamOptions = {}): StreamHandle {
  const o = resolveStreamOptions(job, options);
  const events = new StreamEmitter();
  const stop = new AbortController();
  const refresh = { now: new AbortController() };
  const { streamName, kinesis, store, leases } = o;
  const checkpoints = new CheckpointStore(store, job.name);
  const deadLetters: DeadLetterSink =
    job.dlq && o.sqs ? new SqsDeadLetters(o.sqs, job.dlq) : new StoreDeadLetters(store, job.name);
  const running = new Map<
    string,
    {
      stats: ShardStats;
      reader: ShardReader;
      pipeline: ShardPipeline;
      done: Promise<void>;
      stop: AbortController;
      lastAge?: number | undefined;
    }
  >();
  const halted = new Set<string>();
  const tally = new MetricsTally();
  const processFor =
    o.process ??
    ((j: Stream, shardId: string): ProcessBatch =>
      (records, attempt) =>
        j.process(
          records,
          batchContext({
            jobId: streamJobId(j.name),
            taskId: batchTaskId(shardId, records[0]?.sequenceNumber ?? 'empty'),
            streamName,
            shardId,
            attempt,
            store,
          }),
        ));

  const startShard = async (shard: ShardInfo, ended: Set<string>): Promise<void> => {
    const restored = await checkpoints.read(shard.shardId);
    const start: ReadStart = restored?.sequenceNumber
      ? { after: restored.sequenceNumber }
      : shard.parents.some((p) => ended.has(p))
        ? 'TRIM_HORIZON' // a child of a shard read to its end starts at its beginning
        : job.startingPosition;
    const limit = Math.min(10_000, job.batchSize * job.parallelization);
    const reader = new ShardReader(kinesis, streamName, shard.shardId, start, limit, o.pacing);
    const stats: ShardStats = { records: 0, retries: 0, deadLetters: 0, inFlight: 0 };
    const pipeline = new ShardPipeline({
      job,
      streamName,
      reader,
      checkpoints,
      restored,
      process: processFor(job, shard.shardId),
      deadLetters,
      retryBaseMs: o.retryBaseMs,
      retryCapMs: o.retryCapMs,
      stats,
      emitContext: emitContext(job.name, streamName, shard.shardId, store),
      onCheckpoint: (sequenceNumber, isEnded) =>
        events.emit('checkpoint', { shardId: shard.shardId, sequenceNumber, ended: isEnded }),
    });
    // Stops with the consumer, or alone when another consumer takes the shard's lease.
    const shardStop = new AbortController();
    const done = pipeline.run(AbortSignal.any([stop.signal, shardStop.signal])).then(
      async (outcome) => {
        if (outcome === 'ended') {
          ended.add(shard.shardId);
          refresh.now.abort(); // its children may start now
        }
        // Reported, never thrown: nothing awaits this promise until the consumer stops.
        await leases.release(shard.shardId).catch((err: unknown) => events.emit('error', toFanoutError(err)));
      },
      (err: unknown) => {
        const e = toFanoutError(err);
        // A transient failure (the DLQ or Kinesis unreachable) is retried from the checkpoint at the
        // next refresh; one that cannot pass by itself (window state too large) halts the shard.
        if (!e.retryable) halted.add(shard.shardId);
        events.emit('error', e);
      },
    );
    running.set(shard.shardId, {
      stats,
      reader,
      pipeline,
      stop: shardStop,
      done: done.finally(() => fold(shard.shardId)),
    });
  };

  const fold = (shardId: string) => {
    const r = running.get(shardId);
    if (!r) return;
    tally.retire(r);
    running.delete(shardId);
  };

  const drop = (lost: Iterable<string>) => {
    for (const id of lost) running.get(id)?.stop.abort();
  };

  const pollLoop = async (): Promise<void> => {
    while (!stop.signal.aborted) {
      try {
        // Re-read each round: with shared leases, another consumer may have ended a parent.
        const ended = await checkpoints.ended();
        const shards = await listShards(kinesis, streamName);
        const ready = readyShards(shards, ended).filter((s) => !halted.has(s.shardId));
        const owned = new Set(await leases.acquire(ready.map((s) => s.shardId)));
        drop([...running.keys()].filter((id) => !owned.has(id)));
        for (const s of ready) {
          if (owned.has(s.shardId) && !running.has(s.shardId) && !stop.signal.aborted)
            await startShard(s, ended);
        }
      } catch (err) {
        events.emit('error', listingError(err, streamName));
      }
      if (refresh.now.signal.aborted) refresh.now = new AbortController();
      await sleep(o.shardRefreshMs, AbortSignal.any([stop.signal, refresh.now.signal]));
    }
    while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
  };

  const metrics = () => tally.snapshot(running);
  const timer = setInterval(() => events.emit('metrics', metrics()), o.metricsIntervalMs);
  const tuner = o.autoTune
    ? setInterval(() => {
        for (const r of running.values()) {
          const age = r.reader.millisBehind;
          const lanes = nextLanes({
            lanes: r.pipeline.lanes,
            floor: job.parallelization,
            previousAgeMs: r.lastAge,
            ageMs: age,
            inFlight: r.stats.inFlight,
          });
          r.lastAge = age;
          if (lanes !== r.pipeline.lanes) r.pipeline.setLanes(lanes);
        }
      }, o.autoTuneMs)
    : undefined;
  const heartbeat = setInterval(() => {
    leases.renew().then(drop, (err: unknown) => events.emit('error', toFanoutError(err)));
  }, o.leaseRenewMs);
  const loop = pollLoop().catch((err: unknown) => events.emit('error', toFanoutError(err)));

  let stopped: Promise<void> | undefined;
  const handle: StreamHandle = {
    stop() {
      stopped ??= (async () => {
        stop.abort();
        await loop;
        clearInterval(timer);
        clearInterval(heartbeat);
        clearInterval(tuner);
        events.emit('metrics', metrics());
      })();
      return stopped;
    },
    on(event, listener) {
      events.on(event, listener);
      return handle;
    },
  };
  return handle;
}

/** A stream that does not exist is the user's mistake (a one-line error), not a transient failure. */
function listingError(err: unknown, stream: string): FanoutError {
  if (err instanceof Error && err.name === 'ResourceNotFoundException') {
    return new UsageError(`stream ${stream} not found: ${err.message}`, { cause: err });
  }
  return toFanoutError(err);
}
