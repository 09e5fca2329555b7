import { applyFloor, gaussianThompson } from '../explore.ts';
import type { Rng } from '../rng.ts';
import type { Context } from '../sparse.ts';
import { GaussianPolicy, type SharedInput } from './gaussian.ts';
import type { ArmState, PolicyParams } from './types.ts';

/**
 * Bayesian logistic regression with Thompson sampling (Chapelle & Li 2011), one model per arm
 * (or one shared model over the arms' groups, see gaussian.ts).
 *
 * The posterior over w is approximated by a Gaussian N(μ, Σ) (Laplace approximation) and updated
 * online, one observation at a time, with one Newton step from the current mean:
 * p = σ(φᵀμ), Σ ← (Σ⁻¹ + p(1−p) φ φᵀ)⁻¹ (Sherman–Morrison), μ ← μ + Σ φ (y − p).
 * Chapelle & Li keep only the diagonal of the precision; the full matrix costs O(D²) per update and
 * captures correlated features. Rewards in [0, 1] are used as soft labels (cross-entropy loss).
 *
 * Thompson sampling needs only φᵀw ~ N(φᵀμ, φᵀΣφ) per arm, and σ is monotone, so the arm
 * probabilities are those of Gaussian Thompson sampling on the logit scale (Monte Carlo, `draws`).
 */
export class LogisticTs extends GaussianPolicy {
  readonly name = 'logistic-ts' as const;
  constructor(params: PolicyParams, arms: number, dim: number, state?: ArmState[], shared?: SharedInput) {
    super(params, arms, dim, params.priorVariance ?? 1, state, shared);
  }
  distribution(x: Context, eligible: Uint8Array, rng: Rng, out: Float64Array): void {
    this.scoreMoments(x, eligible);
    gaussianThompson(this.means, this.sds, eligible, this.params.draws ?? 300, rng, out);
    applyFloor(out, eligible, this.floorNow());
  }
  protected override predict(z: number): number {
    return sigmoid(z);
  }
  protected override curvature(z: number): number {
    const p = sigmoid(z);
    return Math.max(p * (1 - p), 1e-6);
  }
  protected override toReward(mean: number, sd: number) {
    const p = sigmoid(mean);
    return { mean: p, sd: p * (1 - p) * sd };
  }
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
