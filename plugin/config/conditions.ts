/**
 * Conditions (JSON, never code): trait tests, `all` / `any` / `not`, and choice tests on earlier
 * dimensions.
 *
 * Two schemas: the JSON form admins write (`conditionInputSchema`) and the normalized tagged
 * union the engine evaluates (`normalizedConditionSchema`). They are recursive, and TypeScript
 * cannot infer a recursive schema through a transform, so neither has one inside; a single
 * `normalizeCondition` converts between their inferred types and `conditionSchema` wires it in.
 */
import { z } from 'zod';
import { MAX_CONDITION_ITEMS, MAX_CONDITION_VALUES } from './limits.ts';
import { nonEmptyString } from './primitives.ts';

/** Keys with a meaning in a condition; a dimension may not use them as its id. */
export const CONDITION_KEYWORDS = ['trait', 'equals', 'in', 'gte', 'lte', 'exists', 'all', 'any', 'not'] as const;

const scalarSchema = z.union([z.string(), z.number(), z.boolean()]);

const traitConditionInputSchema = z
  .strictObject({
    trait: nonEmptyString().describe('Profile trait to test.'),
    equals: scalarSchema
      .optional()
      .describe('Holds when the trait is strictly equal to this value (no type coercion: true is not "true").'),
    in: z
      .array(scalarSchema)
      .min(1)
      .max(MAX_CONDITION_VALUES, `must have at most ${MAX_CONDITION_VALUES} values`)
      .optional()
      .describe(`Holds when the trait is strictly equal to one of these values (at most ${MAX_CONDITION_VALUES}).`),
    gte: z.number().optional().describe('Holds when the trait is a number >= this.'),
    lte: z.number().optional().describe('Holds when the trait is a number <= this.'),
    exists: z.boolean().optional().describe('true: the trait is present and not null; false: it is absent or null.'),
  })
  .superRefine((c, ctx) => {
    if (
      c.equals === undefined &&
      c.in === undefined &&
      c.gte === undefined &&
      c.lte === undefined &&
      c.exists === undefined
    ) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one of equals, in, gte, lte, exists', input: c });
    }
  })
  .describe('Trait test: {trait, equals | in | gte | lte | exists}; every operator given must hold.');

const NON_KEYWORD = new RegExp(`^(?!(?:${CONDITION_KEYWORDS.join('|')})$).+$`);

const choiceConditionInputSchema = z
  .record(
    z.string().regex(NON_KEYWORD, {
      error: (iss) =>
        `${JSON.stringify(iss.input)} is a condition keyword, not a dimension; check the spelling of the condition`,
    }),
    z.union([nonEmptyString(), z.array(nonEmptyString()).min(1).max(MAX_CONDITION_VALUES)], {
      error: 'must be an arm id or a non-empty list of arm ids',
    }),
  )
  .refine((r) => Object.keys(r).length > 0, {
    error: 'an empty condition; give a trait test, all, any, not or {<dimension>: <arm>}',
  })
  .describe(
    'Choice test: {<dimension>: <arm> | [<arm>, ...]}; holds when each named dimension was decided and chose one of the arms.',
  );

export const conditionInputSchema = z
  .union(
    [
      traitConditionInputSchema,
      z
        .strictObject({
          get all() {
            return z
              .array(conditionInputSchema)
              .min(1)
              .max(MAX_CONDITION_ITEMS, `must have at most ${MAX_CONDITION_ITEMS} conditions`)
              .describe(`Holds when every condition holds (at most ${MAX_CONDITION_ITEMS}).`);
          },
        })
        .describe('{all: [...]}'),
      z
        .strictObject({
          get any() {
            return z
              .array(conditionInputSchema)
              .min(1)
              .max(MAX_CONDITION_ITEMS, `must have at most ${MAX_CONDITION_ITEMS} conditions`)
              .describe(`Holds when at least one condition holds (at most ${MAX_CONDITION_ITEMS}).`);
          },
        })
        .describe('{any: [...]}'),
      z
        .strictObject({
          get not() {
            return conditionInputSchema;
          },
        })
        .describe('{not: ...}: holds when the inner condition does not.'),
      choiceConditionInputSchema,
    ],
    {
      error:
        'must be a condition: {trait, equals|in|gte|lte|exists}, {all: [...]}, {any: [...]}, {not: ...} or {<dimension>: <arm>}',
    },
  )
  .meta({
    id: 'Condition',
    description:
      'A condition (JSON, never code): {trait, equals|in|gte|lte|exists}, {all: [...]}, {any: [...]}, {not: ...} or {<dimension>: <arm> | [<arm>, ...]}.',
  });

export const normalizedConditionSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('trait'),
    trait: z.string(),
    equals: scalarSchema.optional(),
    in: z.array(scalarSchema).optional(),
    gte: z.number().optional(),
    lte: z.number().optional(),
    exists: z.boolean().optional(),
  }),
  z.object({
    kind: z.literal('all'),
    get all() {
      return z.array(normalizedConditionSchema);
    },
  }),
  z.object({
    kind: z.literal('any'),
    get any() {
      return z.array(normalizedConditionSchema);
    },
  }),
  z.object({
    kind: z.literal('not'),
    get not() {
      return normalizedConditionSchema;
    },
  }),
  z.object({
    kind: z.literal('choice'),
    /** Dimension id → arm ids, one of which must have been chosen. */
    choices: z.record(z.string(), z.array(z.string())),
  }),
]);

export type ConditionInput = z.input<typeof conditionInputSchema>;
export type Condition = z.output<typeof normalizedConditionSchema>;

type ParsedConditionInput = z.output<typeof conditionInputSchema>;
type ParsedTraitCondition = z.output<typeof traitConditionInputSchema>;

/** The JSON form of a condition → its tagged form. Input is already validated by `conditionInputSchema`. */
export function normalizeCondition(c: ParsedConditionInput): Condition {
  // The choice form is a record whose keys exclude the condition keywords, so a keyword key
  // identifies the branch and the casts below are exact.
  if ('trait' in c) {
    const t = c as ParsedTraitCondition;
    const out: Condition = { kind: 'trait', trait: t.trait };
    if (t.equals !== undefined) out.equals = t.equals;
    if (t.in !== undefined) out.in = t.in;
    if (t.gte !== undefined) out.gte = t.gte;
    if (t.lte !== undefined) out.lte = t.lte;
    if (t.exists !== undefined) out.exists = t.exists;
    return out;
  }
  if ('all' in c) return { kind: 'all', all: (c.all as ParsedConditionInput[]).map(normalizeCondition) };
  if ('any' in c) return { kind: 'any', any: (c.any as ParsedConditionInput[]).map(normalizeCondition) };
  if ('not' in c) return { kind: 'not', not: normalizeCondition(c.not as ParsedConditionInput) };
  const choices: Record<string, string[]> = {};
  for (const [dim, arms] of Object.entries(c as Record<string, string | string[]>))
    choices[dim] = typeof arms === 'string' ? [arms] : arms;
  return { kind: 'choice', choices };
}

/** A condition as written (JSON form), parsed into its tagged form. */
export const conditionSchema = conditionInputSchema.transform(normalizeCondition);
