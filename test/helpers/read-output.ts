import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';

const PART_FILE = /^part-\d{5}\.jsonl$/;
/** A map-only stage's part files. */
const MAP_PART_FILE = /^part-m-\d{5}\.jsonl$/;

/** How to read the records of a map-only job's output: keyed by this field of each record. */
export interface ReadRecords {
  records: string;
}

/**
 * Reads a job's output directory into a map from `JSON.stringify(key)` to value. Fails the test
 * when `_SUCCESS` is missing, when there is no part file, or when a key appears twice (within one
 * part file or across two). With `read.records`, reads a map-only job's part files instead, each
 * record whole, keyed by that field of it.
 */
export async function readOutput(dir: string, read?: ReadRecords): Promise<Map<string, unknown>> {
  await expect(access(join(dir, '_SUCCESS')), `${dir}/_SUCCESS must exist`).resolves.toBeUndefined();
  const pattern = read ? MAP_PART_FILE : PART_FILE;
  const parts = (await readdir(dir)).filter((name) => pattern.test(name)).sort();
  expect(parts.length, `part files in ${dir}`).toBeGreaterThan(0);
  const out = new Map<string, unknown>();
  for (const part of parts) {
    const text = await readFile(join(dir, part), 'utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const record = JSON.parse(line) as Record<string, unknown>;
      if (!read)
        expect(Object.keys(record).sort(), `fields of a record in ${part}`).toEqual(['key', 'value']);
      const id = JSON.stringify(read ? record[read.records] : record.key);
      expect(out.has(id), `key ${id} appears twice (again in ${part})`).toBe(false);
      out.set(id, read ? record : record.value);
    }
  }
  return out;
}
