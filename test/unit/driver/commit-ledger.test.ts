import { describe, expect, it } from 'vitest';
import { CommitLedger } from '../../../src/driver/commit-ledger.js';

describe('CommitLedger', () => {
  it('commits the first successful attempt of a task and refuses later ones', () => {
    const ledger = new CommitLedger<string>();
    expect(ledger.commit('m1', 2, 'second attempt')).toBe(true);
    expect(ledger.commit('m1', 1, 'slow first attempt')).toBe(false);
    expect(ledger.commit('m1', 3, 'duplicate')).toBe(false);
    expect(ledger.results()).toEqual([{ taskId: 'm1', attempt: 2, result: 'second attempt' }]);
  });

  it('lists committed tasks in task id order', () => {
    const ledger = new CommitLedger<number>();
    for (const id of ['m3', 'm1', 'm2']) ledger.commit(id, 1, Number(id.slice(1)));
    expect(ledger.results().map((r) => r.taskId)).toEqual(['m1', 'm2', 'm3']);
    expect(ledger.size).toBe(3);
  });
});
