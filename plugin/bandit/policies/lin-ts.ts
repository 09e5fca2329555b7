import { applyFloor, gaussianThompson } from '../explore.ts';
import type { Rng } from '../rng.ts';
import type { Context } from '../sparse.ts';
import { GaussianPolicy, type SharedInput } from './gaussian.ts';
import type { ArmState, PolicyParams } from './types.ts';

/**
 * Linear Thompson sampling (Agrawal & Goyal 2013): θ_a ~ N(θ̂_a, v² A_a⁻¹), choose argmax xᵀθ_a.
 *
 * Only the score xᵀθ_a matters, and under that posterior it is exactly N(xᵀθ̂_a, v² xᵀA_a⁻¹x). So
 * instead of drawing a d-dimensional θ through a Cholesky factor (O(d²) per arm per draw), the
 * running inverse A⁻¹ (kept by Sherman–Morrison) gives each arm's score distribution in O(d²)
 * once, and each Monte Carlo draw is one normal per arm. The draw count is `draws` (default 300).
 */
export class LinTs extends GaussianPolicy {
  readonly name = 'lin-ts' as const;
  constructor(params: PolicyParams, arms: number, dim: number, state?: ArmState[], shared?: SharedInput) {
    super(params, arms, dim, 1 / (params.lambda ?? 1), state, shared);
  }
  distribution(x: Context, eligible: Uint8Array, rng: Rng, out: Float64Array): void {
    this.scoreMoments(x, eligible);
    const v = this.params.v ?? 0.5;
    for (let a = 0; a < this.arms; a++) this.sds[a] *= v;
    gaussianThompson(this.means, this.sds, eligible, this.params.draws ?? 300, rng, out);
    applyFloor(out, eligible, this.floorNow());
  }
  protected override toReward(mean: number, sd: number) {
    return { mean, sd: sd * (this.params.v ?? 0.5) };
  }
}
