import { describe, expect, it } from 'vitest';
import { parseCount, parseSize } from '../../../src/cli/parse-size.js';
import { UsageError } from '../../../src/errors.js';

describe('parseSize', () => {
  it.each([
    ['1048576', 1048576],
    ['64MiB', 64 * 1024 * 1024],
    ['4KiB', 4096],
    ['4kib', 4096],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['10MB', 10_000_000],
    ['7B', 7],
    [' 2 MiB ', 2 * 1024 * 1024],
  ])('%j is %i bytes', (text, bytes) => {
    expect(parseSize(text, '--split-size')).toBe(bytes);
  });

  it.each(['', 'abc', '12XB', '-5', '0', '1e6', 'MiB'])('rejects %j naming the flag', (text) => {
    expect(() => parseSize(text, '--split-size')).toThrow(UsageError);
    expect(() => parseSize(text, '--split-size')).toThrow(/--split-size/);
  });
});

describe('parseCount', () => {
  it('accepts positive whole numbers only', () => {
    expect(parseCount('8', '--concurrency')).toBe(8);
    for (const bad of ['0', '-1', '2.5', 'x', ''])
      expect(() => parseCount(bad, '--concurrency')).toThrow(/--concurrency/);
  });
});
