import type { Invoker } from '../backends/invoker.js';
import { formatDuration } from '../duration.js';
import { FanoutError, ThrottledError, WorkerCrashedError } from '../errors.js';
import type {
  MapResult,
  MapTask,
  MergeResult,
  MergeTask,
  PartitionSlice,
  ReduceResult,
  ReduceTask,
  Task,
  TaskResult,
} from '../protocol/task-types.js';
import { readInputList } from '../task/reduce-inputs.js';
import { simKey } from './sim-store.js';
import { currentWorld, type SimWorld } from './sim-world.js';

const MB = 1e6;
/** Retries of a request S3 answered 503, as the SDK's standard mode makes them, before the attempt fails. */
const SLOWDOWN_RETRIES = 3;

/**
 * Simulated Lambda: each invocation runs on a function environment of the current SimWorld under
 * its virtual clock. The driver sends at most `invokesPerSecond`; past the account's concurrency,
 * or past the new environments the scaling rate allows so far (`rampPer10s` at once and as many
 * more every 10 s), an invocation is refused with a 429 (ThrottledError), as Lambda does. A new
 * environment pays the cold start; a free one is reused warm. A task reads, computes and writes
 * for as long as the model says at its memory's share of a core, each S3 request passing the
 * prefix's rate or getting 503 SlowDown (retried, then failing the attempt as throttled), and
 * leaves objects of the modelled sizes where the real task would. Attempts past the task timeout
 * are abandoned; `failureRate` and `stragglerRate` fail and slow attempts on purpose.
 */
export class SimInvoker implements Invoker {
  readonly concurrency: number;
  readonly #world: SimWorld;
  readonly #timeoutMs: number;
  /** Environments not running an attempt, by id, the most recently used last (reused first). */
  readonly #idle: number[] = [];
  #environments = 0;
  #active = 0;
  #nextSend = 0;
  /** When the first environment started: the scaling rate counts from there. */
  #firstAt: number | undefined;
  #closed = false;

  constructor(o: { concurrency: number; taskTimeoutMs: number }) {
    this.#world = currentWorld();
    this.concurrency = o.concurrency;
    this.#timeoutMs = o.taskTimeoutMs;
  }

