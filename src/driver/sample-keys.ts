import pLimit from 'p-limit';
import { BadRecordError } from '../errors.js';
import { compressionByName, compressionOf, SNIFF_BYTES } from '../job/input-compression.js';
import { type RecordParser, recordParser } from '../job/record-parser.js';
import type { InputSpec, MapContext, StageDefinition, TaskContext } from '../job/types.js';
import { mapContext } from '../mapper/input-file.js';
import { readFirstLine } from '../mapper/read-first-line.js';
import { readLines } from '../mapper/read-lines.js';
import type { Split } from '../protocol/task-types.js';
import type { ObjectStore } from '../store/object-store.js';
import { openStore } from '../store/open-store.js';
import { createLogger } from '../task/logger.js';
import { isThenable } from '../task/user-code.js';
import type { MapInput } from './plan-splits.js';

/** Records read at each probe: a run of neighbours, so a sample of 10,000 costs 100 ranged reads. */
const RECORDS_PER_PROBE = 100;
/** Bytes a probe reads from (plus the rest of its last record): one modest ranged GET on S3. */
const PROBE_BYTES = 128 * 1024;
/** Ranged reads in flight at once: S3 answers each in tens of milliseconds. */
const PROBES_IN_FLIGHT = 16;

/** What sampling found: the records read, and the keys `map` emitted for them, in probe order. */
export interface KeySample {
  records: number;
  keys: unknown[];
}

/** One place in the input to read records from. */
interface Probe {
  /** The split the probe is in, as its map task reads it. */
  split: Split;
  /** What to read: a window of the split, or the whole of it from its start. */
  range: Split;
  /** Records to take. */
  records: number;
}

/**
 * The keys a stage's `map` emits for about `count` records of its input, read with ranged reads at
 * evenly spaced places across the planned splits (so the sample follows the input however it is
 * ordered), for a partition plan. A compressed object cannot be entered mid-way: its records are
 * taken from its start. Records the format cannot parse, and records `map` throws on, are left out:
 * the map tasks will meet them and say so. Works the same on every store: a probe is a ranged read.
 */
export async function sampleKeys(
  stage: StageDefinition,
  input: InputSpec,
  mapInputs: readonly MapInput[],
  count: number,
  ctx: { jobId: string; stage: number },
): Promise<KeySample> {
  const taskCtx: TaskContext = {
    jobId: ctx.jobId,
    taskId: `s${ctx.stage}-sample`,
    attempt: 1,
    stage: ctx.stage,
    log: createLogger({ jobId: ctx.jobId, taskId: `s${ctx.stage}-sample` }),
  };
  const splits = mapInputs.flatMap((mi) => mi.splits);
  if (input.format === 'parquet') {
    // Loaded only here: the Parquet reader is most of what the driver would otherwise import.
    const { sampleParquet } = await import('./sample-parquet.js');
    const sampled = await sampleParquet(splits, input.columns, count);
    const keys: unknown[] = [];
    for (const { split, records } of sampled)
      keys.push(...(await keysOf(stage, records, mapContext(taskCtx, split))));
    return { records: sampled.reduce((n, b) => n + b.records.length, 0), keys };
  }
  const probes = await placeProbes(splits, count);
  const limit = pLimit(PROBES_IN_FLIGHT);
  const found = await Promise.all(probes.map((p) => limit(() => readProbe(stage, input, p, taskCtx))));
  return {
    records: found.reduce((n, f) => n + f.records, 0),
    keys: found.flatMap((f) => f.keys),
  };
}

/**
 * Spreads probes evenly over the splits' bytes: probe i of P reads at byte (i + 1/2) / P of the
 * whole, up to PROBE_BYTES or the next probe. Probes falling in an object that may be compressed
 * become one probe at its start taking as many records as they would have.
 */
