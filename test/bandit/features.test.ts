import { describe, expect, it } from 'vitest';
import { FeatureEncoder } from '../../plugin/bandit/index.ts';
import { expectClose } from '../helpers/index.ts';
import { ENCODER_CASES } from './cases.ts';

const NOW = Date.UTC(2026, 10, 23, 12);

function encode(
  encoder: FeatureEncoder,
  traits: Record<string, unknown>,
  extra: { localHour?: number; localWeekday?: number } = {},
) {
  const out = new Float64Array(encoder.dim);
  encoder.encode({ traits, now: NOW, ...extra }, out);
  return Array.from(out);
}

describe('FeatureEncoder', () => {
  const numeric = new FeatureEncoder([{ trait: 'orders', type: 'numeric', min: 0, max: 50 }]);

  it.each(ENCODER_CASES)('$title', ({ traits, expected }) => {
    expect(encode(numeric, traits)).toEqual(expected);
  });

  it('names every slot, starting with the intercept', () => {
    const encoder = new FeatureEncoder([
      { trait: 'orders', type: 'numeric', min: 0, max: 50 },
      { trait: 'cat', type: 'categorical', values: ['a', 'b'] },
      { derived: 'local_hour' },
    ]);
    expect(encoder.names).toEqual([
      'intercept',
      'orders',
      'orders:missing',
      'cat=a',
      'cat=b',
      'cat=other',
      'local_hour:sin',
      'local_hour:cos',
    ]);
    expect(encoder.dim).toBe(8);
  });

  it('one-hot encodes a declared category, sends unknown values to "other" and leaves a missing one all zero', () => {
    const encoder = new FeatureEncoder([{ trait: 'cat', type: 'categorical', values: ['running', 'outdoor'] }]);
    expect(encode(encoder, { cat: 'outdoor' })).toEqual([1, 0, 1, 0]);
    expect(encode(encoder, { cat: 'golf' })).toEqual([1, 0, 0, 1]);
    expect(encode(encoder, {})).toEqual([1, 0, 0, 0]);
  });

  it('hashes a high-cardinality trait into exactly one of its buckets, the same one every time', () => {
    const encoder = new FeatureEncoder([{ trait: 'city', type: 'hashed', buckets: 16 }]);
    const a = encode(encoder, { city: 'Boston' });
    expect(a.slice(1).reduce((s, v) => s + v, 0)).toBe(1);
    expect(encode(encoder, { city: 'Boston' })).toEqual(a);
    expect(
      encode(encoder, {})
        .slice(1)
        .every((v) => v === 0),
    ).toBe(true);
  });

  it('encodes booleans with a missing flag, accepting "true"/"false" strings', () => {
    const encoder = new FeatureEncoder([{ trait: 'vip', type: 'boolean' }]);
    expect(encode(encoder, { vip: true })).toEqual([1, 1, 0]);
    expect(encode(encoder, { vip: 'false' })).toEqual([1, 0, 0]);
    expect(encode(encoder, {})).toEqual([1, 0, 1]);
  });

  it('turns a timestamp into days since it, scaled by max, from an ISO string or epoch seconds', () => {
    const encoder = new FeatureEncoder([{ trait: 'last_order_at', type: 'recency', unit: 'days', max: 100 }]);
    const tenDaysAgo = NOW - 10 * 86_400_000;
    expectClose(encode(encoder, { last_order_at: new Date(tenDaysAgo).toISOString() })[1], 0.1);
    expectClose(encode(encoder, { last_order_at: tenDaysAgo / 1000 })[1], 0.1);
    expect(encode(encoder, {})).toEqual([1, 1, 1]);
  });

  it('encodes local hour and weekday cyclically, so 23:00 is next to 00:00', () => {
    const encoder = new FeatureEncoder([{ derived: 'local_hour' }, { derived: 'local_weekday' }]);
    const h23 = encode(encoder, {}, { localHour: 23, localWeekday: 0 });
    const h0 = encode(encoder, {}, { localHour: 0, localWeekday: 0 });
    const h12 = encode(encoder, {}, { localHour: 12, localWeekday: 0 });
    const dist = (a: number[], b: number[]) => Math.hypot(a[1] - b[1], a[2] - b[2]);
    expect(dist(h23, h0)).toBeLessThan(dist(h12, h0));
    expectClose(h0[2], 1);
    expectClose(h0[4], 1);
  });

  it('writes at an offset without touching the rest of the buffer', () => {
    const out = new Float64Array(5).fill(9);
    numeric.encode({ traits: { orders: 50 }, now: NOW }, out, 2);
    expect(Array.from(out)).toEqual([9, 9, 1, 1, 0]);
  });
});
