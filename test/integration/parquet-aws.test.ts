/**
 * Parquet input on the AWS backend against the emulators on loopback: the map tasks run in the
 * Lambda runtime and read the files from S3 (s3rver) with ranged GETs, footer and row groups alike,
 * over splits that cut through the files; and output formats written there, Parquet and gzipped CSV
 * part files streamed to S3 by the function, read back by DuckDB.
 */
import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../src/index.js';
import { openStore } from '../../src/store/open-store.js';
import { type AwsTestEnv, readS3Output, startAwsEmulators } from '../helpers/aws-emulators.js';
import { keyed, revenueByCountry } from '../helpers/example-oracles.js';
import { type Order, order, Rng } from '../helpers/factories.js';
import { writeOrdersParquet } from '../helpers/parquet-files.js';
import { duckdbColumns, duckdbRows, sqlString } from '../helpers/read-outputs.js';
import { tempDir } from '../helpers/temp.js';

const local = tempDir('parquet-aws');
let aws: AwsTestEnv | undefined;
const orders: Order[] = [];

beforeAll(async () => {
  aws = await startAwsEmulators();
  Object.assign(process.env, aws.env);
  const rng = new Rng(77);
  const store = openStore(`s3://${aws.bucket}/in/parquet/`);
  for (const [i, compression] of ['snappy', 'zstd'].entries()) {
    const made = Array.from({ length: 6000 }, () => order(rng, orders.length + 1));
    orders.push(...made);
    const path = join(local.path, `orders-${i}.parquet`);
    await writeOrdersParquet(path, made, { compression });
    await store.put(`orders-${i}.parquet`, await readFile(path));
  }
}, 180_000);

afterAll(async () => {
  await aws?.stop();
  local.cleanup();
});

describe('parquet input on the aws backend', { timeout: 180_000 }, () => {
  it('sums revenue by country from S3 with ranged reads, every order once', async () => {
    const env = aws as AwsTestEnv;

    const result = await runJob(resolve('jobs/parquet-revenue.ts'), {
      backend: 'aws',
      functionName: env.functionName,
      input: [`s3://${env.bucket}/in/parquet/`],
      output: `s3://${env.bucket}/out/parquet/`,
      workDir: `s3://${env.bucket}/`,
      concurrency: 4,
      splitSize: 16 * 1024,
      retryBaseMs: 10,
    });

    expect(await readS3Output(env.bucket, 'out/parquet/', local)).toEqual(revenueByCountry(orders));
    expect(result.counters.inputRecords).toBe(orders.length);
    expect(result.counters.tasks).toBeGreaterThan(6);
  });

  it.each([
    ['.parquet', 'parquet', undefined, 'read_parquet', 'DOUBLE'],
    ['.csv.gz', 'csv', 'gzip', 'read_csv', 'DOUBLE'],
  ] as const)(
    'writes %s part files to S3 that DuckDB reads as the oracle',
    async (ext, format, compression, reader, valueType) => {
      const env = aws as AwsTestEnv;
      const prefix = `out/parquet-as-${format}/`;
      await runJob(resolve('jobs/parquet-revenue.ts'), {
        backend: 'aws',
        functionName: env.functionName,
        input: [`s3://${env.bucket}/in/parquet/`],
        output: `s3://${env.bucket}/${prefix}`,
        workDir: `s3://${env.bucket}/`,
        concurrency: 4,
        splitSize: 16 * 1024,
        partitions: 3,
        retryBaseMs: 10,
        outputFormat: format,
        outputCompression: compression,
      });
      const store = openStore(`s3://${env.bucket}/${prefix}`);
      const copy = join(local.path, `as-${format}`);
      mkdirSync(copy, { recursive: true });
      const names: string[] = [];
      for await (const o of store.list('')) {
        names.push(o.key);
        if (o.key.endsWith(ext)) await writeFile(join(copy, o.key), await store.get(o.key));
      }
      expect(names.filter((n) => n.endsWith(ext)).length).toBeGreaterThan(0);
      expect(names).toContain('_SUCCESS');
      const from = `${reader}(${sqlString(join(copy, `*${ext}`))})`;
      expect(await duckdbColumns(from)).toEqual({ key: 'VARCHAR', value: valueType });
      const rows = await duckdbRows(`SELECT key, value FROM ${from}`);
      expect(keyed(rows.map((r) => [r.key, r.value]))).toEqual(revenueByCountry(orders));
    },
  );
});
