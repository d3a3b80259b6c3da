import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type BatchResult,
  DeadLetterError,
  defineStream,
  FanoutError,
  type ProcessRecords,
  ShardLeases,
  type StreamContext,
  type StreamDefinition,
  StreamFailedError,
  type StreamRecord,
  WindowStateTooLargeError,
} from '../../../src/index.js';

describe('the public stream API', () => {
  it('names the type of process, so it can be written apart from its job', () => {
    const process: ProcessRecords = async (records) => ({
      failed: records
        .filter((r) => r.partitionKey === 'bad')
        .map((r) => ({ sequenceNumber: r.sequenceNumber, error: 'bad key' })),
    });
    expectTypeOf(process).parameters.toEqualTypeOf<[StreamRecord[], StreamContext]>();
    expectTypeOf<StreamDefinition['process']>().toEqualTypeOf<ProcessRecords | undefined>();
    expectTypeOf<{ failed: string[] }>().toMatchTypeOf<BatchResult>();
    expect(defineStream({ name: 'j', stream: 's', process }).kind).toBe('fanout.stream');
  });

  it('exports ShardLeases and every stream error a user can receive', () => {
    expect(typeof ShardLeases).toBe('function');
    for (const E of [StreamFailedError, DeadLetterError, WindowStateTooLargeError]) {
      expect(new E('x')).toBeInstanceOf(FanoutError);
    }
  });
});
