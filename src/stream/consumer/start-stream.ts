import { sleep } from '../../backoff.js';
import { type FanoutError, StreamFailedError, toFanoutError, UsageError } from '../../errors.js';
import type { StreamScope } from '../../protocol/store-layout.js';
import { batchContext, batchTaskId, streamJobId } from '../../task/batch-context.js';
import type { Stream } from '../types.js';
import { nextLanes } from './auto-tune.js';
import type { ProcessBatch } from './batch-runner.js';
import { CheckpointStore } from './checkpoints.js';
import { type DeadLetterSink, SqsDeadLetters, StoreDeadLetters } from './dead-letters.js';
import { kinesisError } from './kinesis-errors.js';
import type { LeaseManager } from './lease-manager.js';
import { MetricsTally } from './metrics-tally.js';
import { type RunningShard, runShard, type ShardDeps } from './run-shard.js';
import { listShards, readyShards, type ShardInfo } from './shard-list.js';
import { StreamEmitter, type StreamEvents } from './stream-events.js';
import { StreamFaults } from './stream-faults.js';
import { describeStream, scopeOf } from './stream-identity.js';
import { resolveStreamOptions, type StreamOptions } from './stream-options.js';

export type { StreamOptions } from './stream-options.js';

/** A running consumer. */
export interface StreamHandle {
  /** Stops reading, lets in-flight batches finish, checkpoints, and resolves. */
  stop(): Promise<void>;
  /**
   * Settles once the consumer has stopped: resolves after `stop()`, rejects with the
   * StreamFailedError that stopped it by itself (an error no retry can fix, also emitted as 'error').
   */
  readonly done: Promise<void>;
  on<E extends keyof StreamEvents>(event: E, listener: (value: StreamEvents[E]) => void): StreamHandle;
}

/** What exists once the stream is known: everything kept under its keys. */
interface Scoped {
  scope: StreamScope;
  checkpoints: CheckpointStore;
  leases: LeaseManager;
  deps: ShardDeps;
}

