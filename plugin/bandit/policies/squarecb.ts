import { applyFloor, inverseGap } from '../explore.ts';
import type { Rng } from '../rng.ts';
import type { Context } from '../sparse.ts';
import { GaussianPolicy, type SharedInput } from './gaussian.ts';
import type { ArmState, PolicyParams } from './types.ts';

/**
 * SquareCB (Foster & Rakhlin 2020): a square-loss regression oracle (per-arm ridge) and
 * inverse-gap weighting p_a = 1/(K + γ_t (ŷ_best − ŷ_a)). The learning rate grows with the
 * evidence, γ_t = gamma · √(n_t/K), n_t the forgetting-weighted number of observations, so
 * exploration narrows as estimates firm up and widens again after a drift is forgotten.
 */
export class SquareCb extends GaussianPolicy {
  readonly name = 'squarecb' as const;
  constructor(params: PolicyParams, arms: number, dim: number, state?: ArmState[], shared?: SharedInput) {
    super(params, arms, dim, 1 / (params.lambda ?? 1), state, shared);
  }
  distribution(x: Context, eligible: Uint8Array, _rng: Rng, out: Float64Array): void {
    this.scoreMeans(x, eligible);
    const gamma = (this.params.gamma ?? 50) * Math.sqrt(1 + this.observations() / this.arms);
    inverseGap(this.means, eligible, gamma, out);
    applyFloor(out, eligible, this.floorNow());
  }
}
