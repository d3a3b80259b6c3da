import { rmSync } from 'node:fs';
import { JobDefinitionError, NotJsonError } from '../errors.js';
import { builtinOf } from '../job/builtins.js';
import type { Job, StageDefinition } from '../job/types.js';
import { closedPart, openPartSink } from '../output/part-sink.js';
import type { ReduceInput, ReduceResult, ReduceTask } from '../protocol/task-types.js';
import { createKeyGroups } from '../shuffle/key-groups.js';
import { RecordReader } from '../shuffle/record-codec.js';
import { BlockReader } from '../shuffle/run-blocks.js';
import { readSlice } from '../shuffle/shuffle-object.js';
import { mergeSortedRuns, writeSortedRun } from '../shuffle/sorted-runs.js';
import { watchCancel } from '../task/cancel-watch.js';
import { readInputList } from '../task/reduce-inputs.js';
import { withSpillDir } from '../task/spill-dir.js';
import { openTaskStore } from '../task/task-store.js';
import { combinerOf, isThenable, stageOf, userCodeError } from '../task/user-code.js';
import { HashSpill, type SpillPartition } from './hash-spill.js';
import { GroupsHolder, type ReduceHolder } from './reduce-holder.js';
import { SortedHolder } from './sorted-holder.js';
import { SumHolder } from './sum-holder.js';

/** Slices fetched ahead of the one being grouped: overlaps I/O with decoding. */
const PREFETCH = 4;

/**
 * Runs one reduce task attempt: range-reads its partition's slice of every committed map output,
 * groups values by key (past the memory budget spilling to local disk by key hash, or as sorted runs
 * for a stage that sorts its keys), calls `reduce` per key, and writes one part file under an attempt-scoped key.
 */
