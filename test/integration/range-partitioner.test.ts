/**
 * rangePartitioner in whole jobs: keys of other types than jobs/sort.ts's strings and a reduce of
 * the job's own, with spills on both sides; a later stage sampling the stage before; a resumed run
 * keeping the plan its committed map tasks partitioned by; and input and output on S3, where the
 * sample is read with ranged GETs.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordsText } from '../../bench/sort-gen.js';
import {
  compareKeys,
  defineJob,
  type Emit,
  type KeyValue,
  rangePartitioner,
  resumeJob,
  runJob,
  TaskFailedError,
} from '../../src/index.js';
import { openStore } from '../../src/store/open-store.js';
import { Rng } from '../helpers/factories.js';
import { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from '../helpers/s3rver.js';
import { tempDirs } from '../helpers/temp.js';

const setup = tempDirs('range-partitioner');

/** The records of each part file in order, parsed. */
function parts(dir: string): { key: unknown; value: unknown }[][] {
  return readdirSync(dir)
    .filter((n) => /^part-\d{5}\.jsonl$/.test(n))
    .sort()
    .map((n) =>
      readFileSync(join(dir, n), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { key: unknown; value: unknown }),
    );
}

/** Every part in key order, every key of a part below every key of the next non-empty one. */
function expectGloballyOrdered(keysByPart: unknown[][]): void {
  const all = keysByPart.flat();
  expect(all).toEqual([...all].sort(compareKeys));
  const bounds = keysByPart.filter((p) => p.length > 0).map((p) => [p[0], p.at(-1)]);
  for (let i = 1; i < bounds.length; i++) {
    expect(compareKeys(bounds[i - 1]?.[1], bounds[i]?.[0])).toBeLessThan(0);
  }
}

