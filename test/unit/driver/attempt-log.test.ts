import { describe, expect, it } from 'vitest';
import { AttemptLog, type AttemptTable } from '../../../src/driver/attempt-log.js';
import type { AttemptEvent, TaskSpec } from '../../../src/driver/schedule.js';
import { FanoutError, ThrottledError } from '../../../src/errors.js';
import type { MapResult, Task } from '../../../src/protocol/task-types.js';

const spec = (taskId: string): TaskSpec => ({
  taskId,
  describe: `in/${taskId}.txt[0, 4096)`,
  attempt: (attempt) => ({ kind: 'map', taskId, attempt }) as Task,
});

const result = (records: number): MapResult => ({
  kind: 'map',
  shuffleKey: 'k',
  slices: [],
  metrics: {
    inputBytes: 4096,
    inputRecords: records,
    outputRecords: 2 * records,
    outputBytes: 900,
    spills: 0,
    ms: 5,
  },
});

/** Every attempt of a table, made afresh. */
const rows = (t: AttemptTable) => Array.from({ length: t.length }, (_, i) => t.record(i));

/** A log on a clock the test moves, and the listener of one map phase over `tasks`. */
function logOf(tasks: string[]) {
  let now = 1000;
  const log = new AttemptLog(1000, () => now);
  const specs = tasks.map(spec);
  const send = log.phase(0, 'map', specs);
  const at = (ms: number, e: AttemptEvent<MapResult>) => {
    now = 1000 + ms;
    send(e);
  };
  return { log, specs, at, move: (ms: number) => (now = 1000 + ms) };
}

describe('AttemptLog', () => {
  it('records an attempt from the moment it runs on its lane to its commit, with its metrics', () => {
    const { log, specs, at } = logOf(['t0']);
    const [t0] = specs as [TaskSpec];
    at(0, { type: 'started', spec: t0, attempt: 1, speculative: false });
    at(40, { type: 'running', spec: t0, attempt: 1, lane: 'worker 1', speculative: false });
    at(90, { type: 'committed', spec: t0, attempt: 1, result: result(10) });
    expect(rows(log.attempts)).toEqual([
      {
        taskId: 't0',
        stage: 0,
        phase: 'map',
        attempt: 1,
        lane: 'worker 1',
        startMs: 40,
        endMs: 90,
        outcome: 'ok',
        speculative: false,
        bytesIn: 4096,
        recordsIn: 10,
        bytesOut: 900,
        recordsOut: 20,
      },
    ]);
    expect([...log.tasks()]).toEqual([{ taskId: 't0', input: 'in/t0.txt[0, 4096)' }]);
  });

  it('keeps each phase of the attempts it records: map, merge and reduce', () => {
    const log = new AttemptLog(0, () => 10);
    for (const phase of ['map', 'merge', 'reduce'] as const) {
      const s = spec(`${phase}-0`);
      const send = log.phase(1, phase, [s]);
      send({ type: 'started', spec: s, attempt: 1, speculative: false });
      send({ type: 'running', spec: s, attempt: 1, lane: 'worker 0', speculative: false });
      send({ type: 'committed', spec: s, attempt: 1, result: result(1) });
    }
    expect(rows(log.attempts).map((a) => [a.stage, a.phase, a.taskId])).toEqual([
      [1, 'map', 'map-0'],
      [1, 'merge', 'merge-0'],
      [1, 'reduce', 'reduce-0'],
    ]);
  });

  it('marks a failed attempt retried, the next one ok, and the last failure of a task given up as failed', () => {
    const { log, specs, at } = logOf(['a', 'b']);
    const [a, b] = specs as [TaskSpec, TaskSpec];
    const error = new FanoutError('map threw: boom', { retryable: true });
    at(0, { type: 'started', spec: a, attempt: 1, speculative: false });
    at(0, { type: 'running', spec: a, attempt: 1, lane: 'worker 0', speculative: false });
    at(10, { type: 'retry', spec: a, attempt: 1, error, delayMs: 5, throttled: false });
    at(15, { type: 'started', spec: a, attempt: 2, speculative: false });
    at(15, { type: 'running', spec: a, attempt: 2, lane: 'worker 0', speculative: false });
    at(30, { type: 'committed', spec: a, attempt: 2, result: result(1) });
    at(30, { type: 'started', spec: b, attempt: 1, speculative: false });
    at(30, { type: 'running', spec: b, attempt: 1, lane: 'worker 1', speculative: false });
    at(50, { type: 'gave-up', spec: b, attempt: 1, error });
    expect(rows(log.attempts).map((r) => [r.taskId, r.attempt, r.outcome, r.error])).toEqual([
      ['a', 1, 'retried', 'map threw: boom'],
      ['a', 2, 'ok', undefined],
      ['b', 1, 'failed', 'map threw: boom'],
    ]);
  });

  it('keeps a speculative copy that wins, and the original it beat as superseded', () => {
    const { log, specs, at } = logOf(['slow']);
    const [s] = specs as [TaskSpec];
    at(0, { type: 'started', spec: s, attempt: 1, speculative: false });
    at(0, { type: 'running', spec: s, attempt: 1, lane: 'function 0', speculative: false });
    at(500, { type: 'started', spec: s, attempt: 2, speculative: true });
    at(500, { type: 'running', spec: s, attempt: 2, lane: 'function 1', speculative: true });
    at(600, { type: 'committed', spec: s, attempt: 2, result: result(3) });
    at(900, { type: 'superseded', spec: s, attempt: 1, result: result(3) });
    expect(rows(log.attempts).map((r) => [r.attempt, r.lane, r.outcome, r.speculative, r.endMs])).toEqual([
      [2, 'function 1', 'ok', true, 600],
      [1, 'function 0', 'superseded', false, 900],
    ]);
  });

  it('counts an invocation throttled before it ran, without a bar; one throttled while running gets one', () => {
    const { log, specs, at } = logOf(['t']);
    const [t] = specs as [TaskSpec];
    const throttle = new ThrottledError('429', { retryable: true });
    at(0, { type: 'started', spec: t, attempt: 1, speculative: false });
    at(1, { type: 'retry', spec: t, attempt: 1, error: throttle, delayMs: 5, throttled: true });
    at(10, { type: 'started', spec: t, attempt: 1, speculative: false });
    at(10, { type: 'running', spec: t, attempt: 1, lane: 'function 0', speculative: false });
    at(20, { type: 'retry', spec: t, attempt: 1, error: throttle, delayMs: 5, throttled: true });
    expect(log.throttled).toBe(1);
    expect(rows(log.attempts).map((r) => [r.attempt, r.outcome, r.startMs, r.endMs])).toEqual([
      [1, 'throttled', 10, 20],
    ]);
  });

  it('ends attempts still running when the log closes as unfinished, and phases only when told', () => {
    const { log, specs, at, move } = logOf(['x']);
    const [x] = specs as [TaskSpec];
    at(0, { type: 'started', spec: x, attempt: 1, speculative: false });
    at(5, { type: 'running', spec: x, attempt: 1, lane: 'worker 0', speculative: false });
    move(70);
    log.close();
    expect(rows(log.attempts).map((r) => [r.outcome, r.endMs])).toEqual([['unfinished', 70]]);
    expect(log.phases).toEqual([{ stage: 0, phase: 'map', startMs: 0, tasks: 1 }]);
    log.endPhase(0, 'map');
    expect(log.phases[0]?.endMs).toBe(70);
  });
});
