/**
 * Sparse contexts: only the nonzero entries of a context, as (index, value) pairs. Marketing
 * contexts are mostly one-hot blocks (categoricals, hashed buckets, earlier choices, their
 * crosses), so a context of thousands of slots has a few dozen nonzero entries; a policy that
 * takes them as pairs decides and learns in time linear in those, never in the width.
 */

/** `nnz` (index, value) pairs over `dim` slots. Indices are unique; their order is free. */
export interface SparseContext {
  readonly dim: number;
  nnz: number;
  readonly index: Int32Array;
  readonly value: Float64Array;
}

/** What a policy takes as a context: dense (every slot) or sparse (the nonzero ones). */
export type Context = Float64Array | SparseContext;

/** An empty sparse context of `dim` slots with room for `capacity` nonzero entries. */
export function sparseContext(dim: number, capacity: number): SparseContext {
  return { dim, nnz: 0, index: new Int32Array(capacity), value: new Float64Array(capacity) };
}

export function isSparse(x: Context): x is SparseContext {
  return !(x instanceof Float64Array);
}

/** Number of slots of a context. */
export function contextDim(x: Context): number {
  return isSparse(x) ? x.dim : x.length;
}

/** Appends slot `i` = `v` to a sparse context (zeros are skipped). */
export function pushEntry(x: SparseContext, i: number, v: number): void {
  if (v === 0) return;
  x.index[x.nnz] = i;
  x.value[x.nnz++] = v;
}

/** The dense form of a context (a copy for a dense one). */
export function toDense(x: Context): Float64Array {
  if (!isSparse(x)) return Float64Array.from(x);
  const out = new Float64Array(x.dim);
  for (let p = 0; p < x.nnz; p++) out[x.index[p]] = x.value[p];
  return out;
}

/** The sparse form of a dense context. */
export function toSparse(x: Float64Array): SparseContext {
  const out = sparseContext(x.length, x.length);
  for (let i = 0; i < x.length; i++) pushEntry(out, i, x[i]);
  return out;
}
