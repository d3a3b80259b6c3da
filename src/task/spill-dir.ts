import { mkdtempSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
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

/** An attempt's private local folder for spill files, made only when the attempt first spills. */
export interface SpillDir {
  /** The path of a file in the folder; the first call makes the folder (synchronously, as spills are written). */
  path(name: string): string;
}

/**
 * Runs `fn` with a private local directory for spill files, removed afterwards whatever happens. The
 * folder is made on first use: most attempts never spill, and making and removing a folder cost a
 * 4 KiB map task about a third of its time (bench/tiny-tasks.ts).
 */
export async function withSpillDir<T>(attempt: AttemptId, fn: (dir: SpillDir) => Promise<T>): Promise<T> {
  let dir: string | undefined;
  const spillDir: SpillDir = {
    path(name) {
      dir ??= mkdtempSync(join(tmpdir(), prefixOf(attempt)));
      return join(dir, name);
    },
  };
  try {
    return await fn(spillDir);
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
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
