/**
 * Micro-benchmark for issue #12: one word count map task's token counting (TokenCounter.addRun over
 * one 32 MiB corpus file, then writeRecords into 8 partitions), in one process alone and in two
 * processes at once (each on its own file), for the current TokenCounter and radix-partitioned
 * variants that hash each token once, append it to one of P partition buffers (sequential writes) and
 * count each buffer into that partition's own table of 1/P-th the keys.
 *
 * ```sh
 * npm run bench:wordcount -- --size 256 --only duckdb   # makes bench/data/wordcount once, if missing
 * node --import tsx bench/token-count-radix.ts [--rounds 5] [--reps 7] [--variants current,radix16,...]
 *   [--threads] [--mib 64]
 * node --import tsx bench/token-count-radix.ts --verify   # every variant's records against current's
 * ```
 *
 * Variants: `current` (src/mapper/token-count.ts), `scan` (tokenizing and hashing only, no table:
 * the floor), `radixP` (every token of the task buffered, 16 bytes each, then counted partition by
 * partition: P tables of 1/P-th the keys), `radixP-bM` (the same, but all buffers are counted
 * whenever M Mi tokens are buffered, bounding the memory). Each child process reads its file into
 * 1 MiB runs of whole lines as lineRuns does, counts it once to warm up, then `--reps` times, and
 * prints the median.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { spaceAt, TokenCounter } from '../src/mapper/token-count.js';
import { fnv1aBytes } from '../src/shuffle/hash.js';
import { RecordWriter } from '../src/shuffle/record-codec.js';
import { ByteArena, mixPacked, SLOT } from '../src/shuffle/slots.js';

const DATA = join(import.meta.dirname, 'data', 'wordcount');
const PARTITIONS = 8;
/** As map-task.ts presizes: one key per 256 bytes of the task's input, up to 2^18. */
let expectedKeys = 1 << 17;
const NL = 0x0a;

/** The 1 MiB runs of whole lines of the comma-separated `files`, one task's input. */
function runsOf(files: string): Buffer[] {
  const runs: Buffer[] = [];
  let bytes = 0;
  for (const file of files.split(',')) bytes += cut(readFileSync(file), runs);
  expectedKeys = Math.min(Math.floor(bytes / 256), 1 << 18);
  return runs;
}

function cut(all: Buffer, runs: Buffer[]): number {
  let pos = 0;
  while (pos < all.length) {
    let end = Math.min(all.length, pos + (1 << 20));
    if (end < all.length) {
      while (end > pos && all[end] !== NL) end--;
    }
    // Copies, as the stream's chunks are separate buffers.
    runs.push(Buffer.from(all.subarray(pos, end)));
    pos = end + 1;
  }
  return all.length;
}

interface Counter {
  addRun(run: Uint8Array): void;
  writeRecords(writers: readonly RecordWriter[]): void;
  readonly size: number;
  tokens: number;
}

/** Tokenizing and hashing only: what a counter costs besides its table. */
class ScanOnly implements Counter {
  tokens = 0;
  size = 0;
  sink = 0;
  addRun(run: Uint8Array): void {
    const end = run.length;
    let i = 0;
    let tokens = 0;
    let sink = 0;
    while (i < end) {
      let c = run[i] as number;
      if (c <= 0x20 || c >= 0xc2) {
        let w = c === 0x20 ? 1 : spaceAt(run, i, end);
        while (w > 0) {
          i += w;
          if (i >= end) break;
          c = run[i] as number;
          w = c === 0x20 ? 1 : c < 0x20 || c >= 0xc2 ? spaceAt(run, i, end) : 0;
        }
        if (i >= end) break;
      }
      const start = i;
      let lo = c;
      let hi = 0;
      while (++i < end) {
        c = run[i] as number;
        if ((c - 0x21) >>> 0 >= 0xa1 && (c === 0x20 || spaceAt(run, i, end) > 0)) break;
        hi = (hi << 8) | (lo >>> 24);
        lo = (lo << 8) | c;
      }
      tokens++;
      const n = i - start;
      if (n <= 8) {
        sink ^= mixPacked(lo, hi, n);
        continue;
      }
      let h = 0x811c9dc5;
      for (let k = start; k < i; k++) h = Math.imul(h ^ (run[k] as number), 0x01000193);
      sink ^= h;
    }
    this.tokens += tokens;
    this.sink ^= sink;
  }
  writeRecords(): void {}
}

