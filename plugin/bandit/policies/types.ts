import type { Rng } from '../rng.ts';
import type { Context } from '../sparse.ts';

/** The policies, in order: the one list of them (the config's `policy.kind`, plugin/config/policy.ts, takes it from here). */
export const POLICY_NAMES = ['random', 'beta-ts', 'eps-greedy', 'linucb', 'lin-ts', 'logistic-ts', 'squarecb'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/**
 * Policy parameters. Mirrors the agent config's `policy` (plugin/config/policy.ts), restated
 * structurally because the bandit core imports nothing from the rest of the project.
 */
export interface PolicyParams {
  kind: PolicyName;
  /** Exploration floor: every eligible arm gets at least floor/K (see `floorMin` for one that shrinks). */
  floor: number;
  /**
   * The least the floor shrinks to with evidence (see `currentFloor`, explore.ts); absent or at
   * least `floor`: the floor stays at `floor`.
   */
  floorMin?: number;
  /**
   * Covariance of the Gaussian policies' belief: `full` (a D×D block per model, O(D²) per update),
   * `diagonal` (D variances per model: decide and learn in time linear in the context's nonzero
   * entries), or `auto` (the default: diagonal when the context has more than
   * AUTO_DIAGONAL_WIDTH slots, full otherwise). See gaussian.ts.
   */
  covariance?: 'auto' | 'full' | 'diagonal';
  /** Forgetting factor in (0, 1]; 1 = never forget. Every learning step of the policy discounts all its evidence once. */
  forgetting: number;
  epsilon?: number;
  alpha?: number;
  lambda?: number;
  v?: number;
  priorVariance?: number;
  draws?: number;
  gamma?: number;
  /**
   * How arms share what is learned: `none` (one model per arm) or `tags` (arms with a tag in
   * common share a model; see gaussian.ts). Read by the agent, which builds the arms' groups.
   */
  share?: 'none' | 'tags';
}

/** Which groups (tags) each arm belongs to, for a policy that shares learning across arms. */
export interface ArmGroups {
  /** Number of groups. */
  count: number;
  /** Per arm, the indices (0..count−1) of its groups; at least one each. */
  of: readonly (readonly number[])[];
}

/** The one model of a shared-layout policy: weights over [x per group] ⊕ [an offset per arm]. */
export interface SharedState {
  groups: number[][];
  groupCount: number;
  /** D×D, row-major, D = dim·groupCount + arms; or the D variances (diagonal). */
  cov: number[];
  mean: number[];
  age?: number;
  priorAge?: number;
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
/**
 * With forgetting (see gaussian.ts): `age` is the number of learning steps whose discount `cov`
 * does not include yet (it is applied lazily), `priorAge` the steps since the prior was last
 * restored; both 0 when absent.
 */
export interface GaussianArmState {
  n: number;
  /** D×D row-major (full covariance), or the D variances (diagonal). */
  cov: number[];
  mean: number[];
  age?: number;
  priorAge?: number;
}
export interface BetaArmState {
  n: number;
  alpha: number;
  beta: number;
}
export type ArmState = GaussianArmState | BetaArmState | { n: number };

/** Throws unless `share` (for `Policy.retain`) is in [0, 1]. */
export function checkRetainedShare(share: number): void {
  if (!(share >= 0 && share <= 1)) throw new Error(`retain: share must be in [0, 1], got ${share}`);
}

export function isGaussianArm(s: ArmState): s is GaussianArmState {
  return 'cov' in s;
}

/** The documented, versioned state format of every policy (see docs/algorithms.md). */
export interface PolicyState {
  name: PolicyName;
  version: 1;
  dim: number;
  params: PolicyParams;
  /** Per arm; in the shared layout only the counts, the weights being in `shared`. */
  arms: ArmState[];
  shared?: SharedState;
}

/**
 * One interface for every algorithm. `x` is a context of `dim` slots, dense or sparse (its
 * nonzero entries only: see sparse.ts); `eligible` and `out` have length `arms`. Nothing here
 * allocates on the `distribution`/`update` path.
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
  distribution(x: Context, eligible: Uint8Array, rng: Rng, out: Float64Array): void;
  /** Learns that `arm`, chosen with `probability` in context `x`, earned `reward` ∈ [0, 1]. */
  update(x: Context, arm: number, reward: number, probability: number): void;
  /** Each eligible arm's estimated reward, uncertainty and feature contributions. */
  explain(x: Context, eligible: Uint8Array): ArmExplanation[];
  /** `arm`'s estimated reward for context `x` (the posterior mean); NaN for a policy without estimates (random). Allocates nothing. */
  expected(x: Context, arm: number): number;
  /** How many observations the policy has learned, each weighed by what forgetting and `retain` left of it. */
  observations(): number;
  /**
   * Keeps `share` ∈ [0, 1] of the evidence learned so far, as if every past observation had
   * weighed `share`: the prior stays whole, so 0 is the prior again and 1 changes nothing. For a
   * Gaussian belief that is the power posterior, precision Λ₀ + share·(Λ − Λ₀) and information
   * vector share·Λμ; for Beta counts, α₀ + share·(α − α₀). Used when behaviour has changed.
   */
  retain(share: number): void;
  toJSON(): PolicyState;
}
