import { describe, expect, it } from 'vitest';
import { JobDefinitionError } from '../../../src/errors.js';
import { countTokens } from '../../../src/job/builtins.js';
import { defineJob } from '../../../src/job/define-job.js';
import type { InputSpec } from '../../../src/job/types.js';

const jobWith = (input: unknown) =>
  defineJob({
    name: 'j',
    input: input as InputSpec,
    map() {},
    reduce() {},
  });

describe('defineJob: input.onBadRecord', () => {
  it('keeps the default, failing on a bad record, without fields', () => {
    expect(jobWith({ format: 'jsonl' }).input).toEqual({ format: 'jsonl' });
    expect(jobWith({ format: 'jsonl', onBadRecord: 'fail' }).input).toEqual({ format: 'jsonl' });
  });

  it.each([
    [{ format: 'jsonl', onBadRecord: 'skip', maxBadRecords: 5 }],
    [{ format: 'jsonl', onBadRecord: 'skip', maxBadRecords: 0 }],
    [{ format: 'csv', delimiter: ';', header: true, onBadRecord: 'skip', maxBadRecords: 100 }],
  ])('keeps skip with its limit: %j', (input) => {
    expect(jobWith(input).input).toEqual(input);
  });

  it.each([
    [
      { format: 'jsonl', onBadRecord: 'skip' },
      "input.maxBadRecords must be a non-negative integer with onBadRecord: 'skip', got undefined",
    ],
    [{ format: 'jsonl', onBadRecord: 'skip', maxBadRecords: -1 }, 'got -1'],
    [{ format: 'jsonl', onBadRecord: 'skip', maxBadRecords: 2.5 }, 'got 2.5'],
    [{ format: 'jsonl', onBadRecord: 'skip', maxBadRecords: Number.POSITIVE_INFINITY }, 'got Infinity'],
    [{ format: 'jsonl', onBadRecord: 'skip', maxBadRecords: '5' }, 'got "5"'],
    [{ format: 'jsonl', onBadRecord: 'drop' }, `input.onBadRecord must be 'fail' or 'skip', got "drop"`],
    [
      { format: 'jsonl', maxBadRecords: 5 },
      "input.maxBadRecords applies only with onBadRecord: 'skip', got onBadRecord undefined",
    ],
    [{ format: 'csv', onBadRecord: 'fail', maxBadRecords: 5 }, 'got onBadRecord "fail"'],
  ])('refuses %j in one line showing the value', (input, message) => {
    expect(() => jobWith(input)).toThrow(JobDefinitionError);
    expect(() => jobWith(input)).toThrow(message);
    expect(() => jobWith(input)).toThrow(/^job j: input\.\S+ [^\n]*$/);
  });
});

describe('defineJob: parquet input', () => {
  it('keeps the columns named, and none when none are', () => {
    expect(jobWith({ format: 'parquet', columns: ['country', 'amount'] }).input).toEqual({
      format: 'parquet',
      columns: ['country', 'amount'],
    });
    expect(jobWith({ format: 'parquet' }).input).toEqual({ format: 'parquet' });
  });

  it.each([
    [[], 'parquet columns must be a non-empty array of column names, got []'],
    [[0, 3], 'parquet columns must be a non-empty array of column names, got [0,3]'],
    [['a', ''], 'parquet columns must be a non-empty array of column names, got ["a",""]'],
    ['a', 'parquet columns must be a non-empty array of column names, got "a"'],
    [['a', 'b', 'a'], 'parquet columns name a column twice: ["a","b","a"]'],
  ])('refuses columns %j', (columns, message) => {
    expect(() => jobWith({ format: 'parquet', columns })).toThrow(
      new JobDefinitionError(`job j: ${message}`),
    );
  });

  it('refuses to skip bad records, in one line saying why', () => {
    expect(() => jobWith({ format: 'parquet', onBadRecord: 'skip', maxBadRecords: 3 })).toThrow(
      new JobDefinitionError(
        "job j: onBadRecord: 'skip' does not apply to parquet input: a Parquet file has no bad lines to skip",
      ),
    );
  });

  it('refuses the built-in countTokens, which maps text lines', () => {
    expect(() =>
      defineJob({ name: 'j', input: { format: 'parquet' }, map: countTokens as never, reduce() {} }),
    ).toThrow(/countTokens maps text lines, but this stage reads parquet records/);
  });
});
