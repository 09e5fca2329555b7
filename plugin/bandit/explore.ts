import { normalCdf } from './distributions.ts';
import type { Rng } from './rng.ts';

/**
 * Exploration: scores → an explicit distribution over the eligible arms → a sampled arm.
 * Every function writes into a caller-owned buffer and allocates nothing.
 */

/** Number of eligible arms. */
export function countEligible(eligible: Uint8Array): number {
  let n = 0;
  for (let a = 0; a < eligible.length; a++) n += eligible[a];
  return n;
}

/**
 * Puts all mass on the eligible arms with the highest score, split evenly among ties
 * (exact, so a deterministic policy still logs a true propensity).
 */
export function greedy(scores: Float64Array, eligible: Uint8Array, out: Float64Array): void {
  let best = -Infinity;
  for (let a = 0; a < scores.length; a++) if (eligible[a] && scores[a] > best) best = scores[a];
  let ties = 0;
  for (let a = 0; a < scores.length; a++) if (eligible[a] && scores[a] === best) ties++;
  for (let a = 0; a < scores.length; a++) out[a] = eligible[a] && scores[a] === best ? 1 / ties : 0;
}

/** Uniform over the eligible arms. */
export function uniform(eligible: Uint8Array, out: Float64Array): void {
  const k = countEligible(eligible);
  for (let a = 0; a < eligible.length; a++) out[a] = eligible[a] ? 1 / k : 0;
}

/** ε-greedy: 1 − ε on the greedy arm(s), ε spread uniformly over the eligible arms. */
export function epsilonGreedy(scores: Float64Array, eligible: Uint8Array, epsilon: number, out: Float64Array): void {
  greedy(scores, eligible, out);
  const k = countEligible(eligible);
  for (let a = 0; a < out.length; a++) if (eligible[a]) out[a] = (1 - epsilon) * out[a] + epsilon / k;
}

/**
 * SquareCB's inverse-gap weighting (Foster & Rakhlin 2020): with estimated rewards ŷ and the
 * best eligible arm b, every other eligible arm gets 1 / (K + γ (ŷ_b − ŷ_a)) and b gets the rest.
 */
export function inverseGap(scores: Float64Array, eligible: Uint8Array, gamma: number, out: Float64Array): void {
  const k = countEligible(eligible);
  let best = -1;
  for (let a = 0; a < scores.length; a++) if (eligible[a] && (best < 0 || scores[a] > scores[best])) best = a;
  let rest = 0;
  for (let a = 0; a < scores.length; a++) {
    if (!eligible[a] || a === best) {
      out[a] = 0;
      continue;
    }
    out[a] = 1 / (k + gamma * (scores[best] - scores[a]));
    rest += out[a];
  }
  out[best] = 1 - rest;
}

/**
 * Thompson-sampling propensities. With two eligible arms, exactly (closed form). Otherwise by
 * Monte Carlo: the share of `draws` joint draws
 * score_a = mean_a + sd_a · z_a (z_a standard normal, independent per arm) in which each eligible
 * arm is the largest. The arm is then sampled from exactly this distribution, so the logged
 * probability is the true probability of the procedure; `draws` only controls how closely it
 * tracks exact Thompson sampling (standard error ≤ 0.5/√draws per arm, 0.029 at the default 300).
 */
export function gaussianThompson(
  means: Float64Array,
  sds: Float64Array,
  eligible: Uint8Array,
  draws: number,
  rng: Rng,
  out: Float64Array,
): void {
  out.fill(0);
  const k = means.length;
  if (countEligible(eligible) === 2) {
    // Two arms have a closed form: P(a beats b) = Φ((μ_a − μ_b) / √(σ_a² + σ_b²)). No draws needed.
    const a = eligible.indexOf(1);
    const b = eligible.indexOf(1, a + 1);
    const spread = Math.sqrt(sds[a] * sds[a] + sds[b] * sds[b]);
    const diff = means[a] - means[b];
    out[a] = spread > 0 ? normalCdf(diff / spread) : diff > 0 ? 1 : diff < 0 ? 0 : 0.5;
    out[b] = 1 - out[a];
    return;
  }
  for (let m = 0; m < draws; m++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let a = 0; a < k; a++) {
      if (!eligible[a]) continue;
      const s = means[a] + sds[a] * rng.normal();
      if (s > bestScore) {
        bestScore = s;
        best = a;
      }
    }
    out[best] += 1;
  }
  for (let a = 0; a < k; a++) out[a] /= draws;
}

/**
 * Mixes in the exploration floor: p ← (1 − floor)·p + floor/K over the K eligible arms, so no
 * eligible arm falls below floor/K. Ineligible arms are set to exactly 0.
 */
export function applyFloor(out: Float64Array, eligible: Uint8Array, floor: number): void {
  const k = countEligible(eligible);
  for (let a = 0; a < out.length; a++) out[a] = eligible[a] ? (1 - floor) * out[a] + floor / k : 0;
}

/** Outcomes per arm a dimension learns before its floor starts to shrink (see `currentFloor`). */
export const FLOOR_EVIDENCE = 100;

/**
 * The exploration floor after `observations` outcomes over `arms` arms: `floor` until there are
 * FLOOR_EVIDENCE per arm, then floor·√(FLOOR_EVIDENCE·arms/observations), never below
 * `floorMin` (absent: no shrinking). It shrinks as SquareCB's greediness grows (√n), so the share
 * of decisions spent on the floor's exploration falls with the evidence while every eligible arm
 * keeps at least floorMin/K: importance weights stay at most K/floorMin.
 */
export function currentFloor(params: { floor: number; floorMin?: number }, observations: number, arms: number): number {
  const { floor, floorMin } = params;
  if (floorMin === undefined || floorMin >= floor) return floor;
  const needed = FLOOR_EVIDENCE * arms;
  if (!(observations > needed)) return floor;
  return Math.max(floorMin, floor * Math.sqrt(needed / observations));
}

/** Samples an arm index from `probabilities` with one uniform draw. */
export function sampleArm(probabilities: Float64Array, rng: Rng): number {
  const u = rng.next();
  let acc = 0;
  let last = -1;
  for (let a = 0; a < probabilities.length; a++) {
    const p = probabilities[a];
    if (p <= 0) continue;
    acc += p;
    last = a;
    if (u < acc) return a;
  }
  return last; // rounding: u landed in the last ulp above the cumulative sum
}
