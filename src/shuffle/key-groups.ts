/** Folds values of one key into one. */
export type CombineFn = (key: unknown, values: unknown[]) => unknown;

import { compareKeys } from './key-order.js';

/** Combine a key's pending values once this many have gathered: bounds memory, amortises calls. */
const COMBINE_EVERY = 16;
/** Rough per-key cost of a Map entry and its array, in bytes. */
const KEY_OVERHEAD = 96;
const VALUE_OVERHEAD = 16;

/** Rough in-memory size of a JSON value, cheap enough to call on every emit. */
export function estimateSize(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return 16 + v.length * 2;
    case 'number':
    case 'boolean':
      return 8;
    case 'object': {
      if (v === null) return 8;
      let n = 32;
      if (Array.isArray(v)) for (const x of v) n += 8 + estimateSize(x);
      else for (const k in v) n += 16 + k.length * 2 + estimateSize((v as Record<string, unknown>)[k]);
      return n;
    }
    default:
      return 8;
  }
}

/**
 * Values grouped by key, combined as they arrive when a combiner is given, with a running estimate
 * of the memory they hold so callers can spill past a budget.
 */
export class KeyGroups {
  /** Primitive keys map to themselves; Map equality is exactly key equality for them. */
  readonly #prim = new Map<unknown, unknown[]>();
  /** Objects and arrays are keyed by their JSON text. */
  readonly #complex = new Map<string, { key: unknown; values: unknown[] }>();
  readonly #combine: CombineFn | undefined;
  /** Estimated bytes held. */
  bytes = 0;

  constructor(combine?: CombineFn) {
    this.#combine = combine;
  }

  get size(): number {
    return this.#prim.size + this.#complex.size;
  }

  add(key: unknown, value: unknown): void {
    let values: unknown[] | undefined;
    if (typeof key === 'object' && key !== null) {
      const id = JSON.stringify(key);
      let entry = this.#complex.get(id);
      if (!entry) {
        entry = { key, values: [] };
        this.#complex.set(id, entry);
        this.bytes += KEY_OVERHEAD + id.length * 2;
      }
      values = entry.values;
    } else {
      values = this.#prim.get(key);
      if (!values) {
        values = [];
        this.#prim.set(key, values);
        this.bytes += KEY_OVERHEAD + estimateSize(key);
      }
    }
    values.push(value);
    this.bytes += VALUE_OVERHEAD + estimateSize(value);
    if (this.#combine && values.length >= COMBINE_EVERY) this.#collapse(key, values);
  }

  #collapse(key: unknown, values: unknown[]): void {
    if (!this.#combine) return;
    let dropped = 0;
    for (let i = 1; i < values.length; i++) dropped += VALUE_OVERHEAD + estimateSize(values[i]);
    const combined = this.#combine(key, values);
    values.length = 1;
    values[0] = combined;
    this.bytes -= dropped;
  }

  /** Every key with its values; values are combined to one first when a combiner is given. */
  *entries(): IterableIterator<[unknown, unknown[]]> {
    for (const [key, values] of this.#prim) {
      if (this.#combine && values.length > 1) this.#collapse(key, values);
      yield [key, values];
    }
    for (const { key, values } of this.#complex.values()) {
      if (this.#combine && values.length > 1) this.#collapse(key, values);
      yield [key, values];
    }
  }

  /** Entries in key order (see compareKeys), for sorted spill runs. */
  sortedEntries(): [unknown, unknown[]][] {
    return [...this.entries()].sort((a, b) => compareKeys(a[0], b[0]));
  }

  clear(): void {
    this.#prim.clear();
    this.#complex.clear();
    this.bytes = 0;
  }
}
