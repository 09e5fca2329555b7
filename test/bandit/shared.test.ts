import { describe, expect, it } from 'vitest';
import {
  createPolicy,
  PRIOR_REFRESH,
  remapPolicy,
  Rng,
  type ArmGroups,
  type PolicyParams,
} from '../../plugin/bandit/index.ts';
import { expectClose } from '../helpers/index.ts';
import { CONTEXTUAL_CASES } from './cases.ts';
import { oneHotContext, play } from './play.ts';

/** Four arms over two tags: arms 0 and 1 share tag 0, arms 2 and 3 tag 1; arm 1 also has tag 2. */
const GROUPS: ArmGroups = { count: 3, of: [[0], [0, 2], [1], [1]] };

function oneHot(group: number, dim = 4): Float64Array {
  const x = new Float64Array(dim);
  x[0] = 1;
  x[1 + group] = 1;
  return x;
}

describe.each(
  CONTEXTUAL_CASES.map((p) => [p.covariance ? `${p.kind} (${p.covariance} covariance)` : p.kind, p] as const),
)('%s, shared by tags', (_name, params) => {
  it('teaches an arm what was learned about another arm with the same tag', () => {
    const shared = createPolicy(params, 4, 4, GROUPS);
    const disjoint = createPolicy(params, 4, 4);
    const rng = new Rng(`transfer-${params.kind}`);
    // only arms 0 and 2 are ever played: in context 0 tag 0 converts, in context 1 tag 1 does
    for (let t = 0; t < 600; t++) {
      const g = rng.int(2);
      const arm = rng.int(2) * 2;
      const reward = rng.bernoulli((arm === 0) === (g === 0) ? 0.7 : 0.1);
      shared.update(oneHot(g), arm, reward, 0.5);
      disjoint.update(oneHot(g), arm, reward, 0.5);
    }
    const all = Uint8Array.of(1, 1, 1, 1);
    const mean = (policy: typeof shared, g: number, arm: number) => policy.explain(oneHot(g), all)[arm].mean;
    // arm 1 was never played, but shares tag 0 with arm 0; arm 3 shares tag 1 with arm 2
    expect(mean(shared, 0, 1)).toBeGreaterThan(mean(shared, 0, 3));
    expect(mean(shared, 1, 3)).toBeGreaterThan(mean(shared, 1, 1));
    // one model per arm knows nothing about arms 1 and 3
    expect(mean(disjoint, 0, 1)).toBe(mean(disjoint, 0, 3));
  });

  it('learns a different best arm for each of three contexts when every arm is its own group', () => {
    const policy = createPolicy(params, 3, 4, { count: 3, of: [[0], [1], [2]] });
    const last = play(policy, 6000, `three-arm-shared-${params.kind}`, oneHotContext, (g, arm) =>
      arm === g ? 0.6 : 0.2,
    ).slice(-1500);
    expect(last.filter((h) => h.arm === h.group).length / last.length).toBeGreaterThan(0.75);
  });
});

describe('remapPolicy, shared by tags', () => {
  const params: PolicyParams = { kind: 'linucb', floor: 0, forgetting: 1, alpha: 1, lambda: 1 };
  const trained = () => {
    const policy = createPolicy(params, 4, 4, GROUPS);
    const rng = new Rng('remap-shared');
    for (let t = 0; t < 300; t++) {
      const g = rng.int(2);
      const arm = rng.int(4);
      policy.update(oneHot(g), arm, arm < 2 === (g === 0) ? 0.8 : 0.1, 0.25);
    }
    return policy;
  };

  it('keeps the arms and tags that remain and starts a new arm with a new tag at the prior', () => {
    const policy = trained();
    // new order: arm 3, arm 0, a new arm with a new tag; arms 1 and 2 and tag 2 are gone
    const grown = remapPolicy(policy, [3, 0, -1], [0, 1, 2, 3], params, {
      of: { count: 3, of: [[1], [0], [2]] },
      from: [0, 1, -1],
    });
    for (const g of [0, 1]) {
      const before = policy.explain(oneHot(g), Uint8Array.of(1, 1, 1, 1));
      const after = grown.explain(oneHot(g), Uint8Array.of(1, 1, 1));
      expectClose(after[0].mean, before[3].mean);
      expectClose(after[1].mean, before[0].mean);
      expect(after[2].mean).toBe(0);
    }
    expect(grown.toJSON().arms.map((a) => a.n)).toEqual([policy.toJSON().arms[3].n, policy.toJSON().arms[0].n, 0]);
  });

  it('starts from the prior when the layout switches between shared and disjoint', () => {
    const policy = trained();
    const disjoint = remapPolicy(policy, [0, 1, 2, 3], [0, 1, 2, 3], params);
    expect(disjoint.toJSON().shared).toBeUndefined();
    expect(disjoint.explain(oneHot(0), Uint8Array.of(1, 1, 1, 1)).map((e) => e.mean)).toEqual([0, 0, 0, 0]);
  });
});

