import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WORK_DIR } from '../backends/backends.js';
import { UsageError } from '../errors.js';
import {
  jobReportPrefix,
  REPORT_DIR,
  REPORT_HTML,
  REPORT_JSON,
  runReportKey,
  runsPrefix,
} from '../protocol/store-layout.js';
import type { ObjectStore } from '../store/object-store.js';
import { isUrl, openStore } from '../store/open-store.js';
import { type JobReport, priceUsage, type ReportData } from './job-report.js';
import { isAbandoned, JobState } from './job-state.js';
import type { PriceTable } from './prices.js';
import { reportHtmlPieces } from './report-html.js';
import { reportDataOf, reportJsonPieces } from './report-json.js';
import { writePieces } from './write-pieces.js';

/**
 * Writes a report's data and page under `prefix` in `store`: the data first, the page it shows last.
 * Both are written in pieces as they are made (see writePieces).
 */
async function writeReport(store: ObjectStore, prefix: string, report: ReportData): Promise<void> {
  await writePieces(store, `${prefix}${REPORT_JSON}`, reportJsonPieces(report));
  await writePieces(store, `${prefix}${REPORT_HTML}`, reportHtmlPieces(report));
}

/**
 * Stores a successful run's report: `_report/` in its output folder (before `_SUCCESS`), and the
 * data with the job's state as `runs/<n>.json`, from which `mr report` can build it again. Returns
 * where the page is: below `output`, a path or a URL.
 */
export async function saveReport(
  work: ObjectStore,
  out: ObjectStore,
  output: string,
  report: ReportData,
): Promise<string> {
  await writePieces(work, runReportKey(report.jobId, report.run), reportJsonPieces(report));
  await writeReport(out, `${REPORT_DIR}/`, report);
  return joinLocation(output, `${REPORT_DIR}/${REPORT_HTML}`);
}

/**
 * Stores the report of a run that failed or was cancelled with the job's state, as its output is
 * not complete: `jobs/<id>/_report/` and `jobs/<id>/runs/<n>.json` in the work store. Returns where
 * the page is, under `workRoot` (the work store as the user named it).
 */
export async function saveFailedReport(
  work: ObjectStore,
  workRoot: string,
  report: ReportData,
): Promise<string> {
  await writePieces(work, runReportKey(report.jobId, report.run), reportJsonPieces(report));
  const prefix = jobReportPrefix(report.jobId);
  await writeReport(work, prefix, report);
  return joinLocation(workRoot, `${prefix}${REPORT_HTML}`);
}

export interface JobReportOptions {
  /** The work store holding the job. @default `.fanout` */
  workDir?: string;
  /** Price the report again with this table; the page is then written again. */
  prices?: PriceTable;
}

/**
 * Where the page of a job's latest run is (`mr report <id>`): in its output folder if it succeeded,
 * with its state if not. A page that is missing (removed, or never written because the driver was
 * killed before it could be) is built again from the run's data kept with the job's state.
 * @throws {UsageError} when the job is not in the store, is still running, or has no run recorded.
 */
export async function jobReport(
  jobId: string,
  o: JobReportOptions = {},
): Promise<{ path: string; rebuilt: boolean }> {
  const workDir = o.workDir ?? DEFAULT_WORK_DIR;
  const workRoot = isUrl(workDir) ? workDir : resolve(workDir);
  const work = openStore(workRoot);
  const state = new JobState(work, jobId);
  const [spec, status] = await Promise.all([state.loadSpec<{ output?: string }>(), state.loadStatus()]);
  if (!spec && !status) throw new UsageError(`no job ${jobId} in ${workDir}`);
  if (status?.state === 'running' && !isAbandoned(status)) {
    throw new UsageError(`job ${jobId} is still running: its report is written when the run ends`);
  }
  let latest = 0;
  for await (const obj of work.list(runsPrefix(jobId))) {
    const n = Number(/(\d+)\.json$/.exec(obj.key)?.[1]);
    if (Number.isSafeInteger(n)) latest = Math.max(latest, n);
  }
  if (latest === 0) throw new UsageError(`job ${jobId} has no recorded run to report on in ${workDir}`);
  let report = JSON.parse(
    Buffer.from(await work.get(runReportKey(jobId, latest))).toString('utf8'),
  ) as JobReport;
  const succeeded = report.state === 'succeeded';
  const store = succeeded ? openStore(report.output) : work;
  const prefix = succeeded ? `${REPORT_DIR}/` : jobReportPrefix(jobId);
  const path = succeeded
    ? joinLocation(report.output, `${prefix}${REPORT_HTML}`)
    : joinLocation(workRoot, `${prefix}${REPORT_HTML}`);
  if (o.prices) {
    const c = report.cost;
    report = { ...report, cost: priceUsage(c.basis, c.sizeKnown, c.usage, o.prices) };
  } else if (await store.head(`${prefix}${REPORT_HTML}`)) return { path, rebuilt: false };
  await writeReport(store, prefix, reportDataOf(report));
  return { path, rebuilt: true };
}

/** A key below a location that is a local path, a `file:` URL or another URL. */
function joinLocation(root: string, key: string): string {
  if (root.startsWith('file:')) return join(fileURLToPath(root), key);
  return isUrl(root) ? `${root.replace(/\/$/, '')}/${key}` : join(root, key);
}
