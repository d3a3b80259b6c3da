import { describe, expect, it } from 'vitest';
import { BadRecordError, JobDefinitionError } from '../../../src/errors.js';
import { parseCsvLine } from '../../../src/job/csv.js';
import { defineJob } from '../../../src/job/define-job.js';
import { recordParser } from '../../../src/job/record-parser.js';

describe('parseCsvLine', () => {
  it.each([
    ['a,b,c', ',', ['a', 'b', 'c']],
    ['', ',', ['']],
    ['a,,c,', ',', ['a', '', 'c', '']],
    ['"a,b",c', ',', ['a,b', 'c']],
    ['"say ""hi""",x', ',', ['say "hi"', 'x']],
    ['"",""', ',', ['', '']],
    ['x;"y;z";w', ';', ['x', 'y;z', 'w']],
    ['tab\tsep', '\t', ['tab', 'sep']],
    ['a,"b,c"', ',', ['a', 'b,c']],
    ['"say ""hi"""', ',', ['say "hi"']],
    ['"a"b,c', ',', ['ab', 'c']],
    ['x,"a" b', ',', ['x', 'a b']],
  ])('%j with %j gives %j', (line, delimiter, fields) => {
    expect(parseCsvLine(line, delimiter)).toEqual(fields);
  });

  it.each([
    ['"unterminated,field', 1],
    ['a,"b,c', 2],
    ['a,"say ""hi""', 2],
    ['a,"b"",c', 2],
  ])('throws a BadRecordError for the unclosed quote in %j', (line, field) => {
    expect(() => parseCsvLine(line, ',')).toThrow(BadRecordError);
    expect(() => parseCsvLine(line, ',')).toThrow(
      `bad CSV line: unclosed quote in field ${field}: ${JSON.stringify(line)}`,
    );
  });
});

describe('parseCsvLine with a limit', () => {
  it.each([
    ['a,b,c,d', 2, ['a', 'b']],
    ['a,"b,c",d', 2, ['a', 'b,c']],
    ['a,b', 4, ['a', 'b']],
    // The open quote lies past the fields read: never scanned, never an error.
    ['a,b,"open', 2, ['a', 'b']],
  ])('%j limited to %i fields gives %j', (line, limit, fields) => {
    expect(parseCsvLine(line, ',', limit)).toEqual(fields);
  });
});

describe('parseCsvLine keeping some fields', () => {
  const keep = [true, false, false, true];
  it.each([
    ['a,b,c,d,e', ['a', undefined, undefined, 'd']],
    // Quoted fields skipped or kept, a doubled quote inside one, a delimiter inside another.
    ['"a,1",b,"say ""hi""",d', ['a,1', undefined, undefined, 'd']],
    ['a,"b,2",c,"d ""q"""', ['a', undefined, undefined, 'd "q"']],
    // A line of fewer fields leaves the positions it lacks empty.
    ['a,b', ['a', undefined, undefined, undefined]],
  ])('%j gives %j', (line, fields) => {
    const got = parseCsvLine(line, ',', 4, keep);
    expect(got.length).toBe(4);
    expect([0, 1, 2, 3].map((i) => got[i])).toEqual(fields);
    // Skipped fields are never cut out of the line: the positions hold nothing at all.
    expect(1 in got || 2 in got).toBe(false);
  });

  it('still refuses an unclosed quote in a field it skips', () => {
    expect(() => parseCsvLine('a,"open,c,d', ',', 4, keep)).toThrow('unclosed quote in field 2');
  });
});

