import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleJob } from '../../../src/backends/bundle-job.js';
import { LocalWorkerPool, startWorkersAhead } from '../../../src/backends/local-pool.js';
import { WorkerCrashedError } from '../../../src/errors.js';
import type { MapResult, MapTask } from '../../../src/protocol/task-types.js';
import { tempDir } from '../../helpers/temp.js';

const d = tempDir('pool');
let bundlePath = '';
beforeAll(async () => {
  bundlePath = (await bundleJob(resolve('test/fixtures/jobs/pool-probe.ts'), d.path)).path;
}, 60_000);
afterAll(() => d.cleanup());

/** A map attempt over a one-line file holding `line` (see the pool-probe job). */
let serial = 0;
function task(line: string, attempt = 1): MapTask {
  const n = ++serial;
  const text = `${line}\n`;
  d.file(`in/${n}.txt`, text);
  const store = pathToFileURL(d.path).href;
  return {
    kind: 'map',
    jobId: 'pool-test',
    stage: 0,
    taskId: `s0-m${String(n).padStart(5, '0')}`,
    attempt,
    memoryBudget: 1 << 20,
    input: { format: 'text' },
    splits: [{ store, key: `in/${n}.txt`, start: 0, end: text.length, size: text.length }],
    partitions: 1,
    shuffleStore: store,
    shuffleKey: `shuffle/${n}-a${attempt}.shf`,
  };
}

/** Invokes an attempt, noting when it starts and ends in `log`. */
function run(pool: LocalWorkerPool, t: MapTask, log: string[]): Promise<MapResult> {
  return pool
    .invoke(t, () => log.push(`start ${t.taskId}`))
    .then((r) => {
      log.push(`end ${t.taskId}`);
      return r as MapResult;
    });
}

describe('LocalWorkerPool', () => {
  it('takes one attempt per worker beyond those running, and runs them one at a time, in order', async () => {
    const pool = new LocalWorkerPool({ bundlePath, size: 1 });
    try {
      expect(pool.prefetch).toBe(1);
      const log: string[] = [];
      // Short attempts: from the second on, each is sent ahead to the busy worker.
      const tasks = ['a', 'b', 'c', 'd'].map((line) => task(line));
      const results = await Promise.all(tasks.map((t) => run(pool, t, log)));
      expect(results.map((r) => r.metrics.inputRecords)).toEqual([1, 1, 1, 1]);
      // One at a time, in the order given: each starts as the result of the one before reaches the
      // pool (whose promise settles just after).
      expect(log.filter((e) => e.startsWith('start'))).toEqual(tasks.map((t) => `start ${t.taskId}`));
      expect(log.filter((e) => e.startsWith('end'))).toEqual(tasks.map((t) => `end ${t.taskId}`));
    } finally {
      await pool.close();
    }
  });

  it('gives back the attempt sent after one whose worker died: it runs on the next worker and does not fail', async () => {
    const pool = new LocalWorkerPool({ bundlePath, size: 1 });
    try {
      const log: string[] = [];
      await run(pool, task('warm'), log);
      const crash = task('crash');
      const after = task('after');
      const crashed = run(pool, crash, log).catch((e: unknown) => e);
      const next = run(pool, after, log);
      expect(await crashed).toBeInstanceOf(WorkerCrashedError);
      expect((await next).metrics.inputRecords).toBe(1);
      // The attempt sent after the crashed one started only once the crash was known.
      expect(log.slice(2)).toEqual([`start ${crash.taskId}`, `start ${after.taskId}`, `end ${after.taskId}`]);
    } finally {
      await pool.close();
    }
  });

  it('gives back the attempt sent after one that timed out: it runs on the new worker', async () => {
    const pool = new LocalWorkerPool({ bundlePath, size: 1, taskTimeoutMs: 1500 });
    try {
      const log: string[] = [];
      await run(pool, task('warm'), log);
      const hang = task('hang');
      const after = task('after');
      const hung = run(pool, hang, log).catch((e: unknown) => e);
      const next = run(pool, after, log);
      const err = await hung;
      expect(err).toBeInstanceOf(WorkerCrashedError);
      expect((err as WorkerCrashedError).message).toMatch(/timed out/);
      expect((await next).metrics.inputRecords).toBe(1);
      expect(log.slice(2)).toEqual([`start ${hang.taskId}`, `start ${after.taskId}`, `end ${after.taskId}`]);
    } finally {
      await pool.close();
    }
  });

  it('rejects the attempts it holds when it closes', async () => {
    const pool = new LocalWorkerPool({ bundlePath, size: 1 });
    const log: string[] = [];
    await run(pool, task('warm'), log);
    const hang = run(pool, task('hang'), log).catch((e: unknown) => e);
    const held = run(pool, task('after'), log).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    await pool.close();
    expect(await hang).toBeInstanceOf(Error);
    expect(((await held) as Error).message).toMatch(/closed/);
  });

  describe('workers started ahead', () => {
    /** The thread that ran an attempt, which the probe's `whoami` line names in its error. */
    const threadOf = async (pool: LocalWorkerPool): Promise<number> => {
      const err = (await pool.invoke(task('whoami')).catch((e: unknown) => e)) as Error;
      return Number(/thread (\d+)/.exec(err.message)?.[1]);
    };

    it('are taken by the next pool, which sends them its bundle and runs attempts on them', async () => {
      const ahead = startWorkersAhead(2);
      const pool = new LocalWorkerPool({ bundlePath, size: 2 });
      try {
        // Two at a time until both have run one: a worker still importing the bundle is passed over.
        const seen = new Set<number>();
        for (let round = 0; round < 50 && seen.size < 2; round++)
          for (const t of await Promise.all([threadOf(pool), threadOf(pool)])) seen.add(t);
        expect([...seen].sort()).toEqual([...ahead.threadIds].sort());
        const log: string[] = [];
        expect((await run(pool, task('counted'), log)).metrics.inputRecords).toBe(1);
      } finally {
        await ahead.stop();
        await pool.close();
      }
    });

    it('are not taken by a pool of another heap limit, and stop when told', async () => {
      const ahead = startWorkersAhead(1, 512);
      const pool = new LocalWorkerPool({ bundlePath, size: 1 });
      try {
        expect(ahead.threadIds).not.toContain(await threadOf(pool));
        await ahead.stop();
        // Stopped, so no later pool takes it either.
        const other = new LocalWorkerPool({ bundlePath, size: 1, workerMemoryMb: 512 });
        try {
          expect(ahead.threadIds).not.toContain(await threadOf(other));
        } finally {
          await other.close();
        }
      } finally {
        await pool.close();
      }
    });
  });
});
