import { describe, expect, it } from 'vitest';
import type { Invoker } from '../../../../src/backends/invoker.js';
import type { StreamBatchTask, Task, TaskResult } from '../../../../src/runtime/task-types.js';
import { invokerProcess } from '../../../../src/stream/consumer/invoker-process.js';
import { makeRecord } from '../../../../src/stream/consumer/stream-record.js';
import { defineStream } from '../../../../src/stream/define-stream.js';

const job = defineStream({ name: 'j', stream: 's', process: async () => {} });
const records = Array.from({ length: 6 }, (_, i) =>
  makeRecord({
    shardId: 'sh',
    sequenceNumber: String(10 + i),
    partitionKey: 'k',
    data: new Uint8Array(100 * 1024).fill(i),
    arrivedAt: new Date(0),
  }),
);

function fakeInvoker(
  answer: (t: StreamBatchTask) => TaskResult | Error,
): Invoker & { tasks: StreamBatchTask[] } {
  const tasks: StreamBatchTask[] = [];
  return {
    tasks,
    concurrency: 1,
    async invoke(task: Task) {
      const t = task as StreamBatchTask;
      tasks.push(t);
      const out = answer(t);
      if (out instanceof Error) throw out;
      return out;
    },
    async close() {},
  };
}

const ok: TaskResult = {
  kind: 'stream-batch',
  metrics: { inputBytes: 0, inputRecords: 0, outputRecords: 0, outputBytes: 0, spills: 0, ms: 0 },
};

describe('invokerProcess', () => {
  it('sends a batch over the payload limit as ordered chunks with base64 data', async () => {
    const inv = fakeInvoker(() => ok);
    expect(await invokerProcess(inv, 'file:///w', 's')(job, 'sh')(records, 2)).toBeUndefined();
    expect(inv.tasks.map((t) => t.records.map((r) => r.sequenceNumber))).toEqual([
      ['10'],
      ['11'],
      ['12'],
      ['13'],
      ['14'],
      ['15'],
    ]);
    expect(inv.tasks[0]).toMatchObject({
      kind: 'stream-batch',
      attempt: 2,
      shardId: 'sh',
      store: 'file:///w',
    });
    expect(Buffer.from(inv.tasks[1]?.records[0]?.data ?? '', 'base64')[0]).toBe(1);
  });

  it('reports a later failing chunk as failed from its first record, and throws for the first', async () => {
    const boom = fakeInvoker((t) => (t.records[0]?.sequenceNumber === '12' ? new Error('boom') : ok));
    expect(await invokerProcess(boom, 'file:///w', 's')(job, 'sh')(records, 1)).toEqual({ failed: ['12'] });
    const first = fakeInvoker(() => new Error('boom'));
    await expect(invokerProcess(first, 'file:///w', 's')(job, 'sh')(records, 1)).rejects.toThrow('boom');
  });
});
