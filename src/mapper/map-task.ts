import { join } from 'node:path';
import { NotJsonError, UserCodeError } from '../errors.js';
import { builtinOf } from '../job/builtins.js';
import { type RecordParser, recordParser } from '../job/record-parser.js';
import type { Job, StageDefinition } from '../job/types.js';
import type { MapResult, MapTask } from '../protocol/task-types.js';
import { createKeyGroups, type KeyGroups } from '../shuffle/key-groups.js';
import { hashPartition } from '../shuffle/key-order.js';
import { RecordWriter } from '../shuffle/record-codec.js';
import { ShuffleObjectWriter } from '../shuffle/shuffle-object.js';
import { openStore } from '../store/open-store.js';
import { checkKey, checkValue } from '../task/emit-checks.js';
import { withSpillDir } from '../task/spill-dir.js';
import { combinerOf, isThenable, stageOf, userCodeError } from '../task/user-code.js';
import { readFirstLine } from './read-first-line.js';
import { lineRuns, readLines } from './read-lines.js';
import { atLine } from './record-position.js';
import { readSpillPart, type Spill, writeSpill } from './spill-file.js';
import { TokenCounter } from './token-count.js';

/** What a map task holds between spills: grouped values, or the built-in token counts. */
type Held = Pick<KeyGroups, 'entries' | 'clear' | 'bytes' | 'size'>;

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
  const started = Date.now();
  const { stage, ctx } = stageOf(job, task);
  const combine = combinerOf(stage);
  // The built-in token count runs over bytes, without a call per line or per token.
  const counter =
    task.input.format === 'text' &&
    builtinOf(stage.map) === 'count-tokens' &&
    builtinOf(stage.combine) === 'sum'
      ? new TokenCounter(expectedKeys(task))
      : undefined;
  const groups = counter ? undefined : createKeyGroups(combine, expectedKeys(task));
  const held = (counter ?? groups) as Held;
  const partitionOf = makePartitioner(stage, task.partitions);
  let inputRecords = 0;
  let outputRecords = 0;
  let inputBytes = 0;
  const emit = (key: unknown, value: unknown): void => {
    if (typeof key !== 'string') checkKey('map', key);
    if (typeof value !== 'number') checkValue('map', value);
    (groups as KeyGroups).add(key, value);
    outputRecords++;
  };

  /**
   * What the task holds, as records in one writer per partition; the holder is emptied. A value
   * found here not to be JSON (circular, holding a BigInt) is the map's mistake, named as such.
   */
  const encode = (): RecordWriter[] => {
    const n = task.partitions;
    const writers = Array.from({ length: n }, () => new RecordWriter(n > 64 ? 1024 : 64 * 1024));
    try {
      // The token counter writes its keys from their bytes when the default partitioner places them.
      if (counter && !stage.partitioner) counter.writeRecords(writers);
      else {
        for (const [key, values] of held.entries()) {
          const w = writers[partitionOf(key)] as RecordWriter;
          for (const v of values) w.write(key, v);
        }
      }
    } catch (err) {
      throw err instanceof NotJsonError ? userCodeError('map', err) : err;
    }
    held.clear();
    return writers;
  };

  return withSpillDir(task, async (dir) => {
    const spills: Spill[] = [];
    const spillIfFull = () => {
      keysSeen = Math.max(keysSeen, held.size);
      if (held.bytes > task.memoryBudget)
        spills.push(writeSpill(join(dir, `spill-${spills.length}`), encode()));
    };
    for (const split of task.splits) {
      const store = openStore(split.store);
      inputBytes += split.end - split.start;
      if (counter) {
        for await (const run of lineRuns(store, split)) {
          counter.addRun(run);
          spillIfFull();
        }
        continue;
      }
      const csvHeader = task.input.format === 'csv' && task.input.header;
      const header = csvHeader ? await readFirstLine(store, split) : undefined;
      let parse: RecordParser | undefined;
      try {
        // Text lines are records as they are: no call per line.
        parse = task.input.format === 'text' ? undefined : recordParser(task.input, header);
      } catch (err) {
        throw atLine(err, { ...split, start: 0 }, 1); // the header is the file's first line
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
            if (record === undefined) continue;
            inputRecords++;
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
        spillIfFull();
      }
    }

    // Encoded before the writer opens: an encoding that fails must not leave it open.
    const memory = encode();
    const out = new ShuffleObjectWriter(
      await openStore(task.shuffleStore).openWriter(task.shuffleKey),
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
        inputRecords: counter ? counter.lines : inputRecords,
        outputRecords: counter ? counter.tokens : outputRecords,
        outputBytes: written.bytes,
        spills: spills.length,
        ms: Date.now() - started,
      },
    };
  });
}

function makePartitioner(stage: StageDefinition, n: number): (key: unknown) => number {
  const custom = stage.partitioner;
  if (!custom) return (key) => hashPartition(key, n);
  return (key) => {
    let p: number;
    try {
      p = custom(key as never, n);
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
