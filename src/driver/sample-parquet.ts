import pLimit from 'p-limit';
import { openParquetFile, rowGroupStart } from '../mapper/parquet-file.js';
import { decodeRowGroup, type OwnedRowGroup, ownedRowGroups } from '../mapper/parquet-split.js';
import type { Split } from '../protocol/task-types.js';
import { openStore } from '../store/open-store.js';

/** Row groups a sample decodes, at most, per this many records: each is decoded whole. */
const RECORDS_PER_GROUP = 100;
/** Footers and row groups read at once, as for text probes. */
const READS_IN_FLIGHT = 16;

/**
 * About `count` records of a Parquet input for a partition plan, from row groups spread evenly over
 * the splits' bytes: probe i of P falls at byte (i + 1/2) / P of the whole and takes the row group
 * its split owns at or before that byte (the split's first, if none starts before it), and each row
 * group chosen gives records evenly spaced through it. P is about `count` / 100, so a sample decodes
 * at most that many row groups and reads only the footers of the splits probed, however large the
 * input. A probe in a split that owns no row group (a byte range inside one) takes nothing.
 */
export async function sampleParquet(
  splits: readonly Split[],
  columns: readonly string[] | undefined,
  count: number,
): Promise<Record<string, unknown>[][]> {
  const total = splits.reduce((n, s) => n + (s.end - s.start), 0);
  if (total === 0 || count < 1) return [];
  const probes = Math.max(1, Math.ceil(count / RECORDS_PER_GROUP));
  const perProbe = Math.ceil(count / probes);
  const bySplit = new Map<Split, number[]>();
  let s = 0;
  let from = 0; // byte of the whole at which splits[s] begins
  for (let i = 0; i < probes; i++) {
    const byte = Math.floor(((i + 0.5) * total) / probes);
    while (byte >= from + ((splits[s] as Split).end - (splits[s] as Split).start)) {
      from += (splits[s] as Split).end - (splits[s] as Split).start;
      s++;
    }
    const split = splits[s] as Split;
    bySplit.set(split, [...(bySplit.get(split) ?? []), split.start + (byte - from)]);
  }
  const limit = pLimit(READS_IN_FLIGHT);
  const picked = await Promise.all(
    [...bySplit].map(([split, offsets]) =>
      limit(async () => {
        const file = await openParquetFile(openStore(split.store), split, columns);
        const owned = ownedRowGroups(file, split);
        const wanted = new Map<OwnedRowGroup, number>();
        if (owned.length > 0) {
          for (const at of offsets) {
            let o = owned[0] as OwnedRowGroup;
            for (const c of owned) if (rowGroupStart(file.metadata, c.rowGroup) <= at) o = c;
            wanted.set(o, (wanted.get(o) ?? 0) + perProbe);
          }
        }
        return { file, wanted };
      }),
    ),
  );
  const batches = picked.flatMap(({ file, wanted }) =>
    [...wanted].map(([o, take]) =>
      limit(async () => {
        const { records } = await decodeRowGroup(file, o.rowGroup, o.firstRow, columns);
        const n = Math.min(take, records.length);
        return Array.from({ length: n }, (_, k) => records[Math.floor(((k + 0.5) * records.length) / n)]);
      }),
    ),
  );
  return (await Promise.all(batches)) as Record<string, unknown>[][];
}
