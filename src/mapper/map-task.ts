import { NotJsonError, noteAlso, UserCodeError } from '../errors.js';
import { builtinOf } from '../job/builtins.js';
import type { Job, Json, StageDefinition, TaskContext } from '../job/types.js';
import { closedPart, openPartSink } from '../output/part-sink.js';
import type { MapResult, MapTask, SkippedRecords } from '../protocol/task-types.js';
import { hashPartition } from '../shuffle/key-order.js';
import { RecordWriter } from '../shuffle/record-codec.js';
import { ShuffleObjectWriter } from '../shuffle/shuffle-object.js';
import { watchCancel } from '../task/cancel-watch.js';
import { readPartitionPlan } from '../task/partition-plan.js';
import { withSpillDir } from '../task/spill-dir.js';
import { openTaskStore } from '../task/task-store.js';
import { stageOf, userCodeError } from '../task/user-code.js';
import { BadRecordLog } from './bad-record-log.js';
import type { HolderContext, MapHolder } from './map-holder.js';
import { readSpillPart, type Spill, writeSpill } from './spill-file.js';
import { TokenCountHolder } from './token-count-holder.js';
import { UserMapHolder } from './user-map-holder.js';

/**
 * The most distinct keys a map task in this thread (worker or warm Lambda) held, to presize the next
 * task's table: tasks of one job see similar keys, and growing a table to 250,000 keys rehashes them
 * at a cache miss each.
 */
let keysSeen = 0;

/**
 * Keys to presize a task's table for: as many as a task in this thread held before, and before any
 * has, one per 256 bytes of input up to 2^18 (a table of 8 MiB). Growing from empty to the word count
 * bench's 250,000 keys took each worker's first 64 MiB task about 100 ms of rehashing; presized, the
 * first task took 0.81 s against 0.89 s (4 runs each). Slots a table never touches cost next to
 * nothing: the pages behind them are never written.
 */
function expectedKeys(task: MapTask): number {
  const bytes = task.splits.reduce((n, s) => n + (s.end - s.start), 0);
  return Math.max(keysSeen, Math.min(Math.floor(bytes / 256), 1 << 18));
}

/**
 * Runs one map task attempt: reads its splits, calls `map` per record, combines in memory under the
 * memory budget (spilling partitioned runs to local disk past it), and writes exactly one shuffle
 * object with a partition index. The same function runs in a worker thread and on Lambda.
 */
export async function runMapTask(job: Job, task: MapTask): Promise<MapResult> {
  if (task.output !== undefined) return runMapOnlyTask(job, task, task.output);
  const started = Date.now();
  const { stage, ctx, log } = stageOf(job, task);
  const bad = badRecordLog(task);
  const plan = task.partitionPlan === undefined ? undefined : await readPartitionPlan(task.partitionPlan);
  const holder = mapHolderFor(stage, ctx, {
    task,
    partitionOf: makePartitioner(stage, task.partitions, plan),
    expectedKeys: expectedKeys(task),
    ...(bad && { badRecords: bad }),
  });
  let inputBytes = 0;

  /**
   * What the task holds, as records in one writer per partition; the holder is emptied. A value
   * found here not to be JSON (circular, holding a BigInt) is the map's mistake, named as such.
   */
  const encode = (): RecordWriter[] => {
    const n = task.partitions;
    const initial = writerBytes(holder.bytes, n);
    const writers = Array.from({ length: n }, () => new RecordWriter(initial));
    try {
      holder.drainInto(writers);
    } catch (err) {
      throw err instanceof NotJsonError ? userCodeError('map', err) : err;
    }
    return writers;
  };

  const watch = watchCancel(task.cancel);
  return withSpillDir<MapResult>(task, async (dir) => {
    const spills: Spill[] = [];
    // Between batches of records: stop if the job was cancelled, spill if the budget is spent.
    const spillIfFull = () => {
      watch.check();
      keysSeen = Math.max(keysSeen, holder.size);
      if (holder.bytes > task.memoryBudget)
        spills.push(writeSpill(dir.path(`spill-${spills.length}`), encode()));
    };
    let badRecords: SkippedRecords | undefined;
    try {
      for (const split of task.splits) {
        inputBytes += split.end - split.start;
        await holder.readSplit(openTaskStore(split.store), split, spillIfFull);
      }
      badRecords = await bad?.close();
    } catch (err) {
      await bad?.abort().catch((e: unknown) => noteAlso(err, 'could not drop the bad records written', e));
      throw err;
    }

    // Encoded before the writer opens: an encoding that fails must not leave it open.
    const memory = encode();
    const out = new ShuffleObjectWriter(
      await openTaskStore(task.shuffleStore).openWriter(task.shuffleKey),
      task.partitions,
    );
    let written: Awaited<ReturnType<ShuffleObjectWriter['close']>>;
    try {
      for (let p = 0; p < task.partitions; p++) {
        for (const spill of spills) {
          const part = spill.parts[p];
          if (part && part.length > 0) await out.append(p, readSpillPart(spill, p), part.records);
        }
        const w = memory[p] as RecordWriter;
        await out.append(p, w.bytes(), w.records);
      }
      written = await out.close();
    } catch (err) {
      await out.abort();
      throw err;
    }
    return {
      kind: 'map',
      shuffleKey: task.shuffleKey,
      slices: written.slices,
      metrics: {
        inputBytes,
        inputRecords: holder.inputRecords,
        outputRecords: holder.outputRecords,
        outputBytes: written.bytes,
        spills: spills.length,
        ms: Date.now() - started,
      },
      ...(badRecords && { badRecords }),
    };
  }).finally(async () => {
    watch.stop();
    await log.save();
  });
}

