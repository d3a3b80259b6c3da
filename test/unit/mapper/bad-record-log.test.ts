import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadRecordError, TooManyBadRecordsError } from '../../../src/errors.js';
import { type BadRecord, BadRecordLog, MAX_TEXT } from '../../../src/mapper/bad-record-log.js';
import type { Split } from '../../../src/protocol/task-types.js';
import { LocalDirStore } from '../../../src/store/local-dir-store.js';
import { tempDirs } from '../../helpers/temp.js';

const split = (start: number): Split => ({
  store: 'file:///data/',
  key: 'a.jsonl',
  start,
  end: start + 100,
  size: 1000,
});
/** The error the JSONL parser throws for `line`, quoting it the way it does. */
const notJson = (line: string) => new BadRecordError(`bad JSON line: it is not: ${JSON.stringify(line)}`);

describe('BadRecordLog', () => {
  const setup = tempDirs('bad-log');
  const KEY = '_temporary/_bad_records/s0-m00000-a1.jsonl';

  it('writes each record with its file, line, reason and text, and says what it skipped', async () => {
    const d = setup();
    const log = new BadRecordLog(new LocalDirStore(d.path), KEY, 5);
    log.add(split(0), 2, '{"id":', notJson('{"id":'));
    await log.flush();
    log.add(split(500), 7, 'nope', notJson('nope'));

    const skipped = await log.close();

    expect(skipped).toEqual({
      count: 2,
      first: `/data/a.jsonl line 2: ${notJson('{"id":').message}`,
      key: KEY,
    });
    const lines = readFileSync(join(d.path, KEY), 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as BadRecord)).toEqual([
      { file: '/data/a.jsonl', line: 2, reason: 'bad JSON line: it is not', text: '{"id":' },
      { file: '/data/a.jsonl', line: 7, afterByte: 500, reason: 'bad JSON line: it is not', text: 'nope' },
    ]);
  });

  it('cuts a long line and says so', async () => {
    const d = setup();
    const log = new BadRecordLog(new LocalDirStore(d.path), KEY, 5);
    const long = `{"text":"${'x'.repeat(5000)}`;
    log.add(split(0), 1, long, notJson(long));
    await log.close();
    const [record] = readFileSync(join(d.path, KEY), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as BadRecord);
    expect(record?.text).toBe(long.slice(0, MAX_TEXT));
    expect(record?.truncated).toBe(true);
  });

  it('writes nothing when nothing was skipped', async () => {
    const d = setup();
    expect(await new BadRecordLog(new LocalDirStore(d.path), KEY, 5).close()).toBeUndefined();
    expect(readdirSync(d.path)).toEqual([]);
  });

  it('fails once the attempt alone has more than the limit, naming the count, the limit and the first', () => {
    const log = new BadRecordLog(new LocalDirStore(setup().path), KEY, 2);
    log.add(split(0), 2, 'a', notJson('a'));
    log.add(split(0), 4, 'b', notJson('b'));
    let err: unknown;
    try {
      log.add(split(0), 9, 'c', notJson('c'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TooManyBadRecordsError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toBe(
      `3 bad records, more than maxBadRecords (2) allows; the first: /data/a.jsonl line 2: ${notJson('a').message}`,
    );
  });

  it('leaves nothing behind when the attempt is aborted', async () => {
    const d = setup();
    const log = new BadRecordLog(new LocalDirStore(d.path), KEY, 5);
    log.add(split(0), 2, 'a', notJson('a'));
    await log.flush();
    await log.abort();
    expect(existsSync(join(d.path, KEY))).toBe(false);
    expect(
      readdirSync(d.path, { recursive: true, encoding: 'utf8' }).filter((p) => p.includes('.fanout-tmp-')),
    ).toEqual([]);
  });
});
