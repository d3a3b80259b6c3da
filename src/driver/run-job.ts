import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import pLimit from 'p-limit';
import { backendNamed } from '../backends/backends.js';
import type { Invoker } from '../backends/invoker.js';
import { type BundledJob, isBundledJob, openBackend } from '../backends/open-backend.js';
import {
  CorruptDataError,
  FanoutError,
  JobCancelledError,
  JobDefinitionError,
  JobPausedError,
  noteAlso,
  TaskFailedError,
  UsageError,
} from '../errors.js';
import { checkHasStages, DEFAULT_PARTITIONS } from '../job/define-job.js';
import type { InputSpec, Job, Json, PartitionPlan, StageDefinition } from '../job/types.js';
import { DEFAULT_OUTPUT, type OutputSpec, resolveOutputSpec } from '../output/output-spec.js';
import {
  cancelKey,
  jobDataPrefix,
  mergeInputsKey,
  mergeTaskId,
  reduceInputsKey,
  SUCCESS_MARKER,
  shufflePrefix,
  stageOutputPrefix,
  TEMPORARY_DIR,
  WORK_FOLDERS,
} from '../protocol/store-layout.js';
import type { MapResult, MergeResult, ReduceResult, ShuffleOutput } from '../protocol/task-types.js';
import type { ObjectStore } from '../store/object-store.js';
import { isUrl, openStore } from '../store/open-store.js';
import { CANCEL_POLL_MS } from '../task/cancel-watch.js';
import { addFaults } from '../task/faults.js';
import { encodePartitionPlan } from '../task/partition-plan.js';
import { encodeInputList } from '../task/reduce-inputs.js';
import { userCodeError } from '../task/user-code.js';
import { AttemptLog } from './attempt-log.js';
import { BadRecordBudget } from './bad-record-budget.js';
import { CommitLedger } from './commit-ledger.js';
import { type CostEstimate, estimateCost, stageRequests } from './cost.js';
import { estimateSizes } from './estimate-sizes.js';
import { buildReport, type JobReport, type ReportData } from './job-report.js';
import { JobState } from './job-state.js';
import { type InputObject, listInputs } from './list-inputs.js';
import { mergeFanIn } from './merge-tier.js';
import { failureNotice, parseNotifyTarget, type RunFacts, sendNotice, successNotice } from './notify.js';
import { claimOutput, releaseOutput } from './output-claim.js';
import { mapResultPacker, packMapResult } from './packed-map-result.js';
import { PhaseTracker } from './phase-tracker.js';
import { type MapInput, planMapInputs } from './plan-splits.js';
import type { Phase, ProgressEvent } from './progress.js';
import { saveFailedReport, saveReport } from './report-files.js';
import { type ResolvedOptions, type RunOptions, resolveOptions } from './run-options.js';
import { sampleKeys } from './sample-keys.js';
import { type AttemptEvent, runAll, type TaskSpec } from './schedule.js';
import { sniffCompression } from './sniff-compression.js';
import { commitBadRecords, commitParts, type PartResult } from './stage-commit.js';
import {
  mapTaskSpecs,
  mergeInputs,
  mergeTaskSpecs,
  type PartsOutput,
  reduceInputs,
  reduceTaskSpecs,
  type StageContext,
} from './stage-tasks.js';

/** Totals of a run, as printed by `mr run` and stored in `_SUCCESS`. */
export interface JobCounters {
  inputFiles: number;
  inputBytes: number;
  inputRecords: number;
  shuffleBytes: number;
  outputRecords: number;
  tasks: number;
  retries: number;
  /** Speculative copies launched for stragglers. */
  speculated: number;
  spills: number;
  /** Input records skipped as bad (`input.onBadRecord: 'skip'`), written to `_bad_records/`. */
  badRecords: number;
  /** Map tasks run again because a reducer found their shuffle object failing its checksum. */
  mapsRerun: number;
  /** Faults injected on purpose (FANOUT_FAULTS), by `site:kind`; absent when none were. */
  faults?: Record<string, number>;
}

export interface StageSummary {
  stage: number;
  mapTasks: number;
  reduceTasks: number;
  mapMs: number;
  reduceMs: number;
  inputRecords: number;
  shuffleBytes: number;
  outputRecords: number;
}

/** What a successful run returns. */
export interface JobResult {
  jobId: string;
  name: string;
  /** Output folder (a local path, or a URL for remote stores). */
  output: string;
  /** Files in the output folder, `_SUCCESS` excluded. */
  parts: string[];
  wallMs: number;
  counters: JobCounters;
  stages: StageSummary[];
  /** aws runs whose function configuration could be read: what the run cost, estimated. */
  cost?: CostEstimate;
  /** The run's report page (`_report/index.html` in the output folder), a path or a URL. */
  report: string;
}

/**
 * Runs a job to completion on its backend (worker threads by default, or the Lambda runtime with
 * `backend: 'aws'`) and resolves with its counters, timings and output location. `job` is a job file
 * (bundled once and loaded by every worker thread or shipped to Lambda) or a job object made by
 * `defineJob` (run in this thread, without crash isolation).
 *
 * @example
 * const result = await runJob('jobs/wordcount.ts', { input: ['data/*.txt'], output: 'out/wc' });
 * console.log(result.counters.outputRecords);
 * @throws {UsageError} for bad options, a missing input or job file, or an output folder in use.
 * @throws {TaskFailedError} when a task exhausts its attempts; the output then has no `_SUCCESS`.
 * @throws {JobPausedError} when `options.deadline` came first: the job is resumable where it stopped.
 * With `options.notify`, each target is sent the run's summary or its error once the run ends (not
 * when it pauses).
 */
