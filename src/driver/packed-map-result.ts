import type {
  MapResult,
  PartitionSlice,
  ShuffleOutput,
  SkippedRecords,
  TaskMetrics,
} from '../protocol/task-types.js';

/** Numbers one slice packs into, in this order. */
const SLICE_FIELDS = 4;
/** The metrics kept as numbers, after the slices, in this order (as a map task writes them). */
const METRICS = ['inputBytes', 'inputRecords', 'outputRecords', 'outputBytes', 'spills', 'ms'] as const;

/**
 * The numbers of a ledger's packed map results, a row each: every slice's offset, length, record
 * count and CRC-32 as 32-bit integers in one array, the metrics as doubles in another. Rows whose
 * slice numbers do not fit 32 bits (a shuffle object past 4 GiB) keep theirs as doubles aside.
 * Sized for the phase's tasks up front, so it holds no spare capacity when the plan is right.
 */
export class MapResultColumns {
  readonly partitions: number;
  #rows = 0;
  #slices: Uint32Array;
  #metrics: Float64Array;
  readonly #wide = new Map<number, Float64Array>();
  /** What every shuffle key of the phase starts with (its folder of folders), once one is seen. */
  keyPrefix: string | undefined;

  constructor(partitions: number, capacity: number) {
    this.partitions = partitions;
    this.#slices = new Uint32Array(Math.max(1, capacity) * partitions * SLICE_FIELDS);
    this.#metrics = new Float64Array(Math.max(1, capacity) * METRICS.length);
  }

