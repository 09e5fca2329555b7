import { applyFloor } from '../explore.ts';
import type { Rng } from '../rng.ts';
import type { ArmExplanation, ArmState, Policy, PolicyParams, PolicyState } from './types.ts';

/**
 * Beta–Bernoulli Thompson sampling: no context, one Beta(α, β) per arm from a Beta(1, 1) prior.
 * A reward r ∈ [0, 1] adds r to α and 1 − r to β. Propensities are the Monte Carlo share of
 * `draws` joint Beta draws in which each arm is the largest (default 1000 draws).
 * Forgetting shrinks α and β towards the prior before each update of the arm.
 */
export class BetaTs implements Policy {
  readonly name = 'beta-ts' as const;
  readonly arms: number;
  readonly dim: number;
  readonly params: PolicyParams;
  private readonly alpha: Float64Array;
  private readonly beta: Float64Array;
  private readonly n: Float64Array;

  constructor(params: PolicyParams, arms: number, dim: number, state?: ArmState[]) {
    this.params = params;
    this.arms = arms;
    this.dim = dim;
    this.alpha = new Float64Array(arms).fill(1);
    this.beta = new Float64Array(arms).fill(1);
    this.n = new Float64Array(arms);
    state?.forEach((s, a) => {
      if ('alpha' in s) {
        this.alpha[a] = s.alpha;
        this.beta[a] = s.beta;
        this.n[a] = s.n;
      }
    });
  }

  distribution(_x: Float64Array, eligible: Uint8Array, rng: Rng, out: Float64Array): void {
    const draws = this.params.draws ?? 1000;
    out.fill(0);
    for (let m = 0; m < draws; m++) {
      let best = -1;
      let bestScore = -Infinity;
      for (let a = 0; a < this.arms; a++) {
        if (!eligible[a]) continue;
        const s = rng.beta(this.alpha[a], this.beta[a]);
        if (s > bestScore) {
          bestScore = s;
          best = a;
        }
      }
      out[best] += 1;
    }
    for (let a = 0; a < this.arms; a++) out[a] /= draws;
    applyFloor(out, eligible, this.params.floor);
  }

  update(_x: Float64Array, arm: number, reward: number, _probability: number): void {
    const g = this.params.forgetting;
    if (g < 1) {
      this.alpha[arm] = 1 + g * (this.alpha[arm] - 1);
      this.beta[arm] = 1 + g * (this.beta[arm] - 1);
      this.n[arm] *= g;
    }
    this.alpha[arm] += reward;
    this.beta[arm] += 1 - reward;
    this.n[arm] += 1;
  }

  explain(_x: Float64Array, eligible: Uint8Array): ArmExplanation[] {
    const result: ArmExplanation[] = [];
    for (let a = 0; a < this.arms; a++) {
      if (!eligible[a]) continue;
      const s = this.alpha[a] + this.beta[a];
      const mean = this.alpha[a] / s;
      result.push({ arm: a, mean, sd: Math.sqrt((mean * (1 - mean)) / (s + 1)) });
    }
    return result;
  }

  toJSON(): PolicyState {
    const arms: ArmState[] = [];
    for (let a = 0; a < this.arms; a++) arms.push({ n: this.n[a], alpha: this.alpha[a], beta: this.beta[a] });
    return { name: this.name, version: 1, dim: this.dim, params: { ...this.params }, arms };
  }
}
