import { crc32 } from 'node:zlib';
import { CorruptDataError } from '../errors.js';
import type { PartitionSlice, ReduceInput, ReduceTask } from '../protocol/task-types.js';
import { openTaskStore } from './task-store.js';

/** A reducer's input list as the driver stores it, with what its task is told to expect of it. */
export interface StoredInputList {
  bytes: Buffer;
  /** Slices in the list. */
  count: number;
  /** CRC-32 of `bytes`. */
  crc: number;
}

/** Names the stored layout below; a list without it is the JSON array of ReduceInput written before. */
const FORMAT = 'fanout-reduce-inputs/2';

/**
 * The stored list, by column: the stores named once (`store` holds each slice's index among them,
 * and is absent when there is one), the keys without the prefix they all share. A plan of 100,000
 * map tasks makes lists of 100,000 slices: as an array of objects each was 20 MB of JSON and about
 * 30 MB of small objects and strings once parsed, in every reduce task; so it is 5 MB and 12 MB.
 */
interface InputColumns {
  format: typeof FORMAT;
  stores: string[];
  prefix: string;
  store?: number[];
  key: string[];
  offset: number[];
  length: number[];
  records: number[];
  crc: number[];
}

/**
 * Encodes reducer p's list of slices for the store (JSON, by column), with its count and checksum.
 * `list` is read twice, in the same order each time; the driver hands the entries over one at a time,
 * without building an array of them per partition.
 */
export function encodeInputList(list: Iterable<ReduceInput>): StoredInputList {
  let prefix: string | undefined;
  let entries = 0;
  for (const { key } of list) {
    prefix = prefix === undefined ? key : sharedStart(prefix, key);
    entries++;
  }
  const stores: string[] = [];
  const storeIndex = new Map<string, number>();
  const columns = {
    store: [] as number[],
    key: [] as string[],
    offset: [] as number[],
    length: [] as number[],
    records: [] as number[],
    crc: [] as number[],
  };
  const cut = prefix?.length ?? 0;
  for (const { store, key, slice } of list) {
    let s = storeIndex.get(store);
    if (s === undefined) {
      s = stores.push(store) - 1;
      storeIndex.set(store, s);
    }
    columns.store.push(s);
    columns.key.push(key.slice(cut));
    columns.offset.push(slice.offset);
    columns.length.push(slice.length);
    columns.records.push(slice.records);
    columns.crc.push(slice.crc);
  }
  // A list that reads differently the second time (a generator, spent) would store a wrong list.
  if (columns.key.length !== entries)
    throw new Error('encodeInputList: the list changed between its two reads');
  const { store, ...rest } = columns;
  const stored: InputColumns = {
    format: FORMAT,
    stores,
    prefix: prefix ?? '',
    ...(stores.length > 1 && { store }),
    ...rest,
  };
  const bytes = Buffer.from(JSON.stringify(stored));
  return { bytes, count: columns.key.length, crc: crc32(bytes) };
}

/** The longest start two strings share. */
function sharedStart(a: string, b: string): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i === a.length ? a : a.slice(0, i);
}

/**
 * Reads a reduce task's input list and checks it against the count and CRC-32 its task was given:
 * a list that lost an entry would drop that map output's records from the answer without a word.
 * A mismatch is not retryable: the stored list does not heal, and only the driver writes it.
 * The entries read their fields from the list's columns, so the list costs little more than its
 * columns for as long as the task holds it.
 */
export async function readInputList(pointer: ReduceTask['inputs']): Promise<ReduceInput[]> {
  const bytes = await openTaskStore(pointer.store).get(pointer.key);
  if (crc32(bytes) !== pointer.crc) {
    throw new CorruptDataError(`checksum mismatch in reduce input list ${pointer.key}`);
  }
  let list: unknown;
  try {
    // A view of the bytes read, not a copy.
    list = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    // Only a list written wrong matches its checksum and is not JSON: said below.
  }
  const columns = isColumns(list) ? list : undefined;
  const count = columns ? columns.key.length : Array.isArray(list) ? list.length : undefined;
  if (count !== pointer.count) {
    const holds = count === undefined ? 'no list of slices' : `${count} slices`;
    throw new CorruptDataError(`reduce input list ${pointer.key} holds ${holds}, expected ${pointer.count}`);
  }
  if (!columns) return list as ReduceInput[];
  return Array.from({ length: count }, (_, i) => new ListedInput(columns, i));
}

function isColumns(v: unknown): v is InputColumns {
  if (typeof v !== 'object' || v === null || (v as { format?: unknown }).format !== FORMAT) return false;
  const c = v as InputColumns;
  const n = Array.isArray(c.key) ? c.key.length : -1;
  const column = (a: unknown) => Array.isArray(a) && a.length === n;
  return (
    Array.isArray(c.stores) &&
    typeof c.prefix === 'string' &&
    (c.store === undefined ? c.stores.length === 1 || n === 0 : column(c.store)) &&
    [c.offset, c.length, c.records, c.crc].every(column)
  );
}

/** One slice of a stored list, read from its columns on each use. */
class ListedInput implements ReduceInput {
  readonly #list: InputColumns;
  readonly #i: number;

  constructor(list: InputColumns, i: number) {
    this.#list = list;
    this.#i = i;
  }

  get store(): string {
    return this.#list.stores[this.#list.store?.[this.#i] ?? 0] as string;
  }

  get key(): string {
    return this.#list.prefix + (this.#list.key[this.#i] as string);
  }

  get slice(): PartitionSlice {
    const l = this.#list;
    const i = this.#i;
    return {
      offset: l.offset[i] as number,
      length: l.length[i] as number,
      records: l.records[i] as number,
      crc: l.crc[i] as number,
    };
  }

  /** The plain entry, as the list held it before it was stored by column. */
  toJSON(): ReduceInput {
    return { store: this.store, key: this.key, slice: this.slice };
  }
}
