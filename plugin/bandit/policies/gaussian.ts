import { currentFloor } from '../explore.ts';
import { cholesky, choleskySolve, shermanMorrison, setScaledIdentity } from '../linalg.ts';
import type { Rng } from '../rng.ts';
import { isSparse, type Context } from '../sparse.ts';
import {
  isGaussianArm,
  checkRetainedShare,
  type ArmExplanation,
  type ArmGroups,
  type ArmState,
  type Policy,
  type PolicyName,
  type PolicyParams,
  type PolicyState,
  type SharedState,
} from './types.ts';

/**
 * Shared state of the contextual policies: a Gaussian belief over a weight vector, a mean `mean`
 * (D) and a covariance-shaped block `cov` (D×D), kept as a running inverse by Sherman–Morrison
 * rank-one updates (O(D²) per update, no matrix inversion ever).
 *
 * - Ridge regression (eps-greedy, LinUCB, linear TS, SquareCB): cov = A⁻¹ with A = λI + Σ φ φᵀ,
 *   mean = A⁻¹ Σ r φ. The mean is updated as θ ← θ + A⁻¹φ (r − φᵀθ)/(1 + φᵀA⁻¹φ), so `b` is never stored.
 * - Bayesian logistic regression (logistic TS): cov = Σ, the Laplace approximation of the
 *   posterior updated online one observation at a time (see logistic-ts.ts).
 *
 * Two layouts of the weights, fixed at construction:
 * - **Disjoint** (the default): one model per arm over the context, φ(x, a) = x, D = d. Nothing
 *   learned about one arm says anything about another.
 * - **Shared by group** (`groups` given; the agent's `share: tags`): one model for all arms, over
 *   φ(x, a) = [x·1{g ∈ G(a)} for each group g] ⊕ e_a, D = d·G + K. Arm a's score is
 *   xᵀ(Σ_{g∈G(a)} θ_g) + b_a: a weight vector per group (a tag), summed over the arm's groups,
 *   plus the arm's own offset. Every observation of an arm teaches every arm that shares a group
 *   with it, so variants with a tag in common learn from each other's data (the hybrid model of
 *   Li et al. 2010, with the per-arm part reduced to an offset). Its cost grows with D².
 *
 * Forgetting γ < 1 discounts the evidence at every learning step of the policy (discounted
 * bandits, Garivier & Moulines 2011; Raj & Kalyani 2017), so an observation of age k weighs γ^k.
 * Arms that are not chosen regain uncertainty, which is what lets Thompson sampling and LinUCB
 * find their way back after behaviour changes. The forgetting is *stabilized* (Kulhavý & Zarrop
 * 1993): only the evidence is discounted, never the prior, so the precision is always
 * Λ = Λ₀ + Σ γ^k w φφᵀ. Discounting the prior too (plain exponential forgetting) lets directions
 * the data no longer excites wind up to far beyond the prior's variance; Thompson sampling then
 * explores at random and the model never settles, even when nothing drifts.
 *
 * Cost: each step multiplies the precision by γ (cov ← cov/γ, the mean unchanged; applied lazily
 * from a per-model step stamp, O(D) per model per decision), which also discounts the prior;
 * the prior mass lost that way, (1 − γ^j)Λ₀ after j steps, is put back exactly once it exceeds
 * `PRIOR_REFRESH` of Λ₀ (see `restorePrior`, O(D³), every ln(1/(1 − PRIOR_REFRESH))/(1 − γ)
 * steps of the model: about 450 at γ = 0.9995). In between, the variance of a score is capped at
 * the prior's for that context, and an arm not learned for long is capped at WINDUP_LIMIT × the
 * prior variance until its next learning step restores it.
 *
 * Two shapes of the covariance, fixed at construction (`params.covariance`):
 * - **full**: a D×D block per model, as above. Deciding costs O(K·nnz²) and learning O(D²) per
 *   observation, whatever the context's sparsity; 211 features make a learning step about 100
 *   times as costly as 21.
 * - **diagonal**: D variances per model, the precision kept on its diagonal only (Chapelle & Li
 *   2011 did the same for logistic regression). Deciding and learning touch only the context's
 *   nonzero entries, O(K·nnz) and O(nnz). The learning step is the full one's with the
 *   off-diagonal entries dropped: t = diag(C)φ, θ ← θ + t (r − prediction)/(1 + w φᵀt), and
 *   C_ii ← C_ii/(1 + w φ_i² C_ii); each weight gets its own step size, shrinking as 1/(its
 *   evidence), and the prediction moves by φᵀt/(1 + wφᵀt) < 1 of the residual, as in the full
 *   step, so correlated features cannot overshoot together. What it loses is the correlation
 *   between weights (the full model's exact least squares solution): measured in docs/algorithms.md.
 * `auto` (the default) is diagonal for contexts wider than AUTO_DIAGONAL_WIDTH slots.
 */
