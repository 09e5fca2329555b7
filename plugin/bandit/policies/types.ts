import type { Rng } from '../rng.ts';

export const POLICY_NAMES = ['random', 'beta-ts', 'eps-greedy', 'linucb', 'lin-ts', 'logistic-ts', 'squarecb'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/**
 * Policy parameters. Mirrors the agent config's `policy` (plugin/agent/config.ts), restated
 * structurally because the bandit core imports nothing from the rest of the project.
 */
export interface PolicyParams {
  kind: PolicyName;
  /** Exploration floor: every eligible arm gets at least floor/K. */
  floor: number;
  /** Forgetting factor in (0, 1]; 1 = never forget. Applied to an arm's state each time it learns. */
  forgetting: number;
  epsilon?: number;
  alpha?: number;
  lambda?: number;
  v?: number;
  priorVariance?: number;
  draws?: number;
  gamma?: number;
}

/** What a policy believes about one arm for one context. */
export interface ArmExplanation {
  arm: number;
  /** Estimated reward in [0, 1] units. */
  mean: number;
  /** Uncertainty of that estimate (one standard deviation). */
  sd: number;
  /** Per-feature contribution to the arm's score (x_i · w_i), when the policy is contextual. */
  contributions?: Float64Array;
}

/** Per-arm state. Gaussian-family policies keep a covariance block and a mean; beta-ts keeps counts. */
export interface GaussianArmState { n: number; cov: number[]; mean: number[] }
export interface BetaArmState { n: number; alpha: number; beta: number }
export type ArmState = GaussianArmState | BetaArmState | { n: number };

export function isGaussianArm(s: ArmState): s is GaussianArmState {
  return 'cov' in s;
}

/** The documented, versioned state format of every policy (see docs/algorithms.md). */
export interface PolicyState {
  name: PolicyName;
  version: 1;
  dim: number;
  params: PolicyParams;
  arms: ArmState[];
}

/**
 * One interface for every algorithm. `x` has length `dim`; `eligible` and `out` have length
 * `arms`. Nothing here allocates on the `distribution`/`update` path.
 */
export interface Policy {
  readonly name: PolicyName;
  readonly arms: number;
  readonly dim: number;
  readonly params: PolicyParams;
  /**
   * Writes the exact probability with which this policy would choose each arm for context `x`:
   * 0 for ineligible arms, the eligible ones summing to 1, none below floor/K. Thompson-sampling
   * policies estimate it by Monte Carlo from `rng`; the others do not draw from it.
   */
  distribution(x: Float64Array, eligible: Uint8Array, rng: Rng, out: Float64Array): void;
  /** Learns that `arm`, chosen with `probability` in context `x`, earned `reward` ∈ [0, 1]. */
  update(x: Float64Array, arm: number, reward: number, probability: number): void;
  /** Each eligible arm's estimated reward, uncertainty and feature contributions. */
  explain(x: Float64Array, eligible: Uint8Array): ArmExplanation[];
  toJSON(): PolicyState;
}
