import { Rng } from '../bandit/index.ts';

/**
 * The bootstrap by user behind the report's lift interval, kept as aggregates.
 *
 * A user who appears in many decisions makes their rewards correlated: counting every decision
 * as an independent draw (the Welch interval) makes the interval too narrow. Resampling users
 * instead of decisions fixes that, and the Poisson bootstrap makes it mergeable: in replicate b,
 * every closed reward of user u is counted `w(u, b)` times, with w ~ Poisson(1) drawn from a
 * generator seeded by the user key alone. A user therefore carries the same weight in a replicate
 * on every day, so per-day sums (Σ w·reward, Σ w) add up across any window of days into the
 * replicates of that window, and the spread of the replicate differences is the standard error of
 * the lift with users as the unit. The store keeps those sums per (day, group).
 */

/** Replicates kept per (agent, day, group): enough for a standard error within about 7 %. */
export const REPLICATES = 100;

/** Seed of the user weights (a constant: weights must not change between two reports). */
const BOOTSTRAP_SEED = 'nextbest/report-bootstrap/1';

// Cumulative distribution of Poisson(1) at 0, 1, 2, …, to 12 (the rest of the mass is < 1e-9).
const POISSON1_CDF: number[] = (() => {
  const cdf: number[] = [];
  let p = Math.exp(-1);
  let total = 0;
  for (let k = 0; k <= 12; k++) {
    total += p;
    cdf.push(total);
    p /= k + 1;
  }
  return cdf;
})();

function poisson1(u: number): number {
  let k = 0;
  while (k < POISSON1_CDF.length - 1 && u >= POISSON1_CDF[k]!) k++;
  return k;
}

/** The user's Poisson(1) weight in each of the `REPLICATES` replicates, reproducible from the user key. */
export function userReplicateWeights(userKey: string, out = new Float64Array(REPLICATES)): Float64Array {
  const rng = new Rng(`${BOOTSTRAP_SEED}/${userKey}`);
  for (let b = 0; b < out.length; b++) out[b] = poisson1(rng.next());
  return out;
}

/**
 * Per-replicate sums of one group: `sums[b]` = Σ w·reward and `weights[b]` = Σ w over the closed
 * rewards counted, as one Float64Array of 2·REPLICATES numbers (sums first).
 */
export type ReplicateSums = Float64Array;

export function emptyReplicates(): ReplicateSums {
  return new Float64Array(2 * REPLICATES);
}

/** Adds one closed reward of the user whose weights are `weights` into `into`. */
export function addToReplicates(into: ReplicateSums, weights: Float64Array, reward: number): void {
  for (let b = 0; b < REPLICATES; b++) {
    into[b] += weights[b]! * reward;
    into[REPLICATES + b] += weights[b]!;
  }
}

/** Adds `from` into `into` (two days of one group, or a day into a window). */
export function mergeReplicates(into: ReplicateSums, from: ReplicateSums): void {
  for (let i = 0; i < into.length; i++) into[i] += from[i]!;
}

/**
 * Standard error of (treatment mean − holdout mean) across the replicates: the standard deviation
 * of the replicate differences. Replicates where a group drew no weight are left out; null when
 * fewer than 10 replicates remain.
 */
export function bootstrapStandardError(treatment: ReplicateSums, holdout: ReplicateSums): number | null {
  const differences: number[] = [];
  for (let b = 0; b < REPLICATES; b++) {
    const wt = treatment[REPLICATES + b]!;
    const wh = holdout[REPLICATES + b]!;
    if (wt > 0 && wh > 0) differences.push(treatment[b]! / wt - holdout[b]! / wh);
  }
  if (differences.length < 10) return null;
  const mean = differences.reduce((a, x) => a + x, 0) / differences.length;
  const variance = differences.reduce((a, x) => a + (x - mean) ** 2, 0) / (differences.length - 1);
  return Math.sqrt(variance);
}
