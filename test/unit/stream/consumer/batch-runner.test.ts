import { describe, expect, it } from 'vitest';
import { DeadLetterError } from '../../../../src/errors.js';
import { type BatchPolicy, runBatch } from '../../../../src/stream/consumer/batch-runner.js';
import type { DeadLetter, DeadLetterSink } from '../../../../src/stream/consumer/dead-letters.js';
import { readyShards } from '../../../../src/stream/consumer/shard-list.js';
import { ShardProgress } from '../../../../src/stream/consumer/shard-progress.js';
import type { BatchResult, StreamRecord } from '../../../../src/stream/types.js';
import { makeRecord } from '../../../../src/task/stream-record.js';

const records = (n: number): StreamRecord[] =>
  Array.from({ length: n }, (_, i) =>
    makeRecord({
      shardId: 's0',
      sequenceNumber: String(100 + i),
      partitionKey: `k${i}`,
      data: new Uint8Array([i]),
      arrivedAt: new Date(),
    }),
  );

function policy(over: Partial<BatchPolicy> = {}) {
  const done: string[] = [];
  const letters: DeadLetter[] = [];
  const sink: DeadLetterSink = { description: 'memory', send: async (l) => void letters.push(l) };
  const p: BatchPolicy = {
    job: 'j',
    stream: 's',
    maxRetries: 2,
    maxRecordAgeMs: -1,
    bisectOnError: false,
    deadLetters: sink,
    retryBaseMs: 1,
    retryCapMs: 10,
    onDone: (rs) => done.push(...rs.map((r) => r.sequenceNumber)),
    ...over,
  };
  return { p, done, letters };
}

describe('runBatch', () => {
  it('settles records before the lowest reported failure and retries from it', async () => {
    const { p, done, letters } = policy();
    const calls: string[][] = [];
    let first = true;
    await runBatch(
      records(5),
      async (rs) => {
        calls.push(rs.map((r) => r.sequenceNumber));
        if (first) {
          first = false;
          return { failed: ['104', '102'] };
        }
        return undefined;
      },
      p,
    );
    expect(calls).toEqual([
      ['100', '101', '102', '103', '104'],
      ['102', '103', '104'],
    ]);
    expect(done).toEqual(['100', '101', '102', '103', '104']);
    expect(letters).toEqual([]);
  });

  it('without bisect, dead-letters the whole batch after maxRetries', async () => {
    const { p, done, letters } = policy();
    let calls = 0;
    await runBatch(
      records(3),
      async () => {
        calls++;
        throw new Error('boom');
      },
      p,
    );
    expect(calls).toBe(3);
    expect(letters.map((l) => [l.sequenceNumber, l.attempts])).toEqual([
      ['100', 3],
      ['101', 3],
      ['102', 3],
    ]);
    expect(letters[0]?.error).toContain('boom');
    expect(done).toEqual(['100', '101', '102']);
  });

  it('with bisect, dead-letters only the poison record and keeps order', async () => {
    const { p, done, letters } = policy({ bisectOnError: true, maxRetries: 1 });
    await runBatch(
      records(8),
      async (rs) => {
        if (rs.some((r) => r.sequenceNumber === '105')) throw new Error('poison');
        return undefined;
      },
      p,
    );
    expect(letters.map((l) => l.sequenceNumber)).toEqual(['105']);
    expect(done).toEqual(['100', '101', '102', '103', '104', '105', '106', '107']);
  });

  it('dead-letters records past maxRecordAgeMs without waiting for retries', async () => {
    const old = records(1).map((r) => makeRecord({ ...r, arrivedAt: new Date(Date.now() - 60_000) }));
    const { p, letters } = policy({ maxRetries: -1, maxRecordAgeMs: 1000 });
    await runBatch(
      old,
      async () => {
        throw new Error('late');
      },
      p,
    );
    expect(letters).toHaveLength(1);
  });

  it('stops without settling a record the dead-letter queue refused', async () => {
    const { p, done } = policy({
      deadLetters: {
        description: 'down',
        send: async () => Promise.reject(new DeadLetterError('queue down')),
      },
    });
    const batch = records(2);
    await expect(
      runBatch(
        batch,
        async (rs) => (rs[0]?.sequenceNumber === '100' ? { failed: ['101'] } : { failed: ['101'] }),
        p,
      ),
    ).rejects.toThrow(DeadLetterError);
    expect(done).toEqual(['100']);
  });
});

