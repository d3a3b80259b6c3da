import type { Split } from '../protocol/task-types.js';
import type { RecordWriter } from '../shuffle/record-codec.js';
import type { ObjectStore } from '../store/object-store.js';
import { type HolderContext, type MapHolder, writeEntries } from './map-holder.js';
import { lineRuns } from './read-lines.js';
import { TokenCounter } from './token-count.js';

/**
 * The built-in `countTokens` combined with `sum`, over bytes: runs of whole lines go straight into a
 * TokenCounter, with no string per token and no call per line, and with the default partitioner the
 * records are written from the keys' bytes.
 */
export class TokenCountHolder implements MapHolder {
  readonly #counter: TokenCounter;
  readonly #c: HolderContext;
  readonly #customPartitioner: boolean;

  constructor(c: HolderContext, customPartitioner: boolean) {
    this.#c = c;
    this.#counter = new TokenCounter(c.expectedKeys);
    this.#customPartitioner = customPartitioner;
  }

  get bytes(): number {
    return this.#counter.bytes;
  }

  get size(): number {
    return this.#counter.size;
  }

  get inputRecords(): number {
    return this.#counter.lines;
  }

  get outputRecords(): number {
    return this.#counter.tokens;
  }

  async readSplit(store: ObjectStore, split: Split, between: () => void): Promise<void> {
    for await (const run of lineRuns(store, split)) {
      this.#counter.addRun(run);
      between();
    }
  }

  drainInto(writers: readonly RecordWriter[]): void {
    if (this.#customPartitioner) writeEntries(this.#counter.entries(), writers, this.#c.partitionOf);
    else this.#counter.writeRecords(writers);
    this.#counter.clear();
  }
}
