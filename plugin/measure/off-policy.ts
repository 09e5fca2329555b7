import { normalQuantile } from './stats.ts';

/**
 * Off-policy evaluation: the value a candidate policy would have earned, estimated from decisions
 * another policy logged with the probability of each choice.
 *
 * Each logged decision is one round: its reward, the probability the logging policy gave the
 * logged choice (`propensity`), the probability the candidate gives that same choice (`target`),
 * and, for the direct method and doubly robust, a reward model's predictions: the candidate's
 * expected reward under the model (`modelValue` = Σₐ π(a|x)·q̂(x, a)) and the model's reward for the
 * logged choice (`modelLogged` = q̂(x, aₗ)). The importance weight is w = target / propensity.
 *
 * - DM  (direct method): mean of modelValue. Low variance; as biased as the model.
 * - IPS (inverse propensity scoring): mean of w·r. Unbiased when the logger covers every choice the
 *   candidate makes; its variance grows with the weights.
 * - SNIPS (self-normalized IPS): Σ w·r / Σ w. Slightly biased, far steadier when weights are large.
 * - DR  (doubly robust): mean of modelValue + w·(r − modelLogged). Unbiased when either the
 *   propensities or the model are right; usually the one to read.
 *
 * Intervals are normal at `confidence` from the per-round terms (SNIPS by the delta method); the
 * DM interval ignores the model's own error, so it is too narrow whenever the model is wrong.
 *
 * Rounds are columns (Float64Array), so that a million of them cost tens of megabytes.
 */
export interface OffPolicyRounds {
  reward: Float64Array;
  propensity: Float64Array;
  target: Float64Array;
  /** Absent: no reward model, so no DM or DR. */
  modelValue?: Float64Array;
  modelLogged?: Float64Array;
}

export type EstimatorName = 'dm' | 'ips' | 'snips' | 'dr';

export interface Estimate {
  value: number;
  lower: number;
  upper: number;
  standardError: number;
}

export interface OffPolicyDiagnostics {
  rounds: number;
  /** (Σw)² / Σw²: how many rounds the weighted estimate is worth. */
  effectiveSampleSize: number;
  /** Share of logged decisions where the candidate could have made the logged choice (target > 0). */
  supportShare: number;
  /** Mean weight: about 1 when the logger covers the candidate; below 1 by the candidate's mass on choices never logged. */
  meanWeight: number;
  largestWeight: number;
  /** Largest weight / Σ w: the share of the estimate one decision carries. */
  largestWeightShare: number;
  /** True when none of `warnings` applies. */
  trustworthy: boolean;
  warnings: string[];
}

export interface OffPolicyEvaluation {
  estimates: Partial<Record<EstimatorName, Estimate>>;
  diagnostics: OffPolicyDiagnostics;
}

/** Thresholds of the diagnostics (documented in docs/evaluation.md). */
export const TRUST = {
  /** Fewer effective rounds than this: the weighted estimates rest on too few decisions. */
  minEffectiveSampleSize: 1_000,
  /** One decision carrying more than this share of the weight. */
  maxLargestWeightShare: 0.01,
  /** Mean weight further from 1 than this (and than 3 standard errors): the logger does not cover the candidate. */
  meanWeightTolerance: 0.05,
} as const;

export function evaluateOffPolicy(rounds: OffPolicyRounds, confidence = 0.95): OffPolicyEvaluation {
  const z = -normalQuantile((1 - confidence) / 2);
  const n = rounds.reward.length;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = rounds.target[i]! / rounds.propensity[i]!;
  const estimates: OffPolicyEvaluation['estimates'] = {
    ips: meanEstimate(n, (i) => w[i]! * rounds.reward[i]!, z),
    snips: snipsEstimate(w, rounds.reward, z),
  };
  const { modelValue, modelLogged } = rounds;
  if (modelValue && modelLogged) {
    estimates.dm = meanEstimate(n, (i) => modelValue[i]!, z);
    estimates.dr = meanEstimate(n, (i) => modelValue[i]! + w[i]! * (rounds.reward[i]! - modelLogged[i]!), z);
  }
  return { estimates, diagnostics: diagnose(w, rounds.target) };
}

