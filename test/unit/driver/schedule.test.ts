import { describe, expect, it } from 'vitest';
import type { Invoker } from '../../../src/backends/invoker.js';
import { AdaptiveConcurrency } from '../../../src/driver/adaptive-concurrency.js';
import { CommitLedger } from '../../../src/driver/commit-ledger.js';
import { runAll, type TaskSpec } from '../../../src/driver/schedule.js';
import {
  FanoutError,
  JobCancelledError,
  JobPausedError,
  TaskFailedError,
  ThrottledError,
} from '../../../src/errors.js';
import type { MapResult, Task, TaskResult } from '../../../src/protocol/task-types.js';

const result = (task: Task): MapResult => ({
  kind: 'map',
  shuffleKey: `${task.taskId}-a${task.attempt}`,
  slices: [],
  metrics: { inputBytes: 0, inputRecords: 0, outputRecords: 0, outputBytes: 0, spills: 0, ms: 0 },
});

/** An invoker whose behaviour per attempt a test decides. */
function fakeInvoker(
  behave: (task: Task, inFlight: number) => Promise<void> | void,
): Invoker & { calls: Task[] } {
  let inFlight = 0;
  const calls: Task[] = [];
  return {
    concurrency: 8,
    calls,
    async invoke(task: Task): Promise<TaskResult> {
      calls.push(task);
      inFlight++;
      try {
        await new Promise((r) => setTimeout(r, 2));
        await behave(task, inFlight);
        return result(task);
      } finally {
        inFlight--;
      }
    },
    async close() {},
  };
}

const specs = (n: number): TaskSpec[] =>
  Array.from({ length: n }, (_, i) => ({
    taskId: `t${String(i).padStart(3, '0')}`,
    describe: `input ${i}`,
    attempt: (a: number) => ({ kind: 'map', taskId: `t${String(i).padStart(3, '0')}`, attempt: a }) as Task,
  }));

describe('runAll', () => {
  it('retries a failed attempt and commits each task exactly once', async () => {
    const invoker = fakeInvoker((t) => {
      if (t.taskId === 't003' && t.attempt === 1) throw new FanoutError('flaky', { retryable: true });
    });
    const ledger = new CommitLedger<MapResult>();
    await runAll(specs(10), { invoker, concurrency: 4, maxAttempts: 3, ledger, retryBaseMs: 1 });
    expect(ledger.results().map((r) => `${r.taskId}@${r.attempt}`)).toContain('t003@2');
    expect(ledger.size).toBe(10);
  });

  it('fails at once on an error no retry can fix', async () => {
    const invoker = fakeInvoker((t) => {
      if (t.taskId === 't001') throw new FanoutError('bad input', { retryable: false });
    });
    const err = await runAll(specs(3), {
      invoker,
      concurrency: 1,
      maxAttempts: 5,
      ledger: new CommitLedger<MapResult>(),
      retryBaseMs: 1,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as Error).message).toBe('task t001 (input 1) failed after 1 attempt: bad input');
    expect(invoker.calls.filter((c) => c.taskId === 't002')).toEqual([]);
  });

  it('slows down under throttling, finishes every task once, and grows back', async () => {
    const cap = 3;
    const invoker = fakeInvoker((_t, inFlight) => {
      if (inFlight > cap) throw new ThrottledError('429 TooManyRequestsException', { retryable: true });
    });
    const ledger = new CommitLedger<MapResult>();
    const limits: number[] = [];
    await runAll(specs(120), {
      invoker,
      concurrency: 16,
      maxAttempts: 1, // throttles must not use up attempts
      ledger,
      retryBaseMs: 1,
      throttleCooldownMs: 5,
      onEvent: (e) => {
        if (e.type === 'concurrency') limits.push(e.limit);
      },
    });
    expect(ledger.size).toBe(120);
    expect(ledger.results().every((r) => r.attempt === 1)).toBe(true);
    expect(Math.min(...limits)).toBeLessThanOrEqual(cap);
    expect(limits.some((n, i) => i > 0 && n > (limits[i - 1] ?? n))).toBe(true);
  });

  it('tells an attempt invoked again after a throttle how often it was throttled', async () => {
    const invoker = fakeInvoker((t) => {
      if (t.taskId === 't001' && t.attempt === 1 && (t.throttled ?? 0) < 2)
        throw new ThrottledError('503 SlowDown', { retryable: true });
      if (t.taskId === 't001' && t.attempt === 1) throw new FanoutError('flaky', { retryable: true });
    });
    await runAll(specs(2), {
      invoker,
      concurrency: 2,
      maxAttempts: 2,
      ledger: new CommitLedger<MapResult>(),
      retryBaseMs: 1,
    });
    const calls = (id: string) => invoker.calls.filter((c) => c.taskId === id);
    // The count is the attempt's own: the next attempt starts unthrottled.
    expect(calls('t001').map((c) => [c.attempt, c.throttled])).toEqual([
      [1, undefined],
      [1, 1],
      [1, 2],
      [2, undefined],
    ]);
    expect(calls('t000').map((c) => 'throttled' in c)).toEqual([false]);
  });

  it('cancels: rejects with JobCancelledError and starts nothing more', async () => {
    const cancel = new AbortController();
    const invoker = fakeInvoker(async () => {
      await new Promise((r) => setTimeout(r, 10));
    });
    const run = runAll(specs(50), {
      invoker,
      concurrency: 2,
      maxAttempts: 1,
      ledger: new CommitLedger<MapResult>(),
      signal: cancel.signal,
    });
    setTimeout(() => cancel.abort(), 25);
    await expect(run).rejects.toBeInstanceOf(JobCancelledError);
    const started = invoker.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(invoker.calls.length).toBeLessThanOrEqual(started + 2);
    expect(started).toBeLessThan(20);
  });
});

