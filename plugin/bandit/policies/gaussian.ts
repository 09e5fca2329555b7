import { dot, matVec, scaleBlock, setScaledIdentity, shermanMorrison, trace } from '../linalg.ts';
import type { Rng } from '../rng.ts';
import { isGaussianArm, type ArmExplanation, type ArmState, type Policy, type PolicyName, type PolicyParams, type PolicyState } from './types.ts';

/**
 * Shared state of the contextual policies: per arm a Gaussian belief over the weight vector,
 * a mean `mean` (d) and a covariance-shaped block `cov` (d×d), kept as a running inverse by
 * Sherman–Morrison rank-one updates (O(d²) per update, no matrix inversion ever).
 *
 * - Ridge regression (eps-greedy, LinUCB, linear TS, SquareCB): cov = A⁻¹ with A = λI + Σ x xᵀ,
 *   mean = A⁻¹ Σ r x. The mean is updated as θ ← θ + A⁻¹x (r − xᵀθ)/(1 + xᵀA⁻¹x), so `b` is never stored.
 * - Bayesian logistic regression (logistic TS): cov = Σ, the Laplace approximation of the
 *   posterior updated online one observation at a time (see logistic-ts.ts).
 *
 * Forgetting γ < 1 multiplies the arm's precision by γ before each update (cov ← cov/γ), so old
 * observations fade with weight γ^age. To stop "covariance wind-up" on directions that are no
 * longer observed, the inflation is skipped when it would take the trace above the prior's.
 */
export abstract class GaussianPolicy implements Policy {
  abstract readonly name: PolicyName;
  readonly arms: number;
  readonly dim: number;
  readonly params: PolicyParams;
  protected readonly priorVariance: number;
  protected readonly cov: Float64Array;
  protected readonly mean: Float64Array;
  protected readonly n: Float64Array;
  // Scratch buffers reused by every call.
  protected readonly t: Float64Array;
  protected readonly means: Float64Array;
  protected readonly sds: Float64Array;

  constructor(params: PolicyParams, arms: number, dim: number, priorVariance: number, state?: ArmState[]) {
    this.params = params;
    this.arms = arms;
    this.dim = dim;
    this.priorVariance = priorVariance;
    this.cov = new Float64Array(arms * dim * dim);
    this.mean = new Float64Array(arms * dim);
    this.n = new Float64Array(arms);
    this.t = new Float64Array(dim);
    this.means = new Float64Array(arms);
    this.sds = new Float64Array(arms);
    for (let a = 0; a < arms; a++) {
      const s = state?.[a];
      if (s && isGaussianArm(s)) {
        this.cov.set(s.cov, a * dim * dim);
        this.mean.set(s.mean, a * dim);
        this.n[a] = s.n;
      } else {
        setScaledIdentity(this.cov, a * dim * dim, dim, priorVariance);
      }
    }
  }

  abstract distribution(x: Float64Array, eligible: Uint8Array, rng: Rng, out: Float64Array): void;

  /** Fills `means` with xᵀθ_a for the eligible arms: O(K·d). */
  protected scoreMeans(x: Float64Array, eligible: Uint8Array): void {
    const d = this.dim;
    for (let a = 0; a < this.arms; a++) this.means[a] = eligible[a] ? dot(x, this.mean, a * d, d) : 0;
  }

  /** Fills `means` and `sds` (√(xᵀ cov_a x)) for the eligible arms: O(K·d²). */
  protected scoreMoments(x: Float64Array, eligible: Uint8Array): void {
    const d = this.dim;
    for (let a = 0; a < this.arms; a++) {
      if (!eligible[a]) {
        this.means[a] = 0;
        this.sds[a] = 0;
        continue;
      }
      this.means[a] = dot(x, this.mean, a * d, d);
      matVec(this.cov, a * d * d, x, d, this.t);
      let q = 0;
      for (let i = 0; i < d; i++) q += x[i] * this.t[i];
      this.sds[a] = Math.sqrt(q > 0 ? q : 0);
    }
  }

  /** Applies forgetting to one arm before it learns. */
  protected forget(arm: number): void {
    const g = this.params.forgetting;
    if (g >= 1) return;
    const d = this.dim;
    this.n[arm] *= g;
    const m0 = arm * d * d;
    if (trace(this.cov, m0, d) / g <= d * this.priorVariance) scaleBlock(this.cov, m0, d, 1 / g);
  }

  /** Ridge-regression update (squared loss). */
  update(x: Float64Array, arm: number, reward: number, _probability: number): void {
    this.forget(arm);
    const d = this.dim;
    const m0 = arm * d * d;
    matVec(this.cov, m0, x, d, this.t);
    const residual = reward - dot(x, this.mean, arm * d, d);
    const denom = shermanMorrison(this.cov, m0, this.t, x, 1, d);
    const step = residual / denom;
    for (let i = 0; i < d; i++) this.mean[arm * d + i] += this.t[i] * step;
    this.n[arm] += 1;
  }

  /** Maps a raw score to an estimated reward and its sd (identity for ridge models). */
  protected toReward(mean: number, sd: number): { mean: number; sd: number } {
    return { mean, sd: sd * 0.5 };
  }

  explain(x: Float64Array, eligible: Uint8Array): ArmExplanation[] {
    this.scoreMoments(x, eligible);
    const d = this.dim;
    const result: ArmExplanation[] = [];
    for (let a = 0; a < this.arms; a++) {
      if (!eligible[a]) continue;
      const contributions = new Float64Array(d);
      for (let i = 0; i < d; i++) contributions[i] = x[i] * this.mean[a * d + i];
      result.push({ arm: a, ...this.toReward(this.means[a], this.sds[a]), contributions });
    }
    return result;
  }

  toJSON(): PolicyState {
    const d = this.dim;
    const arms: ArmState[] = [];
    for (let a = 0; a < this.arms; a++) {
      arms.push({
        n: this.n[a],
        cov: Array.from(this.cov.subarray(a * d * d, (a + 1) * d * d)),
        mean: Array.from(this.mean.subarray(a * d, (a + 1) * d)),
      });
    }
    return { name: this.name, version: 1, dim: d, params: { ...this.params }, arms };
  }

  /** Total (forgetting-weighted) number of observations over all arms. */
  protected observations(): number {
    let s = 0;
    for (let a = 0; a < this.arms; a++) s += this.n[a];
    return s;
  }
}
