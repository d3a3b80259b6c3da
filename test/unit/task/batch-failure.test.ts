import { describe, expect, it } from 'vitest';
import { batchFailure, failedRecords, NO_REASON, reasonOf } from '../../../src/task/batch-failure.js';
import { makeRecord } from '../../../src/task/stream-record.js';

const batch = ['100', '101', '102', '103'].map((sequenceNumber) =>
  makeRecord({
    shardId: 's0',
    sequenceNumber,
    partitionKey: 'k',
    data: new Uint8Array(),
    arrivedAt: new Date(),
  }),
);
const reasons = (returned: unknown) => {
  const f = batchFailure(batch, { returned });
  return f && { from: f.from, reasons: Object.fromEntries(f.reasons) };
};
const all = (reason: string) => Object.fromEntries(batch.map((r) => [r.sequenceNumber, reason]));

describe('batchFailure', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a value that is not an object', 42],
    ['an object without failed', { ok: true }],
    ['an empty list', { failed: [] }],
  ])('counts %s as success', (_what, returned) => {
    expect(batchFailure(batch, { returned })).toBeUndefined();
  });

  it('fails from the lowest entry of the plain list, saying no reason was given', () => {
    expect(reasons({ failed: ['103', '101'] })).toEqual({
      from: 1,
      reasons: { '101': NO_REASON, '103': NO_REASON },
    });
  });

  it('takes the reason of each entry given as { sequenceNumber, error }, mixed with plain ones', () => {
    expect(reasons({ failed: [{ sequenceNumber: '102', error: 'bad price' }, '103'] })).toEqual({
      from: 2,
      reasons: { '102': 'bad price', '103': NO_REASON },
    });
    expect(
      reasons({ failed: [{ sequenceNumber: '102', error: new Error('as an Error') }] })?.reasons,
    ).toEqual({
      '102': 'as an Error',
    });
  });

  it('fails the whole batch for a sequence number that is not in it', () => {
    expect(reasons({ failed: ['101', '999'] })).toEqual({
      from: 0,
      reasons: all(
        'process reported sequence number 999, which is not in this batch: the whole batch failed',
      ),
    });
  });

  it.each([
    [{ failed: [''] }, 'process reported "", not a sequence number: the whole batch failed'],
    [{ failed: [7] }, 'process reported 7, not a sequence number: the whole batch failed'],
    [
      { failed: [{ error: 'x' }] },
      'process reported {"error":"x"}, not a sequence number: the whole batch failed',
    ],
    [{ failed: '101' }, 'process returned failed: "101", not a list: the whole batch failed'],
  ])('fails the whole batch for the malformed %j', (returned, reason) => {
    expect(reasons(returned)).toEqual({ from: 0, reasons: all(reason) });
  });

  it('fails every record with the message of what was thrown', () => {
    expect(Object.fromEntries(batchFailure(batch, { threw: new Error('boom') }).reasons)).toEqual(
      all('boom'),
    );
  });

  it('gives a record held back by an earlier failure that one reason', () => {
    const f = batchFailure(batch, { returned: { failed: [{ sequenceNumber: '101', error: 'bad' }] } });
    expect(f && reasonOf(f, batch, batch[3] as (typeof batch)[number])).toBe(
      'held back by record 101 before it, which failed: bad',
    );
  });

  it('reads its own plain-data form back as the same failure', () => {
    for (const returned of [
      { failed: ['102'] },
      { failed: ['999'] },
      { failed: [{ sequenceNumber: '101', error: 'e' }] },
    ]) {
      const f = batchFailure(batch, { returned });
      expect(f && batchFailure(batch, { returned: { failed: failedRecords(f) } })).toEqual(f);
    }
  });
});
