import { fnv1a } from './hash.js';

/** Key order is part of the job contract (src/job/key-order.ts); spill runs and reducers take it from here. */
export { compareKeys } from '../job/key-order.js';

/** The default partitioner: a stable hash of the key, so every map task sends a key to the same reducer. */
export function hashPartition(key: unknown, n: number): number {
  if (n === 1) return 0;
  const text = typeof key === 'string' ? key : JSON.stringify(key);
  return fnv1a(text) % n;
}
