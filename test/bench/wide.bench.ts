import {
  createPolicy,
  Rng,
  sampleArm,
  sparseContext,
  pushEntry,
  type Context,
  type PolicyName,
} from '../../plugin/bandit/index.ts';
import { summarize, type Timing } from './stats.ts';

/**
 * Decide-and-learn cost of the linear policies as contexts widen: 21 features (an intercept and
 * 20 customer traits), 211 (the same with every pairwise cross of the traits) and 2,000, over 8
 * arms. Dense contexts have every slot nonzero; sparse ones have 21 nonzero slots at any width
 * (one-hot blocks: hashed traits and crosses of categoricals). One step is one decision (the
 * distribution and the sampled arm) and one learning step. Each figure is printed beside its floor
 * measured in the same run: the arithmetic any linear policy must do, a score (dot product over
 * the nonzero entries) per arm and one update of the chosen arm's weights over them. Each line
 * ends with the cost's ratio to the same policy and variant at 21 features.
 */

const ARMS = 8;
const TRAITS = 20;
const WIDTHS = [21, 211, 2000] as const;
const CONTEXTS = 256;
const BATCH = 16;
const POLICIES: PolicyName[] = ['squarecb', 'logistic-ts', 'lin-ts', 'linucb'];
const VARIANTS = ['full', 'diagonal'] as const;
/** A full covariance of 2,000 slots is 32 MB per arm and 4 M operations per learning step: not run. */
const FULL_LIMIT = 211;

/** Dense contexts: 20 traits in [0, 1], and at 211 their pairwise products; at 2,000, 1,999 values. */
function denseContexts(width: number, rng: Rng): Float64Array[] {
  return Array.from({ length: CONTEXTS }, () => {
    const x = new Float64Array(width);
    x[0] = 1;
    const traits = Array.from({ length: TRAITS }, () => rng.next());
    if (width === 211) {
      traits.forEach((t, i) => (x[1 + i] = t));
      let k = 1 + TRAITS;
      for (let i = 0; i < TRAITS; i++) for (let j = i + 1; j < TRAITS; j++) x[k++] = traits[i] * traits[j];
    } else {
      for (let i = 1; i < width; i++) x[i] = i <= TRAITS ? traits[i - 1] : rng.next();
    }
    return x;
  });
}

/** Sparse contexts: the intercept and one slot in each of 20 equal one-hot blocks. */
function sparseContexts(width: number, rng: Rng): Context[] {
  const block = Math.floor((width - 1) / TRAITS);
  return Array.from({ length: CONTEXTS }, () => {
    const x = sparseContext(width, TRAITS + 1);
    pushEntry(x, 0, 1);
    for (let b = 0; b < TRAITS; b++) pushEntry(x, 1 + b * block + rng.int(block), 1);
    return x;
  });
}

/** Times `steps` batches of BATCH calls of `step`; per-call µs. */
function timeSteps(step: (i: number) => void, steps: number): Timing {
  for (let i = 0; i < steps; i++) step(i);
  const samples = new Float64Array(steps);
  for (let s = 0; s < steps; s++) {
    const t0 = process.hrtime.bigint();
    for (let b = 0; b < BATCH; b++) step(s * BATCH + b);
    samples[s] = Number(process.hrtime.bigint() - t0) / 1000 / BATCH;
  }
  return summarize(samples);
}

/** One decide-and-learn step of a policy, cycling through the contexts. */
function policyStep(kind: PolicyName, variant: (typeof VARIANTS)[number], width: number, contexts: Context[]) {
  const policy = createPolicy({ kind, floor: 0.05, forgetting: 1, covariance: variant }, ARMS, width);
  const rng = new Rng(`wide/${kind}/${variant}/${width}`);
  const eligible = new Uint8Array(ARMS).fill(1);
  const out = new Float64Array(ARMS);
  return (i: number) => {
    const x = contexts[i % CONTEXTS];
    policy.distribution(x, eligible, rng, out);
    const arm = sampleArm(out, rng);
    policy.update(x, arm, rng.next() < 0.3 ? 1 : 0, out[arm]);
  };
}

/** The floor: per arm a dot product over the nonzero entries, and one update of one arm's weights over them. */
function floorStep(width: number, contexts: Context[]) {
  const weights = new Float64Array(ARMS * width).fill(0.01);
  const scores = new Float64Array(ARMS);
  return (i: number) => {
    const x = contexts[i % CONTEXTS];
    const sparse = !(x instanceof Float64Array);
    const nnz = sparse ? x.nnz : width;
    for (let a = 0; a < ARMS; a++) {
      let s = 0;
      for (let p = 0; p < nnz; p++)
        s += sparse ? x.value[p] * weights[a * width + x.index[p]] : x[p] * weights[a * width + p];
      scores[a] = s;
    }
    const a0 = (i % ARMS) * width;
    const step = 0.01 * (1 - scores[i % ARMS]);
    for (let p = 0; p < nnz; p++) {
      if (sparse) weights[a0 + x.index[p]] += step * x.value[p];
      else weights[a0 + p] += step * x[p];
    }
  };
}

export function benchWide(): string[] {
  const lines = [
    `wide: ${ARMS} arms; one decision and one learning step per call, median of batches of ${BATCH}; floor: a score per arm and one update over the nonzero entries`,
  ];
  const rng = new Rng('wide-contexts');
  const contexts = {
    dense: Object.fromEntries(WIDTHS.map((w) => [w, denseContexts(w, rng)])),
    sparse: Object.fromEntries(WIDTHS.map((w) => [w, sparseContexts(w, rng)])),
  };
  for (const layout of ['dense', 'sparse'] as const) {
    const floors = Object.fromEntries(WIDTHS.map((w) => [w, timeSteps(floorStep(w, contexts[layout][w]), 400)]));
    for (const w of WIDTHS) lines.push(`wide: floor ${layout} ${w} features: median ${floors[w].median.toFixed(2)} µs`);
    for (const kind of POLICIES) {
      for (const variant of VARIANTS) {
        const at: Record<number, Timing> = {};
        for (const w of WIDTHS) {
          if (variant === 'full' && w > FULL_LIMIT) continue;
          at[w] = timeSteps(policyStep(kind, variant, w, contexts[layout][w]), w > 1000 ? 100 : 300);
          lines.push(
            `wide: ${kind} ${variant} ${layout} ${w} features: median ${at[w].median.toFixed(2)} µs, ${(at[w].median / floors[w].median).toFixed(1)} × its floor`,
          );
        }
        const name = layout === 'dense' ? variant : `${variant}/sparse`;
        for (const w of WIDTHS.slice(1))
          if (at[w])
            lines.push(`wide: ${kind} ${name} ${w}/21 cost ratio ${(at[w].median / at[21].median).toFixed(1)}`);
      }
    }
  }
  return lines;
}
