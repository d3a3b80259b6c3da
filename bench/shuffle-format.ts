/**
 * Shuffle format benchmark: the framed binary record format (src/shuffle/record-codec.ts) against
 * Arrow IPC (apache-arrow) for one map task's output, encoded and decoded back to (key, value)
 * pairs the way a reducer consumes them. Prints times, sizes and the ratio arrow/framed.
 *
 *   npm run bench:shuffle [-- --records 500000 --rounds 5]
 */
import { parseArgs } from 'node:util';
import { Float64, Int32, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { RecordReader, RecordWriter } from '../src/shuffle/record-codec.js';

const { values: flags } = parseArgs({
  options: { records: { type: 'string', default: '500000' }, rounds: { type: 'string', default: '5' } },
});
const N = Number(flags.records);
const ROUNDS = Number(flags.rounds);

/** Deterministic workloads shaped like real map outputs. */
function workloads(): { name: string; keys: string[]; values: unknown[] }[] {
  let s = 42;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const word = () =>
    Array.from({ length: 3 + Math.floor(rnd() * 8) }, () =>
      String.fromCharCode(97 + Math.floor(rnd() * 26)),
    ).join('');
  const keys = Array.from({ length: N }, word);
  return [
    { name: 'word counts (string -> int)', keys, values: keys.map(() => 1 + Math.floor(rnd() * 1000)) },
    { name: 'revenue (string -> float)', keys, values: keys.map(() => Math.round(rnd() * 1e6) / 100) },
    { name: 'index (string -> string[])', keys, values: keys.map(() => [`doc-${Math.floor(rnd() * 1e5)}`]) },
  ];
}

function framed(keys: string[], values: unknown[]): { bytes: number; check: number } {
  const w = new RecordWriter();
  for (let i = 0; i < keys.length; i++) w.write(keys[i], values[i]);
  const bytes = Buffer.from(w.bytes());
  const r = new RecordReader(bytes);
  let check = 0;
  while (r.next()) check += (r.key as string).length + (typeof r.value === 'number' ? 1 : 2);
  return { bytes: bytes.length, check };
}

function arrow(keys: string[], values: unknown[]): { bytes: number; check: number } {
  // Arrow needs one type per column: numbers go native (Int32 when all fit, else Float64), anything
  // else as JSON text, which is what a generic engine must do with arbitrary JSON values.
  const allInt = values.every((v) => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 31);
  const allNum = values.every((v) => typeof v === 'number');
  const valueVector = allInt
    ? vectorFromArray(values as number[], new Int32())
    : allNum
      ? vectorFromArray(values as number[], new Float64())
      : vectorFromArray(
          values.map((v) => JSON.stringify(v)),
          new Utf8(),
        );
  const table = new Table({ key: vectorFromArray(keys, new Utf8()), value: valueVector });
  const ipc = tableToIPC(table, 'stream');
  const back = tableFromIPC(ipc);
  const k = back.getChild('key');
  const v = back.getChild('value');
  let check = 0;
  if (!k || !v) throw new Error('arrow round trip lost a column');
  for (let i = 0; i < back.numRows; i++) {
    const key = k.get(i) as string;
    const raw = v.get(i) as unknown;
    const value = allNum ? raw : JSON.parse(raw as string);
    check += key.length + (typeof value === 'number' ? 1 : 2);
  }
  return { bytes: ipc.byteLength, check };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

console.log(
  `shuffle format: ${N.toLocaleString('en-US')} records per workload, ${ROUNDS} rounds, median ms (encode + decode)`,
);
for (const w of workloads()) {
  const times: Record<'framed' | 'arrow', number[]> = { framed: [], arrow: [] };
  const sizes: Record<'framed' | 'arrow', number> = { framed: 0, arrow: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of [
      ['framed', framed],
      ['arrow', arrow],
    ] as const) {
      const t0 = performance.now();
      const out = fn(w.keys, w.values);
      times[name].push(performance.now() - t0);
      sizes[name] = out.bytes;
      if (r === 0 && name === 'arrow' && out.check !== framed(w.keys, w.values).check) {
        throw new Error(`${w.name}: arrow and framed decoded different records`);
      }
    }
  }
  const f = median(times.framed);
  const a = median(times.arrow);
  console.log(
    `${w.name.padEnd(30)} framed ${f.toFixed(0).padStart(5)} ms ${(sizes.framed / 1e6).toFixed(1).padStart(5)} MB | ` +
      `arrow ${a.toFixed(0).padStart(5)} ms ${(sizes.arrow / 1e6).toFixed(1).padStart(5)} MB | arrow/framed ${(a / f).toFixed(2)}`,
  );
}
