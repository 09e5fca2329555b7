/**
 * Distribution functions shared by the policies (the two-arm Thompson probability) and the lift
 * report: the complementary error function, the standard normal CDF and quantile, the
 * chi-square(1) survival function, and a mean / sample standard deviation.
 *
 * Pure and allocation-light: no I/O, no clock, no randomness. Accuracy figures below were
 * checked against 40-digit mpmath values (see `test/measure/cases.ts`).
 */

const SQRT_PI = Math.sqrt(Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Below this, erfc = 1 − erf with erf from its power series; at and above it, a continued fraction. */
const ERFC_SERIES_LIMIT = 1.5;
/** erfc(x) < 2⁻¹⁰⁷⁴ (the smallest subnormal double) for x above this, so the result is 0. */
const ERFC_UNDERFLOW = 27.3;
/** Stop a series or continued fraction once a step changes the result by less than this (relative, < ½ ulp). */
const CONVERGED = 1e-16;
/** Safety bound on series / continued-fraction steps (never reached for finite input; ≈ 90 at worst). */
const MAX_STEPS = 500;

/**
 * e^(−x²) for x ≥ 0 with relative error of a few ulp even for large x.
 *
 * Computing x² in floating point and exponentiating multiplies x²'s rounding error by x²
 * (≈ 7e-14 at x = 26). Splitting x = h + l with h = x rounded to 1/16 makes h² exact (h has at
 * most 10 significant bits here) and leaves only the small remainder (x − h)(x + h) to round.
 * Source: the same split is used in W. J. Cody's CALERF (netlib specfun).
 */
function expMinusSquare(x: number): number {
  const h = Math.round(x * 16) / 16;
  return Math.exp(-h * h) * Math.exp(-(x - h) * (x + h));
}

/**
 * erf(x) for 0 ≤ x < ERFC_SERIES_LIMIT from the everywhere-positive series
 * erf x = (2/√π) e^(−x²) Σₙ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))   (DLMF 7.6.2),
 * which has no cancellation (unlike the alternating Maclaurin series). ≤ 25 terms at x = 1.5.
 */
function erfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 0; n < MAX_STEPS; n++) {
    term *= x2 / (2 * n + 3);
    sum += term;
    if (term < sum * CONVERGED) break;
  }
  return (2 / SQRT_PI) * expMinusSquare(x) * sum;
}

/**
 * erfc(x) for x ≥ ERFC_SERIES_LIMIT from the continued fraction
 * erfc x = (e^(−x²)/√π) · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))   (DLMF 7.9.2),
 * evaluated with the modified Lentz algorithm (Numerical Recipes 3rd ed. §5.2).
 * ≈ 90 steps at x = 1.5, under 20 beyond x = 5.
 */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < MAX_STEPS; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < CONVERGED) break;
  }
  return expMinusSquare(x) / (SQRT_PI * f);
}

/**
 * The complementary error function erfc(x) = 1 − erf(x) = (2/√π) ∫ₓ^∞ e^(−t²) dt.
 *
 * Accuracy: relative error < 2e-14 over the whole double range for x ≥ 0 (≈ 1e-15 typical;
 * worst just below x = 1.5, where 1 − erf loses a digit or two to cancellation); for x < 0,
 * erfc(x) = 2 − erfc(−x) ∈ (1, 2] with absolute error < 1e-16. erfc(x) = 0 for x > 27.3
 * (the true value is below the smallest double). NaN in, NaN out.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < ERFC_SERIES_LIMIT) return 1 - erfSeries(x);
  if (x > ERFC_UNDERFLOW) return 0;
  return erfcContinuedFraction(x);
}

/**
 * Standard normal CDF Φ(x) = erfc(−x/√2)/2.
 *
 * Accuracy: inherits erfc's relative accuracy, so the lower tail keeps full relative precision
 * (Φ(−10) ≈ 7.6e-24 to ~1e-14 relative; rounding x/√2 adds ≈ x²·1e-16, so up to 2e-13 near
 * Φ = 1e-300). The upper tail is 1 − (tiny) and so has absolute error ~1e-16 only; use
 * Φ(−x) for upper-tail probabilities.
 */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Standard normal density φ(x) = e^(−x²/2)/√(2π). */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / SQRT_2PI;
}

