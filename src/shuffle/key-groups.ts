import { builtinOf } from '../job/builtins.js';
import { jsonText } from './json-text.js';
import { sortedByKey } from './key-sort.js';
import { ownString } from './own-string.js';
import { StringTable } from './string-table.js';

/** Folds values of one key into one; associative and commutative, so any grouping gives one answer. */
export type CombineFn = (key: unknown, values: unknown[]) => unknown;

/** Rough per-key cost of a Map entry (and its array, when values are collected), in bytes. */
const KEY_OVERHEAD = 96;
const VALUE_OVERHEAD = 16;

/**
 * Nesting past which estimateSize sizes a value by its JSON text instead: a walk of a circular value
 * would never end, and JSON.stringify says precisely that it is circular (see jsonText). A walk goes
 * depth first, so a cycle gets here after this many steps, whatever its branching.
 */
const WALK_DEPTH = 64;

/** Rough in-memory size of a JSON value. */
export function estimateSize(v: unknown, depth = 0): number {
  switch (typeof v) {
    case 'string':
      return 16 + v.length * 2;
    case 'number':
    case 'boolean':
      return 8;
    case 'object': {
      if (v === null) return 8;
      if (depth > WALK_DEPTH) return 2 * jsonText(v, 'value').length;
      let n = 32;
      if (Array.isArray(v)) for (const x of v) n += 8 + estimateSize(x, depth + 1);
      else
        for (const k in v)
          n += 16 + k.length * 2 + estimateSize((v as Record<string, unknown>)[k], depth + 1);
      return n;
    }
    default:
      return 8;
  }
}

/**
 * Values grouped by key, with a running estimate of the memory they hold so callers can spill past a
 * budget. With a combiner each key holds one folded value; without, every value.
 */
export interface KeyGroups {
  /** Estimated bytes held. */
  readonly bytes: number;
  /** Number of distinct keys held. */
  readonly size: number;
  add(key: unknown, value: unknown): void;
  /** Every key with its values (one value per key when combining), in insertion order. */
  entries(): IterableIterator<[unknown, unknown[]]>;
  /** Entries in key order (see compareKeys), for sorted spill runs. */
  sortedEntries(): [unknown, unknown[]][];
  clear(): void;
}

/**
 * Makes the grouping for a stage: folding as values arrive when it has a combiner. `expectedKeys`
 * presizes the table for string keys (see StringTable).
 */
export function createKeyGroups(combine?: CombineFn, expectedKeys = 0): KeyGroups {
  return combine ? new CombiningGroups(combine, expectedKeys) : new CollectingGroups();
}

/**
 * Primitive keys (strings, numbers, booleans, null) are Map keys as they are, where Map equality is
 * exactly key equality; objects and arrays are keyed by their JSON text in a second map.
 */
abstract class GroupsBase<E> {
  protected readonly prim = new Map<unknown, E>();
  protected readonly complex = new Map<string, { key: unknown; entry: E }>();
  bytes = 0;

  get size(): number {
    return this.prim.size + this.complex.size;
  }

  protected abstract valuesOf(entry: E): unknown[];

  *entries(): IterableIterator<[unknown, unknown[]]> {
    yield* this.moreEntries();
    for (const [key, entry] of this.prim) yield [key, this.valuesOf(entry)];
    for (const { key, entry } of this.complex.values()) yield [key, this.valuesOf(entry)];
  }

  /** Entries a subclass keeps outside the two maps. */
  protected *moreEntries(): IterableIterator<[unknown, unknown[]]> {}

  sortedEntries(): [unknown, unknown[]][] {
    return sortedByKey([...this.entries()]);
  }

  clear(): void {
    this.prim.clear();
    this.complex.clear();
    this.bytes = 0;
  }
}

/**
 * Folds each new value into the key's value at once, pairwise, as Spark's reduceByKey does: one Map
 * lookup per record and no per-key arrays. The two-element array handed to `combine` is reused, so
 * the hot path allocates nothing.
 */
