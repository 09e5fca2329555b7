import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createPolicy,
  policyFromJSON,
  remapPolicy,
  Rng,
  sampleArm,
  type ArmGroups,
  type PolicyParams,
} from '../../plugin/bandit/index.ts';
import { expectClose, sum } from '../helpers/index.ts';
import { CONTEXTUAL_CASES, LEARNING_CASES, POLICY_CASES } from './cases.ts';
import { noContext, oneHotContext, play } from './play.ts';

const title = (p: PolicyParams) => (p.covariance ? `${p.kind} (${p.covariance} covariance)` : p.kind);

describe.each(LEARNING_CASES.map((p) => [title(p), p] as const))('%s', (_name, params) => {
  it('converges on the better of two arms', () => {
    const policy = createPolicy(params, 2, 1);
    const history = play(policy, 3000, `two-arm-${params.kind}`, noContext, (_g, arm) => (arm === 1 ? 0.5 : 0.3));
    const last = history.slice(-500);
    expect(last.filter((h) => h.arm === 1).length / last.length).toBeGreaterThan(0.75);
  });
});

describe.each(CONTEXTUAL_CASES.map((p) => [title(p), p] as const))('%s', (_name, params) => {
  it('learns a different best arm for each of three contexts', () => {
    const policy = createPolicy(params, 3, 4);
    // Context g is best served by arm g (0.6 vs 0.2).
    const history = play(policy, 6000, `three-arm-${params.kind}`, oneHotContext, (g, arm) => (arm === g ? 0.6 : 0.2));
    const last = history.slice(-1500);
    for (let g = 0; g < 3; g++) {
      const inGroup = last.filter((h) => h.group === g);
      expect(inGroup.filter((h) => h.arm === g).length / inGroup.length, `context ${g}`).toBeGreaterThan(0.75);
    }
  });

  it('with forgetting, follows a swap of the best arm faster than without', () => {
    const swapAt = 3000;
    const share = (forgetting: number) => {
      const policy = createPolicy({ ...params, forgetting }, 2, 1);
      let t = 0;
      const history = play(policy, swapAt + 1500, `swap-${params.kind}`, noContext, (_g, arm) => {
        t++;
        const best = t <= swapAt ? 0 : 1;
        return arm === best ? 0.6 : 0.2;
      });
      const after = history.slice(swapAt + 500);
      return after.filter((h) => h.arm === 1).length / after.length;
    };
    expect(share(0.99)).toBeGreaterThan(share(1));
  });
});