describe('stabilized forgetting', () => {
  /**
   * Exact ridge regression with forgetting of the evidence only: A = λI + Σ γ^(t−s) w_s x xᵀ,
   * b = Σ γ^(t−s) w_s r x, each observation weighed w_s (1 unless `weight` says otherwise).
   */
  function exact(
    xs: Float64Array[],
    rs: number[],
    gamma: number,
    lambda: number,
    weight: (t: number) => number = () => 1,
  ): { cov: number[][]; mean: number[] } {
    const d = xs[0].length;
    const A = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? lambda : 0)));
    const b = new Array<number>(d).fill(0);
    xs.forEach((x, t) => {
      const w = weight(t);
      for (let i = 0; i < d; i++) {
        b[i] = gamma * b[i] + w * rs[t] * x[i];
        for (let j = 0; j < d; j++)
          A[i][j] = (i === j ? lambda : 0) + gamma * (A[i][j] - (i === j ? lambda : 0)) + w * x[i] * x[j];
      }
    });
    // Gauss–Jordan inverse
    const M = A.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
    for (let i = 0; i < d; i++) {
      const p = M[i][i];
      for (let j = 0; j < 2 * d; j++) M[i][j] /= p;
      for (let k = 0; k < d; k++) {
        if (k === i) continue;
        const f = M[k][i];
        for (let j = 0; j < 2 * d; j++) M[k][j] -= f * M[i][j];
      }
    }
    const cov = M.map((row) => row.slice(d));
    return { cov, mean: cov.map((row) => row.reduce((s, v, j) => s + v * b[j], 0)) };
  }

  it('matches exact forgetting of the evidence, and a direction no longer observed returns to the prior instead of winding up', () => {
    const gamma = 0.99;
    const lambda = 2;
    const policy = createPolicy({ kind: 'lin-ts', floor: 0, forgetting: gamma, v: 1, lambda, draws: 10 }, 1, 3);
    const rng = new Rng('stabilized');
    const xs: Float64Array[] = [];
    const rs: number[] = [];
    for (let t = 0; t < 3000; t++) {
      // feature 2 is observed for the first 500 steps only
      const x = Float64Array.of(1, rng.next() < 0.3 ? 1 : 0, t < 500 && rng.next() < 0.5 ? 1 : 0);
      const r = rng.bernoulli(0.2 + 0.5 * x[1]);
      policy.update(x, 0, r, 1);
      xs.push(x);
      rs.push(r);
    }
    const truth = exact(xs, rs, gamma, lambda);
    const state = policy.toJSON().arms[0] as { cov: number[]; mean: number[] };
    // the prior mass is restored whenever more than PRIOR_REFRESH of it has been discounted away
    for (let i = 0; i < 3; i++) {
      expect(state.cov[i * 3 + i]).toBeGreaterThanOrEqual(truth.cov[i][i] * (1 - 1e-9));
      expect(state.cov[i * 3 + i]).toBeLessThanOrEqual(truth.cov[i][i] / (1 - PRIOR_REFRESH));
      expect(Math.abs(state.mean[i] - truth.mean[i])).toBeLessThan(0.05);
    }
    // feature 2 was last seen 2,500 steps (γ^2500 ≈ 1e-11) ago: back at the prior variance 1/λ, not 10⁴ times it
    expect(state.cov[2 * 3 + 2]).toBeLessThanOrEqual(1 / lambda / (1 - PRIOR_REFRESH));
    expect(state.cov[2 * 3 + 2]).toBeGreaterThan(0.9 / lambda);
  });

  it.each([
    ['one model per arm', 1, false],
    ['one model per arm, with forgetting', 0.99, false],
    ['one model shared by both arms, with forgetting', 0.99, true],
  ] as const)(
    'retain(share) is the power posterior: every earlier observation weighs share, the prior stays whole (%s)',
    (_title, gamma, shared) => {
      const lambda = 2;
      const share = 0.1;
      // with one group, the shared model's φ(x, a) = x ⊕ e_a (see gaussian.ts)
      const groups: ArmGroups = { count: 1, of: [[0], [0]] };
      const policy = createPolicy(
        { kind: 'lin-ts', floor: 0, forgetting: gamma, v: 1, lambda, draws: 10 },
        2,
        3,
        shared ? groups : undefined,
      );
      const rng = new Rng('retain');
      const models = shared ? 1 : 2;
      // per model, what it saw at every learning step of the policy (zeros when another model learned)
      const seen: Float64Array[][] = Array.from({ length: models }, () => []);
      const rs: number[] = [];
      const observe = (arm: number) => {
        const x = Float64Array.of(1, rng.next() < 0.3 ? 1 : 0, rng.next() < 0.5 ? 1 : 0);
        const r = rng.bernoulli(0.2 + 0.5 * x[1] - 0.1 * x[2] + 0.1 * arm);
        policy.update(x, arm, r, 0.5);
        for (let m = 0; m < models; m++)
          seen[m].push(
            shared ? Float64Array.of(...x, arm === 0 ? 1 : 0, arm === 1 ? 1 : 0) : m === arm ? x : new Float64Array(3),
          );
        rs.push(r);
      };
      // arm 1 is not chosen for the last 300 steps before retain, so its model has discounts pending
      for (let t = 0; t < 700; t++) observe(t < 400 ? rng.int(2) : 0);
      const learned = policy.observations();
      policy.retain(share);
      expect(policy.observations()).toBeCloseTo(share * learned, 9);
      const state = () => {
        const json = policy.toJSON();
        const list = shared ? [json.shared!] : (json.arms as { cov: number[]; mean: number[]; age?: number }[]);
        // a forgetting policy stores each covariance γ^age short of the current one
        return list.map((m) => ({ ...m, inflation: Math.pow(gamma, -(m.age ?? 0)) }));
      };
      const weight = (t: number) => (t < 700 ? share : 1);
      const exactly = () =>
        state().forEach((m, k) => {
          const truth = exact(seen[k], rs, gamma, lambda, weight);
          const D = truth.mean.length;
          for (let i = 0; i < D; i++) {
            expect(Math.abs(m.mean[i] - truth.mean[i]), `model ${k}, mean ${i}`).toBeLessThan(1e-9);
            for (let j = 0; j < D; j++)
              expect(
                Math.abs(m.cov[i * D + j] * m.inflation - truth.cov[i][j]),
                `model ${k}, cov ${i},${j}`,
              ).toBeLessThan(1e-9);
          }
        });
      exactly();
      // what is learned next weighs fully: without forgetting exactly; with it, the prior decays
      // again from whole and is restored as before, so the variances stay within PRIOR_REFRESH
      for (let t = 0; t < 100; t++) {
        observe(rng.int(2));
        state().forEach((m, k) => {
          const truth = exact(seen[k], rs, gamma, lambda, weight);
          for (let i = 0; i < truth.mean.length; i++) {
            const variance = m.cov[i * truth.mean.length + i] * m.inflation;
            expect(variance, `step ${t}, model ${k}, feature ${i}`).toBeGreaterThanOrEqual(
              truth.cov[i][i] * (1 - 1e-9),
            );
            expect(variance, `step ${t}, model ${k}, feature ${i}`).toBeLessThanOrEqual(
              truth.cov[i][i] / (1 - PRIOR_REFRESH),
            );
          }
        });
      }
      if (gamma === 1) exactly();
    },
  );

  it('keeps learning when nothing drifts: a stable best arm stays chosen over a long run', () => {
    const policy = createPolicy(
      { kind: 'logistic-ts', floor: 0.05, forgetting: 0.995, priorVariance: 1, draws: 200 },
      3,
      4,
    );
    const last = play(policy, 20_000, 'stable-forgetting', oneHotContext, (g, arm) => (arm === g ? 0.6 : 0.2)).slice(
      -2000,
    );
    expect(last.filter((h) => h.arm === h.group).length / last.length).toBeGreaterThan(0.8);
  });
});