describe('recordParser', () => {
  it('passes text lines through, including empty ones', () => {
    const p = recordParser({ format: 'text' });
    expect(p('')).toBe('');
    expect(p('a b')).toBe('a b');
  });

  it('parses jsonl and skips blank lines', () => {
    const p = recordParser({ format: 'jsonl' });
    expect(p('{"a":1}')).toEqual({ a: 1 });
    expect(p('   ')).toBeUndefined();
    expect(() => p('{not json')).toThrow(BadRecordError);
  });

  it('maps csv rows to objects by header', () => {
    const p = recordParser({ format: 'csv', delimiter: ',', header: true }, 'id,name');
    expect(p('1,"Smith, J"')).toEqual({ id: '1', name: 'Smith, J' });
    expect(p('2')).toEqual({ id: '2', name: '' });
    expect(p('')).toBeUndefined();
  });
});

describe('recordParser with csv columns', () => {
  it('keeps each named position in place and nothing else, without a header', () => {
    const p = recordParser({ format: 'csv', columns: [3, 0] });
    const row = p('1.2.3.4,url,2020-01-01,0.5,"Mozilla, like Gecko",DEU') as string[];
    expect(row[0]).toBe('1.2.3.4');
    expect(row[3]).toBe('0.5');
    expect(row.length).toBe(4);
    expect(row[1]).toBeUndefined();
    expect(row[4]).toBeUndefined();
    // A short line gives '' for the named columns it lacks.
    const short = p('short') as string[];
    expect([short[0], short[3]]).toEqual(['short', '']);
  });

  it('keeps only the named keys with a header, by name or by position', () => {
    const header = 'id,name,country,amount';
    expect(
      recordParser({ format: 'csv', header: true, columns: ['amount', 'id'] }, header)('1,"A, B",DE,7'),
    ).toEqual({
      id: '1',
      amount: '7',
    });
    expect(recordParser({ format: 'csv', header: true, columns: [1] }, header)('1,"A, B",DE,7')).toEqual({
      name: 'A, B',
    });
  });

  it('names a column the header lacks in one line', () => {
    expect(() => recordParser({ format: 'csv', header: true, columns: ['nope'] }, 'id,name')).toThrow(
      'csv column "nope" is not in the header: "id,name"',
    );
  });

  it('rejects bad columns when the job is defined', () => {
    const job = (columns: unknown, header = false) =>
      defineJob({
        name: 'c',
        input: { format: 'csv', header, columns: columns as number[] },
        map() {},
        reduce() {},
      });
    expect(() => job([])).toThrow('job c: csv columns must be a non-empty array');
    expect(() => job([1, 1])).toThrow('job c: csv columns name a column twice: [1,1]');
    expect(() => job([-1])).toThrow('must be all positions (integers from 0) or all header names');
    expect(() => job(['a'])).toThrow('by name need header: true');
    expect(() => job([0, 'a'], true)).toThrow('must be all positions');
    expect(job(['a'], true).input).toMatchObject({ columns: ['a'] });
    expect(job([2, 0]).input).toMatchObject({ columns: [2, 0] });
  });
});

describe('defineJob', () => {
  const stage = { map() {}, reduce() {} };
  it('rejects bad definitions with a message naming the problem', () => {
    expect(() => defineJob({ ...stage, name: 'bad name' })).toThrow(/job name/);
    expect(() => defineJob({ name: 'x', reduce() {} } as never)).toThrow(/map must be a function/);
    expect(() => defineJob({ ...stage, name: 'x', partitions: 0 })).toThrow(JobDefinitionError);
    expect(() => defineJob({ ...stage, name: 'x', input: { format: 'xml' } as never })).toThrow(
      /input.format/,
    );
    expect(() => defineJob({ name: 'x', stages: [] })).toThrow(/non-empty/);
    expect(() => defineJob({ ...stage, name: 'x', input: { format: 'csv', delimiter: ',,' } })).toThrow(
      /delimiter/,
    );
  });

  it('normalises a single-stage job to one stage', () => {
    const job = defineJob({ ...stage, name: 'ok', input: { format: 'csv', header: true } });
    expect(job.stages).toHaveLength(1);
    expect(job.input).toEqual({ format: 'csv', delimiter: ',', header: true });
  });
});
