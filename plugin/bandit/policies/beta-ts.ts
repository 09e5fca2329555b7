import { applyFloor, currentFloor } from '../explore.ts';
import type { Rng } from '../rng.ts';
import type { Context } from '../sparse.ts';
import {
  checkRetainedShare,
  type ArmExplanation,
  type ArmState,
  type Policy,
  type PolicyParams,
  type PolicyState,
} from './types.ts';

/**
 * Beta–Bernoulli Thompson sampling: no context, one Beta(α, β) per arm from a Beta(1, 1) prior.
 * A reward r ∈ [0, 1] adds r to α and 1 − r to β. Propensities are the Monte Carlo share of
 * `draws` joint Beta draws in which each arm is the largest (default 300 draws).
 * Forgetting γ < 1 discounts every arm at every learning step: α − 1 and β − 1 shrink by γ per
 * step (lazily, from a per-arm step stamp), so unchosen arms drift back towards the prior.
 */
export class BetaTs implements Policy {
  readonly name = 'beta-ts' as const;
  readonly arms: number;
  readonly dim: number;
  readonly params: PolicyParams;
  private readonly alpha: Float64Array;
  private readonly beta: Float64Array;
  private readonly n: Float64Array;
  private steps = 0;
  private readonly stamp: Float64Array;

  constructor(params: PolicyParams, arms: number, dim: number, state?: ArmState[]) {
    this.params = params;
    this.arms = arms;
    this.dim = dim;
    this.alpha = new Float64Array(arms).fill(1);
    this.beta = new Float64Array(arms).fill(1);
    this.n = new Float64Array(arms);
    this.stamp = new Float64Array(arms);
    state?.forEach((s, a) => {
      if ('alpha' in s) {
        this.alpha[a] = s.alpha;
        this.beta[a] = s.beta;
        this.n[a] = s.n;
      }
    });
  }

  distribution(_x: Context, eligible: Uint8Array, rng: Rng, out: Float64Array): void {
    const draws = this.params.draws ?? 300;
    out.fill(0);
    for (let m = 0; m < draws; m++) {
      let best = -1;
      let bestScore = -Infinity;
      for (let a = 0; a < this.arms; a++) {
        if (!eligible[a]) continue;
        const s = rng.beta(this.alphaOf(a), this.betaOf(a));
        if (s > bestScore) {
          bestScore = s;
          best = a;
        }
      }
      out[best] += 1;
    }
    for (let a = 0; a < this.arms; a++) out[a] /= draws;
    applyFloor(out, eligible, currentFloor(this.params, this.observations(), this.arms));
  }

  /** Discount factor accumulated by arm `a` since its state was last brought up to date. */
  private discount(a: number): number {
    const g = this.params.forgetting;
    return g >= 1 ? 1 : Math.pow(g, this.steps - this.stamp[a]);
  }
  private alphaOf(a: number): number {
    return 1 + (this.alpha[a] - 1) * this.discount(a);
  }
  private betaOf(a: number): number {
    return 1 + (this.beta[a] - 1) * this.discount(a);
  }

  update(_x: Context, arm: number, reward: number, _probability: number): void {
    if (this.params.forgetting < 1) {
      this.steps++;
      this.alpha[arm] = this.alphaOf(arm);
      this.beta[arm] = this.betaOf(arm);
      this.n[arm] *= this.discount(arm);
      this.stamp[arm] = this.steps;
    }
    this.alpha[arm] += reward;
    this.beta[arm] += 1 - reward;
    this.n[arm] += 1;
  }

  expected(_x: Context, arm: number): number {
    return this.alphaOf(arm) / (this.alphaOf(arm) + this.betaOf(arm));
  }

  observations(): number {
    let s = 0;
    for (let a = 0; a < this.arms; a++) s += this.n[a] * this.discount(a);
    return s;
  }

  retain(share: number): void {
    checkRetainedShare(share);
    for (let a = 0; a < this.arms; a++) {
      this.alpha[a] = 1 + (this.alphaOf(a) - 1) * share;
      this.beta[a] = 1 + (this.betaOf(a) - 1) * share;
      this.n[a] *= this.discount(a) * share;
      this.stamp[a] = this.steps;
    }
  }

  explain(_x: Context, eligible: Uint8Array): ArmExplanation[] {
    const result: ArmExplanation[] = [];
    for (let a = 0; a < this.arms; a++) {
      if (!eligible[a]) continue;
      const s = this.alphaOf(a) + this.betaOf(a);
      const mean = this.alphaOf(a) / s;
      result.push({ arm: a, mean, sd: Math.sqrt((mean * (1 - mean)) / (s + 1)) });
    }
    return result;
  }

  toJSON(): PolicyState {
    const arms: ArmState[] = [];
    for (let a = 0; a < this.arms; a++)
      arms.push({ n: this.n[a] * this.discount(a), alpha: this.alphaOf(a), beta: this.betaOf(a) });
    return { name: this.name, version: 1, dim: this.dim, params: { ...this.params }, arms };
  }
}