/**
 * Radix-partitioned: each token is hashed once and its entry (hash, two words, ~length for a packed
 * token; hash, offset in `#long`, length for a longer one) appended to partition `hash >>> shift`'s
 * buffer. The buffers are counted into the partitions' tables at the end, or whenever `batch`
 * tokens are buffered. No overflow or invalid-UTF-8 handling: the corpus needs neither.
 */
class RadixCounter implements Counter {
  tokens = 0;
  lines = 0;
  readonly #p: number;
  readonly #shift: number;
  readonly #batch: number;
  #bufs: Int32Array[];
  readonly #pos: Int32Array;
  #buffered = 0;
  readonly #long = new ByteArena();
  readonly #arenas: ByteArena[];
  readonly #tables: Int32Array[];
  readonly #masks: Int32Array;
  readonly #sizes: Int32Array;

  constructor(bits: number, batch: number, expectedKeys: number) {
    const p = 1 << bits;
    this.#p = p;
    this.#shift = 32 - bits;
    this.#batch = batch;
    const perBuf = Number.isFinite(batch) ? Math.max(1024, Math.ceil((batch / p) * 1.5)) : 1 << 16;
    this.#bufs = Array.from({ length: p }, () => new Int32Array(perBuf * 4));
    this.#pos = new Int32Array(p);
    this.#arenas = Array.from({ length: p }, () => new ByteArena());
    let tb = 4;
    while (1 << tb < (expectedKeys / p) * 2) tb++;
    this.#tables = Array.from({ length: p }, () => new Int32Array(SLOT << tb));
    this.#masks = new Int32Array(p).fill((1 << tb) - 1);
    this.#sizes = new Int32Array(p);
  }

