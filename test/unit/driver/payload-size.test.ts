import { describe, expect, it } from 'vitest';
import { MAX_INVOKE_PAYLOAD_BYTES } from '../../../src/backends/lambda-invoker.js';
import { MAX_SPLITS_PER_TASK, planMapInputs } from '../../../src/driver/plan-splits.js';
import { mapTaskSpecs, reduceTaskSpecs, type StageContext } from '../../../src/driver/stage-tasks.js';
import type { LambdaEvent } from '../../../src/protocol/lambda-protocol.js';

const bundle = {
  store: 's3://fanout-jobs/',
  key: `bundles/${'a'.repeat(64)}.mjs`,
  sha256: 'a'.repeat(64),
  bytes: 4096,
};
const ctx: StageContext = {
  jobId: 'wordcount-20261127101500-abcdef',
  stage: 0,
  memoryBudget: 256 << 20,
  workUrl: 's3://fanout-jobs/',
  partitions: 512,
};
const bytesOf = (event: LambdaEvent) => Buffer.byteLength(JSON.stringify(event));

describe('invocation payloads of a 10,000-split job', () => {
  it('stay far under the limit for map tasks, however the splits are packed', () => {
    // 10,000 tiny files (packed) and one 640 GiB file cut into 10,000 splits.
    const tiny = Array.from({ length: 10_000 }, (_, i) => ({
      store: 's3://fanout-data',
      key: `logs/2026/11/27/host-${String(i).padStart(5, '0')}/access.log.gz`,
      size: 900,
      etag: `"${'0123456789abcdef'.repeat(2)}"`,
    }));
    const huge = [
      {
        store: 's3://fanout-data',
        key: 'warehouse/events/huge.jsonl',
        size: 10_000 * (64 << 20),
        etag: `"${'0123456789abcdef'.repeat(2)}-1280"`,
      },
    ];
    for (const objects of [tiny, huge]) {
      const plan = planMapInputs(objects, 64 << 20);
      expect(plan.reduce((n, t) => n + t.splits.length, 0)).toBe(10_000);
      expect(Math.max(...plan.map((t) => t.splits.length))).toBeLessThanOrEqual(MAX_SPLITS_PER_TASK);
      const largest = Math.max(
        // Skipping bad records, an attempt carries where to write them too.
        ...mapTaskSpecs(
          ctx,
          plan,
          { format: 'jsonl', onBadRecord: 'skip', maxBadRecords: 1000 },
          's3://fanout-out/results/2024/',
        ).map((s) => bytesOf({ task: s.attempt(3), bundle })),
      );
      expect(largest).toBeLessThan(MAX_INVOKE_PAYLOAD_BYTES / 2);
    }
  });

  it('stay constant for reduce tasks: the list of 10,000 slices is a stored object, not payload', () => {
    const specs = reduceTaskSpecs(ctx, new Array(512).fill({ count: 10_000, crc: 0xffff_ffff }), {
      store: 's3://out/',
      prefix: 'wc/',
    });
    const largest = Math.max(...specs.map((s) => bytesOf({ task: s.attempt(1), bundle })));
    expect(largest).toBeLessThan(2048);
  });
});
