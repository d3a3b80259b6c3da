import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/duration.js';
import { UsageError } from '../../src/errors.js';

describe('parseDuration', () => {
  it.each([
    ['900', 900_000],
    ['90s', 90_000],
    ['15m', 900_000],
    ['15min', 900_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    [' 2 S ', 2000],
  ])('%j is %i ms', (text, ms) => {
    expect(parseDuration(text, '--task-timeout')).toBe(ms);
  });

  it.each(['', 'soon', '10x', '-5s', '0', '0.0001ms'])('rejects %j naming the flag', (text) => {
    expect(() => parseDuration(text, '--task-timeout')).toThrow(UsageError);
    expect(() => parseDuration(text, '--task-timeout')).toThrow(/--task-timeout/);
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850 ms'],
    [4200, '4.2 s'],
    [95_000, '95 s'],
    [840_000, '14 min'],
    [870_000, '14.5 min'],
  ])('%i ms reads %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
