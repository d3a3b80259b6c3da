import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Runs the built CLI (`npm test` builds before testing) as a user would, in `cwd`, and returns its
 * exit code and output.
 */
export function runMr(
  args: string[],
  cwd = process.cwd(),
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [resolve('bin/mr.js'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
