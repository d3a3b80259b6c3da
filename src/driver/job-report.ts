import type { AttemptLog, AttemptRecord, AttemptTable, PhaseSpan, TaskInput } from './attempt-log.js';
import { type CostEstimate, estimateCost, type Usage } from './cost.js';
import { LOCAL_AS_LAMBDA, type PriceTable } from './prices.js';

/** What one phase of a stage read, wrote and took, summed over its committed attempts. */
export interface PhaseFigures {
  tasks: number;
  /** Attempts that ran, retried, superseded and speculative ones included. */
  attempts: number;
  bytesIn: number;
  recordsIn: number;
  bytesOut: number;
  recordsOut: number;
  /** Time its committed attempts ran. */
  taskMs: number;
}

export interface StageFigures {
  stage: number;
  map: PhaseFigures;
  /** The combining tier's merge tasks, where it ran (see mergeFanIn). */
  merge?: PhaseFigures;
  reduce: PhaseFigures;
}

/** What the run cost, or (local runs) what the same task time would cost on Lambda. */
export interface ReportCost {
  /** `aws`: the function's memory and architecture; `local`: priced as Lambda at LOCAL_AS_LAMBDA. */
  basis: 'aws' | 'local';
  /** False for an aws run whose function size could not be read: then priced as a local run is. */
  sizeKnown: boolean;
  usage: Usage;
  estimate: CostEstimate;
  /** The table the estimate was priced from (its date and region are shown beside it). */
  prices: PriceTable;
}

/** One run of a job, as `_report/report.json` holds it and the page shows it. */
export interface JobReport {
  version: 1;
  jobId: string;
  name: string;
  /** Which run of the job this was: 1, then one more for each `mr resume`. */
  run: number;
  state: 'succeeded' | 'failed' | 'cancelled';
  error?: string;
  backend: string;
  concurrency: number;
  startedAt: string;
  wallMs: number;
  output: string;
  stages: StageFigures[];
  /** Every phase as it ran; a finished one ends at a barrier on the timeline. */
  phases: PhaseSpan[];
  tasks: TaskInput[];
  attempts: AttemptRecord[];
  /** Invocations refused before they ran (Lambda 429). */
  throttled: number;
  cost: ReportCost;
}

/**
 * A report as the driver writes it (see reportJsonPieces and reportHtmlPieces): the fields of a
 * JobReport, with its tasks and attempts read one at a time from the attempt log (or from a stored
 * report's arrays, see reportDataOf) rather than held as an object each.
 */
export interface ReportData extends Omit<JobReport, 'tasks' | 'attempts'> {
  /** Every task, each once, in the order first named. */
  tasks(): Iterable<TaskInput>;
  attempts: AttemptTable;
}

/** What the driver knows of a run besides its attempts. */
export interface ReportFacts {
  jobId: string;
  name: string;
  run: number;
  state: JobReport['state'];
  error?: string;
  backend: string;
  /** Whether the backend's tasks ran on Lambda (priced at `lambda`), or here. */
  remote: boolean;
  concurrency: number;
  wallMs: number;
  output: string;
  stages: number;
  /** The function's size, where it could be read. */
  lambda?: { memoryMb: number; arch: 'arm64' | 'x86_64' };
  requests: { s3Puts: number; s3Gets: number; s3Lists: number };
  /** Intermediate bytes written: kept in the store for about the run's duration. */
  shuffleBytes: number;
  prices: PriceTable;
}

const MONTH_MS = 30 * 24 * 3600 * 1000;

/** The report of a run from its attempt log and what the driver counted. */
export function buildReport(log: AttemptLog, f: ReportFacts): ReportData {
  log.close();
  const stages: StageFigures[] = Array.from({ length: f.stages }, (_, stage) => ({
    stage,
    map: emptyFigures(),
    reduce: emptyFigures(),
  }));
  // Task ids are the specs' own strings: the set costs an entry a task, only while it is made.
  const seen = new Set<string>();
  let ranMs = 0;
  const attempts = log.attempts;
  for (let i = 0; i < attempts.length; i++) {
    const a = attempts.record(i);
    ranMs += a.endMs - a.startMs;
    const stage = stages[a.stage];
    if (!stage) continue;
    if (a.phase === 'merge' && !stage.merge) stage.merge = emptyFigures();
    const fig = a.phase === 'merge' ? (stage.merge as PhaseFigures) : stage[a.phase];
    fig.attempts++;
    if (!seen.has(a.taskId)) {
      seen.add(a.taskId);
      fig.tasks++;
    }
    if (a.outcome !== 'ok') continue;
    fig.bytesIn += a.bytesIn ?? 0;
    fig.recordsIn += a.recordsIn ?? 0;
    fig.bytesOut += a.bytesOut ?? 0;
    fig.recordsOut += a.recordsOut ?? 0;
    fig.taskMs += a.endMs - a.startMs;
  }
  const sizeKnown = f.remote && f.lambda !== undefined;
  const size = sizeKnown && f.lambda ? f.lambda : LOCAL_AS_LAMBDA;
  // Lambda bills every invocation that ran, failed and discarded ones too, for as long as it ran.
  const usage: Usage = {
    memoryMb: size.memoryMb,
    arch: size.arch,
    invocations: attempts.length,
    taskMs: ranMs,
    ...f.requests,
    storedGbMonths: (f.shuffleBytes / 1024 ** 3) * (f.wallMs / MONTH_MS),
  };
  return {
    version: 1,
    jobId: f.jobId,
    name: f.name,
    run: f.run,
    state: f.state,
    ...(f.error !== undefined && { error: f.error }),
    backend: f.backend,
    concurrency: f.concurrency,
    startedAt: new Date(log.t0).toISOString(),
    wallMs: f.wallMs,
    output: f.output,
    stages,
    phases: log.phases,
    tasks: () => log.tasks(),
    attempts,
    throttled: log.throttled,
    cost: priceUsage(f.remote ? 'aws' : 'local', sizeKnown, usage, f.prices),
  };
}

/** The cost section for `usage` at `prices`: how a report is priced again with another table. */
export function priceUsage(
  basis: ReportCost['basis'],
  sizeKnown: boolean,
  usage: Usage,
  prices: PriceTable,
): ReportCost {
  return { basis, sizeKnown, usage, estimate: estimateCost(usage, prices), prices };
}

function emptyFigures(): PhaseFigures {
  return { tasks: 0, attempts: 0, bytesIn: 0, recordsIn: 0, bytesOut: 0, recordsOut: 0, taskMs: 0 };
}
