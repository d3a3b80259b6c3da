import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { PhaseEstimate } from '../plan/estimate.js';
import { type JobPlan, planJob } from '../plan/plan-job.js';
import type { Simulation } from '../plan/simulate-job.js';
import { fanInFlag, formatBytes, parseCount, parseSize } from './parse-size.js';
import { pricesFrom } from './prices-flag.js';

/** Flags of `mr plan`, as commander hands them over. */
export interface PlanFlags {
  input?: string[];
  backend?: string;
  concurrency?: string;
  memory?: string;
  arch?: string;
  splitSize?: string;
  mergeFanIn?: string;
  partitions?: string;
  set?: string[];
  calibrate?: boolean;
  prices?: string;
  json?: boolean;
  simulate?: boolean;
  inputSize?: string;
  inputFiles?: string;
  seed?: string;
  reportDir?: string;
}

/** `mr plan`: lists the input, plans the tasks and prints the estimate; runs nothing (but --calibrate). */
export async function planCommand(jobArg: string, flags: PlanFlags): Promise<JobPlan> {
  const jobFile = resolve(jobArg);
  if (!existsSync(jobFile)) throw new UsageError(`job file not found: ${jobArg}`);
  if (!flags.input || flags.input.length === 0) throw new UsageError('mr plan needs --input');
  for (const [flag, given] of [
    ['--seed', flags.seed],
    ['--report-dir', flags.reportDir],
  ] as const) {
    if (given !== undefined && !flags.simulate) throw new UsageError(`${flag} goes with --simulate`);
  }
  if (flags.arch !== undefined && flags.arch !== 'arm64' && flags.arch !== 'x86_64')
    throw new UsageError(`--arch must be arm64 or x86_64, got ${JSON.stringify(flags.arch)}`);
  const memoryMb = flags.memory === undefined ? undefined : parseCount(flags.memory, '--memory', 128);
  if (memoryMb !== undefined && memoryMb > 10_240)
    throw new UsageError(`--memory must be at most 10240 (MB, Lambda's limit), got ${memoryMb}`);
  const plan = await planJob(jobFile, {
    input: flags.input,
    ...(flags.backend !== undefined && { backend: flags.backend }),
    ...(flags.concurrency !== undefined && { concurrency: parseCount(flags.concurrency, '--concurrency') }),
    ...(memoryMb !== undefined && { memoryMb }),
    ...(flags.arch !== undefined && { arch: flags.arch as 'arm64' | 'x86_64' }),
    ...(flags.splitSize !== undefined && { splitSize: parseSize(flags.splitSize, '--split-size') }),
    ...(flags.partitions !== undefined && { partitions: parseCount(flags.partitions, '--partitions') }),
    ...(flags.mergeFanIn !== undefined && { mergeFanIn: fanInFlag(flags.mergeFanIn) }),
    ...(flags.set && { settings: flags.set }),
    ...(flags.calibrate && { calibrate: true }),
    ...pricesFrom(flags.prices),
    ...((flags.inputSize !== undefined || flags.inputFiles !== undefined) && {
      scale: {
        ...(flags.inputSize !== undefined && { bytes: parseSize(flags.inputSize, '--input-size') }),
        ...(flags.inputFiles !== undefined && { files: parseCount(flags.inputFiles, '--input-files') }),
      },
    }),
    ...(flags.simulate && {
      simulate: {
        ...(flags.seed !== undefined && { seed: parseCount(flags.seed, '--seed', 0) }),
        ...(flags.reportDir !== undefined && { reportDir: flags.reportDir }),
      },
    }),
  });
  process.stdout.write(flags.json ? `${JSON.stringify(planJson(plan))}\n` : formatPlan(plan));
  return plan;
}

/** The plan as `--json` prints it: the totals first, then every stage and the model. */
export function planJson(p: JobPlan): Record<string, unknown> {
  const sum = (f: (s: JobPlan['stages'][number]) => number) => p.stages.reduce((n, s) => n + f(s), 0);
  return {
    job: p.job,
    backend: p.backend,
    mapTasks: sum((s) => s.mapTasks),
    mergeTasks: sum((s) => s.mergeTasks),
    reduceTasks: sum((s) => s.reduceTasks),
    inputBytes: p.inputBytes,
    inputFiles: p.inputFiles,
    shuffleBytes: Math.round(sum((s) => s.shuffleBytes)),
    shuffleObjects: sum((s) => s.shuffleObjects),
    requests: p.requests,
    estimatedSeconds: +p.seconds.toFixed(3),
    estimatedCostUsd: +p.cost.usd.toPrecision(3),
    target: p.target,
    stages: p.stages,
    cost: p.cost,
    model: p.model,
    ...(p.calibration && { calibration: p.calibration }),
    ...(p.simulation && { simulation: p.simulation }),
  };
}

