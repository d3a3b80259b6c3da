import { describe, expect, it } from 'vitest';
import { describeDifference, fingerprintOutput, sameOutput } from '../../../src/bench/output-fingerprint.js';
import type { ObjectStore } from '../../../src/store/object-store.js';

/** A store holding part files whose bytes stream in chunks of `chunk` bytes. */
function parts(files: Record<string, string>, chunk = 3): ObjectStore {
  return {
    async *stream(key: string) {
      const bytes = new TextEncoder().encode(files[key] ?? '');
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    },
  } as unknown as ObjectStore;
}

const print = (files: Record<string, string>, chunk?: number) =>
  fingerprintOutput(parts(files, chunk), Object.keys(files));

describe('fingerprintOutput', () => {
  const lines = ['{"key":"a","value":3}', '{"key":"b","value":1}', '{"key":"ü","value":2}'];

  it('is the same for the same lines in any order, part and chunking', async () => {
    const a = await print({ 'part-00000.jsonl': `${lines.join('\n')}\n` }, 1);
    const b = await print(
      {
        'part-00000.jsonl': `${lines[2]}\n`,
        'part-00001.jsonl': '',
        'part-00002.jsonl': `${lines[1]}\n${lines[0]}`,
      },
      7,
    );
    expect(a).toEqual(b);
    expect(a).toMatchObject({ lines: 3, bytes: new TextEncoder().encode(lines.join('')).length });
    expect(sameOutput(a, b)).toBe(true);
  });

  it('differs for another value, a missing or a repeated line', async () => {
    const base = await print({ p: `${lines.join('\n')}\n` });
    const changed = await print({ p: `${lines.join('\n').replace('"value":3', '"value":4')}\n` });
    const fewer = await print({ p: `${lines.slice(1).join('\n')}\n` });
    const twice = await print({ p: `${lines.join('\n')}\n`, q: `${lines[0]}\n` });
    for (const other of [changed, fewer, twice]) expect(sameOutput(base, other)).toBe(false);
    expect(describeDifference(base, fewer)).toBe('3 vs 2 lines');
    expect(describeDifference(base, changed)).toBe('3 lines and 64 bytes each, but not the same lines');
  });

  it('counts a last line without a newline, and lines moved between parts', async () => {
    const one = await print({ p: 'x\ny\n', q: 'z\n' });
    const two = await print({ p: 'z\nx\n', q: 'y' });
    expect(sameOutput(one, two)).toBe(true);
  });
});
