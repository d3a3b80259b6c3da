import { createHash, randomBytes } from 'node:crypto';
import { link, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FanoutError } from '../errors.js';
import { processIsGone } from '../process-gone.js';

// Compare-and-swap on a local directory, shared by every process that opens it.
//
// Mechanism: a per-key lock file, created atomically with link(2) (which fails with EEXIST when
// the name exists, also over NFSv3+ where O_EXCL may not be atomic). While holding it a writer
// reads the current object, checks the condition, writes a temporary file and renames it into
// place. Every conditional writer of a key takes the same lock, so check and write never
// interleave; rename(2) keeps readers (who take no lock) from ever seeing half an object.
//
// Versions are content hashes, like S3's ETag of a single PUT. Inode numbers would not do: the
// file system reuses an inode as soon as the rename frees it, so an old version could come back
// (ABA). A hash can only repeat if the same bytes are written again, which leaves the object
// exactly as the condition expected, and callers that need every write distinct (ShardLeases)
// bump a counter in the body.
//
// A holder that dies inside the critical section (a few file operations long) leaves its lock
// behind. The lock names its process, so on the same host a lock whose process is gone is broken
// at once; a holder on another host, or one whose pid was reused, is broken only after
// LOCK_STALE_MS, far beyond any live critical section. Breaking renames the lock aside and checks
// it moved the stale one, so two processes breaking the same lock cannot remove a fresh one
// (a fresh lock taken by mistake is linked back before anyone else can create one, barring a
// third process winning that microsecond window).

/** A lock older than this is abandoned even if its process cannot be checked. */
const LOCK_STALE_MS = 30_000;
/** Give up waiting for a lock after this long: something is badly wrong with the directory. */
const LOCK_WAIT_MS = 60_000;
/** Lock files and their temporaries start like the store's temporaries, so `list` skips them. */
const LOCK_PREFIX = '.fanout-tmp-lock-';

/** The version of an object on a local store: a hash of its bytes (see above for why). */
export function contentVersion(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

/** Path of the lock that guards conditional writes to the file at `path`. */
export function lockPathOf(path: string): string {
  return join(dirname(path), `${LOCK_PREFIX}${basename(path)}`);
}

/**
 * Runs `fn` while holding the lock file `lockPath`, across processes on this host (and hosts
 * sharing the directory), breaking a lock whose holder has died.
 *
 * @throws {FanoutError} (retryable) when the lock stays held for over a minute.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const token = `${hostname()} ${process.pid} ${randomBytes(8).toString('hex')}`;
  await takeLock(lockPath, token);
  try {
    return await fn();
  } finally {
    await dropLock(lockPath, token);
  }
}

async function takeLock(lockPath: string, token: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  // The token goes into a private file first, then link() publishes it whole: a reader never
  // sees an empty lock it cannot judge.
  const mine = `${lockPath}.${randomBytes(6).toString('hex')}`;
  await writeFile(mine, token);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(mine, lockPath);
        return;
      } catch (err) {
        if (codeOf(err) !== 'EEXIST') throw err;
      }
      if (await breakIfStale(lockPath)) continue;
      if (Date.now() > deadline) {
        throw new FanoutError(`lock ${lockPath} held for over ${LOCK_WAIT_MS / 1000} s`, { retryable: true });
      }
      // Critical sections last well under a millisecond: poll fast, with jitter against lockstep.
      await sleep(1 + Math.random() * Math.min(20, 2 ** Math.min(attempt, 5)));
    }
  } finally {
    await rm(mine, { force: true });
  }
}

async function dropLock(lockPath: string, token: string): Promise<void> {
  // Only remove our own lock: if it was (wrongly) broken, the file is someone else's now.
  if ((await readOrUndefined(lockPath)) === token) await unlink(lockPath).catch(ignoreNotFound);
}

/** Removes the lock if its holder is gone; true when the caller should retry at once. */
async function breakIfStale(lockPath: string): Promise<boolean> {
  const seen = await readOrUndefined(lockPath);
  if (seen === undefined) return true; // released meanwhile
  const mtime = await stat(lockPath).then(
    (s) => s.mtimeMs,
    () => undefined,
  );
  if (mtime === undefined) return true;
  if (!holderIsDead(seen) && Date.now() - mtime < LOCK_STALE_MS) return false;
  const aside = `${lockPath}.broken-${randomBytes(6).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return true; // another process broke it first
    throw err;
  }
  if ((await readOrUndefined(aside)) !== seen) {
    // Another breaker removed the stale lock and a live process took a new one, which we just
    // moved: put it back. link() fails only if yet another process got in meanwhile.
    await link(aside, lockPath).catch(() => {});
  }
  await rm(aside, { force: true });
  return true;
}

/** True when the lock's holder ran on this host and its process no longer exists. */
function holderIsDead(token: string): boolean {
  const [host, pidText] = token.split(' ');
  return processIsGone(host, Number(pidText));
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw err;
  }
}

function ignoreNotFound(err: unknown): void {
  if (codeOf(err) !== 'ENOENT') throw err;
}

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
}
