import { UsageError } from '../errors.js';

/**
 * Fault injection for chaos tests: `FANOUT_FAULTS=map:throw:0.1,store.put:error:0.05` makes the
 * engine's own code (never the user's) fail on purpose at the named sites, so the retry, timeout
 * and crash paths run on every backend. Read from the environment here, not passed down from `cli/`
 * as other settings are: worker threads and Lambda functions inherit the environment, and a
 * setting threaded through every task payload would cost the runs that do not use it.
 */

/** Where a fault can be injected, and the kinds each site knows. */
export const FAULT_KINDS = {
  map: ['throw', 'crash', 'hang'],
  reduce: ['throw', 'crash', 'hang'],
  merge: ['throw', 'crash', 'hang'],
  'store.get': ['error'],
  'store.put': ['error', 'slowdown'],
  invoke: ['throttle'],
  /** A stream batch fails before it reaches the job's `process`, wherever that runs. */
  'stream.process': ['throw'],
  /** Writing a shard's checkpoint fails. */
  'stream.checkpoint': ['error'],
  /** Writing a shared shard lease (take, renew, hand off, release) fails. */
  'stream.lease': ['error'],
} as const;

export type FaultSite = keyof typeof FAULT_KINDS;
export type FaultKind<S extends FaultSite = FaultSite> = (typeof FAULT_KINDS)[S][number];

/** One `site:kind:rate` entry. */
export interface FaultRule {
  site: FaultSite;
  kind: FaultKind;
  /** Chance in [0, 1] that one decision at the site injects this kind. */
  rate: number;
}

/** Injected faults of an attempt or a run, by `site:kind`, e.g. `{ 'map:throw': 2 }`. */
export type FaultCounts = Record<string, number>;

/**
 * Parses a FANOUT_FAULTS value; an empty value means no faults.
 * @throws {UsageError} naming the first bad entry, in one line.
 * @example parseFaultSpec('map:throw:0.1,store.put:slowdown:0.02')
 */
export function parseFaultSpec(spec: string): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const entry of spec.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const bad = (why: string) => new UsageError(`FANOUT_FAULTS entry "${entry}": ${why}`);
    const parts = entry.split(':');
    if (parts.length !== 3) throw bad('expected site:kind:rate, e.g. map:throw:0.1');
    const [site, kind, rateText] = parts as [string, string, string];
    if (!Object.hasOwn(FAULT_KINDS, site))
      throw bad(`unknown site "${site}" (sites: ${Object.keys(FAULT_KINDS).join(', ')})`);
    const kinds: readonly string[] = FAULT_KINDS[site as FaultSite];
    if (!kinds.includes(kind)) throw bad(`unknown kind "${kind}" for ${site} (kinds: ${kinds.join(', ')})`);
    const rate = Number(rateText);
    if (rateText === '' || !Number.isFinite(rate) || rate < 0 || rate > 1)
      throw bad(`rate must be a number from 0 to 1, got "${rateText}"`);
    rules.push({ site: site as FaultSite, kind: kind as FaultKind, rate });
  }
  for (const site of Object.keys(FAULT_KINDS)) {
    const total = rules.filter((r) => r.site === site).reduce((sum, r) => sum + r.rate, 0);
    if (total > 1)
      throw new UsageError(`FANOUT_FAULTS: the rates at site ${site} add up to ${total}, over 1`);
  }
  return rules;
}

/** 32-bit FNV-1a of a string: turns a decision's name into a PRNG seed. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** One step of mulberry32: a uniform number in [0, 1) from a 32-bit seed. */
function mulberry32(seed: number): number {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/**
 * Decides faults from rules and a seed. Each decision is a pure function of the seed, the site,
 * the scope (a task attempt, `s0-m00003#2`) and how many decisions that scope has made at the site:
 * not of thread ids or timing, so a run repeats under the same seed however its attempts are
 * scheduled, while a retry (another attempt number) draws afresh.
 */
export class FaultPlan {
  readonly #rules: readonly FaultRule[];
  readonly #seed: string;
  readonly #draws = new Map<string, number>();

  constructor(rules: readonly FaultRule[], seed: string) {
    this.#rules = rules;
    this.#seed = seed;
  }

  /** Whether any rule names one of these sites. */
  names(...sites: FaultSite[]): boolean {
    return this.#rules.some((r) => sites.includes(r.site) && r.rate > 0);
  }

  /** The fault to inject at `site` for this decision of `scope`, if any. */
  decide<S extends FaultSite>(site: S, scope: string): FaultKind<S> | undefined {
    const name = `${site}|${scope}`;
    const n = this.#draws.get(name) ?? 0;
    this.#draws.set(name, n + 1);
    const u = mulberry32(fnv1a(`${this.#seed}|${name}|${n}`));
    let below = 0;
    for (const r of this.#rules) {
      if (r.site !== site) continue;
      below += r.rate;
      if (u < below) return r.kind as FaultKind<S>;
    }
    return undefined;
  }

  /** Forgets the decisions counted so far, so they repeat from the first. */
  reset(): void {
    this.#draws.clear();
  }

  /** Forgets the decisions `scope` made at these sites, so its next ones repeat from the first. */
  forget(scope: string, sites: readonly FaultSite[]): void {
    for (const site of sites) this.#draws.delete(`${site}|${scope}`);
  }
}

/** The process's plan, parsed once on first use; null when FANOUT_FAULTS is unset or empty. */
let plan: FaultPlan | null | undefined;

/**
 * The plan from FANOUT_FAULTS and FANOUT_FAULTS_SEED (default `0`), or null when faults are off.
 * @throws {UsageError} when FANOUT_FAULTS is malformed.
 */
export function faultPlan(): FaultPlan | null {
  if (plan === undefined) {
    const rules = parseFaultSpec(process.env.FANOUT_FAULTS ?? '');
    plan = rules.length === 0 ? null : new FaultPlan(rules, process.env.FANOUT_FAULTS_SEED ?? '0');
  }
  return plan;
}

/** Forgets the parsed plan, so the next use reads the environment again: for tests that change it. */
export function resetFaultPlan(): void {
  plan = undefined;
}

/** Adds `more` into `into`, site:kind by site:kind. */
export function addFaults(into: FaultCounts, more: FaultCounts | undefined): void {
  if (!more) return;
  for (const [k, n] of Object.entries(more)) into[k] = (into[k] ?? 0) + n;
}

/** `map:throw 3, store.put:error 1`: injected faults, most frequent first. */
export function formatFaults(faults: FaultCounts): string {
  return Object.entries(faults)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
    .join(', ');
}
