import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AUTO_DIAGONAL_WIDTH,
  createPolicy,
  currentFloor,
  FLOOR_EVIDENCE,
  isGaussianArm,
  remapPolicy,
  Rng,
  sampleArm,
  toSparse,
  type PolicyParams,
} from '../../plugin/bandit/index.ts';
import { CONTEXTUAL_CASES } from './cases.ts';

const title = (p: PolicyParams) => `${p.kind} (${p.covariance ?? 'auto'} covariance)`;

/** A context of `dim` slots: the intercept, a few one-hot slots and a numeric value, mostly zeros. */
function wideContext(rng: Rng, dim: number): Float64Array {
  const x = new Float64Array(dim);
  x[0] = 1;
  for (let b = 0; b < 3; b++) x[1 + rng.int(dim - 1)] = 1;
  x[1 + rng.int(dim - 1)] = rng.next();
  return x;
}

describe.each(CONTEXTUAL_CASES.map((p) => [title(p), p] as const))('%s at any width', (_name, params) => {
  it('decides and learns exactly the same from a sparse context as from its dense form', () => {
    const dense = createPolicy(params, 4, 40);
    const sparse = createPolicy(params, 4, 40);
    const a = new Rng('same');
    const b = new Rng('same');
    const eligible = Uint8Array.of(1, 1, 0, 1);
    for (let t = 0; t < 200; t++) {
      const x = wideContext(new Rng(`x${t}`), 40);
      const pa = new Float64Array(4);
      const pb = new Float64Array(4);
      dense.distribution(x, eligible, a, pa);
      sparse.distribution(toSparse(x), eligible, b, pb);
      expect(Array.from(pb)).toEqual(Array.from(pa));
      const arm = sampleArm(pa, a);
      expect(sampleArm(pb, b)).toBe(arm);
      dense.update(x, arm, t % 4 === 0 ? 1 : 0, pa[arm]);
      sparse.update(toSparse(x), arm, t % 4 === 0 ? 1 : 0, pb[arm]);
    }
    expect(sparse.toJSON()).toEqual(dense.toJSON());
    const x = wideContext(new Rng('explain'), 40);
    expect(sparse.explain(toSparse(x), eligible)).toEqual(dense.explain(x, eligible));
  });
});

