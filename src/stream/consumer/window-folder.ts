import { WindowStateTooLargeError } from '../../errors.js';
import { batchFailure } from '../../task/batch-failure.js';
import { compareSequence } from '../../task/stream-record.js';
import type { EmitContext, StreamRecord, WindowDefinition } from '../types.js';
import type { ProcessBatch } from './batch-runner.js';

/** Lambda's limit on tumbling window state. */
export const MAX_WINDOW_STATE_BYTES = 1024 * 1024;

/** The open window of a shard: its start and the state folded so far. */
export interface OpenWindow {
  start: number;
  state: unknown;
}

/**
 * Folds one shard's records into tumbling windows by arrival time. A fold is staged and only
 * committed when its records are settled, so the state saved with a checkpoint holds exactly the
 * records at or before it; a retried batch folds again from the committed state.
 */
export class WindowFolder {
  #open: OpenWindow | undefined;
  #staged: { upTo: string; open: OpenWindow | undefined } | undefined;

  constructor(
    private readonly def: WindowDefinition<unknown>,
    private readonly shardId: string,
    private readonly ctx: EmitContext,
    restored?: OpenWindow,
  ) {
    this.#open = restored;
  }

  /** The committed open window, saved with the checkpoint. */
  get open(): OpenWindow | undefined {
    return this.#open;
  }

  /**
   * Folds records (in sequence order) from the committed state; emits each window a later record closes.
   * @throws {WindowStateTooLargeError} when the state outgrows 1 MB as JSON.
   */
  async stage(records: StreamRecord[]): Promise<void> {
    let open = this.#open;
    let i = 0;
    while (i < records.length) {
      const start = this.#startOf(records[i] as StreamRecord);
      let j = i;
      while (j < records.length && this.#startOf(records[j] as StreamRecord) === start) j++;
      const group = records.slice(i, j);
      // Arrival times within a shard only grow, so a later window closes the open one for good.
      if (open && start > open.start) {
        await this.#emit(open);
        open = undefined;
      }
      const base = open ? structuredClone(open.state) : undefined;
      const state = await this.def.reduce(base, group);
      const bytes = Buffer.byteLength(JSON.stringify(state) ?? '');
      if (bytes > MAX_WINDOW_STATE_BYTES) {
        throw new WindowStateTooLargeError(
          `window state of shard ${this.shardId} is ${bytes} bytes as JSON, over the ${MAX_WINDOW_STATE_BYTES}-byte limit`,
          { context: { shardId: this.shardId } },
        );
      }
      open = { start: open?.start ?? start, state };
      i = j;
    }
    const last = records.at(-1);
    if (last) this.#staged = { upTo: last.sequenceNumber, open };
  }

  /** Wraps processing so the records it settles are folded (staged) right after it succeeds. */
  around(process: ProcessBatch): ProcessBatch {
    return async (records, attempt) => {
      const result = await process(records, attempt);
      // Decided as the batch runner decides, so the fold holds exactly the records it settles.
      const failure = batchFailure(records, { returned: result });
      await this.stage(failure ? records.slice(0, failure.from) : records);
      return result;
    };
  }

  /** Commits the staged fold once the records it covers are settled. */
  commit(settled: readonly StreamRecord[]): void {
    const last = settled.at(-1);
    if (this.#staged && last && compareSequence(last.sequenceNumber, this.#staged.upTo) >= 0) {
      this.#open = this.#staged.open;
      this.#staged = undefined;
    }
  }

  /** Closes the open window when its end has passed (or, forced, when its shard has ended). */
  async closeIfDue(now: number, force = false): Promise<boolean> {
    const open = this.#open;
    if (!open || (!force && now < open.start + this.def.ms)) return false;
    await this.#emit(open);
    this.#open = undefined;
    return true;
  }

  #startOf(r: StreamRecord): number {
    return Math.floor(r.arrivedAt.getTime() / this.def.ms) * this.def.ms;
  }

  async #emit(w: OpenWindow): Promise<void> {
    await this.def.emit(
      w.state,
      {
        start: w.start,
        end: w.start + this.def.ms,
        shardId: this.shardId,
        final: true,
      },
      this.ctx,
    );
  }
}
