import cliProgress from 'cli-progress';
import type { Phase, ProgressEvent } from '../driver/progress.js';
import { formatDuration } from '../duration.js';
import { formatBytes } from './parse-size.js';

/** Renders progress events: live bars on a terminal, a few plain lines otherwise. Writes to stderr. */
export interface ProgressView {
  onEvent(e: ProgressEvent): void;
  stop(): void;
}

/** A phase as the view follows it. */
export interface PhaseState {
  bar?: cliProgress.SingleBar;
  started: number;
  bytesDone: number;
  recordsDone: number;
  tasks: number;
  done: number;
  /** Attempts running now, as the last event said. */
  inFlight?: number;
  finished?: boolean;
}

const perSecond = (p: PhaseState, n: number, now: number) => {
  const s = (now - p.started) / 1000;
  return s > 0 ? n / s : undefined;
};
const rate = (p: PhaseState, now = Date.now()) => {
  const r = perSecond(p, p.bytesDone / 1e6, now);
  return r === undefined ? '-' : `${r.toFixed(1)} MB/s`;
};
const records = (p: PhaseState, now = Date.now()) => {
  const r = perSecond(p, p.recordsDone, now);
  return r === undefined ? '-' : `${Math.round(r).toLocaleString('en-US')} records/s`;
};

/**
 * A phase's figures for its bar: time so far, MB/s and records/s, and no ETA until a task has
 * finished (none can be honest before), then the pace so far times the tasks left.
 */
export function phaseFigures(
  p: PhaseState,
  now = Date.now(),
): { elapsed: string; rate: string; records: string; inFlight: string; etaText: string } {
  const ms = now - p.started;
  const left = p.done > 0 ? (ms / p.done) * (p.tasks - p.done) : undefined;
  return {
    elapsed: formatDuration(ms),
    rate: rate(p, now),
    records: records(p, now),
    inFlight: `${p.inFlight ?? 0} running`,
    etaText: left === undefined ? '-' : formatDuration(left),
  };
}

/**
 * `tty` draws bars, `plain` prints lines, `warnings` prints only warnings (for `--json`, whose
 * stdout is the summary), `none` prints nothing.
 */
export function createProgressView(mode: 'tty' | 'plain' | 'warnings' | 'none'): ProgressView {
  const out = process.stderr;
  if (mode === 'none') return { onEvent() {}, stop() {} };
  if (mode === 'warnings') {
    return {
      onEvent(e) {
        if (e.type === 'warning') out.write(`mr: warning: ${e.message}\n`);
      },
      stop() {},
    };
  }
  const phases = new Map<string, PhaseState>();
  const multi =
    mode === 'tty'
      ? new cliProgress.MultiBar(
          {
            stream: out,
            format:
              '{label} [{bar}] {value}/{total} tasks | {inFlight} | {elapsed} | {rate} | {records} | ETA {etaText}',
            barsize: 28,
            hideCursor: true,
            clearOnComplete: false,
            etaBuffer: 20,
            fps: 8,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  const label = (stage: number, phase: Phase) => `stage ${stage} ${phase.padEnd(6)}`;
  // The elapsed time and rates move while no task finishes, too.
  const ticker = multi
    ? setInterval(() => {
        for (const p of phases.values()) if (p.bar && !p.finished) p.bar.update(phaseFigures(p));
      }, 1000)
    : undefined;
  ticker?.unref();
  return {
    onEvent(e) {
      switch (e.type) {
        case 'job-start':
          if (!multi) out.write(`input: ${e.inputFiles} files, ${formatBytes(e.inputBytes)}\n`);
          return;
        case 'phase-start': {
          const p: PhaseState = {
            started: Date.now(),
            bytesDone: 0,
            recordsDone: 0,
            tasks: e.tasks,
            done: 0,
          };
          if (multi)
            p.bar = multi.create(Math.max(e.tasks, 1), 0, {
              label: label(e.stage, e.phase),
              ...phaseFigures(p),
            });
          else out.write(`${label(e.stage, e.phase)}: ${e.tasks} tasks, ${formatBytes(e.bytes)}\n`);
          phases.set(`${e.stage}/${e.phase}`, p);
          return;
        }
        case 'task-start': {
          const p = phases.get(`${e.stage}/${e.phase}`);
          if (!p) return;
          p.inFlight = e.inFlight;
          p.bar?.update(phaseFigures(p));
          return;
        }
        case 'task-done': {
          const p = phases.get(`${e.stage}/${e.phase}`);
          if (!p) return;
          p.inFlight = e.inFlight;
          p.bytesDone += e.metrics.inputBytes;
          p.recordsDone += e.metrics.inputRecords;
          p.done = e.done;
          p.bar?.update(e.done, phaseFigures(p));
          return;
        }
        case 'task-retry':
          if (multi) multi.log(`retry ${e.taskId} after attempt ${e.attempt}: ${e.error}\n`);
          else out.write(`retry ${e.taskId} after attempt ${e.attempt}: ${e.error}\n`);
          return;
        case 'task-speculated': {
          const line = `straggler ${e.taskId}: speculative attempt ${e.attempt}\n`;
          if (multi) multi.log(line);
          else out.write(line);
          return;
        }
        case 'task-slow': {
          const median = e.medianMs === undefined ? '' : `, median ${formatDuration(e.medianMs)}`;
          const timeout = e.timeoutMs === undefined ? '' : `; retried after ${formatDuration(e.timeoutMs)}`;
          const line = `slow: ${e.taskId} attempt ${e.attempt} running ${formatDuration(e.runningMs)}${median}${timeout}\n`;
          if (multi) multi.log(line);
          else out.write(line);
          return;
        }
        case 'warning': {
          const line = `mr: warning: ${e.message}\n`;
          if (multi) multi.log(line);
          else out.write(line);
          return;
        }
        case 'concurrency': {
          const line = `${e.reason === 'throttled' ? 'throttled: ' : ''}tasks in flight now ${e.limit}\n`;
          if (multi) multi.log(line);
          else out.write(line);
          return;
        }
        case 'phase-done': {
          const p = phases.get(`${e.stage}/${e.phase}`);
          if (p) p.finished = true;
          if (p?.bar) {
            if (p.tasks === 0) p.bar.update(1);
            p.bar.update({ ...phaseFigures(p), etaText: 'done' });
          } else if (p) {
            out.write(
              `${label(e.stage, e.phase)}: done in ${(e.ms / 1000).toFixed(2)} s (${rate(p)}, ${records(p)})\n`,
            );
          }
          return;
        }
      }
    },
    stop() {
      clearInterval(ticker);
      multi?.stop();
    },
  };
}
