import { describe, expect, it } from 'vitest';
import { JobDefinitionError } from '../../../src/errors.js';
import { countTokens, defineJob, emitSum, sum } from '../../../src/index.js';

describe('built-in job functions', () => {
  it('work as ordinary functions', () => {
    const emitted: [string, number][] = [];
    countTokens(' a\tb  a\u00a0c\u3000', (k, v) => emitted.push([k, v]));
    expect(emitted).toEqual([
      ['a', 1],
      ['b', 1],
      ['a', 1],
      ['c', 1],
    ]);
    expect(sum('k', [1, 2, 3.5])).toBe(6.5);
    const out: [string, number][] = [];
    emitSum('k', new Set([1, 2, 4]), (k, v) => out.push([k, v]));
    expect(out).toEqual([['k', 7]]);
  });

  it('refuse countTokens on a stage that does not read text lines, naming the stage', () => {
    const reduce = emitSum;
    expect(() =>
      defineJob({ name: 'j', input: { format: 'csv' }, map: countTokens as never, reduce }),
    ).toThrow(new JobDefinitionError('job j: countTokens maps text lines, but this stage reads csv records'));
    expect(() =>
      defineJob({
        name: 'two',
        input: { format: 'text' },
        stages: [
          { map: countTokens, combine: sum, reduce },
          { map: countTokens as never, reduce },
        ],
      }),
    ).toThrow(
      /job two stage 1: countTokens maps text lines, but this stage reads the records of the stage before/,
    );
    expect(() => defineJob({ name: 'ok', map: countTokens, combine: sum, reduce })).not.toThrow();
  });
});
