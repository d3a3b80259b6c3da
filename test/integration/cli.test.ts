import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOutput } from '../helpers/read-output.js';
import { tempDir } from '../helpers/temp.js';
import { countWords } from '../helpers/words.js';

const d = tempDir('cli');
afterAll(() => d.cleanup());

// These run the built CLI (`npm test` builds before testing), exactly as a user would.
const mr = (args: string[], cwd = process.cwd()) => {
  // Job state goes to a temporary work folder, never the checkout's own .fanout/.
  const work = args[0] === 'run' && !args.includes('--work') ? ['--work', join(d.path, 'work')] : [];
  const r = spawnSync(process.execPath, [resolve('bin/mr.js'), ...args, ...work], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('mr run', () => {
  it('runs a job and prints a summary', () => {
    const input = d.file('wc/in.txt', 'to be or not to be\n');
    const out = join(d.path, 'wc/out');
    const r = mr([
      'run',
      'jobs/wordcount.ts',
      '--input',
      input,
      '--output',
      out,
      '--work',
      join(d.path, 'work'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/succeeded in [\d.]+ s/);
    expect(r.stdout).toMatch(/input {4}1 files, 19 B, 1 records/);
    expect(r.stdout).toMatch(/output {3}4 records in 8 parts/);
    expect(r.stderr).toMatch(/stage 0 map/);
  });

  it('prints one JSON object with --json and nothing else on stdout', async () => {
    const input = d.file('json/in.txt', 'a b a\n');
    const out = join(d.path, 'json/out');
    const r = mr([
      'run',
      'jobs/wordcount.ts',
      '-i',
      input,
      '-o',
      out,
      '--work',
      join(d.path, 'work'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { counters: Record<string, number>; output: string };
    expect(summary.counters).toMatchObject({ inputRecords: 1, outputRecords: 2, retries: 0 });
    expect(summary.output).toBe(out);
    expect(await readOutput(out)).toEqual(countWords('a b a\n'));
  });

  it('prints the records skipped as bad in the summary and in --json', () => {
    const input = d.file('skip/in.jsonl', '{"k":"a"}\nnot json\n{"k":"b"}\n{"k":\n');
    const job = 'test/fixtures/jobs/skip-bad-json.ts';
    const text = mr(['run', job, '-i', input, '-o', join(d.path, 'skip/out')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /input {4}1 files, 35 B, 2 records \(2 bad records skipped, in _bad_records\/\)/,
    );
    const json = mr(['run', job, '-i', input, '-o', join(d.path, 'skip/out-json'), '--json']);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { counters: Record<string, number> }).counters).toMatchObject({
      inputRecords: 2,
      badRecords: 2,
    });
  });

  it('prints only the job id with --quiet', () => {
    const input = d.file('quiet/in.txt', 'x\n');
    const r = mr(['run', 'jobs/wordcount.ts', '-i', input, '-o', join(d.path, 'quiet/out'), '--quiet']);
    expect(r).toMatchObject({ code: 0, stdout: '' });
    expect(r.stderr).toMatch(/^job wordcount-\d{14}-[0-9a-f]{6}\n$/);
  });

  it('prints the output folder it chose, even with --quiet', () => {
    const input = d.file('quiet-chosen/in.txt', 'x\n');
    const cwd = join(d.path, 'quiet-chosen');
    const r = mr(
      ['run', resolve('jobs/wordcount.ts'), '-i', input, '--quiet', '--work', join(d.path, 'work')],
      cwd,
    );
    expect(r.code).toBe(0);
    const id = /^job (\S+)\n$/.exec(r.stderr)?.[1];
    expect(r.stdout).toBe(`out/${id}\n`);
    expect(existsSync(join(cwd, 'out', String(id), '_SUCCESS'))).toBe(true);
  });

  it('finishes the run and records its status when stdout and stderr are closed early (| head -1)', async () => {
    const input = d.file('epipe/in.txt', 'a b a\n'.repeat(2000));
    const out = join(d.path, 'epipe/out');
    const work = join(d.path, 'epipe-work');
    const child = spawn(
      process.execPath,
      [resolve('bin/mr.js'), 'run', 'jobs/wordcount.ts', '-i', input, '-o', out, '--work', work],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // The reader takes one line and goes, as head -1 does.
    await new Promise<void>((ok) => child.stderr.once('data', () => ok()));
    child.stderr.destroy();
    child.stdout.destroy();
    const code = await new Promise<number | null>((ok) => child.on('exit', ok));
    expect(code).toBe(0);
    expect(await readOutput(out)).toEqual(countWords('a b a\n'.repeat(2000)));
    const [jobId] = readdirSync(join(work, 'jobs'));
    expect(JSON.parse(readFileSync(join(work, 'jobs', jobId ?? '', 'status.json'), 'utf8')).state).toBe(
      'succeeded',
    );
  });

  it('runs on the sample data with no --input and prints where the output went', () => {
    const r = mr(['run', resolve('jobs/wordcount.ts'), '--work', join(d.path, 'work')], d.path);
    expect(r.code).toBe(0);
    const where = /output folder: (\S+)/.exec(r.stdout)?.[1];
    expect(where).toBeDefined();
    expect(existsSync(join(d.path, where ?? '', '_SUCCESS'))).toBe(true);
  });

  it('exits 1 naming the task, its input range and the cause when a map always throws', () => {
    const input = d.file('poison/in.txt', 'ok\npoison\nok\n');
    const out = join(d.path, 'poison/out');
    const r = mr([
      'run',
      'test/fixtures/jobs/always-throws.ts',
      '-i',
      input,
      '-o',
      out,
      '--max-attempts',
      '2',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^mr: job failed: task s0-m00000 \(.*in\.txt\[0, 13\)\) failed after 2 attempts: map threw: cannot handle "poison"$/m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('cancels on Ctrl-C (SIGINT): exit 130, no _SUCCESS', async () => {
    const input = d.file('sigint/in.txt', Array.from({ length: 400 }, (_, i) => `line ${i}`).join('\n'));
    const out = join(d.path, 'sigint/out');
    const child = spawn(
      process.execPath,
      [
        resolve('bin/mr.js'),
        'run',
        'test/fixtures/jobs/slow-map.ts',
        '-i',
        input,
        '-o',
        out,
        '--split-size',
        '64',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    // Plain (non-terminal) progress prints the map phase's start line: the run is under way.
    await new Promise<void>((ok) => {
      const check = () => (stderr.includes('stage 0 map') ? ok() : setTimeout(check, 20));
      check();
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((ok) => child.on('exit', ok));
    expect(code).toBe(130);
    expect(stderr).toMatch(/mr: cancelled/);
    expect(existsSync(join(out, '_SUCCESS'))).toBe(false);
  });

  it('abandons an attempt past --task-timeout and names the timeout', () => {
    const input = d.file('hang/in.txt', 'hang!\n');
    const r = mr([
      'run',
      'test/fixtures/jobs/hang-map.ts',
      '-i',
      input,
      '-o',
      join(d.path, 'hang/out'),
      '--task-timeout',
      '1s',
      '--max-attempts',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mr: job failed: task s0-m00000 .* timed out after 1\.0 s \(--task-timeout\)/m);
  });

  it('prints the first cause, then what failed while handling it', () => {
    const work = join(d.path, 'broken-work');
    const input = d.file('broken/in.txt', `${work}\n`);
    const r = mr([
      'run',
      'test/fixtures/jobs/break-state.ts',
      '-i',
      input,
      '-o',
      join(d.path, 'broken/out'),
      '--work',
      work,
      '--max-attempts',
      '1',
    ]);
    expect(r.code).toBe(1);
    const lines = r.stderr
      .trimEnd()
      .split('\n')
      .filter((l) => l.startsWith('mr: '));
    expect(lines[0]).toMatch(/^mr: job failed: .*map threw: the first cause$/);
    expect(lines[1]).toMatch(/^mr: also: could not save the status of the map tasks: /);
  });

  it('warns in one line when --concurrency is far above the cores', () => {
    const input = d.file('many/in.txt', 'x\n');
    const n = 2 * availableParallelism() + 1;
    const r = mr([
      'run',
      'jobs/wordcount.ts',
      '-i',
      input,
      '-o',
      join(d.path, 'many/out'),
      '-c',
      String(n),
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(`^mr: warning: concurrency ${n} starts that many worker threads on \\d+ cores`, 'm'),
    );
    expect(r.stderr.split('\n').filter((l) => l.includes('warning'))).toHaveLength(1);
  });

  it.each([
    [['run', 'jobs/wordcount.ts', '--bogus'], /unknown option '--bogus'/],
    [
      ['run', 'jobs/wordcount.ts', '--partitions', '200000'],
      /partitions must be an integer in 1\.\.100000, got 200000/,
    ],
    [['run', 'jobs/wordcount.ts', '--task-timeout', 'soon'], /invalid duration "soon" for --task-timeout/],
    [['run', 'jobs/wordcount.ts', '-o', 'package.json'], /output package\.json is a file, not a folder/],
    [['run', 'jobs/wordcount.ts', '--concurrency', 'two'], /invalid value "two" for --concurrency/],
    [['run', 'jobs/wordcount.ts', '--split-size', '12XB'], /invalid size "12XB" for --split-size/],
    [
      ['run', 'jobs/wordcount.ts', '--output-format', 'xml'],
      /outputFormat must be one of jsonl, csv, arrow, parquet, got "xml"/,
    ],
    [
      ['run', 'jobs/wordcount.ts', '--output-format', 'parquet', '--output-compression', 'gzip'],
      /parquet part files compress their own pages; compression 'gzip' is for jsonl and csv/,
    ],
    [
      ['run', 'jobs/wordcount.ts', '--notify', 'http://hooks.example.com/x'],
      /notify target "http:\/\/hooks\.example\.com\/x": a webhook must use https/,
    ],
    [
      ['run', 'jobs/wordcount.ts', '--notify', 'sns:topic'],
      /notify target "sns:topic": not an SNS topic ARN/,
    ],
    [
      ['on-upload', 'jobs/wordcount.ts', '--output', 's3://b/out/{name}/'],
      /mr on-upload needs --bucket NAME/,
    ],
    [
      ['on-upload', 'jobs/wordcount.ts', '--bucket', 'b', '-i', 's3://b/x/', '--output', 's3://b/o/{name}/'],
      /mr on-upload reads each new object: it takes no --input/,
    ],
    [
      ['on-upload', 'jobs/wordcount.ts', '--bucket', 'b', '--output', 's3://b/out/'],
      /each object's run needs its own output: put \{name\} or \{key\} in --output/,
    ],
    [
      ['on-upload', 'jobs/wordcount.ts', '--bucket', 'b', '--prefix', 'in/', '--output', 's3://b/in/{name}/'],
      /--output s3:\/\/b\/in\/\{name\}\/ is inside the watched s3:\/\/b\/in\/: each output would start a run/,
    ],
    [
      ['deploy', '--notify-topic', 'arn:aws:sqs:us-east-1:123456789012:q'],
      /invalid SNS topic ARN .* for --notify-topic/,
    ],
    [['run', 'jobs/missing.ts'], /job file not found: jobs\/missing\.ts/],
    [['run', 'test/fixtures/jobs/not-a-job.ts', '-i', 'jobs/data/wordcount'], /does not export a job/],
    [['run', 'jobs/wordcount.ts', '-i', 'no/such/dir'], /input not found: no\/such\/dir/],
    [['run'], /missing required argument 'job'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('exits 2 with one clear line for %j', (args, message) => {
    const r = mr(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });

  it('prints its version', () => {
    const r = mr(['--version']);
    expect(r).toMatchObject({
      code: 0,
      stdout: `${JSON.parse(readFileSync('package.json', 'utf8')).version}\n`,
    });
  });

  it('shows help for mr and mr run', () => {
    const top = mr(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/run \[options\] <job>/);
    const run = mr(['run', '--help']);
    expect(run.code).toBe(0);
    for (const flag of [
      '--input',
      '--output',
      '--concurrency',
      '--partitions',
      '--split-size',
      '--max-attempts',
      '--json',
      '--quiet',
    ]) {
      expect(run.stdout).toContain(flag);
    }
  });
});
