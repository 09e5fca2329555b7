import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isValidTimeZone,
  localTime,
  utcOffsetMs,
  utcToZonedTime,
  wallTimeInstants,
  zonedTimeToUtc,
} from '../../plugin/guardrails/index.ts';

const at = (iso: string) => Date.parse(iso);
const HOUR_MS = 3_600_000;

describe('localTime', () => {
  it.each<[string, string, string | undefined, { hour: number; minute: number; weekday: number; minuteOfDay: number }]>(
    [
      ['UTC', '2026-06-01T10:15:00Z', 'UTC', { hour: 10, minute: 15, weekday: 1, minuteOfDay: 615 }],
      [
        'New York in summer (UTC−4)',
        '2026-06-01T10:15:00Z',
        'America/New_York',
        { hour: 6, minute: 15, weekday: 1, minuteOfDay: 375 },
      ],
      [
        'New York in winter (UTC−5)',
        '2026-01-15T03:30:00Z',
        'America/New_York',
        { hour: 22, minute: 30, weekday: 3, minuteOfDay: 1350 },
      ],
      [
        'Kolkata (UTC+5:30), the next local day',
        '2026-06-06T20:00:00Z',
        'Asia/Kolkata',
        { hour: 1, minute: 30, weekday: 0, minuteOfDay: 90 },
      ],
      [
        'Kathmandu (UTC+5:45)',
        '2026-06-01T00:00:00Z',
        'Asia/Kathmandu',
        { hour: 5, minute: 45, weekday: 1, minuteOfDay: 345 },
      ],
      [
        'no time zone, as UTC',
        '2026-06-01T10:15:00Z',
        undefined,
        { hour: 10, minute: 15, weekday: 1, minuteOfDay: 615 },
      ],
      [
        'an invalid time zone, as UTC',
        '2026-06-01T10:15:00Z',
        'Mars/Olympus_Mons',
        { hour: 10, minute: 15, weekday: 1, minuteOfDay: 615 },
      ],
    ],
  )('reads the local clock in %s', (_name, iso, zone, expected) => {
    expect(localTime(at(iso), zone)).toEqual(expected);
  });

  it('jumps from 01:59 to 03:00 when New York springs forward on 2026-03-08', () => {
    expect(localTime(at('2026-03-08T06:59:00Z'), 'America/New_York')).toMatchObject({ hour: 1, minute: 59 });
    expect(localTime(at('2026-03-08T07:00:00Z'), 'America/New_York')).toMatchObject({ hour: 3, minute: 0 });
  });

  it('reads 01:00 twice when New York falls back on 2026-11-01', () => {
    expect(localTime(at('2026-11-01T05:00:00Z'), 'America/New_York')).toMatchObject({ hour: 1, minute: 0 });
    expect(localTime(at('2026-11-01T06:00:00Z'), 'America/New_York')).toMatchObject({ hour: 1, minute: 0 });
  });

  it('agrees with a fresh Intl formatter for any instant and zone', () => {
    const zones = [
      'America/New_York',
      'Europe/Paris',
      'Australia/Lord_Howe',
      'Asia/Kathmandu',
      'Pacific/Chatham',
      'America/Sao_Paulo',
      'UTC',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: at('2000-01-01T00:00:00Z'), max: at('2040-01-01T00:00:00Z') }),
        fc.constantFrom(...zones),
        (t, zone) => {
          const parts = new Intl.DateTimeFormat('en-US', {
            timeZone: zone,
            hourCycle: 'h23',
            hour: 'numeric',
            minute: 'numeric',
            weekday: 'short',
          }).formatToParts(t);
          const get = (type: string) => parts.find((p) => p.type === type)!.value;
          const local = localTime(t, zone);
          expect([local.hour, local.minute, local.weekday]).toEqual([
            Number(get('hour')),
            Number(get('minute')),
            ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday')),
          ]);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('isValidTimeZone', () => {
  it.each(['America/New_York', 'Asia/Kathmandu', 'UTC'])('accepts %s', (zone) => {
    expect(isValidTimeZone(zone)).toBe(true);
  });

  it.each(['Mars/Olympus_Mons', 'EST+5', ''])('rejects "%s"', (zone) => {
    expect(isValidTimeZone(zone)).toBe(false);
  });
});

describe('utcOffsetMs', () => {
  it('is the local minus the UTC time', () => {
    expect(utcOffsetMs(at('2026-06-01T12:00:00Z'), 'America/New_York')).toBe(-4 * HOUR_MS);
    expect(utcOffsetMs(at('2026-01-01T12:00:00Z'), 'America/New_York')).toBe(-5 * HOUR_MS);
  });
});

describe('zonedTimeToUtc', () => {
  const wall = (iso: string) => Date.parse(`${iso}Z`);

  it('inverts utcToZonedTime', () => {
    const t = at('2026-06-01T12:34:00Z');
    expect(zonedTimeToUtc(utcToZonedTime(t, 'Europe/Paris'), 'Europe/Paris')).toBe(t);
  });

  it('maps a local time to its instant', () => {
    expect(zonedTimeToUtc(wall('2026-06-01T08:00:00'), 'America/New_York')).toBe(at('2026-06-01T12:00:00Z'));
  });

  it('takes the first of the two readings of a repeated time', () => {
    expect(zonedTimeToUtc(wall('2026-11-01T01:30:00'), 'America/New_York')).toBe(at('2026-11-01T05:30:00Z'));
  });

  it('takes the moment of the jump for a skipped time', () => {
    expect(zonedTimeToUtc(wall('2026-03-08T02:30:00'), 'America/New_York')).toBe(at('2026-03-08T07:00:00Z'));
  });
});

describe('wallTimeInstants', () => {
  const wall = (iso: string) => Date.parse(`${iso}Z`);

  it.each<[string, string, string[]]>([
    ['one instant on an ordinary day', '2026-06-01T08:00:00', ['2026-06-01T12:00:00.000Z']],
    [
      'two instants in the hour repeated on 2026-11-01',
      '2026-11-01T01:00:00',
      ['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z'],
    ],
    ['no instant in the hour skipped on 2026-03-08', '2026-03-08T02:00:00', []],
  ])('finds %s in New York', (_name, local, expected) => {
    expect(wallTimeInstants(wall(local), 'America/New_York').map((t) => new Date(t).toISOString())).toEqual(expected);
  });
});
