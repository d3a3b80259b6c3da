import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptDataError, defineJob } from '../../../src/index.js';
import { runMapTask } from '../../../src/mapper/map-task.js';
import type { MapTask } from '../../../src/protocol/task-types.js';
import { RecordReader } from '../../../src/shuffle/record-codec.js';
import { readSlice } from '../../../src/shuffle/shuffle-object.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { tempDirs } from '../../helpers/temp.js';

const temp = tempDirs('map-task');

/**
 * One map task over four files of 50 lines each, k-000 .. k-199, with a budget small enough that
 * the task spills after each file (it checks its budget between batches of lines).
 */
function mapTaskOver(root: string, jobId: string): MapTask {
  const store = new LocalDirStore(root);
  const splits = [0, 1, 2, 3].map((f) => {
    const text = Array.from({ length: 50 }, (_, i) => `k-${String(f * 50 + i).padStart(3, '0')}\n`).join('');
    writeFileSync(join(root, `in-${f}.txt`), text);
    const size = Buffer.byteLength(text);
    return { store: store.url, key: `in-${f}.txt`, start: 0, end: size, size };
  });
  return {
    kind: 'map',
    jobId,
    stage: 0,
    taskId: 's0-m00000',
    attempt: 1,
    memoryBudget: 2048,
    input: { format: 'text' },
    splits,
    partitions: 1,
    shuffleStore: store.url,
    shuffleKey: 'shuffle/s0-m00000-a1.shf',
  };
}

/** Changes k-003 to k-004 in the task's first spill file, if it is on disk yet; says whether it was. */
function corruptFirstSpill(jobId: string): boolean {
  const dir = readdirSync(tmpdir()).find((n) => n.startsWith(`fanout-${jobId}-s0-m00000-a1-`));
  if (dir === undefined || !readdirSync(join(tmpdir(), dir)).includes('spill-0')) return false;
  const path = join(tmpdir(), dir, 'spill-0');
  const bytes = readFileSync(path);
  bytes[bytes.indexOf('k-003') + 4] = '4'.charCodeAt(0);
  writeFileSync(path, bytes);
  return true;
}

/** Emits (line, 1); with `corrupt`, first changes a key in the task's first spill once there is one. */
const countLines = (jobId: string, corrupt: boolean) => {
  let corrupted = false;
  const job = defineJob({
    name: 'count-lines',
    map(line, emit) {
      if (corrupt && !corrupted) corrupted = corruptFirstSpill(jobId);
      emit(line, 1);
    },
    reduce() {},
  });
  return { job, corrupted: () => corrupted };
};

describe('runMapTask', () => {
  it('spills past its budget and writes every key into its shuffle object', async () => {
    const root = temp().path;
    const jobId = `spill-clean-${process.pid}`;
    const result = await runMapTask(countLines(jobId, false).job, mapTaskOver(root, jobId));
    expect(result.metrics.spills).toBeGreaterThan(1);
    const slice = result.slices[0];
    if (!slice) throw new Error('no slice');
    const reader = new RecordReader(await readSlice(new LocalDirStore(root), result.shuffleKey, slice));
    const keys: unknown[] = [];
    while (reader.next()) keys.push(reader.key);
    expect(keys.sort()).toEqual(Array.from({ length: 200 }, (_, i) => `k-${String(i).padStart(3, '0')}`));
  });

  it('fails with a CorruptDataError when a spill file changes on local disk before it is read back', async () => {
    const root = temp().path;
    const jobId = `spill-corrupt-${process.pid}`;
    const { job, corrupted } = countLines(jobId, true);
    const err = await runMapTask(job, mapTaskOver(root, jobId)).catch((e: unknown) => e);
    expect(corrupted()).toBe(true);
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).message).toMatch(
      /^checksum mismatch in spill file .*spill-0, partition 0/,
    );
    expect((err as CorruptDataError).retryable).toBe(true);
  });
});