describe.each(POLICY_CASES.map((p) => [title(p), p] as const))('%s distribution', (_name, params) => {
  it('sums to 1, covers only eligible arms and keeps every eligible arm at or above floor/K, with or without sharing and forgetting', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        (arms, dim, seed, floor, groupCount, forgets) => {
          const rng = new Rng(seed);
          // groupCount > 0: arms shared by random groups (policies without a Gaussian model ignore them)
          const groups =
            groupCount > 0
              ? {
                  count: groupCount,
                  of: Array.from({ length: arms }, () => [...new Set([rng.int(groupCount), rng.int(groupCount)])]),
                }
              : undefined;
          const policy = createPolicy(
            { ...params, floor: params.kind === 'random' ? 0 : floor, draws: 50, forgetting: forgets ? 0.9 : 1 },
            arms,
            dim,
            groups,
          );
          const x = Float64Array.from({ length: dim }, () => rng.normal());
          for (let t = 0; t < 20; t++)
            policy.update(
              x.map((v) => v * rng.next()),
              rng.int(arms),
              rng.next(),
              0.5,
            );
          const eligible = Uint8Array.from({ length: arms }, () => (rng.next() < 0.6 ? 1 : 0));
          if (!eligible.includes(1)) eligible[rng.int(arms)] = 1;
          const k = eligible.reduce((s, v) => s + v, 0);
          const out = new Float64Array(arms);
          policy.distribution(x, eligible, rng, out);
          expectClose(sum(out), 1, 1e-9);
          for (let a = 0; a < arms; a++) {
            if (!eligible[a]) expect(out[a]).toBe(0);
            else expect(out[a]).toBeGreaterThanOrEqual(policy.params.floor / k - 1e-12);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  // arms 0 and 1 share group 0; arm 1 also has group 2 (ignored by the policies without a Gaussian model)
  const shared: ArmGroups = { count: 3, of: [[0], [0, 2], [1], [1]] };
  it.each([
    ['one model per arm', 1, undefined],
    ['one model per arm, with forgetting', 0.99, undefined],
    ['shared by tags, with forgetting', 0.99, shared],
  ] as const)(
    'gives identical next decisions after a toJSON/fromJSON round trip (%s)',
    (_layout, forgetting, groups) => {
      const policy = createPolicy({ ...params, forgetting }, 4, 3, groups);
      const rng = new Rng('train');
      for (let t = 0; t < 300; t++) {
        const x = Float64Array.of(1, rng.next(), rng.normal());
        policy.update(x, rng.int(4), rng.bernoulli(0.3), 0.25);
      }
      const restored = policyFromJSON(JSON.parse(JSON.stringify(policy.toJSON())));
      const eligible = Uint8Array.of(1, 1, 0, 1);
      const a = new Rng('next');
      const b = new Rng('next');
      for (let t = 0; t < 25; t++) {
        const x = Float64Array.of(1, a.next(), a.normal());
        b.next();
        b.normal();
        const pa = new Float64Array(4);
        const pb = new Float64Array(4);
        policy.distribution(x, eligible, a, pa);
        restored.distribution(x, eligible, b, pb);
        expect(Array.from(pb)).toEqual(Array.from(pa));
        const arm = sampleArm(pa, a);
        expect(sampleArm(pb, b)).toBe(arm);
        policy.update(x, arm, t % 3 === 0 ? 1 : 0, pa[arm]);
        restored.update(x, arm, t % 3 === 0 ? 1 : 0, pb[arm]);
      }
    },
  );
});

describe.each(POLICY_CASES.map((p) => [title(p), p] as const))('%s: retain', (_name, params) => {
  const groups: ArmGroups = { count: 2, of: [[0], [0], [1], [1]] };
  const trained = (forgetting: number, shared: boolean) => {
    const policy = createPolicy({ ...params, forgetting }, 4, 3, shared ? groups : undefined);
    const rng = new Rng('retain-train');
    for (let t = 0; t < 400; t++)
      policy.update(Float64Array.of(1, rng.next(), rng.normal()), rng.int(4), rng.bernoulli(0.3), 0.25);
    return policy;
  };
  const nextDecisions = (policy: ReturnType<typeof createPolicy>) => {
    const rng = new Rng('retain-next');
    const out: number[][] = [];
    for (let t = 0; t < 10; t++) {
      const x = Float64Array.of(1, rng.next(), rng.normal());
      const p = new Float64Array(4);
      policy.distribution(x, Uint8Array.of(1, 1, 1, 1), rng, p);
      out.push(Array.from(p));
      const arm = sampleArm(p, rng);
      policy.update(x, arm, arm === 0 ? 1 : 0, p[arm]);
    }
    return out;
  };
  it.each([
    ['one model per arm', 1, false],
    ['one model per arm, with forgetting', 0.99, false],
    ['shared by tags, with forgetting', 0.99, true],
  ] as const)('retain(0) is the prior again and retain(1) changes nothing (%s)', (_layout, forgetting, shared) => {
    const none = trained(forgetting, shared);
    none.retain(0);
    expect(none.observations()).toBe(0);
    expect(nextDecisions(none)).toEqual(
      nextDecisions(createPolicy({ ...params, forgetting }, 4, 3, shared ? groups : undefined)),
    );
    const all = trained(forgetting, shared);
    const before = JSON.stringify(all.toJSON());
    all.retain(1);
    expect(JSON.stringify(all.toJSON())).toBe(before);
    expect(() => all.retain(1.5)).toThrow(/share/);
    expect(() => all.retain(Number.NaN)).toThrow(/share/);
  });
});

describe.each(LEARNING_CASES.map((p) => [title(p), p] as const))('%s: retain after learning', (_name, params) => {
  it('keeps what was learned, less sure of it: the best arm stays best in every context, and the uncertainty grows', () => {
    const contextual = params.kind !== 'beta-ts';
    const policy = createPolicy(params, 3, 4);
    play(policy, 4000, `retain-${params.kind}`, contextual ? oneHotContext : noContext, (g, arm) =>
      arm === g ? 0.6 : 0.2,
    );
    const eligible = Uint8Array.of(1, 1, 1);
    const contexts = contextual ? [0, 1, 2] : [0];
    const before = contexts.map((g) =>
      policy.explain(
        contextual
          ? Float64Array.from([1, 0, 1, 2].map((_, i) => (i === 0 || i === 1 + g ? 1 : 0)))
          : Float64Array.of(1),
        eligible,
      ),
    );
    policy.retain(0.05);
    contexts.forEach((g, k) => {
      const x = contextual
        ? Float64Array.from([1, 0, 1, 2].map((_, i) => (i === 0 || i === 1 + g ? 1 : 0)))
        : Float64Array.of(1);
      const after = policy.explain(x, eligible);
      const best = (e: { mean: number }[]) => e.reduce((b, v, a) => (v.mean > e[b].mean ? a : b), 0);
      expect(best(after), `context ${g}`).toBe(best(before[k]));
      expect(best(after), `context ${g}`).toBe(g);
      for (let a = 0; a < 3; a++) expect(after[a].sd, `context ${g}, arm ${a}`).toBeGreaterThan(before[k][a].sd);
    });
  });
});

describe('remapPolicy', () => {
  it('keeps what the old arms learned and starts a new arm at the prior', () => {
    const params: PolicyParams = { kind: 'linucb', floor: 0, forgetting: 1, alpha: 1, lambda: 1 };
    const policy = createPolicy(params, 2, 2);
    const rng = new Rng('remap');
    for (let t = 0; t < 200; t++) policy.update(Float64Array.of(1, rng.next()), t % 2, t % 2 === 0 ? 0.9 : 0.1, 0.5);
    const grown = remapPolicy(policy, [0, 1, -1], [0, 1]);
    const x = Float64Array.of(1, 0.5);
    const before = policy.explain(x, Uint8Array.of(1, 1));
    const after = grown.explain(x, Uint8Array.of(1, 1, 1));
    expectClose(after[0].mean, before[0].mean);
    expectClose(after[1].mean, before[1].mean);
    expect(after[2].mean).toBe(0);
    expect(grown.toJSON().arms[2].n).toBe(0);
  });

  it('adds a new feature with zero weight and prior variance, leaving predictions unchanged', () => {
    const params: PolicyParams = { kind: 'lin-ts', floor: 0, forgetting: 1, v: 1, lambda: 2, draws: 10 };
    const policy = createPolicy(params, 1, 2);
    for (let t = 0; t < 50; t++) policy.update(Float64Array.of(1, t / 50), 0, t / 50, 1);
    const wider = remapPolicy(policy, [0], [0, -1, 1]);
    const state = wider.toJSON().arms[0] as { cov: number[]; mean: number[] };
    expect(state.mean[1]).toBe(0);
    expect(state.cov[1 * 3 + 1]).toBe(0.5);
    expectClose(
      wider.explain(Float64Array.of(1, 7, 0.3), Uint8Array.of(1))[0].mean,
      policy.explain(Float64Array.of(1, 0.3), Uint8Array.of(1))[0].mean,
    );
  });
});
