/** The few dense kernels the linear policies need, over row-major d×d blocks inside one array. */

/** x · y over d entries, y starting at `y0`. */
export function dot(x: Float64Array, y: Float64Array, y0: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += x[i] * y[y0 + i];
  return s;
}

/**
 * Sherman–Morrison: replaces the inverse block M = A⁻¹ with (A + w·x xᵀ)⁻¹ given t = M x.
 * Returns the denominator 1 + w·xᵀM x.
 */
export function shermanMorrison(
  M: Float64Array,
  m0: number,
  t: Float64Array,
  x: Float64Array,
  w: number,
  d: number,
): number {
  let q = 0;
  for (let i = 0; i < d; i++) q += x[i] * t[i];
  const denom = 1 + w * q;
  const c = w / denom;
  for (let i = 0; i < d; i++) {
    const ci = c * t[i];
    const row = m0 + i * d;
    for (let j = 0; j < d; j++) M[row + j] -= ci * t[j];
  }
  return denom;
}

/** Scales the d×d block at m0 by c. */
export function scaleBlock(M: Float64Array, m0: number, d: number, c: number): void {
  const end = m0 + d * d;
  for (let i = m0; i < end; i++) M[i] *= c;
}

/** Writes s·I into the d×d block at m0. */
export function setScaledIdentity(M: Float64Array, m0: number, d: number, s: number): void {
  M.fill(0, m0, m0 + d * d);
  for (let i = 0; i < d; i++) M[m0 + i * d + i] = s;
}

/**
 * Cholesky factorization A = L Lᵀ of the symmetric positive definite d×d block at m0, in place:
 * the lower triangle becomes L (the upper is left as it was). Returns false if A is not
 * positive definite. O(d³/3).
 */
export function cholesky(M: Float64Array, m0: number, d: number): boolean {
  for (let j = 0; j < d; j++) {
    const rj = m0 + j * d;
    let s = M[rj + j];
    for (let k = 0; k < j; k++) s -= M[rj + k] * M[rj + k];
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    M[rj + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      const ri = m0 + i * d;
      let t = M[ri + j];
      for (let k = 0; k < j; k++) t -= M[ri + k] * M[rj + k];
      M[ri + j] = t / ljj;
    }
  }
  return true;
}

/** Solves L Lᵀ y = b in place (b: d entries from b0, stride `step`), L from `cholesky` at l0. O(d²). */
export function choleskySolve(L: Float64Array, l0: number, d: number, b: Float64Array, b0: number, step = 1): void {
  for (let i = 0; i < d; i++) {
    const ri = l0 + i * d;
    let s = b[b0 + i * step];
    for (let k = 0; k < i; k++) s -= L[ri + k] * b[b0 + k * step];
    b[b0 + i * step] = s / L[ri + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    let s = b[b0 + i * step];
    for (let k = i + 1; k < d; k++) s -= L[l0 + k * d + i] * b[b0 + k * step];
    b[b0 + i * step] = s / L[l0 + i * d + i];
  }
}
