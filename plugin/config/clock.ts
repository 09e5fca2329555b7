/** Local times of day, "HH:MM" (quiet hours). */
import { z } from 'zod';

const CLOCK_PATTERN = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
const CLOCK_HINT = 'must be a time "HH:MM" from 00:00 to 23:59 (quoted in YAML)';

export function clockSchema() {
  return z
    .string({
      error: (iss) =>
        iss.code === 'invalid_type' && iss.input !== undefined ? `${CLOCK_HINT}, got ${String(iss.input)}` : undefined,
    })
    .regex(CLOCK_PATTERN, { error: (iss) => `${CLOCK_HINT}, got ${JSON.stringify(iss.input)}` });
}

/** Minutes since local midnight of a valid "HH:MM". */
export function clockMinutes(text: string): number {
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}
