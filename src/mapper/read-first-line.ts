import type { ObjectStore } from '../backends/object-store.js';
import type { Split } from '../driver/plan-splits.js';
import { readLines } from './read-lines.js';

/** The first line of a split's object (a CSV header), read from byte 0 whichever split asks. */
export async function readFirstLine(store: ObjectStore, split: Split): Promise<string> {
  const whole = { ...split, start: 0, end: Math.min(1, split.size) };
  for await (const lines of readLines(store, whole)) return lines[0] ?? '';
  return '';
}
