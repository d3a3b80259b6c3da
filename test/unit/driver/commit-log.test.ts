import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CommitLog,
  type CommitRecord,
  MAX_RECORDS_PER_WRITE,
  mergeCommits,
} from '../../../src/driver/commit-log.js';

/** A write that stays in flight until `finish` is called, recording what each write held. */
function heldWrites() {
  const writes: { ids: string[]; seq: number; finish(err?: Error): void }[] = [];
  const write = (records: CommitRecord[], seq: number) =>
    new Promise<void>((resolve, reject) => {
      writes.push({
        ids: records.map((r) => r.taskId),
        seq,
        finish: (err) => (err ? reject(err) : resolve()),
      });
    });
  return { writes, write };
}

const record = (taskId: string, attempt = 1): CommitRecord => ({ taskId, attempt, result: { taskId } });
const settled = (p: Promise<void>) => {
  const state = { done: false, failed: undefined as unknown };
  p.then(
    () => {
      state.done = true;
    },
    (err: unknown) => {
      state.failed = err;
    },
  );
  return state;
};
const tick = () => new Promise((r) => setImmediate(r));

describe('CommitLog', () => {
  it('writes a record at once when no write is in flight, and those that come meanwhile together next', async () => {
    const { writes, write } = heldWrites();
    const log = new CommitLog(write);
    const a = settled(log.add(record('m1')));
    await tick();
    expect(writes.map((w) => w.ids)).toEqual([['m1']]);
    const b = settled(log.add(record('m2')));
    const c = settled(log.add(record('m3')));
    await tick();
    // Nothing resolves before its own write is stored.
    expect([a.done, b.done, c.done]).toEqual([false, false, false]);
    writes[0]?.finish();
    await tick();
    expect(a.done).toBe(true);
    expect([b.done, c.done]).toEqual([false, false]);
    expect(writes.map((w) => [w.seq, w.ids])).toEqual([
      [0, ['m1']],
      [1, ['m2', 'm3']],
    ]);
    writes[1]?.finish();
    await tick();
    expect([b.done, c.done]).toEqual([true, true]);
    // Idle again: the next record goes out alone, at once.
    void log.add(record('m4'));
    await tick();
    expect(writes.map((w) => w.ids).at(-1)).toEqual(['m4']);
  });

  it('fails the records of a failed write only, and goes on writing', async () => {
    const { writes, write } = heldWrites();
    const log = new CommitLog(write);
    const a = settled(log.add(record('m1')));
    await tick();
    const b = settled(log.add(record('m2')));
    const boom = new Error('disk full');
    writes[0]?.finish(boom);
    await tick();
    expect(a.failed).toBe(boom);
    writes[1]?.finish();
    await tick();
    expect(b.done).toBe(true);
    expect(b.failed).toBeUndefined();
  });

  it(`holds at most ${MAX_RECORDS_PER_WRITE} records per write`, async () => {
    const { writes, write } = heldWrites();
    const log = new CommitLog(write);
    void log.add(record('first'));
    for (let i = 0; i < MAX_RECORDS_PER_WRITE + 5; i++) void log.add(record(`m${i}`));
    await tick();
    writes[0]?.finish();
    await tick();
    writes[1]?.finish();
    await tick();
    expect(writes.map((w) => w.ids.length)).toEqual([1, MAX_RECORDS_PER_WRITE, 5]);
  });
});

describe('CommitLog with a least interval between writes', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the first record at once and those that follow within the interval together when it ends', async () => {
    vi.useFakeTimers();
    const { writes, write } = heldWrites();
    const log = new CommitLog(write, 25);
    const a = settled(log.add(record('m1')));
    await vi.advanceTimersByTimeAsync(0);
    expect(writes.map((w) => w.ids)).toEqual([['m1']]);
    writes[0]?.finish();
    await vi.advanceTimersByTimeAsync(1);
    expect(a.done).toBe(true);
    // No write in flight, but one started 1 ms ago: these wait for the interval to end.
    const b = settled(log.add(record('m2')));
    void log.add(record('m3'));
    await vi.advanceTimersByTimeAsync(20);
    expect(writes).toHaveLength(1);
    expect(b.done).toBe(false);
    await vi.advanceTimersByTimeAsync(5);
    expect(writes.map((w) => w.ids)).toEqual([['m1'], ['m2', 'm3']]);
    writes[1]?.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(b.done).toBe(true);
    // Long after the last write, a record goes out at once again.
    await vi.advanceTimersByTimeAsync(100);
    void log.add(record('m4'));
    await vi.advanceTimersByTimeAsync(0);
    expect(writes.map((w) => w.ids).at(-1)).toEqual(['m4']);
  });
});

describe('mergeCommits', () => {
  it('reads grouped records and the one-record objects of earlier runs, keeping each task once', () => {
    const merged = mergeCommits([
      { commits: [record('m1'), record('m2')] },
      // Written by a run before commit records were grouped: one object per task.
      record('m3'),
      { commits: [record('m4', 2)] },
    ]);
    expect([...merged.keys()].sort()).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(merged.get('m4')).toEqual({ attempt: 2, result: { taskId: 'm4' } });
  });

  it('keeps the highest attempt of a task recorded twice, in whatever order the objects list', () => {
    const later = { taskId: 'm1', attempt: 1001, result: 'rerun' };
    const earlier = { taskId: 'm1', attempt: 3, result: 'first' };
    expect(mergeCommits([{ commits: [later] }, { commits: [earlier] }]).get('m1')).toEqual({
      attempt: 1001,
      result: 'rerun',
    });
    expect(mergeCommits([earlier, { commits: [later] }]).get('m1')?.result).toBe('rerun');
  });
});