/** Context slots above which `covariance: auto` keeps a diagonal covariance (see docs/algorithms.md, "Width"). */
export const AUTO_DIAGONAL_WIDTH = 128;
/** Largest variance, in multiples of the prior's, that lazy discounting may inflate any direction to. */
export const WINDUP_LIMIT = 1e4;
/** Share of the prior precision that may be lost to discounting before it is restored. */
export const PRIOR_REFRESH = 0.2;

export abstract class GaussianPolicy implements Policy {
  abstract readonly name: PolicyName;
  readonly arms: number;
  readonly dim: number;
  readonly params: PolicyParams;
  /** Arm groups of the shared layout; undefined for the disjoint one. */
  readonly groups: ArmGroups | undefined;
  /** Size of one model's weight vector: d (disjoint) or d·G + K (shared). */
  protected readonly size: number;
  /** Whether each model keeps only the diagonal of its covariance (see above). */
  readonly diagonal: boolean;
  /** Entries of one model's covariance: D² (full) or D (diagonal). */
  protected readonly block: number;
  protected readonly priorVariance: number;
  protected readonly cov: Float64Array;
  protected readonly mean: Float64Array;
  /** Per arm: its (forgetting-weighted) number of observations, discounted eagerly (O(K) per step). */
  protected readonly n: Float64Array;
  /** Learning steps taken (for the lazy discount) and, per model, the step its state was last brought up to. */
  protected steps = 0;
  protected readonly stamp: Float64Array;
  /** Per model, the step its prior precision was last restored at (see `restorePrior`). */
  protected readonly priorStamp: Float64Array;
  /** Scratch D×D block for `restorePrior`, allocated on first use. */
  private solver: Float64Array | undefined;
  // Scratch buffers reused by every call.
  protected readonly t: Float64Array;
  protected readonly phi: Float64Array;
  protected readonly means: Float64Array;
  protected readonly sds: Float64Array;
  protected readonly nonzero: Int32Array;
  /** The values of the context's nonzero entries, beside `nonzero`. */
  protected readonly nonzeroValue: Float64Array;
  /** One arm's φ as sparse (index, value) pairs, filled by `armFeatures`. */
  protected readonly index: Int32Array;
  protected readonly value: Float64Array;

