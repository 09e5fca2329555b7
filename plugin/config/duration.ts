/** Durations as admins write them (`72h`, `7d`, `30m`, `90s`, `2w`), and their length in milliseconds. */
import { z } from 'zod';

const DURATION_PATTERN = /^([1-9][0-9]*)(s|m|h|d|w)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION_HINT = 'must be a duration like 72h, 7d, 30m, 90s or 2w';

/** Milliseconds in a duration string such as `72h`, `7d`, `30m`, `90s`, `2w`; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}

/** A duration string; the schemas using it add its `*Ms` twin with `parseDuration`. */
export function durationSchema() {
  return z
    .string({
      error: (iss) =>
        iss.code === 'invalid_type' && iss.input !== undefined
          ? `${DURATION_HINT}, got ${String(iss.input)}`
          : undefined,
    })
    .regex(DURATION_PATTERN, { error: (iss) => `${DURATION_HINT}, got ${JSON.stringify(iss.input)}` });
}