class CombiningGroups extends GroupsBase<unknown> implements KeyGroups {
  readonly #combine: CombineFn;
  /** The combine is the built-in `sum`, folded here without a call or an array per value. */
  readonly #sums: boolean;
  readonly #pair: unknown[] = [undefined, undefined];
  /** String keys, the common case, live in a faster table than the Map other primitives use. */
  readonly #strings: StringTable<unknown>;

  constructor(combine: CombineFn, expectedKeys: number) {
    super();
    this.#combine = combine;
    this.#sums = builtinOf(combine) === 'sum';
    this.#strings = new StringTable<unknown>(expectedKeys);
  }

  override get size(): number {
    return super.size + this.#strings.size;
  }

  protected valuesOf(value: unknown): unknown[] {
    return [value];
  }

  protected override *moreEntries(): IterableIterator<[unknown, unknown[]]> {
    const { keys, values } = this.#strings;
    for (let i = 0; i < keys.length; i++) yield [keys[i], [values[i]]];
  }

  override clear(): void {
    super.clear();
    this.#strings.clear();
  }

  #fold(key: unknown, acc: unknown, value: unknown): unknown {
    // What `sum` returns for [acc, value], whatever their types: its loop adds them to 0 in turn.
    if (this.#sums) return 0 + (acc as number) + (value as number);
    const pair = this.#pair;
    pair[0] = acc;
    pair[1] = value;
    const out = this.#combine(key, pair);
    // A combiner that hands back its argument must not keep our scratch array.
    return out === pair ? [...pair] : out;
  }

  add(key: unknown, value: unknown): void {
    // Hot path, once per emitted record: a key seen before costs one probe and one combine.
    if (typeof key === 'string') {
      const table = this.#strings;
      const i = table.findOrAdd(key, value);
      if (i >= 0) {
        table.values[i] = this.#fold(key, table.values[i], value);
        // A folded number stays the size it was; a folded list or object grows about as much as the value.
        if (typeof value !== 'number') this.bytes += estimateSize(value);
      } else {
        this.bytes += KEY_OVERHEAD + 16 + key.length * 2 + estimateSize(value);
      }
      return;
    }
    if (typeof key !== 'object' || key === null) {
      const prim = this.prim;
      const acc = prim.get(key);
      if (acc !== undefined || prim.has(key)) {
        prim.set(key, this.#fold(key, acc, value));
        if (typeof value !== 'number') this.bytes += estimateSize(value);
        return;
      }
      prim.set(key, value);
      this.bytes += KEY_OVERHEAD + estimateSize(key) + estimateSize(value);
      return;
    }
    this.#addComplex(key, value);
  }

  #addComplex(key: object, value: unknown): void {
    const id = jsonText(key, 'key');
    const slot = this.complex.get(id);
    if (slot === undefined) {
      this.complex.set(id, { key, entry: value });
      this.bytes += KEY_OVERHEAD + id.length * 2 + estimateSize(value);
      return;
    }
    slot.entry = this.#fold(key, slot.entry, value);
    if (typeof value !== 'number') this.bytes += estimateSize(value);
  }
}

/** Keeps every value of every key, for stages without a combiner. */
class CollectingGroups extends GroupsBase<unknown[]> implements KeyGroups {
  protected valuesOf(values: unknown[]): unknown[] {
    return values;
  }

  add(key: unknown, value: unknown): void {
    const valueBytes = VALUE_OVERHEAD + (typeof value === 'number' ? 8 : estimateSize(value));
    let values: unknown[] | undefined;
    if (typeof key === 'object' && key !== null) {
      const id = jsonText(key, 'key');
      const slot = this.complex.get(id);
      if (slot === undefined) {
        this.complex.set(id, { key, entry: [value] });
        this.bytes += KEY_OVERHEAD + id.length * 2 + valueBytes;
        return;
      }
      values = slot.entry;
    } else {
      values = this.prim.get(key);
      if (values === undefined) {
        this.prim.set(typeof key === 'string' ? ownString(key) : key, [value]);
        this.bytes += KEY_OVERHEAD + estimateSize(key) + valueBytes;
        return;
      }
    }
    values.push(value);
    this.bytes += valueBytes;
  }
}
