import { uniform } from '../explore.ts';
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

/** Uniform over the eligible arms; learns nothing. The baseline every other policy must beat. */
export class RandomPolicy implements Policy {
  readonly name = 'random' as const;
  readonly arms: number;
  readonly dim: number;
  readonly params: PolicyParams;
  private readonly n: Float64Array;

  constructor(params: PolicyParams, arms: number, dim: number, state?: ArmState[]) {
    this.params = params;
    this.arms = arms;
    this.dim = dim;
    this.n = new Float64Array(arms);
    state?.forEach((s, a) => (this.n[a] = s.n));
  }
  distribution(_x: Context, eligible: Uint8Array, _rng: Rng, out: Float64Array): void {
    uniform(eligible, out);
  }
  update(_x: Context, arm: number): void {
    this.n[arm] += 1;
  }
  expected(): number {
    return NaN;
  }
  observations(): number {
    let s = 0;
    for (let a = 0; a < this.arms; a++) s += this.n[a];
    return s;
  }
  /** Learns nothing; only the counts shrink. */
  retain(share: number): void {
    checkRetainedShare(share);
    for (let a = 0; a < this.arms; a++) this.n[a] *= share;
  }
  explain(_x: Context, eligible: Uint8Array): ArmExplanation[] {
    const result: ArmExplanation[] = [];
    for (let a = 0; a < this.arms; a++) if (eligible[a]) result.push({ arm: a, mean: NaN, sd: NaN });
    return result;
  }
  toJSON(): PolicyState {
    return {
      name: this.name,
      version: 1,
      dim: this.dim,
      params: { ...this.params },
      arms: Array.from(this.n, (n) => ({ n })),
    };
  }
}