  constructor(
    params: PolicyParams,
    arms: number,
    dim: number,
    priorVariance: number,
    state?: ArmState[],
    shared?: SharedInput,
  ) {
    this.params = params;
    this.arms = arms;
    this.dim = dim;
    this.priorVariance = priorVariance;
    this.groups = shared ? checkGroups(shared.groups, arms) : undefined;
    const models = this.groups ? 1 : arms;
    const size = this.groups ? dim * this.groups.count + arms : dim;
    this.size = size;
    this.diagonal = useDiagonal(params.covariance, dim);
    this.block = this.diagonal ? size : size * size;
    this.cov = new Float64Array(models * this.block);
    this.mean = new Float64Array(models * size);
    this.n = new Float64Array(arms);
    this.stamp = new Float64Array(models);
    this.priorStamp = new Float64Array(models);
    this.t = new Float64Array(size);
    this.phi = new Float64Array(size);
    this.means = new Float64Array(arms);
    this.sds = new Float64Array(arms);
    this.nonzero = new Int32Array(dim);
    this.nonzeroValue = new Float64Array(dim);
    const widest = this.groups ? Math.max(0, ...this.groups.of.map((g) => g.length)) : 1;
    this.index = new Int32Array(dim * widest + 1);
    this.value = new Float64Array(dim * widest + 1);
    for (let a = 0; a < arms; a++) this.n[a] = state?.[a]?.n ?? 0;
    if (this.groups) {
      if (shared?.cov && shared.mean) {
        this.cov.set(covarianceAs(shared.cov, size, this.diagonal));
        this.mean.set(shared.mean);
        this.stamp[0] = -(shared.age ?? 0);
        this.priorStamp[0] = -(shared.priorAge ?? 0);
      } else {
        this.setPrior(0);
      }
      return;
    }
    for (let a = 0; a < arms; a++) {
      const s = state?.[a];
      if (s && isGaussianArm(s)) {
        this.cov.set(covarianceAs(s.cov, size, this.diagonal), a * this.block);
        this.mean.set(s.mean, a * size);
        this.stamp[a] = -(s.age ?? 0);
        this.priorStamp[a] = -(s.priorAge ?? 0);
      } else {
        this.setPrior(a);
      }
    }
  }

  /** Model m's covariance at the prior: v·I (its diagonal alone, v everywhere, when diagonal). */
  private setPrior(m: number): void {
    if (this.diagonal) this.cov.fill(this.priorVariance, m * this.block, (m + 1) * this.block);
    else setScaledIdentity(this.cov, m * this.block, this.size, this.priorVariance);
  }

  abstract distribution(x: Context, eligible: Uint8Array, rng: Rng, out: Float64Array): void;

  /**
   * The exploration floor now: `floor` until the dimension has learned FLOOR_EVIDENCE outcomes
   * per arm, then shrinking as 1/√(observations), never below `floorMin` (see explore.ts).
   */
  protected floorNow(): number {
    return currentFloor(this.params, this.observations(), this.arms);
  }

  /** The model arm `a` is scored by. */
  protected modelOf(a: number): number {
    return this.groups ? 0 : a;
  }

  /**
   * Collects the nonzero entries of x into `nonzero` / `nonzeroValue`; returns how many. Contexts
   * are mostly one-hot blocks; a sparse one is read in O(nnz), a dense one in O(d).
   */
  protected collectNonzero(x: Context): number {
    let nnz = 0;
    if (isSparse(x)) {
      for (let p = 0; p < x.nnz; p++) {
        if (x.value[p] === 0) continue;
        this.nonzero[nnz] = x.index[p];
        this.nonzeroValue[nnz++] = x.value[p];
      }
      return nnz;
    }
    for (let i = 0; i < this.dim; i++) {
      if (x[i] === 0) continue;
      this.nonzero[nnz] = i;
      this.nonzeroValue[nnz++] = x[i];
    }
    return nnz;
  }

  /** Writes arm a's φ(x, a) into `index`/`value` from the context's `nnz` collected nonzero entries; returns its length. */
  protected armFeatures(a: number, nnz: number): number {
    const nz = this.nonzero;
    const nv = this.nonzeroValue;
    if (!this.groups) {
      for (let p = 0; p < nnz; p++) {
        this.index[p] = nz[p];
        this.value[p] = nv[p];
      }
      return nnz;
    }
    const d = this.dim;
    let k = 0;
    for (const g of this.groups.of[a]) {
      for (let p = 0; p < nnz; p++) {
        this.index[k] = g * d + nz[p];
        this.value[k++] = nv[p];
      }
    }
    this.index[k] = d * this.groups.count + a;
    this.value[k++] = 1;
    return k;
  }

