/**
 * Killing an `mr run` driver at a chosen moment and resuming it, for the resume proofs: the moment
 * is drawn from a seed (how many commits of a phase to wait for, then how long), the kill is
 * SIGKILL (no handler runs, the job's status is left `running`), and what the run had committed is
 * read back from the work store, local or S3, as `mr resume` will.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import type { ObjectStore } from '../../src/store/object-store.js';
import { Rng } from './factories.js';

export type Phase = 'map' | 'reduce';

const MR = resolve('bin/mr.js');
const taskId = (phase: Phase, i: number) => `s0-${phase === 'map' ? 'm' : 'r'}${String(i).padStart(5, '0')}`;

const json = async <T>(store: ObjectStore, key: string): Promise<T> =>
  JSON.parse(Buffer.from(await store.get(key)).toString('utf8')) as T;

/** The keys of the recorded commits of a phase of stage 0. */
async function commitKeys(store: ObjectStore, jobId: string, phase: Phase): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(`jobs/${jobId}/s0/commits/${phase}/`)) {
    // Only whole records: a local store writes each under a hidden temporary name first.
    const name = o.key.slice(o.key.lastIndexOf('/') + 1);
    if (name.endsWith('.json') && !name.startsWith('.')) keys.push(o.key);
  }
  return keys;
}

/**
 * Every recorded commit of a phase of stage 0: task id to the attempt that committed. Each record
 * object holds the commits of one write (see CommitLog); a task recorded twice keeps its highest attempt.
 */
export async function commitsOf(
  store: ObjectStore,
  jobId: string,
  phase: Phase,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const key of await commitKeys(store, jobId, phase)) {
    const o = await json<{ commits: { taskId: string; attempt: number }[] }>(store, key);
    for (const c of o.commits) out.set(c.taskId, Math.max(c.attempt, out.get(c.taskId) ?? 0));
  }
  return out;
}

/** The map tasks of stage 0 once planned (plan.json written), else undefined. */
async function mapTasks(store: ObjectStore, jobId: string): Promise<string[] | undefined> {
  const key = `jobs/${jobId}/s0/plan.json`;
  if (!(await store.head(key))) return undefined;
  const plan = await json<{ tasks: unknown[] }>(store, key);
  return plan.tasks.map((_, i) => taskId('map', i));
}

/** Where a seed kills the driver: after `commits` commits of `phase` (drawn once its task count is known), then `delayMs`. */
export interface KillPoint {
  seed: number;
  phase: Phase;
  commits?: number;
  delayMs?: number;
}

/** What a killed run left behind. */
export interface Killed {
  jobId: string;
  kill: Required<KillPoint>;
  tasks: Record<Phase, string[]>;
  kept: Record<Phase, Map<string, number>>;
}

/**
 * Starts `mr run <args>` (its work store is `store`, its reducers `partitions`) and SIGKILLs it at
 * the seed's moment of `phase`: once `1..n-3` of the phase's `n` tasks have committed (drawn from
 * the seed), after `0..40` ms more. Fails the test unless the kill landed inside that phase: some
 * but not all of its tasks committed, and no reducer committed in the map phase.
 */
export async function runAndKill(o: {
  args: string[];
  env?: NodeJS.ProcessEnv;
  store: ObjectStore;
  partitions: number;
  at: { seed: number; phase: Phase };
}): Promise<Killed> {
  const rng = new Rng(o.at.seed);
  const child = spawn(process.execPath, [MR, 'run', ...o.args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...o.env },
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise((ok) => child.on('exit', ok));
  const reduceTasks = Array.from({ length: o.partitions }, (_, i) => taskId('reduce', i));
  let jobId = '';
  let maps: string[] | undefined;
  let kill: Required<KillPoint> | undefined;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`mr run ended before it could be killed: ${stderr}`);
    jobId ||= /^job (\S+)$/m.exec(stderr)?.[1] ?? '';
    if (jobId) maps ??= await mapTasks(o.store, jobId);
    if (maps) {
      const n = o.at.phase === 'map' ? maps.length : reduceTasks.length;
      // At least two waves of tasks left (the runs here do two at a time), so the phase is still on.
      kill ??= { ...o.at, commits: rng.int(1, n - 3), delayMs: rng.int(0, 40) };
      if ((await commitsOf(o.store, jobId, o.at.phase)).size >= kill.commits) break;
    }
    await new Promise((r) => setTimeout(r, 15));
  }
  if (!maps || !kill) throw new Error('unreachable: the loop leaves once both are known');
  await new Promise((r) => setTimeout(r, kill.delayMs));
  child.kill('SIGKILL');
  await exited;

  const tasks = { map: maps, reduce: reduceTasks };
  const kept = {
    map: await commitsOf(o.store, jobId, 'map'),
    reduce: await commitsOf(o.store, jobId, 'reduce'),
  };
  const where = `killed ${JSON.stringify(kill)}: ${kept.map.size}/${maps.length} maps, ${kept.reduce.size}/${reduceTasks.length} reducers committed`;
  expect(kept[kill.phase].size, where).toBeGreaterThanOrEqual(kill.commits);
  expect(kept[kill.phase].size, where).toBeLessThan(tasks[kill.phase].length);
  if (kill.phase === 'map') expect(kept.reduce.size, where).toBe(0);
  else expect(kept.map.size, where).toBe(maps.length);
  return { jobId, kill, tasks, kept };
}

/**
 * Runs `mr resume <id> --work <work> --json`; fails the test unless it succeeds. Asynchronously:
 * the emulators' proxies serve from this process's event loop.
 */
export async function resume(jobId: string, work: string, env?: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, [MR, 'resume', jobId, '--work', work, '--json'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
  clearTimeout(timer);
  expect(stderr, 'mr resume names the job first').toMatch(new RegExp(`^job ${jobId}$`, 'm'));
  expect(code, stderr).toBe(0);
}

/**
 * What `mr resume` must have done after `killed`: every committed attempt kept as it was; every
 * other task of both phases run by the resumed run, once (its attempts are numbered from 1001), and
 * no committed one run again (the resumed run's task status lists exactly the tasks it ran).
 */
export async function expectResumedOnlyUncommitted(store: ObjectStore, killed: Killed): Promise<void> {
  for (const phase of ['map', 'reduce'] as const) {
    const after = await commitsOf(store, killed.jobId, phase);
    const kept = killed.kept[phase];
    for (const [task, attempt] of kept) expect(after.get(task), `${task} kept its commit`).toBe(attempt);
    const rest = killed.tasks[phase].filter((t) => !kept.has(t));
    expect(
      rest.map((t) => [t, after.get(t)]),
      `${phase} tasks committed by the resumed run, each on its first attempt`,
    ).toEqual(rest.map((t) => [t, 1001]));
    expect([...after.keys()].sort()).toEqual(killed.tasks[phase]);
    const status = await json<{ tasks: Record<string, { state: string; attempts: number }> }>(
      store,
      `jobs/${killed.jobId}/s0/${phase}-tasks.json`,
    );
    const ran = Object.entries(status.tasks).filter(([, s]) => s.attempts > 1000);
    expect(
      ran.map(([t, s]) => [t, s.state, s.attempts]).sort(),
      `${phase} tasks the resumed run ran, and their attempts`,
    ).toEqual(rest.map((t) => [t, 'committed', 1001]));
  }
}
