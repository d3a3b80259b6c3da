import type { LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { timeoutUnderFunction } from '../../../src/backends/lambda-invoker.js';

const clientAnswering = (answer: () => Promise<unknown>) => ({ send: answer }) as unknown as LambdaClient;

describe('timeoutUnderFunction', () => {
  it('gives up a little before the function itself would', async () => {
    expect(
      await timeoutUnderFunction(
        'f',
        clientAnswering(async () => ({ Timeout: 900 })),
      ),
    ).toBe(810_000);
    expect(
      await timeoutUnderFunction(
        'f',
        clientAnswering(async () => ({ Timeout: 30 })),
      ),
    ).toBe(25_000);
  });

  it('leaves the default when the configuration cannot be read', async () => {
    const denied = clientAnswering(async () => {
      throw Object.assign(new Error('AccessDeniedException'), { name: 'AccessDeniedException' });
    });
    expect(await timeoutUnderFunction('f', denied)).toBeUndefined();
    expect(
      await timeoutUnderFunction(
        'f',
        clientAnswering(async () => ({})),
      ),
    ).toBeUndefined();
  });
});
