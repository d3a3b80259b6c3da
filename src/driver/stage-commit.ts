import pLimit from 'p-limit';
import { badRecordsKey, TEMPORARY_DIR } from '../protocol/store-layout.js';
import type { MapResult } from '../protocol/task-types.js';
import type { ObjectStore } from '../store/object-store.js';
import type { InputObject } from './list-inputs.js';

/** Part files moved into place at once. */
const MOVES_IN_FLIGHT = 16;

/** What a committed attempt that wrote a part file returns: a reduce task's, or a map-only stage's. */
export interface PartResult {
  outputKey: string;
  metrics: { outputBytes: number };
}

/**
 * Commits a stage's output: moves each committed attempt's part file (a reducer's, or a map-only
 * stage's map task's) from `_temporary/` into place under `prefix`, then drops the attempts' folder
 * (the losers of commit races, failed attempts). Returns the part files, which the next stage reads.
 * A part file already in place (moved by a run that stopped during the moves) counts as moved.
 */
export async function commitParts(
  target: ObjectStore,
  committed: readonly { result: PartResult }[],
  prefix: string,
): Promise<InputObject[]> {
  // A move on S3 is a copy and a delete, two requests of tens of milliseconds: a thousand part
  // files moved one at a time would take a minute (found by `mr plan --simulate`).
  const moving = pLimit(MOVES_IN_FLIGHT);
  const outputs = await Promise.all(
    committed.map(({ result }) =>
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