async function placeProbes(splits: readonly Split[], count: number): Promise<Probe[]> {
  const total = splits.reduce((n, s) => n + (s.end - s.start), 0);
  if (total === 0 || count < 1) return [];
  const probeCount = Math.max(1, Math.ceil(count / RECORDS_PER_PROBE));
  const perProbe = Math.ceil(count / probeCount);
  const bySplit = new Map<Split, number[]>();
  let splitIndex = 0;
  let splitFrom = 0; // byte of the whole at which splits[splitIndex] begins
  for (let i = 0; i < probeCount; i++) {
    const byte = Math.floor(((i + 0.5) * total) / probeCount);
    for (;;) {
      const s = splits[splitIndex] as Split;
      if (byte < splitFrom + (s.end - s.start)) break;
      splitFrom += s.end - s.start;
      splitIndex++;
    }
    const split = splits[splitIndex] as Split;
    const at = split.start + (byte - splitFrom);
    bySplit.set(split, [...(bySplit.get(split) ?? []), at]);
  }
  const probes: Probe[] = [];
  for (const [split, offsets] of bySplit) {
    if (!(await enterable(split))) {
      probes.push({ split, range: split, records: perProbe * offsets.length });
      continue;
    }
    // Each window ends where the next begins, so no record is sampled twice, however small the input.
    const starts = [...new Set(offsets)];
    for (const [j, at] of starts.entries()) {
      const range = {
        ...split,
        start: at,
        end: Math.min(split.end, at + PROBE_BYTES, starts[j + 1] ?? at + PROBE_BYTES),
      };
      probes.push({ split, range, records: perProbe });
    }
  }
  return probes;
}

/**
 * Whether records can be read from the middle of a split: planning cuts only plain objects into
 * byte ranges, and for an object that is one split its name or first bytes say.
 */
async function enterable(split: Split): Promise<boolean> {
  if (split.compression !== undefined || compressionByName(split.key) !== undefined) return false;
  if (split.start > 0 || split.end < split.size) return true;
  if (split.size <= PROBE_BYTES) return false; // read from its start anyway
  const expected = split.etag === undefined ? { size: split.size } : { size: split.size, etag: split.etag };
  const head = await openStore(split.store).get(split.key, { start: 0, end: SNIFF_BYTES }, expected);
  return compressionOf(split.key, head) === undefined;
}

/** Reads one probe's records and maps them, collecting the keys emitted. */
async function readProbe(
  stage: StageDefinition,
  input: InputSpec,
  probe: Probe,
  ctx: TaskContext,
): Promise<KeySample> {
  const { split, range } = probe;
  const store = openStore(split.store);
  const csvHeader = input.format === 'csv' && input.header === true;
  let parse: RecordParser | undefined;
  try {
    parse = await parserFor(input, store, split);
  } catch (err) {
    // A header that cannot be parsed fails every map task of its file, which says where.
    if (err instanceof BadRecordError) return { records: 0, keys: [] };
    throw err;
  }
  let skipHeader = csvHeader && range.start === 0;
  const mapCtx = mapContext(ctx, split);
  const keys: unknown[] = [];
  const emit = (key: unknown) => {
    keys.push(key);
  };
  let records = 0;
  for await (const lines of readLines(store, range)) {
    for (const line of lines) {
      if (skipHeader) {
        skipHeader = false;
        continue;
      }
      const record = parseOrSkip(parse, line);
      if (record === undefined) continue;
      records++;
      const before = keys.length;
      try {
        const r = stage.map(record as never, emit as never, mapCtx);
        if (isThenable(r)) await r;
      } catch {
        keys.length = before; // the map task will fail on it, with its file and line
      }
      if (records >= probe.records) return { records, keys };
    }
  }
  return { records, keys };
}

/** The keys `map` emits for decoded records; a record it throws on gives none, as in readProbe. */
async function keysOf(
  stage: StageDefinition,
  records: readonly unknown[],
  ctx: MapContext,
): Promise<unknown[]> {
  const keys: unknown[] = [];
  const emit = (key: unknown) => {
    keys.push(key);
  };
  for (const record of records) {
    const before = keys.length;
    try {
      const r = stage.map(record as never, emit as never, ctx);
      if (isThenable(r)) await r;
    } catch {
      keys.length = before; // the map task will fail on it, with its file and row
    }
  }
  return keys;
}

/** The format's parser (none for text); a csv header is read from its file's first line. */
async function parserFor(
  input: InputSpec,
  store: ObjectStore,
  split: Split,
): Promise<RecordParser | undefined> {
  if (input.format === 'text') return undefined;
  const header = input.format === 'csv' && input.header ? await readFirstLine(store, split) : undefined;
  return recordParser(input, header);
}

function parseOrSkip(parse: RecordParser | undefined, line: string): unknown {
  if (parse === undefined) return line;
  try {
    return parse(line);
  } catch (err) {
    if (err instanceof BadRecordError) return undefined;
    throw err;
  }
}
