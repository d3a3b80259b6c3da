import { type LogSink, stderrSink } from './logger.js';
import { openTaskStore } from './task-store.js';

/** Bytes of log lines an attempt keeps for `mr logs`; later lines still reach stderr. */
const KEPT_BYTES = 1 << 20;

/**
 * An attempt's log: what job code writes through `ctx.log` goes to stderr as ever (the terminal
 * locally, CloudWatch Logs on Lambda) and is kept, up to 1 MiB, to be stored in the work store when
 * the attempt ends, succeeded or failed, where `mr logs` reads it on every backend.
 */
export class TaskLog {
  readonly #target: { store: string; key: string } | undefined;
  readonly #lines: string[] = [];
  #bytes = 0;
  #dropped = 0;

  constructor(target: { store: string; key: string } | undefined) {
    this.#target = target;
  }

  readonly sink: LogSink = (level, line) => {
    stderrSink(level, line);
    if (this.#target === undefined) return;
    if (this.#bytes + line.length + 1 > KEPT_BYTES) {
      this.#dropped++;
      return;
    }
    this.#lines.push(line);
    this.#bytes += line.length + 1;
  };

  /**
   * Stores the lines kept, if any. A log that cannot be stored is said on stderr, never the
   * attempt's failure: the task's own outcome is what counts.
   */
  async save(): Promise<void> {
    if (this.#target === undefined || this.#lines.length === 0) return;
    const tail = this.#dropped > 0 ? [`(${this.#dropped} more lines not kept: over 1 MiB)`] : [];
    const text = `${[...this.#lines, ...tail].join('\n')}\n`;
    try {
      await openTaskStore(this.#target.store).put(this.#target.key, text);
    } catch (err) {
      process.stderr.write(
        `could not store the task's log at ${this.#target.key}: ${(err as Error).message}\n`,
      );
    }
  }
}
