/**
 * Building blocks shared by the config schemas: ids, non-empty strings, bounded numbers, and a
 * test for issues already found under a key (cross-field rules wait until their parts are valid).
 */
import { z } from 'zod';

// spelled out rather than with the `i` flag: JSON Schema patterns have no flags
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** An id usable in attribute names and URLs: letters, digits, `_`, `-`, not starting with `_`/`-`. */
export function idSchema() {
  return z.string().regex(ID_PATTERN, {
    error: (iss) =>
      `must contain only letters, digits, "_" or "-" and start with a letter or digit, got ${JSON.stringify(iss.input)}`,
  });
}

/** Whether parsing already found a problem under `key` (paths are relative to the refined object). */
export function hasIssues(ctx: { issues: { path?: PropertyKey[] }[] }, key: string): boolean {
  return ctx.issues.some((i) => i.path?.[0] === key);
}

export function nonEmptyString() {
  return z.string().min(1, { error: 'must not be empty' });
}

export interface Bounds {
  min?: number;
  max?: number;
  /** The lower bound itself is excluded: `(min, ...`. */
  minOpen?: boolean;
  /** The upper bound itself is excluded: `..., max)`. */
  maxOpen?: boolean;
  int?: boolean;
}

/** "in [0, 1)", "> 0", "an integer >= 0", "an integer in [2, 4096]". */
function boundsText(b: Bounds): string {
  const kind = b.int ? 'an integer ' : '';
  if (b.min !== undefined && b.max !== undefined) {
    return `${kind}in ${b.minOpen ? '(' : '['}${b.min}, ${b.max}${b.maxOpen ? ')' : ']'}`;
  }
  if (b.min !== undefined) return `${kind}${b.minOpen ? '>' : '>='} ${b.min}`;
  if (b.max !== undefined) return `${kind}${b.maxOpen ? '<' : '<='} ${b.max}`;
  return b.int ? 'an integer' : 'a number';
}

/**
 * A number with bounds whose every violation reads `must be in [0, 1], got 1.2`: one message
 * naming both bounds and the value, whichever bound (or integrality) failed.
 */
export function boundedNumber(b: Bounds) {
  const error = (iss: { input?: unknown }) => `must be ${boundsText(b)}, got ${String(iss.input)}`;
  let s = b.int
    ? // a non-integer number fails z.int() as invalid_type; say the same thing as for a bound
      z.int({ error: (iss) => (typeof iss.input === 'number' ? error(iss) : undefined) })
    : z.number();
  if (b.min !== undefined) s = b.minOpen ? s.gt(b.min, { error }) : s.gte(b.min, { error });
  if (b.max !== undefined) s = b.maxOpen ? s.lt(b.max, { error }) : s.lte(b.max, { error });
  return s;
}