export async function runJob(job: string | URL | Job | BundledJob, options: RunOptions): Promise<JobResult> {
  const started = Date.now();
  const opts = resolveOptions(options);
  if (opts.notify.length === 0) return runResolved(job, opts, started, { name: '' });
  const targets = opts.notify.map(parseNotifyTarget);
  const facts: RunFacts = { name: jobLabel(job) };
  const emit = safeEmitter(opts.onProgress);
  const warn = (problems: string[]) => {
    for (const message of problems) emit({ type: 'warning', message });
  };
  let result: JobResult;
  try {
    result = await runResolved(job, opts, started, facts);
  } catch (err) {
    // A pause is a hand-over to the next driver, not an end: that driver notifies.
    if (!(err instanceof JobPausedError)) warn(await sendNotice(targets, failureNotice(err, facts)));
    throw err;
  }
  warn(await sendNotice(targets, successNotice(result)));
  return result;
}

/** A job's name before its definition is loaded: the job file's name. */
function jobLabel(job: string | URL | Job | BundledJob): string {
  const path =
    typeof job === 'string'
      ? job
      : job instanceof URL
        ? job.pathname
        : isBundledJob(job)
          ? job.file
          : undefined;
  return path === undefined ? (job as Job).name : basename(path).replace(/\.[cm]?[jt]s$/, '');
}

/** runJob with its options resolved; `facts` learns the job's name, id and output as they are known. */
async function runResolved(
  job: string | URL | Job | BundledJob,
  opts: ResolvedOptions,
  started: number,
  facts: RunFacts,
): Promise<JobResult> {
  const emit = safeEmitter(opts.onProgress);
  if (opts.region !== undefined) await useRegion(opts.region);
  const local = !isUrl(opts.workDir);
  const work = openStore(local ? resolve(opts.workDir) : opts.workDir);
  const {
    job: definition,
    invoker,
    lambda,
    taskTimeoutMs,
  } = await openBackend(
    job,
    {
      backend: opts.backend,
      concurrency: opts.concurrency,
      work,
      // Local runs keep the bundle beside their state; a remote work store needs a local file first.
      ...(local && { bundleDir: resolve(opts.workDir) }),
      workerMemoryMb: opts.workerMemoryMb,
      functionName: opts.functionName,
      region: opts.region,
      taskTimeoutMs: opts.taskTimeoutMs,
    },
    'job',
  );
  const backend = backendNamed(opts.backend);

  let failure: unknown;
  try {
    checkHasStages(definition);
    const outputSpec = resolveOutputSpec(definition.output, {
      format: opts.outputFormat,
      compression: opts.outputCompression,
    });
    const jobId = opts.resume ?? opts.jobId ?? newJobId(definition.name);
    const state = new JobState(work, jobId);
    if (opts.jobId !== undefined && !opts.resume && (await state.loadSpec()) !== undefined) {
      throw new UsageError(`a job ${jobId} is already in ${opts.workDir}: choose another id`);
    }
    // Each run of a job (the first, then each resume) counts: attempt numbers start above the last's.
    const runs = opts.resume ? ((await state.loadSpec<{ runs?: number }>())?.runs ?? 1) : 0;
    const output = opts.output ?? resolve('out', jobId);
    Object.assign(facts, { name: definition.name, jobId, output });
    if (backend.remote) requireRemote(`--backend ${backend.name}`, output, opts.input);
    const workRoot = local ? resolve(opts.workDir) : opts.workDir;
    const inputs = await listInputs(opts.input, {
      // The run's own folders may sit inside an input folder: never read them as input.
      exclude: [output, ...WORK_FOLDERS.map((f) => joinLocation(workRoot, f))],
      allowIncomplete: opts.allowIncomplete,
    });
    const out = openStore(output);
    await claimOutput(out, output, jobId);
    const cancelling = watchForCancel(work, jobId, opts.signal);
    const pausing = pauseAt(opts.deadline);
    const run = new JobRun(
      definition,
      jobId,
      { ...opts, signal: cancelling.signal },
      invoker,
      work,
      out,
      state,
      emit,
      started,
    );
    run.firstAttempt = runs * ATTEMPTS_PER_RUN + 1;
    run.drain = pausing.signal;
    run.pricing = lambda?.memoryMb ? { memoryMb: lambda.memoryMb, arch: lambda.arch ?? 'arm64' } : undefined;
    run.taskTimeoutMs = taskTimeoutMs;
    run.run = runs + 1;
    run.backend = { name: backend.name, remote: backend.remote };
    run.outputSpec = outputSpec;
    try {
      await state.start({
        name: definition.name,
        ...(typeof job === 'string' || job instanceof URL
          ? { jobFile: resolve(job instanceof URL ? job.pathname : job) }
          : isBundledJob(job)
            ? { jobFile: job.file }
            : {}),
        // Absolute, so the job resumes from any folder.
        input: opts.input.map((i) => (isUrl(i) ? i : resolve(i))),
        output,
        options: { ...summarize(opts), workDir: workRoot },
        runs: runs + 1,
        // For `mr status`, which reads the store alone: stages with no reduce phase to wait for.
        mapOnlyStages: definition.stages.flatMap((st, i) => (st.reduce === undefined ? [i] : [])),
      });
      emit({
        type: 'job-start',
        jobId,
        name: definition.name,
        stages: definition.stages.length,
        inputFiles: inputs.length,
        inputBytes: inputs.reduce((n, o) => n + o.size, 0),
      });
      if (!backend.remote && opts.concurrency > 2 * availableParallelism()) {
        emit({
          type: 'warning',
          message: `concurrency ${opts.concurrency} starts that many worker threads on ${availableParallelism()} cores: threads beyond the cores add memory and contention, not speed`,
        });
      }
      const result = await run.execute(inputs, started, output);
      pausing.stop();
      await cancelling.stop();
      await state.finish('succeeded', result);
      return result;
    } catch (err) {
      pausing.stop();
      await cancelling.stop();
      // Drained at the deadline (and not cancelled too): the job stays running and claimed, its
      // committed tasks stored, for the next driver to resume.
      if (err instanceof JobPausedError && !cancelling.signal.aborted) {
        await state.pause();
        throw new JobPausedError(`job ${jobId} paused at its deadline: resume it to go on`, {
          cause: err,
          context: { jobId },
        });
      }
      // Clean-up failures are notes on the error, never in its place: the first cause is what the
      // user must read.
      // No attempt of the last stage wrote into the folder: it is made empty again and released.
      // Otherwise the marker stays, so the partial output is refused as input (listInputs) until a
      // run completes it, and so do the attempts' files under `_temporary/`: `mr resume` keeps the
      // committed ones, and the stage's commit drops the rest.
      if (!run.touchedOutput) {
        await out
          .deletePrefix(`${TEMPORARY_DIR}/`)
          .catch((e: unknown) => noteAlso(err, `could not remove ${output}/${TEMPORARY_DIR}/`, e));
        await releaseOutput(out).catch((e: unknown) => noteAlso(err, `could not release ${output}`, e));
      }
      // A task that saw the cancel marker before this driver did ends the run as cancelled too.
      const cancelled =
        err instanceof JobCancelledError || (err as { cause?: unknown }).cause instanceof JobCancelledError;
      const outcome = cancelled ? 'cancelled' : 'failed';
      const message = err instanceof Error ? err.message : String(err);
      // The output is not complete, so the report goes with the job's state; the error says where.
      const report = await saveFailedReport(work, workRoot, run.report(outcome, message)).catch(
        (e: unknown) => {
          noteAlso(err, 'could not write the report', e);
          return undefined;
        },
      );
      await state
        .finish(outcome, { error: message, ...(report !== undefined && { report }) })
        .catch((e: unknown) => noteAlso(err, 'could not record the job status', e));
      const thrown =
        cancelled && !(err instanceof JobCancelledError)
          ? new JobCancelledError('cancelled', { cause: err })
          : err;
      if (report !== undefined && thrown instanceof FanoutError) thrown.report = report;
      throw thrown;
    }
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    await invoker.close().catch((e: unknown) => {
      if (failure === undefined) throw e;
      noteAlso(failure, 'could not stop the workers', e);
    });
  }
}

