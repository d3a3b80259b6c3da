import type { EmitContext, Stream, StreamRecord } from '../types.js';
import { type BatchPolicy, type ProcessBatch, runBatch } from './batch-runner.js';
import { CheckpointWriter } from './checkpoint-writer.js';
import type { Checkpoint, CheckpointStore } from './checkpoints.js';
import type { DeadLetterSink } from './dead-letters.js';
import { laneOf } from './lane-of.js';
import { ShardProgress } from './shard-progress.js';
import type { ReadResult, ShardReader } from './shard-reader.js';
import { WakeUp } from './wake-up.js';
import { WindowFolder } from './window-folder.js';

/**
 * How long after a window's end an empty read may close it. A record is stamped with its arrival time
 * when Kinesis receives it, a little before GetRecords can return it: closing on the wall clock alone
 * would emit a window while its last records are still on their way, then again for them.
 */
const WINDOW_CLOSE_GRACE_MS = 1000;

/** Live counters of one shard, read by the consumer's metrics. */
export interface ShardStats {
  records: number;
  retries: number;
  deadLetters: number;
  inFlight: number;
}

/** Everything one shard's pipeline needs. */
export interface ShardPipelineOptions {
  job: Stream;
  streamName: string;
  reader: ShardReader;
  checkpoints: CheckpointStore;
  restored: Checkpoint | undefined;
  process: ProcessBatch;
  deadLetters: DeadLetterSink;
  retryBaseMs: number;
  retryCapMs: number;
  stats: ShardStats;
  emitContext: EmitContext;
  onCheckpoint(sequenceNumber: string | undefined, ended: boolean): void;
}

interface Lane {
  buffer: StreamRecord[];
  /** When the oldest buffered record arrived in the lane (for the batching window). */
  since: number;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One shard: read, split into `parallelization` ordered lanes by partition key, batch, process
 * (one batch in flight per lane, so order holds per key), and checkpoint the highest record with
 * everything before it settled. Reading pauses while the lanes hold more than they can work off.
 */
export class ShardPipeline {
  readonly #o: ShardPipelineOptions;
  #lanes: Lane[];
  /** Lanes wanted by the auto-tuner; the lanes are rebuilt once the current ones are drained. */
  #targetLanes: number;
  #relaning = false;
  readonly #progress: ShardProgress;
  readonly #window: WindowFolder | undefined;
  readonly #wake = new WakeUp();
  #failure: unknown;
  #draining = false;
  #ended = false;
  readonly #writer: CheckpointWriter;
  #abandon = new AbortController();

  constructor(o: ShardPipelineOptions) {
    this.#o = o;
    this.#progress = new ShardProgress(o.restored?.sequenceNumber);
    this.#lanes = makeLanes(o.job.parallelization);
    this.#targetLanes = o.job.parallelization;
    this.#writer = new CheckpointWriter(
      () => {
        const sequenceNumber = this.#progress.checkpoint;
        const open = this.#window?.open;
        return {
          shardId: o.reader.shardId,
          ...(sequenceNumber !== undefined && { sequenceNumber }),
          ...(open && { window: open }),
        };
      },
      async (c) => {
        await o.checkpoints.write(c);
        o.onCheckpoint(c.sequenceNumber, c.ended);
      },
      (err) => {
        // Kept as the pipeline's failure: run() stops and reports it after its final checkpoint.
        this.#failure ??= err;
        this.#wake.notify();
      },
    );
    const w = o.job.window;
    this.#window = w ? new WindowFolder(w, o.reader.shardId, o.emitContext, o.restored?.window) : undefined;
  }

