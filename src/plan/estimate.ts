import { type CostEstimate, estimateCost, stageRequests } from '../driver/cost.js';
import type { PriceTable } from '../driver/prices.js';
import type { PlanModel } from '../sim/cloud-model.js';

/** One stage as planned: its map tasks' input bytes and how many reduce tasks it has. */
export interface StageShape {
  mapTaskBytes: readonly number[];
  /** Splits the map tasks read (a packed task reads several). */
  splits: number;
  reduceTasks: number;
  /** Map outputs each merge task reads, where the combining tier runs (see mergeFanIn). */
  mergeFanIn?: number;
  /**
   * A map-only stage: its map tasks write part files of what they emit (`shuffleRatio` of their
   * input) and there is no shuffle; `reduceTasks` is 0.
   */
  mapOnly?: boolean;
}

/** Where the tasks would run. */
export interface PlanTarget {
  /** Tasks at once the run would ask for. */
  concurrency: number;
  memoryMb: number;
  arch: 'arm64' | 'x86_64';
}

export interface PhaseEstimate {
  tasks: number;
  /** From the phase's first invocation to its last task's end. */
  seconds: number;
  /** Sum of the tasks' run times (cold starts included), for the bill. */
  taskSeconds: number;
  /** What bounds the phase: the tasks' own time, or a request limit of S3 or the driver. */
  boundBy: 'tasks' | 's3-puts' | 's3-gets';
}

export interface StageEstimate {
  mapTasks: number;
  /** Merge tasks of the combining tier: 0 where it does not run. */
  mergeTasks: number;
  reduceTasks: number;
  inputBytes: number;
  shuffleBytes: number;
  shuffleObjects: number;
  outputBytes: number;
  map: PhaseEstimate;
  merge?: PhaseEstimate;
  reduce: PhaseEstimate;
  requests: { get: number; put: number };
}

export interface PlanEstimate {
  stages: StageEstimate[];
  requests: { get: number; put: number; list: number };
  seconds: number;
  cost: CostEstimate;
}

/**
 * The task environments of a run, as a list scheduler sees them: each is free from some time on; a
 * new one may start while fewer than the cap exist, the cap growing as AWS's ramp allows, and its
 * first task pays the cold start. Environments stay warm from phase to phase.
 */
class Environments {
  /** Times (ms) each environment is next free, as a binary min-heap. */
  readonly #free: number[] = [];
  readonly #model: PlanModel;
  readonly #cap: number;

  constructor(model: PlanModel, concurrency: number) {
    this.#model = model;
    this.#cap = Math.max(1, Math.min(concurrency, model.accountConcurrency));
  }

  /** When environment number `n` (0-based) may first start: the ramp adds rampPer10s every 10 s. */
  #startable(n: number): number {
    return Math.floor(n / this.#model.rampPer10s) * 10_000;
  }

  /** Runs a task of `ms` no earlier than `ready`; returns when it ends and what it cost in time. */
  run(ready: number, ms: number): { end: number; billedMs: number } {
    const count = this.#free.length;
    const earliest = this.#free[0];
    if (count < this.#cap) {
      const start = Math.max(ready, this.#startable(count));
      // A new environment only when no warm one is free by the time the new one would be ready.
      if (earliest === undefined || earliest > start + this.#model.coldStartMs) {
        const billedMs = this.#model.coldStartMs + ms;
        this.#push(start + billedMs);
        return { end: start + billedMs, billedMs };
      }
    }
    const start = Math.max(ready, earliest as number);
    this.#replaceTop(start + ms);
    return { end: start + ms, billedMs: ms };
  }

  #push(t: number): void {
    const h = this.#free;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as number) <= t) break;
      h[i] = h[parent] as number;
      i = parent;
    }
    h[i] = t;
  }

  #replaceTop(t: number): void {
    const h = this.#free;
    const n = h.length;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (h[c + 1] as number) < (h[c] as number)) c++;
      if ((h[c] as number) >= t) break;
      h[i] = h[c] as number;
      i = c;
    }
    h[i] = t;
  }
}

const MB = 1e6;

/**
 * Estimates a run from its plan: each phase list-scheduled over the environments (in task order, as
 * the driver hands tasks out, each invocation no sooner than the driver can send it), bounded below
 * by S3's per-prefix request rates, the phases one after another as the stage barriers make them. A
 * map task reads its input while it maps it (the slower of the two), then writes its shuffle object;
 * a reduce task reads its slices a few at a time, reduces them, and writes its part file. The cost is
 * the bill for the tasks' time, the invocations and the S3 requests (see estimateCost).
 */
