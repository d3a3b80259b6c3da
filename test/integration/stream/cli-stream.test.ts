import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteStreamCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KinesisEmulator, startKinesisEmulator } from '../../../src/dev/kinesis-emulator.js';
import { createStream, kinesisClient, putKeyed, waitFor } from '../../helpers/kinesis.js';
import { tempDir } from '../../helpers/temp.js';

let emu: KinesisEmulator;
const d = tempDir('cli-stream');
beforeAll(async () => {
  emu = await startKinesisEmulator();
});
afterAll(async () => {
  await emu.stop();
  d.cleanup();
});

const out = join(d.path, 'out.txt');
const env = (extra: Record<string, string> = {}) => ({
  ...process.env,
  AWS_ENDPOINT_URL_KINESIS: emu.endpoint,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  STREAM_OUT: out,
  ...extra,
});

function mr(
  args: string[],
  extra: Record<string, string> = {},
): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/mr-src.ts', ...args], {
    env: env(extra),
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stderr })),
  );
  return { child, done };
}

function seen(file = out): Map<string, Set<number>> {
  const m = new Map<string, Set<number>>();
  if (!existsSync(file)) return m;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [key, seq] = line.split(' ');
    if (!key || seq === undefined) continue;
    const s = m.get(key) ?? new Set<number>();
    s.add(Number(seq));
    m.set(key, s);
  }
  return m;
}

