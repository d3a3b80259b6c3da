import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptDataError, defineJob } from '../../../src/index.js';
import type { Job } from '../../../src/job/types.js';
import type { ReduceInput, ReduceTask } from '../../../src/protocol/task-types.js';
import { runReduceTask } from '../../../src/reducer/reduce-task.js';
import { RecordWriter } from '../../../src/shuffle/record-codec.js';
import { ShuffleObjectWriter } from '../../../src/shuffle/shuffle-object.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { encodeInputList } from '../../../src/task/reduce-inputs.js';
import { anyKey, groupOf } from '../../helpers/keys.js';
import { tempDirs } from '../../helpers/temp.js';

const temp = tempDirs('reduce-task');

/**
 * Writes each of `outputs` (records of one map task's partition 0) as a shuffle object in a store
 * under `root`, and the reducer's input list beside them; returns the reduce task that reads them.
 */
async function reduceTaskOver(
  root: string,
  outputs: [unknown, unknown][][],
  memoryBudget: number,
): Promise<ReduceTask> {
  const store = new LocalDirStore(root);
  const list: ReduceInput[] = [];
  for (const [m, records] of outputs.entries()) {
    const key = `shuffle/m${m}.shf`;
    const out = new ShuffleObjectWriter(await store.openWriter(key), 1);
    const w = new RecordWriter();
    for (const [k, v] of records) w.write(k, v);
    await out.append(0, w.bytes(), w.records);
    const { slices } = await out.close();
    const slice = slices[0];
    if (slice && slice.length > 0) list.push({ store: store.url, key, slice });
  }
  const stored = encodeInputList(list);
  await store.put('reduce-inputs/s0-r00000.json', stored.bytes);
  return {
    kind: 'reduce',
    jobId: 'reduce-test',
    stage: 0,
    taskId: 's0-r00000',
    attempt: 1,
    memoryBudget,
    partition: 0,
    inputs: { store: store.url, key: 'reduce-inputs/s0-r00000.json', count: stored.count, crc: stored.crc },
    outputStore: store.url,
    outputKey: 'out/part-00000.jsonl',
  };
}