export function estimatePlan(
  stages: readonly StageShape[],
  target: PlanTarget,
  model: PlanModel,
  /** The price table (see prices.ts); the built-in one when not given. */
  prices?: PriceTable,
): PlanEstimate {
  const envs = new Environments(model, target.concurrency);
  const core = Math.min(1, target.memoryMb / model.fullCoreMb);
  const ms = (bytes: number, mbps: number) => (bytes / (mbps * MB)) * 1000;
  let clock = 0;
  let taskMs = 0;
  let invocations = 0;
  let gets = 0;
  let puts = 0;
  /** `limits`: the requests the phase makes of its busiest prefix. */
  const phase = (durations: readonly number[], limits: { puts: number; gets: number }): PhaseEstimate => {
    const begin = clock;
    let end = begin;
    let billed = 0;
    for (const [i, d] of durations.entries()) {
      const r = envs.run(begin + (i / model.invokesPerSecond) * 1000, d);
      end = Math.max(end, r.end);
      billed += r.billedMs;
    }
    const putFloor = (limits.puts / model.putsPerSecond) * 1000;
    const getFloor = (limits.gets / model.getsPerSecond) * 1000;
    const span = Math.max(end - begin, putFloor, getFloor);
    const boundBy = span === end - begin ? 'tasks' : span === putFloor ? 's3-puts' : 's3-gets';
    clock = begin + span;
    taskMs += billed;
    invocations += durations.length;
    return { tasks: durations.length, seconds: span / 1000, taskSeconds: billed / 1000, boundBy };
  };

  const out: StageEstimate[] = [];
  for (const s of stages) {
    const inputBytes = s.mapTaskBytes.reduce((a, b) => a + b, 0);
    const m = s.mapTaskBytes.length;
    const r = s.reduceTasks;
    const mapDurations = s.mapTaskBytes.map(
      (b) =>
        2 * model.requestMs +
        Math.max(ms(b, model.readMBps), ms(b, model.mapMBps * core)) +
        ms(b * model.shuffleRatio, model.writeMBps),
    );
    const emitted = inputBytes * model.shuffleRatio;
    const shuffleBytes = s.mapOnly ? 0 : emitted;
    const outputBytes = s.mapOnly ? emitted : emitted * model.outputRatio;
    const fanIn = s.mergeFanIn;
    const g = fanIn === undefined ? 0 : Math.ceil(m / fanIn);
    // What the reducers read from: one output per map task, or one per merge.
    const sources = g > 0 ? g : m;
    const req = stageRequests({
      splits: s.splits,
      mapTasks: m,
      partitions: r,
      slices: sources * r,
      merges: g,
    });
    gets += req.s3Gets;
    puts += req.s3Puts;
    // The shuffle objects are spread over prefixes; the input is taken to sit under one.
    const spread = Math.max(1, Math.min(m, model.shufflePrefixes));
    const map = phase(mapDurations, { puts: m / spread, gets: s.splits });
    let merge: PhaseEstimate | undefined;
    if (g > 0 && fanIn !== undefined) {
      // A merge reads its group's outputs whole, a few at a time, writing as it reads.
      const bytes = (shuffleBytes / m) * fanIn;
      const mergeMs =
        Math.ceil(fanIn / model.readsInFlight) * model.requestMs +
        Math.max(ms(bytes, model.readMBps), ms(bytes, model.writeMBps)) +
        3 * model.requestMs;
      merge = phase(
        Array.from({ length: g }, () => mergeMs),
        { puts: 2 * g, gets: m / spread },
      );
    }
    const perReducer = r > 0 ? shuffleBytes / r : 0;
    const reduceMs =
      Math.ceil(sources / model.readsInFlight) * model.requestMs +
      ms(perReducer, model.readMBps) +
      ms(perReducer, model.reduceMBps * core) +
      ms(perReducer * model.outputRatio, model.writeMBps) +
      3 * model.requestMs;
    const reduce = phase(
      Array.from({ length: r }, () => reduceMs),
      { puts: 3 * r, gets: (sources * r) / Math.max(1, Math.min(sources, model.shufflePrefixes)) },
    );
    out.push({
      mapTasks: m,
      mergeTasks: g,
      reduceTasks: r,
      inputBytes,
      shuffleBytes,
      shuffleObjects: s.mapOnly ? 0 : m,
      outputBytes,
      map,
      ...(merge && { merge }),
      reduce,
      requests: { get: req.s3Gets, put: req.s3Puts },
    });
  }
  const cost = estimateCost(
    {
      memoryMb: target.memoryMb,
      arch: target.arch,
      invocations,
      taskMs,
      s3Puts: puts,
      s3Gets: gets,
    },
    prices,
  );
  return { stages: out, requests: { get: gets, put: puts, list: 0 }, seconds: clock / 1000, cost };
}