/**
 * Runs one map task attempt of a map-only stage: reads its splits and writes each record `map`
 * emits to its part file (an attempt-scoped key the driver moves into place if this attempt
 * commits), in chunks as they fill. Nothing is held past a chunk, so there is nothing to spill.
 */
async function runMapOnlyTask(
  job: Job,
  task: MapTask,
  output: NonNullable<MapTask['output']>,
): Promise<MapResult> {
  const started = Date.now();
  const { stage, ctx, log } = stageOf(job, task);
  const bad = badRecordLog(task);
  const watch = watchCancel(task.cancel);
  const sink = openPartSink(await openTaskStore(output.store).openWriter(output.key), output.format);
  const holder = new UserMapHolder(
    { task, partitionOf: () => 0, expectedKeys: 0, sink, ...(bad && { badRecords: bad }) },
    stage,
    ctx,
  );
  let inputBytes = 0;
  try {
    for (const split of task.splits) {
      inputBytes += split.end - split.start;
      await holder.readSplit(openTaskStore(split.store), split, () => {
        watch.check();
        return sink.full ? sink.flush() : undefined;
      });
    }
    const badRecords = await bad?.close();
    const written = await sink.close();
    return {
      kind: 'map',
      shuffleKey: '',
      slices: [],
      outputKey: output.key,
      ...closedPart(sink, written),
      metrics: {
        inputBytes,
        inputRecords: holder.inputRecords,
        outputRecords: sink.records,
        outputBytes: sink.bytes,
        spills: 0,
        ms: Date.now() - started,
      },
      ...(badRecords && { badRecords }),
    };
  } catch (err) {
    await bad?.abort().catch((e: unknown) => noteAlso(err, 'could not drop the bad records written', e));
    await sink.abort().catch((e: unknown) => noteAlso(err, 'could not drop the part file begun', e));
    throw err;
  } finally {
    watch.stop();
    await log.save();
  }
}

/**
 * The bytes each partition's record writer starts with: its share of what the task holds (an
 * estimate above the records' size), as a power of two from 1 KiB to 64 KiB, and 1 KiB past 64
 * partitions. A writer grows by doubling; a 4 KiB task's eight writers took 64 KiB each before, half
 * a megabyte per task to allocate and collect.
 */
function writerBytes(held: number, partitions: number): number {
  if (partitions > 64) return 1024;
  let bytes = 1024;
  while (bytes < 64 * 1024 && bytes < held / partitions) bytes *= 2;
  return bytes;
}

/** Where the task's skipped records go, when its input skips bad records rather than failing. */
function badRecordLog(task: MapTask): BadRecordLog | undefined {
  if (task.input.onBadRecord !== 'skip' || task.badRecords === undefined) return undefined;
  return new BadRecordLog(
    openTaskStore(task.badRecords.store),
    task.badRecords.key,
    task.input.maxBadRecords,
  );
}

/**
 * The one place a map task's built-in fast path is chosen: the built-in token count combined with
 * the built-in sum runs over the input's bytes; every other stage runs its own map.
 */
function mapHolderFor(stage: StageDefinition, ctx: TaskContext, c: HolderContext): MapHolder {
  if (
    c.task.input.format === 'text' &&
    builtinOf(stage.map) === 'count-tokens' &&
    builtinOf(stage.combine) === 'sum'
  )
    return new TokenCountHolder(c, stage.partitioner !== undefined);
  return new UserMapHolder(c, stage, ctx);
}

function makePartitioner(
  stage: StageDefinition,
  n: number,
  plan: Json | undefined,
): (key: unknown) => number {
  const custom = stage.partitioner;
  if (!custom) return (key) => hashPartition(key, n);
  return (key) => {
    let p: number;
    try {
      p = custom(key as never, n, plan);
    } catch (err) {
      throw userCodeError('partitioner', err);
    }
    if (!Number.isInteger(p) || p < 0 || p >= n) {
      throw new UserCodeError(
        `partitioner returned ${p} for key ${JSON.stringify(key)}; expected an integer in [0, ${n})`,
        {
          retryable: false,
        },
      );
    }
    return p;
  };
}