  get size(): number {
    this.#flushAll();
    let s = 0;
    for (const n of this.#sizes) s += n;
    return s;
  }

  addRun(run: Uint8Array): void {
    const end = run.length;
    let lines = 1;
    let tokens = 0;
    let i = 0;
    const shift = this.#shift;
    const pos = this.#pos;
    const bufs = this.#bufs;
    while (i < end) {
      let c = run[i] as number;
      if (c <= 0x20 || c >= 0xc2) {
        let w = c === 0x20 ? 1 : spaceAt(run, i, end);
        while (w > 0) {
          if (c === NL) lines++;
          i += w;
          if (i >= end) break;
          c = run[i] as number;
          w = c === 0x20 ? 1 : c < 0x20 || c >= 0xc2 ? spaceAt(run, i, end) : 0;
        }
        if (i >= end) break;
      }
      // Packed as TokenCounter packs (big-endian, shifted in while scanning).
      const start = i;
      let lo = c;
      let hi = 0;
      while (++i < end) {
        c = run[i] as number;
        if ((c - 0x21) >>> 0 >= 0xa1 && (c === 0x20 || spaceAt(run, i, end) > 0)) break;
        hi = (hi << 8) | (lo >>> 24);
        lo = (lo << 8) | c;
      }
      tokens++;
      const n = i - start;
      let h: number;
      let f1: number;
      let f2: number;
      let f3: number;
      if (n <= 8) {
        h = mixPacked(lo, hi, n);
        f1 = lo;
        f2 = hi;
        f3 = ~n;
      } else {
        h = 0x811c9dc5;
        for (let k = start; k < i; k++) h = Math.imul(h ^ (run[k] as number), 0x01000193);
        h ^= h >>> 16;
        h = Math.imul(h, 0x85ebca6b);
        h ^= h >>> 13;
        f1 = h;
        f2 = this.#long.append(run, start, i);
        f3 = n;
      }
      const p = h >>> shift;
      const buf = bufs[p] as Int32Array;
      const at = pos[p] as number;
      if (at === buf.length) {
        const next = new Int32Array(buf.length * 2);
        next.set(buf);
        bufs[p] = next;
        next[at] = h;
        next[at + 1] = f1;
        next[at + 2] = f2;
        next[at + 3] = f3;
      } else {
        buf[at] = h;
        buf[at + 1] = f1;
        buf[at + 2] = f2;
        buf[at + 3] = f3;
      }
      pos[p] = at + 4;
      if (++this.#buffered === this.#batch) this.#flushAll();
    }
    this.lines += lines;
    this.tokens += tokens;
  }

  #flushAll(): void {
    for (let p = 0; p < this.#p; p++) this.#flush(p);
    this.#buffered = 0;
    this.#long.used = 0;
  }

  /** Counts partition p's buffer into its table. */
  #flush(p: number): void {
    const buf = this.#bufs[p] as Int32Array;
    const stop = this.#pos[p] as number;
    let slots = this.#tables[p] as Int32Array;
    let mask = this.#masks[p] as number;
    const arena = this.#arenas[p] as ByteArena;
    const long = this.#long.bytes;
    let size = this.#sizes[p] as number;
    for (let at = 0; at < stop; at += 4) {
      const h = buf[at] as number;
      const f1 = buf[at + 1] as number;
      const f2 = buf[at + 2] as number;
      const f3 = buf[at + 3] as number;
      if (f3 < 0) {
        for (let s = h & mask; ; s = (s + 1) & mask) {
          const b = s * SLOT;
          const e = slots[b] as number;
          if (e === 0) {
            slots[b] = 1;
            slots[b + 1] = f1;
            slots[b + 2] = f2;
            slots[b + 3] = f3;
            if (++size * 2 > mask + 1) {
              slots = grow(slots, mask);
              mask = mask * 2 + 1;
            }
            break;
          }
          if (slots[b + 3] === f3 && slots[b + 1] === f1 && slots[b + 2] === f2) {
            slots[b] = e + 1;
            break;
          }
        }
        continue;
      }
      for (let s = h & mask; ; s = (s + 1) & mask) {
        const b = s * SLOT;
        const e = slots[b] as number;
        if (e === 0) {
          slots[b] = 1;
          slots[b + 1] = h;
          slots[b + 2] = arena.append(long, f2, f2 + f3);
          slots[b + 3] = f3;
          if (++size * 2 > mask + 1) {
            slots = grow(slots, mask);
            mask = mask * 2 + 1;
          }
          break;
        }
        if (slots[b + 1] === h && slots[b + 3] === f3) {
          const off = slots[b + 2] as number;
          const ab = arena.bytes;
          let k = 0;
          while (k < f3 && ab[off + k] === long[f2 + k]) k++;
          if (k === f3) {
            slots[b] = e + 1;
            break;
          }
        }
      }
    }
    this.#tables[p] = slots;
    this.#masks[p] = mask;
    this.#sizes[p] = size;
    this.#pos[p] = 0;
  }

  writeRecords(writers: readonly RecordWriter[]): void {
    this.#flushAll();
    const n = writers.length;
    const scratch = Buffer.alloc(8);
    for (let p = 0; p < this.#p; p++) {
      const slots = this.#tables[p] as Int32Array;
      const arena = (this.#arenas[p] as ByteArena).bytes;
      for (let b = 0; b < slots.length; b += SLOT) {
        if (slots[b] === 0) continue;
        const f3 = slots[b + 3] as number;
        let bytes: Buffer;
        if (f3 >= 0) {
          const off = slots[b + 2] as number;
          bytes = arena.subarray(off, off + f3);
        } else {
          scratch.writeInt32BE(slots[b + 2] as number, 0);
          scratch.writeInt32BE(slots[b + 1] as number, 4);
          bytes = scratch.subarray(8 + f3 + 1);
        }
        const len = bytes.length;
        (writers[fnv1aBytes(bytes, 0, len) % n] as RecordWriter).writeUtf8Key(bytes, 0, len, slots[b]);
      }
    }
  }
}

function grow(old: Int32Array, mask: number): Int32Array {
  const nmask = mask * 2 + 1;
  const data = new Int32Array((nmask + 1) * SLOT);
  for (let b = 0; b < old.length; b += SLOT) {
    if (old[b] === 0) continue;
    const f1 = old[b + 1] as number;
    const f2 = old[b + 2] as number;
    const f3 = old[b + 3] as number;
    let s = (f3 < 0 ? mixPacked(f1, f2, ~f3) : f1) & nmask;
    while (data[s * SLOT] !== 0) s = (s + 1) & nmask;
    data.set(old.subarray(b, b + SLOT), s * SLOT);
  }
  return data;
}

/** Variant `base`: the TokenCounter of another checkout, for A/B (TOKEN_COUNT_BASE=its token-count.ts). */
const BaseCounter: typeof TokenCounter | undefined =
  process.env.TOKEN_COUNT_BASE === undefined
    ? undefined
    : (await import(process.env.TOKEN_COUNT_BASE)).TokenCounter;

function make(variant: string): Counter {
  if (variant === 'current') return new TokenCounter(expectedKeys) as unknown as Counter;
  if (variant === 'base') {
    if (BaseCounter === undefined) throw new Error('variant base needs TOKEN_COUNT_BASE');
    return new BaseCounter(expectedKeys) as unknown as Counter;
  }
  if (variant === 'scan') return new ScanOnly();
  const m = /^radix(\d+)(?:-b(\d+))?$/.exec(variant);
  if (m === null) throw new Error(`unknown variant ${variant}`);
  const p = Number(m[1]);
  const bits = Math.log2(p);
  if (!Number.isInteger(bits)) throw new Error(`P must be a power of 2: ${variant}`);
  const batch = m[2] === undefined ? Number.POSITIVE_INFINITY : Number(m[2]) * 2 ** 20;
  return new RadixCounter(bits, batch, expectedKeys);
}

function once(variant: string, runs: Buffer[]): { ms: number; cpu: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const count = make(variant);
  for (const run of runs) count.addRun(run);
  const writers = Array.from({ length: PARTITIONS }, () => new RecordWriter());
  count.writeRecords(writers);
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

/**
 * The median and fastest wall time of `reps` counts, after one to warm up, and the least CPU time
 * (the process's: with --threads it counts both threads, so it is left out then).
 */
function child(variant: string, file: string, reps: number): Timing {
  const runs = runsOf(file);
  once(variant, runs);
  const times: number[] = [];
  let cpu = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    const t = once(variant, runs);
    times.push(t.ms);
    cpu = Math.min(cpu, t.cpu);
  }
  times.sort((a, b) => a - b);
  return { ms: times[reps >> 1] as number, min: times[0] as number, cpu };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface Timing {
  ms: number;
  min: number;
  cpu: number;
}

/** One counting child: a process, or with `threads` a worker thread of this one. */
function runChild(variant: string, file: string, reps: number, threads: boolean): Promise<Timing> {
  const argv = ['--child', variant, file, String(reps)];
  if (threads) {
    return new Promise((resolve, reject) => {
      // tsx's loader, registered in the worker, since a worker does not take `--import tsx`.
      const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
      const w = new Worker(boot, { eval: true, workerData: argv });
      w.once('message', (m: Timing) => resolve(m));
      w.once('error', reject);
    });
  }
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...process.execArgv, import.meta.filename, ...argv], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    c.on('error', reject);
    c.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Timing) : reject(new Error(`exit ${code}`)),
    );
  });
}

