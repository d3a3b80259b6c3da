import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { devCommand, parsePortBase } from '../../../src/cli/dev-command.js';
import { checkEmulatorPackages, EMULATOR_INSTALL } from '../../../src/dev/dev-packages.js';
import type { DevStack } from '../../../src/dev/dev-stack.js';
import { UsageError } from '../../../src/errors.js';

const ENDPOINTS = {
  s3: 'http://127.0.0.1:1',
  lambda: 'http://127.0.0.1:2',
  kinesis: 'http://127.0.0.1:3',
  sqs: 'http://127.0.0.1:4',
  scheduler: 'http://127.0.0.1:5',
  eventbridge: 'http://127.0.0.1:6',
};

/** A stack that starts and stops instantly, recording stops; `crash` makes an emulator die. */
function fakeStack() {
  let stops = 0;
  let crash: (err: Error) => void = () => {};
  const stack: DevStack = {
    endpoints: ENDPOINTS,
    env: { AWS_ENDPOINT_URL_S3: ENDPOINTS.s3, AWS_REGION: 'us-east-1' },
    crashed: new Promise((res) => {
      crash = res;
    }),
    stop: async () => {
      stops++;
    },
  };
  return { stack, stops: () => stops, crash: (err: Error) => crash(err) };
}

function sink() {
  let text = '';
  return { write: (s: string) => (text += s), text: () => text };
}

describe('mr dev', () => {
  it.each(['-1', '80', '65531', '4600.5', 'abc', ''])('rejects --port-base %j', (text) => {
    expect(() => parsePortBase(text)).toThrow(UsageError);
  });

  it('defaults to ports from 4600 and takes 0 for free ports', () => {
    expect(parsePortBase(undefined)).toBe(4600);
    expect(parsePortBase('0')).toBe(0);
  });

  it('prints only export lines on stdout and stops the stack on SIGINT', async () => {
    const fake = fakeStack();
    const signals = new EventEmitter();
    const stdout = sink();
    const done = devCommand(
      { portBase: '0' },
      { start: async () => fake.stack, stdout, stderr: sink(), signals },
    );
    await new Promise((res) => setImmediate(res));
    signals.emit('SIGINT');
    await done;
    expect(stdout.text()).toBe(
      'export AWS_ENDPOINT_URL_S3=http://127.0.0.1:1\nexport AWS_REGION=us-east-1\n',
    );
    expect(fake.stops()).toBe(1);
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('stops the rest of the stack and fails when an emulator dies', async () => {
    const fake = fakeStack();
    const done = devCommand(
      {},
      { start: async () => fake.stack, stdout: sink(), stderr: sink(), signals: new EventEmitter() },
    );
    fake.crash(new Error('S3 emulator (s3rver) exited unexpectedly'));
    await expect(done).rejects.toThrow(/s3rver\) exited unexpectedly; stopping the stack/);
    expect(fake.stops()).toBe(1);
  });

  it('reports a port in use as one line naming --port-base', async () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use'), {
      code: 'EADDRINUSE',
    });
    const err = await devCommand(
      { portBase: '5000' },
      { start: () => Promise.reject(inUse), stdout: sink(), stderr: sink(), signals: new EventEmitter() },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/5000 to 5005 .* in use; .*--port-base/);
  });

  it('names every missing emulator package and the command that installs them', async () => {
    const missing = (name: string) =>
      Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
    const err = await checkEmulatorPackages(async (name) => {
      if (name === 'kinesalite' || name === 'fauxqs') throw missing(name);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain('(kinesalite, fauxqs)');
    expect((err as Error).message).toContain(EMULATOR_INSTALL);
    expect((err as Error).message).not.toContain('\n');
  });
});