// Peter J. Acklam, "An algorithm for computing the inverse normal cumulative distribution
// function" (2003; archived at https://web.archive.org/web/20151030215612/http://home.online.no/~pjacklam/notes/invnorm/).
// Rational approximations with relative error < 1.15e-9 over the whole range.
const ACKLAM_A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const ACKLAM_B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const ACKLAM_C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const ACKLAM_D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
/** Below this p the tail approximation is used, above it the central one. */
const ACKLAM_P_LOW = 0.02425;

/** Acklam's approximation of Φ⁻¹(p) for 0 < p ≤ 0.5 (relative error < 1.15e-9). */
function acklamLower(p: number): number {
  const [a0, a1, a2, a3, a4, a5] = ACKLAM_A;
  const [b0, b1, b2, b3, b4] = ACKLAM_B;
  const [c0, c1, c2, c3, c4, c5] = ACKLAM_C;
  const [d0, d1, d2, d3] = ACKLAM_D;
  if (p < ACKLAM_P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
    (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
  );
}

/**
 * Standard normal quantile Φ⁻¹(p): the x with Φ(x) = p.
 *
 * Acklam's rational approximation (relative error < 1.15e-9), refined by one Halley step
 * on Φ(x) − p using `normalCdf` (Acklam's own suggested refinement); Halley's cubic
 * convergence takes the error to the accuracy of `normalCdf`: |error| < 1e-14 for
 * 1e-300 ≤ p ≤ 1 − 1e-16, checked against mpmath. Computed for min(p, 1 − p) and mirrored,
 * so the upper half is as accurate as the lower (1 − p is exact for p ≥ 0.5).
 *
 * Φ⁻¹(0) = −∞, Φ⁻¹(1) = +∞, and p outside [0, 1] or NaN gives NaN.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return Number.NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (p > 0.5) return -normalQuantile(1 - p);
  const x = acklamLower(p);
  // Halley step: u = (Φ(x) − p)/φ(x); x ← x − u/(1 + x·u/2). φ(x) underflows below
  // x ≈ −38.5 (p < 1e-320, subnormal), where Acklam's value is kept as is.
  const u = (normalCdf(x) - p) / normalPdf(x);
  const refined = x - u / (1 + 0.5 * x * u);
  return Number.isFinite(refined) ? refined : x;
}

/**
 * Survival function of the chi-square distribution with 1 degree of freedom:
 * P(χ²₁ > x) = P(|Z| > √x) = erfc(√(x/2)) for a standard normal Z. 1 for x ≤ 0.
 * Accuracy: that of `erfc` (relative error < 2e-14), e.g. 0.05 at x = 3.841458820694124.
 */
export function chiSquare1Survival(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x <= 0) return 1;
  return erfc(Math.sqrt(x / 2));
}

/** Count, sum, mean and sample standard deviation of a set of values. */
export interface Summary {
  /** Number of values. */
  n: number;
  /** Sum of the values (0 when there are none). */
  sum: number;
  /** Arithmetic mean; null when n = 0. */
  mean: number | null;
  /** Sample standard deviation (divisor n − 1); null when n < 2. */
  sd: number | null;
}

/**
 * Mean and sample standard deviation (Bessel's n − 1) of `values`.
 *
 * Two passes with the corrected sum of squares of Chan, Golub & LeVeque ("Algorithms for
 * computing the sample variance", 1983, eq. 1.7): Σ(x − m)² − (Σ(x − m))²/n, which cancels the
 * rounding error of the mean and never goes below 0; no catastrophic cancellation as in the
 * one-pass Σx² − n·m² formula.
 */
export function meanAndSd(values: ArrayLike<number>): Summary {
  const n = values.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  if (n === 0) return { n, sum, mean: null, sd: null };
  const mean = sum / n;
  if (n < 2) return { n, sum, mean, sd: null };
  let squares = 0;
  let deviations = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    squares += d * d;
    deviations += d;
  }
  const variance = Math.max(0, (squares - (deviations * deviations) / n) / (n - 1));
  return { n, sum, mean, sd: Math.sqrt(variance) };
}
