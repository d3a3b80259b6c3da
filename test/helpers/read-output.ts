import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';

const PART_FILE = /^part-\d{5}\.jsonl$/;

/**
 * Reads a job's output directory into a map from `JSON.stringify(key)` to value. Fails the test
 * when `_SUCCESS` is missing, when there is no part file, or when a key appears twice (within one
 * part file or across two).
 */
export async function readOutput(dir: string): Promise<Map<string, unknown>> {
  await expect(access(join(dir, '_SUCCESS')), `${dir}/_SUCCESS must exist`).resolves.toBeUndefined();
  const parts = (await readdir(dir)).filter((name) => PART_FILE.test(name)).sort();
  expect(parts.length, `part files in ${dir}`).toBeGreaterThan(0);
  const out = new Map<string, unknown>();
  for (const part of parts) {
    const text = await readFile(join(dir, part), 'utf8');
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const record = JSON.parse(line) as { key: unknown; value: unknown };
      expect(Object.keys(record).sort(), `fields of a record in ${part}`).toEqual(['key', 'value']);
      const id = JSON.stringify(record.key);
      expect(out.has(id), `key ${id} appears twice (again in ${part})`).toBe(false);
      out.set(id, record.value);
    }
  }
  return out;
}
