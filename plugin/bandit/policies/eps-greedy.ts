import { applyFloor, epsilonGreedy } from '../explore.ts';
import type { Rng } from '../rng.ts';
import type { Context } from '../sparse.ts';
import { GaussianPolicy, type SharedInput } from './gaussian.ts';
import type { ArmState, PolicyParams } from './types.ts';

/** ε-greedy over per-arm ridge regressions: 1 − ε on the best estimate, ε uniform. */
export class EpsGreedy extends GaussianPolicy {
  readonly name = 'eps-greedy' as const;
  constructor(params: PolicyParams, arms: number, dim: number, state?: ArmState[], shared?: SharedInput) {
    super(params, arms, dim, 1 / (params.lambda ?? 1), state, shared);
  }
  distribution(x: Context, eligible: Uint8Array, _rng: Rng, out: Float64Array): void {
    this.scoreMeans(x, eligible);
    epsilonGreedy(this.means, eligible, this.params.epsilon ?? 0.1, out);
    applyFloor(out, eligible, this.floorNow());
  }
}
