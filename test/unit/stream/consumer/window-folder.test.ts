import { describe, expect, it } from 'vitest';
import { type BatchPolicy, runBatch } from '../../../../src/stream/consumer/batch-runner.js';
import type { DeadLetter } from '../../../../src/stream/consumer/dead-letters.js';
import { WindowFolder } from '../../../../src/stream/consumer/window-folder.js';
import type { BatchResult, StreamRecord, WindowDefinition } from '../../../../src/stream/types.js';
import { makeRecord } from '../../../../src/task/stream-record.js';

const records = (n: number): StreamRecord[] =>
  Array.from({ length: n }, (_, i) =>
    makeRecord({
      shardId: 's0',
      sequenceNumber: String(100 + i),
      partitionKey: 'k',
      data: new Uint8Array([i]),
      arrivedAt: new Date(1000),
    }),
  );

/** A window that counts its records, and what it emitted. */
function counting() {
  const emitted: number[] = [];
  const def: WindowDefinition<unknown> = {
    ms: 60_000,
    reduce: (state, rs) => ((state as number | undefined) ?? 0) + rs.length,
    emit: (state) => void emitted.push(state as number),
  };
  const log = { info() {}, warn() {}, error() {} };
  const folder = new WindowFolder(def, 's0', { streamName: 's', store: {} as never, log });
  return { folder, emitted };
}

/** Runs one batch through the folder with no retries: what fails is dead-lettered at once. */
async function runOnce(folder: WindowFolder, result: BatchResult | undefined): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  const policy: BatchPolicy = {
    job: 'j',
    stream: 's',
    maxRetries: 0,
    maxRecordAgeMs: -1,
    bisectOnError: false,
    retryBaseMs: 1,
    retryCapMs: 1,
    deadLetters: { description: 'memory', send: async (l) => void letters.push(l) },
    onDone: (rs) => folder.commit(rs),
  };
  await runBatch(
    records(4),
    folder.around(async () => result),
    policy,
  );
  return letters;
}

describe('WindowFolder', () => {
  it('folds only the records before the lowest failed one', async () => {
    const { folder, emitted } = counting();
    const letters = await runOnce(folder, { failed: ['102'] });
    expect(letters.map((l) => l.sequenceNumber)).toEqual(['102', '103']);
    await folder.closeIfDue(0, true);
    expect(emitted).toEqual([2]);
  });

  it('folds none of a batch whose reported sequence number is not in it (the whole batch failed)', async () => {
    const { folder, emitted } = counting();
    const letters = await runOnce(folder, { failed: ['999'] });
    expect(letters).toHaveLength(4);
    await folder.closeIfDue(0, true);
    expect(emitted).toEqual([]);
  });
});
