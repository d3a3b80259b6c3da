import { describe, expect, it } from 'vitest';
import { JobDefinitionError } from '../../../src/errors.js';
import { defineStream, isStream } from '../../../src/stream/define-stream.js';
import {
  compareSequence,
  deserializeRecord,
  makeRecord,
  serializeRecord,
} from '../../../src/task/stream-record.js';

const base = { name: 'clicks', stream: 'clicks', process: async () => {} };

describe('defineStream', () => {
  it('fills in the defaults', () => {
    const s = defineStream(base);
    expect(isStream(s)).toBe(true);
    expect(s).toMatchObject({
      startingPosition: 'TRIM_HORIZON',
      batchSize: 100,
      batchWindowMs: 0,
      parallelization: 1,
      maxRetries: 3,
      maxRecordAgeMs: -1,
      bisectOnError: true,
      dlq: undefined,
      window: undefined,
    });
  });

  const window = { ms: 10, reduce: (): number => 0, emit(): void {} };
  it.each<[Record<string, unknown>, string]>([
    [{ batchSize: 0 }, 'batchSize must be an integer in 1..10000, got 0'],
    [{ batchSize: 10_001 }, 'batchSize must be an integer in 1..10000, got 10001'],
    [{ parallelization: 11 }, 'parallelization must be an integer in 1..10, got 11'],
    [{ batchWindowMs: 1.5 }, 'batchWindowMs must be an integer in 0..300000, got 1.5'],
    [{ maxRetries: -2 }, 'maxRetries must be an integer in -1..10000, got -2'],
    [
      { startingPosition: 'NOW' },
      `startingPosition must be 'TRIM_HORIZON', 'LATEST' or { timestamp: Date }, got "NOW"`,
    ],
    [{ stream: '' }, 'stream must be a stream name or ARN, got ""'],
    [{ process: undefined }, 'process must be a function (or give a window)'],
    [{ window: { ...window, ms: 0 } }, 'window.ms must be an integer in 1..900000, got 0'],
    [{ parallelization: 2, window }, 'a window needs parallelization 1, got 2'],
  ])('rejects %o', (bad, message) => {
    expect(() => defineStream({ ...base, ...bad } as never)).toThrow(JobDefinitionError);
    expect(() => defineStream({ ...base, ...bad } as never)).toThrow(message);
  });

  it('accepts a timestamp starting position', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(defineStream({ ...base, startingPosition: { timestamp: at } }).startingPosition).toEqual({
      timestamp: at,
    });
  });
});

describe('stream records', () => {
  const r = makeRecord({
    shardId: 'shardId-000000000000',
    sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
    partitionKey: 'u1',
    data: new TextEncoder().encode('{"a":1}'),
    arrivedAt: new Date(1_700_000_000_000),
  });

  it('decodes text and JSON', () => {
    expect(r.text()).toBe('{"a":1}');
    expect(r.json()).toEqual({ a: 1 });
  });

  it('survives serialization with base64 data', () => {
    const back = deserializeRecord(JSON.parse(JSON.stringify(serializeRecord(r))));
    expect(back.json()).toEqual({ a: 1 });
    expect(back.arrivedAt).toEqual(r.arrivedAt);
    expect(back.sequenceNumber).toBe(r.sequenceNumber);
  });

  it('compares long sequence numbers numerically', () => {
    expect(compareSequence('9', '10')).toBeLessThan(0);
    expect(
      compareSequence(
        '495903382714902566085596925383615710959215759891365888981',
        '49590338271490256608559692538361571095921575989136588898',
      ),
    ).toBeGreaterThan(0);
    expect(compareSequence('123', '123')).toBe(0);
  });
});
