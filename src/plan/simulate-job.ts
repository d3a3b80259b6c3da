import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DEFAULT_WORK_DIR } from '../backends/backends.js';
import type { CostEstimate } from '../driver/cost.js';
import type { InputObject } from '../driver/list-inputs.js';
import type { PriceTable } from '../driver/prices.js';
import type { Phase } from '../driver/progress.js';
import { runJob } from '../driver/run-job.js';
import { UsageError } from '../errors.js';
import { compressionByName } from '../job/input-compression.js';
import type { Job } from '../job/types.js';
import { REPORT_DIR, REPORT_HTML, REPORT_JSON } from '../protocol/store-layout.js';
import type { PlanModel } from '../sim/cloud-model.js';
import { type SimCounts, SimWorld, useWorld } from '../sim/sim-world.js';
import type { PlanTarget } from './estimate.js';

export interface SimulateOptions {
  /** The input's objects: only their names and sizes are used (see scaleInput). */
  objects: readonly InputObject[];
  /** Where and how the tasks run, and the model they follow (as planJob worked them out). */
  target: PlanTarget;
  model: PlanModel;
  splitSize?: number;
  partitions?: number;
  mergeFanIn?: number;
  prices?: PriceTable;
  /** Seeds the simulation's spread, stragglers and failures. @default 1 */
  seed?: number;
  /** Folder the simulated run's report goes to. @default `.fanout/simulations/<job id>` */
  reportDir?: string;
}

/** One phase of the simulated run. */
export interface SimulatedPhase {
  stage: number;
  phase: Phase;
  tasks: number;
  seconds: number;
}

/** What a simulated run came to, on the virtual clock. */
export interface Simulation {
  jobId: string;
  inputFiles: number;
  inputBytes: number;
  /** From the driver's start to `_SUCCESS`, simulated. */
  seconds: number;
  phases: SimulatedPhase[];
  mapTasks: number;
  /** Merge tasks of the combining tier (0 where it did not run). */
  mergeTasks: number;
  reduceTasks: number;
  retries: number;
  speculated: number;
  /** The run's bill as the driver priced it (the same estimate a real aws run prints). */
  cost: CostEstimate;
  /** Requests, 503s, 429s, cold starts and the rest, counted by the simulated cloud. */
  counts: SimCounts;
  /** The simulated run's report page (a local path). */
  report: string;
  /** How long the simulation took to run, in real milliseconds. */
  realMs: number;
  /** The seed it ran with: the same seed, model and input give the same run. */
  seed: number;
}

/**
 * Runs a job's real driver and scheduler against simulated Lambda and S3 under a virtual clock
 * (see SimWorld, SimInvoker, SimStore): adaptive concurrency, retries, speculation, commits and the
 * report behave as on aws, while the tasks only take the time the model gives them. Only the input
 * objects' names and sizes are used; no byte of them is read.
 * @throws {UsageError} for compressed input (not modelled) or a stage with a sampled partition plan.
 */
export async function simulateJob(job: Job, jobFile: string, o: SimulateOptions): Promise<Simulation> {
  const compressed = o.objects.find((x) => (x.compression ?? compressionByName(x.key)) !== undefined);
  if (compressed) {
    throw new UsageError(`--simulate models uncompressed input; ${compressed.key} is compressed`);
  }
  if (job.stages.some((s) => s.partitionPlan !== undefined)) {
    throw new UsageError(
      `--simulate does not model stages that sample their input for a partition plan (${job.name})`,
    );
  }
  const seed = o.seed ?? 1;
  const world = new SimWorld(o.model, o.target.memoryMb, o.target.arch, seed);
  for (const [i, x] of o.objects.entries()) {
    world.put(`input/${String(i).padStart(6, '0')}-${basename(x.key)}`, x.size);
  }
  const phases: SimulatedPhase[] = [];
  const tasks = new Map<string, number>();
  const real = Date.now();
  useWorld(world);
  try {
    const result = await world.clock.run(() =>
      runJob(jobFile, {
        input: ['sim://input/'],
        output: 'sim://out',
        workDir: 'sim://work',
        backend: 'sim',
        concurrency: o.target.concurrency,
        ...(o.splitSize !== undefined && { splitSize: o.splitSize }),
        ...(o.partitions !== undefined && { partitions: o.partitions }),
        ...(o.mergeFanIn !== undefined && { mergeFanIn: o.mergeFanIn }),
        ...(o.prices && { prices: o.prices }),
        onProgress: (e) => {
          if (e.type === 'phase-start') tasks.set(`${e.stage}/${e.phase}`, e.tasks);
          if (e.type === 'phase-done') {
            const n = tasks.get(`${e.stage}/${e.phase}`) ?? 0;
            phases.push({ stage: e.stage, phase: e.phase, tasks: n, seconds: e.ms / 1000 });
          }
        },
      }),
    );
    const dir = resolve(o.reportDir ?? join(DEFAULT_WORK_DIR, 'simulations', result.jobId));
    mkdirSync(dir, { recursive: true });
    for (const name of [REPORT_JSON, REPORT_HTML]) {
      const stored = world.objects.get(`out/${REPORT_DIR}/${name}`);
      if (stored?.body) writeFileSync(join(dir, name), stored.body);
    }
    return {
      jobId: result.jobId,
      inputFiles: result.counters.inputFiles,
      inputBytes: result.counters.inputBytes,
      seconds: result.wallMs / 1000,
      phases,
      mapTasks: result.stages.reduce((n, s) => n + s.mapTasks, 0),
      mergeTasks: phases.filter((p) => p.phase === 'merge').reduce((n, p) => n + p.tasks, 0),
      reduceTasks: result.stages.reduce((n, s) => n + s.reduceTasks, 0),
      retries: result.counters.retries,
      speculated: result.counters.speculated,
      cost: result.cost as CostEstimate,
      counts: world.counts,
      report: join(dir, REPORT_HTML),
      realMs: Date.now() - real,
      seed,
    };
  } finally {
    useWorld(undefined);
  }
}
