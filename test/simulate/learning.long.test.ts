/**
 * The learning checks at full length, in `npm run test:learning` (which CI runs) rather than in
 * `npm test`: each simulates 50,000 decisions, about a minute of CPU together.
 */
import { describe, expect, it } from 'vitest';
import { simulate } from '../../plugin/simulate/index.ts';

/**
 * The acceptance run of the retail scenario at full length (seed 1; the CLI runs seeds 1–3 for
 * docs/algorithms.md): the best contextual policy earns at least 85 % of the oracle over the last
 * 10,000 decisions and at least 1.15 × static-best, and random and beta-ts rank below it.
 */
describe('the retail scenario at 50,000 decisions', () => {
  it('lets the best contextual policy reach 85 % of the oracle and beat static-best by 15 %', () => {
    const contextual = ['linucb', 'lin-ts', 'logistic-ts'];
    const r = simulate({
      scenario: 'retail',
      decisions: 50_000,
      seed: 1,
      policies: ['random', 'static-best', 'beta-ts', ...contextual],
    });
    const by = Object.fromEntries(r.policies.map((p) => [p.name, p]));
    const best = contextual.map((name) => by[name]).sort((a, b) => b.last.reward - a.last.reward)[0];
    expect(best.last.oracleShare).toBeGreaterThanOrEqual(0.85);
    expect(best.last.reward).toBeGreaterThanOrEqual(1.15 * by['static-best'].last.reward);
    for (const weak of ['random', 'beta-ts']) {
      for (const name of contextual) expect(by[weak].last.reward).toBeLessThan(by[name].last.reward);
    }
  }, 600_000);
});

describe('the drift scenario at 50,000 decisions', () => {
  it('brings a policy that forgets on a detected change back to 80 % of the oracle within 10,000 decisions; the same policy without it stays stuck', () => {
    const policy = 'logistic-ts:features=focused:share=tags';
    const [forgets, stuck] = simulate({
      scenario: 'drift',
      decisions: 50_000,
      seed: 1,
      policies: [`${policy}:detect=on`, policy],
    }).policies;
    expect(forgets.restarts).toBe(1);
    expect(forgets.afterChange!.recoveredAfter).not.toBeNull();
    expect(forgets.afterChange!.recoveredAfter).toBeLessThanOrEqual(10_000);
    expect(stuck.afterChange!.recoveredAfter).toBeNull();
  }, 600_000);
});

/** The simulator's learning checks at 10,000 decisions: seconds each, so they run here rather than in npm test. */
describe('the simulator at 10,000 decisions', () => {
  /** A short run, for the checks of a policy parameter that fail before anything is simulated. */
  const small = { scenario: 'retail' as const, decisions: 3000, seed: 7, policies: ['random'] };

  it('runs the focused agent, each dimension seeing only the traits that drive it, which learns faster than the one seeing everything', () => {
    const r = simulate({
      scenario: 'retail',
      decisions: 10_000,
      seed: 1,
      policies: ['logistic-ts', 'logistic-ts:features=focused'],
    });
    const [all, focused] = r.policies;
    expect(focused.name).toBe('logistic-ts:features=focused');
    expect(focused.last.reward).toBeGreaterThan(all.last.reward);
    expect(() => simulate({ ...small, policies: ['lin-ts:features=some'] })).toThrow(
      /features must be all or focused, got "some"/,
    );
  });

  it('reports the restarts of a policy with detect=on: one after the drift, none without a change', () => {
    const spec = 'logistic-ts:features=focused:detect=on';
    const drift = simulate({ scenario: 'drift', decisions: 10_000, seed: 1, policies: [spec] }).policies[0];
    expect(drift.restarts).toBe(1);
    // after the change at 5,000, once its first outcomes (72 h = 1,500 decisions later) fall short
    expect(drift.restartedAt![0]).toBeGreaterThan(6500);
    expect(simulate({ scenario: 'retail', decisions: 10_000, seed: 1, policies: [spec] }).policies[0].restarts).toBe(0);
    expect(simulate({ ...small, policies: ['lin-ts'] }).policies[0].restarts).toBeUndefined();
  });

  it('takes what a restart keeps from retain=<outcomes>: the same run until the restart, another after it', () => {
    const spec = 'logistic-ts:features=focused:detect=on';
    const [kept, prior] = simulate({
      scenario: 'drift',
      decisions: 10_000,
      seed: 1,
      bucket: 500,
      policies: [spec, `${spec}:retain=0`],
    }).policies;
    expect(prior.restartedAt).toEqual(kept.restartedAt);
    const block = Math.floor(kept.restartedAt![0] / 500);
    expect(prior.curve.slice(0, block)).toEqual(kept.curve.slice(0, block));
    expect(prior.curve.slice(block + 1)).not.toEqual(kept.curve.slice(block + 1));
    expect(() => simulate({ ...small, policies: ['lin-ts:retain=5'] })).toThrow(/retain needs detect/);
    expect(() => simulate({ ...small, policies: ['lin-ts:detect=on:retain=-1'] })).toThrow(/retain/);
  });
});
