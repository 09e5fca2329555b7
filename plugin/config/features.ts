/** Features: the profile traits (or derived values) a policy sees as context, and how each is encoded. */
import { z } from 'zod';
import { MAX_CATEGORY_VALUES, MAX_HASH_BUCKETS } from './limits.ts';
import { boundedNumber, nonEmptyString } from './primitives.ts';

const traitName = () => nonEmptyString().describe('Profile trait to read.');

/** A feature read from one profile trait, by its `type`. */
const traitFeatureSchema = z.discriminatedUnion('type', [
  z
    .strictObject({
      trait: traitName(),
      type: z.literal('numeric').describe('Scaled to [0, 1] by min/max and clipped.'),
      min: z.number().describe('Value that maps to 0.'),
      max: z.number().describe('Value that maps to 1; greater than min.'),
    })
    .superRefine((f, ctx) => {
      if (!(f.min < f.max))
        ctx.addIssue({
          code: 'custom',
          path: ['max'],
          message: `must be greater than min (${f.min}), got ${f.max}`,
          input: f.max,
        });
    }),
  z
    .strictObject({
      trait: traitName(),
      type: z.literal('categorical').describe('One-hot over the listed values, plus one slot for anything else.'),
      values: z
        .array(nonEmptyString())
        .min(1)
        .max(MAX_CATEGORY_VALUES, `must have at most ${MAX_CATEGORY_VALUES} values`)
        .describe(`The categories to encode, unique; at most ${MAX_CATEGORY_VALUES}.`),
    })
    .superRefine((f, ctx) => {
      f.values.forEach((v, i) => {
        if (f.values.indexOf(v) !== i)
          ctx.addIssue({
            code: 'custom',
            path: ['values', i],
            message: `duplicate value ${JSON.stringify(v)}`,
            input: v,
          });
      });
    }),
  z.strictObject({
    trait: traitName(),
    type: z.literal('hashed').describe('Hashed one-hot for high-cardinality strings (city, product id).'),
    buckets: boundedNumber({ min: 2, max: MAX_HASH_BUCKETS, int: true }).describe(
      `Number of hash buckets, an integer in [2, ${MAX_HASH_BUCKETS}].`,
    ),
  }),
  z.strictObject({
    trait: traitName(),
    type: z.literal('boolean').describe('1 when the trait is true, 0 otherwise, plus a missing flag.'),
  }),
  z.strictObject({
    trait: traitName(),
    type: z.literal('recency').describe('Time since a timestamp trait, scaled by max and clipped.'),
    unit: z.enum(['hours', 'days']).describe('Unit of the elapsed time.'),
    max: boundedNumber({ min: 0, minOpen: true })
      .default(365)
      .describe('Elapsed time (in `unit`) that maps to 1; older is clipped.'),
  }),
]);

export const featureSpecSchema = z
  .union(
    [
      traitFeatureSchema,
      z.strictObject({
        derived: z
          .enum(['local_hour', 'local_weekday'])
          .describe("Computed from the profile's time zone and the decision time."),
      }),
    ],
    {
      error:
        'must be a trait feature {trait, type: numeric|categorical|hashed|boolean|recency, ...} or {derived: local_hour|local_weekday}',
    },
  )
  .describe('How one profile trait (or derived value) becomes context for the policy.');
export type FeatureSpec = z.output<typeof featureSpecSchema>;
