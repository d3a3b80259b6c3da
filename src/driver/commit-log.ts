/** A task's committed attempt as its phase's commit records hold it. */
export interface CommitRecord<R = unknown> {
  taskId: string;
  attempt: number;
  result: R;
}

/** Most records one write holds, so a record file stays well under a megabyte. */
export const MAX_RECORDS_PER_WRITE = 1000;

/**
 * Writes one phase's commit records in groups (group commit): a record added while no write is in
 * flight, and none started in the last `minIntervalMs`, is written at once, alone; records added
 * meanwhile wait and then go out together, in one object, up to MAX_RECORDS_PER_WRITE. Each `add`
 * resolves once the write holding its record is stored, and rejects if that write fails, as a write
 * of its own would.
 *
 * So a phase committing thousands of small tasks a second writes at most one object per interval
 * (each a file created and renamed locally, a PUT on S3) instead of one per task, and a record waits
 * at most the interval and a write. What a resumed run reads is the same either way: every record
 * whose write was stored, and none of those still waiting or in flight when the driver stopped.
 */
export class CommitLog<R = unknown> {
  readonly #write: (records: CommitRecord<R>[], seq: number) => Promise<void>;
  readonly #minIntervalMs: number;
  #queued: { record: CommitRecord<R>; resolve(): void; reject(err: unknown): void }[] = [];
  #writing = false;
  /** The writes in progress, through to an empty queue. */
  #draining: Promise<void> = Promise.resolve();
  #seq = 0;
  /** When the last write started. */
  #lastStart = Number.NEGATIVE_INFINITY;

  /**
   * `write` stores one group of records; `seq` counts the writes from 0, for unique names.
   * `minIntervalMs` is the least time between the starts of two writes. @default 0
   */
  constructor(write: (records: CommitRecord<R>[], seq: number) => Promise<void>, minIntervalMs = 0) {
    this.#write = write;
    this.#minIntervalMs = minIntervalMs;
  }

  add(record: CommitRecord<R>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ record, resolve, reject });
      if (!this.#writing) this.#draining = this.#drain();
    });
  }

  /** Resolves once every record added so far has been written or has failed. */
  settled(): Promise<void> {
    return this.#draining;
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#queued.length > 0) {
      const wait = this.#lastStart + this.#minIntervalMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.#lastStart = Date.now();
      const group = this.#queued.splice(0, MAX_RECORDS_PER_WRITE);
      try {
        await this.#write(
          group.map((q) => q.record),
          this.#seq++,
        );
        for (const q of group) q.resolve();
      } catch (err) {
        for (const q of group) q.reject(err);
      }
    }
    this.#writing = false;
  }
}

/**
 * The commits of a phase from its record objects, as parsed: each holds either a group of records
 * (`{ commits: [...] }`) or, as written before records were grouped, one (`{ taskId, attempt,
 * result }`). A task recorded more than once (run again by a resumed run, or because its shuffle
 * object failed its checksum) keeps its highest attempt: attempt numbers only grow, so that is the
 * latest commit.
 */
export function mergeCommits<R>(objects: readonly unknown[]): Map<string, { attempt: number; result: R }> {
  const out = new Map<string, { attempt: number; result: R }>();
  for (const o of objects) {
    const records = (o as { commits?: CommitRecord<R>[] }).commits ?? [o as CommitRecord<R>];
    for (const c of records) {
      const known = out.get(c.taskId);
      if (!known || c.attempt > known.attempt) out.set(c.taskId, { attempt: c.attempt, result: c.result });
    }
  }
  return out;
}