  async invoke(task: Task, onStart?: (lane: string) => void): Promise<TaskResult> {
    const w = this.#world;
    const m = w.model;
    if (this.#closed) throw new FanoutError('the simulated invoker is closed');
    // The driver's own pace of sending.
    const now = w.clock.now();
    const sendAt = Math.max(now, this.#nextSend);
    this.#nextSend = sendAt + 1000 / m.invokesPerSecond;
    if (sendAt > now) await w.clock.until(sendAt);
    await w.clock.sleep(m.requestMs / 2);
    const context = { jobId: task.jobId, taskId: task.taskId, attempt: task.attempt };
    const where = `${task.taskId} attempt ${task.attempt}`;
    if (this.#active >= m.accountConcurrency) {
      w.counts.throttles++;
      await w.clock.sleep(m.requestMs / 2);
      throw new ThrottledError(`${where}: Lambda 429 TooManyRequestsException (account concurrency)`, {
        retryable: true,
        context,
      });
    }
    let env = this.#idle.pop();
    const cold = env === undefined;
    if (env === undefined) {
      this.#firstAt ??= w.clock.now();
      const allowed = m.rampPer10s * (1 + Math.floor((w.clock.now() - this.#firstAt) / 10_000));
      if (this.#environments >= allowed) {
        w.counts.throttles++;
        await w.clock.sleep(m.requestMs / 2);
        throw new ThrottledError(`${where}: Lambda 429 TooManyRequestsException (scaling rate)`, {
          retryable: true,
          context,
        });
      }
      env = this.#environments++;
      w.counts.coldStarts++;
    }
    this.#active++;
    w.counts.peakConcurrency = Math.max(w.counts.peakConcurrency, this.#active);
    onStart?.(`function ${env}`);
    const started = w.clock.now();
    const run = this.#run(task, cold, started).finally(() => {
      // The environment is busy until the attempt ends, even one the driver abandoned.
      this.#active--;
      this.#idle.push(env as number);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        w.counts.failures++;
        reject(
          new WorkerCrashedError(
            `${where} timed out after ${formatDuration(this.#timeoutMs)} on simulated Lambda (--task-timeout)`,
            { retryable: true, context },
          ),
        );
      }, this.#timeoutMs);
    });
    run.catch(() => {});
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async #run(task: Task, cold: boolean, started: number): Promise<TaskResult> {
    const w = this.#world;
    const m = w.model;
    if (cold) await w.clock.sleep(m.coldStartMs);
    // This attempt's luck: a spread around the model, sometimes a straggler, sometimes a failure.
    let pace = 1 + m.taskJitter * (2 * w.random() - 1);
    if (w.random() < m.stragglerRate) {
      pace *= m.stragglerSlowdown;
      w.counts.stragglers++;
    }
    const failAt = w.random() < m.failureRate ? w.random() : undefined;
    const core = Math.min(1, w.memoryMb / m.fullCoreMb);
    const work =
      task.kind === 'map'
        ? this.#map(task, pace, core)
        : task.kind === 'reduce'
          ? this.#reduce(task, pace, core)
          : task.kind === 'merge'
            ? this.#merge(task, pace)
            : undefined;
    if (!work)
      throw new FanoutError(`the simulated backend runs map, merge and reduce tasks, not ${task.kind}`);
    if (failAt !== undefined) {
      // Fails a share of the way through what it would have taken, having written nothing.
      const { ms } = work.plan;
      await w.clock.sleep(failAt * ms);
      w.counts.failures++;
      throw new FanoutError(
        `${task.taskId} attempt ${task.attempt} failed (simulated failure, failureRate)`,
        {
          retryable: true,
          context: { jobId: task.jobId, taskId: task.taskId, attempt: task.attempt },
        },
      );
    }
    const result = await work.run();
    result.metrics.ms = w.clock.now() - started;
    return result;
  }

  /** A map task: its splits read while mapped, then its shuffle object (or part file) written. */
  #map(task: MapTask, pace: number, core: number): { plan: { ms: number }; run(): Promise<MapResult> } {
    const w = this.#world;
    const m = w.model;
    const bytes = task.splits.reduce((n, s) => n + (s.end - s.start), 0);
    const readMs = (bytes / (m.readMBps * MB)) * 1000;
    const computeMs = (bytes / (m.mapMBps * core * MB)) * 1000;
    const shuffleBytes = Math.round(bytes * m.shuffleRatio);
    const writeMs = (shuffleBytes / (m.writeMBps * MB)) * 1000;
    const inputRecords = Math.round(bytes / m.recordBytes);
    const outputRecords = Math.round(inputRecords * m.shuffleRatio);
    return {
      plan: { ms: 2 * m.requestMs + pace * Math.max(readMs, computeMs) + writeMs },
      run: async () => {
        // One GET per split, first bytes after the request time; reading overlaps the mapping.
        for (const s of task.splits) {
          await this.#request('get', simKey(s.store, s.key), task);
        }
        await w.clock.sleep(pace * Math.max(readMs, computeMs));
        // A map-only stage's task writes its part file where a shuffle object would go.
        const part = task.output;
        const out = part ? simKey(part.store, part.key) : simKey(task.shuffleStore, task.shuffleKey);
        await this.#request('put', out, task);
        await w.clock.sleep(writeMs);
        w.put(out, shuffleBytes);
        return {
          kind: 'map',
          shuffleKey: part ? '' : task.shuffleKey,
          slices: part ? [] : slicesOf(shuffleBytes, outputRecords, task.partitions),
          ...(part && { outputKey: part.key }),
          metrics: {
            inputBytes: bytes,
            inputRecords,
            outputRecords,
            outputBytes: shuffleBytes,
            spills: 0,
            ms: 0,
          },
        };
      },
    };
  }

  /**
   * A merge task: each of its group's shuffle objects read whole, one GET each and a few at a
   * time, while its merged object is written out (bytes are copied, not decoded).
   */
  #merge(task: MergeTask, pace: number): { plan: { ms: number }; run(): Promise<MergeResult> } {
    const w = this.#world;
    const m = w.model;
    return {
      plan: { ms: m.requestMs * 4 },
      run: async () => {
        const entries = await readInputList(task.inputs);
        const r = task.partitions;
        const objects = Array.from({ length: entries.length / r }, (_, i) =>
          entries.slice(i * r, (i + 1) * r),
        );
        const lanes = Math.max(1, Math.min(m.readsInFlight, objects.length));
        const perRead = (m.readMBps * MB) / lanes;
        const totals = Array.from({ length: r }, () => ({ bytes: 0, records: 0 }));
        let next = 0;
        const lane = async () => {
          while (next < objects.length) {
            const slices = objects[next++];
            const first = slices?.[0];
            if (!slices || !first) break;
            let bytes = 0;
            for (const [p, e] of slices.entries()) {
              const t = totals[p] as { bytes: number; records: number };
              t.bytes += e.slice.length;
              t.records += e.slice.records;
              bytes += e.slice.length;
            }
            await this.#request('get', simKey(first.store, first.key), task);
            await w.clock.sleep(pace * (bytes / perRead) * 1000);
          }
        };
        await Promise.all(Array.from({ length: lanes }, lane));
        const bytes = totals.reduce((n, t) => n + t.bytes, 0);
        const records = totals.reduce((n, t) => n + t.records, 0);
        const out = simKey(task.shuffleStore, task.shuffleKey);
        await this.#request('put', out, task);
        // Written as it is read: only what the reading has not covered is left.
        await w.clock.sleep(Math.max(0, (bytes / (m.writeMBps * MB) - bytes / (m.readMBps * MB)) * 1000));
        w.put(out, bytes);
        let offset = 0;
        const slices = totals.map((t) => {
          const s = { offset, length: t.bytes, records: t.records, crc: 0 };
          offset += t.bytes;
          return s;
        });
        return {
          kind: 'merge',
          shuffleKey: task.shuffleKey,
          slices,
          metrics: {
            inputBytes: bytes,
            inputRecords: records,
            outputRecords: records,
            outputBytes: bytes,
            spills: 0,
            ms: 0,
          },
        };
      },
    };
  }

  /** A reduce task: its slices read a few at a time, reduced, and its part file written. */
  #reduce(
    task: ReduceTask,
    pace: number,
    core: number,
  ): { plan: { ms: number }; run(): Promise<ReduceResult> } {
    const w = this.#world;
    const m = w.model;
    return {
      // Only what failing part-way needs: a rough length.
      plan: { ms: m.requestMs * 4 },
      run: async () => {
        const inputs = await readInputList(task.inputs);
        const lanes = Math.max(1, Math.min(m.readsInFlight, inputs.length));
        // Each read in flight gets its share of the function's throughput.
        const perRead = (m.readMBps * MB) / lanes;
        let bytes = 0;
        let records = 0;
        let next = 0;
        const lane = async () => {
          while (next < inputs.length) {
            const input = inputs[next++];
            if (!input) break;
            const slice = input.slice;
            bytes += slice.length;
            records += slice.records;
            await this.#request('get', simKey(input.store, input.key), task);
            await w.clock.sleep(pace * (slice.length / perRead) * 1000);
          }
        };
        await Promise.all(Array.from({ length: lanes }, lane));
        await w.clock.sleep(pace * (bytes / (m.reduceMBps * core * MB)) * 1000);
        const outBytes = Math.round(bytes * m.outputRatio);
        const out = simKey(task.outputStore, task.outputKey);
        await this.#request('put', out, task);
        await w.clock.sleep((outBytes / (m.writeMBps * MB)) * 1000);
        w.put(out, outBytes);
        const outputRecords = Math.round(records * m.outputRatio);
        return {
          kind: 'reduce',
          outputKey: task.outputKey,
          metrics: {
            inputBytes: bytes,
            inputRecords: records,
            outputRecords,
            outputBytes: outBytes,
            spills: 0,
            ms: 0,
          },
        };
      },
    };
  }

