import type { AttemptRecord, AttemptTable } from './attempt-log.js';
import type { ReportData } from './job-report.js';
import type { Phase } from './progress.js';

/**
 * The report as one self-contained HTML page: inline CSS and SVG only, no script, font or request,
 * so it opens from a file, an S3 console download or a CI artifact alike. Each attempt is one
 * `<rect data-attempt>` with a `<title>` tooltip, each finished phase one `<line data-barrier>`.
 * Made in pieces, a bar each, in a few passes over the attempts (see writePieces): the page of
 * 100,000 attempts is 25 MB, never held whole.
 */
export function* reportHtmlPieces(r: ReportData): Generator<string> {
  const title = `${r.name} · ${r.jobId}`;
  yield '<!doctype html><html lang="en"><head><meta charset="utf-8">';
  yield '<meta name="viewport" content="width=device-width, initial-scale=1">';
  yield `<title>${esc(title)}</title><style>${CSS}${stageCss(r)}</style></head><body>`;
  yield `<h1>${esc(r.name)} <span class="state ${r.state}">${r.state}</span></h1>`;
  yield summary(r);
  yield r.error === undefined ? '' : `<p class="error">${esc(r.error)}</p>`;
  yield '<h2>Timeline</h2>';
  yield* timeline(r);
  yield legend(r);
  yield '<div class="cols"><div><h2>Attempt durations</h2>';
  yield histogram(r.attempts);
  yield '</div><div><h2>Cost</h2>';
  yield cost(r);
  yield '</div></div><h2>Bytes and records per stage</h2>';
  yield stageTable(r);
  yield '<h2>Slowest attempts</h2>';
  yield slowest(r.attempts);
  yield '</body></html>\n';
}

/** The whole page as one string (for tests and small reports). */
export function renderReportHtml(r: ReportData): string {
  return [...reportHtmlPieces(r)].join('');
}

/** Each attempt in order, made afresh from the table. */
function* each(t: AttemptTable): Generator<AttemptRecord> {
  for (let i = 0; i < t.length; i++) yield t.record(i);
}

const CSS = `body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2329;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.state{font-size:13px;padding:1px 8px;border-radius:10px;color:#fff;vertical-align:middle}
.succeeded{background:#2e7d32}.failed{background:#c62828}.cancelled{background:#6d6d6d}
.facts{color:#4a545e;margin:0}.facts b{color:#1d2329;font-weight:600}
.error{background:#fdecea;border-left:4px solid #c62828;padding:8px 12px;white-space:pre-wrap}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #e3e6e9}
th{font-weight:600;background:#f5f6f7}td.l,th.l{text-align:left}
.cols{display:flex;flex-wrap:wrap;gap:40px}.note{color:#4a545e;font-size:12px;max-width:560px}
svg text{font:11px system-ui,sans-serif;fill:#4a545e}
:where(.sep) [data-attempt]{stroke:#fff;stroke-width:.6}.lane{fill:#f7f8f9}.grid{stroke:#e3e6e9}.barrier{stroke:#1d2329;stroke-width:1.5;stroke-dasharray:4 3}
.retried,.failed-a{stroke:#c62828;stroke-width:1.5}.failed-a{fill:url(#hatch)}
.superseded{opacity:.35;stroke:#555;stroke-dasharray:2 2}.speculative{stroke:#111;stroke-width:1.2;stroke-dasharray:3 2}
.throttled{fill:#f9a825}.unfinished{fill:url(#hatch);stroke:#555}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12px;margin:6px 0}
.legend svg{vertical-align:middle;margin-right:4px}
.bin{fill:#5c7fa3}`;

/** Map bars light, merge bars between, reduce bars dark, one hue per stage. */
const HUES = [210, 28, 150, 280, 350, 90, 190, 50];
const hue = (stage: number) => HUES[stage % HUES.length] as number;
const LIGHTNESS: Record<Phase, string> = { map: '62%,62%', merge: '58%,50%', reduce: '55%,38%' };
const color = (stage: number, phase: Phase) => `hsl(${hue(stage)},${LIGHTNESS[phase]})`;
/** The class letter of a phase's bars. */
const LETTER: Record<Phase, string> = { map: 'm', merge: 'g', reduce: 'r' };

function stageCss(r: ReportData): string {
  return r.stages
    .map((s) =>
      (['map', 'merge', 'reduce'] as const)
        .map((p) => `.s${s.stage}${LETTER[p]}{fill:${color(s.stage, p)}}`)
        .join(''),
    )
    .join('');
}