  /**
   * Runs until the shard ends (everything settled and checkpointed as ended) or `stop` aborts (in-flight
   * batches finish, what is settled is checkpointed, buffered records are left for the next reader).
   * @throws the first lane failure, such as an unreachable dead-letter queue, after checkpointing.
   */
  async run(stop: AbortSignal): Promise<'ended' | 'stopped'> {
    const { job, reader } = this.#o;
    const onStop = () => this.#wake.notify();
    stop.addEventListener('abort', onStop);
    try {
      while (!stop.aborted && this.#failure === undefined) {
        if (this.#targetLanes !== this.#lanes.length && !(await this.#relane())) continue;
        // Reading pauses while the lanes hold two batches each, and a call reads no more than fits.
        const room = 2 * job.batchSize * this.#lanes.length - this.#buffered();
        if (room <= 0) {
          await this.#wake.wait();
          continue;
        }
        let read: ReadResult;
        const readAt = Date.now();
        try {
          read = await reader.read(room, stop);
        } catch (err) {
          // Not thrown from here: batches in flight must finish and be checkpointed first.
          this.#failure ??= err;
          break;
        }
        const { records, ended } = read;
        if (records.length > 0) {
          this.#o.stats.records += records.length;
          this.#progress.add(records.map((r) => r.sequenceNumber));
          for (const r of records) this.#laneFor(r).buffer.push(r);
          for (const lane of this.#lanes)
            if (lane.since === 0 && lane.buffer.length > 0) lane.since = Date.now();
        } else if (this.#window && this.#idle() && (reader.millisBehind ?? 0) === 0) {
          // Caught up: every record that arrived before this read started, less a grace for records
          // not yet visible to GetRecords, has been folded; a window that ended before then is complete.
          await this.#closeWindow(false, readAt - WINDOW_CLOSE_GRACE_MS);
        }
        if (ended) {
          this.#ended = true;
          this.#draining = true;
        }
        this.#pumpAll();
        if (ended) break;
      }
      // Stopping: only batches already running finish. Ending: everything buffered is processed.
      if (stop.aborted && !this.#ended) {
        this.#abandonBuffered();
        this.#abandon.abort();
      }
      while (
        this.#lanes.some(
          (l) => l.running || (this.#draining && l.buffer.length > 0 && this.#failure === undefined),
        )
      ) {
        await this.#wake.wait();
      }
      if (this.#ended && this.#failure === undefined && this.#progress.pending === 0) {
        if (this.#window) await this.#closeWindow(true);
        await this.#checkpoint(true);
        return 'ended';
      }
      await this.#checkpoint(false);
      if (this.#failure !== undefined) throw this.#failure;
      return 'stopped';
    } finally {
      stop.removeEventListener('abort', onStop);
      for (const lane of this.#lanes) clearTimeout(lane.timer);
      this.#abandon.abort();
    }
  }

  /** Current number of lanes. */
  get lanes(): number {
    return this.#lanes.length;
  }

  /** Asks for a new number of lanes; reading pauses while the current lanes drain, keeping order per key. */
  setLanes(n: number): void {
    if (this.#window) return; // window state is folded by one lane
    this.#targetLanes = n;
    this.#wake.notify();
  }

  /** Drains the lanes, then rebuilds them: a key may map to another lane only when none of its records wait. */
  async #relane(): Promise<boolean> {
    this.#relaning = true;
    this.#pumpAll();
    if (!this.#idle()) {
      await this.#wake.wait();
      return false;
    }
    this.#lanes = makeLanes(this.#targetLanes);
    this.#relaning = false;
    return true;
  }

  #laneFor(r: StreamRecord): Lane {
    return this.#lanes[laneOf(r.partitionKey, this.#lanes.length)] as Lane;
  }

  #buffered(): number {
    return this.#lanes.reduce((n, l) => n + l.buffer.length, 0);
  }

  #idle(): boolean {
    return this.#lanes.every((l) => !l.running && l.buffer.length === 0);
  }

  #abandonBuffered(): void {
    for (const lane of this.#lanes) lane.buffer = [];
  }

  #pumpAll(): void {
    for (const lane of this.#lanes) this.#pump(lane);
  }

  #pump(lane: Lane): void {
    if (lane.running || lane.buffer.length === 0 || this.#failure !== undefined) return;
    const { batchSize, batchWindowMs } = this.#o.job;
    const dueAt = lane.since + batchWindowMs;
    if (lane.buffer.length < batchSize && !this.#draining && !this.#relaning && Date.now() < dueAt) {
      lane.timer ??= setTimeout(() => {
        lane.timer = undefined;
        this.#pump(lane);
      }, dueAt - Date.now());
      return;
    }
    clearTimeout(lane.timer);
    lane.timer = undefined;
    const batch = lane.buffer.splice(0, batchSize);
    lane.since = lane.buffer.length > 0 ? Date.now() : 0;
    lane.running = true;
    this.#o.stats.inFlight++;
    this.#runLane(batch).then(
      () => {
        lane.running = false;
        this.#o.stats.inFlight--;
        this.#wake.notify();
        this.#pump(lane);
      },
      (err: unknown) => {
        lane.running = false;
        this.#o.stats.inFlight--;
        this.#failure ??= err;
        this.#wake.notify();
      },
    );
  }

  #runLane(batch: StreamRecord[]): Promise<void> {
    const o = this.#o;
    const folder = this.#window;
    const process = folder ? folder.around(o.process) : o.process;
    const policy: BatchPolicy = {
      job: o.job.name,
      stream: o.streamName,
      maxRetries: o.job.maxRetries,
      maxRecordAgeMs: o.job.maxRecordAgeMs,
      bisectOnError: o.job.bisectOnError,
      deadLetters: o.deadLetters,
      retryBaseMs: o.retryBaseMs,
      retryCapMs: o.retryCapMs,
      signal: this.#abandon.signal,
      onDone: (records) => {
        folder?.commit(records);
        if (this.#progress.done(records.map((r) => r.sequenceNumber)) !== undefined) this.#writer.schedule();
      },
      onRetry: () => {
        o.stats.retries++;
      },
      onDeadLetter: () => {
        o.stats.deadLetters++;
      },
    };
    return runBatch(batch, process, policy);
  }

  async #closeWindow(force = false, now = Date.now()): Promise<void> {
    if (this.#window && (await this.#window.closeIfDue(now, force))) await this.#checkpoint(false);
  }

  #checkpoint(ended: boolean): Promise<void> {
    return this.#writer.now(ended);
  }
}

function makeLanes(n: number): Lane[] {
  return Array.from({ length: n }, () => ({ buffer: [], since: 0, running: false, timer: undefined }));
}
