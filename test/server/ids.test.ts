import { describe, expect, it } from 'vitest';
import { timeOrderedId } from '../../plugin/service/keys.ts';

const T = Date.parse('2026-12-02T10:00:00.000Z');

describe('timeOrderedId', () => {
  it('is a UUID version 7 with the RFC 9562 variant', () => {
    expect(timeOrderedId(T)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('carries the time in ms in its first 48 bits', () => {
    expect(parseInt(timeOrderedId(T).replace('-', '').slice(0, 12), 16)).toBe(T);
  });

  it('sorts ids of later times after ids of earlier ones, and differs within the same ms', () => {
    const ids = [T, T + 1, T + 1_000, T + 86_400_000].map(timeOrderedId);
    expect({ sorted: [...ids].sort(), distinct: new Set([timeOrderedId(T), timeOrderedId(T)]).size }).toEqual({
      sorted: ids,
      distinct: 2,
    });
  });
});
