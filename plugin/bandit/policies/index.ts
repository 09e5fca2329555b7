import { BetaTs } from './beta-ts.ts';
import { EpsGreedy } from './eps-greedy.ts';
import { LinTs } from './lin-ts.ts';
import { LinUcb } from './linucb.ts';
import { LogisticTs } from './logistic-ts.ts';
import { RandomPolicy } from './random.ts';
import { SquareCb } from './squarecb.ts';
import type { SharedInput } from './gaussian.ts';
import { isGaussianArm, type ArmGroups, type ArmState, type Policy, type PolicyName, type PolicyParams, type PolicyState } from './types.ts';

export * from './types.ts';
export { BetaTs, EpsGreedy, LinTs, LinUcb, LogisticTs, RandomPolicy, SquareCb };
export { PRIOR_REFRESH, WINDUP_LIMIT } from './gaussian.ts';

type PolicyClass = new (params: PolicyParams, arms: number, dim: number, state?: ArmState[], shared?: SharedInput) => Policy;

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
export const SHAREABLE: ReadonlySet<PolicyName> = new Set(['eps-greedy', 'linucb', 'lin-ts', 'logistic-ts', 'squarecb']);

/**
 * A fresh policy with `arms` arms over `dim` features. With `groups` (and a shareable kind) the
 * arms share one model over their groups (see gaussian.ts); without, each arm has its own.
 */
export function createPolicy(params: PolicyParams, arms: number, dim: number, groups?: ArmGroups): Policy {
  return new CLASSES[params.kind](params, arms, dim, undefined, groups && SHAREABLE.has(params.kind) ? { groups } : undefined);
}

/** Restores a policy from `toJSON()` output. */
export function policyFromJSON(state: PolicyState): Policy {
  if (state.version !== 1) throw new Error(`policy state version ${String(state.version)} is not supported`);
  const shared = state.shared && { groups: { count: state.shared.groupCount, of: state.shared.groups }, cov: state.shared.cov, mean: state.shared.mean, age: state.shared.age, priorAge: state.shared.priorAge };
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
  const d = featureFrom.length;
  const od = old.dim;
  if (fresh.shared || old.shared) {
    if (!fresh.shared || !old.shared || !groups) return policyFromJSON({ ...fresh, params });
    const oldGroups = old.shared.groupCount;
    const G = fresh.shared.groupCount;
    // position of every weight of the new model in the old one (−1: new, from the prior)
    const from = new Int32Array(d * G + armFrom.length).fill(-1);
    for (let g = 0; g < G; g++) {
      const og = groups.from[g];
      if (og < 0) continue;
      for (let i = 0; i < d; i++) if (featureFrom[i] >= 0) from[g * d + i] = og * od + featureFrom[i];
    }
    armFrom.forEach((oa, a) => {
      if (oa >= 0) from[d * G + a] = od * oldGroups + oa;
    });
    const D = from.length;
    const oD = od * oldGroups + old.arms.length;
    const { cov, mean } = fresh.shared;
    for (let p = 0; p < D; p++) {
      if (from[p] < 0) continue;
      mean[p] = old.shared.mean[from[p]];
      for (let q = 0; q < D; q++) if (from[q] >= 0) cov[p * D + q] = old.shared.cov[from[p] * oD + from[q]];
    }
    const arms = armFrom.map((oa): ArmState => ({ n: oa >= 0 ? old.arms[oa].n : 0 }));
    return policyFromJSON({ ...fresh, params, arms, shared: { ...fresh.shared, cov, mean, age: old.shared.age, priorAge: old.shared.priorAge } });
  }
  const arms = armFrom.map((from, a): ArmState => {
    const prior = fresh.arms[a];
    const src = from >= 0 ? old.arms[from] : undefined;
    if (!src) return prior;
    if (isGaussianArm(src) && isGaussianArm(prior)) {
      const cov = prior.cov.slice();
      const mean = prior.mean.slice();
      for (let i = 0; i < d; i++) {
        const oi = featureFrom[i];
        if (oi < 0) continue;
        mean[i] = src.mean[oi];
        for (let j = 0; j < d; j++) {
          const oj = featureFrom[j];
          if (oj >= 0) cov[i * d + j] = src.cov[oi * od + oj];
        }
      }
      return { n: src.n, cov, mean, age: src.age, priorAge: src.priorAge };
    }
    return { ...src };
  });
  return policyFromJSON({ ...fresh, params, arms });
}