describe('draining a phase', () => {
  it('starts nothing after the drain, lets the running attempts commit, then pauses', async () => {
    const drain = new AbortController();
    const release: (() => void)[] = [];
    const invoker = fakeInvoker(() => new Promise<void>((r) => release.push(r)));
    const ledger = new CommitLedger<MapResult>();
    const run = runAll(specs(10), { invoker, concurrency: 2, maxAttempts: 1, ledger, drain: drain.signal });
    while (release.length < 2) await new Promise((r) => setTimeout(r, 1));
    drain.abort();
    // The two running attempts finish after the drain and still commit.
    for (const r of release.splice(0)) r();
    await expect(run).rejects.toBeInstanceOf(JobPausedError);
    expect(invoker.calls).toHaveLength(2);
    expect(ledger.size).toBe(2);
  });

  it('does not retry a failed attempt once draining, and a phase drained at its start runs nothing', async () => {
    const drain = new AbortController();
    const invoker = fakeInvoker(async (t) => {
      drain.abort();
      if (t.taskId === 't000') throw new FanoutError('flaky', { retryable: true });
    });
    const ledger = new CommitLedger<MapResult>();
    await expect(
      runAll(specs(3), {
        invoker,
        concurrency: 1,
        maxAttempts: 3,
        ledger,
        retryBaseMs: 1,
        drain: drain.signal,
      }),
    ).rejects.toBeInstanceOf(JobPausedError);
    await new Promise((r) => setTimeout(r, 20));
    expect(invoker.calls.map((c) => `${c.taskId}#${c.attempt}`)).toEqual(['t000#1']);
    const idle = fakeInvoker(() => {});
    await expect(
      runAll(specs(3), {
        invoker: idle,
        concurrency: 1,
        maxAttempts: 1,
        ledger: new CommitLedger<MapResult>(),
        drain: drain.signal,
      }),
    ).rejects.toBeInstanceOf(JobPausedError);
    expect(idle.calls).toHaveLength(0);
    // With nothing left to run, a drained phase simply finishes.
    await runAll([], {
      invoker: idle,
      concurrency: 1,
      maxAttempts: 1,
      ledger: new CommitLedger<MapResult>(),
      drain: drain.signal,
    });
  });
});

describe('AdaptiveConcurrency', () => {
  it('halves on throttling once per cooldown and adds one back per window of successes', () => {
    const changes: number[] = [];
    const ac = new AdaptiveConcurrency(8, { cooldownMs: 100, onChange: (n) => changes.push(n) });
    ac.throttled(1000);
    ac.throttled(1050); // same burst: no second cut
    ac.throttled(1200);
    expect(ac.limit).toBe(2);
    for (let i = 0; i < 2; i++) ac.succeeded();
    expect(ac.limit).toBe(3);
    for (let i = 0; i < 100; i++) ac.succeeded();
    expect(ac.limit).toBe(8);
    expect(changes.slice(0, 3)).toEqual([4, 2, 3]);
  });
});

