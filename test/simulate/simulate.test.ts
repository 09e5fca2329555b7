import { describe, expect, it } from 'vitest';
import { Rng } from '../../plugin/bandit/index.ts';
import { reportHtml, reportTable, simulate } from '../../plugin/simulate/index.ts';
import {
  conversionProbability,
  CONTENT_BLOCKS,
  effects,
  LULL_PREFERENCES,
  NORMAL_PREFERENCES,
  population,
  SUBJECT_LINES,
} from '../../plugin/simulate/world.ts';

describe('simulate', () => {
  const small = {
    scenario: 'retail' as const,
    decisions: 3000,
    seed: 7,
    policies: ['random', 'static-best', 'lin-ts', 'trait-oracle'],
  };

  it('reproduces a run exactly from its seed', () => {
    expect(simulate(small)).toEqual(simulate(small));
  });

  it('gives a different run for a different seed', () => {
    expect(simulate({ ...small, seed: 8 }).policies[0].reward).not.toBe(simulate(small).policies[0].reward);
  });

  it('never lets a policy beat the oracle on the same customers at the same moments', () => {
    for (const p of simulate(small).policies) {
      expect(p.oracleShare).toBeLessThanOrEqual(1 + 1e-12);
      expect(p.regret).toBeGreaterThanOrEqual(0);
    }
  });

  it('fixes one combination for static-best and names it', () => {
    const sb = simulate(small).policies.find((p) => p.name === 'static-best')!;
    expect(sb.combination).toBeDefined();
    expect(['send', 'skip']).toContain(sb.combination!.frequency);
  });

  it('reports the change point and the recovery after it for the drift scenario', () => {
    const r = simulate({
      scenario: 'drift',
      decisions: 4000,
      seed: 1,
      policies: ['random', 'lin-ts:forgetting=0.999'],
    });
    expect(r.changeAt).toBe(2000);
    expect(r.policies[1].name).toBe('lin-ts:forgetting=0.999');
    expect(r.policies[1].afterChange?.oracleShare).toBeGreaterThan(0);
  });

  it('restarts the named dimensions from the prior at the change, and only then (restart, a diagnostic)', () => {
    const all = 'frequency+channel+send_time+subject_line+content_block';
    const r = simulate({
      scenario: 'drift',
      decisions: 4000,
      seed: 1,
      bucket: 500,
      policies: ['lin-ts', `lin-ts:restart=${all}`],
    });
    const [kept, restarted] = r.policies;
    expect(restarted.curve.slice(0, 4)).toEqual(kept.curve.slice(0, 4));
    expect(restarted.curve.slice(4)).not.toEqual(kept.curve.slice(4));
    expect(() => simulate({ ...small, policies: ['lin-ts:restart=subject+channel'] })).toThrow(
      /restart names no dimension "subject" \(frequency, channel, send_time, subject_line, content_block\)/,
    );
  });

  it('learns a decision only when its 72 h goal window closes, as the service does (1,500 decisions at 500 a day)', () => {
    // forgetting changes nothing until the first learning step: the two runs part only once a window has closed
    const r = simulate({
      scenario: 'retail',
      decisions: 2500,
      seed: 3,
      bucket: 500,
      policies: ['lin-ts', 'lin-ts:forgetting=0.5'],
    });
    const [plain, forgetting] = r.policies;
    expect(forgetting.curve.slice(0, 3)).toEqual(plain.curve.slice(0, 3));
    expect(forgetting.curve.slice(3)).not.toEqual(plain.curve.slice(3));
  });

  it('lull: every conversion logit falls by the same amount, sent to or not, and no preference changes', () => {
    const [customer] = population(1, new Rng('lull'), Date.UTC(2026, 0, 5));
    const normal = effects(customer, NORMAL_PREFERENCES, SUBJECT_LINES, CONTENT_BLOCKS);
    const lull = effects(customer, LULL_PREFERENCES, SUBJECT_LINES, CONTENT_BLOCKS);
    expect({ ...lull, offset: 0 }).toEqual(normal);
    const logit = (p: number) => Math.log(p / (1 - p));
    const message = { channel: 0, hour: 1, subject: 2, content: 3 };
    for (const m of [message, undefined]) {
      expect(
        logit(conversionProbability(customer, lull, 1, m)) - logit(conversionProbability(customer, normal, 1, m)),
      ).toBeCloseTo(LULL_PREFERENCES.offset, 9);
    }
    // the run: the lull holds from half-way for a tenth of it; the oracle, which makes the same
    // choices as in retail, earns less then and exactly the same before and after
    const run = (scenario: 'lull' | 'retail') =>
      simulate({ scenario, decisions: 5000, seed: 1, bucket: 500, policies: ['random'] });
    const [lullRun, retailRun] = [run('lull'), run('retail')];
    expect(lullRun.changeAt).toBe(2500);
    const [lullCurve, retailCurve] = [lullRun.oracle.curve, retailRun.oracle.curve];
    expect(lullCurve[5]).toBeLessThan(0.8 * retailCurve[5]);
    expect([...lullCurve.slice(0, 5), ...lullCurve.slice(6)]).toEqual([
      ...retailCurve.slice(0, 5),
      ...retailCurve.slice(6),
    ]);
  });

  it('rejects a malformed policy parameter', () => {
    expect(() => simulate({ ...small, policies: ['lin-ts:v=abc'] })).toThrow(
      /policy\.v: expected a number, got string "abc"/,
    );
    expect(() => simulate({ ...small, policies: ['lin-ts:v'] })).toThrow(/"v" must be key=value/);
  });

  it('rejects an out-of-range policy parameter with the schema message', () => {
    expect(() => simulate({ ...small, policies: ['eps-greedy:epsilon=3'] })).toThrow(/epsilon/);
  });

  it('renders the table and a self-contained HTML page with an SVG learning curve', () => {
    const r = simulate(small);
    expect(reportTable(r)).toMatch(/oracle\s+[\d.]+\s+100\.0 %/);
    const html = reportHtml(r);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});
