import { cholesky, choleskySolve } from '../bandit/linalg.ts';

/**
 * The reward model of the direct method and doubly robust: one ridge regression per arm of the
 * reward on the decision's context features, fitted on the logged decisions (q̂(x, a) = θₐ·x,
 * clipped to [0, 1]). Linear and plain on purpose: DR corrects what it gets wrong, and DM's
 * diagnostics are the gap between DM and DR. Fitted on the same rounds it is used on, as Open
 * Bandit Pipeline's examples do (no cross-fitting).
 */
export class RewardModel {
  private readonly gram: Float64Array[];
  private readonly moments: Float64Array[];
  private theta: Float64Array[] | null = null;

  constructor(
    readonly arms: number,
    readonly dimensions: number,
    private readonly ridge = 1,
  ) {
    this.gram = Array.from({ length: arms }, () => new Float64Array(dimensions * dimensions));
    this.moments = Array.from({ length: arms }, () => new Float64Array(dimensions));
  }

  /** Adds one logged decision: its context, the arm chosen and the reward. */
  observe(x: ArrayLike<number>, arm: number, reward: number): void {
    const d = this.dimensions;
    const g = this.gram[arm]!;
    const m = this.moments[arm]!;
    for (let i = 0; i < d; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      m[i] += xi * reward;
      for (let j = 0; j < d; j++) g[i * d + j] += xi * x[j]!;
    }
    this.theta = null;
  }

  /** Predicted reward of `arm` in context `x`, in [0, 1]. */
  predict(x: ArrayLike<number>, arm: number): number {
    this.theta ??= this.solve();
    const t = this.theta[arm]!;
    let s = 0;
    for (let i = 0; i < this.dimensions; i++) s += t[i]! * x[i]!;
    return s < 0 ? 0 : s > 1 ? 1 : s;
  }

  private solve(): Float64Array[] {
    const d = this.dimensions;
    return this.gram.map((g, arm) => {
      const a = Float64Array.from(g);
      for (let i = 0; i < d; i++) a[i * d + i] += this.ridge;
      const theta = Float64Array.from(this.moments[arm]!);
      if (cholesky(a, 0, d)) choleskySolve(a, 0, d, theta, 0);
      else theta.fill(0);
      return theta;
    });
  }
}
