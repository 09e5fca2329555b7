import { expect } from 'vitest';

/** The one float tolerance the math tests use. */
export const TOLERANCE = 1e-9;

export function expectClose(actual: number, expected: number, tolerance = TOLERANCE): void {
  expect(Math.abs(actual - expected), `${actual} ≈ ${expected} (±${tolerance})`).toBeLessThanOrEqual(tolerance);
}

export function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}