describe('runBatch: what process returned or threw, as failed records', () => {
  it('fails the whole batch when a reported sequence number is not in it, as Lambda does', async () => {
    const { p, done } = policy();
    const calls: string[][] = [];
    await runBatch(
      records(4),
      async (rs) => {
        calls.push(rs.map((r) => r.sequenceNumber));
        return calls.length === 1 ? { failed: ['102', '999'] } : undefined;
      },
      p,
    );
    expect(calls[1]).toEqual(['100', '101', '102', '103']);
    expect(done).toEqual(['100', '101', '102', '103']);
  });

  it.each([
    ['an empty sequence number', { failed: [''] }],
    ['a number', { failed: [101] }],
    ['an entry without a sequence number', { failed: [{ error: 'x' }] }],
    ['a failed field that is not a list', { failed: '101' }],
  ])('fails the whole batch on %s', async (_what, result) => {
    const { p } = policy();
    const calls: string[][] = [];
    await runBatch(
      records(3),
      async (rs) => {
        calls.push(rs.map((r) => r.sequenceNumber));
        return (calls.length === 1 ? result : undefined) as BatchResult | undefined;
      },
      p,
    );
    expect(calls[1]).toEqual(['100', '101', '102']);
  });

  it('dead-letters a record with the reason process gave for it', async () => {
    const { p, letters, done } = policy({ maxRetries: 0 });
    await runBatch(
      records(3),
      async () => ({ failed: [{ sequenceNumber: '101', error: 'price is negative' }] }),
      p,
    );
    expect(letters.map((l) => [l.sequenceNumber, l.error])).toEqual([
      ['101', 'price is negative'],
      ['102', 'held back by record 101 before it, which failed: price is negative'],
    ]);
    expect(done).toEqual(['100', '101', '102']);
  });

  it('says plainly when process reported a record without a reason (the plain list)', async () => {
    const { p, letters } = policy({ maxRetries: 0, bisectOnError: true });
    await runBatch(records(2), async (rs) => ({ failed: rs.map((r) => r.sequenceNumber) }), p);
    expect(letters.map((l) => l.error)).toEqual([
      'process reported it as failed without a reason',
      'process reported it as failed without a reason',
    ]);
  });

  it('gives a record reported as failed no retry with maxRetries 0', async () => {
    const { p, letters } = policy({ maxRetries: 0 });
    let calls = 0;
    await runBatch(
      records(3),
      async () => {
        calls++;
        return { failed: ['101'] };
      },
      p,
    );
    expect(calls).toBe(1);
    expect(letters.map((l) => [l.sequenceNumber, l.attempts])).toEqual([
      ['101', 1],
      ['102', 1],
    ]);
  });

  it("dead-letters a record that made process throw with the last attempt's message", async () => {
    const { p, letters } = policy({ maxRetries: 2 });
    let attempt = 0;
    await runBatch(
      records(1),
      async () => {
        attempt++;
        throw new Error(`attempt ${attempt} failed`);
      },
      p,
    );
    expect(letters.map((l) => [l.error, l.attempts])).toEqual([['attempt 3 failed', 3]]);
  });
});

describe('ShardProgress', () => {
  it('checkpoints the highest record with everything before it done', () => {
    const p = new ShardProgress();
    p.add(['1', '2', '3', '4']);
    expect(p.done(['2', '4'])).toBeUndefined();
    expect(p.done(['1'])).toBe('2');
    expect(p.done(['3'])).toBe('4');
    expect(p.pending).toBe(0);
  });
});

describe('readyShards', () => {
  const shards = [
    { shardId: 'p', parents: [], closed: true },
    { shardId: 'c1', parents: ['p'], closed: false },
    { shardId: 'm', parents: ['c1', 'gone'], closed: false },
  ];
  it('holds children back until their listed parents ended', () => {
    expect(readyShards(shards, new Set()).map((s) => s.shardId)).toEqual(['p']);
    expect(readyShards(shards, new Set(['p'])).map((s) => s.shardId)).toEqual(['c1']);
    expect(readyShards(shards, new Set(['p', 'c1'])).map((s) => s.shardId)).toEqual(['m']);
  });
});
