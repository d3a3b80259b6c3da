import type { LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { describeFunction } from '../../../src/backends/lambda-invoker.js';

const clientAnswering = (answer: () => Promise<unknown>) => ({ send: answer }) as unknown as LambdaClient;

describe('describeFunction', () => {
  it('sets the attempt timeout a little under the function’s and reads memory and architecture', async () => {
    const big = clientAnswering(async () => ({ Timeout: 900, MemorySize: 1769, Architectures: ['arm64'] }));
    expect(await describeFunction('f', big)).toEqual({
      attemptTimeoutMs: 810_000,
      memoryMb: 1769,
      arch: 'arm64',
    });
    const small = clientAnswering(async () => ({ Timeout: 30 }));
    expect(await describeFunction('f', small)).toEqual({ attemptTimeoutMs: 25_000 });
  });

  it('knows nothing when the configuration cannot be read', async () => {
    const denied = clientAnswering(async () => {
      throw Object.assign(new Error('AccessDeniedException'), { name: 'AccessDeniedException' });
    });
    expect(await describeFunction('f', denied)).toEqual({});
  });
});