describe('speculative execution', () => {
  it('copies a straggler once slots are free, commits the first to finish and discards the other', async () => {
    let slowFinished = false;
    const invoker = fakeInvoker(async (t) => {
      if (t.taskId === 't005' && t.attempt === 1) {
        await new Promise((r) => setTimeout(r, 1500));
        slowFinished = true;
      }
    });
    const ledger = new CommitLedger<MapResult>();
    const duplicates: string[] = [];
    const speculated: string[] = [];
    await runAll(specs(12), {
      invoker,
      concurrency: 4,
      maxAttempts: 1,
      ledger,
      speculateAfterMs: 50,
      onEvent: (e) => {
        if (e.type === 'speculated') speculated.push(`${e.spec.taskId}@${e.attempt}`);
      },
      discard: async (r) => {
        duplicates.push(r.shuffleKey);
      },
    });
    expect(slowFinished).toBe(false); // the phase did not wait for the straggler
    expect(speculated).toEqual(['t005@2']);
    expect(ledger.results().find((r) => r.taskId === 't005')?.attempt).toBe(2);
    await new Promise((r) => setTimeout(r, 1600));
    expect(duplicates).toEqual(['t005-a1']); // the straggler's late output is thrown away
    expect(ledger.size).toBe(12);
  });

  it('never copies when attempts take about the same time', async () => {
    const speculated: string[] = [];
    await runAll(specs(20), {
      invoker: fakeInvoker(() => {}),
      concurrency: 4,
      maxAttempts: 1,
      ledger: new CommitLedger<MapResult>(),
      speculateAfterMs: 1000,
      onEvent: (e) => {
        if (e.type === 'speculated') speculated.push(e.spec.taskId);
      },
    });
    expect(speculated).toEqual([]);
  });

  it('reports an attempt running far longer than its peers, again each time its time doubles', async () => {
    // t003's first attempt hangs for a while; the rest take a few milliseconds.
    const invoker = fakeInvoker(async (t) => {
      if (t.taskId === 't003') await new Promise((r) => setTimeout(r, 400));
    });
    const slow: { taskId: string; attempt: number; runningMs: number; medianMs: number | undefined }[] = [];
    await runAll(specs(6), {
      invoker,
      concurrency: 6,
      maxAttempts: 1,
      ledger: new CommitLedger<MapResult>(),
      slowAfterMs: 40,
      onEvent: (e) => {
        if (e.type === 'slow') {
          slow.push({
            taskId: e.spec.taskId,
            attempt: e.attempt,
            runningMs: e.runningMs,
            medianMs: e.medianMs,
          });
        }
      },
    });
    expect(new Set(slow.map((s) => `${s.taskId}#${s.attempt}`))).toEqual(new Set(['t003#1']));
    expect(slow[0]?.runningMs).toBeGreaterThanOrEqual(40);
    expect(slow[0]?.medianMs).toBeLessThan(40);
    // Reported at ~40 ms, ~80, ~160, ~320: each report at least twice the time of the one before.
    expect(slow.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < slow.length; i++) {
      expect(slow[i]?.runningMs).toBeGreaterThanOrEqual(2 * (slow[i - 1]?.runningMs ?? 0));
    }
  });

  it('hands an invoker that holds attempts (prefetch) that many more, timing each from its start', async () => {
    // One runner and one held attempt, as the local pool holds one per worker: t000 runs 400 ms
    // while t001 waits behind it, then each takes a few milliseconds.
    let handedOut = 0;
    let most = 0;
    let queue: Promise<void> = Promise.resolve();
    const invoker: Invoker = {
      concurrency: 1,
      prefetch: 1,
      invoke(task, onStart) {
        most = Math.max(most, ++handedOut);
        const run = queue.then(async () => {
          onStart?.('runner 0');
          await new Promise((r) => setTimeout(r, task.taskId === 't000' ? 400 : 2));
        });
        queue = run;
        return run.then(() => {
          handedOut--;
          return result(task);
        });
      },
      async close() {},
    };
    const slow = new Set<string>();
    const ledger = new CommitLedger<MapResult>();
    await runAll(specs(4), {
      invoker,
      concurrency: 1,
      maxAttempts: 1,
      ledger,
      slowAfterMs: 40,
      onEvent: (e) => {
        if (e.type === 'slow') slow.add(e.spec.taskId);
      },
    });
    expect(ledger.size).toBe(4);
    expect(most).toBe(2);
    // t001 was held as long as t000 ran, but had not started: only t000 was slow.
    expect([...slow]).toEqual(['t000']);
  });

  it('tells one listener every attempt event of a task, in order', async () => {
    const invoker = fakeInvoker((t) => {
      if (t.taskId === 't001' && t.attempt === 1) throw new FanoutError('flaky', { retryable: true });
      if (t.taskId === 't002') throw new FanoutError('broken', { retryable: false });
    });
    const seen: string[] = [];
    const err = await runAll(specs(3), {
      invoker,
      concurrency: 1,
      maxAttempts: 3,
      retryBaseMs: 1,
      ledger: new CommitLedger<MapResult>(),
      onEvent: (e) => {
        if ('spec' in e) seen.push(`${e.type} ${e.spec.taskId}#${e.attempt}`);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(seen).toEqual([
      'started t000#1',
      'committed t000#1',
      'started t001#1',
      'retry t001#1',
      'started t002#1',
      'gave-up t002#1',
    ]);
  });

  it('fails the phase at once with the error a check of a committed result throws, starting nothing more', async () => {
    const invoker = fakeInvoker(() => {});
    const ledger = new CommitLedger<MapResult>();
    const over = new FanoutError('3 bad records, more than maxBadRecords (2) allows', { retryable: false });
    const err = await runAll(specs(10), {
      invoker,
      concurrency: 1,
      maxAttempts: 3,
      ledger,
      checkCommitted: (taskId) => {
        if (taskId === 't002') throw over;
      },
    }).catch((e: unknown) => e);
    expect(err).toBe(over);
    expect(invoker.calls.map((t) => t.taskId)).toEqual(['t000', 't001', 't002']);
  });
});
