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
export function shermanMorrison(M: Float64Array, m0: number, t: Float64Array, x: Float64Array, w: number, d: number): number {
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
