import { BadRecordError, UserCodeError } from '../errors.js';
import { type RecordParser, recordParser } from '../job/record-parser.js';
import type { StageDefinition, TaskContext } from '../job/types.js';
import type { MapTask, Split } from '../protocol/task-types.js';
import { jsonText } from '../shuffle/json-text.js';
import { createKeyGroups, type KeyGroups } from '../shuffle/key-groups.js';
import { RecordWriter } from '../shuffle/record-codec.js';
import type { ObjectStore } from '../store/object-store.js';
import { checkKey, checkValue } from '../task/emit-checks.js';
import { combinerOf, isThenable, userCodeError } from '../task/user-code.js';
import { mapContext } from './input-file.js';
import { type HolderContext, type MapHolder, writeEntries } from './map-holder.js';
import { readFirstLine } from './read-first-line.js';
import { readLines } from './read-lines.js';
import { atLine } from './record-position.js';

/**
 * The stage's own `map`, called per parsed record. With a combiner its emits are grouped and
 * combined in KeyGroups; without one there is nothing to fold, and each record goes straight to its
 * partition's writer as it is emitted (grouping would only order the records, which the reducer
 * groups anyway).
 */
export class UserMapHolder implements MapHolder {
  readonly #c: HolderContext;
  readonly #stage: StageDefinition;
  readonly #ctx: TaskContext;
  readonly #groups: KeyGroups | undefined;
  /** Without a combiner: the records emitted, encoded, one writer per partition. */
  readonly #direct: RecordWriter[] | undefined;
  readonly #emit: (key: unknown, value: unknown) => void;
  readonly #emitted: () => number;
  /** Without a combiner: bytes of the records encoded in `#direct` since the last drain. */
  readonly #encoded = { bytes: 0 };
  inputRecords = 0;