/**
 * Cancelling a run, both ways round: the caller's signal (Ctrl-C) puts the job's cancel marker in
 * the store, so its running tasks stop at their next batch wherever they run; a marker put by
 * someone else (`mr cancel`) aborts the run as the signal would. A marker left by a run before
 * (one resumed now) is removed first.
 */
function watchForCancel(
  work: ObjectStore,
  jobId: string,
  outer: AbortSignal | undefined,
): { signal: AbortSignal; stop(): Promise<void> } {
  const inner = new AbortController();
  const key = cancelKey(jobId);
  let timer: ReturnType<typeof setInterval> | undefined;
  let stopped = false;
  const cleared = work
    .delete(key)
    .catch(() => {})
    .then(() => {
      if (stopped) return;
      timer = setInterval(() => {
        work.head(key).then(
          (found) => {
            if (found) inner.abort();
          },
          () => {},
        );
      }, CANCEL_POLL_MS);
      timer.unref();
    });
  let marked: Promise<void> | undefined;
  const mark = () => {
    marked ??= cleared.then(() => work.put(key, new Date().toISOString())).catch(() => {});
  };
  outer?.addEventListener('abort', mark, { once: true });
  return {
    signal: outer ? AbortSignal.any([outer, inner.signal]) : inner.signal,
    async stop() {
      stopped = true;
      await cleared;
      clearInterval(timer);
      outer?.removeEventListener('abort', mark);
      await marked;
    },
  };
}

/** A signal that aborts at `deadline` (ms since the epoch), or never; `stop` clears its timer. */
function pauseAt(deadline: number | undefined): { signal: AbortSignal; stop(): void } {
  const c = new AbortController();
  if (deadline === undefined) return { signal: c.signal, stop() {} };
  const timer = setTimeout(() => c.abort(), Math.max(0, deadline - Date.now()));
  return { signal: c.signal, stop: () => clearTimeout(timer) };
}

/** A folder inside a location that is a local path or a URL. */
function joinLocation(root: string, folder: string): string {
  return isUrl(root) ? `${root.replace(/\/$/, '')}/${folder}` : join(root, folder);
}