const secs = (s: number) => (s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const bound = (ph: PhaseEstimate) =>
  ph.boundBy === 'tasks' ? '' : `, bound by S3's ${ph.boundBy === 's3-puts' ? 'PUT' : 'GET'} rate per prefix`;

/** The plan for people. */
export function formatPlan(p: JobPlan): string {
  const t = p.target;
  const where =
    p.backend === 'local'
      ? `local backend, ${t.concurrency} worker${t.concurrency === 1 ? '' : 's'}`
      : `${p.backend}, up to ${int(t.concurrency)} functions of ${t.memoryMb} MB (${t.arch})`;
  const lines = [
    `plan: ${p.job} over ${formatBytes(p.inputBytes)} in ${int(p.inputFiles)} file${p.inputFiles === 1 ? '' : 's'}, ${where}`,
  ];
  for (const [i, s] of p.stages.entries()) {
    const merging = s.mergeTasks > 0;
    const read = merging
      ? `merged by ${int(s.mergeTasks)} merge tasks, read as ${int(s.mapTasks)} GETs and ${int(s.mergeTasks * s.reduceTasks)} ranged GETs`
      : `read as ${int(s.mapTasks * s.reduceTasks)} ranged GETs`;
    const head = `stage ${i}: ${int(s.mapTasks)} map tasks over ${formatBytes(s.inputBytes)}`;
    if (s.reduceTasks === 0 && s.shuffleObjects === 0) {
      lines.push(
        `${head}, map-only: about ${formatBytes(s.outputBytes)} of part files straight from map`,
        `  map ${secs(s.map.seconds)}${bound(s.map)}`,
      );
      continue;
    }
    lines.push(
      `${head}, ${int(s.reduceTasks)} reduce tasks`,
      `  shuffle: about ${formatBytes(s.shuffleBytes)} in ${int(s.shuffleObjects)} objects, ${read}`,
      `  map ${secs(s.map.seconds)}${bound(s.map)}, ${s.merge ? `merge ${secs(s.merge.seconds)}${bound(s.merge)}, ` : ''}reduce ${secs(s.reduce.seconds)}${bound(s.reduce)}`,
    );
  }
  const m = p.model;
  lines.push(
    `S3 requests: ${int(p.requests.get)} GET, ${int(p.requests.put)} PUT, ${int(p.requests.list)} LIST`,
    `estimated: ${secs(p.seconds)}, $${p.cost.usd.toPrecision(3)} on Lambda (${int(p.cost.lambdaGbSeconds)} GB-s at ${t.memoryMb} MB ${t.arch}, ${int(p.cost.invocations)} invocations, S3 requests)`,
    `model: map ${m.mapMBps.toFixed(1)} MB/s and reduce ${m.reduceMBps.toFixed(1)} MB/s per core, shuffle ${m.shuffleRatio.toPrecision(3)}x input, output ${m.outputRatio.toPrecision(3)}x shuffle` +
      (p.calibration
        ? ` (measured on ${formatBytes(p.calibration.sampleBytes)} of the input)`
        : ' (assumed: --calibrate measures this job)') +
      `; S3 ${m.readMBps}/${m.writeMBps} MB/s read/write per function, cold start ${m.coldStartMs} ms; --set name=value changes any`,
  );
  if (p.simulation) lines.push(...formatSimulation(p.simulation, t));
  return `${lines.join('\n')}\n`;
}

/** The simulated run for people: its time by phase, what it cost, what the cloud pushed back with. */
function formatSimulation(s: Simulation, t: JobPlan['target']): string[] {
  const c = s.counts;
  const phases = s.phases.map((ph) => `stage ${ph.stage} ${ph.phase} ${secs(ph.seconds)}`).join(', ');
  const r = c.requests;
  return [
    `simulated (the driver's own scheduler against simulated Lambda and S3, seed ${s.seed}): ${secs(s.seconds)}, $${s.cost.usd.toPrecision(3)}`,
    `  ${phases}; ${int(s.mapTasks)} map${s.mergeTasks > 0 ? `, ${int(s.mergeTasks)} merge` : ''} and ${int(s.reduceTasks)} reduce tasks, peak ${int(c.peakConcurrency)} of ${int(t.concurrency)} functions, ${int(c.coldStarts)} cold starts`,
    `  ${int(s.retries)} retries, ${int(s.speculated)} speculative copies, ${int(c.throttles)} invocations refused (429), ${int(c.slowDowns)} S3 SlowDowns (503), ${int(c.stragglers)} stragglers, ${int(c.failures)} failed attempts`,
    `  S3 requests: ${int(r.get)} GET, ${int(r.put)} PUT, ${int(r.list)} LIST, ${int(r.head)} HEAD, ${int(r.delete)} DELETE`,
    `  report: ${s.report} (simulated in ${secs(s.realMs / 1000)})`,
  ];
}
