import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { backendNamed } from '../backends/backends.js';
import { loadJobFile } from '../backends/open-backend.js';
import { estimateSizes } from '../driver/estimate-sizes.js';
import type { JobReport } from '../driver/job-report.js';
import { type InputObject, listInputs } from '../driver/list-inputs.js';
import { mergeFanIn } from '../driver/merge-tier.js';
import { planMapInputs } from '../driver/plan-splits.js';
import type { PriceTable } from '../driver/prices.js';
import { runJob } from '../driver/run-job.js';
import { DEFAULTS } from '../driver/run-options.js';
import { sniffCompression } from '../driver/sniff-compression.js';
import { UsageError } from '../errors.js';
import { checkHasStages, DEFAULT_PARTITIONS } from '../job/define-job.js';
import { compressionByName } from '../job/input-compression.js';
import { REPORT_DIR, REPORT_JSON } from '../protocol/store-layout.js';
import { DEFAULT_MODEL, LOCAL_MODEL, type PlanModel, withSettings } from '../sim/cloud-model.js';
import { openStore } from '../store/open-store.js';
import { estimatePlan, type PlanEstimate, type PlanTarget, type StageShape } from './estimate.js';
import { type InputScale, scaleInput } from './scaled-input.js';
import { type Simulation, simulateJob } from './simulate-job.js';

export interface PlanOptions {
  input: readonly string[];
  backend?: string;
  concurrency?: number;
  /** Function memory, MB (aws). @default 1769, one vCPU */
  memoryMb?: number;
  arch?: 'arm64' | 'x86_64';
  splitSize?: number;
  partitions?: number;
  /** `name=value` settings of the model (see PlanModel). */
  settings?: readonly string[];
  /** Measure the job's rates and sizes on a sample of the input first (runs it locally, once). */
  calibrate?: boolean;
  /** Prices to estimate the cost with (see prices.ts). @default the built-in table */
  prices?: PriceTable;
  /** Map outputs per merge task; 0 never merges. @default as a run decides (see mergeFanIn) */
  mergeFanIn?: number;
  /** Plan for this much input rather than the listed (see scaleInput). */
  scale?: InputScale;
  /**
   * Also run the job's driver against simulated Lambda and S3 (see simulateJob): the plan then
   * carries the simulated run's time, cost and report. Models Lambda: not for the local backend.
   */
  simulate?: { seed?: number; reportDir?: string };
}

export interface JobPlan extends PlanEstimate {
  job: string;
  backend: string;
  target: PlanTarget;
  inputFiles: number;
  inputBytes: number;
  model: PlanModel;
  /** What --calibrate measured, when asked. */
  calibration?: Calibration;
  /** The simulated run, when asked. */
  simulation?: Simulation;
}

export interface Calibration {
  sampleBytes: number;
  mapMBps: number;
  reduceMBps: number;
  shuffleRatio: number;
  outputRatio: number;
  recordBytes: number;
}

/**
 * Bytes of input --calibrate maps, at most: one map task's worth (a task's combine shrinks its
 * shuffle by as much as a real task's would), enough for a rate, small enough to take seconds.
 */
const MAX_SAMPLE_BYTES = 64 * 1024 * 1024;

/**
 * Plans a job without running it: lists and sizes the input as a run would, cuts it into the same map
 * tasks, and estimates each stage's shuffle, requests, time and cost (see estimatePlan). Nothing is
 * written to the output or the work store; --calibrate runs the job once on a sample, in a
 * temporary folder.
 */
