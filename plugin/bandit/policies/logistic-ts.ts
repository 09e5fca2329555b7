import { applyFloor, gaussianThompson } from '../explore.ts';
import { dot, shermanMorrison } from '../linalg.ts';
import type { Rng } from '../rng.ts';
import { GaussianPolicy } from './gaussian.ts';
import type { ArmState, PolicyParams } from './types.ts';

/**
 * Bayesian logistic regression with Thompson sampling (Chapelle & Li 2011), one model per arm.
 *
 * The posterior over w is approximated by a Gaussian N(μ, Σ) (Laplace approximation) and updated
 * online, one observation at a time, with one Newton step from the current mean:
 * p = σ(xᵀμ), Σ ← (Σ⁻¹ + p(1−p) x xᵀ)⁻¹ (Sherman–Morrison), μ ← μ + Σ x (y − p).
 * Chapelle & Li keep only the diagonal of the precision; the full matrix costs O(d²) per update and
 * captures correlated features. Rewards in [0, 1] are used as soft labels (cross-entropy loss).
 *
 * Thompson sampling needs only xᵀw ~ N(xᵀμ, xᵀΣx) per arm, and σ is monotone, so the arm
 * probabilities are those of Gaussian Thompson sampling on the logit scale (Monte Carlo, `draws`).
 */
export class LogisticTs extends GaussianPolicy {
  readonly name = 'logistic-ts' as const;
  constructor(params: PolicyParams, arms: number, dim: number, state?: ArmState[]) {
    super(params, arms, dim, params.priorVariance ?? 1, state);
  }
  distribution(x: Float64Array, eligible: Uint8Array, rng: Rng, out: Float64Array): void {
    this.scoreMoments(x, eligible);
    gaussianThompson(this.means, this.sds, eligible, this.params.draws ?? 300, rng, out);
    applyFloor(out, eligible, this.params.floor);
  }
  override update(x: Float64Array, arm: number, reward: number, _probability: number): void {
    this.beginStep(arm);
    const d = this.dim;
    const m0 = arm * d * d;
    const p = sigmoid(dot(x, this.mean, arm * d, d));
    const w = Math.max(p * (1 - p), 1e-6);
    this.covTimes(arm, x);
    const denom = shermanMorrison(this.cov, m0, this.t, x, w, d);
    // Σ_new x = t / denom (Sherman–Morrison), so the Newton step needs no second product.
    const step = (reward - p) / denom;
    for (let i = 0; i < d; i++) this.mean[arm * d + i] += this.t[i] * step;
    this.n[arm] += 1;
  }
  protected override toReward(mean: number, sd: number) {
    const p = sigmoid(mean);
    return { mean: p, sd: p * (1 - p) * sd };
  }
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
