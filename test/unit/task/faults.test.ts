import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { FaultPlan, parseFaultSpec } from '../../../src/task/faults.js';

describe('parseFaultSpec', () => {
  it('reads comma-separated site:kind:rate entries', () => {
    expect(parseFaultSpec('map:throw:0.1, store.put:slowdown:0.02,invoke:throttle:1')).toEqual([
      { site: 'map', kind: 'throw', rate: 0.1 },
      { site: 'store.put', kind: 'slowdown', rate: 0.02 },
      { site: 'invoke', kind: 'throttle', rate: 1 },
    ]);
  });

  it('reads an empty spec as no faults', () => {
    expect(parseFaultSpec('')).toEqual([]);
  });

  it.each([
    ['map:throw', 'map:throw": expected site:kind:rate'],
    ['disk:throw:0.1', 'unknown site "disk"'],
    ['map:explode:0.1', 'unknown kind "explode" for map'],
    ['store.get:slowdown:0.1', 'unknown kind "slowdown" for store.get'],
    ['map:throw:lots', 'rate must be a number from 0 to 1, got "lots"'],
    ['map:throw:1.5', 'got "1.5"'],
    ['map:throw:', 'got ""'],
  ])('refuses %s in one line naming the entry', (spec, message) => {
    const refuse = () => parseFaultSpec(`reduce:crash:0.05,${spec}`);
    expect(refuse).toThrow(UsageError);
    expect(refuse).toThrow(message);
    try {
      refuse();
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
      expect((err as Error).message).toContain(`"${spec}"`);
    }
  });

  it('refuses rates at one site that add up to more than 1', () => {
    expect(() => parseFaultSpec('map:throw:0.6,map:crash:0.6')).toThrow('add up to 1.2, over 1');
  });
});

/** The decisions of `n` draws at one site for one scope. */
const draws = (plan: FaultPlan, site: 'map' | 'store.put', scope: string, n: number) =>
  Array.from({ length: n }, () => plan.decide(site, scope));

describe('FaultPlan', () => {
  const rules = parseFaultSpec('map:throw:0.1,map:crash:0.05,store.put:error:0.2');

  it('makes the same decisions under the same seed', () => {
    const a = new FaultPlan(rules, '42');
    const b = new FaultPlan(rules, '42');
    const scopes = Array.from({ length: 200 }, (_, i) => `s0-m${i}#1`);
    expect(scopes.map((s) => a.decide('map', s))).toEqual(scopes.map((s) => b.decide('map', s)));
  });

  it('makes other decisions under another seed', () => {
    const scopes = Array.from({ length: 200 }, (_, i) => `s0-m${i}#1`);
    const a = new FaultPlan(rules, '1');
    const b = new FaultPlan(rules, '2');
    expect(scopes.map((s) => a.decide('map', s))).not.toEqual(scopes.map((s) => b.decide('map', s)));
  });

  it('repeats an attempt’s decisions after a reset, and draws afresh on each call before', () => {
    const plan = new FaultPlan(rules, '7');
    const first = draws(plan, 'store.put', 's0-r1#1', 50);
    plan.reset();
    expect(draws(plan, 'store.put', 's0-r1#1', 50)).toEqual(first);
    expect(new Set(first).size).toBe(2);
  });

  it('roughly honours each rate over many draws', () => {
    const plan = new FaultPlan(rules, 'rates');
    const n = 20_000;
    const decided = Array.from({ length: n }, (_, i) => plan.decide('map', `s0-m${i}#1`));
    const share = (kind: string) => decided.filter((d) => d === kind).length / n;
    expect(share('throw')).toBeGreaterThan(0.08);
    expect(share('throw')).toBeLessThan(0.12);
    expect(share('crash')).toBeGreaterThan(0.035);
    expect(share('crash')).toBeLessThan(0.065);
    expect(decided.filter((d) => d === undefined).length / n).toBeGreaterThan(0.8);
  });

  it('never decides a fault at a site no rule names', () => {
    const plan = new FaultPlan(rules, '3');
    expect(Array.from({ length: 500 }, (_, i) => plan.decide('reduce', `s0-r${i}#1`))).not.toContain('throw');
    expect(plan.names('invoke')).toBe(false);
    expect(plan.names('store.get', 'store.put')).toBe(true);
  });
});