  /** Stores a result's numbers; returns its row. */
  add(r: MapResult): number {
    const row = this.#rows++;
    const width = this.partitions * SLICE_FIELDS;
    if (row * width >= this.#slices.length) this.#grow();
    const numbers = (s: PartitionSlice) => [s.offset, s.length, s.records, s.crc];
    let fits = true;
    for (let p = 0; p < this.partitions; p++) {
      const s = r.slices[p] as PartitionSlice;
      const i = row * width + p * SLICE_FIELDS;
      this.#slices[i] = s.offset;
      this.#slices[i + 1] = s.length;
      this.#slices[i + 2] = s.records;
      this.#slices[i + 3] = s.crc;
      fits &&= isUint32(s.offset) && isUint32(s.length) && isUint32(s.records) && isUint32(s.crc);
    }
    if (!fits) this.#wide.set(row, Float64Array.from(r.slices.flatMap(numbers)));
    let m = row * METRICS.length;
    for (const k of METRICS) this.#metrics[m++] = r.metrics[k];
    return row;
  }

  /** Slice `p` of a row. */
  slice(row: number, p: number): PartitionSlice {
    const wide = this.#wide.size > 0 ? this.#wide.get(row) : undefined;
    const n = wide ?? this.#slices;
    const i = (wide ? 0 : row * this.partitions * SLICE_FIELDS) + p * SLICE_FIELDS;
    return {
      offset: n[i] as number,
      length: n[i + 1] as number,
      records: n[i + 2] as number,
      crc: n[i + 3] as number,
    };
  }

  metric(row: number, m: number): number {
    return this.#metrics[row * METRICS.length + m] as number;
  }

  #grow(): void {
    const slices = new Uint32Array(this.#slices.length * 2);
    slices.set(this.#slices);
    this.#slices = slices;
    const metrics = new Float64Array(this.#metrics.length * 2);
    metrics.set(this.#metrics);
    this.#metrics = metrics;
  }
}

/**
 * A committed map result as the driver holds it until its stage ends: the same fields, but its
 * numbers in a row of the ledger's MapResultColumns, and its shuffle key without the folders every
 * key of the phase shares. As it arrives from a worker a result with 8 partitions is about 900
 * bytes of small objects and boxed numbers; packed so it is about 280, so the commits of a plan of
 * 100,000 tasks take 60 MB less. `slices` and `metrics` build fresh objects on each read: read one
 * slice with `slice(p)`.
 */
export class PackedMapResult implements MapResult {
  readonly #columns: MapResultColumns;
  readonly #row: number;
  /** The shuffle key after the columns' keyPrefix, or all of it when it does not start so. */
  readonly #keyRest: string;
  readonly #prefixed: boolean;
  /** The rare fields: bad records skipped, faults injected (FANOUT_FAULTS). */
  readonly #extra: { badRecords?: SkippedRecords; faults?: Record<string, number> } | undefined;

  /** Packs `r` into `columns` (by default its own), whose partitions must be its slice count. */
  constructor(r: MapResult, columns = new MapResultColumns(r.slices.length, 1)) {
    this.#columns = columns;
    this.#row = columns.add(r);
    const key = r.shuffleKey;
    columns.keyPrefix ??= key.slice(0, key.lastIndexOf('/', key.lastIndexOf('/') - 1) + 1);
    this.#prefixed = key.startsWith(columns.keyPrefix);
    this.#keyRest = this.#prefixed ? key.slice(columns.keyPrefix.length) : key;
    const { badRecords } = r;
    const { faults } = r.metrics;
    this.#extra =
      badRecords === undefined && faults === undefined
        ? undefined
        : { ...(badRecords && { badRecords }), ...(faults && { faults }) };
  }

  get kind(): 'map' {
    return 'map';
  }

  get shuffleKey(): string {
    return this.#prefixed ? `${this.#columns.keyPrefix}${this.#keyRest}` : this.#keyRest;
  }

  get badRecords(): SkippedRecords | undefined {
    return this.#extra?.badRecords;
  }

  /** Partition p's slice, or undefined past the last partition. */
  slice(p: number): PartitionSlice | undefined {
    if (!(p >= 0 && p < this.#columns.partitions)) return undefined;
    return this.#columns.slice(this.#row, p);
  }

  get slices(): PartitionSlice[] {
    return Array.from({ length: this.#columns.partitions }, (_, p) => this.slice(p) as PartitionSlice);
  }

  get metrics(): TaskMetrics {
    const c = this.#columns;
    const row = this.#row;
    const faults = this.#extra?.faults;
    return {
      inputBytes: c.metric(row, 0),
      inputRecords: c.metric(row, 1),
      outputRecords: c.metric(row, 2),
      outputBytes: c.metric(row, 3),
      spills: c.metric(row, 4),
      ms: c.metric(row, 5),
      ...(faults && { faults }),
    };
  }

  /** The plain result, fields in the order a map task writes them: what manifests and records hold. */
  toJSON(): MapResult {
    const badRecords = this.badRecords;
    return {
      kind: 'map',
      shuffleKey: this.shuffleKey,
      slices: this.slices,
      metrics: this.metrics,
      ...(badRecords && { badRecords }),
    };
  }
}

/**
 * How one phase's committed map results are kept (see CommitLedger): packed into one set of
 * columns sized for `tasks` results, unless a result is not the shape a map task returns or has
 * another partition count than the first (then as it is, so nothing it holds is lost).
 */
export function mapResultPacker(tasks: number): (r: MapResult) => MapResult {
  let columns: MapResultColumns | undefined;
  return (r) => {
    if (r instanceof PackedMapResult || !isPackable(r)) return r;
    columns ??= new MapResultColumns(r.slices.length, tasks);
    return r.slices.length === columns.partitions ? new PackedMapResult(r, columns) : r;
  };
}

/**
 * How a committed map result is kept (see CommitLedger): packed, unless it is not the shape a map
 * task returns (then as it is, so nothing it holds is lost).
 */
export function packMapResult(r: MapResult): MapResult {
  if (r instanceof PackedMapResult || !isPackable(r)) return r;
  return new PackedMapResult(r);
}

/** Partition p's slice of a committed map (or merge) result, packed or not. */
export function sliceOf(r: ShuffleOutput, p: number): PartitionSlice | undefined {
  return r instanceof PackedMapResult ? r.slice(p) : r.slices[p];
}

const isUint32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;

const PLAIN_FIELDS = new Set(['kind', 'shuffleKey', 'slices', 'metrics', 'badRecords']);
const SLICE_KEYS = ['offset', 'length', 'records', 'crc'] as const;

function isPackable(r: MapResult): boolean {
  if (!Object.keys(r).every((k) => PLAIN_FIELDS.has(k)) || !Array.isArray(r.slices)) return false;
  if (!Object.keys(r.metrics).every((k) => k === 'faults' || (METRICS as readonly string[]).includes(k)))
    return false;
  if (!METRICS.every((m) => typeof r.metrics[m] === 'number')) return false;
  return r.slices.every(
    (s) =>
      typeof s === 'object' &&
      s !== null &&
      Object.keys(s).length === SLICE_FIELDS &&
      SLICE_KEYS.every((k) => typeof s[k] === 'number'),
  );
}
