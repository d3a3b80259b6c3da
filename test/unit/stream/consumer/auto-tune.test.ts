import { describe, expect, it } from 'vitest';
import { nextLanes } from '../../../../src/stream/consumer/auto-tune.js';

describe('nextLanes', () => {
  const base = { lanes: 3, floor: 1, previousAgeMs: 0, ageMs: 0, inFlight: 1 };
  it.each([
    ['falling behind: one more', { ageMs: 5000, previousAgeMs: 2000 }, 4],
    ['behind but catching up: unchanged', { ageMs: 3000, previousAgeMs: 8000 }, 3],
    ['never past 10', { lanes: 10, ageMs: 9000, previousAgeMs: 1000 }, 10],
    ['caught up and idle: one fewer', { ageMs: 0, inFlight: 0 }, 2],
    ['never below the job setting', { lanes: 2, floor: 2, ageMs: 0, inFlight: 0 }, 2],
    ['caught up but busy: unchanged', { ageMs: 0, inFlight: 2 }, 3],
    ['no reading yet: unchanged', { ageMs: undefined }, 3],
  ])('%s', (_name, over, want) => {
    expect(nextLanes({ ...base, ...over })).toBe(want);
  });
});
