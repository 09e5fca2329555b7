import { BetaTs } from './beta-ts.ts';
import { EpsGreedy } from './eps-greedy.ts';
import { LinTs } from './lin-ts.ts';
import { LinUcb } from './linucb.ts';
import { LogisticTs } from './logistic-ts.ts';
import { RandomPolicy } from './random.ts';
import { SquareCb } from './squarecb.ts';
import type { SharedInput } from './gaussian.ts';
import {
  isGaussianArm,
  type ArmGroups,
  type ArmState,
  type Policy,
  type PolicyName,
  type PolicyParams,
  type PolicyState,
} from './types.ts';

export * from './types.ts';
export { BetaTs, EpsGreedy, LinTs, LinUcb, LogisticTs, RandomPolicy, SquareCb };
export { AUTO_DIAGONAL_WIDTH, PRIOR_REFRESH, useDiagonal, WINDUP_LIMIT } from './gaussian.ts';

type PolicyClass = new (
  params: PolicyParams,
  arms: number,
  dim: number,
  state?: ArmState[],
  shared?: SharedInput,
) => Policy;

const CLASSES: Record<PolicyName, PolicyClass> = {
  random: RandomPolicy,
  'beta-ts': BetaTs,
  'eps-greedy': EpsGreedy,
  linucb: LinUcb,
  'lin-ts': LinTs,
  'logistic-ts': LogisticTs,
  squarecb: SquareCb,
};

/** The policies with a Gaussian belief over weights: the ones that can share learning across arms. */
export const SHAREABLE: ReadonlySet<PolicyName> = new Set([
  'eps-greedy',
  'linucb',
  'lin-ts',
  'logistic-ts',
  'squarecb',
]);

/**
 * A fresh policy with `arms` arms over `dim` features. With `groups` (and a shareable kind) the
 * arms share one model over their groups (see gaussian.ts); without, each arm has its own.
 */
export function createPolicy(params: PolicyParams, arms: number, dim: number, groups?: ArmGroups): Policy {
  return new CLASSES[params.kind](
    params,
    arms,
    dim,
    undefined,
    groups && SHAREABLE.has(params.kind) ? { groups } : undefined,
  );
}

/** Restores a policy from `toJSON()` output. */
export function policyFromJSON(state: PolicyState): Policy {
  if (state.version !== 1) throw new Error(`policy state version ${String(state.version)} is not supported`);
  const shared = state.shared && {
    groups: { count: state.shared.groupCount, of: state.shared.groups },
    cov: state.shared.cov,
    mean: state.shared.mean,
    age: state.shared.age,
    priorAge: state.shared.priorAge,
  };
  return new CLASSES[state.name](state.params, state.arms.length, state.dim, state.arms, shared);
}

/** The arm groups of a policy's state, if it shares learning across arms. */
export function groupsOf(state: PolicyState): ArmGroups | undefined {
  return state.shared && { count: state.shared.groupCount, of: state.shared.groups };
}

/**
 * Carries a policy's learning over to a new arm set and feature layout, matching by position maps:
 * `armFrom[newArm]` / `featureFrom[newFeature]` give the old index, or -1 for a new one. New arms
 * start from the prior; new features enter with the prior variance and weight 0 (exact for a
 * Gaussian belief); removed features are dropped from the mean and the covariance block. That is
 * the exact marginal of the remaining weights, so they keep what they learned alongside the
 * removed feature; a model trained without it would instead condition on its weight being 0 (the
 * precision's Schur complement, which also moves the mean). The next observations correct it.
 *
 * A shared-layout policy needs the new arms' `groups` and `groupFrom[newGroup]` (old index or -1)
 * and carries each group's weights and each arm's offset over the same way. Switching between the
 * disjoint and the shared layout starts from the prior: the two parametrisations do not map.
 * With forgetting, the discount not yet applied (`age`) carries over and applies to the new
 * entries too, until the next learning step restores the prior (see gaussian.ts).
 */