/** One run of one job: the stages, their tasks, commits and cleanup. */
class JobRun {
  /** Set for aws runs: the function's size, for the cost estimate. */
  pricing: { memoryMb: number; arch: 'arm64' | 'x86_64' } | undefined;
  /** How long an attempt may run before the backend abandons it, shown beside slow attempts. */
  taskTimeoutMs: number | undefined;
  /**
   * Set once the last stage's attempts may write into the output folder (its reduce phase, or the
   * map phase of a map-only last stage): a failed run then keeps its claim, as an attempt still
   * running when the run failed may write its part file under `_temporary/` after the clean-up.
   */
  touchedOutput = false;
  /** How the last stage writes its part files. */
  outputSpec: OutputSpec = DEFAULT_OUTPUT;
  /** The number of every task's first attempt in this run (above those of the runs before). */
  firstAttempt = 1;
  /** Aborts at the run's deadline: its phases start no attempt after it (see runAll's drain). */
  drain: AbortSignal | undefined;
  /** Which run of the job this is: 1, then one more for each resume. */
  run = 1;
  /** The backend's name and whether its tasks ran on Lambda, for the report and its cost. */
  backend = { name: 'local', remote: false };
  /** Every attempt of this run, for the report. */
  readonly log: AttemptLog;
  readonly #started: number;
  #output = '';
  /** Set once this run has run a task: from then on no earlier run's commit is kept. */
  #ranAny = false;
  /** The last attempt number each task started in this run. */
  readonly #lastAttempt = new Map<string, number>();
  /** Counted for the cost estimate: every invocation, task time inside the function, S3 requests. */
  readonly #usage = { invocations: 0, taskMs: 0, s3Puts: 0, s3Gets: 0, s3Lists: 0 };
  readonly #counters: JobCounters = {
    inputFiles: 0,
    inputBytes: 0,
    inputRecords: 0,
    shuffleBytes: 0,
    outputRecords: 0,
    tasks: 0,
    retries: 0,
    speculated: 0,
    spills: 0,
    badRecords: 0,
    mapsRerun: 0,
  };
  /** Committed map tasks that skipped bad records: their files move into `_bad_records/` at the end. */
  readonly #skipped: { taskId: string; result: MapResult }[] = [];

  constructor(
    readonly job: Job,
    readonly jobId: string,
    readonly opts: ResolvedOptions,
    readonly invoker: Invoker,
    readonly work: ObjectStore,
    readonly out: ObjectStore,
    readonly state: JobState,
    readonly emit: (e: ProgressEvent) => void,
    started: number,
  ) {
    this.#started = started;
    this.log = new AttemptLog(started);
  }

  /** This run's report as things stand: its attempts so far, and how it ended. */
  report(state: JobReport['state'], error?: string): ReportData {
    return buildReport(this.log, {
      jobId: this.jobId,
      name: this.job.name,
      run: this.run,
      state,
      ...(error !== undefined && { error }),
      backend: this.backend.name,
      remote: this.backend.remote,
      concurrency: this.opts.concurrency,
      wallMs: Date.now() - this.#started,
      output: this.#output,
      stages: this.job.stages.length,
      ...(this.pricing && { lambda: this.pricing }),
      requests: { s3Puts: this.#usage.s3Puts, s3Gets: this.#usage.s3Gets, s3Lists: this.#usage.s3Lists },
      shuffleBytes: this.#counters.shuffleBytes,
      prices: this.opts.prices,
    });
  }

  async execute(inputs: InputObject[], started: number, output: string): Promise<JobResult> {
    this.#output = output;
    this.#counters.inputFiles = inputs.length;
    this.#counters.inputBytes = inputs.reduce((n, o) => n + o.size, 0);
    const stages: StageSummary[] = [];
    let objects = inputs;
    let parts: string[] = [];
    for (let s = 0; s < this.job.stages.length; s++) {
      const last = s === this.job.stages.length - 1;
      const summary = await this.#runStage(s, objects, last);
      stages.push(summary.stage);
      objects = summary.outputs;
      parts = summary.outputs.map((o) => o.key);
    }
    if (!this.opts.keepIntermediate) await this.work.deletePrefix(jobDataPrefix(this.jobId));
    // The report goes in before `_SUCCESS`: an output that looks complete always has its report.
    const report = await saveReport(this.work, this.out, output, this.report('succeeded'));
    const result: JobResult = {
      jobId: this.jobId,
      name: this.job.name,
      output,
      parts,
      wallMs: Date.now() - started,
      counters: { ...this.#counters },
      stages,
      ...(this.pricing && { cost: estimateCost({ ...this.pricing, ...this.#usage }, this.opts.prices) }),
      report,
    };
    // `_SUCCESS` goes last: its presence is what says the output is complete.
    await this.out.put(SUCCESS_MARKER, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  }

  async #runStage(
    s: number,
    objects: InputObject[],
    last: boolean,
  ): Promise<{ stage: StageSummary; outputs: InputObject[] }> {
    const stage = this.job.stages[s];
    if (!stage) throw new JobDefinitionError(`no stage ${s}`);
    const partitions = stage.partitions ?? this.opts.partitions ?? DEFAULT_PARTITIONS;
    // Later stages read this run's own part files: no user data to skip there, a bad line still fails.
    const input: InputSpec = s === 0 ? this.job.input : { format: 'jsonl' };

    // Map phase.
    // A resumed run keeps the plan its tasks were committed under. Only the job's own input may be
    // compressed; later stages read this run's part files.
    const planned = this.opts.resume ? await this.state.loadPlan(s) : undefined;
    const mapInputs =
      planned ??
      planMapInputs(
        // Parquet compresses pages inside the file, which planning cuts by bytes: nothing to sniff.
        s === 0 && input.format !== 'parquet'
          ? await estimateSizes(await sniffCompression(objects, this.opts.splitSize), this.opts.splitSize)
          : objects,
        this.opts.splitSize,
      );
    if (!planned) await this.state.savePlan(s, mapInputs);
    const ctx: StageContext = {
      jobId: this.jobId,
      stage: s,
      memoryBudget: this.opts.memoryBudget,
      workUrl: this.work.url,
      partitions,
      ...(stage.partitionPlan && {
        partitionPlan: await this.#partitionPlan(s, stage, input, mapInputs, partitions),
      }),
    };
    // The stage's output goes to the output folder when it is the last, else to the work store.
    const target = last ? this.out : this.work;
    const outPrefix = last ? '' : stageOutputPrefix(this.jobId, s);
    // Only the last stage's part files take the job's format: the stages before write JSONL for the next.
    const parts: PartsOutput = {
      store: target.url,
      prefix: outPrefix,
      ...(last &&
        (this.outputSpec.format !== 'jsonl' || this.outputSpec.compression) && { format: this.outputSpec }),
    };
    // A map-only stage's map tasks write part files, not shuffle objects (see #mapOnlyOutputs).
    const mapOnly = stage.reduce === undefined;
    const mapSpecs = mapTaskSpecs(ctx, mapInputs, input, this.out.url, mapOnly ? parts : undefined);
    // Map-only results are few fields and a key each: kept as they are, part file key and all.
    const mapLedger = new CommitLedger<MapResult>(mapOnly ? undefined : mapResultPacker(mapSpecs.length));
    const mapBytes = mapInputs.reduce((n, mi) => n + mi.bytes, 0);
    const priorMaps = await this.#prior<MapResult>(
      s,
      'map',
      async (r) =>
        (r.outputKey === undefined
          ? Boolean(await this.work.head(r.shuffleKey))
          : await partInPlace(target, { ...r, outputKey: r.outputKey }, outPrefix)) &&
        (!r.badRecords || Boolean(await this.out.head(r.badRecords.key))),
    );
    const budget = input.onBadRecord === 'skip' ? new BadRecordBudget(input.maxBadRecords) : undefined;
    if (mapOnly && last) this.touchedOutput = true;
    const mapMs = await this.#phase(
      s,
      'map',
      mapSpecs,
      mapBytes,
      mapLedger,
      priorMaps,
      async (r) => {
        await (r.outputKey === undefined ? this.work.delete(r.shuffleKey) : target.delete(r.outputKey));
        if (r.badRecords) await this.out.delete(r.badRecords.key);
      },
      budget?.add,
    );
    let maps = mapLedger.takeResults();
    this.#skipped.push(...maps.filter((m) => m.result.badRecords !== undefined));
    await this.state.saveManifest(s, 'map', maps);
    if (mapOnly) {
      const splits = mapInputs.reduce((n, mi) => n + mi.splits.length, 0);
      return this.#mapOnlyOutputs(s, last, maps, { splits, mapMs }, target, outPrefix);
    }

    // The combining tier, where it runs: merge tasks read the map outputs a group at a time and the
    // reducers read the merges, one slice per merge instead of one per map task.
    const fanIn = mergeFanIn(this.opts.mergeFanIn, maps.length, partitions, this.backend.remote);
    let merged: Committed<MergeResult>[] | undefined;
    if (fanIn !== undefined) {
      const kept = await this.#prior<MergeResult>(s, 'merge', async (r) =>
        Boolean(await this.work.head(r.shuffleKey)),
      );
      ({ maps, merged } = await this.#mergePhase(s, ctx, maps, fanIn, mapSpecs, kept));
    }

    // Reduce phase: each reducer's list of slices goes to the store first, its task carries a pointer.
    const reduceLedger = new CommitLedger<ReduceResult>();
    const shuffleBytes = maps.reduce((n, m) => n + m.result.metrics.outputBytes, 0);
    const shuffled = (): readonly { result: ShuffleOutput }[] => merged ?? maps;
    const priorReduces = await this.#prior<ReduceResult>(s, 'reduce', (r) =>
      partInPlace(target, r, outPrefix),
    );
    let lists: { count: number; crc: number }[] = [];
    let reduceMs = 0;
    if (last) this.touchedOutput = true;
    // A shuffle object that fails its checksum is never used: the map task that wrote it runs again,
    // and the reducers not yet committed run on its fresh output.
    for (let repairs = 0; ; repairs++) {
      // Each list is made as its write starts and dropped once stored: a list of a plan of 100,000
      // map tasks is 20 MB, and the reduce tasks need only its count and checksum.
      const writeList = pLimit(LISTS_IN_FLIGHT);
      lists = await Promise.all(
        Array.from({ length: partitions }, (_, p) =>
          writeList(async () => {
            const { bytes, count, crc } = encodeInputList(reduceInputs(ctx, shuffled(), p));
            await this.work.put(reduceInputsKey(this.jobId, s, p), bytes);
            return { count, crc };
          }),
        ),
      );
      const reduceSpecs = reduceTaskSpecs(ctx, lists, parts);
      const kept = new Map([...priorReduces, ...reduceLedger.results().map((r) => [r.taskId, r] as const)]);
      try {
        reduceMs += await this.#phase(s, 'reduce', reduceSpecs, shuffleBytes, reduceLedger, kept, (r) =>
          target.delete(r.outputKey),
        );
        break;
      } catch (err) {
        const corruptMerge = repairs < MAX_SHUFFLE_REPAIRS && merged ? corruptMapOf(err, merged) : undefined;
        if (corruptMerge && merged && fanIn !== undefined) {
          this.emit({
            type: 'warning',
            message: `the shuffle object of ${corruptMerge.taskId} failed its checksum: running that merge task again`,
          });
          await this.work.delete(corruptMerge.result.shuffleKey).catch(() => {});
          const kept = new Map(
            merged.filter((m) => m.taskId !== corruptMerge.taskId).map((m) => [m.taskId, m]),
          );
          ({ maps, merged } = await this.#mergePhase(s, ctx, maps, fanIn, mapSpecs, kept));
          continue;
        }
        const corrupt = repairs < MAX_SHUFFLE_REPAIRS ? corruptMapOf(err, maps) : undefined;
        if (!corrupt) throw err;
        maps = await this.#rerunMap(s, corrupt, mapSpecs, maps);
        if (merged && fanIn !== undefined) {
          // The merge of its group (groups are runs of fanIn map tasks in order) is made again.
          const group = mergeTaskId(
            s,
            Math.floor(maps.findIndex((m) => m.taskId === corrupt.taskId) / fanIn),
          );
          const kept = new Map(merged.filter((m) => m.taskId !== group).map((m) => [m.taskId, m]));
          ({ maps, merged } = await this.#mergePhase(s, ctx, maps, fanIn, mapSpecs, kept));
        }
      }
    }
    const reduceSpecCount = lists.length;
    const reduces = reduceLedger.results();
    await this.state.saveManifest(s, 'reduce', reduces);

    // Commit: the committed attempts' skipped records and part files move into place (before the
    // attempts' `_temporary/` goes); then the shuffle data can go.
    if (last) {
      this.touchedOutput = true;
      await commitBadRecords(this.out, this.#skipped);
    }
    const outputs = await commitParts(target, reduces, outPrefix);
    if (!this.opts.keepIntermediate) await this.work.deletePrefix(shufflePrefix(this.jobId, s));

    const usage = stageRequests({
      splits: mapInputs.reduce((n, mi) => n + mi.splits.length, 0),
      mapTasks: maps.length,
      partitions,
      slices: lists.reduce((n, l) => n + l.count, 0),
      merges: merged?.length ?? 0,
    });
    this.#usage.s3Gets += usage.s3Gets;
    this.#usage.s3Puts += usage.s3Puts;
    this.#usage.s3Lists += usage.s3Lists;

    const inputRecords = maps.reduce((n, m) => n + m.result.metrics.inputRecords, 0);
    const outputRecords = reduces.reduce((n, r) => n + r.result.metrics.outputRecords, 0);
    if (s === 0) {
      this.#counters.inputRecords = inputRecords;
      this.#counters.badRecords = maps.reduce((n, m) => n + (m.result.badRecords?.count ?? 0), 0);
    }
    if (last) this.#counters.outputRecords = outputRecords;
    this.#counters.shuffleBytes += shuffleBytes;
    this.#counters.tasks += mapSpecs.length + (merged?.length ?? 0) + reduceSpecCount;
    this.#counters.spills += [...maps, ...reduces].reduce((n, t) => n + t.result.metrics.spills, 0);
    return {
      stage: {
        stage: s,
        mapTasks: mapSpecs.length,
        reduceTasks: reduceSpecCount,
        mapMs,
        reduceMs,
        inputRecords,
        shuffleBytes,
        outputRecords,
      },
      outputs,
    };
  }

  /**
   * The end of a map-only stage: its map tasks' part files move into place, with the skipped
   * records of the last stage, and the stage's figures are its map phase's.
   */
  async #mapOnlyOutputs(
    s: number,
    last: boolean,
    maps: Committed<MapResult>[],
    { splits, mapMs }: { splits: number; mapMs: number },
    target: ObjectStore,
    outPrefix: string,
  ): Promise<{ stage: StageSummary; outputs: InputObject[] }> {
    if (last) {
      this.touchedOutput = true;
      await commitBadRecords(this.out, this.#skipped);
    }
    const outputs = await commitParts(
      target,
      maps.map(({ result }) => ({ result: { ...result, outputKey: result.outputKey ?? '' } })),
      outPrefix,
    );
    const usage = stageRequests({
      splits,
      mapTasks: maps.length,
      partitions: 0,
      slices: 0,
      merges: 0,
    });
    this.#usage.s3Gets += usage.s3Gets;
    this.#usage.s3Puts += usage.s3Puts;
    this.#usage.s3Lists += usage.s3Lists;
    const inputRecords = maps.reduce((n, m) => n + m.result.metrics.inputRecords, 0);
    const outputRecords = maps.reduce((n, m) => n + m.result.metrics.outputRecords, 0);
    if (s === 0) {
      this.#counters.inputRecords = inputRecords;
      this.#counters.badRecords = maps.reduce((n, m) => n + (m.result.badRecords?.count ?? 0), 0);
    }
    if (last) this.#counters.outputRecords = outputRecords;
    this.#counters.tasks += maps.length;
    this.#counters.spills += maps.reduce((n, m) => n + m.result.metrics.spills, 0);
    return {
      stage: {
        stage: s,
        mapTasks: maps.length,
        reduceTasks: 0,
        mapMs,
        reduceMs: 0,
        inputRecords,
        shuffleBytes: 0,
        outputRecords,
      },
      outputs,
    };
  }

  /**
   * The stage's partition plan, stored in the job's state for its map tasks to read: made from a
   * sample of the stage's input by the stage's `partitionPlan`, before any map task runs. A resumed
   * run keeps the plan its committed map tasks partitioned by; one stopped before storing it had run
   * no map task of the stage, and samples again.
   */
  async #partitionPlan(
    s: number,
    stage: StageDefinition,
    input: InputSpec,
    mapInputs: readonly MapInput[],
    partitions: number,
  ): Promise<NonNullable<StageContext['partitionPlan']>> {
    const stored = this.opts.resume ? await this.state.loadPartitionPlan(s) : undefined;
    if (stored) return { store: this.work.url, key: stored.key, crc: crc32(stored.bytes) };
    const planner = stage.partitionPlan as PartitionPlan<unknown>;
    const sample = await sampleKeys(stage, input, mapInputs, planner.sample, { jobId: this.jobId, stage: s });
    let plan: Json;
    try {
      plan = planner.make(sample.keys, partitions);
    } catch (err) {
      throw userCodeError('partitionPlan.make', err);
    }
    const { bytes, crc } = encodePartitionPlan({
      stage: s,
      partitions,
      records: sample.records,
      keys: sample.keys.length,
      plan,
    });
    const key = await this.state.savePartitionPlan(s, bytes);
    return { store: this.work.url, key, crc };
  }

  /**
   * The merge phase of a stage: the map outputs in groups of `fanIn` (in task order), each group's
   * list of slices stored, one merge task per group; `kept` are merges committed before (a resumed
   * run's, or those a repair need not redo). A merge that finds a map output failing its checksum
   * fails the phase; that map task runs again and the groups not yet merged go again, attempt
   * numbers above any used. Returns the stage's map results (with any rerun in place) and merges.
   */
  async #mergePhase(
    s: number,
    ctx: StageContext,
    maps: Committed<MapResult>[],
    fanIn: number,
    mapSpecs: readonly TaskSpec[],
    kept: ReadonlyMap<string, { attempt: number; result: MergeResult }>,
  ): Promise<{ maps: Committed<MapResult>[]; merged: Committed<MergeResult>[] }> {
    let done = new Map(kept);
    for (let repairs = 0; ; repairs++) {
      const groups = Array.from({ length: Math.ceil(maps.length / fanIn) }, (_, g) =>
        maps.slice(g * fanIn, (g + 1) * fanIn),
      );
      const writeList = pLimit(LISTS_IN_FLIGHT);
      const lists = await Promise.all(
        groups.map((group, g) =>
          writeList(async () => {
            const { bytes, count, crc } = encodeInputList(mergeInputs(ctx, group));
            if (!done.has(mergeTaskId(s, g))) await this.work.put(mergeInputsKey(this.jobId, s, g), bytes);
            return { group: g, count, crc, maps: group.length };
          }),
        ),
      );
      const specs = mergeTaskSpecs(ctx, lists);
      const ledger = new CommitLedger<MergeResult>();
      const bytes = maps.reduce((n, m) => n + m.result.metrics.outputBytes, 0);
      const next = Math.max(
        this.firstAttempt,
        ...specs.map((sp) => (this.#lastAttempt.get(sp.taskId) ?? 0) + 1),
      );
      try {
        await this.#phase(
          s,
          'merge',
          specs,
          bytes,
          ledger,
          done,
          (r) => this.work.delete(r.shuffleKey),
          undefined,
          next,
        );
        const merged = ledger.results();
        await this.state.saveManifest(s, 'merge', merged);
        return { maps, merged };
      } catch (err) {
        const corrupt = repairs < MAX_SHUFFLE_REPAIRS ? corruptMapOf(err, maps) : undefined;
        if (!corrupt) throw err;
        maps = await this.#rerunMap(s, corrupt, mapSpecs, maps);
        done = new Map(ledger.results().map((m) => [m.taskId, m]));
      }
    }
  }

  /**
   * Runs one map task again, with attempt numbers above its last, because its committed shuffle
   * object failed its checksum; the corrupt object (and its bad records) go, and the manifest names
   * the fresh attempt. Returns the stage's map results with the fresh one in its place.
   */
  async #rerunMap(
    s: number,
    corrupt: { taskId: string; attempt: number; result: MapResult },
    specs: readonly TaskSpec[],
    maps: { taskId: string; attempt: number; result: MapResult }[],
  ): Promise<{ taskId: string; attempt: number; result: MapResult }[]> {
    const spec = specs.find((sp) => sp.taskId === corrupt.taskId);
    if (!spec) throw new JobDefinitionError(`no map task ${corrupt.taskId}`);
    this.emit({
      type: 'warning',
      message: `the shuffle object of ${corrupt.taskId} failed its checksum: running that map task again`,
    });
    this.#counters.mapsRerun++;
    const ledger = new CommitLedger<MapResult>(packMapResult);
    const next = Math.max(corrupt.attempt, this.#lastAttempt.get(corrupt.taskId) ?? 0) + 1;
    await this.#phase(
      s,
      'map',
      [spec],
      corrupt.result.metrics.inputBytes,
      ledger,
      new Map(),
      async (r) => {
        await this.work.delete(r.shuffleKey);
        if (r.badRecords) await this.out.delete(r.badRecords.key);
      },
      undefined,
      next,
    );
    const fresh = ledger.results()[0];
    if (!fresh) throw new JobDefinitionError(`map task ${corrupt.taskId} ran again without a commit`);
    await this.work.delete(corrupt.result.shuffleKey).catch(() => {});
    if (corrupt.result.badRecords) {
      await this.out.delete(corrupt.result.badRecords.key).catch(() => {});
      const i = this.#skipped.findIndex((m) => m.taskId === corrupt.taskId);
      if (i >= 0) this.#skipped.splice(i, 1);
      if (fresh.result.badRecords) this.#skipped.push(fresh);
    }
    const repaired = maps.map((m) => (m.taskId === fresh.taskId ? fresh : m));
    await this.state.saveManifest(s, 'map', repaired);
    return repaired;
  }

  /**
   * A resumed run's commits of a phase that still hold: recorded by a run before, with their output
   * still stored. None once this run has run any task: a later phase's commits were made from outputs
   * that may since have been made again.
   */
  async #prior<R>(
    stage: number,
    phase: Phase,
    stillThere: (result: R) => Promise<boolean>,
  ): Promise<Map<string, { attempt: number; result: R }>> {
    const prior = new Map<string, { attempt: number; result: R }>();
    if (!this.opts.resume || this.#ranAny) return prior;
    for (const [taskId, c] of await this.state.loadCommits<R>(stage, phase)) {
      if (await stillThere(c.result)) prior.set(taskId, c);
    }
    return prior;
  }

  async #phase<R extends MapResult | MergeResult | ReduceResult>(
    stage: number,
    phase: Phase,
    allSpecs: TaskSpec[],
    bytes: number,
    ledger: CommitLedger<R>,
    prior: ReadonlyMap<string, { attempt: number; result: R }>,
    discard: (r: R) => Promise<void>,
    checkCommitted?: (taskId: string, r: R) => void,
    firstAttempt = this.firstAttempt,
  ): Promise<number> {
    const t0 = Date.now();
    for (const [taskId, c] of prior) {
      ledger.commit(taskId, c.attempt, c.result);
      checkCommitted?.(taskId, c.result);
    }
    const specs = allSpecs.filter((spec) => !prior.has(spec.taskId));
    if (specs.length > 0) this.#ranAny = true;
    this.emit({
      type: 'phase-start',
      stage,
      phase,
      tasks: specs.length,
      bytes,
      ...(prior.size > 0 && { kept: prior.size }),
    });
    const tracker = new PhaseTracker<R>(stage, phase, specs, this.emit, this.taskTimeoutMs);
    const logged = this.log.phase(stage, phase, specs);
    // Each commit is recorded as it happens, so a run stopped by any means resumes past it. Only
    // the records not yet stored are held (and those that failed, to fail the phase).
    const commits = new Set<Promise<void>>();
    const onEvent = (e: AttemptEvent<R>) => {
      tracker.onEvent(e);
      logged(e);
      if (e.type === 'started') this.#lastAttempt.set(e.spec.taskId, e.attempt);
      if (e.type === 'committed') {
        const saved = this.state.saveCommit(stage, phase, e.spec.taskId, e.attempt, e.result);
        commits.add(saved);
        saved.then(
          () => commits.delete(saved),
          () => {}, // awaited below
        );
      }
    };
    const tally = () => {
      this.#usage.invocations += tracker.invocations;
      this.#usage.taskMs += tracker.taskMs;
      this.#counters.retries += tracker.retries;
      this.#counters.speculated += tracker.speculated;
      if (Object.keys(tracker.faults).length > 0) {
        this.#counters.faults ??= {};
        addFaults(this.#counters.faults, tracker.faults);
      }
    };
    try {
      await runAll(specs, {
        invoker: this.invoker,
        concurrency: this.opts.concurrency,
        maxAttempts: this.opts.maxAttempts,
        retryBaseMs: this.opts.retryBaseMs,
        ledger,
        signal: this.opts.signal,
        ...(this.drain && { drain: this.drain }),
        onEvent,
        discard,
        firstAttempt,
        ...(checkCommitted && { checkCommitted }),
        ...(this.opts.speculateAfterMs !== undefined && { speculateAfterMs: this.opts.speculateAfterMs }),
      });
      await Promise.all(commits);
    } catch (err) {
      tally();
      await this.state
        .saveTaskStatus(stage, phase, tracker.status)
        .catch((e: unknown) => noteAlso(err, `could not save the status of the ${phase} tasks`, e));
      throw err;
    }
    tally();
    this.log.endPhase(stage, phase);
    await this.state.saveTaskStatus(stage, phase, tracker.status);
    const ms = Date.now() - t0;
    this.emit({ type: 'phase-done', stage, phase, ms });
    return ms;
  }
}

/** A listener that throws must not break the run, nor go unreported. */
function safeEmitter(listener: ((e: ProgressEvent) => void) | undefined): (e: ProgressEvent) => void {
  let reported = false;
  return (e) => {
    try {
      listener?.(e);
    } catch (err) {
      // Progress is advisory: the run goes on, and later events are still delivered. The first
      // failure is reported as a process warning (on stderr unless the program handles warnings).
      if (reported) return;
      reported = true;
      const message = err instanceof Error ? err.message : String(err);
      process.emitWarning(`onProgress listener threw on a ${e.type} event: ${message}`, 'FanoutWarning');
    }
  };
}

/**
 * Remote functions cannot see this machine's files: every location of their run must be remote.
 * `who` asks for it in the message: `--backend aws`, `mr submit`.
 */
export function requireRemote(who: string, output: string, inputs: readonly string[]): void {
  const local = [output, ...inputs].find((l) => !isUrl(l));
  if (local !== undefined) {
    throw new UsageError(`${who} needs s3:// locations for input and output, got ${local}`);
  }
}

/** The region S3 stores of this run use; loaded only when given, as local runs need no SDK. */
async function useRegion(region: string): Promise<void> {
  (await import('../store/s3-client.js')).useS3Region(region);
}

/** A time as job ids and run folders write it: UTC to the second, `YYYYMMDDHHMMSS`. */
export function idTime(at = new Date()): string {
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** A fresh job id: `<job name>-<UTC time to the second>-<6 hex digits>`. */
export function newJobId(name: string): string {
  return `${name}-${idTime()}-${randomBytes(3).toString('hex')}`;
}

/** The options as job.json keeps them, enough for resumeJob to run the job again. */
function summarize(o: ResolvedOptions): Record<string, unknown> {
  // A deadline belongs to one driver, not to the job: the run that resumes it sets its own.
  const { onProgress: _, signal: __, resume: ___, deadline: ____, jobId: _____, ...rest } = o;
  return rest;
}

/**
 * Whether an attempt's part file is still where it wrote it, or already moved into place under
 * `prefix` (by a run that stopped during the moves): a committed attempt a resumed run may keep.
 * An empty part wrote no file (see PartSink.close): there is nothing to look for, and it is kept.
 */
async function partInPlace(
  target: ObjectStore,
  { outputKey, empty }: Pick<PartResult, 'outputKey' | 'empty'>,
  prefix: string,
): Promise<boolean> {
  if (empty) return true;
  const moved = `${prefix}${outputKey.slice(outputKey.lastIndexOf('/') + 1)}`;
  return Boolean((await target.head(outputKey)) ?? (await target.head(moved)));
}

/** Reduce input lists made and being stored at once (each up to tens of MB in a large plan). */
const LISTS_IN_FLIGHT = 2;

/** Map tasks a stage runs again for corrupt shuffle objects before its reduce phase gives up. */
const MAX_SHUFFLE_REPAIRS = 3;

/** A committed task and its result. */
type Committed<R> = { taskId: string; attempt: number; result: R };

/** The committed task whose shuffle object failed its checksum in a failed phase, if that is why. */
function corruptMapOf<R extends ShuffleOutput>(
  err: unknown,
  maps: readonly Committed<R>[],
): Committed<R> | undefined {
  const cause = err instanceof TaskFailedError ? err.cause : undefined;
  if (!(cause instanceof CorruptDataError) || cause.context.object === undefined) return undefined;
  return maps.find((m) => m.result.shuffleKey === cause.context.object);
}

/** Attempt numbers each run of a job may use: run n's attempts start at n * 1000 + 1. */
const ATTEMPTS_PER_RUN = 1000;