describe('mr stream and mr stream-gen', () => {
  it('survives SIGKILL mid-stream, restarted several times, with no record lost', async () => {
    const gen = mr([
      'stream-gen',
      '--stream',
      'append',
      '--create',
      '--shards',
      '2',
      '--rate',
      '2000',
      '--keys',
      '8',
      '--duration',
      '2',
    ]);
    const g = await gen.done;
    expect(g.code, g.stderr).toBe(0);
    // Enough records that three killed runs cannot have read them all: asked for 2,000 a second,
    // stream-gen puts 880-990 a second into kinesalite on this project's machine, fewer when busy.
    const put = Number(/put (\d+) records/.exec(g.stderr)?.[1]);
    expect(put).toBeGreaterThan(800);
    const job = 'test/fixtures/jobs/stream-append.ts';
    const work = join(d.path, 'work');
    for (let round = 0; round < 3; round++) {
      const before = existsSync(out) ? readFileSync(out, 'utf8').length : 0;
      const run = mr(['stream', job, '--work', work, '--quiet']);
      // Kill it once it has processed something in this round: mid-stream, with batches in flight.
      await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').length > before, 20_000);
      run.child.kill('SIGKILL');
      await run.done;
    }
    const total = () => [...seen().values()].reduce((n, s) => n + s.size, 0);
    expect(total()).toBeLessThan(put);
    const last = mr(['stream', job, '--work', work]);
    await waitFor(() => total() >= put, 30_000);
    last.child.kill('SIGTERM');
    const r = await last.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/mr stream stream-append: \d+ rec\/s/);
    const s = seen();
    expect(s.size).toBe(8);
    for (const [, seqs] of s) expect([...seqs].sort((a, b) => a - b)).toEqual([...seqs].map((_, i) => i));
    expect(total()).toBe(put);
  });

  it('shares shards between two consumers through leases, and takes over the shards of a killed one', async () => {
    const gen = mr([
      'stream-gen',
      '--stream',
      'shared',
      '--create',
      '--shards',
      '4',
      '--rate',
      '1500',
      '--keys',
      '8',
      '--duration',
      '1',
    ]);
    const g = await gen.done;
    expect(g.code, g.stderr).toBe(0);
    const put = Number(/put (\d+) records/.exec(g.stderr)?.[1]);
    const job = 'test/fixtures/jobs/stream-append.ts';
    const work = join(d.path, 'shared-work');
    const [outA, outB] = [join(d.path, 'a.txt'), join(d.path, 'b.txt')];
    const args = [
      'stream',
      job,
      '--stream',
      'shared',
      '--work',
      work,
      '--shared',
      '--lease-ms',
      '800',
      '--quiet',
    ];
    const a = mr(args, { STREAM_OUT: outA, STREAM_DELAY_MS: '150' });
    const b = mr(args, { STREAM_OUT: outB, STREAM_DELAY_MS: '150' });
    await waitFor(() => existsSync(outA) && existsSync(outB), 20_000);
    a.child.kill('SIGKILL');
    await a.done;
    const union = () => {
      const all = new Set<string>();
      for (const f of [outA, outB])
        for (const [k, seqs] of seen(f)) for (const s of seqs) all.add(`${k}/${s}`);
      return all.size;
    };
    // The survivor takes over every shard's lease, including those the killed consumer held (it may
    // find nothing left to read in them, had the killed one checkpointed their ends: so wait for the
    // leases too, not only for the records).
    const leaseFiles = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? leaseFiles(join(dir, e.name))
          : dir.endsWith('leases') && e.name.endsWith('.json') && !e.name.startsWith('.')
            ? [join(dir, e.name)]
            : [],
      );
    const leaseOwners = () =>
      leaseFiles(work).map((f) => {
        try {
          return (JSON.parse(readFileSync(f, 'utf8')) as { owner: string }).owner;
        } catch {
          return `(being written: ${f})`;
        }
      });
    await waitFor(() => union() >= put, 40_000);
    await waitFor(() => {
      const o = leaseOwners();
      return o.length === 4 && new Set(o).size === 1;
    }, 20_000);
    b.child.kill('SIGTERM');
    const r = await b.done;
    expect(r.code, r.stderr).toBe(0);
    expect(union()).toBe(put);
    const owners = leaseOwners();
    expect(owners).toHaveLength(4);
    expect(new Set(owners).size).toBe(1);
  });

  it('reads stream B from its start after stream A with the same work folder', async () => {
    const k = kinesisClient(emu.endpoint);
    const job = 'test/fixtures/jobs/stream-append.ts';
    const work = join(d.path, 'a-then-b');
    const lines = (f: string) => [...seen(f).values()].reduce((n, s) => n + s.size, 0);
    for (const [stream, keys, perKey] of [
      ['cli-a', 4, 20],
      ['cli-b', 3, 10],
    ] as const) {
      await createStream(k, stream, 2);
      await putKeyed(k, stream, keys, perKey);
      const file = join(d.path, `${stream}.txt`);
      const run = mr(['stream', job, '--stream', stream, '--work', work, '--quiet'], { STREAM_OUT: file });
      await waitFor(() => lines(file) >= keys * perKey, 20_000);
      run.child.kill('SIGTERM');
      const r = await run.done;
      expect(r.code, r.stderr).toBe(0);
      expect(lines(file)).toBe(keys * perKey);
    }
  });

  it('ends with exit 1 and one line naming stream and shard when the stream is deleted while being read', async () => {
    const k = kinesisClient(emu.endpoint);
    await createStream(k, 'cli-doomed', 1);
    await putKeyed(k, 'cli-doomed', 2, 20);
    const file = join(d.path, 'doomed.txt');
    // Without the fix this run printed the error every few seconds and exited 0 at --duration.
    const run = mr(
      [
        'stream',
        'test/fixtures/jobs/stream-append.ts',
        '--stream',
        'cli-doomed',
        '--work',
        join(d.path, 'doomed-work'),
        '--duration',
        '40',
        '--quiet',
      ],
      { STREAM_OUT: file },
    );
    await waitFor(() => existsSync(file), 20_000);
    await k.send(new DeleteStreamCommand({ StreamName: 'cli-doomed' }));
    const r = await run.done;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^mr: stream cli-doomed, shard shardId-000000000000: ResourceNotFoundException: /,
      ),
    ]);
  });

  it('ends with exit 1 and one line naming stream and shard at a checkpoint Kinesis refuses', async () => {
    const k = kinesisClient(emu.endpoint);
    await createStream(k, 'cli-forged', 1);
    await putKeyed(k, 'cli-forged', 2, 10);
    const job = 'test/fixtures/jobs/stream-append.ts';
    const work = join(d.path, 'forged-work');
    const file = join(d.path, 'forged.txt');
    const args = ['stream', job, '--stream', 'cli-forged', '--work', work, '--quiet'];
    const first = mr(args, { STREAM_OUT: file });
    await waitFor(() => [...seen(file).values()].reduce((n, s) => n + s.size, 0) >= 20, 20_000);
    first.child.kill('SIGTERM');
    expect((await first.done).code).toBe(0);
    // Wherever the layout keeps it, the shard's checkpoint now names a record that never existed.
    const checkpoint = readdirSync(work, { recursive: true, encoding: 'utf8' })
      .map((f) => join(work, f))
      .find((f) => f.endsWith(join('checkpoints', 'shardId-000000000000.json')));
    if (!checkpoint) throw new Error(`no checkpoint under ${work}`);
    writeFileSync(
      checkpoint,
      JSON.stringify({ ...JSON.parse(readFileSync(checkpoint, 'utf8')), sequenceNumber: '12345' }),
    );
    // Without the fix this run printed the error every few seconds and exited 0 at --duration.
    const r = await mr([...args, '--duration', '30'], { STREAM_OUT: file }).done;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^mr: stream cli-forged, shard shardId-000000000000: InvalidArgumentException: /),
    ]);
  });

  it('answers a missing stream with one line and exit 2', async () => {
    const r = await mr([
      'stream',
      'test/fixtures/jobs/stream-append.ts',
      '--stream',
      'nope',
      '--work',
      join(d.path, 'w2'),
    ]).done;
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^mr: stream nope not found/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers a bad job file with one line and exit 2', async () => {
    const r = await mr(['stream', join(d.path, 'missing.ts')]).done;
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^mr: job file not found: .*missing\.ts$/);
  });
});
