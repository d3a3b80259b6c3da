import { describe, expect, it } from 'vitest';
import { estimateCost } from '../../../src/driver/cost.js';

describe('estimateCost', () => {
  it('adds Lambda GB-seconds and requests to S3 requests at published prices', () => {
    // 100 invocations of 10 s at 1024 MB on arm64: 1,000 GB-s.
    const c = estimateCost({
      memoryMb: 1024,
      arch: 'arm64',
      invocations: 100,
      taskMs: 1_000_000,
      s3Puts: 1000,
      s3Gets: 10_000,
    });
    expect(c.lambdaGbSeconds).toBe(1000);
    expect(c.usd).toBeCloseTo(
      1000 * 0.0000133334 + 100 * 0.0000002 + 1000 * 0.000005 + 10_000 * 0.0000004,
      10,
    );
    expect(c.s3Requests).toBe(11_000);
  });

  it('prices x86_64 higher than arm64', () => {
    const u = { memoryMb: 1769, invocations: 10, taskMs: 60_000, s3Puts: 0, s3Gets: 0 };
    expect(estimateCost({ ...u, arch: 'x86_64' }).usd).toBeGreaterThan(
      estimateCost({ ...u, arch: 'arm64' }).usd,
    );
  });
});