function summary(r: ReportData): string {
  const ran = r.attempts.length;
  const outcomes = new Map<AttemptRecord['outcome'], number>();
  let spec = 0;
  for (const a of each(r.attempts)) {
    outcomes.set(a.outcome, (outcomes.get(a.outcome) ?? 0) + 1);
    if (a.speculative) spec++;
  }
  const count = (o: AttemptRecord['outcome']) => outcomes.get(o) ?? 0;
  const tasks = r.stages.reduce((n, s) => n + s.map.tasks + s.reduce.tasks, 0);
  const facts: [string, string][] = [
    ['job', r.jobId],
    ['run', String(r.run)],
    ['backend', `${r.backend}, concurrency ${r.concurrency}`],
    ['started', r.startedAt.replace('T', ' ').slice(0, 19)],
    ['wall', seconds(r.wallMs)],
    ['tasks', num(tasks)],
    ['attempts', num(ran)],
    ['retried', num(count('retried'))],
    ['failed', num(count('failed'))],
    ['speculative', num(spec)],
    ['superseded', num(count('superseded'))],
    ['throttled', num(r.throttled + count('throttled'))],
    ['cost', usd(r.cost.estimate.usd)],
    ['output', r.output],
  ];
  return `<p class="facts">${facts.map(([k, v]) => `${k} <b>${esc(v)}</b>`).join(' · ')}</p>`;
}

const PLOT_W = 1100;
const LEFT = 92;

/** Lanes in natural order: `worker 2` before `worker 10`. */
function laneOrder(attempts: AttemptTable): Map<string, number> {
  const seen = new Set<string>();
  for (const a of each(attempts)) seen.add(a.lane);
  const names = [...seen];
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return new Map(names.map((n, i) => [n, i]));
}

function* timeline(r: ReportData): Generator<string> {
  const lanes = laneOrder(r.attempts);
  const rows = Math.max(1, lanes.size);
  const rowH = Math.max(2, Math.min(22, Math.floor(640 / rows)));
  const top = 6;
  const plotH = rows * rowH;
  // From the first task handed out: listing, bundling and starting workers come before it.
  const from = r.phases.reduce(
    (m, p) => Math.min(m, p.startMs),
    r.attempts.length > 0 ? r.attempts.record(0).startMs : 0,
  );
  const end = Math.max(from + 1, r.wallMs, ...r.phases.map((p) => p.endMs ?? 0));
  const x = (ms: number) => LEFT + ((ms - from) / (end - from)) * PLOT_W;
  const h = top + plotH + 22;
  // Bars wide enough to tell apart get a hairline between them; thousands per lane would go white.
  yield `<svg class="timeline${r.attempts.length / rows < 150 ? ' sep' : ''}" width="${LEFT + PLOT_W + 10}" height="${h}" viewBox="0 0 ${LEFT + PLOT_W + 10} ${h}" role="img" aria-label="timeline of every attempt">`;
  yield '<defs><pattern id="hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" height="5" fill="#f3c1c1"/><line x1="0" y1="0" x2="0" y2="5" stroke="#c62828" stroke-width="2"/></pattern></defs>';
  // Lane backgrounds and labels; past ~60 lanes only every few are named.
  const labelEvery = Math.max(1, Math.ceil(14 / rowH));
  for (const [name, i] of lanes) {
    const y = top + i * rowH;
    if (i % 2 === 0) yield `<rect class="lane" x="${LEFT}" y="${y}" width="${PLOT_W}" height="${rowH}"/>`;
    if (i % labelEvery === 0)
      yield `<text x="${LEFT - 6}" y="${y + Math.min(rowH, 14) - 3}" text-anchor="end">${esc(name)}</text>`;
  }
  for (const t of ticks(from, end)) {
    const tx = f1(x(t));
    yield `<line class="grid" x1="${tx}" y1="${top}" x2="${tx}" y2="${top + plotH}"/><text x="${tx}" y="${top + plotH + 15}" text-anchor="middle">${seconds(t)}</text>`;
  }
  const pad = rowH > 4 ? 1 : 0;
  const t = r.attempts;
  for (let i = 0; i < t.length; i++) {
    const a = t.record(i);
    const y = top + (lanes.get(a.lane) ?? 0) * rowH + pad;
    const w = Math.max(0.6, x(a.endMs) - x(a.startMs));
    const cls = `s${a.stage}${LETTER[a.phase]}${outcomeClass(a)}`;
    const tip = `${a.taskId} attempt ${a.attempt}${a.speculative ? ' (speculative copy)' : ''}: ${a.outcome}, ${seconds(a.endMs - a.startMs)} on ${a.lane}\n${t.input(i)}${a.error ? `\n${a.error}` : ''}`;
    yield `<rect class="${cls}" x="${f1(x(a.startMs))}" y="${y}" width="${f1(w)}" height="${rowH - 2 * pad}" data-attempt="${a.taskId}#${a.attempt}" data-outcome="${a.outcome}"><title>${esc(tip)}</title></rect>`;
  }
  for (const p of r.phases) {
    if (p.endMs === undefined) continue;
    const bx = f1(x(p.endMs));
    yield `<line class="barrier" x1="${bx}" y1="${top - 4}" x2="${bx}" y2="${top + plotH + 2}" data-barrier="s${p.stage}-${p.phase}"><title>stage ${p.stage} ${p.phase} phase done at ${seconds(p.endMs)}</title></line>`;
  }
  yield '</svg>';
  yield `<p class="note">Time since the run started; the first task was handed out at ${seconds(from)} (before it: listing the input, planning, bundling the job, starting workers).</p>`;
}

