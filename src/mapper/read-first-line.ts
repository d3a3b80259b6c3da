import type { Split } from '../protocol/task-types.js';
import type { ObjectStore } from '../store/object-store.js';
import { readLines } from './read-lines.js';

/** The first line of a split's object (a CSV header), read from byte 0 whichever split asks. */
export async function readFirstLine(store: ObjectStore, split: Split): Promise<string> {
  const whole = { ...split, start: 0, end: Math.min(1, split.size) };
  for await (const lines of readLines(store, whole)) return lines[0] ?? '';
  return '';
}
