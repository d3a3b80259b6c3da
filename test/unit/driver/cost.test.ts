import { describe, expect, it } from 'vitest';
import { estimateCost } from '../../../src/driver/cost.js';
import { PRICES, parsePrices } from '../../../src/driver/prices.js';
import { UsageError } from '../../../src/errors.js';

describe('estimateCost', () => {
  it('adds Lambda GB-seconds and requests to S3 requests at published prices', () => {
    // 100 invocations of 10 s at 1024 MB on arm64: 1,000 GB-s.
    const c = estimateCost({
      memoryMb: 1024,
      arch: 'arm64',
      invocations: 100,
      taskMs: 1_000_000,
      s3Puts: 1000,
      s3Gets: 10_000,
    });
    expect(c.lambdaGbSeconds).toBe(1000);
    expect(c.usd).toBeCloseTo(
      1000 * 0.0000133334 + 100 * 0.0000002 + 1000 * 0.000005 + 10_000 * 0.0000004,
      10,
    );
    expect(c.s3Requests).toBe(11_000);
  });

  it('prices every line from the table it is given, by hand: x86_64 at 512 MB, LIST and storage', () => {
    // A table with round prices, so the sums can be done on paper.
    const prices = parsePrices(
      JSON.stringify({
        region: 'eu-test-1',
        lambda: { gbSecond: { x86_64: 0.00002 }, request: 0.000001 },
        s3: { put: 0.00001, get: 0.000001, list: 0.00002, storageGbMonth: 0.1 },
      }),
      'test',
    );
    // 2,000 attempts of 1.5 s at 512 MB: 3,000 s x 0.5 GB = 1,500 GB-s x $0.00002 = $0.03.
    // Requests: 2,000 x $0.000001 = $0.002. PUT 300 x $0.00001 = $0.003; GET 5,000 x $0.000001 =
    // $0.005; LIST 50 x $0.00002 = $0.001; storage 2 GB-months x $0.1 = $0.2. Total $0.241.
    const c = estimateCost(
      {
        memoryMb: 512,
        arch: 'x86_64',
        invocations: 2000,
        taskMs: 3_000_000,
        s3Puts: 300,
        s3Gets: 5000,
        s3Lists: 50,
        storedGbMonths: 2,
      },
      prices,
    );
    expect(c.lambdaGbSeconds).toBe(1500);
    expect(c.breakdown.lambdaCompute).toBeCloseTo(0.03, 12);
    expect(c.breakdown.lambdaRequests).toBeCloseTo(0.002, 12);
    expect(c.breakdown.s3Put).toBeCloseTo(0.003, 12);
    expect(c.breakdown.s3Get).toBeCloseTo(0.005, 12);
    expect(c.breakdown.s3List).toBeCloseTo(0.001, 12);
    expect(c.breakdown.s3Storage).toBeCloseTo(0.2, 12);
    expect(c.usd).toBeCloseTo(0.241, 12);
    expect(c.s3Requests).toBe(5350);
  });

  it('prices x86_64 higher than arm64', () => {
    const u = { memoryMb: 1769, invocations: 10, taskMs: 60_000, s3Puts: 0, s3Gets: 0 };
    expect(estimateCost({ ...u, arch: 'x86_64' }).usd).toBeGreaterThan(
      estimateCost({ ...u, arch: 'arm64' }).usd,
    );
  });
});

describe('parsePrices', () => {
  it('lays the given prices over the table and keeps the rest', () => {
    const p = parsePrices('{"asOf":"2027-01-01","s3":{"get":0.001}}', 'prices.json');
    expect(p.asOf).toBe('2027-01-01');
    expect(p.s3.get).toBe(0.001);
    expect(p.s3.put).toBe(PRICES.s3.put);
    expect(p.lambda).toEqual(PRICES.lambda);
    expect(PRICES.s3.get).toBe(0.0000004);
  });

  it.each([
    ['not JSON', '{', /prices\.json: prices are not JSON/],
    [
      'an unknown key',
      '{"lambda":{"gbSeconds":1}}',
      /prices\.json: unknown price lambda\.gbSeconds \(known: gbSecond, request\)/,
    ],
    ['a negative price', '{"s3":{"put":-1}}', /prices\.json: s3\.put must be a price of 0 or more, got -1/],
    ['a price as a string', '{"s3":{"put":"0.1"}}', /s3\.put must be a price of 0 or more, got "0\.1"/],
    ['a section that is not an object', '{"s3":3}', /prices\.json: s3 must be an object, got 3/],
  ])('refuses %s in one line naming it', (_what, text, message) => {
    expect(() => parsePrices(text, 'prices.json')).toThrow(UsageError);
    expect(() => parsePrices(text, 'prices.json')).toThrow(message);
  });
});
