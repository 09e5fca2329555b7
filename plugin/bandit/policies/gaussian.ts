import { dot, scaleBlock, setScaledIdentity, shermanMorrison } from '../linalg.ts';
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
 * Forgetting γ < 1 discounts every arm at every learning step of the policy (discounted bandits,
 * Garivier & Moulines 2011; Raj & Kalyani 2017): each step multiplies all precisions by γ
 * (cov ← cov/γ, the mean unchanged) before the new observation is added, so an observation of
 * age k weighs γ^k. Arms that are not chosen regain uncertainty, which is what lets Thompson
 * sampling and LinUCB find their way back after behaviour changes. The discount is applied
 * lazily (a per-arm step stamp; O(d) per arm per decision), and capped (see `inflation`) so
 * directions no longer observed do not wind up without bound.
 */
/** Largest variance, in multiples of the prior's, that forgetting may inflate any direction to. */
export const WINDUP_LIMIT = 1e4;

export abstract class GaussianPolicy implements Policy {
  abstract readonly name: PolicyName;
  readonly arms: number;
  readonly dim: number;
  readonly params: PolicyParams;
  protected readonly priorVariance: number;
  protected readonly cov: Float64Array;
  protected readonly mean: Float64Array;
  protected readonly n: Float64Array;
  /** Learning steps taken (for the lazy discount) and, per arm, the step its state was last brought up to. */
  protected steps = 0;
  protected readonly stamp: Float64Array;
  // Scratch buffers reused by every call.
  protected readonly t: Float64Array;
  protected readonly means: Float64Array;
  protected readonly sds: Float64Array;
  protected readonly nonzero: Int32Array;

  constructor(params: PolicyParams, arms: number, dim: number, priorVariance: number, state?: ArmState[]) {
    this.params = params;
    this.arms = arms;
    this.dim = dim;
    this.priorVariance = priorVariance;
    this.cov = new Float64Array(arms * dim * dim);
    this.mean = new Float64Array(arms * dim);
    this.n = new Float64Array(arms);
    this.stamp = new Float64Array(arms);
    this.t = new Float64Array(dim);
    this.means = new Float64Array(arms);
    this.sds = new Float64Array(arms);
    this.nonzero = new Int32Array(dim);
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
    // Contexts are mostly one-hot blocks: xᵀCx over the nonzero entries only is O(nnz²), not O(d²).
    const nz = this.nonzero;
    let nnz = 0;
    let xx = 0;
    for (let i = 0; i < d; i++) {
      if (x[i] !== 0) {
        nz[nnz++] = i;
        xx += x[i] * x[i];
      }
    }
    for (let a = 0; a < this.arms; a++) {
      if (!eligible[a]) {
        this.means[a] = 0;
        this.sds[a] = 0;
        continue;
      }
      const m0 = a * d * d;
      const v0 = a * d;
      let mean = 0;
      let q = 0;
      for (let p = 0; p < nnz; p++) {
        const i = nz[p];
        mean += x[i] * this.mean[v0 + i];
        const row = m0 + i * d;
        let s = 0;
        for (let r = 0; r < nnz; r++) s += this.cov[row + nz[r]] * x[nz[r]];
        q += x[i] * s;
      }
      this.means[a] = mean;
      if (this.params.forgetting < 1) q = Math.min(q * this.inflation(a), this.priorVariance * xx);
      this.sds[a] = Math.sqrt(q > 0 ? q : 0);
    }
  }

  /**
   * How much arm `a`'s stored covariance must be scaled up for the steps it has not been brought
   * up to: γ^−k. Directions that are no longer observed grow without a prior to hold them (as in
   * any exponentially forgetting least squares), so the factor is capped where the most uncertain
   * direction reaches WINDUP_LIMIT × the prior variance, and the variance of a score is capped at
   * the prior's for that context (see `scoreMoments`).
   */
  protected inflation(a: number): number {
    const g = this.params.forgetting;
    const k = this.steps - this.stamp[a];
    if (g >= 1 || k === 0) return 1;
    const d = this.dim;
    const m0 = a * d * d;
    let maxDiag = 0;
    for (let i = 0; i < d; i++) maxDiag = Math.max(maxDiag, this.cov[m0 + i * d + i]);
    return Math.max(1, Math.min(Math.pow(g, -k), (WINDUP_LIMIT * this.priorVariance) / maxDiag));
  }

  /** The arm's forgetting-weighted observation count now. */
  protected effectiveN(a: number): number {
    const g = this.params.forgetting;
    return g >= 1 ? this.n[a] : this.n[a] * Math.pow(g, this.steps - this.stamp[a]);
  }

  /** Starts a learning step: every arm is discounted once more, and `arm`'s state is brought up to date. */
  protected beginStep(arm: number): void {
    if (this.params.forgetting >= 1) return;
    this.steps++;
    const m = this.inflation(arm);
    if (m !== 1) scaleBlock(this.cov, arm * this.dim * this.dim, this.dim, m);
    this.n[arm] = this.effectiveN(arm);
    this.stamp[arm] = this.steps;
  }

  /** this.t = cov_arm · x, visiting only the nonzero entries of x: O(d·nnz). */
  protected covTimes(arm: number, x: Float64Array): void {
    const d = this.dim;
    const m0 = arm * d * d;
    const nz = this.nonzero;
    let nnz = 0;
    for (let i = 0; i < d; i++) if (x[i] !== 0) nz[nnz++] = i;
    for (let i = 0; i < d; i++) {
      const row = m0 + i * d;
      let s = 0;
      for (let p = 0; p < nnz; p++) s += this.cov[row + nz[p]] * x[nz[p]];
      this.t[i] = s;
    }
  }

  /** Ridge-regression update (squared loss). */
  update(x: Float64Array, arm: number, reward: number, _probability: number): void {
    this.beginStep(arm);
    const d = this.dim;
    const m0 = arm * d * d;
    this.covTimes(arm, x);
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
      const m = this.inflation(a);
      arms.push({
        n: this.effectiveN(a),
        cov: Array.from(this.cov.subarray(a * d * d, (a + 1) * d * d), (v) => v * m),
        mean: Array.from(this.mean.subarray(a * d, (a + 1) * d)),
      });
    }
    return { name: this.name, version: 1, dim: d, params: { ...this.params }, arms };
  }

  /** Total (forgetting-weighted) number of observations over all arms. */
  protected observations(): number {
    let s = 0;
    for (let a = 0; a < this.arms; a++) s += this.effectiveN(a);
    return s;
  }
}
