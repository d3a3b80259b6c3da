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
