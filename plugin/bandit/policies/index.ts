import { BetaTs } from './beta-ts.ts';
import { EpsGreedy } from './eps-greedy.ts';
import { LinTs } from './lin-ts.ts';
import { LinUcb } from './linucb.ts';
import { LogisticTs } from './logistic-ts.ts';
import { RandomPolicy } from './random.ts';
import { SquareCb } from './squarecb.ts';
import { isGaussianArm, type ArmState, type Policy, type PolicyName, type PolicyParams, type PolicyState } from './types.ts';

export * from './types.ts';
export { BetaTs, EpsGreedy, LinTs, LinUcb, LogisticTs, RandomPolicy, SquareCb };

type PolicyClass = new (params: PolicyParams, arms: number, dim: number, state?: ArmState[]) => Policy;

const CLASSES: Record<PolicyName, PolicyClass> = {
  random: RandomPolicy,
  'beta-ts': BetaTs,
  'eps-greedy': EpsGreedy,
  linucb: LinUcb,
  'lin-ts': LinTs,
  'logistic-ts': LogisticTs,
  squarecb: SquareCb,
};

/** A fresh policy with `arms` arms over `dim` features. */
export function createPolicy(params: PolicyParams, arms: number, dim: number): Policy {
  return new CLASSES[params.kind](params, arms, dim);
}

/** Restores a policy from `toJSON()` output. */
export function policyFromJSON(state: PolicyState): Policy {
  if (state.version !== 1) throw new Error(`policy state version ${String(state.version)} is not supported`);
  return new CLASSES[state.name](state.params, state.arms.length, state.dim, state.arms);
}

/**
 * Carries a policy's learning over to a new arm set and feature layout, matching by position maps:
 * `armFrom[newArm]` / `featureFrom[newFeature]` give the old index, or -1 for a new one. New arms
 * start from the prior; new features enter with the prior variance and weight 0 (exact for a
 * Gaussian belief); removed features are dropped from the covariance block (an approximation:
 * the exact marginal would need the precision's Schur complement).
 */
export function remapPolicy(policy: Policy, armFrom: readonly number[], featureFrom: readonly number[], params = policy.params): Policy {
  const old = policy.toJSON();
  const fresh = createPolicy(params, armFrom.length, featureFrom.length).toJSON();
  const d = featureFrom.length;
  const od = old.dim;
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
      return { n: src.n, cov, mean };
    }
    return { ...src };
  });
  return policyFromJSON({ ...fresh, params, arms });
}
