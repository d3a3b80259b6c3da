/**
 * The commit rule: the first attempt of a task to succeed is its one committed attempt. Readers take
 * only committed attempts' outputs, so a retried or duplicated attempt never counts twice.
 */
export class CommitLedger<R> {
  readonly #winners = new Map<string, { attempt: number; result: R }>();
  readonly #keep: (result: R) => R;

  /**
   * `keep` turns a committed result into the form the ledger holds until the phase's results are
   * read, such as a more compact one (see packMapResult). @default the result as it is
   */
  constructor(keep: (result: R) => R = (result) => result) {
    this.#keep = keep;
  }

  /** Records a successful attempt; true when it became the committed one, false for a late duplicate. */
  commit(taskId: string, attempt: number, result: R): boolean {
    if (this.#winners.has(taskId)) return false;
    this.#winners.set(taskId, { attempt, result: this.#keep(result) });
    return true;
  }

  isCommitted(taskId: string): boolean {
    return this.#winners.has(taskId);
  }

  get size(): number {
    return this.#winners.size;
  }

  /** Committed results in task id order. */
  results(): { taskId: string; attempt: number; result: R }[] {
    return [...this.#winners]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([taskId, w]) => ({ taskId, ...w }));
  }

  /**
   * Committed results in task id order, and the ledger emptied: for a phase whose results are read
   * once, so its 100,000 entries are not held twice (here and in the list returned).
   */
  takeResults(): { taskId: string; attempt: number; result: R }[] {
    const results = this.results();
    this.#winners.clear();
    return results;
  }
}