export function remapPolicy(
  policy: Policy,
  armFrom: readonly number[],
  featureFrom: readonly number[],
  params = policy.params,
  groups?: { of: ArmGroups; from: readonly number[] },
): Policy {
  const old = policy.toJSON();
  const fresh = createPolicy(params, armFrom.length, featureFrom.length, groups?.of).toJSON();
  if (!fresh.shared && !old.shared)
    return policyFromJSON({
      ...fresh,
      params,
      arms: armFrom.map((oldArm, arm) => carryArm(old, fresh.arms[arm]!, oldArm, featureFrom)),
    });
  if (!fresh.shared || !old.shared || !groups) return policyFromJSON({ ...fresh, params });
  const { cov, mean } = fresh.shared;
  copyGaussian(old.shared, { cov, mean }, sharedWeightsFrom(old, fresh, armFrom, featureFrom, groups.from));
  const arms = armFrom.map((oldArm): ArmState => ({ n: oldArm >= 0 ? old.arms[oldArm]!.n : 0 }));
  return policyFromJSON({
    ...fresh,
    params,
    arms,
    shared: { ...fresh.shared, cov, mean, age: old.shared.age, priorAge: old.shared.priorAge },
  });
}

/** A disjoint-layout arm: its old belief on the features that remain, the prior on new ones; a new arm keeps the prior. */
function carryArm(old: PolicyState, prior: ArmState, oldArm: number, featureFrom: readonly number[]): ArmState {
  const src = oldArm >= 0 ? old.arms[oldArm] : undefined;
  if (!src) return prior;
  if (!isGaussianArm(src) || !isGaussianArm(prior)) return { ...src };
  const cov = prior.cov.slice();
  const mean = prior.mean.slice();
  copyGaussian({ cov: src.cov, mean: src.mean }, { cov, mean }, featureFrom);
  return { n: src.n, cov, mean, age: src.age, priorAge: src.priorAge };
}

/**
 * Where each weight of the new shared model was in the old one (−1: new, from the prior). The
 * shared layout is each group's feature weights, group after group, then one offset per arm.
 */
function sharedWeightsFrom(
  old: PolicyState,
  fresh: PolicyState,
  armFrom: readonly number[],
  featureFrom: readonly number[],
  groupFrom: readonly number[],
): Int32Array {
  const features = featureFrom.length;
  const oldFeatures = old.dim;
  const newGroups = fresh.shared!.groupCount;
  const oldGroups = old.shared!.groupCount;
  const from = new Int32Array(features * newGroups + armFrom.length).fill(-1);
  for (let group = 0; group < newGroups; group++) {
    const oldGroup = groupFrom[group]!;
    if (oldGroup < 0) continue;
    featureFrom.forEach((oldFeature, feature) => {
      if (oldFeature >= 0) from[group * features + feature] = oldGroup * oldFeatures + oldFeature;
    });
  }
  armFrom.forEach((oldArm, arm) => {
    if (oldArm >= 0) from[features * newGroups + arm] = oldFeatures * oldGroups + oldArm;
  });
  return from;
}

/**
 * Copies a Gaussian belief's mean and covariance entries to their new positions: `from[i]` is the
 * old index of new weight i (−1 keeps the target's prior). Each covariance is square, row-major,
 * or diagonal (as long as its mean), and either may be either: a diagonal target keeps the
 * source's variances, a full one gets a diagonal source's on its diagonal.
 */
function copyGaussian(
  source: { cov: ArrayLike<number>; mean: ArrayLike<number> },
  target: { cov: number[]; mean: number[] },
  from: ArrayLike<number>,
): void {
  const size = from.length;
  const oldSize = source.mean.length;
  const sourceDiagonal = source.cov.length === oldSize;
  const targetDiagonal = target.cov.length === size;
  const entry = (r: number, c: number) =>
    sourceDiagonal ? (r === c ? source.cov[r]! : 0) : source.cov[r * oldSize + c]!;
  for (let row = 0; row < size; row++) {
    const oldRow = from[row]!;
    if (oldRow < 0) continue;
    target.mean[row] = source.mean[oldRow]!;
    if (targetDiagonal) {
      target.cov[row] = entry(oldRow, oldRow);
      continue;
    }
    for (let col = 0; col < size; col++) {
      const oldCol = from[col]!;
      if (oldCol >= 0) target.cov[row * size + col] = entry(oldRow, oldCol);
    }
  }
}
