import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquare1Survival, erfc, meanAndSd, normalCdf, normalQuantile } from '../../plugin/measure/index.ts';
import { expectClose } from '../helpers/index.ts';
import {
  CHI_SQUARE_1_SURVIVAL_CASES,
  ERFC_CASES,
  MEAN_AND_SD_CASES,
  NORMAL_CDF_CASES,
  NORMAL_QUANTILE_CASES,
  QUANTILE_TOLERANCE,
  SPECIAL_RELATIVE_TOLERANCE,
} from './cases.ts';

/** |actual − expected| within SPECIAL_RELATIVE_TOLERANCE of |expected| (exact when expected is 0, 1 or 2). */
function expectRelativelyClose(actual: number, expected: number): void {
  expectClose(actual, expected, SPECIAL_RELATIVE_TOLERANCE * Math.abs(expected));
}

describe('erfc', () => {
  it.each(ERFC_CASES)('$title', ({ x, expected }) => {
    expectRelativelyClose(erfc(x), expected);
  });

  it('is NaN for NaN', () => {
    expect(erfc(Number.NaN)).toBeNaN();
  });

  it('satisfies erfc(−x) = 2 − erfc(x)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 30, noNaN: true }), (x) => {
        expectClose(erfc(-x), 2 - erfc(x), 1e-15);
      }),
    );
  });

  it('decreases monotonically across the switch from series to continued fraction', () => {
    let previous = erfc(1.4);
    for (let x = 1.4; x <= 1.6; x += 1e-4) {
      const value = erfc(x + 1e-4);
      expect(value).toBeLessThan(previous);
      previous = value;
    }
  });
});

describe('normalCdf', () => {
  it.each(NORMAL_CDF_CASES)('$title', ({ x, expected }) => {
    expectRelativelyClose(normalCdf(x), expected);
  });
});

describe('normalQuantile', () => {
  it.each(NORMAL_QUANTILE_CASES)('$title', ({ x, expected }) => {
    expectClose(normalQuantile(x), expected, QUANTILE_TOLERANCE);
  });

  it.each([
    ['−∞ at p = 0', 0, -Infinity],
    ['+∞ at p = 1', 1, Infinity],
  ])('is %s', (_title, p, expected) => {
    expect(normalQuantile(p)).toBe(expected);
  });

  it.each([
    ['below 0', -0.1],
    ['above 1', 1.1],
    ['NaN', Number.NaN],
  ])('is NaN for p %s', (_title, p) => {
    expect(normalQuantile(p)).toBeNaN();
  });

  it('is antisymmetric: Φ⁻¹(1 − p) = −Φ⁻¹(p)', () => {
    // p = k/2²⁰ so that 1 − p is exact and both sides ask for the same quantile
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 20 - 1 }), (k) => {
        const p = k / 2 ** 20;
        expectClose(normalQuantile(1 - p), -normalQuantile(p), 1e-13);
      }),
    );
  });

  it('inverts normalCdf to near machine precision in the lower half', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-300, max: 0.5, noNaN: true }), (p) => {
        expectClose(normalCdf(normalQuantile(p)), p, 1e-12 * p);
      }),
    );
  });
});

describe('chiSquare1Survival', () => {
  it.each(CHI_SQUARE_1_SURVIVAL_CASES)('$title', ({ x, expected }) => {
    expectRelativelyClose(chiSquare1Survival(x), expected);
  });

  it('is the two-sided normal tail: P(χ²₁ > z²) = 2·Φ(−z)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 30, noNaN: true }), (z) => {
        const tail = 2 * normalCdf(-z);
        expectClose(chiSquare1Survival(z * z), tail, 1e-12 * tail);
      }),
    );
  });
});

describe('meanAndSd', () => {
  it.each(MEAN_AND_SD_CASES)('$title', ({ values, expected }) => {
    const summary = meanAndSd(values);
    expect(summary.n).toBe(expected.n);
    expectClose(summary.sum, expected.sum);
    if (expected.mean === null) expect(summary.mean).toBeNull();
    else expectClose(summary.mean!, expected.mean);
    if (expected.sd === null) expect(summary.sd).toBeNull();
    else expectClose(summary.sd!, expected.sd);
  });

  it('accepts a typed array', () => {
    const summary = meanAndSd(Float64Array.from([1, 0, 1, 1]));
    expectClose(summary.mean!, 0.75);
    expectClose(summary.sd!, 0.5);
  });
});
