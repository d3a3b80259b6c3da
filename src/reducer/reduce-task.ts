import { join } from 'node:path';
import { NotJsonError } from '../errors.js';
import { builtinOf } from '../job/builtins.js';
import type { Job } from '../job/types.js';
import type { ReduceInput, ReduceResult, ReduceTask } from '../protocol/task-types.js';
import { createKeyGroups, type KeyGroups } from '../shuffle/key-groups.js';
import { RecordReader } from '../shuffle/record-codec.js';
import { readSlice } from '../shuffle/shuffle-object.js';
import { mergeSortedRuns, writeSortedRun } from '../shuffle/sorted-runs.js';
import { openStore } from '../store/open-store.js';
import { readInputList } from '../task/reduce-inputs.js';
import { withSpillDir } from '../task/spill-dir.js';
import { combinerOf, isThenable, stageOf, userCodeError } from '../task/user-code.js';
import { KeySums } from './key-sums.js';
import { PartWriter } from './part-writer.js';

/** Slices fetched ahead of the one being grouped: overlaps I/O with decoding. */
const PREFETCH = 4;

/**
 * Runs one reduce task attempt: range-reads its partition's slice of every committed map output,
 * groups values by key (spilling sorted runs to local disk past the memory budget and merging them
 * afterwards), calls `reduce` per key, and writes one part file under an attempt-scoped key.
 */
export async function runReduceTask(job: Job, task: ReduceTask): Promise<ReduceResult> {
  const started = Date.now();
  const { stage, ctx } = stageOf(job, task);
  const combine = combinerOf(stage);
  let inputRecords = 0;
  let inputBytes = 0;

  return withSpillDir(task, async (dir) => {
    const inputs = await readInputList(task.inputs);
    // Each slice holds distinct keys when maps combine: the largest is a floor on the keys to expect.
    const expectedKeys = inputs.reduce((most, i) => Math.max(most, i.slice.records), 0);
    // The built-in sum adds string keys' values by their bytes (see KeySums) until a record that is
    // not a string key with a number value moves every sum to the grouping all combiners use.
    let sums = builtinOf(stage.combine) === 'sum' ? new KeySums(expectedKeys) : undefined;
    const groups = createKeyGroups(combine, sums ? 0 : expectedKeys);
    let held: Pick<KeyGroups, 'bytes' | 'size' | 'entries' | 'sortedEntries' | 'clear'> = sums ?? groups;
    const runs: string[] = [];
    const spill = () => {
      const path = join(dir, `run-${runs.length}`);
      try {
        writeSortedRun(path, held.sortedEntries());
      } catch (err) {
        // Values read from the shuffle are JSON: one that is not came out of combine.
        throw err instanceof NotJsonError ? userCodeError('combine', err) : err;
      }
      held.clear();
      runs.push(path);
    };
    for await (const bytes of fetchSlices(inputs)) {
      inputBytes += bytes.byteLength;
      const reader = new RecordReader(bytes);
      while (sums ? reader.nextKeyBytes() : reader.next()) {
        if (sums === undefined) groups.add(reader.key, reader.value);
        else if (reader.keyStart >= 0 && typeof reader.value === 'number') {
          sums.add(reader.bytes, reader.keyStart, reader.keyEnd, reader.value);
        } else {
          for (const [key, [sum]] of sums.entries()) groups.add(key, sum);
          sums = undefined;
          held = groups;
          const key =
            reader.keyStart >= 0 ? reader.bytes.toString('utf8', reader.keyStart, reader.keyEnd) : reader.key;
          groups.add(key, reader.value);
        }
        inputRecords++;
        if (held.bytes > task.memoryBudget) spill();
      }
    }
    if (runs.length > 0 && held.size > 0) spill();

    const out = new PartWriter(await openStore(task.outputStore).openWriter(task.outputKey));
    try {
      // One synchronous loop over the keys: it awaits only a reduce that returns a promise, and a
      // part writer holding a full chunk.
      const reduceAll = async (entries: Iterable<[unknown, Iterable<unknown>]>) => {
        for (const [key, values] of entries) {
          let r: unknown;
          try {
            r = stage.reduce(key as never, values as never, out.emit, ctx);
            if (isThenable(r)) await r;
          } catch (err) {
            throw userCodeError('reduce', err);
          }
          if (out.full) await out.flush();
        }
      };
      if (sums && runs.length === 0 && builtinOf(stage.reduce) === 'emit-sum') {
        // The built-in sum into the built-in emitSum: lines written from the keys' bytes.
        for (const [chunk, lines] of sums.jsonLines()) await out.writeLines(chunk, lines);
      } else await reduceAll(runs.length === 0 ? held.entries() : mergedEntries(runs));
      await out.close();
    } catch (err) {
      await out.abort();
      throw err;
    }
    return {
      kind: 'reduce',
      outputKey: task.outputKey,
      metrics: {
        inputBytes,
        inputRecords,
        outputRecords: out.records,
        outputBytes: out.bytes,
        spills: runs.length,
        ms: Date.now() - started,
      },
    };
  });
}

function* mergedEntries(runs: readonly string[]): Generator<[unknown, Iterable<unknown>]> {
  for (const { key, values } of mergeSortedRuns(runs)) yield [key, values];
}

/** Yields each input slice's verified bytes in order, keeping a few requests in flight. */
async function* fetchSlices(inputs: readonly ReduceInput[]): AsyncGenerator<Uint8Array> {
  const pending: Promise<Uint8Array>[] = [];
  let next = 0;
  const fill = () => {
    while (pending.length < PREFETCH && next < inputs.length) {
      const input = inputs[next++] as ReduceInput;
      const p = readSlice(openStore(input.store), input.key, input.slice);
      p.catch(() => {}); // surfaced when awaited below; avoid an unhandled rejection meanwhile
      pending.push(p);
    }
  };
  fill();
  while (pending.length > 0) {
    const bytes = await (pending.shift() as Promise<Uint8Array>);
    fill();
    yield bytes;
  }
}
