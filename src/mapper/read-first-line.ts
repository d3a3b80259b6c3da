import type { Split } from '../protocol/task-types.js';
import type { ObjectStore } from '../store/object-store.js';
import { readLines } from './read-lines.js';

/**
 * The first line of a split's object (a CSV header), read from byte 0 whichever split asks. A split
 * at byte 0 is read as itself, as it may be a small compressed object that planning did not look
 * into (lineRuns refuses to decompress a split that does not cover its object).
 */
export async function readFirstLine(store: ObjectStore, split: Split): Promise<string> {
  const whole = split.start === 0 ? split : { ...split, start: 0, end: Math.min(1, split.size) };
  for await (const lines of readLines(store, whole)) return lines[0] ?? '';
  return '';
}