  /** φᵀθ of model m over the `k` pairs in `index`/`value`. */
  protected score(m: number, k: number): number {
    const v0 = m * this.size;
    let s = 0;
    for (let p = 0; p < k; p++) s += this.value[p] * this.mean[v0 + this.index[p]];
    return s;
  }

  /** Fills `means` with each eligible arm's φᵀθ: O(K·nnz). */
  protected scoreMeans(x: Context, eligible: Uint8Array): void {
    const nnz = this.collectNonzero(x);
    for (let a = 0; a < this.arms; a++)
      this.means[a] = eligible[a] ? this.score(this.modelOf(a), this.armFeatures(a, nnz)) : 0;
  }

  /** φᵀ cov φ of model m over the `k` pairs in `index`/`value`: O(k²), or O(k) when diagonal. */
  private quadratic(m: number, k: number): number {
    const idx = this.index;
    const val = this.value;
    const m0 = m * this.block;
    let q = 0;
    if (this.diagonal) {
      for (let p = 0; p < k; p++) q += val[p] * val[p] * this.cov[m0 + idx[p]];
      return q;
    }
    const D = this.size;
    for (let p = 0; p < k; p++) {
      const row = m0 + idx[p] * D;
      let s = 0;
      for (let r = 0; r < k; r++) s += this.cov[row + idx[r]] * val[r];
      q += val[p] * s;
    }
    return q;
  }

  /** Fills `means` and `sds` (√(φᵀ cov φ)) for the eligible arms: O(K·nnz²) (O(K·nnz) diagonal), over φ's nonzero entries only. */
  protected scoreMoments(x: Context, eligible: Uint8Array): void {
    const nnz = this.collectNonzero(x);
    const val = this.value;
    const forgets = this.params.forgetting < 1;
    // one model for all arms in the shared layout: its O(D) inflation is found once, not per arm
    const sharedInflation = forgets && this.groups ? this.inflation(0) : 1;
    for (let a = 0; a < this.arms; a++) {
      if (!eligible[a]) {
        this.means[a] = 0;
        this.sds[a] = 0;
        continue;
      }
      const m = this.modelOf(a);
      const k = this.armFeatures(a, nnz);
      let q = this.quadratic(m, k);
      let norm = 0;
      for (let p = 0; p < k; p++) norm += val[p] * val[p];
      this.means[a] = this.score(m, k);
      if (forgets) q = Math.min(q * (this.groups ? sharedInflation : this.inflation(m)), this.priorVariance * norm);
      this.sds[a] = Math.sqrt(q > 0 ? q : 0);
    }
  }

  /**
   * How much model `m`'s stored covariance must be scaled up for the steps it has not been brought
   * up to: γ^−k. Directions that are no longer observed grow without a prior to hold them (as in
   * any exponentially forgetting least squares), so the factor is capped where the most uncertain
   * direction reaches WINDUP_LIMIT × the prior variance, and the variance of a score is capped at
   * the prior's for that context (see `scoreMoments`).
   */
  protected inflation(m: number): number {
    const g = this.params.forgetting;
    const k = this.steps - this.stamp[m];
    if (g >= 1 || k === 0) return 1;
    const D = this.size;
    const m0 = m * this.block;
    const stride = this.diagonal ? 1 : D + 1;
    let maxDiag = 0;
    for (let i = 0; i < D; i++) maxDiag = Math.max(maxDiag, this.cov[m0 + i * stride]);
    return Math.max(1, Math.min(Math.pow(g, -k), (WINDUP_LIMIT * this.priorVariance) / maxDiag));
  }

