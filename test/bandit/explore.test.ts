import { describe, expect, it } from 'vitest';
import {
  applyFloor,
  epsilonGreedy,
  gaussianThompson,
  greedy,
  inverseGap,
  normalCdf,
  Rng,
  sampleArm,
} from '../../plugin/bandit/index.ts';
import { expectClose } from '../helpers/index.ts';

const f = (...v: number[]) => Float64Array.from(v);
const mask = (...v: number[]) => Uint8Array.from(v);

describe('exploration distributions', () => {
  it.each([
    ['puts all mass on the single best eligible arm', f(0.1, 0.5, 0.9), mask(1, 1, 0), [0, 1, 0]],
    ['splits mass evenly among exact ties', f(0.5, 0.5, 0.1), mask(1, 1, 1), [0.5, 0.5, 0]],
  ])('greedy %s', (_t, scores, eligible, expected) => {
    const out = new Float64Array(3);
    greedy(scores, eligible, out);
    expect(Array.from(out)).toEqual(expected);
  });

  it('epsilon-greedy spreads epsilon over the eligible arms', () => {
    const out = new Float64Array(3);
    epsilonGreedy(f(0.1, 0.9, 0.5), mask(1, 1, 1), 0.3, out);
    expectClose(out[0], 0.1);
    expectClose(out[1], 0.8);
    expectClose(out[2], 0.1);
  });

  it('inverse-gap weighting gives 1/(K + γ·gap) to each non-best arm', () => {
    const out = new Float64Array(3);
    inverseGap(f(0.5, 0.3, 0.1), mask(1, 1, 1), 10, out);
    expectClose(out[1], 1 / (3 + 10 * 0.2));
    expectClose(out[2], 1 / (3 + 10 * 0.4));
    expectClose(out[0], 1 - out[1] - out[2]);
  });

  it('the floor lifts every eligible arm to floor/K and zeroes ineligible arms', () => {
    const out = f(1, 0, 0.3);
    applyFloor(out, mask(1, 1, 0), 0.2);
    expectClose(out[0], 0.8 + 0.1);
    expectClose(out[1], 0.1);
    expect(out[2]).toBe(0);
  });

  it('samples arms with their probabilities and never an arm with probability 0', () => {
    const rng = new Rng('sample');
    const probs = f(0.2, 0, 0.8);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[sampleArm(probs, rng)]++;
    expect(counts[1]).toBe(0);
    expect(counts[0] / 20000).toBeCloseTo(0.2, 1);
  });

  it('gives two-arm Thompson sampling its exact probability, Φ(Δμ / √(σ₁² + σ₂²))', () => {
    const out = new Float64Array(3);
    gaussianThompson(f(0.3, 0.9, 0.1), f(0.2, 0.1, 0.4), mask(1, 0, 1), 1000, new Rng('unused'), out);
    expectClose(out[0], normalCdf(0.2 / Math.sqrt(0.04 + 0.16)));
    expect(out[1]).toBe(0);
    expectClose(out[0] + out[2], 1);
  });

  it('estimates Thompson probabilities of three or more arms within the Monte Carlo error', () => {
    const out = new Float64Array(3);
    gaussianThompson(f(0, 0, 0), f(1, 1, 1), mask(1, 1, 1), 20000, new Rng('mc'), out);
    for (const p of out) expect(Math.abs(p - 1 / 3)).toBeLessThan(4 * Math.sqrt(((1 / 3) * (2 / 3)) / 20000));
  });
});