function verify(variants: string[]): void {
  const runs = runsOf(join(DATA, 'part-00.txt'));
  const recordsOf = (variant: string): Map<string, string> => {
    const seen = new Map<string, string>();
    const rec = Array.from({ length: PARTITIONS }, (_, p) => ({
      writeUtf8Key(src: Uint8Array, start: number, end: number, value: unknown) {
        seen.set(Buffer.from(src.subarray(start, end)).toString('latin1'), `${p}:${value}`);
      },
      write(key: unknown, value: unknown) {
        seen.set(String(key), `${p}:${value}`);
      },
    }));
    const c = make(variant);
    for (const run of runs) c.addRun(run);
    c.writeRecords(rec as unknown as RecordWriter[]);
    return seen;
  };
  const want = recordsOf(BaseCounter === undefined ? 'current' : 'base');
  for (const v of variants) {
    if (v === 'scan') continue;
    const got = recordsOf(v);
    let bad = got.size === want.size ? 0 : 1;
    for (const [k, x] of want) if (got.get(k) !== x) bad++;
    console.log(`${v}: ${got.size} keys (current ${want.size}), ${bad} differences`);
  }
}

async function main(): Promise<void> {
  const args = parentPort !== null ? (workerData as string[]) : process.argv.slice(2);
  if (args[0] === '--child') {
    const t = child(args[1] as string, args[2] as string, Number(args[3]));
    if (parentPort !== null) parentPort.postMessage(t);
    else process.stdout.write(`${JSON.stringify(t)}\n`);
    return;
  }
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(name);
    return i >= 0 ? (args[i + 1] as string) : dflt;
  };
  const variants = opt('--variants', 'current,scan,radix16,radix64,radix16-b2,radix64-b4').split(',');
  if (args.includes('--verify')) return verify(variants);
  const rounds = Number(opt('--rounds', '3'));
  const reps = Number(opt('--reps', '5'));
  const threads = args.includes('--threads');
  // One task's input per child: one 32 MiB file, or with --mib 64 two (as the bench's map tasks).
  const perTask = Number(opt('--mib', '32')) / 32;
  const part = (k: number) => join(DATA, `part-${String(k).padStart(2, '0')}.txt`);
  const files = [0, 1].map((t) => Array.from({ length: perTask }, (_, k) => part(t * perTask + k)).join(','));
  const alone = new Map<string, Timing[]>();
  const pair = new Map<string, Timing[]>();
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      const a = await runChild(v, files[0] as string, reps, threads);
      const [b, c] = (await Promise.all([
        runChild(v, files[0] as string, reps, threads),
        runChild(v, files[1] as string, reps, threads),
      ])) as [Timing, Timing];
      alone.set(v, [...(alone.get(v) ?? []), a]);
      pair.set(v, [
        ...(pair.get(v) ?? []),
        { ms: (b.ms + c.ms) / 2, min: (b.min + c.min) / 2, cpu: (b.cpu + c.cpu) / 2 },
      ]);
      console.error(
        `round ${r + 1} ${v}: alone ${a.ms.toFixed(0)} ms (min ${a.min.toFixed(0)}, cpu ${a.cpu.toFixed(0)}), ` +
          `two at once ${b.ms.toFixed(0)}/${c.ms.toFixed(0)} ms (min ${b.min.toFixed(0)}/${c.min.toFixed(0)}, ` +
          `cpu ${b.cpu.toFixed(0)}/${c.cpu.toFixed(0)})`,
      );
    }
  }
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;
  const what = {
    ms: "each child's median of its reps",
    min: "each child's fastest rep",
    cpu: "each child's least CPU time",
  };
  for (const k of threads ? (['ms', 'min'] as const) : (['ms', 'min', 'cpu'] as const)) {
    console.log(`\n${what[k]}, median over rounds (range):`);
    console.log('variant         alone ms              two at once ms        slowdown');
    for (const v of variants) {
      const a = (alone.get(v) as Timing[]).map((t) => t[k]);
      const p = (pair.get(v) as Timing[]).map((t) => t[k]);
      console.log(
        `${v.padEnd(14)} ${median(a).toFixed(0).padStart(5)} (${range(a)})`.padEnd(37) +
          `${median(p).toFixed(0).padStart(5)} (${range(p)})`.padEnd(22) +
          `${(median(p) / median(a)).toFixed(2)}x`,
      );
    }
  }
}

await main();
