import { describe, expect, it } from 'vitest';
import { bisect } from '../../../adapters/kit/index.ts';

/** A vendor that refuses any batch holding a bad item as a whole (like a 400), and takes the others. */
function vendor(bad: ReadonlySet<number>) {
  const requests: number[][] = [];
  const accepted: number[] = [];
  const refused = new Map<number, string>();
  const send = async (batch: readonly number[]) => {
    requests.push([...batch]);
    if (batch.some((i) => bad.has(i))) return `400: item ${batch.find((i) => bad.has(i))} is invalid`;
    accepted.push(...batch);
    return undefined;
  };
  return { requests, accepted, refused, send, alone: (item: number, refusal: string) => refused.set(item, refusal) };
}

describe('bisect', () => {
  const items = Array.from({ length: 75 }, (_, i) => i);

  it('isolates one bad item among 75: the 74 others go through, the bad one is answered alone', async () => {
    const v = vendor(new Set([41]));
    await bisect(items, v.send, v.alone);
    expect(v.accepted.sort((a, b) => a - b)).toEqual(items.filter((i) => i !== 41));
    expect([...v.refused]).toEqual([[41, '400: item 41 is invalid']]);
    expect(v.requests.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(75)));
    expect(v.requests.every((r) => r.length > 0)).toBe(true);
  });

  it('isolates several bad items, each answered once', async () => {
    const v = vendor(new Set([0, 74, 30]));
    await bisect(items, v.send, v.alone);
    expect(v.accepted).toHaveLength(72);
    expect([...v.refused.keys()].sort((a, b) => a - b)).toEqual([0, 30, 74]);
  });

  it('sends an accepted batch once, and nothing for no items', async () => {
    const v = vendor(new Set());
    await bisect(items, v.send, v.alone);
    expect(v.requests).toHaveLength(1);
    await bisect([], v.send, v.alone);
    expect(v.requests).toHaveLength(1);
  });
});
