/**
 * Local wall-clock time in a customer's IANA time zone, from `Intl.DateTimeFormat`.
 *
 * Pure apart from caches: one formatter per time zone, and per zone the UTC offsets of recently
 * asked 15-minute slots (a bounded map). Offsets only change at transitions, and
 * every transition of a modern zone falls on a quarter hour, so within one slot the offset is
 * constant: a cached slot costs arithmetic only, a new one one `formatToParts` (a few µs).
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const SLOT_MS = 15 * MINUTE_MS;
/** Zone names cached at most; past this, unknown names are resolved without caching. */
const MAX_ZONES = 1024;
/** Slots cached per zone before the zone's cache is cleared. `nextSendAt` touches a handful per call. */
const MAX_SLOTS = 256;

export interface LocalTime {
  /** 0–23 */
  hour: number;
  /** 0–59 */
  minute: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
  /** Minutes since local midnight, 0–1439. */
  minuteOfDay: number;
}

interface Zone {
  format: Intl.DateTimeFormat;
  /** 15-minute slot (floor(epoch ms / SLOT_MS)) → UTC offset in ms. */
  offsets: Map<number, number>;
}

const zones = new Map<string, Zone>();

function createZone(timeZone: string): Zone | undefined {
  try {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    return { format, offsets: new Map() };
  } catch {
    return undefined; // RangeError: invalid time zone
  }
}

const UTC: Zone = createZone('UTC')!;

function zoneFor(timeZone: string | undefined): Zone {
  if (timeZone === undefined || timeZone === '' || timeZone === 'UTC') return UTC;
  let zone = zones.get(timeZone);
  if (zone) return zone;
  zone = createZone(timeZone) ?? UTC;
  if (zones.size < MAX_ZONES) zones.set(timeZone, zone);
  return zone;
}

/** Whether `timeZone` is a time zone `Intl` knows (otherwise the functions here use UTC). */
export function isValidTimeZone(timeZone: string): boolean {
  return timeZone === 'UTC' || zoneFor(timeZone) !== UTC;
}

/**
 * Offset of local time from UTC at instant `atMs`, in ms (e.g. −4 h for New York in summer):
 * local wall time = atMs + offset.
 *
 * @param timeZone IANA zone; undefined, empty or invalid means UTC.
 */
export function utcOffsetMs(atMs: number, timeZone: string | undefined): number {
  const zone = zoneFor(timeZone);
  if (zone === UTC) return 0;
  const slot = Math.floor(atMs / SLOT_MS);
  const cached = zone.offsets.get(slot);
  if (cached !== undefined) return cached;
  const start = slot * SLOT_MS;
  let year = 1970,
    month = 1,
    day = 1,
    hour = 0,
    minute = 0,
    second = 0;
  for (const part of zone.format.formatToParts(start)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value);
        break;
      case 'month':
        month = Number(part.value);
        break;
      case 'day':
        day = Number(part.value);
        break;
      case 'hour':
        hour = Number(part.value);
        break;
      case 'minute':
        minute = Number(part.value);
        break;
      case 'second':
        second = Number(part.value);
        break;
    }
  }
  const offsetMs = Date.UTC(year, month - 1, day, hour, minute, second) - start;
  if (zone.offsets.size >= MAX_SLOTS) zone.offsets.clear();
  zone.offsets.set(slot, offsetMs);
  return offsetMs;
}

/**
 * The local clock at instant `nowMs` in `timeZone`.
 *
 * @param nowMs epoch milliseconds
 * @param timeZone IANA zone such as `America/New_York`. Undefined, empty or an invalid zone name
 *   falls back to UTC (it never throws: a bad profile must not break a decision).
 */
export function localTime(nowMs: number, timeZone: string | undefined): LocalTime {
  const wallMs = nowMs + utcOffsetMs(nowMs, timeZone);
  const dayNumber = Math.floor(wallMs / DAY_MS);
  const minuteOfDay = Math.floor((wallMs - dayNumber * DAY_MS) / MINUTE_MS);
  return {
    hour: Math.floor(minuteOfDay / 60),
    minute: minuteOfDay % 60,
    // 1970-01-01 was a Thursday (4)
    weekday: (((dayNumber + 4) % 7) + 7) % 7,
    minuteOfDay,
  };
}

/**
 * Local wall time as epoch-style ms: the instant's local date and time read as if they were UTC
 * (so `Math.floor(wall / 86_400_000)` numbers the local day). Inverse: `zonedTimeToUtc`.
 */
export function utcToZonedTime(nowMs: number, timeZone: string | undefined): number {
  return nowMs + utcOffsetMs(nowMs, timeZone);
}

/**
 * Every instant at which the local clock in `timeZone` reads `wallMs` (a local date and time
 * written as epoch-style ms, e.g. `Date.UTC(2026, 2, 8, 2, 0)` for 2026-03-08 02:00 local):
 * one normally, two in the hour repeated when clocks go back, none in the hour skipped when
 * they go forward. Ascending. Assumes at most one transition within a day of `wallMs`.
 */
export function wallTimeInstants(wallMs: number, timeZone: string | undefined): number[] {
  const before = utcOffsetMs(wallMs - DAY_MS, timeZone);
  const after = utcOffsetMs(wallMs + DAY_MS, timeZone);
  const out: number[] = [];
  // with the earlier offset first, the instants come out ascending
  for (const offset of before === after ? [before] : [before, after]) {
    const t = wallMs - offset;
    if (utcOffsetMs(t, timeZone) === offset) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

/**
 * The first instant at which the local clock in `timeZone` reads `wallMs` or later: the instant
 * itself normally, the first of the two when clocks go back, and the moment of the jump when
 * clocks go forward past it (02:30 on a spring-forward night → the instant it becomes 03:00).
 *
 * @param wallMs local date and time written as epoch-style ms (see `wallTimeInstants`)
 * @param timeZone IANA zone; undefined or invalid means UTC.
 */
export function zonedTimeToUtc(wallMs: number, timeZone: string | undefined): number {
  const before = utcOffsetMs(wallMs - DAY_MS, timeZone);
  const after = utcOffsetMs(wallMs + DAY_MS, timeZone);
  const early = wallMs - before;
  if (utcOffsetMs(early, timeZone) === before) return early;
  const late = wallMs - after;
  if (utcOffsetMs(late, timeZone) === after) return late;
  // skipped wall time: the transition lies between the two readings; find it to the minute
  let lo = Math.min(early, late);
  let hi = Math.max(early, late);
  while (hi - lo > MINUTE_MS) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
    if (utcOffsetMs(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}
