import { tooManyBadRecords } from '../errors.js';
import type { MapResult } from '../protocol/task-types.js';

/**
 * The job's `maxBadRecords` against the records its committed map tasks skipped, summed as they
 * commit: a task checks only its own count, so many tasks each under the limit can pass it together.
 */
export class BadRecordBudget {
  readonly #max: number;
  #total = 0;
  /** The first skipped record of the committed task with the lowest id, as messages show it. */
  #first: { taskId: string; record: string } | undefined;

  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Counts a committed map task's skipped records.
   * @throws {TooManyBadRecordsError} once the total passes the limit.
   */
  readonly add = (taskId: string, result: MapResult): void => {
    const skipped = result.badRecords;
    if (!skipped) return;
    this.#total += skipped.count;
    if (!this.#first || taskId < this.#first.taskId) this.#first = { taskId, record: skipped.first };
    if (this.#total > this.#max) throw tooManyBadRecords(this.#total, this.#max, this.#first.record);
  };
}