  constructor(c: HolderContext, stage: StageDefinition, ctx: TaskContext) {
    this.#c = c;
    this.#stage = stage;
    this.#ctx = ctx;
    // Counters in the closure, not fields: emit is the hottest call of a user's job.
    let emitted = 0;
    const encoded = this.#encoded;
    this.#emitted = () => emitted;
    const sink = c.sink;
    if (sink !== undefined) {
      // Map-only: each emit is one output record, written as it comes; nothing is held.
      this.#emit = (record, extra) => {
        if (extra !== undefined) throw mapOnlyEmitError();
        sink.write(record);
        emitted++;
      };
      return;
    }
    const combine = combinerOf(stage);
    if (combine === undefined) {
      const n = c.task.partitions;
      const writers = Array.from({ length: n }, () => new RecordWriter(directWriterBytes(c.task)));
      const partitionOf = c.partitionOf;
      this.#direct = writers;
      this.#emit = (key, value) => {
        if (typeof key !== 'string') {
          checkKey('map', key);
          // Before the partitioner sees it: a key JSON cannot write is the map's mistake, said as such.
          if (typeof key === 'object' && key !== null) jsonText(key, 'key');
        }
        if (typeof value !== 'number') checkValue('map', value);
        const w = writers[partitionOf(key)] as RecordWriter;
        const before = w.length;
        w.write(key, value);
        encoded.bytes += w.length - before;
        emitted++;
      };
      return;
    }
    const groups = createKeyGroups(combine, c.expectedKeys);
    this.#groups = groups;
    this.#emit = (key, value) => {
      if (typeof key !== 'string') checkKey('map', key);
      if (typeof value !== 'number') checkValue('map', value);
      groups.add(key, value);
      emitted++;
    };
  }

  get outputRecords(): number {
    return this.#emitted();
  }

  get bytes(): number {
    return this.#groups?.bytes ?? this.#encoded.bytes;
  }

  /** Distinct keys held: none without a combiner, whose records are held encoded. */
  get size(): number {
    return this.#groups?.size ?? 0;
  }

  async readSplit(store: ObjectStore, split: Split, between: () => void | Promise<void>): Promise<void> {
    const { input } = this.#c.task;
    if (input.format === 'parquet') return this.#readParquetSplit(store, split, input.columns, between);
    const stage = this.#stage;
    const ctx = mapContext(this.#ctx, split);
    const emit = this.#emit;
    const bad = this.#c.badRecords;
    const csvHeader = input.format === 'csv' && input.header;
    const header = csvHeader ? await readFirstLine(store, split) : undefined;
    let parse: RecordParser | undefined;
    try {
      // Text lines are records as they are: no call per line.
      parse = input.format === 'text' ? undefined : recordParser(input, header);
    } catch (err) {
      throw atLine(err, { ...split, start: 0 }, 1); // the header is the file's first line
    }
    /**
     * With `onBadRecord: 'skip'`, the line the parser just refused, and why: the parser gives
     * undefined for it, as for a blank line, and the loop notes it there. The loop itself stays as
     * it is without skipping: no try and no test per record.
     */
    let refused: BadRecordError | undefined;
    if (bad !== undefined && parse !== undefined) {
      const strict = parse;
      parse = (line) => {
        try {
          return strict(line);
        } catch (err) {
          // Only the parser's verdict on a line is skipped: a map that throws is retried.
          if (!(err instanceof BadRecordError)) throw err;
          refused = err;
          return undefined;
        }
      };
    }
    let skipHeader = csvHeader && split.start === 0;
    /** Lines of this split before the batch being mapped: bad records say which line they are. */
    let linesBefore = 0;
    /**
     * Maps `lines` from `from` on in one synchronous loop; stops after a map that returns a promise
     * and hands back where to go on once it settles.
     */
    const mapLines = (
      lines: string[],
      from: number,
    ): { next: number; pending: PromiseLike<unknown> } | undefined => {
      let i = from;
      try {
        for (; i < lines.length; i++) {
          if (skipHeader) {
            skipHeader = false;
            continue;
          }
          const line = lines[i] as string;
          const record = parse === undefined ? line : parse(line);
          if (record === undefined) {
            if (refused !== undefined) {
              bad?.add(split, linesBefore + i + 1, line, refused);
              refused = undefined;
            }
            continue;
          }
          this.inputRecords++;
          const r = stage.map(record as never, emit as never, ctx);
          if (isThenable(r)) return { next: i + 1, pending: r };
        }
      } catch (err) {
        throw userCodeError('map', atLine(err, split, linesBefore + i + 1));
      }
      return undefined;
    };
    for await (const lines of readLines(store, split)) {
      for (let step = mapLines(lines, 0); step; step = mapLines(lines, step.next)) {
        try {
          await step.pending;
        } catch (err) {
          throw userCodeError('map', err);
        }
      }
      linesBefore += lines.length;
      if (bad !== undefined) await bad.flush();
      const ready = between();
      if (ready) await ready;
    }
  }

  /** readSplit for Parquet input: records come decoded, a row group at a time; no lines to parse. */
  async #readParquetSplit(
    store: ObjectStore,
    split: Split,
    columns: readonly string[] | undefined,
    between: () => void | Promise<void>,
  ): Promise<void> {
    // Loaded with the first Parquet split: the Parquet reader and its codecs are about half of what a
    // worker imports, and a job over text never needs them.
    const { atParquetRow, readParquetSplit } = await import('./parquet-split.js');
    const stage = this.#stage;
    const ctx = mapContext(this.#ctx, split);
    const emit = this.#emit;
    for await (const batch of readParquetSplit(store, split, columns)) {
      const { records } = batch;
      /** As mapLines: maps from `from` on, stopping after a map that returns a promise. */
      const mapRecords = (from: number): { at: number; pending: PromiseLike<unknown> } | undefined => {
        let i = from;
        try {
          for (; i < records.length; i++) {
            this.inputRecords++;
            const r = stage.map(records[i] as never, emit as never, ctx);
            if (isThenable(r)) return { at: i, pending: r };
          }
        } catch (err) {
          throw atParquetRow(userCodeError('map', err), split, batch, i);
        }
        return undefined;
      };
      for (let step = mapRecords(0); step; step = mapRecords(step.at + 1)) {
        try {
          await step.pending;
        } catch (err) {
          throw atParquetRow(userCodeError('map', err), split, batch, step.at);
        }
      }
      const ready = between();
      if (ready) await ready;
    }
  }

  drainInto(writers: readonly RecordWriter[]): void {
    if (this.#c.sink !== undefined) return; // map-only: every record went to the part file
    if (this.#groups === undefined) {
      const direct = this.#direct as RecordWriter[];
      for (let p = 0; p < direct.length; p++)
        (writers[p] as RecordWriter).takeFrom(direct[p] as RecordWriter);
      this.#encoded.bytes = 0;
      return;
    }
    writeEntries(this.#groups.entries(), writers, this.#c.partitionOf);
    this.#groups.clear();
  }
}

/** A map-only stage's emit given a key and a value, as a stage with a reduce would emit. */
function mapOnlyEmitError(): UserCodeError {
  return new UserCodeError(
    'a map-only stage (no reduce) emits one record per call, emit(record); emit was given two arguments',
    { retryable: false },
  );
}

/**
 * The first size of each partition's writer when records go straight to their partition: a share of
 * what the task's input should encode to (about its own size, plus a few bytes a record), up to the
 * memory budget. Writers that start small double their way up, copying every byte about once more and
 * touching twice the fresh memory, whose page faults cost more than the copying (a 64 MiB map task
 * of 100-byte records spent about a third of its time growing its writers).
 */
function directWriterBytes(task: MapTask): number {
  const input = task.splits.reduce((n, s) => n + (s.end - s.start), 0);
  const expected = Math.min(input, task.memoryBudget) * 1.25;
  return Math.max(task.partitions > 64 ? 1024 : 64 * 1024, Math.ceil(expected / task.partitions));
}
