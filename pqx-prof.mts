import { statSync } from 'node:fs';
import { readParquetSplit } from './src/mapper/parquet-split.js';
import { openStore } from './src/store/open-store.js';
const key = 'uservisits.parquet';
const dir = new URL('./bench/data/uservisits-parquet/', import.meta.url);
const size = statSync(new URL(key, dir)).size;
const split = { store: dir.href, key, start: 0, end: size, size };
const t0 = performance.now();
let n = 0; let decodeWait = 0;
const m = new Map<string, number>();
let t = performance.now();
for await (const b of readParquetSplit(openStore(split.store), split, ['sourceIP', 'adRevenue'])) {
  decodeWait += performance.now() - t;
  for (const r of b.records) { const k = (r.sourceIP as string).slice(0, 8); m.set(k, (m.get(k) ?? 0) + (r.adRevenue as number)); n++; }
  t = performance.now();
}
console.log(n, m.size, 'ms', performance.now() - t0, 'waiting for batches', decodeWait);
