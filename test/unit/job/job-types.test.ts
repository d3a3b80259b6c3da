/**
 * What the job API's types give a job file, checked by the compiler (`npm run typecheck` covers
 * the tests): each `expectTypeOf` fails type-checking when the type it names is wrong, and each
 * `@ts-expect-error` fails when its line stops being an error. The runtime assertions are a few
 * checks that the same definitions are valid jobs.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  defineJob,
  type Emit,
  type EmitRecord,
  type InputFile,
  type Job,
  type Json,
  jsonl,
  type KeyValue,
  parquet,
  sum,
} from '../../../src/index.js';

interface Click {
  user: string;
  url: string;
  ms: number;
}

describe('job types', () => {
  it('flow from the emit of map into combine and reduce, with nothing else annotated', () => {
    const job = defineJob({
      name: 'flow',
      input: { format: 'text' },
      map(line, emit: Emit<string, number>) {
        expectTypeOf(line).toEqualTypeOf<string>();
        emit(line, line.length);
        // @ts-expect-error: a value of another type than the emit's
        emit(line, 'long');
      },
      combine(key, values) {
        expectTypeOf(key).toEqualTypeOf<string>();
        expectTypeOf(values).toEqualTypeOf<number[]>();
        return values.reduce((a, b) => a + b, 0);
      },
      reduce(key, values, emit: Emit<string, number>) {
        expectTypeOf(key).toEqualTypeOf<string>();
        expectTypeOf(values).toEqualTypeOf<Iterable<number>>();
        let n = 0;
        for (const v of values) n += v;
        emit(key, n);
      },
    });
    expectTypeOf(job).toEqualTypeOf<Job<KeyValue<string, number>>>();
  });

  it('type a combine that returns another type than the values as an error', () => {
    defineJob({
      name: 'wrong-combine',
      // @ts-expect-error: no overload fits, as combine returns a string where the emit says number
      map(line, emit: Emit<string, number>) {
        emit(line, 1);
      },
      combine: (_key, values) => values.join(','),
      reduce() {},
    });
  });

  it('take the value type from the built-in sum too', () => {
    defineJob({
      name: 'builtin',
      map(line, emit: Emit<string, number>) {
        emit(line, 1);
      },
      combine: sum,
      reduce(_word, counts) {
        expectTypeOf(counts).toEqualTypeOf<Iterable<number>>();
      },
    });
  });

  it('give JSONL records the type named with jsonl<T>(), and any JSON value without it', () => {
    defineJob({
      name: 'typed-jsonl',
      input: jsonl<Click>(),
      map(click, emit: Emit<string, number>) {
        expectTypeOf(click).toEqualTypeOf<Click>();
        emit(click.user, click.ms);
        // @ts-expect-error: Click has no field `referrer`
        click.referrer;
      },
      reduce() {},
    });
    defineJob({
      name: 'untyped-jsonl',
      input: { format: 'jsonl', onBadRecord: 'skip', maxBadRecords: 3 },
      map(record, emit: EmitRecord<Json>) {
        expectTypeOf(record).toEqualTypeOf<Json>();
        emit(record);
      },
    });
    expect(jsonl<Click>({ onBadRecord: 'skip', maxBadRecords: 1 })).toEqual({
      format: 'jsonl',
      onBadRecord: 'skip',
      maxBadRecords: 1,
    });
  });

  it('give CSV rows with a header the named columns as fields, and arrays without one', () => {
    defineJob({
      name: 'csv-columns',
      input: { format: 'csv', header: true, columns: ['country', 'amount'] },
      map(row, emit: Emit<string, number>) {
        expectTypeOf(row).toEqualTypeOf<Record<'country' | 'amount', string>>();
        emit(row.country, Number(row.amount));
        // @ts-expect-error: not a named column
        row.notes;
      },
      reduce() {},
    });
    defineJob({
      name: 'csv-header',
      input: { format: 'csv', header: true },
      map(row, emit: EmitRecord<string>) {
        expectTypeOf(row).toEqualTypeOf<Record<string, string>>();
        emit(row.a ?? '');
      },
    });
    defineJob({
      name: 'csv-plain',
      input: { format: 'csv' },
      map(fields, emit: EmitRecord<string>) {
        expectTypeOf(fields).toEqualTypeOf<string[]>();
        emit(fields.join('|'));
      },
    });
  });

  it('give Parquet rows the type named with parquet<T>(), or the named columns of JSON values', () => {
    defineJob({
      name: 'typed-parquet',
      input: parquet<Click>({ columns: ['user', 'ms'] }),
      map(row, emit: Emit<string, number>) {
        expectTypeOf(row).toEqualTypeOf<Click>();
        emit(row.user, row.ms);
        // @ts-expect-error: Click has no field `referrer`
        row.referrer;
      },
      reduce() {},
    });
    // @ts-expect-error: Click has no column `referrer`
    parquet<Click>({ columns: ['referrer'] });
    defineJob({
      name: 'untyped-parquet',
      input: { format: 'parquet', columns: ['a', 'b'] },
      map(row, emit: EmitRecord<Json>) {
        expectTypeOf(row).toEqualTypeOf<Record<'a' | 'b', Json>>();
        emit(row.a);
      },
    });
  });

  it('make a stage without reduce map-only: emit takes one record, the job outputs those records', () => {
    const job = defineJob({
      name: 'map-only',
      input: jsonl<Click>(),
      map(click, emit: EmitRecord<{ user: string; seconds: number }>, ctx) {
        expectTypeOf(ctx.input).toEqualTypeOf<InputFile>();
        emit({ user: click.user, seconds: click.ms / 1000 });
        // @ts-expect-error: a map-only emit takes one record, not a key and a value
        emit(click.user, 1);
      },
    });
    expectTypeOf(job).toEqualTypeOf<Job<{ user: string; seconds: number }>>();
  });

  it("give a later stage's map the output records of the stage before", () => {
    const job = defineJob({ name: 'chain', input: jsonl<Click>() })
      .stage({
        map(click, emit: EmitRecord<Click>) {
          expectTypeOf(click).toEqualTypeOf<Click>();
          if (click.ms > 0) emit(click);
        },
      })
      .stage({
        map(click, emit: Emit<string, number>) {
          expectTypeOf(click).toEqualTypeOf<Click>();
          emit(click.url, 1);
        },
        combine: sum,
        reduce(url, counts, emit: Emit<string, number>) {
          let n = 0;
          for (const c of counts) n += c;
          emit(url, n);
        },
      })
      .stage({
        map(record, emit: Emit<'top', string>) {
          expectTypeOf(record).toEqualTypeOf<KeyValue<string, number>>();
          emit('top', record.key);
          // @ts-expect-error: the value of the stage before is a number
          record.value.toUpperCase();
        },
        reduce() {},
      });
    expectTypeOf(job).toEqualTypeOf<Job<KeyValue<unknown, unknown>>>();
    expect(job.stages).toHaveLength(3);
  });
});
