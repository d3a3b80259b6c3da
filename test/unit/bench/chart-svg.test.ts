import { describe, expect, it } from 'vitest';
import { chartSvg, yTicks } from '../../../src/bench/chart-svg.js';
import { polylinePoints, svgShape } from '../../helpers/svg-shape.js';

const points = [
  { concurrency: 1, mbPerSec: 40, speedup: 1 },
  { concurrency: 2, mbPerSec: 76, speedup: 1.9 },
  { concurrency: 4, mbPerSec: 128, speedup: 3.2 },
  { concurrency: 8, mbPerSec: 150, speedup: 3.75 },
];

const line = (svg: string, name: string) => {
  const found = svgShape(svg).filter((e) => e.name === 'polyline' && e.attrs.class === name);
  expect(found, `one ${name} polyline`).toHaveLength(1);
  return polylinePoints(found[0] as (typeof found)[number]);
};

describe('chartSvg', () => {
  const svg = chartSvg({ title: 'wordcount over 64.0 MiB, local <2 cores> & more', points });

  it('is one well-formed, self-contained <svg>', () => {
    const elements = svgShape(svg);
    expect(elements[0]?.name).toBe('svg');
    expect(svg).not.toMatch(/<script|font-face|<image/);
    // The title is escaped, not markup.
    expect(elements.find((e) => e.name === 'title')?.text).toBe(
      'wordcount over 64.0 MiB, local &lt;2 cores&gt; &amp; more',
    );
  });

  it('draws throughput, speedup and the ideal speedup with a point per concurrency', () => {
    for (const name of ['throughput', 'speedup', 'ideal'])
      expect(line(svg, name)).toHaveLength(points.length);
  });

  it('draws x in ascending concurrency and the ideal line rising linearly', () => {
    const ideal = line(svg, 'ideal');
    const xs = ideal.map(([x]) => x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    const speedup = line(svg, 'speedup');
    // Speedup 1 at the lowest concurrency: the measured and the ideal lines start together.
    expect(speedup[0]).toEqual(ideal[0]);
    // On a linear axis the ideal points lie on one straight line (y falls as the speedup rises).
    const [[x0, y0], [x1, y1]] = ideal as [[number, number], [number, number]];
    for (const [x, y] of ideal) expect(y - y0).toBeCloseTo(((x - x0) * (y1 - y0)) / (x1 - x0), 0);
  });

  it('labels every concurrency on both panels, the axes and the legend', () => {
    const texts = svgShape(svg).filter((e) => e.name === 'text');
    const ticks = texts.filter((e) => e.attrs.class === 'concurrency').map((e) => e.text);
    expect(ticks).toEqual(['1', '2', '4', '8', '1', '2', '4', '8']);
    const words = texts.map((e) => e.text);
    expect(words).toEqual(
      expect.arrayContaining([
        'Throughput (MB/s)',
        'Speedup (vs concurrency 1)',
        'concurrency',
        'throughput',
        'measured',
        'ideal (linear)',
      ]),
    );
  });

  it('is deterministic and sorts its points', () => {
    expect(chartSvg({ title: 't', points: [...points].reverse() })).toBe(chartSvg({ title: 't', points }));
  });

  it('uses a log scale for a wide range of concurrencies, and draws one point alone', () => {
    const wide = chartSvg({
      title: 'wide',
      points: [1, 2, 4, 8, 16, 32].map((c) => ({ concurrency: c, mbPerSec: c, speedup: c })),
    });
    expect(svgShape(wide).some((e) => e.text === 'concurrency (log scale)')).toBe(true);
    const xs = line(wide, 'ideal').map(([x]) => x);
    const gaps = xs.slice(1).map((x, i) => x - (xs[i] as number));
    for (const g of gaps) expect(g).toBeCloseTo(gaps[0] as number, 0);
    const one = chartSvg({ title: 'one', points: [{ concurrency: 4, mbPerSec: 10, speedup: 1 }] });
    expect(line(one, 'throughput')).toHaveLength(1);
  });
});

describe('yTicks', () => {
  it('steps by 1, 2 or 5 times a power of ten from 0 to at least the maximum', () => {
    expect(yTicks(150)).toEqual([0, 50, 100, 150]);
    expect(yTicks(3.75)).toEqual([0, 1, 2, 3, 4]);
    expect(yTicks(0.33)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(yTicks(0)).toEqual([0, 1]);
  });
});
