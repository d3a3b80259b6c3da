import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgressView, phaseFigures } from '../../../src/cli/progress-view.js';
import { PhaseTracker } from '../../../src/driver/phase-tracker.js';
import type { ProgressEvent } from '../../../src/driver/progress.js';
import { FanoutError } from '../../../src/errors.js';

const spec = (taskId: string) => ({ taskId, describe: taskId, attempt: () => ({}) as never });

/** What the view writes to stderr while `fn` runs. */
function captured(fn: () => void): string {
  let text = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return text;
}

describe('the progress view', () => {
  afterEach(() => vi.restoreAllMocks());

  it('names an attempt running far longer than its peers, with the median and the timeout', () => {
    const view = createProgressView('plain');
    const text = captured(() =>
      view.onEvent({
        type: 'task-slow',
        stage: 0,
        phase: 'map',
        taskId: 's0-m00003',
        attempt: 1,
        runningMs: 42_000,
        medianMs: 3100,
        timeoutMs: 840_000,
      }),
    );
    expect(text).toBe('slow: s0-m00003 attempt 1 running 42 s, median 3.1 s; retried after 14 min\n');
  });

  it('prints warnings in every mode but none', () => {
    const warning = { type: 'warning', message: 'too many threads' } as const;
    for (const mode of ['plain', 'warnings'] as const) {
      expect(captured(() => createProgressView(mode).onEvent(warning))).toBe(
        'mr: warning: too many threads\n',
      );
    }
    expect(captured(() => createProgressView('none').onEvent(warning))).toBe('');
    expect(
      captured(() =>
        createProgressView('warnings').onEvent({ type: 'phase-done', stage: 0, phase: 'map', ms: 5 }),
      ),
    ).toBe('');
  });

  it('shows no ETA before a task has finished, then the pace so far times the tasks left', () => {
    const p = { started: 0, bytesDone: 0, recordsDone: 0, tasks: 10, done: 0, inFlight: 2 };
    expect(phaseFigures(p, 4000)).toEqual({
      elapsed: '4.0 s',
      rate: '0.0 MB/s',
      records: '0 records/s',
      inFlight: '2 running',
      etaText: '-',
    });
    // 2 of 10 tasks in 4 s, 30 MB and 50,000 records read: 8 left at 2 s each.
    const later = { ...p, done: 2, bytesDone: 30e6, recordsDone: 50_000 };
    expect(phaseFigures(later, 4000)).toEqual({
      elapsed: '4.0 s',
      rate: '7.5 MB/s',
      records: '12,500 records/s',
      inFlight: '2 running',
      etaText: '16 s',
    });
  });

  it('counts the attempts running from their start to their end', () => {
    const tracker = new PhaseTracker(0, 'map', [spec('a'), spec('b')], (e) => events.push(e), undefined);
    const events: ProgressEvent[] = [];
    const result = {
      kind: 'map',
      metrics: { inputBytes: 1, inputRecords: 1, outputRecords: 1, outputBytes: 1, spills: 0, ms: 1 },
    };
    tracker.onEvent({ type: 'started', spec: spec('a'), attempt: 1, speculative: false });
    tracker.onEvent({ type: 'running', spec: spec('a'), attempt: 1, lane: 'worker 0', speculative: false });
    tracker.onEvent({ type: 'running', spec: spec('b'), attempt: 1, lane: 'worker 1', speculative: false });
    tracker.onEvent({
      type: 'retry',
      spec: spec('b'),
      attempt: 1,
      error: new FanoutError('x'),
      delayMs: 1,
      throttled: false,
    });
    tracker.onEvent({ type: 'running', spec: spec('b'), attempt: 2, lane: 'worker 1', speculative: false });
    tracker.onEvent({ type: 'committed', spec: spec('a'), attempt: 1, result: result as never });
    const counts = events.map((e) =>
      e.type === 'task-start' || e.type === 'task-done' ? `${e.type} ${e.inFlight}` : e.type,
    );
    expect(counts).toEqual(['task-start 1', 'task-start 2', 'task-retry', 'task-start 2', 'task-done 1']);
  });

  it('ends a plain phase with its time, MB/s and records/s', () => {
    vi.useFakeTimers({ now: 0 });
    const view = createProgressView('plain');
    const text = captured(() => {
      view.onEvent({ type: 'phase-start', stage: 0, phase: 'map', tasks: 1, bytes: 100 });
      vi.setSystemTime(2000);
      view.onEvent({
        type: 'task-done',
        stage: 0,
        phase: 'map',
        taskId: 's0-m00000',
        attempt: 1,
        done: 1,
        total: 1,
        inFlight: 0,
        metrics: { inputBytes: 100, inputRecords: 7, outputRecords: 7, outputBytes: 10, spills: 0, ms: 1 },
      });
      view.onEvent({ type: 'phase-done', stage: 0, phase: 'map', ms: 1234 });
      view.stop();
    });
    vi.useRealTimers();
    // 100 bytes and 7 records in the 2 s since the phase began.
    expect(text).toBe(
      'stage 0 map   : 1 tasks, 100 B\nstage 0 map   : done in 1.23 s (0.0 MB/s, 4 records/s)\n',
    );
  });
});
