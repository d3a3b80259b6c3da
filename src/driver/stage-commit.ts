import pLimit from 'p-limit';
import { UserCodeError } from '../errors.js';
import { badRecordsKey, TEMPORARY_DIR } from '../protocol/store-layout.js';
import type { MapResult } from '../protocol/task-types.js';
import type { ObjectStore } from '../store/object-store.js';
import type { InputObject } from './list-inputs.js';

/** Part files moved into place at once. */
const MOVES_IN_FLIGHT = 16;

/** What a committed attempt that wrote a part file returns: a reduce task's, or a map-only stage's. */
export interface PartResult {
  outputKey: string;
  /** No part file was written: an empty part without columns (see PartSink.close). */
  empty?: true;
  /** The columns it wrote (columnsSignature), where its format has columns. */
  columns?: string;
  metrics: { outputBytes: number };
}

/**
 * Commits a stage's output: moves each committed attempt's part file (a reducer's, or a map-only
 * stage's map task's) from `_temporary/` into place under `prefix`, then drops the attempts' folder
 * (the losers of commit races, failed attempts). Returns the part files, which the next stage reads.
 * A part file already in place (moved by a run that stopped during the moves) counts as moved.
 * @throws {UserCodeError} before moving any, when parts wrote different columns (see checkColumns).
 */
export async function commitParts(
  target: ObjectStore,
  committed: readonly { result: PartResult }[],
  prefix: string,
): Promise<InputObject[]> {
  checkColumns(committed);
  // A move on S3 is a copy and a delete, two requests of tens of milliseconds: a thousand part
  // files moved one at a time would take a minute (found by `mr plan --simulate`).
  const moving = pLimit(MOVES_IN_FLIGHT);
  const outputs = await Promise.all(
    committed
      .filter(({ result }) => !result.empty)
      .map(({ result }) =>
        moving(async (): Promise<InputObject> => {
          const name = result.outputKey.slice(result.outputKey.lastIndexOf('/') + 1);
          try {
            await target.rename(result.outputKey, `${prefix}${name}`);
          } catch (err) {
            // Moved by the run before, which stopped during these moves: a resumed run goes on past it.
            if (!(await target.head(`${prefix}${name}`))) throw err;
          }
          return { store: target.url, key: `${prefix}${name}`, size: result.metrics.outputBytes };
        }),
      ),
  );
  await target.deletePrefix(`${prefix}${TEMPORARY_DIR}/`);
  return outputs;
}

/**
 * Part files of one output must have the same columns, or a reader given them all (DuckDB's
 * `read_parquet('out/*.parquet')`) reads every file by the first one's schema, casting a double to
 * an integer without a word. Each part infers its columns from its own records unless the job
 * declares them, so parts can differ: that fails the job, naming two parts and what differs.
 */
function checkColumns(committed: readonly { result: PartResult }[]): void {
  let first: PartResult | undefined;
  for (const { result } of committed) {
    if (result.columns === undefined || result.empty) continue;
    if (first === undefined) first = result;
    else if (result.columns !== first.columns) {
      const name = (r: PartResult) => r.outputKey.slice(r.outputKey.lastIndexOf('/') + 1);
      throw new UserCodeError(
        `part files would have different columns: ${name(first)} has ${first.columns}, ${name(result)} has ${result.columns}; declare output.columns in the job so every part has the same`,
        { retryable: false },
      );
    }
  }
}

/**
 * Moves the skipped records of each committed map attempt from the output's `_temporary/` to
 * `_bad_records/<task>.jsonl`. Other attempts' files stay behind and go with `_temporary/`
 * (commitParts), so only the committed attempt's records remain, each once.
 */
export async function commitBadRecords(
  out: ObjectStore,
  committed: readonly { taskId: string; result: MapResult }[],
): Promise<void> {
  for (const { taskId, result } of committed) {
    if (result.badRecords) await out.rename(result.badRecords.key, badRecordsKey(taskId));
  }
}
