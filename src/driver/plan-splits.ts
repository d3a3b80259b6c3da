import { compressionByName } from '../job/input-compression.js';
import type { Split } from '../protocol/task-types.js';
import { objectName } from '../store/object-name.js';
import { ASSUMED_RATIO } from './estimate-sizes.js';
import type { InputObject } from './list-inputs.js';

/** The input of one map task: one large split, or many small objects packed together. */
export interface MapInput {
  splits: Split[];
  /** Bytes stored (compressed objects at their compressed size). */
  bytes: number;
}

/**
 * Most small objects packed into one task: each split travels in the invocation payload (about 170
 * bytes with its ETag), so this keeps a task well under 100 KiB however many tiny files an input holds.
 */
export const MAX_SPLITS_PER_TASK = 500;

/**
 * Cuts one object into splits of at most `splitSize` bytes. A compressed object (by what its first
 * bytes showed, see sniffCompression, or by its name) and an empty one are one split.
 */
export function splitObject(o: InputObject, splitSize: number): Split[] {
  const compression = o.compression ?? compressionByName(o.key);
  const etag = o.etag === undefined ? {} : { etag: o.etag };
  const whole = compression === undefined ? {} : { compression };
  if (compression !== undefined || o.size <= splitSize)
    return [{ store: o.store, key: o.key, start: 0, end: o.size, size: o.size, ...whole, ...etag }];
  const splits: Split[] = [];
  for (let start = 0; start < o.size; start += splitSize) {
    splits.push({
      store: o.store,
      key: o.key,
      start,
      end: Math.min(o.size, start + splitSize),
      size: o.size,
      ...etag,
    });
  }
  return splits;
}

/**
 * What a split weighs when tasks are packed: its bytes, or for a compressed object (one split) the
 * bytes it decompresses to, as estimated (see estimateSizes) or taken to be ASSUMED_RATIO times its
 * size. A task's work is the text it reads: packed by compressed size, four 10 MB gzip files of
 * 40 MB of text were one task at the default split size, for one core.
 */
function weightOf(o: InputObject, split: Split): number {
  const bytes = split.end - split.start;
  if (split.compression === undefined) return bytes;
  return o.uncompressedSize ?? bytes * ASSUMED_RATIO;
}

/**
 * Plans the map tasks of a stage: large objects become one task per split; splits smaller than
 * `splitSize` are packed together, in order, until a task holds about `splitSize` bytes (or
 * MAX_SPLITS_PER_TASK splits), so a folder of ten thousand small files does not become ten thousand
 * invocations. A compressed object counts by its uncompressed size (see weightOf).
 */
export function planMapInputs(objects: readonly InputObject[], splitSize: number): MapInput[] {
  const tasks: MapInput[] = [];
  let pack: MapInput | undefined;
  let packed = 0;
  for (const o of objects) {
    for (const split of splitObject(o, splitSize)) {
      const bytes = split.end - split.start;
      const weight = weightOf(o, split);
      if (weight >= splitSize) {
        tasks.push({ splits: [split], bytes });
        continue;
      }
      if (pack && (packed + weight > splitSize || pack.splits.length >= MAX_SPLITS_PER_TASK))
        pack = undefined;
      if (!pack) {
        pack = { splits: [], bytes: 0 };
        packed = 0;
        tasks.push(pack);
      }
      pack.splits.push(split);
      pack.bytes += bytes;
      packed += weight;
    }
  }
  return tasks;
}

/** How a task's input is named in messages: `data/a.txt[0, 1024)`, or a count when packed. */
export function describeInput(input: MapInput): string {
  const first = input.splits[0];
  if (!first) return '(no input)';
  const one = `${objectName(first)}[${first.start}, ${first.end})`;
  return input.splits.length === 1 ? one : `${one} and ${input.splits.length - 1} more small files`;
}