  /** Starts a learning step: everything is discounted once more, and `arm`'s model is brought up to date. */
  protected beginStep(arm: number): void {
    const g = this.params.forgetting;
    if (g >= 1) return;
    this.steps++;
    const model = this.modelOf(arm);
    const m = this.inflation(model);
    if (m !== 1) this.scaleCovariance(model, m);
    this.stamp[model] = this.steps;
    const lost = 1 - Math.pow(g, this.steps - this.priorStamp[model]);
    if (lost > PRIOR_REFRESH) {
      this.restorePrior(model, lost / this.priorVariance);
      this.priorStamp[model] = this.steps;
    }
    for (let a = 0; a < this.arms; a++) this.n[a] *= g;
  }

  /**
   * Adds c·I back to model m's precision: Λ ← Λ + cI, the information vector Λμ kept (the prior
   * mean is 0). With C = Λ⁻¹ that is C ← (I + cC)⁻¹C and μ ← (I + cC)⁻¹μ: one Cholesky factor of
   * I + cC (symmetric positive definite) and D + 1 solves, O(D³). (I + cC)⁻¹C is symmetric, so
   * each row of C is solved in place.
   */
  private restorePrior(m: number, c: number): boolean {
    if (this.diagonal) {
      this.restoreDiagonalPrior(m, c);
      return true;
    }
    const D = this.size;
    const m0 = m * D * D;
    const S = (this.solver ??= new Float64Array(D * D));
    for (let i = 0; i < D * D; i++) S[i] = c * this.cov[m0 + i];
    for (let i = 0; i < D; i++) S[i * D + i] += 1;
    if (!cholesky(S, 0, D)) return false; // not positive definite numerically: keep the plain discount
    for (let i = 0; i < D; i++) choleskySolve(S, 0, D, this.cov, m0 + i * D);
    // symmetrize what rounding left
    for (let i = 0; i < D; i++) {
      for (let j = i + 1; j < D; j++) {
        const v = 0.5 * (this.cov[m0 + i * D + j] + this.cov[m0 + j * D + i]);
        this.cov[m0 + i * D + j] = v;
        this.cov[m0 + j * D + i] = v;
      }
    }
    choleskySolve(S, 0, D, this.mean, m * D);
    return true;
  }

  /** `restorePrior` for a diagonal precision: each Λ_ii + c exactly, C_ii ← C_ii/(1 + cC_ii), μ_i ← μ_i/(1 + cC_ii). O(D). */
  private restoreDiagonalPrior(m: number, c: number): void {
    const c0 = m * this.block;
    const v0 = m * this.size;
    for (let i = 0; i < this.size; i++) {
      const shrink = 1 / (1 + c * this.cov[c0 + i]);
      this.cov[c0 + i] *= shrink;
      this.mean[v0 + i] *= shrink;
    }
  }

  /** Scales model m's covariance by c. */
  private scaleCovariance(m: number, c: number): void {
    const end = (m + 1) * this.block;
    for (let i = m * this.block; i < end; i++) this.cov[i] *= c;
  }

  /**
   * The power posterior (see `Policy.retain`). Model m's precision is Λ = qΛ₀ + E: the evidence E
   * and the part q of the prior that forgetting has left (1 without forgetting). The target
   * Λ₀ + share·E = share·(Λ + aI) with a = (1 − share·q) / (share·v), v the prior variance, and
   * the information vector share·Λμ gives μ ← (I + aC)⁻¹μ: one `restorePrior(m, a)` and a scaling
   * of the covariance by 1/share. O(D³) per model, once per call.
   */
  retain(share: number): void {
    checkRetainedShare(share);
    if (share === 1) return;
    const D = this.size;
    const g = this.params.forgetting;
    for (let m = 0; m < this.cov.length / this.block; m++) {
      const inflate = this.inflation(m);
      if (inflate !== 1) this.scaleCovariance(m, inflate);
      const q = g < 1 ? Math.pow(g, this.steps - this.priorStamp[m]) : 1;
      // share 0, or (numerically) no factor of I + aC: the prior
      const prior = share === 0 || !this.restorePrior(m, (1 - share * q) / (share * this.priorVariance));
      if (prior) {
        this.setPrior(m);
        this.mean.fill(0, m * D, (m + 1) * D);
      } else {
        this.scaleCovariance(m, 1 / share);
      }
      this.stamp[m] = this.steps;
      this.priorStamp[m] = this.steps;
      // the counts of the arms this model scores follow it
      for (let a = 0; a < this.arms; a++) if (this.modelOf(a) === m) this.n[a] *= prior ? 0 : share;
    }
  }

