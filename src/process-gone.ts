import { hostname } from 'node:os';

/**
 * True when a process known by its host and pid ran on this host and no longer exists: a lock's or
 * a job driver's holder that died. False when that cannot be told (another host, a pid in use).
 */
export function processIsGone(host: string | undefined, pid: number | undefined): boolean {
  if (host !== hostname() || pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as { code?: unknown }).code === 'ESRCH';
  }
}