/**
 * Starts consuming a Kinesis stream with a stream job: every owned shard is read, processed in
 * ordered lanes and checkpointed to the store under the stream's identity (its ARN and creation
 * time), so a restarted consumer resumes after its checkpoints and another stream, or one created
 * again under the same name, starts at the job's starting position. An error no retry can fix stops
 * the consumer (see `done`); others are emitted as 'error' and retried.
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
  const { streamName, kinesis, store } = o;
  const running = new Map<string, RunningShard & { done: Promise<void> }>();
  const halted = new Set<string>();
  const tally = new MetricsTally();
  const faults = new StreamFaults();
  let scoped: Scoped | undefined;
  let failure: StreamFailedError | undefined;

  /** Every error goes out here: once the consumer has failed, later ones are notes on that failure. */
  const report = (err: unknown) => {
    const e = toFanoutError(err);
    if (!failure && e instanceof StreamFailedError) {
      failure = e;
      events.emit('error', e);
      stop.abort(); // in-flight batches finish and are checkpointed, as on stop()
    } else if (failure) {
      // The same error on another shard (the stream was deleted under all of them) says nothing new.
      if (e.cause instanceof Error && failure.cause instanceof Error && e.cause.name === failure.cause.name)
        return;
      failure.also.push(`while stopping: ${e.message}`);
    } else {
      events.emit('error', e);
    }
  };

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

  /** Learns which stream this is, once: its keys in the store depend on it. */
  const scopeStream = async (): Promise<Scoped> => {
    const scope = scopeOf(job.name, await describeStream(kinesis, streamName));
    const checkpoints = new CheckpointStore(store, scope, faults);
    const deadLetters: DeadLetterSink =
      job.dlq && o.sqs ? new SqsDeadLetters(o.sqs, job.dlq) : new StoreDeadLetters(store, scope);
    const deps: ShardDeps = {
      job,
      options: o,
      store,
      checkpoints,
      deadLetters,
      process: (j, shardId) => faults.aroundProcess(processFor(j, shardId), shardId),
      onCheckpoint: (shardId, sequenceNumber, ended) =>
        events.emit('checkpoint', { shardId, sequenceNumber, ended }),
    };
    return { scope, checkpoints, leases: o.leases(scope, faults), deps };
  };

  const startShard = async (s: Scoped, info: ShardInfo, ended: Set<string>) => {
    const { shardId } = info;
    const shard = await runShard(s.deps, info, ended, stop.signal);
    const done = shard.outcome.then(
      async (outcome) => {
        if (outcome === 'ended') {
          ended.add(shardId);
          refresh.now.abort(); // its children may start now
        }
        // Reported, never thrown: nothing awaits this promise until the consumer stops.
        await s.leases.release(shardId).catch(report);
      },
      async (err: unknown) => {
        const e = toFanoutError(err);
        // A transient failure (the DLQ or Kinesis unreachable) is retried from the checkpoint at the
        // next refresh, here or, once the lease is given up, by the consumer that asked for it; one
        // that cannot pass by itself (window state too large) halts the shard, and one that no retry
        // can fix on any shard (StreamFailedError) stops the consumer.
        if (!e.retryable) halted.add(shardId);
        report(e);
        if (e.retryable) await s.leases.release(shardId).catch(report);
      },
    );
    running.set(shardId, { ...shard, done: done.finally(() => fold(shardId)) });
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
        scoped ??= await scopeStream().catch((err: unknown) => {
          throw notFound(err, streamName) ?? kinesisError(err, streamName);
        });
        const s = scoped;
        // Re-read each round: with shared leases, another consumer may have ended a parent.
        const ended = await s.checkpoints.ended();
        // Known to exist, a stream that is no longer found was deleted while being read.
        const shards = await listShards(kinesis, streamName).catch((err: unknown) => {
          throw kinesisError(err, streamName);
        });
        const ready = readyShards(shards, ended).filter((r) => !halted.has(r.shardId));
        const owned = new Set(await s.leases.acquire(ready.map((r) => r.shardId)));
        drop([...running.keys()].filter((id) => !owned.has(id)));
        for (const r of ready) {
          if (owned.has(r.shardId) && !running.has(r.shardId) && !stop.signal.aborted)
            await startShard(s, r, ended);
        }
      } catch (err) {
        report(err);
      }
      if (refresh.now.signal.aborted) refresh.now = new AbortController();
      await sleep(o.shardRefreshMs, AbortSignal.any([stop.signal, refresh.now.signal]));
    }
    while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
  };

  const metrics = () => tally.snapshot(running, faults.counts);
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
    scoped?.leases.renew().then((r) => {
      drop(r.stop);
      if (r.error !== undefined) report(r.error);
    }, report);
  }, o.leaseRenewMs);
  // Ends when the consumer stops, by stop() or by a failure: either way its timers go with it.
  const stopped = pollLoop()
    .catch(report)
    .then(() => {
      clearInterval(timer);
      clearInterval(heartbeat);
      clearInterval(tuner);
      events.emit('metrics', metrics());
    });
  const done = stopped.then(() => {
    if (failure) throw failure;
  });
  // Awaiting `done` is optional: a failure is emitted as 'error' too, and must not crash the process.
  done.catch(() => {});

  const handle: StreamHandle = {
    stop() {
      stop.abort();
      return stopped;
    },
    done,
    on(event, listener) {
      events.on(event, listener);
      return handle;
    },
  };
  return handle;
}

/** A stream not found when first looked up is the user's mistake (a one-line error), not a failure. */
function notFound(err: unknown, stream: string): FanoutError | undefined {
  if (err instanceof Error && err.name === 'ResourceNotFoundException') {
    return new UsageError(`stream ${stream} not found: ${err.message}`, { cause: err });
  }
  return undefined;
}
