import { describe, expect, it } from 'vitest';
import { BadRecordBudget } from '../../../src/driver/bad-record-budget.js';
import { TooManyBadRecordsError } from '../../../src/errors.js';
import type { MapResult } from '../../../src/protocol/task-types.js';

const skipped = (count: number, first: string): MapResult => ({
  kind: 'map',
  shuffleKey: 'k',
  slices: [],
  metrics: { inputBytes: 0, inputRecords: 0, outputRecords: 0, outputBytes: 0, spills: 0, ms: 0 },
  ...(count > 0 && { badRecords: { count, first, key: `_temporary/_bad_records/${first}.jsonl` } }),
});

describe('BadRecordBudget', () => {
  it('allows up to the limit over all tasks', () => {
    const budget = new BadRecordBudget(4);
    const tasks = [
      ['s0-m00001', 2],
      ['s0-m00000', 0],
      ['s0-m00002', 2],
    ] as const;
    expect(() => {
      for (const [task, n] of tasks) budget.add(task, skipped(n, `${task} line 1`));
    }).not.toThrow();
  });

  it('fails once the tasks together pass it, naming the total, the limit and the first by task', () => {
    const budget = new BadRecordBudget(2);
    budget.add('s0-m00002', skipped(1, 'c.jsonl line 3: bad'));
    budget.add('s0-m00000', skipped(1, 'a.jsonl line 1: bad'));
    expect(() => budget.add('s0-m00001', skipped(1, 'b.jsonl line 2: bad'))).toThrow(TooManyBadRecordsError);
    expect(() => budget.add('s0-m00003', skipped(1, 'd.jsonl line 9: bad'))).toThrow(
      '4 bad records, more than maxBadRecords (2) allows; the first: a.jsonl line 1: bad',
    );
  });
});