  /**
   * One S3 request of a task: admitted by its prefix's rate, or answered 503 SlowDown and retried
   * after the SDK's backoff; past its retries the attempt fails as throttled, and the scheduler
   * backs off and sends it again.
   */
  async #request(kind: 'get' | 'put', key: string, task: Task): Promise<void> {
    const w = this.#world;
    for (let retry = 0; ; retry++) {
      await w.clock.sleep(w.model.requestMs);
      if (w.admit(kind, key)) return;
      if (retry >= SLOWDOWN_RETRIES) {
        throw new ThrottledError(
          `${task.taskId} attempt ${task.attempt}: S3 503 SlowDown on ${key.slice(0, key.lastIndexOf('/') + 1)}`,
          { retryable: true, context: { jobId: task.jobId, taskId: task.taskId, attempt: task.attempt } },
        );
      }
      // Full jitter on 100 ms doubling, as the SDK's standard retry mode does.
      await w.clock.sleep(w.random() * 100 * 2 ** retry);
    }
  }
}

/** A shuffle object's slices: its bytes and records spread evenly over the partitions, laid end to end. */
function slicesOf(bytes: number, records: number, partitions: number): PartitionSlice[] {
  const out: PartitionSlice[] = [];
  let offset = 0;
  for (let p = 0; p < partitions; p++) {
    const length = Math.floor((bytes * (p + 1)) / partitions) - Math.floor((bytes * p) / partitions);
    const n = Math.floor((records * (p + 1)) / partitions) - Math.floor((records * p) / partitions);
    out.push({ offset, length, records: n, crc: 0 });
    offset += length;
  }
  return out;
}
