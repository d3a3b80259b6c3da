import type { PartSink } from '../output/part-sink.js';
import type { KeyGroups } from '../shuffle/key-groups.js';
import type { RecordReader } from '../shuffle/record-codec.js';
import type { RecordSink } from './hash-spill.js';

/**
 * What a reduce task groups its input in: the seam between the generic task (fetching slices,
 * spilling sorted runs, calling `reduce`) and how values of a key are held. Chosen once per task
 * (see reduceHolderFor): KeyGroups for any stage, the built-in sum over key bytes, or sorted records
 * for a stage that sorts its keys without combining (SortedHolder).
 */
export interface ReduceHolder extends Pick<KeyGroups, 'bytes' | 'size' | 'entries' | 'clear'> {
  /** Every key with its values in key order (see compareKeys): for sorted spill runs and `sortKeys`. */
  sortedEntries(): Iterable<[unknown, unknown[]]>;
  /** Reads the next record of `reader` into the holder; false at the end of its bytes. */
  addNext(reader: RecordReader): boolean;
  /** Writes every record held to `sink`, in no particular order (a hash spill). */
  spillTo(sink: RecordSink): void;
  /**
   * Writes the part file straight from what is held, where that is faster than calling the stage's
   * `reduce` per key and gives the same lines (in key order when `sorted`); false (nothing written)
   * where it cannot.
   */
  writeDirect(out: PartSink, sorted: boolean): Promise<boolean>;
}

/** Any stage: records decoded and grouped (or combined) in KeyGroups. */
export class GroupsHolder implements ReduceHolder {
  readonly #groups: KeyGroups;

  constructor(groups: KeyGroups) {
    this.#groups = groups;
  }

  get bytes(): number {
    return this.#groups.bytes;
  }

  get size(): number {
    return this.#groups.size;
  }

  addNext(reader: RecordReader): boolean {
    if (!reader.next()) return false;
    this.#groups.add(reader.key, reader.value);
    return true;
  }

  entries(): IterableIterator<[unknown, unknown[]]> {
    return this.#groups.entries();
  }

  spillTo(sink: RecordSink): void {
    spillEntries(this.#groups.entries(), sink);
  }

  sortedEntries(): [unknown, unknown[]][] {
    return this.#groups.sortedEntries();
  }

  clear(): void {
    this.#groups.clear();
  }

  async writeDirect(): Promise<boolean> {
    return false;
  }
}

/** Writes every value of every key to `sink`. */
export function spillEntries(entries: Iterable<[unknown, Iterable<unknown>]>, sink: RecordSink): void {
  for (const [key, values] of entries) for (const v of values) sink.write(key, v);
}
