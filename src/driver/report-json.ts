import { tableOfRecords } from './attempt-columns.js';
import type { JobReport, ReportData } from './job-report.js';

/** Items of a long list (tasks, attempts) stringified into one piece. */
const ITEMS_PER_PIECE = 500;

/**
 * `report.json` in pieces: the same bytes as `JSON.stringify` of the whole report, but made a few
 * hundred tasks or attempts at a time, so a run of 100,000 attempts never holds its 30 MB of JSON
 * (nor an object per attempt) at once.
 */
export function* reportJsonPieces(r: ReportData): Generator<string> {
  const { tasks, attempts, throttled, cost, ...head } = r;
  // `{...}` without its closing brace; the lists follow in the order JobReport names them.
  yield `${JSON.stringify(head).slice(0, -1)},"tasks":[`;
  yield* listPieces(tasks());
  yield '],"attempts":[';
  yield* listPieces(
    (function* () {
      for (let i = 0; i < attempts.length; i++) yield attempts.record(i);
    })(),
  );
  yield `],"throttled":${JSON.stringify(throttled)},"cost":${JSON.stringify(cost)}}`;
}

function* listPieces(items: Iterable<unknown>): Generator<string> {
  let piece = '';
  let n = 0;
  for (const item of items) {
    piece += (n === 0 ? '' : ',') + JSON.stringify(item);
    if (++n % ITEMS_PER_PIECE === 0) {
      yield piece;
      piece = '';
    }
  }
  if (piece !== '') yield piece;
}

/** A stored report (`report.json`, `runs/<n>.json`) as the data its page is written from. */
export function reportDataOf(stored: JobReport): ReportData {
  const { tasks, attempts, ...rest } = stored;
  return { ...rest, tasks: () => tasks, attempts: tableOfRecords(attempts, tasks) };
}
