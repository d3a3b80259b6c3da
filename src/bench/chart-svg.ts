/**
 * The bench's chart as a self-contained SVG (no scripts, no fonts but the generic sans-serif): two
 * panels against concurrency, throughput in MB/s on the left, speedup with the ideal (linear) speedup
 * on the right. The same figures always give the same bytes.
 */

/** One concurrency's figures, as the chart draws them. */
export interface ChartPoint {
  concurrency: number;
  mbPerSec: number;
  speedup: number;
}

export interface ChartInput {
  /** The line above both panels, e.g. `wordcount over 64.0 MiB, local`. */
  title: string;
  /** At least one point; drawn in ascending order of concurrency. */
  points: readonly ChartPoint[];
}

const WIDTH = 760;
const HEIGHT = 340;
const PANEL = { width: 380, top: 56, bottom: 52, left: 58, right: 18 } as const;
const COLOURS = {
  throughput: '#1f77b4',
  speedup: '#d62728',
  ideal: '#7f7f7f',
  axis: '#333',
  grid: '#e4e4e4',
};
/** Beyond this ratio of highest to lowest concurrency, the x axis is logarithmic (base 2). */
const LOG_X_ABOVE = 8;

/** The chart of a bench's points. */
export function chartSvg(input: ChartInput): string {
  const points = [...input.points].sort((a, b) => a.concurrency - b.concurrency);
  const lowest = points[0]?.concurrency;
  if (lowest === undefined) throw new RangeError('a chart needs at least one point');
  const ideal = points.map((p) => p.concurrency / lowest);
  const x = xScale(points.map((p) => p.concurrency));
  const throughput = panel({
    left: 0,
    title: 'Throughput (MB/s)',
    x,
    concurrencies: points.map((p) => p.concurrency),
    series: [{ name: 'throughput', label: 'throughput', values: points.map((p) => p.mbPerSec) }],
  });
  const speedup = panel({
    left: PANEL.width,
    title: `Speedup (vs concurrency ${lowest})`,
    x,
    concurrencies: points.map((p) => p.concurrency),
    series: [
      { name: 'ideal', label: 'ideal (linear)', values: ideal, dashed: true },
      { name: 'speedup', label: 'measured', values: points.map((p) => p.speedup) },
    ],
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(input.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(input.title)}</text>`,
    throughput,
    speedup,
    '</svg>',
    '',
  ].join('\n');
}

/** Maps a concurrency to a fraction of the plot's width, and names the scale. */
interface XScale {
  at(concurrency: number): number;
  log: boolean;
}

function xScale(concurrencies: readonly number[]): XScale {
  const lo = Math.min(...concurrencies);
  const hi = Math.max(...concurrencies);
  if (hi === lo) return { at: () => 0.5, log: false };
  if (hi / lo > LOG_X_ABOVE) {
    const span = Math.log2(hi) - Math.log2(lo);
    return { at: (c) => 0.04 + (0.92 * (Math.log2(c) - Math.log2(lo))) / span, log: true };
  }
  // Linear from 0, so the ideal speedup is a straight line that points at the origin.
  return { at: (c) => 0.04 + (0.92 * c) / hi, log: false };
}

interface Series {
  /** The polyline's class: `throughput`, `speedup` or `ideal`. */
  name: string;
  label: string;
  values: readonly number[];
  dashed?: boolean;
}

function panel(p: {
  left: number;
  title: string;
  x: XScale;
  concurrencies: readonly number[];
  series: readonly Series[];
}): string {
  const x0 = p.left + PANEL.left;
  const x1 = p.left + PANEL.width - PANEL.right;
  const y0 = HEIGHT - PANEL.bottom;
  const y1 = PANEL.top;
  const ticks = yTicks(Math.max(...p.series.flatMap((s) => s.values)));
  const top = ticks[ticks.length - 1] as number;
  const px = (c: number) => x0 + p.x.at(c) * (x1 - x0);
  const py = (v: number) => y0 - (top > 0 ? (v / top) * (y0 - y1) : 0);
  const out: string[] = [`<g class="panel">`];
  out.push(
    `<text x="${n((x0 + x1) / 2)}" y="${y1 - 14}" text-anchor="middle" font-weight="bold">${escapeXml(p.title)}</text>`,
  );
  for (const t of ticks) {
    const y = n(py(t));
    out.push(`<line x1="${n(x0)}" y1="${y}" x2="${n(x1)}" y2="${y}" stroke="${COLOURS.grid}"/>`);
    out.push(`<text x="${n(x0 - 6)}" y="${n(py(t) + 4)}" text-anchor="end">${tickLabel(t)}</text>`);
  }
  out.push(
    `<line x1="${n(x0)}" y1="${n(y0)}" x2="${n(x1)}" y2="${n(y0)}" stroke="${COLOURS.axis}"/>`,
    `<line x1="${n(x0)}" y1="${n(y0)}" x2="${n(x0)}" y2="${n(y1)}" stroke="${COLOURS.axis}"/>`,
  );
  for (const c of p.concurrencies) {
    const x = n(px(c));
    out.push(`<line x1="${x}" y1="${n(y0)}" x2="${x}" y2="${n(y0 + 5)}" stroke="${COLOURS.axis}"/>`);
    out.push(`<text class="concurrency" x="${x}" y="${n(y0 + 18)}" text-anchor="middle">${c}</text>`);
  }
  out.push(
    `<text x="${n((x0 + x1) / 2)}" y="${n(HEIGHT - 12)}" text-anchor="middle">concurrency${p.x.log ? ' (log scale)' : ''}</text>`,
  );
  for (const s of p.series) {
    const colour = COLOURS[s.name as keyof typeof COLOURS] ?? COLOURS.axis;
    const coords = s.values.map((v, i) => `${n(px(p.concurrencies[i] as number))},${n(py(v))}`);
    out.push(
      `<polyline class="${s.name}" points="${coords.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    if (!s.dashed) {
      for (const xy of coords) {
        const [cx, cy] = xy.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${colour}"/>`);
      }
    }
  }
  // The legend, top left inside the plot.
  p.series.forEach((s, i) => {
    const colour = COLOURS[s.name as keyof typeof COLOURS] ?? COLOURS.axis;
    const y = y1 + 12 + i * 16;
    out.push(
      `<line x1="${n(x0 + 10)}" y1="${y}" x2="${n(x0 + 32)}" y2="${y}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${n(x0 + 38)}" y="${y + 4}">${escapeXml(s.label)}</text>`,
    );
  });
  out.push('</g>');
  return out.join('\n');
}

/** Ticks from 0 up to the first tick at or above `max`, at a step of 1, 2 or 5 times a power of 10. */
export function yTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const t = Number((i * step).toPrecision(12));
    ticks.push(t);
    if (t >= max) return ticks;
  }
}

function tickLabel(t: number): string {
  return String(Number(t.toPrecision(6)));
}

/** A coordinate, rounded to a tenth of a pixel. */
function n(v: number): string {
  return String(Math.round(v * 10) / 10);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
