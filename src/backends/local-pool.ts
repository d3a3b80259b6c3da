import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { formatDuration } from '../duration.js';
import { deserializeError, WorkerCrashedError } from '../errors.js';
import type { Task, TaskResult } from '../protocol/task-types.js';
import {
  WORKER_MARK,
  type WorkerBundle,
  type WorkerData,
  type WorkerReply,
  type WorkerRequest,
} from '../protocol/worker-protocol.js';
import { removeSpillDirs } from '../task/spill-dir.js';
import type { Invoker } from './invoker.js';

export interface LocalPoolOptions {
  /** Path of the job bundle each worker imports once. */
  bundlePath: string;
  /** Number of worker threads. */
  size: number;
  /** Heap limit per worker; a worker past it fails its attempt, not the process. @default 4096 */
  workerMemoryMb?: number;
  /**
   * An attempt running longer is abandoned: its thread is terminated (the only way to stop a map
   * stuck in a loop) and replaced, and the attempt fails as retryable. @default no limit
   */
  taskTimeoutMs?: number;
}

/**
 * The worker entry sits beside this module: compiled JavaScript in an installed package, TypeScript
 * when the engine itself runs from source (its own tests), where the worker registers tsx first.
 */
const workerEntry = new URL(
  `../runtime/local-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
);

function startWorker(options: ConstructorParameters<typeof Worker>[1]): Worker {
  if (!workerEntry.pathname.endsWith('.ts')) return new Worker(workerEntry, options);
  // tsx's ES module entry: its package maps `tsx/esm/api` to index.mjs for import, index.cjs for require.
  const tsx = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(workerEntry.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

/**
 * Young generation per worker. Map code allocates a short-lived string per token; V8's default
 * (about 16 MiB of semi-space on 64-bit) scavenges so often that a word count spent a tenth of its map
 * time there. 64 MiB cut the bench's map phase from 4.30 s to 4.03 s (256 MiB, 2 workers); more gave
 * nothing further.
 */
const YOUNG_GENERATION_MB = 64;

/** What a worker is started with, its bundle aside. */
function workerOptions(data: WorkerData, workerMemoryMb: number) {
  return {
    workerData: data,
    resourceLimits: {
      maxOldGenerationSizeMb: workerMemoryMb,
      maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
    },
  };
}

const DEFAULT_WORKER_MEMORY_MB = 4096;

/** A worker started before its pool, and what drops it from `ahead` should it die unadopted. */
interface AheadWorker {
  worker: Worker;
  memoryMb: number;
  drop: () => void;
}

/** Workers started by startWorkersAhead that no pool has taken yet. */
const ahead: AheadWorker[] = [];

/** Workers startWorkersAhead started: their thread ids, and what stops those no pool took. */
export interface WorkersAhead {
  readonly threadIds: readonly number[];
  stop(): Promise<void>;
}

/**
 * Starts `count` worker threads before the job's bundle exists, so that their start-up (Node's own
 * and the task code's modules: about 70 ms each here, more while the driver competes for the
 * cores) overlaps the driver's loading, bundling and planning instead of following it. The next
 * pools with the same heap limit take them and send each its bundle. Until then they keep no
 * process alive.
 */
export function startWorkersAhead(count: number, workerMemoryMb = DEFAULT_WORKER_MEMORY_MB): WorkersAhead {
  const started: Worker[] = [];
  for (let i = 0; i < count; i++) {
    const worker = startWorker(workerOptions({ mark: WORKER_MARK }, workerMemoryMb));
    worker.unref();
    const entry: AheadWorker = {
      worker,
      memoryMb: workerMemoryMb,
      drop: () => {
        const at = ahead.indexOf(entry);
        if (at >= 0) ahead.splice(at, 1);
      },
    };
    // One that fails to start is dropped here; a pool would only have replaced it.
    worker.on('error', entry.drop).on('exit', entry.drop);
    ahead.push(entry);
    started.push(worker);
  }
  return {
    threadIds: started.map((w) => w.threadId),
    async stop() {
      const idle = ahead.filter((a) => started.includes(a.worker));
      for (const a of idle) a.drop();
      await Promise.all(idle.map((a) => a.worker.terminate()));
    },
  };
}

/** A worker started ahead with this heap limit, now the caller's, sent `bundlePath`; else undefined. */
function takeAhead(bundlePath: string, workerMemoryMb: number): Worker | undefined {
  const at = ahead.findIndex((a) => a.memoryMb === workerMemoryMb);
  if (at < 0) return undefined;
  const [{ worker, drop }] = ahead.splice(at, 1) as [AheadWorker];
  worker.off('error', drop).off('exit', drop);
  worker.ref();
  worker.postMessage({ jobBundle: bundlePath } satisfies WorkerBundle);
  return worker;
}

/** Workers that die before serving a single task, in a row, before the pool gives up. */
const MAX_STARTUP_FAILURES = 3;

/**
 * Attempts are sent to a busy worker, to run next, while recent attempts took less than this: the
 * worker then starts its next attempt as it posts a result, instead of waiting for the driver's
 * thread to wake and answer (0.6-0.8 ms per 4 KiB map task on a loaded 2-core machine, a third of
 * its time). Longer attempts lose nothing to that wait worth the risk of one held up behind a
 * straggler while another worker sits idle.
 */
const PIPELINE_BELOW_MS = 50;

/** An attempt the pool was given and has not yet sent to a worker. */
interface Waiting {
  task: Task;
  resolve: (r: TaskResult) => void;
  reject: (e: Error) => void;
  onStart: ((lane: string) => void) | undefined;
}

/** An attempt sent to a worker. */
interface Sent extends Waiting {
  id: number;
  timer?: ReturnType<typeof setTimeout>;
  /** When it started running (the worker runs what it is sent in order, one at a time). */
  startedAt?: number;
  /** Faults the attempt injected before it crashed or hung (FANOUT_FAULTS). */
  faults?: Record<string, number>;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** The attempt the worker is running. */
  busy?: Sent;
  /** The attempt sent to run after it (see PIPELINE_BELOW_MS); it has not started. */
  next?: Sent;
}

/**
 * An Invoker over a pool of worker threads that each import the job bundle once. A worker that
 * crashes, exits or runs out of memory fails only the attempt it was running and is replaced.
 */
export class LocalWorkerPool implements Invoker {
  readonly concurrency: number;
  /**
   * One attempt per worker beyond those running: sent ahead to a worker while attempts are short
   * (see PIPELINE_BELOW_MS), or else held here and sent by the message handler that hears of a
   * result, before the scheduler has seen it.
   */
  readonly prefetch: number;
  readonly #options: LocalPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #waiting: Waiting[] = [];
  /** How long recent attempts ran, smoothed; undefined until one has finished. */
  #recentMs: number | undefined;
  #nextId = 1;
  #closed = false;
  #startupFailures = 0;
  #broken: Error | undefined;
  /** Removals of spill folders that dead threads left; close() waits for them. */
  readonly #cleanups: Promise<void>[] = [];

  constructor(options: LocalPoolOptions) {
    this.#options = options;
    this.concurrency = options.size;
    this.prefetch = options.size;
    for (let i = 0; i < options.size; i++) this.#slots.push(this.#spawn());
  }

  #spawn(): Slot {
    const { bundlePath, workerMemoryMb = DEFAULT_WORKER_MEMORY_MB } = this.#options;
    const worker =
      takeAhead(bundlePath, workerMemoryMb) ??
      startWorker(workerOptions({ mark: WORKER_MARK, jobBundle: bundlePath }, workerMemoryMb));
    const slot: Slot = { worker, ready: false };
    worker.on('message', (reply: WorkerReply) => {
      if (reply === 'ready') {
        slot.ready = true;
        this.#startupFailures = 0;
        this.#dispatch();
        return;
      }
      const busy = slot.busy;
      if (!busy || busy.id !== reply.id) return;
      if (reply.ok === 'fault') {
        busy.faults = reply.faults;
        return;
      }
      clearTimeout(busy.timer);
      this.#finished(busy);
      // The worker goes on to the attempt sent after this one as it posts this result.
      slot.busy = undefined;
      if (slot.next) this.#start(slot, slot.next);
      slot.next = undefined;
      if (reply.ok) busy.resolve(reply.result);
      else
        busy.reject(deserializeError(reply.error, { taskId: busy.task.taskId, attempt: busy.task.attempt }));
      this.#dispatch();
    });
    const lost = (why: string) => {
      const i = this.#slots.indexOf(slot);
      if (i < 0) return;
      const busy = slot.busy;
      slot.busy = undefined;
      clearTimeout(busy?.timer);
      this.#requeue(slot);
      // The dead thread never reached its own cleanup.
      if (busy) this.#cleanups.push(removeSpillDirs(busy.task));
      if (this.#closed) return;
      if (!slot.ready && ++this.#startupFailures >= MAX_STARTUP_FAILURES) {
        this.#fail(
          new WorkerCrashedError(`worker threads keep failing to start: ${why}`, { retryable: false }),
        );
        busy?.reject(this.#broken as Error);
        return;
      }
      this.#slots[i] = this.#spawn();
      if (busy) {
        const err = new WorkerCrashedError(
          `worker ${why} while running ${busy.task.taskId} attempt ${busy.task.attempt}`,
          { retryable: true, context: { taskId: busy.task.taskId, attempt: busy.task.attempt } },
        );
        if (busy.faults) err.faults = busy.faults;
        busy.reject(err);
      }
      this.#dispatch();
    };
    worker.on('error', (err) => {
      lost(
        (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? 'ran out of memory'
          : `failed (${err.message})`,
      );
    });
    worker.on('exit', (code) => lost(`exited with code ${code}`));
    return slot;
  }

  #fail(err: Error): void {
    this.#broken = err;
    for (const w of this.#waiting.splice(0)) w.reject(err);
  }

  invoke(task: Task, onStart?: (lane: string) => void): Promise<TaskResult> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (this.#closed) return Promise.reject(new Error('worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ task, resolve, reject, onStart });
      this.#dispatch();
    });
  }

  /** Sends waiting attempts to idle workers first, then (while attempts are short) one after each running one. */
  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.busy || !slot.ready) continue;
      const waiting = this.#waiting.shift();
      if (!waiting) return;
      this.#start(slot, this.#send(slot, waiting));
    }
    if (this.#recentMs === undefined || this.#recentMs >= PIPELINE_BELOW_MS) return;
    for (const slot of this.#slots) {
      if (!slot.busy || slot.next || !slot.ready) continue;
      const waiting = this.#waiting.shift();
      if (!waiting) return;
      slot.next = this.#send(slot, waiting);
    }
  }

  #send(slot: Slot, w: Waiting): Sent {
    const sent: Sent = { ...w, id: this.#nextId++ };
    slot.worker.postMessage({ id: sent.id, task: w.task } satisfies WorkerRequest);
    return sent;
  }

  /** An attempt sent to a worker starts: at once, or when the one before it on that worker ends. */
  #start(slot: Slot, sent: Sent): void {
    slot.busy = sent;
    sent.startedAt = Date.now();
    const timeoutMs = this.#options.taskTimeoutMs;
    if (timeoutMs !== undefined) sent.timer = setTimeout(() => this.#timeOut(slot, sent.id), timeoutMs);
    // A replaced thread keeps its slot's number: the lane is the slot, whichever thread holds it.
    sent.onStart?.(`worker ${this.#slots.indexOf(slot)}`);
  }

  #finished(sent: Sent): void {
    const ms = Date.now() - (sent.startedAt ?? Date.now());
    this.#recentMs = this.#recentMs === undefined ? ms : 0.8 * this.#recentMs + 0.2 * ms;
  }

  /** A worker that is gone never started the attempt sent after its running one: it waits again, first. */
  #requeue(slot: Slot): void {
    const next = slot.next;
    slot.next = undefined;
    if (next) this.#waiting.unshift(next);
  }

  /**
   * Ends an attempt that ran past its time. Its thread is replaced at once, before it has stopped,
   * so no further task is sent to it; its exit then finds no slot to respawn.
   */
  #timeOut(slot: Slot, id: number): void {
    const busy = slot.busy;
    const i = this.#slots.indexOf(slot);
    if (!busy || busy.id !== id || i < 0) return;
    slot.busy = undefined;
    this.#requeue(slot);
    this.#slots[i] = this.#spawn();
    const { task } = busy;
    const err = new WorkerCrashedError(
      `${task.taskId} attempt ${task.attempt} timed out after ${formatDuration(this.#options.taskTimeoutMs ?? 0)} (--task-timeout); its worker thread was stopped`,
      { retryable: true, context: { taskId: task.taskId, attempt: task.attempt } },
    );
    if (busy.faults) err.faults = busy.faults;
    busy.reject(err);
    this.#cleanups.push(
      slot.worker
        .terminate()
        .then(() => removeSpillDirs(task))
        .catch(() => {}),
    );
    this.#dispatch();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    for (const w of this.#waiting.splice(0)) w.reject(new Error('worker pool closed'));
    const stopped = slots.flatMap((s) => (s.busy ? [s.busy.task] : []));
    for (const s of slots) {
      clearTimeout(s.busy?.timer);
      s.busy?.reject(new Error('worker pool closed'));
      s.next?.reject(new Error('worker pool closed'));
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
    await Promise.all([...this.#cleanups, ...stopped.map((task) => removeSpillDirs(task))]);
  }
}
