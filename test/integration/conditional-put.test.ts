import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FanoutError } from '../../src/errors.js';
import { lockPathOf } from '../../src/store/conditional-put.js';
import { LocalDirStore } from '../../src/store/local-dir-store.js';
import { S3Store } from '../../src/store/s3-store.js';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.js';
import { type StubRequest, type StubResponse, s3Error, stubbedClient } from '../helpers/stub-s3.js';
import { tempDir } from '../helpers/temp.js';

const tmp = tempDir('conditional-put');
let serial = 0;
afterAll(() => tmp.cleanup());

function freshStore(): LocalDirStore {
  return new LocalDirStore(join(tmp.path, `store-${++serial}`));
}

// ---- LocalDirStore across processes ----

/**
 * Runs in each child: opens the store, says `ready`, waits for `go` on stdin so all children start
 * together, runs its task and prints the result as JSON.
 * argv: [module path, store root, task, key count or increments]
 */
const CHILD = `
const [modulePath, root, task, nText] = process.argv.slice(1);
const { LocalDirStore } = await import(modulePath);
const store = new LocalDirStore(root);
const n = Number(nText);
process.stdout.write('ready\\n');
await new Promise((go) => process.stdin.once('data', go));
const out = [];
if (task === 'create') {
  // Race for absence on n keys, one after another.
  for (let i = 0; i < n; i++) out.push((await store.putIf('race/k' + i, String(process.pid), { ifAbsent: true })).ok);
} else {
  // n increments of a shared counter, each a read and a CAS retried until it lands.
  while (out.length < n) {
    const cur = await store.getVersioned('counter');
    const value = cur ? Number(Buffer.from(cur.body).toString()) + 1 : 1;
    const r = await store.putIf('counter', String(value), cur ? { ifVersion: cur.version } : { ifAbsent: true });
    if (r.ok) out.push(value);
  }
}
process.stdout.write(JSON.stringify(out) + '\\n');
process.exit(0);
`;

/** Starts `count` children on `task`, releases them at once, and collects each one's output. */
async function race<T>(root: string, task: 'create' | 'increment', n: number, count = 4): Promise<T[]> {
  const modulePath = resolve('src/store/local-dir-store.ts');
  const children: ChildProcess[] = [];
  const lines: Promise<string[]>[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', CHILD, modulePath, root, task, String(n)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    children.push(child);
    lines.push(outputLines(child));
  }
  try {
    await Promise.all(children.map((c) => waitForLine(c, 'ready')));
    for (const c of children) c.stdin?.write('go\n');
    const outputs = await Promise.all(lines);
    return outputs.map((l) => JSON.parse(l.at(-1) ?? 'null') as T);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

function outputLines(child: ChildProcess): Promise<string[]> {
  let text = '';
  child.stdout?.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return new Promise((done, fail) => {
    child.once('exit', (code) =>
      code === 0 ? done(text.trim().split('\n')) : fail(new Error(`child exited with ${code}: ${text}`)),
    );
  });
}

function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((done, fail) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      if (text.split('\n').includes(line)) {
        child.stdout?.off('data', onData);
        done();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`child exited with ${code} before ${line}`)));
  });
}

describe('LocalDirStore.putIf across processes', () => {
  it('lets exactly one of four processes create each key', async () => {
    const store = freshStore();
    const keys = 25;

    const results = await race<boolean[]>(store.root, 'create', keys);

    for (let k = 0; k < keys; k++) expect(results.filter((r) => r[k]).length).toBe(1);
    const winners = await Promise.all(
      Array.from({ length: keys }, async (_, k) => (await store.getVersioned(`race/k${k}`))?.body.length),
    );
    expect(winners.every((w) => w !== undefined && w > 0)).toBe(true);
  });

  it('loses no increment of a counter four processes update by compare-and-swap', async () => {
    const store = freshStore();

    const results = await race<number[]>(store.root, 'increment', 25);

    const all = results.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(Buffer.from(await store.get('counter')).toString()).toBe('100');
  });
});

