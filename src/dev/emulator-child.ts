import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** An emulator running in a child process of this one. */
export interface EmulatorChild {
  child: ChildProcess;
  /** The last 20,000 characters the child wrote to stderr, for error messages. */
  stderr(): string;
  /** Settles when the child exits, for whatever reason. */
  exited: Promise<void>;
  /** Ends the child (SIGTERM, then SIGKILL after 3 s) and waits for it; safe to call twice. */
  kill(): Promise<void>;
}

/**
 * Spawns an emulator child. Its stdin is a pipe the child watches: when this process dies, even by
 * SIGKILL, the pipe closes and the child exits, so no emulator outlives its parent. The child gets
 * its own process group, so a terminal's Ctrl-C reaches only the parent, which then stops the
 * children in order instead of racing them.
 */
export function spawnEmulatorChild(
  args: readonly string[],
  options: Pick<SpawnOptions, 'cwd' | 'env'> = {},
): EmulatorChild {
  const child = spawn(process.execPath, [...args], {
    ...options,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  // A spawn failure (no such executable) is reported by `readReadyPort`; this keeps it from crashing us.
  child.on('error', () => {});
  let killed: Promise<void> | undefined;
  const kill = (): Promise<void> => {
    killed ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    })();
    return killed;
  };
  return { child, stderr: () => stderr, exited, kill };
}

/**
 * Waits for the child's first stdout line, `{"port": N}`, which it prints once it listens.
 * @throws {Error} with the child's stderr when it exits, fails to spawn or stays silent past `timeoutMs`.
 */
export function readReadyPort(emulator: EmulatorChild, name: string, timeoutMs: number): Promise<number> {
  const { child } = emulator;
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      lines.close();
      fn();
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(new Error(`${name} did not start within ${timeoutMs / 1000} s: ${emulator.stderr()}`)),
        ),
      timeoutMs,
    );
    lines.once('line', (line) => {
      let port: unknown;
      try {
        port = (JSON.parse(line) as { port?: unknown }).port;
      } catch {
        port = undefined;
      }
      settle(() =>
        typeof port === 'number' ? resolve(port) : reject(new Error(`${name} printed no port: ${line}`)),
      );
    });
    child.once('error', (err) => settle(() => reject(err)));
    void emulator.exited.then(() =>
      settle(() =>
        reject(new Error(`${name} exited with ${child.exitCode} before starting: ${emulator.stderr()}`)),
      ),
    );
  });
}

/** A port that was free a moment ago on 127.0.0.1, for servers that cannot report the one they got. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const address = s.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        s.close(() => resolve(port));
      });
  });
}

/** Wraps an async function so that it runs once and later calls share its promise. */
export function runOnce(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => {
    p ??= fn();
    return p;
  };
}

/**
 * Like `readReadyPort`, and afterwards hands every later stdout line of the child to `onLine`, in
 * order, for emulators that report things after starting. One reader takes all lines, so a line the
 * child writes right after the ready line is not lost.
 * @throws {Error} as `readReadyPort` does; no line reaches `onLine` then.
 */
export function readReadyPortThenLines(
  emulator: EmulatorChild,
  name: string,
  timeoutMs: number,
  onLine: (line: string) => void,
): Promise<number> {
  const { child } = emulator;
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let state: 'waiting' | 'ready' | 'failed' = 'waiting';
    const fail = (err: Error): void => {
      if (state !== 'waiting') return;
      state = 'failed';
      clearTimeout(timer);
      lines.close();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new Error(`${name} did not start within ${timeoutMs / 1000} s: ${emulator.stderr()}`)),
      timeoutMs,
    );
    lines.on('line', (line) => {
      if (state === 'ready') {
        onLine(line);
        return;
      }
      if (state !== 'waiting') return;
      let port: unknown;
      try {
        port = (JSON.parse(line) as { port?: unknown }).port;
      } catch {
        port = undefined;
      }
      if (typeof port !== 'number') {
        fail(new Error(`${name} printed no port: ${line}`));
        return;
      }
      state = 'ready';
      clearTimeout(timer);
      resolve(port);
    });
    child.once('error', (err) => fail(err));
    void emulator.exited.then(() =>
      fail(new Error(`${name} exited with ${child.exitCode} before starting: ${emulator.stderr()}`)),
    );
  });
}