function meanEstimate(n: number, term: (i: number) => number, z: number): Estimate {
  let sum = 0;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const x = term(i);
    sum += x;
    squares += x * x;
  }
  const value = n === 0 ? 0 : sum / n;
  const variance = n < 2 ? 0 : Math.max(0, (squares - n * value * value) / (n - 1));
  const standardError = n === 0 ? 0 : Math.sqrt(variance / n);
  return { value, lower: value - z * standardError, upper: value + z * standardError, standardError };
}

/** Σ w·r / Σ w, with the delta-method standard error √(Σ w²(r − V)²) / Σ w. */
function snipsEstimate(w: Float64Array, reward: Float64Array, z: number): Estimate {
  let weights = 0;
  let weighted = 0;
  for (let i = 0; i < w.length; i++) {
    weights += w[i]!;
    weighted += w[i]! * reward[i]!;
  }
  const value = weights === 0 ? 0 : weighted / weights;
  let spread = 0;
  for (let i = 0; i < w.length; i++) spread += (w[i]! * (reward[i]! - value)) ** 2;
  const standardError = weights === 0 ? 0 : Math.sqrt(spread) / weights;
  return { value, lower: value - z * standardError, upper: value + z * standardError, standardError };
}

function diagnose(w: Float64Array, target: Float64Array): OffPolicyDiagnostics {
  const n = w.length;
  let sum = 0;
  let squares = 0;
  let largest = 0;
  let supported = 0;
  for (let i = 0; i < n; i++) {
    sum += w[i]!;
    squares += w[i]! * w[i]!;
    if (w[i]! > largest) largest = w[i]!;
    if (target[i]! > 0) supported++;
  }
  const meanWeight = n === 0 ? 0 : sum / n;
  const weightSe = n < 2 ? Infinity : Math.sqrt(Math.max(0, squares / n - meanWeight ** 2) / (n - 1));
  const effectiveSampleSize = squares === 0 ? 0 : (sum * sum) / squares;
  const largestWeightShare = sum === 0 ? 1 : largest / sum;
  const warnings: string[] = [];
  if (effectiveSampleSize < TRUST.minEffectiveSampleSize)
    warnings.push(
      `effective sample size ${Math.round(effectiveSampleSize)} < ${TRUST.minEffectiveSampleSize}: the candidate rarely makes the logged choices`,
    );
  if (largestWeightShare > TRUST.maxLargestWeightShare)
    warnings.push(
      `one decision carries ${(100 * largestWeightShare).toFixed(1)} % of the weight (> ${100 * TRUST.maxLargestWeightShare} %)`,
    );
  if (Math.abs(meanWeight - 1) > Math.max(TRUST.meanWeightTolerance, 3 * weightSe))
    warnings.push(
      `mean weight ${meanWeight.toFixed(3)} is not 1: the candidate makes choices the logging policy never made (or the probabilities are not a distribution)`,
    );
  return {
    rounds: n,
    effectiveSampleSize,
    supportShare: n === 0 ? 0 : supported / n,
    meanWeight,
    largestWeight: largest,
    largestWeightShare,
    trustworthy: warnings.length === 0,
    warnings,
  };
}

/** One decided dimension of a logged decision: the probability the logger gave its choice, and the candidate's. */
export interface DimensionChoice {
  dimension: string;
  logged: number;
  candidate: number;
}

/**
 * The (propensity, target) pair of a multi-dimension decision, from the factorized probabilities
 * the decision logs (each dimension's choice given the earlier ones).
 *
 * Joint (no `dimension`): the products over the decided dimensions; right for any candidate, but
 * the weights multiply, so the effective sample size falls fast with each dimension that changes.
 * Per dimension: only that dimension's probabilities, which estimates the value of the logging
 * policy with that one dimension replaced by the candidate's. It needs no candidate probability
 * for the other dimensions (a candidate that only changes the subject lines is evaluated without
 * modelling what the channel policy would have learned), and equals the joint estimate when the
 * candidate decides every other dimension as the logger did; when it does not, it is biased. A
 * decision that did not decide `dimension` keeps weight 1 (the candidate would not have decided
 * it either).
 */
export function factorizedWeight(
  choices: readonly DimensionChoice[],
  dimension?: string,
): { propensity: number; target: number } {
  let propensity = 1;
  let target = 1;
  for (const c of choices) {
    if (dimension !== undefined && c.dimension !== dimension) continue;
    propensity *= c.logged;
    target *= c.candidate;
  }
  return { propensity, target };
}
