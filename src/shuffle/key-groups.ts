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
    // Hot path: called once per emitted record. Strings and numbers skip every generic step.
    const valueBytes = VALUE_OVERHEAD + (typeof value === 'number' ? 8 : estimateSize(value));
    if (typeof key === 'object' && key !== null) {
      this.#addComplex(key, value, valueBytes);
      return;
    }
    const values = this.#prim.get(key);
    if (values === undefined) {
      this.#prim.set(key, [value]);
      this.bytes += KEY_OVERHEAD + estimateSize(key) + valueBytes;
      return;
    }
    values.push(value);
    this.bytes += valueBytes;
    if (values.length >= COMBINE_EVERY && this.#combine) this.#collapse(key, values);
  }

  #addComplex(key: object, value: unknown, valueBytes: number): void {
    const id = JSON.stringify(key);
    const entry = this.#complex.get(id);
    if (entry === undefined) {
      this.#complex.set(id, { key, values: [value] });
      this.bytes += KEY_OVERHEAD + id.length * 2 + valueBytes;
      return;
    }
    entry.values.push(value);
    this.bytes += valueBytes;
    if (entry.values.length >= COMBINE_EVERY && this.#combine) this.#collapse(key, entry.values);
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
