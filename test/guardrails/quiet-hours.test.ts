import { describe, expect, it } from 'vitest';
import { inQuietHours, nextSendAt } from '../../plugin/guardrails/index.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const NY = 'America/New_York';

/** Quiet hours as the config normalizes them. */
function quiet(start: string, end: string) {
  const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3));
  return { start, end, startMinute: minutes(start), endMinute: minutes(end) };
}

const NIGHT = quiet('21:00', '08:00');
const LUNCH = quiet('12:00', '14:00');

describe('inQuietHours', () => {
  it.each<[string, ReturnType<typeof quiet> | undefined, string, boolean]>([
    ['before a window that wraps midnight', NIGHT, '20:59', false],
    ['at its start', NIGHT, '21:00', true],
    ['before midnight', NIGHT, '23:59', true],
    ['at midnight', NIGHT, '00:00', true],
    ['just before its end', NIGHT, '07:59', true],
    ['at its end (exclusive)', NIGHT, '08:00', false],
    ['at noon', NIGHT, '12:00', false],
    ['before a daytime window', LUNCH, '11:59', false],
    ['at a daytime window start', LUNCH, '12:00', true],
    ['inside a daytime window', LUNCH, '13:59', true],
    ['at a daytime window end', LUNCH, '14:00', false],
    ['without quiet hours', undefined, '03:00', false],
  ])('%s (%s, %s) is %s', (_name, qh, time, expected) => {
    expect(inQuietHours(Number(time.slice(0, 2)) * 60 + Number(time.slice(3)), qh)).toBe(expected);
  });
});

describe('nextSendAt with an hour', () => {
  it.each<[string, string, string | undefined, number, ReturnType<typeof quiet> | undefined, string]>([
    ['later today', '2026-06-01T10:00:00Z', 'UTC', 12, NIGHT, '2026-06-01T12:00:00.000Z'],
    ['tomorrow when the hour has passed', '2026-06-01T10:00:00Z', 'UTC', 8, NIGHT, '2026-06-02T08:00:00.000Z'],
    ['tomorrow when it is that hour exactly now', '2026-06-01T10:00:00Z', 'UTC', 10, NIGHT, '2026-06-02T10:00:00.000Z'],
    ["in the customer's time zone", '2026-06-01T12:00:00Z', NY, 18, NIGHT, '2026-06-01T22:00:00.000Z'],
    [
      'in UTC for an invalid time zone',
      '2026-06-01T10:00:00Z',
      'Nowhere/Special',
      12,
      NIGHT,
      '2026-06-01T12:00:00.000Z',
    ],
    [
      'at the summer offset the day clocks spring forward',
      '2026-03-07T20:00:00Z',
      NY,
      12,
      NIGHT,
      '2026-03-08T16:00:00.000Z',
    ],
    ['on the next day when that day skips the hour', '2026-03-07T20:00:00Z', NY, 2, LUNCH, '2026-03-09T06:00:00.000Z'],
    [
      'at the winter offset the day clocks fall back',
      '2026-10-31T20:00:00Z',
      NY,
      12,
      NIGHT,
      '2026-11-01T17:00:00.000Z',
    ],
    ['at the first reading of a repeated hour', '2026-10-31T20:00:00Z', NY, 1, LUNCH, '2026-11-01T05:00:00.000Z'],
    [
      'at the second reading of a repeated hour once the first has passed',
      '2026-11-01T05:30:00Z',
      NY,
      1,
      LUNCH,
      '2026-11-01T06:00:00.000Z',
    ],
    ['the same without quiet hours', '2026-06-01T10:00:00Z', 'UTC', 3, undefined, '2026-06-02T03:00:00.000Z'],
  ])('is %s', (_name, now, zone, hour, qh, expected) => {
    expect(iso(nextSendAt(at(now), zone, hour, qh))).toBe(expected);
  });

  it('falls back to the end of quiet hours when the hour is itself quiet', () => {
    expect(iso(nextSendAt(at('2026-06-01T23:00:00Z'), 'UTC', 22, NIGHT))).toBe('2026-06-02T08:00:00.000Z');
  });
});

describe('nextSendAt without an hour', () => {
  it('is now outside quiet hours', () => {
    expect(nextSendAt(at('2026-06-01T16:00:00Z'), NY, undefined, NIGHT)).toBe(at('2026-06-01T16:00:00Z'));
  });

  it('is now without quiet hours', () => {
    expect(nextSendAt(at('2026-06-01T03:00:00Z'), NY, undefined, undefined)).toBe(at('2026-06-01T03:00:00Z'));
  });

  it.each<[string, string, string]>([
    ['before midnight, the next morning', '2026-06-02T03:00:00Z', '2026-06-02T12:00:00.000Z'],
    ['after midnight, the same morning', '2026-06-02T06:00:00Z', '2026-06-02T12:00:00.000Z'],
    ['across the spring-forward night, 08:00 summer time', '2026-03-08T04:00:00Z', '2026-03-08T12:00:00.000Z'],
    ['across the fall-back night, 08:00 winter time', '2026-11-01T03:00:00Z', '2026-11-01T13:00:00.000Z'],
  ])('in quiet hours is when they end locally: %s', (_name, now, expected) => {
    expect(iso(nextSendAt(at(now), NY, undefined, NIGHT))).toBe(expected);
  });

  it('ends at the jump when quiet hours end in the skipped hour', () => {
    expect(iso(nextSendAt(at('2026-03-08T06:00:00Z'), NY, undefined, quiet('21:00', '02:30')))).toBe(
      '2026-03-08T07:00:00.000Z',
    );
  });
});

describe('nextSendAt when the only non-quiet time falls in the skipped hour', () => {
  it('waits for the next night whose clock reads it', () => {
    // Los Angeles, 23:00 PST on 7 March 2026; only 02:00–02:45 is outside quiet hours, and that
    // night the clock jumps from 02:00 PST straight to 03:00 PDT.
    const la = 'America/Los_Angeles';
    expect(iso(nextSendAt(at('2026-03-08T07:00:00Z'), la, undefined, quiet('02:45', '02:00')))).toBe(
      '2026-03-09T09:00:00.000Z',
    );
  });
});