function outcomeClass(a: AttemptRecord): string {
  const marks: string[] = [];
  if (a.outcome === 'retried') marks.push('retried');
  else if (a.outcome === 'failed') marks.push('failed-a');
  else if (a.outcome !== 'ok') marks.push(a.outcome);
  if (a.speculative) marks.push('speculative');
  return marks.length > 0 ? ` ${marks.join(' ')}` : '';
}

function legend(r: ReportData): string {
  const swatch = (cls: string, fill?: string) =>
    `<svg width="22" height="12"><rect class="${cls}" x="1" y="1" width="20" height="10"${fill ? ` style="fill:${fill}"` : ''}/></svg>`;
  const items = r.stages.flatMap((s) => [
    `${swatch(`s${s.stage}m`)}stage ${s.stage} map`,
    ...(s.merge ? [`${swatch(`s${s.stage}g`)}stage ${s.stage} merge`] : []),
    `${swatch(`s${s.stage}r`)}stage ${s.stage} reduce`,
  ]);
  const grey = '#9aa5b1';
  items.push(
    `${swatch('retried', grey)}retried (failed, ran again)`,
    `${swatch('failed-a')}failed`,
    `${swatch('speculative', grey)}speculative copy`,
    `${swatch('superseded', grey)}superseded (lost the race)`,
    `${swatch('throttled')}throttled`,
    `<svg width="22" height="12"><line class="barrier" x1="11" y1="0" x2="11" y2="12"/></svg>phase done (barrier)`,
  );
  return `<div class="legend">${items.map((i) => `<span>${i}</span>`).join('')}</div>`;
}

/**
 * Attempt durations in bins of equal ratio (each about 1.3x the last): a run of thousands of short
 * tasks and a few long reducers shows both, where bins of equal width would put nearly all in one.
 */
function histogram(attempts: AttemptTable): string {
  const ms = new Float64Array(attempts.length);
  for (let i = 0; i < ms.length; i++) {
    const a = attempts.record(i);
    ms[i] = Math.max(1, a.endMs - a.startMs);
  }
  if (ms.length === 0) return '<p class="note">no attempt ran</p>';
  const bins = 24;
  const lo = ms.reduce((m, d) => Math.min(m, d), Number.POSITIVE_INFINITY);
  const max = ms.reduce((m, d) => Math.max(m, d), 1);
  const span = Math.max(Math.log(max / lo), 1e-9);
  const edge = (i: number) => lo * Math.exp((i / bins) * span);
  const counts = new Array<number>(bins).fill(0);
  for (const d of ms) {
    const i = Math.min(bins - 1, Math.floor((Math.log(d / lo) / span) * bins));
    counts[i] = (counts[i] ?? 0) + 1;
  }
  const most = counts.reduce((m, c) => Math.max(m, c), 1);
  const W = 480;
  const H = 160;
  const bw = W / bins;
  const out = [
    `<svg width="${W + 50}" height="${H + 34}" role="img" aria-label="histogram of attempt durations">`,
  ];
  counts.forEach((c, i) => {
    const bh = (c / most) * H;
    out.push(
      `<rect class="bin" x="${f1(40 + i * bw)}" y="${f1(6 + H - bh)}" width="${f1(bw - 1)}" height="${f1(bh)}" data-bin="${i}"><title>${num(c)} attempts of ${seconds(edge(i))} to ${seconds(edge(i + 1))}</title></rect>`,
    );
  });
  out.push(
    `<text x="36" y="14" text-anchor="end">${num(most)}</text><text x="36" y="${6 + H}" text-anchor="end">0</text>`,
    `<text x="40" y="${H + 22}">${seconds(lo)}</text><text x="${40 + W}" y="${H + 22}" text-anchor="end">${seconds(max)}</text>`,
    `<text x="${40 + W / 2}" y="${H + 22}" text-anchor="middle">attempt duration, log scale (${num(ms.length)} attempts)</text></svg>`,
  );
  return out.join('');
}

