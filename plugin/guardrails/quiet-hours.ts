import type { QuietHours } from '../config/index.ts';
import { localTime, utcOffsetMs, utcToZonedTime, wallTimeInstants, zonedTimeToUtc } from './local-time.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** How many local days ahead `nextSendAt` looks for the chosen hour. */
const SEARCH_DAYS = 8;

/** The part of the quiet-hours config these functions read. */
export type QuietWindow = Pick<QuietHours, 'startMinute' | 'endMinute'>;

/**
 * Whether a local time (minutes since local midnight) falls in quiet hours. The window is
 * [start, end): start is quiet, end is not. When start > end it wraps midnight
 * (21:00–08:00 is quiet from 21:00 through 07:59). No window: never quiet.
 */
export function inQuietHours(minuteOfDay: number, qh: QuietWindow | undefined): boolean {
  if (!qh) return false;
  const { startMinute: start, endMinute: end } = qh;
  return start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
}

/**
 * When to send, in epoch ms.
 *
 * - With `hour`: the next instant strictly after `nowMs` at which the local clock reads
 *   `hour`:00, looking up to 8 days ahead. Correct across DST changes: a day whose clock skips
 *   that hour is passed over, and in a repeated hour the later reading counts when the earlier
 *   one is already past. If `hour`:00 itself is in quiet hours (the guardrail masks such arms,
 *   so this only happens for defaults), it falls back to the end of quiet hours as below.
 * - Without `hour`: `nowMs` when it is outside quiet hours, else the instant quiet hours end
 *   locally (when clocks jump past the end, the instant of the jump, unless that instant is
 *   quiet again; then the next night's end).
 *
 * @param timeZone IANA zone of the customer; undefined or invalid means UTC.
 */
export function nextSendAt(
  nowMs: number,
  timeZone: string | undefined,
  hour: number | undefined,
  qh: QuietWindow | undefined,
): number {
  if (hour !== undefined && !inQuietHours(hour * 60, qh)) {
    const today = Math.floor(utcToZonedTime(nowMs, timeZone) / DAY_MS) * DAY_MS;
    for (let k = 0; k <= SEARCH_DAYS; k++) {
      const wall = today + k * DAY_MS + hour * HOUR_MS;
      // the instants reading `wall`: with the offset in force before, and after, a possible transition
      const before = utcOffsetMs(wall - DAY_MS, timeZone);
      const after = utcOffsetMs(wall + DAY_MS, timeZone);
      const early = wall - before;
      if (early > nowMs && utcOffsetMs(early, timeZone) === before) return early;
      const late = wall - after;
      if (after !== before && late > nowMs && utcOffsetMs(late, timeZone) === after) return late;
    }
  }
  if (!qh || !inQuietHours(localTime(nowMs, timeZone).minuteOfDay, qh)) return nowMs;
  const wallNow = utcToZonedTime(nowMs, timeZone);
  let end = Math.floor(wallNow / DAY_MS) * DAY_MS + qh.endMinute * MINUTE_MS;
  if (end <= wallNow) end += DAY_MS;
  // The end may be read twice (fall-back night: take the first reading still ahead of now) or
  // never (spring-forward night: zonedTimeToUtc resolves it to the moment of the jump). When the
  // jump lands back inside quiet hours (the whole non-quiet window was skipped), that night has
  // no end of quiet hours, and the next one counts.
  for (let k = 0; k <= SEARCH_DAYS; k++, end += DAY_MS) {
    const readings = wallTimeInstants(end, timeZone);
    const ahead = (readings.length > 0 ? readings : [zonedTimeToUtc(end, timeZone)]).find((t) => t > nowMs);
    if (ahead !== undefined && !inQuietHours(localTime(ahead, timeZone).minuteOfDay, qh)) return ahead;
  }
  return zonedTimeToUtc(end, timeZone);
}
