import { describe, expect, it } from 'vitest';
import { AttemptLog, type AttemptTable } from '../../../src/driver/attempt-log.js';
import { buildReport, type JobReport, type ReportFacts } from '../../../src/driver/job-report.js';
import { PRICES } from '../../../src/driver/prices.js';
import type { Phase } from '../../../src/driver/progress.js';
import { renderReportHtml } from '../../../src/driver/report-html.js';
import { reportDataOf, reportJsonPieces } from '../../../src/driver/report-json.js';
import type { AttemptEvent, TaskSpec } from '../../../src/driver/schedule.js';
import { FanoutError } from '../../../src/errors.js';
import type { MapResult, Task } from '../../../src/protocol/task-types.js';

const facts = (stages: number, over: Partial<ReportFacts> = {}): ReportFacts => ({
  jobId: 'wc-1',
  name: 'wc',
  run: 1,
  state: 'succeeded',
  backend: 'local',
  remote: false,
  concurrency: 2,
  wallMs: 10_000,
  output: '/out/<wc>',
  stages,
  requests: { s3Puts: 10, s3Gets: 20, s3Lists: 2 },
  shuffleBytes: 0,
  prices: PRICES,
  ...over,
});

const metrics = (bytesIn: number, recordsIn: number) => ({
  inputBytes: bytesIn,
  inputRecords: recordsIn,
  outputRecords: recordsIn * 2,
  outputBytes: bytesIn / 2,
  spills: 0,
  ms: 1,
});

/**
 * Runs `tasks` tasks through one phase on a fake clock, two lanes, each task ok on its first attempt
 * except those `fails` names, which fail once and then pass. Every task reads 100 bytes, 10 records.
 */
function phase(
  log: AttemptLog,
  clock: { now: number },
  stage: number,
  p: Phase,
  tasks: number,
  fails: Set<number>,
) {
  const specs: TaskSpec[] = Array.from({ length: tasks }, (_, i) => ({
    taskId: `s${stage}-${p[0]}${i}`,
    describe: `in/file-${i}.txt[${i * 100}, ${i * 100 + 100})`,
    attempt: (attempt) => ({ kind: 'map', attempt }) as Task,
  }));
  const send = log.phase(stage, p, specs);
  const ev = (e: AttemptEvent<MapResult>) => send(e);
  specs.forEach((spec, i) => {
    const lane = `worker ${i % 2}`;
    let attempt = 1;
    if (fails.has(i)) {
      ev({ type: 'started', spec, attempt, speculative: false });
      ev({ type: 'running', spec, attempt, lane, speculative: false });
      clock.now += 3;
      ev({ type: 'retry', spec, attempt, error: new FanoutError('boom <&>'), delayMs: 1, throttled: false });
      attempt++;
    }
    ev({ type: 'started', spec, attempt, speculative: false });
    ev({ type: 'running', spec, attempt, lane, speculative: false });
    clock.now += 5;
    ev({
      type: 'committed',
      spec,
      attempt,
      result: { kind: 'map', shuffleKey: '', slices: [], metrics: metrics(100, 10) },
    });
  });
  log.endPhase(stage, p);
}

/** Every attempt of a table, made afresh. */
const rows = (t: AttemptTable) => Array.from({ length: t.length }, (_, i) => t.record(i));

const count = (html: string, needle: string) => html.split(needle).length - 1;

