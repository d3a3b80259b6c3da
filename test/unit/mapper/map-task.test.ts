import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadRecordError, CorruptDataError, defineJob } from '../../../src/index.js';
import { rangeOf } from '../../../src/job/range-partitioner.js';
import { runMapTask } from '../../../src/mapper/map-task.js';
import type { MapTask } from '../../../src/protocol/task-types.js';
import { RecordReader } from '../../../src/shuffle/record-codec.js';
import { readSlice } from '../../../src/shuffle/shuffle-object.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { encodePartitionPlan } from '../../../src/task/partition-plan.js';
import { tempDirs } from '../../helpers/temp.js';

const temp = tempDirs('map-task');

/**
 * One map task over four files of 50 lines each, k-000 .. k-199, with a budget small enough that
 * the task spills after each file (it checks its budget between batches of lines). The stages here
 * have no combiner, so the task holds its records encoded, about 15 bytes each: 750 bytes a file.
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
    memoryBudget: 512,
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

  it('without a combiner, writes each record to its partition as it is emitted, in order, across spills', async () => {
    const root = temp().path;
    const byLastDigit = defineJob({
      name: 'by-last-digit',
      map(line, emit) {
        emit(line, line.length);
        emit(line, 'again');
      },
      partitioner: (key: string, n) => Number(key.at(-1)) % n,
      reduce() {},
    });
    const task = { ...mapTaskOver(root, `direct-${process.pid}`), partitions: 3 };
    const result = await runMapTask(byLastDigit, task);
    expect(result.metrics.spills).toBeGreaterThan(1);
    expect(result.metrics.outputRecords).toBe(400);
    const store = new LocalDirStore(root);
    for (let p = 0; p < 3; p++) {
      const slice = result.slices[p];
      if (!slice) throw new Error(`no slice ${p}`);
      const reader = new RecordReader(await readSlice(store, result.shuffleKey, slice));
      const records: unknown[] = [];
      while (reader.next()) records.push([reader.key, reader.value]);
      const keys = Array.from({ length: 200 }, (_, i) => `k-${String(i).padStart(3, '0')}`).filter(
        (k) => Number(k.at(-1)) % 3 === p,
      );
      expect(records).toEqual(
        keys.flatMap((k) => [
          [k, 5],
          [k, 'again'],
        ]),
      );
    }
  });

  it("hands the stage's partitioner the plan its task points to, read and checked once", async () => {
    const root = temp().path;
    const store = new LocalDirStore(root);
    const plan = encodePartitionPlan({ stage: 0, partitions: 2, records: 1, keys: 1, plan: ['k-100'] });
    await store.put('plan.json', plan.bytes);
    const seen: unknown[] = [];
    const ranged = defineJob({
      name: 'ranged',
      map(line, emit) {
        emit(line, 1);
      },
      partitioner(key: string, n, p) {
        seen.push(p);
        return rangeOf(key, p as string[]) % n;
      },
      partitionPlan: { sample: 1, make: () => null },
      reduce() {},
    });
    const task = {
      ...mapTaskOver(root, `plan-${process.pid}`),
      partitions: 2,
      memoryBudget: 1 << 20,
      partitionPlan: { store: store.url, key: 'plan.json', crc: plan.crc },
    };
    const result = await runMapTask(ranged, task);
    expect(result.slices.map((s) => s.records)).toEqual([100, 100]);
    expect(new Set(seen.map((p) => JSON.stringify(p)))).toEqual(new Set(['["k-100"]']));
    // A plan that is not the one the task was given fails the task, naming it, without a retry.
    await store.put('plan.json', '{"plan":["k-150"]}');
    const err = await runMapTask(ranged, {
      ...task,
      partitionPlan: { ...task.partitionPlan, key: 'plan.json', crc: plan.crc + 1 },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as Error).message).toBe('checksum mismatch in partition plan plan.json');
    expect((err as CorruptDataError).retryable).toBe(false);
  });

  describe('with onBadRecord: skip', () => {
    const KEY = '_temporary/_bad_records/s0-m00000-a1.jsonl';

    /** A one-split map task over `text` in `format`, skipping up to 10 bad records. */
    function skipTask(root: string, input: MapTask['input'], text: string): MapTask {
      const store = new LocalDirStore(root);
      writeFileSync(join(root, 'in.txt'), text);
      const size = Buffer.byteLength(text);
      return {
        ...mapTaskOver(root, 'skip'),
        input,
        splits: [{ store: store.url, key: 'in.txt', start: 0, end: size, size }],
        badRecords: { store: store.url, key: KEY },
      };
    }

    /** Emits (the record's JSON, 1); throws on a record holding `throw`. */
    const echo = defineJob({
      name: 'echo',
      map(record, emit) {
        if (JSON.stringify(record).includes('throw')) throw new BadRecordError('map says no');
        emit(JSON.stringify(record), 1);
      },
      reduce() {},
    });

    it('maps the good JSON lines and writes the bad ones with their lines', async () => {
      const root = temp().path;
      const task = skipTask(
        root,
        { format: 'jsonl', onBadRecord: 'skip', maxBadRecords: 10 },
        '{"a":1}\n{"a":\n\n{"a":2}\nnope\n',
      );
      const result = await runMapTask(echo, task);
      expect(result.metrics.inputRecords).toBe(2);
      expect(result.badRecords).toMatchObject({ count: 2, key: KEY });
      const written = readFileSync(join(root, KEY), 'utf8').trimEnd().split('\n');
      expect(written.map((l) => (JSON.parse(l) as { line: number; text: string }).line)).toEqual([2, 5]);
    });

    it('skips a CSV line with a quote left open, but still fails on a bad header', async () => {
      const input = { format: 'csv', header: true, onBadRecord: 'skip', maxBadRecords: 10 } as const;
      const ok = await runMapTask(echo, skipTask(temp().path, input, 'a,b\n1,2\n"3,4\n5,6\n'));
      expect([ok.metrics.inputRecords, ok.badRecords?.count]).toEqual([2, 1]);
      const err = await runMapTask(echo, skipTask(temp().path, input, '"a,b\n1,2\n')).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BadRecordError);
      expect((err as Error).message).toMatch(/unclosed quote in field 1: .* \(.*in\.txt line 1\)$/);
    });

    it('does not skip what the map throws, even a BadRecordError', async () => {
      const root = temp().path;
      const input = { format: 'jsonl', onBadRecord: 'skip', maxBadRecords: 10 } as const;
      const err = await runMapTask(echo, skipTask(root, input, '{"a":\n{"a":1}\n{"a":"throw"}\n')).catch(
        (e: unknown) => e,
      );
      expect((err as Error).message).toMatch(/^map says no/);
      expect(existsSync(join(root, '_temporary'))).toBe(false);
    });

    it('writes nothing beside the output when nothing was bad', async () => {
      const root = temp().path;
      const input = { format: 'jsonl', onBadRecord: 'skip', maxBadRecords: 10 } as const;
      const result = await runMapTask(echo, skipTask(root, input, '{"a":1}\n'));
      expect(result).not.toHaveProperty('badRecords');
      expect(existsSync(join(root, '_temporary'))).toBe(false);
    });
  });
});