  /** The model's prediction at score z: z itself for squared loss. */
  protected predict(z: number): number {
    return z;
  }

  /** The loss's curvature (Fisher weight) at score z: 1 for squared loss. */
  protected curvature(_z: number): number {
    return 1;
  }

  /**
   * One observation: a Sherman–Morrison update of cov with weight w = the loss's curvature, and a
   * step of the mean, θ ← θ + cov_new φ (r − prediction). For squared loss that is exact
   * recursive least squares; for the logistic loss it is one Newton step (see logistic-ts.ts).
   * cov_new φ = cov φ / (1 + w φᵀcov φ), so one product suffices.
   */
  update(x: Context, arm: number, reward: number, _probability: number): void {
    this.beginStep(arm);
    const m = this.modelOf(arm);
    const k = this.armFeatures(arm, this.collectNonzero(x));
    if (this.diagonal) this.learnDiagonal(m, k, reward);
    else this.learnFull(m, k, reward);
    this.n[arm] += 1;
  }

  /** The diagonal learning step over φ's `k` nonzero entries: O(k) (see the class comment). */
  private learnDiagonal(m: number, k: number, reward: number): void {
    const z = this.score(m, k);
    const w = this.curvature(z);
    const c0 = m * this.block;
    const v0 = m * this.size;
    let q = 0;
    for (let p = 0; p < k; p++) {
      this.t[p] = this.cov[c0 + this.index[p]] * this.value[p];
      q += this.value[p] * this.t[p];
    }
    const step = (reward - this.predict(z)) / (1 + w * q);
    for (let p = 0; p < k; p++) {
      const i = this.index[p];
      this.mean[v0 + i] += this.t[p] * step;
      this.cov[c0 + i] /= 1 + w * this.value[p] * this.t[p];
    }
  }

  /** The full learning step: a Sherman–Morrison update and the mean's step, O(D·k + D²). */
  private learnFull(m: number, k: number, reward: number): void {
    const D = this.size;
    const z = this.score(m, k);
    // t = cov·φ over φ's nonzero entries: O(D·k)
    const m0 = m * D * D;
    for (let i = 0; i < D; i++) {
      const row = m0 + i * D;
      let s = 0;
      for (let p = 0; p < k; p++) s += this.cov[row + this.index[p]] * this.value[p];
      this.t[i] = s;
    }
    for (let p = 0; p < k; p++) this.phi[this.index[p]] = this.value[p];
    const denom = shermanMorrison(this.cov, m0, this.t, this.phi, this.curvature(z), D);
    for (let p = 0; p < k; p++) this.phi[this.index[p]] = 0;
    const step = (reward - this.predict(z)) / denom;
    const v0 = m * D;
    for (let i = 0; i < D; i++) this.mean[v0 + i] += this.t[i] * step;
  }

  /** Maps a raw score to an estimated reward and its sd (identity for ridge models). */
  protected toReward(mean: number, sd: number): { mean: number; sd: number } {
    return { mean, sd: sd * 0.5 };
  }

  expected(x: Context, arm: number): number {
    const k = this.armFeatures(arm, this.collectNonzero(x));
    return this.toReward(this.score(this.modelOf(arm), k), 0).mean;
  }