/** The part file's records, each line parsed. */
const partRecords = (root: string): { key: unknown; value: unknown }[] =>
  readFileSync(join(root, 'out/part-00000.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { key: unknown; value: unknown });

/**
 * A key's kind and the key, as one JSON value a reducer may emit: NaN and the infinities, which JSON
 * writes as null, stay told apart.
 */
const tagged = (key: unknown): [string, unknown] => [
  typeof key === 'number' && !Number.isFinite(key) ? String(key) : typeof key,
  key,
];

/** Emits every key, tagged, with its values sorted: what the oracle below computes too. */
const listValues: Job = defineJob({
  name: 'list-values',
  map() {},
  reduce(key, values, emit) {
    emit(
      tagged(key),
      [...values].sort((a, b) => (a as number) - (b as number)),
    );
  },
});

describe('runReduceTask', () => {
  it('groups mixed keys exactly as an oracle does, whatever the memory budget makes it spill', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(anyKey, { minLength: 1, maxLength: 12 }),
        fc.array(fc.array(fc.nat(), { maxLength: 30 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 4000 }),
        async (pool, picks, memoryBudget) => {
          // Record i of the job is (a key from the pool, i): values name their records.
          let i = 0;
          const outputs = picks.map((ps) => ps.map((p): [unknown, unknown] => [pool[p % pool.length], i++]));
          const expected = new Map<string, { key: string; values: number[] }>();
          for (const [key, value] of outputs.flat()) {
            const group = expected.get(groupOf(key)) ?? { key: JSON.stringify(tagged(key)), values: [] };
            group.values.push(value as number);
            expected.set(groupOf(key), group);
          }
          const root = temp().path;
          await runReduceTask(listValues, await reduceTaskOver(root, outputs, memoryBudget));
          const got = new Map<string, number[]>();
          for (const { key, value } of partRecords(root)) {
            const id = JSON.stringify(key);
            expect(got.has(id), `key ${id} written twice`).toBe(false);
            got.set(id, value as number[]);
          }
          expect(got).toEqual(
            new Map([...expected.values()].map((g) => [g.key, g.values.sort((a, b) => a - b)])),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it("gives reduce a key's values in the order they arrived, whatever the memory budget makes it spill", async () => {
    const inOrder: Job = defineJob({
      name: 'in-order',
      map() {},
      reduce(key, values, emit) {
        emit(tagged(key), [...values]);
      },
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 3 }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.array(fc.nat(), { maxLength: 60 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3000 }),
        async (pool, picks, memoryBudget) => {
          let i = 0;
          const outputs = picks.map((ps) => ps.map((p): [unknown, unknown] => [pool[p % pool.length], i++]));
          const expected = new Map<string, number[]>();
          for (const [key, value] of outputs.flat()) {
            const id = JSON.stringify(tagged(key));
            expected.set(id, [...(expected.get(id) ?? []), value as number]);
          }
          const root = temp().path;
          await runReduceTask(inOrder, await reduceTaskOver(root, outputs, memoryBudget));
          const got = new Map(partRecords(root).map(({ key, value }) => [JSON.stringify(key), value]));
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('reports its spills: hash partitions past the budget, none within it', async () => {
    const outputs = [0, 1, 2, 3].map((m): [unknown, unknown][] =>
      Array.from({ length: 500 }, (_, k): [unknown, unknown] => [`key-${k}-${m % 2}`, m]),
    );
    const small = await runReduceTask(listValues, await reduceTaskOver(temp().path, outputs, 4096));
    const large = await runReduceTask(listValues, await reduceTaskOver(temp().path, outputs, 1 << 24));
    expect(small.metrics.spills).toBeGreaterThan(0);
    expect(large.metrics.spills).toBe(0);
    expect(small.metrics.outputRecords).toBe(1000);
    expect(large.metrics.outputRecords).toBe(1000);
  });

  /** Three map outputs of two records each, and the reduce task over them. */
  const threeOutputs = (root: string) =>
    reduceTaskOver(
      root,
      [0, 1, 2].map((m): [unknown, unknown][] => [
        [`k${m}`, m],
        ['shared', m],
      ]),
      1 << 20,
    );

  it('reads every map output its input list names', async () => {
    const root = temp().path;
    await runReduceTask(listValues, await threeOutputs(root));
    const records = partRecords(root).map((r) => [JSON.stringify(r.key), r.value]);
    expect(new Map(records as [string, unknown][])).toEqual(
      new Map([
        ['["string","k0"]', [0]],
        ['["string","k1"]', [1]],
        ['["string","k2"]', [2]],
        ['["string","shared"]', [0, 1, 2]],
      ]),
    );
  });

  it('fails, not retryable, on an input list with an entry fewer than the task was given', async () => {
    const root = temp().path;
    const task = await threeOutputs(root);
    // The list rewritten without its last entry, and a checksum to match: only the count tells.
    const store = new LocalDirStore(root);
    const list = JSON.parse(readFileSync(join(root, task.inputs.key), 'utf8')) as ReduceInput[];
    const short = encodeInputList(list.slice(0, -1));
    await store.put(task.inputs.key, short.bytes);
    const err = await runReduceTask(listValues, {
      ...task,
      inputs: { ...task.inputs, crc: short.crc },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).message).toBe(
      'reduce input list reduce-inputs/s0-r00000.json holds 2 slices, expected 3',
    );
    expect((err as CorruptDataError).retryable).toBe(false);
  });

  it('fails, not retryable, on an input list whose bytes changed after it was written', async () => {
    const root = temp().path;
    const task = await threeOutputs(root);
    const path = join(root, task.inputs.key);
    // One entry dropped from the stored text: the count would say so too, the checksum says first.
    const list = JSON.parse(readFileSync(path, 'utf8')) as ReduceInput[];
    writeFileSync(path, JSON.stringify(list.slice(1)));
    const err = await runReduceTask(listValues, task).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).message).toBe(
      'checksum mismatch in reduce input list reduce-inputs/s0-r00000.json',
    );
    expect((err as CorruptDataError).retryable).toBe(false);
  });
});
