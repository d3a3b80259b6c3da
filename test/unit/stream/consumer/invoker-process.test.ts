import { describe, expect, it } from 'vitest';
import type { Invoker } from '../../../../src/backends/invoker.js';
import type { StreamBatchTask, Task, TaskResult } from '../../../../src/protocol/task-types.js';
import { runTask } from '../../../../src/runtime/run-task.js';
import { type BatchPolicy, runBatch } from '../../../../src/stream/consumer/batch-runner.js';
import type { DeadLetter } from '../../../../src/stream/consumer/dead-letters.js';
import { invokerProcess } from '../../../../src/stream/consumer/invoker-process.js';
import { defineStream } from '../../../../src/stream/define-stream.js';
import { makeRecord } from '../../../../src/task/stream-record.js';

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

  it('throws when the first chunk fails, as process itself would', async () => {
    const first = fakeInvoker(() => new Error('boom'));
    await expect(invokerProcess(first, 'file:///w', 's')(job, 'sh')(records, 1)).rejects.toThrow('boom');
  });

  it("dead-letters the records of a later chunk that threw with that chunk's error", async () => {
    const boom = fakeInvoker((t) => (t.records[0]?.sequenceNumber === '12' ? new Error('disk full') : ok));
    const { policy, letters, done } = noRetries();
    await runBatch(records, invokerProcess(boom, 'file:///w', 's')(job, 'sh'), policy);
    expect(letters.map((l) => [l.sequenceNumber, l.error])).toEqual([
      ['12', 'disk full'],
      ['13', 'disk full'],
      ['14', 'disk full'],
      ['15', 'disk full'],
    ]);
    expect(done).toEqual(['10', '11', '12', '13', '14', '15']);
  });

  it("carries process's reasons from the task (as JSON, as Lambda sends it) to the dead letter", async () => {
    const reporting = defineStream({
      name: 'j',
      stream: 's',
      process: async (rs) => {
        const bad = rs.find((r) => r.sequenceNumber === '13');
        return bad
          ? { failed: [{ sequenceNumber: bad.sequenceNumber, error: 'no such customer' }] }
          : undefined;
      },
    });
    // Runs each task as the runtime does, with the task and result passing through JSON.
    const runtime: Invoker = {
      concurrency: 1,
      invoke: async (task: Task) =>
        JSON.parse(JSON.stringify(await runTask(reporting, JSON.parse(JSON.stringify(task))))) as TaskResult,
      close: async () => {},
    };
    const { policy, letters } = noRetries();
    await runBatch(records, invokerProcess(runtime, 'file:///w', 's')(reporting, 'sh'), policy);
    expect(letters.map((l) => [l.sequenceNumber, l.error])).toEqual([
      ['13', 'no such customer'],
      ['14', 'held back by record 13 before it, which failed: no such customer'],
      ['15', 'held back by record 13 before it, which failed: no such customer'],
    ]);
  });
});

/** A policy that dead-letters at the first failure, without bisection: the records (from 1970) are too old. */
function noRetries() {
  const letters: DeadLetter[] = [];
  const done: string[] = [];
  const policy: BatchPolicy = {
    job: 'j',
    stream: 's',
    maxRetries: -1,
    maxRecordAgeMs: 1000,
    bisectOnError: false,
    retryBaseMs: 1,
    retryCapMs: 1,
    deadLetters: { description: 'memory', send: async (l) => void letters.push(l) },
    onDone: (rs) => done.push(...rs.map((r) => r.sequenceNumber)),
  };
  return { policy, letters, done };
}
