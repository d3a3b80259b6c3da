import pLimit from 'p-limit';
import { openParquetFile, rowGroupStart } from '../mapper/parquet-file.js';
import { decodeRowGroup, type OwnedRowGroup, ownedRowGroups, recordsOf } from '../mapper/parquet-split.js';
import type { Split } from '../protocol/task-types.js';
import { openStore } from '../store/open-store.js';

/** Row groups a sample decodes, at most, per this many records: each is decoded whole. */
const RECORDS_PER_GROUP = 100;
/** Footers and row groups read at once, as for text probes. */
const READS_IN_FLIGHT = 16;

/**
 * About `count` records of a Parquet input for a partition plan, from row groups spread evenly over
 * the splits' bytes: probe i of P falls at byte (i + 1/2) / P of the whole and takes the row group
 * of its file that the byte is in (the last to start at or before it), and each row group chosen
 * gives records evenly spaced through it. P is about `count` / 100, so a sample decodes at most that
 * many row groups and reads only the footers of the files probed, however large the input.
 */
export async function sampleParquet(
  splits: readonly Split[],
  columns: readonly string[] | undefined,
  count: number,
): Promise<{ split: Split; records: Record<string, unknown>[] }[]> {
  const total = splits.reduce((n, s) => n + (s.end - s.start), 0);
  if (total === 0 || count < 1) return [];
  const probes = Math.max(1, Math.ceil(count / RECORDS_PER_GROUP));
  const perProbe = Math.ceil(count / probes);
  // Probes by file: the splits of one file share its footer and its row groups.
  const byFile = new Map<string, { split: Split; offsets: number[] }>();
  let s = 0;
  let from = 0; // byte of the whole at which splits[s] begins
  for (let i = 0; i < probes; i++) {
    const byte = Math.floor(((i + 0.5) * total) / probes);
    while (byte >= from + ((splits[s] as Split).end - (splits[s] as Split).start)) {
      from += (splits[s] as Split).end - (splits[s] as Split).start;
      s++;
    }
    const split = splits[s] as Split;
    const id = `${split.store}\n${split.key}`;
    const probed = byFile.get(id) ?? { split, offsets: [] };
    probed.offsets.push(split.start + (byte - from));
    byFile.set(id, probed);
  }
  const limit = pLimit(READS_IN_FLIGHT);
  const picked = await Promise.all(
    [...byFile.values()].map(({ split, offsets }) =>
      limit(async () => {
        const whole = { ...split, start: 0, end: split.size };
        const file = await openParquetFile(openStore(split.store), split, columns);
        const groups = ownedRowGroups(file, whole);
        const wanted = new Map<number, { group: OwnedRowGroup; take: number }>();
        for (const at of offsets) {
          let o = groups[0];
          for (const c of groups) if (rowGroupStart(file.metadata, c.rowGroup) <= at) o = c;
          if (o === undefined) continue; // a file of no rows
          const w = wanted.get(o.rowGroup) ?? { group: o, take: 0 };
          w.take += perProbe;
          wanted.set(o.rowGroup, w);
        }
        return { file, split, wanted: [...wanted.values()] };
      }),
    ),
  );
  const batches = picked.flatMap(({ file, split, wanted }) =>
    wanted.map(({ group, take }) =>
      limit(async () => {
        const decoded = await decodeRowGroup(file, group.rowGroup, group.firstRow, columns);
        const n = Math.min(take, decoded.rows);
        const records = Array.from({ length: n }, (_, k) => {
          const at = Math.floor(((k + 0.5) * decoded.rows) / n);
          return recordsOf(decoded, at, at + 1)[0] as Record<string, unknown>;
        });
        // The split whose map task owns the row group, for the map's ctx.input.
        const start = rowGroupStart(file.metadata, group.rowGroup);
        const owner = splits.find(
          (o) => o.key === split.key && o.store === split.store && start >= o.start && start < o.end,
        );
        return { split: owner ?? split, records };
      }),
    ),
  );
  return Promise.all(batches);
}