describe('LocalDirStore.putIf', () => {
  it('answers ok:false, not an error, when the condition fails', async () => {
    const store = freshStore();
    const first = await store.putIf('k', 'one', { ifAbsent: true });
    if (!first.ok) throw new Error('first write lost');

    expect(await store.putIf('k', 'two', { ifAbsent: true })).toEqual({ ok: false });
    expect(await store.putIf('k', 'two', { ifVersion: 'stale' })).toEqual({ ok: false });
    expect(await store.putIf('missing', 'x', { ifVersion: first.version })).toEqual({ ok: false });
    const second = await store.putIf('k', 'two', { ifVersion: first.version });
    expect(second.ok).toBe(true);
    expect(await store.getVersioned('k')).toEqual({
      body: Buffer.from('two'),
      version: second.ok ? second.version : '',
    });
    expect(await store.getVersioned('missing')).toBeUndefined();
  });

  it('breaks a lock left by a process that died holding it', async () => {
    const store = freshStore();
    await store.put('k', 'one');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(lockPathOf(store.pathOf('k')), `${hostname()} ${dead} leftover`);
    const cur = await store.getVersioned('k');

    const started = Date.now();
    const result = await store.putIf('k', 'two', { ifVersion: cur?.version ?? '' });

    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('waits for a live holder of the lock, and hides the lock from listings', async () => {
    const store = freshStore();
    await store.put('k', 'one');
    const lock = lockPathOf(store.pathOf('k'));
    writeFileSync(lock, `${hostname()} ${process.pid} someone-else`);
    const cur = await store.getVersioned('k');

    const pending = store.putIf('k', 'two', { ifVersion: cur?.version ?? '' });
    await new Promise((r) => setTimeout(r, 200));
    expect(Buffer.from(await store.get('k')).toString()).toBe('one');
    const listed: string[] = [];
    for await (const o of store.list('')) listed.push(o.key);
    expect(listed).toEqual(['k']);
    rmSync(lock);

    expect((await pending).ok).toBe(true);
    expect(Buffer.from(await store.get('k')).toString()).toBe('two');
  });
});

// ---- S3Store ----

// s3rver 3.7 ignores If-None-Match and If-Match on PUT (it answers 200 and overwrites), so it
// can only show that versions round-trip; the conditions and the 412/409 mapping are tested
// against a stubbed HTTP layer below.
describe('S3Store.putIf on s3rver (versions only)', () => {
  let s3: S3rverHandle | undefined;
  let client: S3Client | undefined;
  beforeAll(async () => {
    s3 = await startS3rver(['cas']);
    client = s3.client();
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });

  it('returns the ETag that getVersioned later reads, and undefined for a missing key', async () => {
    if (!client) throw new Error('s3rver did not start');
    const store = new S3Store({ bucket: 'cas', prefix: `t${++serial}/` }, { client });

    const written = await store.putIf('lease.json', '{"a":1}', { ifAbsent: true });
    const read = await store.getVersioned('lease.json');

    expect(written.ok).toBe(true);
    expect(read).toEqual({ body: Buffer.from('{"a":1}'), version: written.ok ? written.version : '' });
    expect(await store.getVersioned('nothing.json')).toBeUndefined();
  });
});

/** The value of a request header, whatever its case. */
function header(req: StubRequest | undefined, name: string): string | undefined {
  const found = Object.entries(req?.headers ?? {}).find(([k]) => k.toLowerCase() === name);
  return found?.[1];
}

describe('S3Store.putIf (stubbed HTTP)', () => {
  const clients: S3Client[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });

  function store(answer: (req: StubRequest) => StubResponse) {
    const stub = stubbedClient(answer);
    clients.push(stub.client);
    return { store: new S3Store('s3://bucket/p/', { client: stub.client }), requests: stub.requests };
  }

  it('sends If-None-Match: * for ifAbsent and returns the new ETag', async () => {
    const { store: s, requests } = store(() => ({ statusCode: 200, headers: { etag: '"v1"' } }));

    const result = await s.putIf('leases/a.json', 'x', { ifAbsent: true });

    expect(result).toEqual({ ok: true, version: '"v1"' });
    expect(requests[0]?.method).toBe('PUT');
    expect(requests[0]?.path).toMatch(/\/p\/leases\/a\.json$/);
    expect(header(requests[0], 'if-none-match')).toBe('*');
    expect(header(requests[0], 'if-match')).toBeUndefined();
  });

  it('sends If-Match with the version for ifVersion', async () => {
    const { store: s, requests } = store(() => ({ statusCode: 200, headers: { etag: '"v2"' } }));

    const result = await s.putIf('k', 'x', { ifVersion: '"v1"' });

    expect(result).toEqual({ ok: true, version: '"v2"' });
    expect(header(requests[0], 'if-match')).toBe('"v1"');
    expect(header(requests[0], 'if-none-match')).toBeUndefined();
  });

  it.each([
    [412, 'PreconditionFailed'],
    [409, 'ConditionalRequestConflict'],
    [404, 'NoSuchKey'],
  ])('answers ok:false on %i %s, without retrying', async (status, code) => {
    const { store: s, requests } = store(() => s3Error(status, code));

    expect(await s.putIf('k', 'x', { ifVersion: '"v1"' })).toEqual({ ok: false });
    expect(requests).toHaveLength(1);
  });

  it('throws other failures as FanoutError', async () => {
    const { store: s } = store(() => s3Error(403, 'AccessDenied'));

    const err = await s.putIf('k', 'x', { ifAbsent: true }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(FanoutError);
    expect(String(err)).toMatch(/PutObject .*AccessDenied/);
  });

  it('reads the ETag as the version, and a missing key as undefined', async () => {
    const { store: s } = store((req) =>
      req.path.endsWith('/there')
        ? { statusCode: 200, headers: { etag: '"abc"', 'content-length': '2' }, body: 'hi' }
        : s3Error(404, 'NoSuchKey'),
    );

    expect(await s.getVersioned('there')).toEqual({ body: Buffer.from('hi'), version: '"abc"' });
    expect(await s.getVersioned('gone')).toBeUndefined();
  });
});
