import type { PartSink } from '../output/part-sink.js';
import type { KeyGroups } from '../shuffle/key-groups.js';
import type { RecordReader } from '../shuffle/record-codec.js';
import type { RecordSink } from './hash-spill.js';
import { KeySums } from './key-sums.js';
import { type ReduceHolder, spillEntries } from './reduce-holder.js';

/**
 * The built-in `sum` as combiner: string keys' number values are added by the keys' bytes (KeySums),
 * with no string per key, until a record that is not a string key with a number value moves every
 * sum to the grouping all combiners use. With the built-in `emitSum` as reduce, the part file is
 * written from the keys' bytes too.
 */
export class SumHolder implements ReduceHolder {
  #sums: KeySums | undefined;
  readonly #groups: KeyGroups;
  readonly #emitSum: boolean;

  /** `groups` combines with the stage's sum, for records KeySums cannot hold. */
  constructor(groups: KeyGroups, expectedKeys: number, emitSum: boolean) {
    this.#sums = new KeySums(expectedKeys);
    this.#groups = groups;
    this.#emitSum = emitSum;
  }

  get #held(): KeySums | KeyGroups {
    return this.#sums ?? this.#groups;
  }

  get bytes(): number {
    return this.#held.bytes;
  }

  get size(): number {
    return this.#held.size;
  }

  addNext(reader: RecordReader): boolean {
    const sums = this.#sums;
    if (sums === undefined) {
      if (!reader.next()) return false;
      this.#groups.add(reader.key, reader.value);
      return true;
    }
    if (!reader.nextKeyBytes()) return false;
    if (reader.keyStart >= 0 && typeof reader.value === 'number') {
      sums.add(reader.bytes, reader.keyStart, reader.keyEnd, reader.value);
      return true;
    }
    for (const [key, [sum]] of sums.entries()) this.#groups.add(key, sum);
    this.#sums = undefined;
    const key =
      reader.keyStart >= 0 ? reader.bytes.toString('utf8', reader.keyStart, reader.keyEnd) : reader.key;
    this.#groups.add(key, reader.value);
    return true;
  }

  entries(): IterableIterator<[unknown, unknown[]]> {
    return this.#held.entries();
  }

  sortedEntries(): [unknown, unknown[]][] {
    return this.#held.sortedEntries();
  }

  spillTo(sink: RecordSink): void {
    if (this.#sums) this.#sums.spillTo(sink);
    else spillEntries(this.#groups.entries(), sink);
  }

  clear(): void {
    this.#held.clear();
  }

  async writeDirect(out: PartSink, sorted: boolean): Promise<boolean> {
    const sums = this.#sums;
    // KeySums writes its keys as it holds them, in no order.
    // Only a JSONL part takes lines already encoded.
    if (!this.#emitSum || sums === undefined || sorted || !out.writeLines) return false;
    for (const [chunk, lines] of sums.jsonLines()) await out.writeLines(chunk, lines);
    return true;
  }
}
