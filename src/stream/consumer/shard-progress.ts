/**
 * Which records of one shard are done, in read order, and so how far the shard may be checkpointed:
 * the highest sequence number with every record at or before it done, across all lanes.
 */
export class ShardProgress {
  #order: string[] = [];
  #head = 0;
  #done = new Set<string>();
  #checkpoint: string | undefined;

  constructor(checkpoint?: string) {
    this.#checkpoint = checkpoint;
  }

  /** Registers records in the order they were read. */
  add(sequenceNumbers: readonly string[]): void {
    for (const s of sequenceNumbers) this.#order.push(s);
  }

  /** Marks records done (processed or dead-lettered) and returns the new checkpoint if it moved. */
  done(sequenceNumbers: readonly string[]): string | undefined {
    for (const s of sequenceNumbers) this.#done.add(s);
    let moved = false;
    for (;;) {
      const next = this.#order[this.#head];
      if (next === undefined || !this.#done.has(next)) break;
      this.#done.delete(next);
      this.#checkpoint = next;
      this.#head++;
      moved = true;
    }
    // Drop the consumed prefix now and then so the array does not grow without bound.
    if (this.#head > 4096) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
    return moved ? this.#checkpoint : undefined;
  }

  get checkpoint(): string | undefined {
    return this.#checkpoint;
  }

  /** Records read but not yet done. */
  get pending(): number {
    return this.#order.length - this.#head;
  }
}
