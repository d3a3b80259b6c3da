import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { BenchResult } from '../../src/bench/run-bench.js';
import { main } from '../../src/cli/main.js';
import { readOutput } from '../helpers/read-output.js';
import { polylinePoints, svgShape } from '../helpers/svg-shape.js';
import { tempDir } from '../helpers/temp.js';

const d = tempDir('bench');
afterAll(() => d.cleanup());

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const job = resolve('jobs/wordcount.ts');
const input = resolve('jobs/data/wordcount');

/** Runs `mr` from source, so this needs no build; `cwd` is where `out/` lands. */
const mr = (args: string[], cwd = process.cwd()) => {
  const r = spawnSync(process.execPath, ['--import', tsx, resolve('test/helpers/mr-src.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** Runs `mr` in this process, as bin/mr.js does, for cases refused before anything runs. */
const mrHere = async (args: string[]) => {
  const stderr: string[] = [];
  const stdout: string[] = [];
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => stderr.push(String(chunk)) > 0);
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => stdout.push(String(chunk)) > 0);
  try {
    const code = await main(args);
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    err.mockRestore();
    out.mockRestore();
  }
};

describe('mr bench', () => {
  it('runs the job at each concurrency, prints the table and writes bench.json and bench.svg', async () => {
    const dir = join(d.path, 'wc');
    const r = mr([
      'bench',
      job,
      '--input',
      input,
      '--concurrency',
      '1,2',
      '--repeat',
      '1',
      '--split-size',
      '32KiB',
      '--output-dir',
      dir,
    ]);
    expect(r.stderr).not.toMatch(/^mr: /m);
    expect(r.code).toBe(0);
    // A line on stderr per run, warm-up first.
    expect(r.stderr).toMatch(
      /^bench: warm-up 1\/1 \(concurrency 1\)\nbench: run 1\/2 \(concurrency 1, repeat 1\)\nbench: run 2\/2 \(concurrency 2, repeat 1\)\n/,
    );
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^wordcount over 0\.38 MiB \(8 files\), local backend, .*outputs of all 3 runs agree$/,
    );
    expect(lines[1]?.trim().split(/\s{2,}/)).toEqual([
      'concurrency',
      'wall (s)',
      'MB/s',
      'speedup',
      'efficiency',
      'cost/run',
    ]);
    const rows = lines.slice(2, 4).map((l) => l.trim().split(/\s+/));
    expect(rows.map((row) => row[0])).toEqual(['1', '2']);
    for (const row of rows)
      expect(row.slice(1)).toEqual([
        expect.stringMatching(/^\d+\.\d\d$/),
        expect.stringMatching(/^\d+\.\d$/),
        expect.stringMatching(/^\d+\.\d\dx$/),
        expect.stringMatching(/^\d+%$/),
        expect.stringMatching(/^\$\d\.\d+$/),
      ]);
    expect(rows[0]?.slice(3, 5)).toEqual(['1.00x', '100%']);

    const bench = JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8')) as BenchResult;
    expect(bench).toMatchObject({
      job: { file: job, name: 'wordcount' },
      input: { paths: [input], files: 8, bytes: 395_948 },
      backend: 'local',
      options: { repeat: 1, warmup: 1, splitSize: 32 * 1024 },
      costBasis: { backend: 'local', memoryMb: 1769, arch: 'arm64' },
      outputs: { agree: true, runs: 3 },
      machine: { cpus: expect.any(Number), cpuModel: expect.any(String), node: process.version },
    });
    expect(bench.machine.memoryBytes).toBeGreaterThan(0);
    expect(bench.points.map((p) => p.concurrency)).toEqual([1, 2]);
    for (const p of bench.points) {
      expect(p.wallMs).toHaveLength(1);
      expect(p.medianWallMs).toBe(p.wallMs[0]);
      expect(p.mbPerSec).toBeCloseTo(395_948 / 1e6 / (p.medianWallMs / 1000), 6);
      expect(p.efficiency).toBeCloseTo(p.speedup / p.concurrency, 9);
      expect(p.cost?.usdPerRun).toBeGreaterThan(0);
      expect(p.cost?.invocationsPerRun).toBeGreaterThan(0);
    }
    expect(bench.points[1]?.speedup).toBeCloseTo(
      (bench.points[0]?.medianWallMs ?? 0) / (bench.points[1]?.medianWallMs ?? 1),
      9,
    );
    expect(bench.runs.map((run) => run.label)).toEqual(['warmup-1', 'c1-r1', 'c2-r1']);

    const svg = svgShape(readFileSync(join(dir, 'bench.svg'), 'utf8'));
    for (const name of ['throughput', 'speedup', 'ideal']) {
      const line = svg.find((e) => e.name === 'polyline' && e.attrs.class === name);
      expect(line && polylinePoints(line)).toHaveLength(2);
    }

    // Every run kept its own output, and they hold the same counts.
    expect(readdirSync(join(dir, 'runs')).sort()).toEqual(['c1-r1', 'c2-r1', 'warmup-1']);
    const first = await readOutput(join(dir, 'runs', 'c1-r1'));
    expect(first.get('"the"')).toBeGreaterThan(0);
    expect(await readOutput(join(dir, 'runs', 'c2-r1'))).toEqual(first);

    // An output folder in use is refused before anything runs.
    const again = await mrHere(['bench', job, '-i', input, '-c', '1', '--output-dir', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^mr: output folder .* is not empty/);
  });

  it('prints bench.json alone with --json --quiet, and writes the reports under out/ by default', () => {
    const cwd = d.file('json/.keep', '').replace(/\.keep$/, '');
    const r = mr(
      ['bench', job, '-i', input, '-c', '2,1', '--repeat', '1', '--warmup', '0', '--json', '--quiet'],
      cwd,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const bench = JSON.parse(r.stdout) as BenchResult;
    expect(bench.points.map((p) => p.concurrency)).toEqual([1, 2]);
    expect(bench.runs.map((run) => run.label)).toEqual(['c1-r1', 'c2-r1']);
    const [reports] = readdirSync(join(cwd, 'out'));
    expect(reports).toMatch(/^bench-wordcount-\d{14}$/);
    const dir = join(cwd, 'out', reports as string);
    expect(JSON.parse(readFileSync(join(dir, 'bench.json'), 'utf8'))).toEqual(bench);
    expect(existsSync(join(dir, 'bench.svg'))).toBe(true);
    // The runs went to a temporary folder, and are gone.
    expect(readdirSync(dir).sort()).toEqual(['bench.json', 'bench.svg']);
  });

  it('fails naming the two runs whose outputs disagree', () => {
    const r = mr([
      'bench',
      resolve('test/fixtures/jobs/random-output.ts'),
      '-i',
      input,
      '-c',
      '1,2',
      '--repeat',
      '1',
      '--warmup',
      '0',
      '--output-dir',
      join(d.path, 'random'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^mr: outputs disagree: run c1-r1 and run c2-r1 \(.+\); both outputs are kept under /m,
    );
    expect(r.stdout).toBe('');
  });

  it.each([
    [['-c', ''], /^mr: --concurrency needs a list of numbers/],
    [['-c', '1,x'], /^mr: invalid value "x" for --concurrency: expected a positive whole number\n$/],
    [['-c', '0,1'], /^mr: invalid value "0" for --concurrency/],
    [['-c', '1,1.5'], /^mr: invalid value "1.5" for --concurrency/],
    [['-c', '1,2,1'], /^mr: --concurrency lists 1 twice\n$/],
    [['-c', '1,,2'], /^mr: empty entry in --concurrency "1,,2"\n$/],
    [['-c', '1', '--repeat', '0'], /^mr: invalid value "0" for --repeat/],
  ])('refuses %j in one line with exit 2', async (flags, message) => {
    const r = await mrHere(['bench', job, '-i', input, ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('refuses a missing job file or a missing --input in one line with exit 2', async () => {
    const missing = await mrHere(['bench', 'jobs/nope.ts', '-i', input, '-c', '1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('mr: job file not found: jobs/nope.ts\n');
    // And so from a process of its own, with no stack trace.
    const noInput = mr(['bench', job, '-c', '1']);
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toBe(
      'mr: no --input given: name the files, folders or globs to bench the job over\n',
    );
  });
});
