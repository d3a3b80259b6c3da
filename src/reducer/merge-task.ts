import { crc32 } from 'node:zlib';
import { CorruptDataError } from '../errors.js';
import type { MergeResult, MergeTask, ReduceInput } from '../protocol/task-types.js';
import { ShuffleObjectWriter } from '../shuffle/shuffle-object.js';
import type { ObjectStore } from '../store/object-store.js';
import { watchCancel } from '../task/cancel-watch.js';
import { readInputList } from '../task/reduce-inputs.js';
import { openTaskStore } from '../task/task-store.js';

/**
 * Runs one merge task attempt (the combining tier between a stage's map and reduce phases): reads
 * each of its group's shuffle objects once, as one streamed GET over the bytes of its slices, and
 * writes one shuffle object whose partition p is every input's partition p, one after another.
 * Records are copied as bytes, never decoded: any stage's shuffle can be merged, and the reducers
 * read the result as they read a map task's. Every input slice's CRC-32 is checked as it passes;
 * one that fails names its object, so the driver runs the map task that wrote it again.
 */
export async function runMergeTask(task: MergeTask): Promise<MergeResult> {
  const started = Date.now();
  const entries = await readInputList(task.inputs);
  const r = task.partitions;
  if (entries.length % r !== 0) {
    throw new CorruptDataError(
      `merge input list ${task.inputs.key} holds ${entries.length} slices, not a multiple of ${r} partitions`,
    );
  }
  const inputs = Array.from({ length: entries.length / r }, (_, i) => entries.slice(i * r, (i + 1) * r));
  const watch = watchCancel(task.cancel);
  const store = openTaskStore(task.shuffleStore);
  const writer = new ShuffleObjectWriter(await store.openWriter(task.shuffleKey), r);
  const readers = inputs.map(
    (slices) => new SliceReader(openTaskStore(slices[0]?.store ?? task.shuffleStore), slices),
  );
  let bytes = 0;
  let records = 0;
  try {
    for (let p = 0; p < r; p++) {
      watch.check();
      for (const reader of readers) {
        const { data, records: n } = await reader.next(p);
        if (data.byteLength === 0) continue;
        await writer.append(p, data, n);
        bytes += data.byteLength;
        records += n;
      }
    }
    const { slices } = await writer.close();
    return {
      kind: 'merge',
      shuffleKey: task.shuffleKey,
      slices,
      metrics: {
        inputBytes: bytes,
        inputRecords: records,
        outputRecords: records,
        outputBytes: bytes,
        spills: 0,
        ms: Date.now() - started,
      },
    };
  } catch (err) {
    await writer.abort().catch(() => {});
    throw err;
  } finally {
    watch.stop();
    for (const reader of readers) await reader.close();
  }
}

/**
 * One input shuffle object of a merge, read front to back: a single ranged stream over its slices'
 * bytes, from which each partition's slice is taken in turn and checked against its CRC-32.
 */
class SliceReader {
  readonly #slices: readonly ReduceInput[];
  readonly #key: string;
  readonly #chunks: AsyncIterator<Uint8Array>;
  /** Bytes read from the stream and not yet handed out. */
  #held: Uint8Array = new Uint8Array(0);
  /** The object offset #held starts at. */
  #at: number;

  constructor(store: ObjectStore, slices: readonly ReduceInput[]) {
    this.#slices = slices;
    const first = slices[0];
    this.#key = first?.key ?? '';
    const start = Math.min(...slices.map((s) => s.slice.offset));
    const end = Math.max(...slices.map((s) => s.slice.offset + s.slice.length));
    this.#at = start;
    const stream = end > start ? store.stream(this.#key, { start, end }) : emptyStream();
    this.#chunks = stream[Symbol.asyncIterator]();
  }

  /** Partition p's slice of this object: its bytes (checked) and record count. */
  async next(p: number): Promise<{ data: Uint8Array; records: number }> {
    const s = this.#slices[p]?.slice;
    if (!s || s.length === 0) return { data: new Uint8Array(0), records: 0 };
    if (s.offset < this.#at) this.#corrupt(`slice of partition ${p} at ${s.offset} overlaps the one before`);
    await this.#skip(s.offset - this.#at);
    const data = await this.#take(s.length);
    if (crc32(data) !== s.crc) this.#corrupt(`checksum mismatch at [${s.offset}, ${s.offset + s.length})`);
    return { data, records: s.records };
  }

  async close(): Promise<void> {
    await this.#chunks.return?.();
  }

  async #skip(n: number): Promise<void> {
    if (n > 0) await this.#take(n);
  }

  /** The next `n` bytes of the stream, as one array. */
  async #take(n: number): Promise<Uint8Array> {
    while (this.#held.byteLength < n) {
      const next = await this.#chunks.next();
      if (next.done) this.#corrupt(`object ended ${n - this.#held.byteLength} bytes short`);
      this.#held = this.#held.byteLength === 0 ? next.value : Buffer.concat([this.#held, next.value]);
    }
    const out = this.#held.subarray(0, n);
    this.#held = this.#held.subarray(n);
    this.#at += n;
    return out;
  }

  #corrupt(what: string): never {
    throw new CorruptDataError(`${what} in shuffle object ${this.#key}`, {
      retryable: false,
      context: { object: this.#key },
    });
  }
}

async function* emptyStream(): AsyncIterable<Uint8Array> {}