describe('rangePartitioner in a job', () => {
  it('orders number keys across parts for a reduce of its own, whether or not either side spills', async () => {
    const rng = new Rng(61);
    const docs = Array.from({ length: 3000 }, () => ({ n: rng.int(-5000, 5000), w: rng.int(1, 9) }));
    const d = setup();
    d.file(
      'in/a.jsonl',
      `${docs
        .slice(0, 1800)
        .map((x) => JSON.stringify(x))
        .join('\n')}\n`,
    );
    d.file(
      'in/b.jsonl',
      `${docs
        .slice(1800)
        .map((x) => JSON.stringify(x))
        .join('\n')}\n`,
    );
    const job = defineJob({
      name: 'weights-by-number',
      input: { format: 'jsonl' },
      map(doc, emit) {
        const { n, w } = doc as { n: number; w: number };
        emit(n, w);
      },
      reduce(n, ws: Iterable<number>, emit) {
        let total = 0;
        for (const w of ws) total += w;
        emit(n, total);
      },
      partitions: 5,
      ...rangePartitioner({ sample: 500 }),
    });
    const expected = new Map<number, number>();
    for (const { n, w } of docs) expected.set(n, (expected.get(n) ?? 0) + w);
    for (const memoryBudget of [64 * 1024 * 1024, 2048]) {
      const out = join(d.path, `out-${memoryBudget}`);
      const result = await runJob(job, {
        input: [join(d.path, 'in')],
        output: out,
        workDir: join(d.path, 'work'),
        splitSize: 8 * 1024,
        memoryBudget,
      });
      if (memoryBudget === 2048) expect(result.counters.spills).toBeGreaterThan(0);
      const got = parts(out);
      expect(got).toHaveLength(5);
      expect(got.every((p) => p.length > 0)).toBe(true);
      expectGloballyOrdered(got.map((p) => p.map((r) => r.key)));
      expect(new Map(got.flat().map((r) => [r.key as number, r.value as number]))).toEqual(expected);
    }
  });

  it('samples a later stage from the part files of the stage before', async () => {
    const rng = new Rng(62);
    const words = Array.from({ length: 400 }, (_, i) => `w${i}`);
    const text = Array.from({ length: 2000 }, () =>
      Array.from({ length: 8 }, () => words[rng.zipf(words.length)]).join(' '),
    ).join('\n');
    const d = setup();
    d.file('in/a.txt', text);
    const job = defineJob({
      name: 'words-by-count',
      stages: [
        {
          map(line: string, emit: Emit<string, number>) {
            for (const w of line.split(' ')) emit(w, 1);
          },
          combine: (_w: string, ones: number[]) => ones.reduce((a, b) => a + b, 0),
          reduce(w: string, counts: Iterable<number>, emit: Emit) {
            let n = 0;
            for (const c of counts) n += c;
            emit(w, n);
          },
          partitions: 3,
        },
        {
          map({ key, value }: KeyValue<string, number>, emit: Emit<number, string>) {
            emit(value, key);
          },
          reduce(count: number, ws: Iterable<string>, emit: Emit) {
            emit(count, [...ws].sort());
          },
          partitions: 4,
          ...rangePartitioner({ sample: 200 }),
        },
      ],
    });
    const out = join(d.path, 'out');
    await runJob(job, { input: [join(d.path, 'in')], output: out, workDir: join(d.path, 'work') });
    const got = parts(out);
    expect(got).toHaveLength(4);
    expect(got.filter((p) => p.length > 0).length).toBeGreaterThan(1);
    expectGloballyOrdered(got.map((p) => p.map((r) => r.key)));
    const counts = new Map<string, number>();
    for (const w of text.split(/\s+/)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const byCount = new Map<number, string[]>();
    for (const [w, n] of counts) byCount.set(n, [...(byCount.get(n) ?? []), w]);
    expect(new Map(got.flat().map((r) => [r.key, r.value]))).toEqual(
      new Map([...byCount].map(([n, ws]) => [n, ws.sort()])),
    );
  });

  it('keeps, when resumed, the plan its committed map tasks partitioned by', async () => {
    const d = setup();
    const flag = d.file('flag', '');
    const calls = join(d.path, 'plan-calls');
    process.env.FANOUT_TEST_PLAN_CALLS = calls;
    const texts = [
      recordsText(600, 21, 0),
      `flag ${flag}\n${recordsText(600, 22, 600)}`,
      recordsText(600, 23, 1200),
    ];
    for (const [i, t] of texts.entries()) d.file(`in/${i}.txt`, t);
    const work = join(d.path, 'work');
    const err = await runJob(resolve('test/fixtures/jobs/sort-while-flagged.ts'), {
      input: [join(d.path, 'in')],
      output: join(d.path, 'out'),
      workDir: work,
      maxAttempts: 1,
      concurrency: 1,
      splitSize: 16 * 1024,
      partitions: 4,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(readFileSync(calls, 'utf8')).toBe('x');
    const jobId = readdirSync(join(work, 'jobs'))[0] ?? '';
    const plan = readFileSync(join(work, 'jobs', jobId, 's0', 'partition-plan.json'), 'utf8');

    rmSync(flag);
    const outcome = await resumeJob(jobId, { workDir: work });
    expect(outcome.resumed).toBe(true);
    // Made once: a second plan would have sent the resumed maps' keys all to the last partition.
    expect(readFileSync(calls, 'utf8')).toBe('x');
    expect(readFileSync(join(work, 'jobs', jobId, 's0', 'partition-plan.json'), 'utf8')).toBe(plan);
    const got = parts(join(d.path, 'out'));
    expect(got.flat()).toHaveLength(1801);
    expect(got.every((p) => p.length > 0)).toBe(true);
    expectGloballyOrdered(got.map((p) => p.map((r) => r.key)));
  });
});

describe('jobs/sort.ts with its input and output on S3', () => {
  let s3: S3rverHandle | undefined;
  const BUCKET = 'fanout-sort';

  beforeAll(async () => {
    s3 = await startS3rver([BUCKET]);
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
    });
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('samples with ranged reads of the planned splits and writes its parts in key order', async () => {
    const input = openStore(`s3://${BUCKET}/in/`);
    const texts = [recordsText(1500, 31, 0), recordsText(1500, 32, 1500)];
    for (const [i, t] of texts.entries()) await input.put(`records-${i}.txt`, t);
    const d = setup();
    const result = await runJob(resolve('jobs/sort.ts'), {
      input: [`s3://${BUCKET}/in/`],
      output: `s3://${BUCKET}/out/`,
      workDir: join(d.path, 'work'),
      splitSize: 32 * 1024,
      partitions: 4,
      concurrency: 2,
    });
    expect(result.counters.outputRecords).toBe(3000);
    const out = openStore(`s3://${BUCKET}/out/`);
    const got: string[][] = [];
    for (const part of result.parts) {
      const text = Buffer.from(await out.get(part)).toString('utf8');
      got.push(
        text
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => {
            const { key, value } = JSON.parse(l) as { key: string; value: string };
            return key + value;
          }),
      );
    }
    const all = texts.flatMap((t) => t.split('\n').filter((l) => l !== ''));
    expect(got.flat()).toEqual([...all].sort());
    expect(got.every((p) => p.length > 0)).toBe(true);
    expectGloballyOrdered(got.map((p) => p.map((r) => r.slice(0, 10))));
    const stored = JSON.parse(
      readFileSync(join(d.path, 'work', 'jobs', result.jobId, 's0', 'partition-plan.json'), 'utf8'),
    ) as { records: number; plan: string[] };
    expect(stored.plan).toHaveLength(3);
    expect(stored.records).toBeGreaterThan(2500);
    expect(existsSync(join(d.path, 'work', 'jobs', result.jobId, 'data'))).toBe(false);
  });
});