export async function planJob(jobFile: string, o: PlanOptions): Promise<JobPlan> {
  const backend = backendNamed(o.backend ?? (o.simulate ? 'aws' : 'local')).name;
  if (o.simulate && backend === 'local') {
    throw new UsageError(
      '--simulate models Lambda and S3: plan for --backend aws (the default with --simulate)',
    );
  }
  const splitSize = o.splitSize ?? DEFAULTS.splitSize;
  const bundleDir = mkdtempSync(join(tmpdir(), 'fanout-plan-'));
  try {
    const { job } = await loadJobFile(jobFile, 'job', bundleDir);
    checkHasStages(job);
    const objects = await listInputs(o.input);
    // Parquet compresses pages inside the file, which planning cuts by bytes: nothing to sniff.
    const sized =
      job.input.format === 'parquet'
        ? objects
        : await estimateSizes(await sniffCompression(objects, splitSize), splitSize);
    const base = backend === 'local' ? { ...DEFAULT_MODEL, ...LOCAL_MODEL } : DEFAULT_MODEL;
    let model = withSettings(base, o.settings ?? []);
    let calibration: Calibration | undefined;
    if (o.calibrate) {
      if (job.input.format === 'parquet') {
        throw new UsageError(
          '--calibrate samples the first bytes of text input; it cannot sample parquet input',
        );
      }
      calibration = await calibrate(jobFile, sized, splitSize);
      const { mapMBps, reduceMBps, shuffleRatio, outputRatio, recordBytes } = calibration;
      // What was set by hand wins over what was measured.
      model = withSettings(
        { ...model, mapMBps, reduceMBps, shuffleRatio, outputRatio, recordBytes },
        o.settings ?? [],
      );
    }
    const input = o.scale ? scaleInput(sized, o.scale) : sized;
    const target: PlanTarget = {
      concurrency: o.concurrency ?? (backend === 'local' ? availableParallelism() : model.accountConcurrency),
      memoryMb: o.memoryMb ?? model.fullCoreMb,
      arch: o.arch ?? 'arm64',
    };
    // Later stages read the part files of the one before: as many as it had reducers, of the size
    // the model expects.
    const shapes: StageShape[] = [];
    let stageInput: InputObject[] = input;
    for (const [s, stage] of job.stages.entries()) {
      const tasks = planMapInputs(stageInput, splitSize);
      const splits = tasks.reduce((n, t) => n + t.splits.length, 0);
      if (stage.reduce === undefined) {
        // Map-only: a part file per map task, of what it emits.
        shapes.push({ mapTaskBytes: tasks.map((t) => t.bytes), splits, reduceTasks: 0, mapOnly: true });
        stageInput = tasks.map((t, i) => ({
          store: 'plan:',
          key: `s${s}/part-m-${i}`,
          size: Math.round(t.bytes * model.shuffleRatio),
        }));
        continue;
      }
      const reduceTasks = stage.partitions ?? o.partitions ?? DEFAULT_PARTITIONS;
      const fanIn = mergeFanIn(o.mergeFanIn, tasks.length, reduceTasks, backendNamed(backend).remote);
      shapes.push({
        mapTaskBytes: tasks.map((t) => t.bytes),
        splits,
        reduceTasks,
        ...(fanIn !== undefined && { mergeFanIn: fanIn }),
      });
      const bytes = tasks.reduce((n, t) => n + t.bytes, 0) * model.shuffleRatio * model.outputRatio;
      stageInput = Array.from({ length: reduceTasks }, (_, r) => ({
        store: 'plan:',
        key: `s${s}/part-${r}`,
        size: Math.round(bytes / reduceTasks),
      }));
    }
    const estimate = estimatePlan(shapes, target, model, o.prices);
    // A LIST per 1,000 objects listed, as S3 pages them.
    estimate.requests.list = Math.max(1, Math.ceil(input.length / 1000));
    const simulation =
      o.simulate &&
      (await simulateJob(job, jobFile, {
        objects: input,
        target,
        model,
        splitSize,
        ...(o.partitions !== undefined && { partitions: o.partitions }),
        ...(o.mergeFanIn !== undefined && { mergeFanIn: o.mergeFanIn }),
        ...(o.prices && { prices: o.prices }),
        ...o.simulate,
      }));
    return {
      job: job.name,
      backend,
      target,
      inputFiles: input.length,
      inputBytes: input.reduce((n, x) => n + x.size, 0),
      model,
      ...estimate,
      ...(calibration && { calibration }),
      ...(simulation && { simulation }),
    };
  } finally {
    rmSync(bundleDir, { recursive: true, force: true });
  }
}

/**
 * Runs the job locally, on one worker, over the first split's worth of its input (at most MAX_SAMPLE_BYTES) (whole lines of the
 * first objects), and measures what the model needs of it.
 */
async function calibrate(
  jobFile: string,
  objects: readonly InputObject[],
  splitSize: number,
): Promise<Calibration> {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-calibrate-'));
  try {
    const input = join(dir, 'input');
    mkdirSync(input);
    const wanted = Math.min(MAX_SAMPLE_BYTES, splitSize);
    let sampleBytes = 0;
    for (const [i, o] of objects.entries()) {
      if (sampleBytes >= wanted) break;
      const compression = o.compression ?? compressionByName(o.key);
      if (compression !== undefined) {
        throw new UsageError(`--calibrate samples uncompressed input; ${o.key} is ${compression}`);
      }
      const want = Math.min(o.size, wanted - sampleBytes);
      if (want === 0) continue;
      let bytes = Buffer.from(await openStore(o.store).get(o.key, { start: 0, end: want }));
      // Whole lines only, unless the object ends within the sample.
      if (want < o.size) {
        const nl = bytes.lastIndexOf(0x0a);
        if (nl < 0) continue;
        bytes = bytes.subarray(0, nl + 1);
      }
      writeFileSync(join(input, `${String(i).padStart(5, '0')}-${basename(o.key)}`), bytes);
      sampleBytes += bytes.length;
    }
    if (sampleBytes === 0) throw new UsageError('--calibrate: the input holds no whole line to sample');
    const out = join(dir, 'out');
    const result = await runJob(jobFile, {
      input: [input],
      output: out,
      workDir: join(dir, 'work'),
      concurrency: 1,
      splitSize,
      // One reducer, so the reduce rate is of one task over the whole sample's shuffle, not of a
      // task's start (a stage's own partitions still win).
      partitions: 1,
    });
    const first = result.stages[0];
    const last = result.stages[result.stages.length - 1];
    if (!first || !last) throw new UsageError('--calibrate: the job has no stages');
    const outputBytes = readdirSync(out)
      .filter((n) => !n.startsWith('_'))
      .reduce((n, f) => n + statSync(join(out, f)).size, 0);
    // The tasks' own time, from the report: a phase's wall time on a sample is mostly start-up.
    const report = JSON.parse(readFileSync(join(out, REPORT_DIR, REPORT_JSON), 'utf8')) as JobReport;
    const figures = report.stages[0];
    const mapMs = figures?.map.taskMs ?? first.mapMs;
    const reduceMs = figures?.reduce.taskMs ?? first.reduceMs;
    const rate = (bytes: number, ms: number) => Math.max(0.01, bytes / 1e6 / (Math.max(ms, 1) / 1000));
    return {
      sampleBytes,
      mapMBps: rate(sampleBytes, mapMs),
      reduceMBps: rate(first.shuffleBytes, reduceMs),
      shuffleRatio: Math.max(1e-6, first.shuffleBytes / sampleBytes),
      outputRatio: Math.max(1e-6, outputBytes / Math.max(1, last.shuffleBytes)),
      recordBytes: Math.max(1, sampleBytes / Math.max(1, first.inputRecords)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