function cost(r: ReportData): string {
  const { usage: u, estimate: e, prices: p } = r.cost;
  const rows: [string, string, string][] = [
    [
      `Lambda compute (${u.memoryMb} MB, ${u.arch})`,
      `${e.lambdaGbSeconds.toFixed(2)} GB-s`,
      usd(e.breakdown.lambdaCompute),
    ],
    ['Lambda requests', num(u.invocations), usd(e.breakdown.lambdaRequests)],
    ['S3 PUT', num(u.s3Puts), usd(e.breakdown.s3Put)],
    ['S3 GET', num(u.s3Gets), usd(e.breakdown.s3Get)],
    ['S3 LIST', num(u.s3Lists ?? 0), usd(e.breakdown.s3List)],
    ['S3 storage', `${(u.storedGbMonths ?? 0).toExponential(2)} GB-months`, usd(e.breakdown.s3Storage)],
  ];
  const basis =
    r.cost.basis === 'aws' && r.cost.sizeKnown
      ? 'Lambda at the function’s memory and architecture, billed for every attempt that ran.'
      : r.cost.basis === 'aws'
        ? 'The function’s size could not be read: priced as Lambda at 1769 MB on arm64.'
        : 'A local run: what the same attempt durations would cost on Lambda (1769 MB = one vCPU, arm64), one invocation per attempt.';
  return `<table data-cost><tr><th class="l">item</th><th>used</th><th>USD</th></tr>${rows
    .map(([a, b, c]) => `<tr><td class="l">${esc(a)}</td><td>${b}</td><td>${c}</td></tr>`)
    .join(
      '',
    )}<tr><th class="l">total</th><th></th><th>${usd(e.usd)}</th></tr></table><p class="note">${basis} S3 requests are counted from the plan (about). Prices: ${esc(p.region)}, as of ${esc(p.asOf)}.</p>`;
}

function stageTable(r: ReportData): string {
  const head =
    '<tr><th class="l">stage</th><th class="l">phase</th><th>tasks</th><th>attempts</th><th>bytes in</th><th>records in</th><th>bytes out</th><th>records out</th><th>task time</th></tr>';
  const rows = r.stages.flatMap((s) =>
    (['map', 'merge', 'reduce'] as const).flatMap((phase) => {
      const f = s[phase];
      if (!f) return [];
      return `<tr data-stage="${s.stage}-${phase}"><td class="l">${s.stage}</td><td class="l">${phase}</td><td>${num(f.tasks)}</td><td>${num(f.attempts)}</td><td>${bytes(f.bytesIn)}</td><td>${num(f.recordsIn)}</td><td>${bytes(f.bytesOut)}</td><td>${num(f.recordsOut)}</td><td>${seconds(f.taskMs)}</td></tr>`;
    }),
  );
  return `<table>${head}${rows.join('')}</table><p class="note">Summed over committed attempts of this run. Map bytes out are shuffle bytes; reduce bytes out are part files.</p>`;
}

/** The 15 longest attempts, longest first; of equal ones, the earlier first (as a stable sort). */
function slowest(t: AttemptTable): string {
  const top: { i: number; ms: number }[] = [];
  for (let i = 0; i < t.length; i++) {
    const a = t.record(i);
    const ms = a.endMs - a.startMs;
    // After every kept attempt at least as long: the place a stable sort by duration gives it.
    let at = top.length;
    while (at > 0 && (top[at - 1] as { ms: number }).ms < ms) at--;
    if (at >= SLOWEST) continue;
    top.splice(at, 0, { i, ms });
    if (top.length > SLOWEST) top.pop();
  }
  const rows = top.map(({ i }) => {
    const a = t.record(i);
    return `<tr><td class="l">${a.taskId}</td><td>${a.attempt}</td><td class="l">${esc(a.lane)}</td><td>${seconds(a.endMs - a.startMs)}</td><td class="l">${a.outcome}${a.speculative ? ', speculative' : ''}</td><td class="l">${esc(t.input(i))}</td></tr>`;
  });
  return `<table data-slowest><tr><th class="l">task</th><th>attempt</th><th class="l">lane</th><th>duration</th><th class="l">outcome</th><th class="l">input</th></tr>${rows.join('')}</table>`;
}

const SLOWEST = 15;

/** About six round time ticks between `from` and `end` ms. */
function ticks(from: number, end: number): number[] {
  const raw = (end - from) / 6;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * p >= raw) ?? 10) * p;
  const out: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= end + 1e-9; t += step) out.push(t);
  return out;
}

const f1 = (n: number) => (Math.round(n * 10) / 10).toString();
const num = (n: number) => n.toLocaleString('en-US');
const seconds = (ms: number) =>
  ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const usd = (n: number) => `$${n < 0.01 ? n.toFixed(7) : n.toFixed(4)}`;

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c] as string);
}
