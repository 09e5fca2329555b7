import { applyFloor, greedy } from '../explore.ts';
import type { Rng } from '../rng.ts';
import type { Context } from '../sparse.ts';
import { GaussianPolicy, type SharedInput } from './gaussian.ts';
import type { ArmState, PolicyParams } from './types.ts';

/**
 * Disjoint LinUCB (Li et al. 2010): per arm a ridge regression; choose the arm with the highest
 * upper confidence bound xᵀθ_a + α √(xᵀA_a⁻¹x). Deterministic, so its propensity is 1 on the
 * argmax (split over exact ties) before the floor is mixed in.
 */
export class LinUcb extends GaussianPolicy {
  readonly name = 'linucb' as const;
  constructor(params: PolicyParams, arms: number, dim: number, state?: ArmState[], shared?: SharedInput) {
    super(params, arms, dim, 1 / (params.lambda ?? 1), state, shared);
  }
  distribution(x: Context, eligible: Uint8Array, _rng: Rng, out: Float64Array): void {
    this.scoreMoments(x, eligible);
    const alpha = this.params.alpha ?? 1;
    for (let a = 0; a < this.arms; a++) this.means[a] += alpha * this.sds[a];
    greedy(this.means, eligible, out);
    applyFloor(out, eligible, this.floorNow());
  }
}
