import { NotJsonError } from '../errors.js';
import { builtinOf } from '../job/builtins.js';
import type { Job, StageDefinition } from '../job/types.js';
import type { ReduceInput, ReduceResult, ReduceTask } from '../protocol/task-types.js';
import { createKeyGroups } from '../shuffle/key-groups.js';
import { RecordReader } from '../shuffle/record-codec.js';
import { readSlice } from '../shuffle/shuffle-object.js';
import { mergeSortedRuns, writeSortedRun } from '../shuffle/sorted-runs.js';
import { watchCancel } from '../task/cancel-watch.js';
import { readInputList } from '../task/reduce-inputs.js';
import { withSpillDir } from '../task/spill-dir.js';
import { openTaskStore } from '../task/task-store.js';
import { combinerOf, isThenable, stageOf, userCodeError } from '../task/user-code.js';
import { PartWriter } from './part-writer.js';
import { GroupsHolder, type ReduceHolder } from './reduce-holder.js';
import { SortedHolder } from './sorted-holder.js';
import { SumHolder } from './sum-holder.js';

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
  let inputRecords = 0;
  let inputBytes = 0;

  const watch = watchCancel(task.cancel);
  return withSpillDir<ReduceResult>(task, async (dir) => {
    const inputs = await readInputList(task.inputs);
    // Each slice holds distinct keys when maps combine: the largest is a floor on the keys to expect.
    const expectedKeys = inputs.reduce((most, i) => Math.max(most, i.slice.records), 0);
    const held = reduceHolderFor(stage, expectedKeys);
    const runs: string[] = [];
    const spill = () => {
      const path = dir.path(`run-${runs.length}`);
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
      watch.check();
      inputBytes += bytes.byteLength;
      const reader = new RecordReader(bytes);
      while (held.addNext(reader)) {
        inputRecords++;
        if (held.bytes > task.memoryBudget) spill();
      }
    }
    if (runs.length > 0 && held.size > 0) spill();

    const out = new PartWriter(await openTaskStore(task.outputStore).openWriter(task.outputKey));
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
      // Spilled runs merge in key order. Nothing spilled: a built-in may write the part file itself
      // (in key order, where the stage sorts its keys); else every key is reduced, in key order if
      // the stage sorts its keys.
      if (runs.length > 0) await reduceAll(mergedEntries(runs));
      else if (await held.writeDirect(out, stage.sortKeys === true)) {
        // written from what is held, in the order the holder keeps
      } else await reduceAll(stage.sortKeys ? held.sortedEntries() : held.entries());
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
  }).finally(() => watch.stop());
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
      const p = readSlice(openTaskStore(input.store), input.key, input.slice);
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

/**
 * The one place a reduce task's built-in fast path is chosen: a stage combining with the built-in
 * sum adds by key bytes (and with the built-in emitSum writes from them); a stage sorting its keys
 * without a combiner sorts its records; every other stage groups decoded records.
 */
function reduceHolderFor(stage: StageDefinition, expectedKeys: number): ReduceHolder {
  const combine = combinerOf(stage);
  if (stage.sortKeys && combine === undefined)
    return new SortedHolder(builtinOf(stage.reduce) === 'emit-each');
  if (builtinOf(stage.combine) !== 'sum') return new GroupsHolder(createKeyGroups(combine, expectedKeys));
  return new SumHolder(createKeyGroups(combine, 0), expectedKeys, builtinOf(stage.reduce) === 'emit-sum');
}
