/**
 * Map-only stages (no reduce): each map task writes what `map` emits to one part file, committed by
 * the attempt rule with `_SUCCESS` last; `ctx.input` names the object and range being mapped. Every
 * case is checked against records computed directly in the test from the data it wrote.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineJob, JobDefinitionError, runJob } from '../../src/index.js';
import { readOutput } from '../helpers/read-output.js';
import { tempDirs } from '../helpers/temp.js';

const temp = tempDirs('map-only');

interface Event {
  id: number;
  user: string | null;
  ms: number;
}

/** Files of JSONL events: `files` files of `per` events each, some without a user. */
function writeEvents(dir: string, files: number, per: number): Map<string, Event[]> {
  mkdirSync(dir, { recursive: true });
  const byFile = new Map<string, Event[]>();
  let id = 0;
  for (let f = 0; f < files; f++) {
    const events: Event[] = [];
    for (let i = 0; i < per; i++, id++) {
      events.push({ id, user: id % 7 === 0 ? null : ` User${id % 13} `, ms: (id * 37) % 1000 });
    }
    const name = `events-${String(f).padStart(2, '0')}.jsonl`;
    writeFileSync(join(dir, name), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    byFile.set(name, events);
  }
  return byFile;
}

/** Every record of the part files matching `pattern` in `dir`, and the part files' names. */
function readParts(dir: string, pattern = /^part-m-\d{5}\.jsonl$/): { parts: string[]; records: unknown[] } {
  const parts = readdirSync(dir)
    .filter((n) => pattern.test(n))
    .sort();
  const records = parts.flatMap((p) =>
    readFileSync(join(dir, p), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as unknown),
  );
  return { parts, records };
}

const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;

const cleanJob = defineJob({
  name: 'clean',
  input: { format: 'jsonl' },
  map(record, emit, ctx) {
    const e = record as unknown as Event;
    if (e.user === null) return;
    emit({ id: e.id, user: e.user.trim().toLowerCase(), seconds: e.ms / 1000, from: ctx.input.key });
  },
});

describe('a map-only stage', () => {
  it('writes what map emits, one part file per map task, each record once, with _SUCCESS last', async () => {
    const d = temp().path;
    const files = writeEvents(join(d, 'in'), 12, 200);
    const result = await runJob(cleanJob, {
      input: [join(d, 'in')],
      output: join(d, 'out'),
      workDir: join(d, 'work'),
      splitSize: 20_000, // several small files to a task, and files cut in two
    });
    const want = [...files].flatMap(([name, events]) =>
      events
        .filter((e) => e.user !== null)
        .map((e) => ({
          id: e.id,
          user: (e.user as string).trim().toLowerCase(),
          seconds: e.ms / 1000,
          from: name,
        })),
    );
    const { parts, records } = readParts(join(d, 'out'));
    expect((records as Event[]).sort(byId)).toEqual(want.sort(byId));
    expect(parts.length).toBe(result.stages[0]?.mapTasks);
    expect(parts.length).toBeGreaterThan(1);
    expect(result.parts.map((p) => p.slice(p.lastIndexOf('/') + 1)).sort()).toEqual(parts);
    expect(result.stages[0]).toMatchObject({ reduceTasks: 0, shuffleBytes: 0, outputRecords: want.length });
    expect(result.counters.inputRecords).toBe(12 * 200);
    expect(existsSync(join(d, 'out', '_SUCCESS'))).toBe(true);
    expect(existsSync(join(d, 'out', '_temporary'))).toBe(false);
  });

  it('gives map the object and byte range it reads as ctx.input', async () => {
    const d = temp().path;
    const files = writeEvents(join(d, 'in'), 3, 300);
    const job = defineJob({
      name: 'where',
      input: { format: 'jsonl' },
      map(record, emit, ctx) {
        const { url, key, start, end, size } = ctx.input;
        emit({ id: (record as unknown as Event).id, url, key, start, end, size });
      },
    });
    await runJob(job, {
      input: [join(d, 'in')],
      output: join(d, 'out'),
      workDir: join(d, 'work'),
      splitSize: 4096,
    });
    const { records } = readParts(join(d, 'out'));
    const seen = records as {
      id: number;
      url: string;
      key: string;
      start: number;
      end: number;
      size: number;
    }[];
    expect(seen.length).toBe(900);
    for (const [name, events] of files) {
      const text = readFileSync(join(d, 'in', name), 'utf8');
      const size = Buffer.byteLength(text);
      // The byte offset where each event's line starts: it must lie in the range its task owned.
      let offset = 0;
      const starts = new Map<number, number>();
      for (const line of text.split('\n')) {
        if (line !== '') starts.set((JSON.parse(line) as Event).id, offset);
        offset += Buffer.byteLength(line) + 1;
      }
      for (const e of events) {
        const r = seen.find((s) => s.id === e.id);
        expect(r?.key).toBe(name);
        expect(r?.size).toBe(size);
        expect(r?.url.endsWith(`/in/${name}`)).toBe(true);
        const at = starts.get(e.id) as number;
        expect(at >= (r?.start ?? -1) && at < (r?.end ?? -1), `event ${e.id} at ${at}`).toBe(true);
      }
    }
  });

  it('feeds a later stage, which reduces the cleaned records', async () => {
    const d = temp().path;
    const files = writeEvents(join(d, 'in'), 4, 250);
    const job = defineJob({
      name: 'clean-then-count',
      input: { format: 'jsonl' },
      stages: [
        { map: cleanJob.stages[0]?.map as never },
        {
          map(record: unknown, emit) {
            emit((record as { user: string }).user, 1);
          },
          reduce(user, ones, emit) {
            let n = 0;
            for (const one of ones) n += one as number;
            emit(user, n);
          },
        },
      ],
    });
    const result = await runJob(job, {
      input: [join(d, 'in')],
      output: join(d, 'out'),
      workDir: join(d, 'work'),
      splitSize: 8192,
    });
    const counts = new Map<string, number>();
    for (const events of files.values()) {
      for (const e of events) {
        if (e.user === null) continue;
        const u = JSON.stringify(e.user.trim().toLowerCase());
        counts.set(u, (counts.get(u) ?? 0) + 1);
      }
    }
    expect(await readOutput(join(d, 'out'))).toEqual(counts);
    expect(result.stages.map((s) => s.reduceTasks)).toEqual([0, 8]);
  });

  it('fails the job on a map that throws, with no part file in place and no _SUCCESS', async () => {
    const d = temp().path;
    writeEvents(join(d, 'in'), 3, 100);
    const job = defineJob({
      name: 'poison',
      input: { format: 'jsonl' },
      map(record, emit) {
        if ((record as unknown as Event).id === 150) throw new Error('poison record 150');
        emit(record);
      },
    });
    await expect(
      runJob(job, {
        input: [join(d, 'in')],
        output: join(d, 'out'),
        workDir: join(d, 'work'),
        maxAttempts: 2,
      }),
    ).rejects.toThrow(/poison record 150/);
    expect(existsSync(join(d, 'out', '_SUCCESS'))).toBe(false);
    expect(readParts(join(d, 'out')).parts).toEqual([]);
  });

  it('refuses emit(key, value) in a map-only stage, in one line', async () => {
    const d = temp().path;
    writeEvents(join(d, 'in'), 1, 10);
    const job = defineJob({
      name: 'two-args',
      input: { format: 'jsonl' },
      map(record, emit) {
        (emit as unknown as (k: unknown, v: unknown) => void)('k', record);
      },
    });
    await expect(
      runJob(job, { input: [join(d, 'in')], output: join(d, 'out'), workDir: join(d, 'work') }),
    ).rejects.toThrow(/map-only stage \(no reduce\) emits one record per call/);
  });

  it('refuses shuffle options on a stage without reduce', () => {
    for (const option of [
      { combine: (_k: unknown, v: unknown[]) => v[0] },
      { partitions: 4 },
      { sortKeys: true },
    ]) {
      expect(() => defineJob({ name: 'bad', map() {}, ...option } as never)).toThrow(JobDefinitionError);
    }
    expect(() => defineJob({ name: 'bad', map() {}, partitions: 4 } as never)).toThrow(
      /partitions applies only to a stage with a reduce/,
    );
  });
});