  /**
   * Each eligible arm's estimate, uncertainty and per-feature contributions x_i·w_i, where w is
   * the arm's effective weight on context feature i (its own, or the sum over its groups; an arm's
   * own offset in the shared layout is in the estimate, not in the contributions).
   */
  explain(x: Context, eligible: Uint8Array): ArmExplanation[] {
    this.scoreMoments(x, eligible);
    const d = this.dim;
    const nnz = this.collectNonzero(x);
    const result: ArmExplanation[] = [];
    for (let a = 0; a < this.arms; a++) {
      if (!eligible[a]) continue;
      const contributions = new Float64Array(d);
      const v0 = this.modelOf(a) * this.size;
      for (const g of this.groups ? this.groups.of[a] : [0]) {
        for (let p = 0; p < nnz; p++) {
          const i = this.nonzero[p];
          contributions[i] += this.nonzeroValue[p] * this.mean[v0 + g * d + i];
        }
      }
      result.push({ arm: a, ...this.toReward(this.means[a], this.sds[a]), contributions });
    }
    return result;
  }

  /**
   * The state as it is held: covariances not yet discounted for the last `age` steps, so that a
   * restored policy discounts them with the same arithmetic and decides identically.
   */
  toJSON(): PolicyState {
    const D = this.size;
    const base = { name: this.name, version: 1 as const, dim: this.dim, params: { ...this.params } };
    const ages = (m: number) => ({ age: this.steps - this.stamp[m], priorAge: this.steps - this.priorStamp[m] });
    if (this.groups) {
      const shared: SharedState = {
        groups: this.groups.of.map((g) => [...g]),
        groupCount: this.groups.count,
        cov: Array.from(this.cov),
        mean: Array.from(this.mean),
        ...ages(0),
      };
      return { ...base, arms: Array.from(this.n, (n) => ({ n })), shared };
    }
    const arms: ArmState[] = [];
    for (let a = 0; a < this.arms; a++) {
      arms.push({
        n: this.n[a],
        cov: Array.from(this.cov.subarray(a * this.block, (a + 1) * this.block)),
        mean: Array.from(this.mean.subarray(a * D, (a + 1) * D)),
        ...ages(a),
      });
    }
    return { ...base, arms };
  }

  observations(): number {
    let s = 0;
    for (let a = 0; a < this.arms; a++) s += this.n[a];
    return s;
  }
}

/** The shared layout of a Gaussian policy: its groups, and its saved weights when restored. */
export interface SharedInput {
  groups: ArmGroups;
  cov?: ArrayLike<number>;
  mean?: ArrayLike<number>;
  age?: number;
  priorAge?: number;
}

/** Whether a context of `dim` slots gets a diagonal covariance under `covariance`. */
export function useDiagonal(covariance: PolicyParams['covariance'], dim: number): boolean {
  return covariance === 'diagonal' || (covariance !== 'full' && dim > AUTO_DIAGONAL_WIDTH);
}

/**
 * A saved covariance in the layout asked for: as it is when it already is; the diagonal of a
 * full block (each weight's marginal variance); or a full block with a saved diagonal on its
 * diagonal (no correlation, which is what the diagonal belief held). A config that switches
 * `covariance` keeps what was learned that way.
 */
function covarianceAs(cov: ArrayLike<number>, size: number, diagonal: boolean): ArrayLike<number> {
  const isFull = cov.length === size * size && size > 1;
  if (isFull !== diagonal) return cov;
  if (diagonal) return Float64Array.from({ length: size }, (_, i) => cov[i * size + i]);
  const full = new Float64Array(size * size);
  for (let i = 0; i < size; i++) full[i * size + i] = cov[i];
  return full;
}

function checkGroups(groups: ArmGroups, arms: number): ArmGroups {
  if (groups.of.length !== arms) throw new Error(`arm groups: ${groups.of.length} lists for ${arms} arms`);
  for (const list of groups.of) {
    if (list.length === 0) throw new Error('arm groups: every arm needs at least one group');
    for (const g of list)
      if (!Number.isInteger(g) || g < 0 || g >= groups.count)
        throw new Error(`arm groups: group ${g} is outside 0..${groups.count - 1}`);
  }
  return groups;
}