export async function runReduceTask(job: Job, task: ReduceTask): Promise<ReduceResult> {
  const started = Date.now();
  const { stage, ctx, log } = stageOf(job, task);
  const reduce = stage.reduce;
  if (reduce === undefined) throw new JobDefinitionError(`job ${job.name} stage ${task.stage} has no reduce`);
  let inputRecords = 0;
  let inputBytes = 0;

  const watch = watchCancel(task.cancel);
  return withSpillDir<ReduceResult>(task, async (dir) => {
    const inputs = await readInputList(task.inputs);
    // Each slice holds distinct keys when maps combine: the largest is a floor on the keys to expect.
    const expectedKeys = inputs.reduce((most, i) => Math.max(most, i.slice.records), 0);
    const inputTotal = inputs.reduce((sum, i) => sum + i.slice.length, 0);
    const budget = task.memoryBudget;
    const held = reduceHolderFor(stage, expectedKeys);
    let spills = 0;
    let files = 0;
    /** Writes what `holder` has to disk with `write`, then empties it. */
    const spill = (holder: ReduceHolder, write: () => void) => {
      try {
        write();
      } catch (err) {
        // Values read from the shuffle are JSON: one that is not came out of combine.
        throw err instanceof NotJsonError ? userCodeError('combine', err) : err;
      }
      holder.clear();
      spills++;
    };
    /** Writes what `holder` has as a sorted run, empties it, and returns the run's path. */
    const spillRun = (holder: ReduceHolder): string => {
      const path = dir.path(`run-${files++}`);
      spill(holder, () => writeSortedRun(path, holder.sortedEntries()));
      return path;
    };
    /** A hash spill of `level` sized from how full `holder` is after `done` of `total` units read. */
    const newHashSpill = (holder: ReduceHolder, done: number, total: number, level: number): HashSpill => {
      const parts = partitionsFor(holder.bytes, done, total, budget);
      const name = `hash-${files++}`;
      return new HashSpill((i) => dir.path(`${name}-${i}`), parts, level, blockBytesFor(parts, budget));
    };
    const spillHash = (holder: ReduceHolder, to: HashSpill) => spill(holder, () => holder.spillTo(to));

    // Past the memory budget, a stage that sorts its keys spills sorted runs, merged in key order at
    // the end; any other spills by the hash of its keys into files each reduced on its own.
    const runs: string[] = [];
    let hash: HashSpill | undefined;
    try {
      for await (const bytes of fetchSlices(inputs)) {
        watch.check();
        inputBytes += bytes.byteLength;
        const reader = new RecordReader(bytes);
        while (held.addNext(reader)) {
          inputRecords++;
          if (held.bytes <= budget) continue;
          if (stage.sortKeys) runs.push(spillRun(held));
          else {
            hash ??= newHashSpill(held, inputBytes, inputTotal, 0);
            spillHash(held, hash);
          }
        }
      }
      if (runs.length > 0 && held.size > 0) runs.push(spillRun(held));
      if (hash && held.size > 0) spillHash(held, hash);
    } catch (err) {
      hash?.close();
      throw err;
    }
    const partitions = hash?.finish() ?? [];

    const out = openPartSink(
      await openTaskStore(task.outputStore).openWriter(task.outputKey),
      task.outputFormat,
    );
    let written: boolean;
    try {
      // One synchronous loop over the keys: it awaits only a reduce that returns a promise, and a
      // part writer holding a full chunk.
      const reduceAll = async (entries: Iterable<[unknown, Iterable<unknown>]>) => {
        for (const [key, values] of entries) {
          let r: unknown;
          try {
            r = reduce(key as never, values as never, out.emit, ctx);
            if (isThenable(r)) await r;
          } catch (err) {
            throw userCodeError('reduce', err);
          }
          if (out.full) await out.flush();
        }
      };
      /** Writes what `holder` has, unsorted: by the holder itself where a built-in can, else reduce. */
      const reduceHeld = async (holder: ReduceHolder) => {
        if (!(await holder.writeDirect(out, false))) await reduceAll(holder.entries());
      };
      /**
       * Reduces one hash partition in memory. One still over the budget is split again by another
       * hash; past MAX_HASH_LEVELS, or when one key alone fills the budget (values no hash can part),
       * it spills sorted runs, whose merge streams a key's values from disk.
       */
      const reducePartition = async (part: SpillPartition, level: number): Promise<void> => {
        const holder = reduceHolderFor(stage, Math.min(part.records, Math.ceil(budget / KEY_BYTES_FLOOR)));
        const subRuns: string[] = [];
        let sub: HashSpill | undefined;
        let done = 0;
        const blocks = new BlockReader(part.path);
        try {
          for (let block = blocks.next(); block; block = blocks.next()) {
            watch.check();
            const reader = new RecordReader(block);
            while (holder.addNext(reader)) {
              done++;
              if (holder.bytes <= budget) continue;
              // Sorted runs once begun, or where hashing again cannot help; else hashed again.
              if (subRuns.length > 0 || (sub === undefined && (level >= MAX_HASH_LEVELS || holder.size <= 1)))
                subRuns.push(spillRun(holder));
              else {
                sub ??= newHashSpill(holder, done, part.records, level);
                spillHash(holder, sub);
              }
            }
          }
        } catch (err) {
          sub?.close();
          throw err;
        } finally {
          blocks.close();
        }
        rmSync(part.path, { force: true });
        if (sub) {
          if (holder.size > 0) spillHash(holder, sub);
          for (const p of sub.finish()) await reducePartition(p, level + 1);
        } else if (subRuns.length > 0) {
          if (holder.size > 0) subRuns.push(spillRun(holder));
          await reduceAll(mergedEntries(subRuns));
          for (const r of subRuns) rmSync(r, { force: true });
        } else await reduceHeld(holder);
      };

      if (runs.length > 0) await reduceAll(mergedEntries(runs));
      else if (hash) for (const p of partitions) await reducePartition(p, 1);
      // Nothing spilled: a built-in may write the part file itself (in key order, where the stage
      // sorts its keys); else every key is reduced, in key order if the stage sorts its keys.
      else if (stage.sortKeys) {
        if (!(await held.writeDirect(out, true))) await reduceAll(held.sortedEntries());
      } else await reduceHeld(held);
      written = await out.close();
    } catch (err) {
      await out.abort();
      throw err;
    }
    return {
      kind: 'reduce',
      outputKey: task.outputKey,
      ...closedPart(out, written),
      metrics: {
        inputBytes,
        inputRecords,
        outputRecords: out.records,
        outputBytes: out.bytes,
        spills,
        ms: Date.now() - started,
      },
    };
  }).finally(async () => {
    watch.stop();
    await log.save();
  });
}

/** Levels of hash partitioning before a partition still over the budget spills sorted runs. */
const MAX_HASH_LEVELS = 3;
/** The fewest bytes a held key is estimated at (see KeySums): caps the keys a partition presizes for. */
const KEY_BYTES_FLOOR = 48;

/**
 * How many files a hash spill parts its records into: enough that each should fit the budget, had
 * the holder kept growing as it did over the first `done` of `total` units (an overestimate where
 * keys repeat, which costs only smaller files), with a quarter to spare.
 */
function partitionsFor(heldBytes: number, done: number, total: number, budget: number): number {
  const expected = heldBytes * (Math.max(total, done) / Math.max(done, 1));
  return Math.min(MAX_PARTITIONS, Math.max(2, Math.ceil((1.25 * expected) / budget)));
}
const MAX_PARTITIONS = 128;

/** Each partition's write buffer: all of them together about a quarter of the budget, 4 to 64 KiB. */
function blockBytesFor(parts: number, budget: number): number {
  return Math.min(64 * 1024, Math.max(4 * 1024, Math.floor(budget / 4 / parts)));
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
