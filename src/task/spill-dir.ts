import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What names a task attempt's spill folder. */
interface AttemptId {
  jobId: string;
  taskId: string;
  attempt: number;
}

/** The start of an attempt's spill folder name; the rest is random. */
function prefixOf(a: AttemptId): string {
  return `fanout-${`${a.jobId}-${a.taskId}-a${a.attempt}`.replace(/[^A-Za-z0-9_-]/g, '_')}-`;
}

/** Runs `fn` with a private local directory for spill files, removed afterwards whatever happens. */
export async function withSpillDir<T>(attempt: AttemptId, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefixOf(attempt)));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Removes the spill folder of an attempt whose thread died or was stopped before its own cleanup
 * ran (a crash, running out of memory, a cancelled run).
 */
export async function removeSpillDirs(attempt: AttemptId): Promise<void> {
  const prefix = prefixOf(attempt);
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(prefix))
      .map((n) => rm(join(tmpdir(), n), { recursive: true, force: true }).catch(() => {})),
  );
}
