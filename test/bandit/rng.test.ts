import { describe, expect, it } from 'vitest';
import { Rng, unitHash } from '../../plugin/bandit/index.ts';

describe('Rng', () => {
  it('reproduces the same stream from the same seed', () => {
    const a = new Rng('seed-1');
    const b = new Rng('seed-1');
    for (let i = 0; i < 100; i++) expect(a.next()).toBe(b.next());
  });

  it('gives different streams for different seeds', () => {
    const a = new Rng('seed-1');
    const b = new Rng('seed-2');
    const same = Array.from({ length: 20 }, () => a.next() === b.next()).filter(Boolean).length;
    expect(same).toBe(0);
  });

  it('forks a child that depends only on the seed and the key, not on draws already made', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    for (let i = 0; i < 50; i++) b.next();
    expect(a.fork('decision-42').next()).toBe(b.fork('decision-42').next());
    expect(a.fork('decision-42').next()).not.toBe(a.fork('decision-43').next());
  });

  it('draws uniforms in [0, 1) with the right mean', () => {
    const rng = new Rng('u');
    let s = 0;
    for (let i = 0; i < 20000; i++) {
      const u = rng.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      s += u;
    }
    expect(s / 20000).toBeCloseTo(0.5, 2);
  });

  it('draws standard normals with mean 0 and variance 1', () => {
    const rng = new Rng('n');
    let s = 0;
    let s2 = 0;
    const n = 40000;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
    }
    expect(s / n).toBeCloseTo(0, 1);
    expect(s2 / n).toBeCloseTo(1, 1);
  });

  it('draws normal tails with the right mass (|z| > 2 and z > 3.5)', () => {
    const rng = new Rng('tails');
    const n = 400_000;
    let beyond2 = 0;
    let beyond35 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      if (Math.abs(z) > 2) beyond2++;
      if (z > 3.5) beyond35++;
    }
    expect(beyond2 / n).toBeCloseTo(0.0455, 2);
    expect(Math.abs(beyond35 - n * 2.326e-4)).toBeLessThan(4 * Math.sqrt(n * 2.326e-4));
  });

  it.each([
    [2, 3],
    [0.5, 0.5],
    [10, 1],
  ])('draws Beta(%s, %s) with the right mean', (a, b) => {
    const rng = new Rng(`beta-${a}-${b}`);
    let s = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) s += rng.beta(a, b);
    expect(s / n).toBeCloseTo(a / (a + b), 2);
  });
});

describe('unitHash', () => {
  it('is stable for the same salt, user and version', () => {
    expect(unitHash('winback', 'user-1')).toBe(unitHash('winback', 'user-1'));
  });

  it('changes with the salt and with the version', () => {
    expect(unitHash('winback', 'user-1')).not.toBe(unitHash('upsell', 'user-1'));
    expect(unitHash('winback', 'user-1', 1)).not.toBe(unitHash('winback', 'user-1', 2));
  });

  it('spreads users uniformly over [0, 1)', () => {
    const n = 20000;
    let below10 = 0;
    for (let i = 0; i < n; i++) if (unitHash('salt', `user-${i}`) < 0.1) below10++;
    expect(below10 / n).toBeGreaterThan(0.09);
    expect(below10 / n).toBeLessThan(0.11);
  });
});
