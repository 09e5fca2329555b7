import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../plugin/config/index.ts';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['72h', 259_200_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['7 days', '0h', '1.5h', '10y', ''])('rejects "%s"', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
