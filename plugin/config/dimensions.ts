/**
 * Dimensions (what an agent decides, in order) and their arms (the approved variants). Parsing
 * turns every arm into `{id, tags, hour?}`, and gives local_hour arms the hour of their id.
 */
import { z } from 'zod';
import { CONDITION_KEYWORDS, conditionSchema } from './conditions.ts';
import { MAX_ARMS, MAX_ARM_TAGS, MAX_DIMENSIONS, MAX_FEATURES } from './limits.ts';
import { boundedNumber, hasIssues, idSchema, nonEmptyString } from './primitives.ts';

const HOUR_PATTERN = /^(?:[01]?[0-9]|2[0-3])$/;

const armObjectSchema = z.strictObject({
  id: nonEmptyString().describe('Arm id, unique within the dimension; this is what gets delivered.'),
  text: z.string().optional().describe('The approved content (subject line, block copy), for reference and delivery.'),
  tags: z
    .array(nonEmptyString())
    .max(MAX_ARM_TAGS, `must have at most ${MAX_ARM_TAGS} tags`)
    .default([])
    .describe(`Free-form labels (urgency, discount, ...) for reports and rules; at most ${MAX_ARM_TAGS}.`),
  hour: boundedNumber({ min: 0, max: 23, int: true })
    .optional()
    .describe('Local send hour 0–23 (local_hour dimensions only; defaults to the id when that is an hour).'),
});
export type Arm = z.output<typeof armObjectSchema>;

export const armSchema = z
  .union(
    [
      nonEmptyString().describe('Arm id.'),
      z.number().describe('An hour 0–23, for local_hour dimensions.'),
      armObjectSchema.describe('Arm with its content and labels.'),
    ],
    { error: 'must be an arm id, an hour (number) or {id, text?, tags?, hour?}' },
  )
  .transform((a): Arm => (typeof a === 'object' ? a : { id: String(a), tags: [] }))
  .describe('An approved variant: `send`, `8` (an hour) or {id, text?, tags?, hour?}.');

export const dimensionSchema = z
  .strictObject({
    id: idSchema()
      .refine((id) => !(CONDITION_KEYWORDS as readonly string[]).includes(id), {
        error: (iss) => `${JSON.stringify(iss.input)} is reserved for conditions`,
      })
      .describe(
        'Dimension id, unique in the agent, e.g. channel, subject_line. `channel` is the one consent and channel caps refer to.',
      ),
    type: z
      .enum(['categorical', 'local_hour'])
      .default('categorical')
      .describe("categorical (default), or local_hour: arms are send hours in the customer's time zone."),
    arms: z
      .array(armSchema)
      .min(1)
      .max(MAX_ARMS, `must have at most ${MAX_ARMS} arms`)
      .describe(
        `The approved variants to choose among; at most ${MAX_ARMS} (and the agent's model within its budget, see \`dimensions\`).`,
      ),
    default: z
      .union([nonEmptyString(), z.number()], { error: 'must be an arm id' })
      .transform(String)
      .describe('Arm used for holdout customers and when a decision cannot be made.'),
    when: conditionSchema
      .optional()
      .describe(
        'Decide (and reward) this dimension only when the condition holds; may test traits and earlier dimensions.',
      ),
    features: z
      .array(nonEmptyString())
      .max(MAX_FEATURES + MAX_DIMENSIONS)
      .optional()
      .describe(
        "What this dimension's policy sees: names of the agent's features (a trait, or local_hour / local_weekday) and ids of earlier dimensions (their choice). Default: all of them; [] leaves only the intercept (no context). Fewer inputs, fewer weights to learn: a dimension given only the traits that matter to it learns faster.",
      ),
  })
  .superRefine((d, ctx) => {
    // an arm or default with issues of its own may not be normalized: leave it to those issues
    if (ctx.issues.some((i) => i.path?.length === 1 && i.path[0] === 'arms')) return;
    const armOk = (i: number) => !ctx.issues.some((x) => x.path?.[0] === 'arms' && x.path[1] === i);
    const ids = d.arms.map((a, i) => (armOk(i) ? a.id : undefined));
    d.arms.forEach((arm, i) => {
      if (!armOk(i)) return;
      if (ids.indexOf(arm.id) !== i)
        ctx.addIssue({
          code: 'custom',
          path: ['arms', i, 'id'],
          message: `duplicate arm id ${JSON.stringify(arm.id)}`,
          input: arm.id,
        });
      if (d.type === 'local_hour') {
        if (arm.hour === undefined && !HOUR_PATTERN.test(arm.id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['arms', i],
            message: `needs an hour 0–23 in a local_hour dimension: use the hour as the id or give "hour", got id ${JSON.stringify(arm.id)}`,
            input: arm,
          });
        }
      } else if (arm.hour !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['arms', i, 'hour'],
          message: 'is only allowed in a local_hour dimension',
          input: arm.hour,
        });
      }
    });
    if (!hasIssues(ctx, 'default') && !ids.includes(d.default) && d.arms.every((_, i) => armOk(i))) {
      ctx.addIssue({
        code: 'custom',
        path: ['default'],
        message: `${JSON.stringify(d.default)} is not one of the arms (${ids.join(', ')})`,
        input: d.default,
      });
    }
  })
  .transform((d) =>
    d.type === 'local_hour'
      ? { ...d, arms: d.arms.map((a) => (a.hour === undefined ? { ...a, hour: Number(a.id) } : a)) }
      : d,
  );
export type Dimension = z.output<typeof dimensionSchema>;
