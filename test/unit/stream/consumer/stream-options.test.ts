import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../../src/errors.js';
import { LocalDirStore } from '../../../../src/store/local-dir-store.js';
import { SoleOwner } from '../../../../src/stream/consumer/lease-manager.js';
import {
  resolveStreamOptions,
  STREAM_OPTION_DEFAULTS,
} from '../../../../src/stream/consumer/stream-options.js';
import { defineStream } from '../../../../src/stream/define-stream.js';

const job = defineStream({ name: 'j', stream: 'clicks', process: async () => {} });
const store = new LocalDirStore('/tmp/fanout-stream-options-unused');

describe('resolveStreamOptions', () => {
  it('fills every default from one table', () => {
    const o = resolveStreamOptions(job, { store });
    expect(o).toMatchObject({
      streamName: 'clicks',
      store,
      sqs: undefined,
      metricsIntervalMs: STREAM_OPTION_DEFAULTS.metricsIntervalMs,
      autoTune: false,
      autoTuneMs: 2000,
      leaseRenewMs: 3000,
      shardRefreshMs: 10_000,
      retryBaseMs: 100,
      retryCapMs: 10_000,
      pacing: { minIntervalMs: 200, idleMs: 1000, throttleBaseMs: 250, throttleCapMs: 5000 },
    });
    expect(o.leases({ job: 'j', stream: 'clicks', streamId: '0' })).toBeInstanceOf(SoleOwner);
  });

  it('keeps what is given: --stream over the job, partial pacing over the defaults', () => {
    const o = resolveStreamOptions(job, { store, stream: 'other', pacing: { idleMs: 5 } });
    expect(o.streamName).toBe('other');
    expect(o.pacing).toEqual({ minIntervalMs: 200, idleMs: 5, throttleBaseMs: 250, throttleCapMs: 5000 });
  });

  it('sets lease renewal and shard refresh from the lease length when shared', () => {
    const o = resolveStreamOptions(job, { store, shared: { owner: 'me', leaseMs: 900 } });
    expect(o).toMatchObject({ leaseRenewMs: 300, shardRefreshMs: 900 });
    expect(resolveStreamOptions(job, { store, shared: { owner: 'me' }, leaseRenewMs: 50 }).leaseRenewMs).toBe(
      50,
    );
  });

  it.each([
    [{ metricsIntervalMs: 0 }, 'metricsIntervalMs must be a positive integer (ms), got 0'],
    [{ shardRefreshMs: 1.5 }, 'shardRefreshMs must be a positive integer (ms), got 1.5'],
    [{ leaseRenewMs: Number.NaN }, 'leaseRenewMs must be a positive integer (ms), got NaN'],
    [{ retryBaseMs: -1 }, 'retryBaseMs must be a non-negative number (ms), got -1'],
    [{ pacing: { idleMs: -5 } }, 'pacing.idleMs must be a non-negative number (ms), got -5'],
    [{ stream: '' }, 'stream must be a stream name or ARN, got ""'],
    [{ shared: { owner: '' } }, 'shared.owner must be a non-empty string, got ""'],
    [{ shared: { owner: 'me', leaseMs: 0 } }, 'shared.leaseMs must be a positive integer (ms), got 0'],
    [{ shared: { owner: 'me' }, leases: new SoleOwner() }, 'give shared or leases, not both'],
  ])('refuses %j with a message showing the value', (bad, message) => {
    expect(() => resolveStreamOptions(job, { store, ...bad })).toThrow(new UsageError(message));
  });
});
