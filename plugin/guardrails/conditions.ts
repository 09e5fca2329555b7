import type { Condition } from '../config/index.ts';

/** What a condition sees: the profile's traits and the arms chosen so far, by dimension id. */
export interface ConditionContext {
  traits: Readonly<Record<string, unknown>>;
  choices: Readonly<Record<string, string>>;
}

/**
 * Evaluates a (normalized) condition.
 *
 * - `trait`: every operator given must hold.
 *   - `equals` / `in`: strict equality (`===`), no coercion: the boolean `true` does not equal
 *     the string `"true"`, and `3` does not equal `"3"`. Adapters deliver typed traits.
 *   - `gte` / `lte`: hold only for a trait that is a finite number, compared numerically.
 *   - `exists: true`: the trait is present and not null; `exists: false`: absent or null.
 * - `all` / `any` / `not`: as in logic (`all: []` holds, `any: []` does not).
 * - `choice`: every named dimension was decided and chose one of the listed arms; a dimension
 *   not (yet) decided makes it false.
 */
export function matches(cond: Condition, ctx: ConditionContext): boolean {
  switch (cond.kind) {
    case 'trait': {
      const value = Object.hasOwn(ctx.traits, cond.trait) ? ctx.traits[cond.trait] : undefined;
      if (cond.exists !== undefined && cond.exists !== (value !== undefined && value !== null)) return false;
      if (cond.equals !== undefined && value !== cond.equals) return false;
      if (cond.in !== undefined && !cond.in.includes(value as string | number | boolean)) return false;
      if (cond.gte !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= cond.gte))
        return false;
      if (cond.lte !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value <= cond.lte))
        return false;
      return true;
    }
    case 'all':
      for (const c of cond.all) if (!matches(c, ctx)) return false;
      return true;
    case 'any':
      for (const c of cond.any) if (matches(c, ctx)) return true;
      return false;
    case 'not':
      return !matches(cond.not, ctx);
    case 'choice':
      for (const dimension in cond.choices) {
        const chosen = Object.hasOwn(ctx.choices, dimension) ? ctx.choices[dimension] : undefined;
        if (chosen === undefined || !cond.choices[dimension].includes(chosen)) return false;
      }
      return true;
  }
}
