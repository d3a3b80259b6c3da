import { describe, expect, it } from 'vitest';
import { parseCount, parseCountList, parseSize } from '../../../src/cli/parse-size.js';
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

describe('parseCount with a minimum', () => {
  it('accepts whole numbers from the minimum, naming it when refusing', () => {
    expect(parseCount('0', '--warmup', 0)).toBe(0);
    expect(() => parseCount('64', '--memory', 128)).toThrow(
      /--memory: expected a whole number of at least 128/,
    );
  });
});

describe('parseCountList', () => {
  it('reads distinct positive whole numbers, in the order given', () => {
    expect(parseCountList('1,2,4,8', '--concurrency')).toEqual([1, 2, 4, 8]);
    expect(parseCountList(' 4, 1 ', '--concurrency')).toEqual([4, 1]);
  });

  it.each([
    ['', /--concurrency needs a list of numbers/],
    [' , ', /--concurrency needs a list of numbers/],
    ['1,,2', /empty entry in --concurrency/],
    ['1,x', /invalid value "x" for --concurrency/],
    ['0', /invalid value "0" for --concurrency/],
    ['2.5', /invalid value "2.5" for --concurrency/],
    ['2,1,2', /--concurrency lists 2 twice/],
  ])('rejects %j', (text, message) => {
    expect(() => parseCountList(text, '--concurrency')).toThrow(UsageError);
    expect(() => parseCountList(text, '--concurrency')).toThrow(message);
  });
});
