import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { OUTPUT_MARKER } from '../protocol/store-layout.js';
import type { ObjectStore } from '../store/object-store.js';
import { isUrl } from '../store/open-store.js';

/**
 * Claims an output folder for one run by creating OUTPUT_MARKER in it, which stays there: it says
 * the folder belongs to one job, so a second run refuses it and a later job refuses to read it as
 * input until `_SUCCESS` says it is complete (see listInputs). The claim: it must be empty (or absent), and the marker is created with
 * a conditional write (`If-None-Match: *` on S3, a lock file locally), so of two runs started
 * together into one folder exactly one goes ahead. An emptiness check alone races: both runs see an
 * empty folder, both write, and the folder mixes their part files.
 * @throws {UsageError} when the folder is a file, holds anything, or another run claimed it first.
 */
export async function claimOutput(out: ObjectStore, location: string, jobId: string): Promise<void> {
  if (!isUrl(location)) await requireFolder(location);
  // A resumed job's own claim still holds: whatever it left in the folder is its own.
  if ((await ownerOf(out)) === jobId) return;
  for await (const _ of out.list('')) {
    throw new UsageError(`output ${location} already exists and is not empty; choose another --output`);
  }
  const claim = { jobId, host: hostname(), pid: process.pid, claimedAt: new Date().toISOString() };
  const won = await out.putIf(OUTPUT_MARKER, `${JSON.stringify(claim)}\n`, { ifAbsent: true });
  if (!won.ok) {
    const other = await ownerOf(out);
    throw new UsageError(
      `output ${location} is in use by ${other ? `job ${other}` : 'another run'}; choose another --output`,
    );
  }
}

/** Gives the folder back after a run that moved nothing into it: it is empty again and reusable. */
export async function releaseOutput(out: ObjectStore): Promise<void> {
  await out.delete(OUTPUT_MARKER);
}

async function ownerOf(out: ObjectStore): Promise<string | undefined> {
  try {
    const found = await out.getVersioned(OUTPUT_MARKER);
    const claim: unknown = found && JSON.parse(Buffer.from(found.body).toString('utf8'));
    const id = (claim as { jobId?: unknown } | undefined)?.jobId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A local output must be a folder or not exist yet; a file there (or above it) is a mistake. */
async function requireFolder(location: string): Promise<void> {
  try {
    if (!(await stat(resolve(location))).isDirectory()) {
      throw new UsageError(`output ${location} is a file, not a folder; choose another --output`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOTDIR') {
      throw new UsageError(`output ${location} is inside a file, not a folder; choose another --output`);
    }
    if (code !== 'ENOENT') throw err;
  }
}