describe('buildReport and renderReportHtml', () => {
  it('draws one bar per attempt and one barrier per finished phase, and sums committed attempts only', () => {
    const clock = { now: 0 };
    const log = new AttemptLog(0, () => clock.now);
    phase(log, clock, 0, 'map', 6, new Set([2, 4]));
    phase(log, clock, 0, 'reduce', 3, new Set());
    phase(log, clock, 1, 'map', 3, new Set([0]));
    phase(log, clock, 1, 'reduce', 2, new Set());
    const report = buildReport(log, facts(2));
    // 14 tasks and 3 retried attempts.
    expect(report.attempts).toHaveLength(17);
    expect(rows(report.attempts).filter((a) => a.outcome === 'retried')).toHaveLength(3);
    const html = renderReportHtml(report);
    expect(count(html, 'data-attempt="')).toBe(17);
    expect(count(html, 'data-outcome="retried"')).toBe(3);
    expect(count(html, 'data-barrier="')).toBe(4);
    // Six map tasks of stage 0 read 100 bytes and 10 records each; the failed attempts add nothing.
    expect(report.stages[0]?.map).toMatchObject({
      tasks: 6,
      attempts: 8,
      bytesIn: 600,
      recordsIn: 60,
      recordsOut: 120,
    });
    expect(report.stages[1]?.reduce).toMatchObject({ tasks: 2, attempts: 2, bytesIn: 200 });
  });

  it('is one self-contained page: no script, stylesheet, font or image fetched, text escaped', () => {
    const clock = { now: 0 };
    const log = new AttemptLog(0, () => clock.now);
    phase(log, clock, 0, 'map', 2, new Set([1]));
    const html = renderReportHtml(
      buildReport(log, facts(1, { state: 'failed', error: 'job failed: <b>x</b>' })),
    );
    expect(html).not.toMatch(/<script|<link|<img|@import|url\((?!#)|\bsrc=|\bhref=/i);
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('job failed: &lt;b&gt;x&lt;/b&gt;');
    expect(html).toContain('boom &lt;&amp;&gt;');
    expect(html).toContain('/out/&lt;wc&gt;');
  });

  it('draws no barrier for a phase that did not finish, and marks its running attempts unfinished', () => {
    const clock = { now: 0 };
    const log = new AttemptLog(0, () => clock.now);
    const spec: TaskSpec = {
      taskId: 's0-m0',
      describe: 'in/a[0, 1)',
      attempt: (a) => ({ attempt: a }) as Task,
    };
    const send = log.phase(0, 'map', [spec]);
    send({ type: 'started', spec, attempt: 1, speculative: false });
    send({ type: 'running', spec, attempt: 1, lane: 'worker 0', speculative: false });
    clock.now = 50;
    const report = buildReport(log, facts(1, { state: 'cancelled' }));
    const html = renderReportHtml(report);
    expect(rows(report.attempts).map((a) => a.outcome)).toEqual(['unfinished']);
    expect(count(html, 'data-attempt="')).toBe(1);
    expect(count(html, 'data-barrier="')).toBe(0);
  });

  it('prices a local run as Lambda at 1769 MB arm64 for every attempt that ran, retries included', () => {
    const clock = { now: 0 };
    const log = new AttemptLog(0, () => clock.now);
    phase(log, clock, 0, 'map', 4, new Set([0]));
    const { cost } = buildReport(log, facts(1));
    // Four 5 ms attempts and one 3 ms retried one: 23 ms at 1769/1024 GB.
    expect(cost.basis).toBe('local');
    expect(cost.usage).toMatchObject({ memoryMb: 1769, arch: 'arm64', invocations: 5, taskMs: 23 });
    expect(cost.estimate.lambdaGbSeconds).toBeCloseTo(0.023 * (1769 / 1024), 12);
  });

  it('prices an aws run at the function size it read', () => {
    const log = new AttemptLog(0, () => 0);
    const { cost } = buildReport(
      log,
      facts(1, { backend: 'aws', remote: true, lambda: { memoryMb: 3008, arch: 'x86_64' } }),
    );
    expect(cost).toMatchObject({ basis: 'aws', sizeKnown: true, usage: { memoryMb: 3008, arch: 'x86_64' } });
  });

  it('draws 10,240 attempts as 10,240 bars', () => {
    const clock = { now: 0 };
    const log = new AttemptLog(0, () => clock.now);
    phase(log, clock, 0, 'map', 10_240, new Set([7, 700]));
    phase(log, clock, 0, 'reduce', 8, new Set());
    const report = buildReport(log, facts(1, { wallMs: clock.now }));
    const html = renderReportHtml(report);
    expect(count(html, 'data-attempt="')).toBe(10_250);
    expect(count(html, 'data-barrier="')).toBe(2);
  });

  it('writes report.json in pieces as JSON.stringify would, and a page made again from it is the same', () => {
    const clock = { now: 0 };
    const log = new AttemptLog(0, () => clock.now);
    // More attempts than one piece holds, and a retry with characters JSON escapes.
    phase(log, clock, 0, 'map', 1_234, new Set([3, 999]));
    phase(log, clock, 0, 'reduce', 4, new Set([1]));
    const data = buildReport(log, facts(1, { wallMs: clock.now, error: 'a "quoted"\nline' }));
    const json = [...reportJsonPieces(data)].join('');
    const { tasks, attempts, throttled, cost, ...head } = data;
    const whole = { ...head, tasks: [...tasks()], attempts: rows(attempts), throttled, cost };
    expect(json).toBe(JSON.stringify(whole));
    const stored = JSON.parse(json) as JobReport;
    expect(stored.tasks).toHaveLength(1_238);
    expect(stored.attempts).toHaveLength(1_241);
    expect(renderReportHtml(reportDataOf(stored))).toBe(renderReportHtml(data));
  });

  it('lists the 15 longest attempts, the earlier first of equal ones', () => {
    const clock = { now: 0 };
    const log = new AttemptLog(0, () => clock.now);
    // Every attempt takes 5 ms but the two retried ones (3 ms): the first 15 tasks' attempts are listed.
    phase(log, clock, 0, 'map', 40, new Set([0, 1]));
    const html = renderReportHtml(buildReport(log, facts(1)));
    const listed = [
      ...(/<table data-slowest>(.*?)<\/table>/.exec(html)?.[1] ?? '').matchAll(
        /<tr><td class="l">([^<]+)<\/td><td>(\d+)/g,
      ),
    ];
    expect(listed.map((m) => `${m[1]}#${m[2]}`)).toEqual(
      Array.from({ length: 15 }, (_, i) => `s0-m${i}#${i < 2 ? 2 : 1}`),
    );
  });
});