describe('covariance variants', () => {
  it('keeps one variance per weight when diagonal, a D×D block when full, and chooses diagonal above the documented width when auto', () => {
    const params: PolicyParams = { kind: 'squarecb', floor: 0.05, forgetting: 1 };
    const sizeOf = (p: PolicyParams, dim: number) => {
      const arm = createPolicy(p, 2, dim).toJSON().arms[0];
      return isGaussianArm(arm) ? arm.cov.length : -1;
    };
    expect(sizeOf({ ...params, covariance: 'diagonal' }, 30)).toBe(30);
    expect(sizeOf({ ...params, covariance: 'full' }, 300)).toBe(300 * 300);
    expect(sizeOf(params, AUTO_DIAGONAL_WIDTH)).toBe(AUTO_DIAGONAL_WIDTH ** 2);
    expect(sizeOf(params, AUTO_DIAGONAL_WIDTH + 1)).toBe(AUTO_DIAGONAL_WIDTH + 1);
  });

  it.each(['squarecb', 'logistic-ts'] as const)(
    '%s: the diagonal learning step is the full one when no two features are ever on together',
    (kind) => {
      const full = createPolicy({ kind, floor: 0.05, forgetting: 1, covariance: 'full' }, 3, 5);
      const diagonal = createPolicy({ kind, floor: 0.05, forgetting: 1, covariance: 'diagonal' }, 3, 5);
      const rng = new Rng('one-hot');
      for (let t = 0; t < 300; t++) {
        const x = new Float64Array(5);
        x[rng.int(5)] = 0.5 + rng.next();
        const arm = rng.int(3);
        const reward = rng.bernoulli(0.2 + 0.2 * arm);
        full.update(x, arm, reward, 1 / 3);
        diagonal.update(x, arm, reward, 1 / 3);
      }
      const f = full.toJSON().arms;
      const d = diagonal.toJSON().arms;
      for (let a = 0; a < 3; a++) {
        const fa = f[a];
        const da = d[a];
        if (!isGaussianArm(fa) || !isGaussianArm(da)) throw new Error('a Gaussian arm');
        da.mean.forEach((m, i) => expect(m).toBeCloseTo(fa.mean[i], 12));
        da.cov.forEach((v, i) => expect(v).toBeCloseTo(fa.cov[i * 5 + i], 12));
      }
    },
  );

  it('carries the means and variances over when a config switches a full covariance to a diagonal one, and back', () => {
    const full = createPolicy({ kind: 'lin-ts', floor: 0.05, forgetting: 1, covariance: 'full' }, 2, 4);
    const rng = new Rng('switch');
    for (let t = 0; t < 100; t++)
      full.update(Float64Array.of(1, rng.next(), rng.next(), 0), rng.int(2), rng.next(), 0.5);
    const same = [0, 1, 2, 3];
    const diagonal = remapPolicy(full, [0, 1], same, { ...full.params, covariance: 'diagonal' });
    const back = remapPolicy(diagonal, [0, 1], same, full.params);
    const [f, d, b] = [full, diagonal, back].map((p) => p.toJSON().arms[1]);
    if (!isGaussianArm(f) || !isGaussianArm(d) || !isGaussianArm(b)) throw new Error('a Gaussian arm');
    expect(d.mean).toEqual(f.mean);
    expect(d.cov).toEqual([0, 1, 2, 3].map((i) => f.cov[i * 4 + i]));
    expect(b.mean).toEqual(f.mean);
    expect(b.cov).toEqual(f.cov.map((v, k) => (k % 5 === 0 ? v : 0)));
  });
});

describe('a floor that shrinks with evidence', () => {
  it('stays at the floor until FLOOR_EVIDENCE outcomes per arm, then never rises and never falls below floorMin', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { minLength: 2, maxLength: 20 }),
        (floor, share, arms, seen) => {
          const floorMin = floor * share;
          const sorted = [...seen].sort((a, b) => a - b);
          const floors = sorted.map((n) => currentFloor({ floor, floorMin }, n, arms));
          floors.forEach((f, i) => {
            expect(f).toBeGreaterThanOrEqual(floorMin);
            expect(f).toBeLessThanOrEqual(floor);
            if (sorted[i] <= FLOOR_EVIDENCE * arms) expect(f).toBe(floor);
            if (i > 0) expect(f).toBeLessThanOrEqual(floors[i - 1]);
          });
          expect(currentFloor({ floor }, sorted.at(-1)!, arms)).toBe(floor);
        },
      ),
    );
  });

  it('halves at four times FLOOR_EVIDENCE outcomes per arm (1/√n)', () => {
    expect(currentFloor({ floor: 0.08, floorMin: 0.01 }, 4 * FLOOR_EVIDENCE * 5, 5)).toBeCloseTo(0.04, 12);
  });

  it.each(['squarecb', 'logistic-ts', 'beta-ts'] as const)(
    '%s: once it has learned, its least likely arm is below floor/K and not below floorMin/K',
    (kind) => {
      const policy = createPolicy({ kind, floor: 0.5, floorMin: 0.02, forgetting: 1, draws: 50 }, 4, 1);
      const rng = new Rng('floor');
      const x = Float64Array.of(1);
      for (let t = 0; t < 20 * FLOOR_EVIDENCE * 4; t++) {
        const arm = rng.int(4);
        policy.update(x, arm, rng.bernoulli(arm === 0 ? 0.9 : 0.1), 0.25);
      }
      const out = new Float64Array(4);
      policy.distribution(x, new Uint8Array(4).fill(1), rng, out);
      const least = Math.min(...out);
      expect(least).toBeLessThan(0.5 / 4);
      expect(least).toBeGreaterThanOrEqual(0.02 / 4 - 1e-12);
    },
  );
});
