import { describe, expect, it } from 'vitest';
import { BadRecordError, UserCodeError } from '../../../src/errors.js';
import { atLine, describeLine } from '../../../src/mapper/record-position.js';
import type { Split } from '../../../src/protocol/task-types.js';

const split = (start: number): Split => ({
  store: 'file:///data/',
  key: 'in/a.csv',
  start,
  end: start + 100,
  size: 1000,
});

describe('describeLine', () => {
  it('gives the line number of the file for a split at byte 0', () => {
    expect(describeLine(split(0), 3)).toBe('/data/in/a.csv line 3');
  });

  it('counts from the split for a split that starts later', () => {
    expect(describeLine(split(67108864), 12)).toBe('/data/in/a.csv line 12 after byte 67108864');
  });
});

describe('atLine', () => {
  it('adds the file and line to a bad record, still a bad record', () => {
    const err = atLine(new BadRecordError('bad JSON line: x'), split(0), 2);
    expect(err).toBeInstanceOf(BadRecordError);
    expect(err).toMatchObject({ retryable: false, message: 'bad JSON line: x (/data/in/a.csv line 2)' });
  });

  it('leaves other errors as they are', () => {
    const err = new UserCodeError('map threw: boom');
    expect(atLine(err, split(0), 2)).toBe(err);
  });
});
