/**
 * Guardrails: what may never happen (quiet hours, frequency caps, consent, eligibility rules and
 * forbidden combinations). They mask arms before the policy chooses; their references to
 * dimensions and arms are checked with the agent (agent-rules.ts).
 */
import { z } from 'zod';
import { clockMinutes, clockSchema } from './clock.ts';
import { conditionSchema } from './conditions.ts';
import { durationSchema, parseDuration } from './duration.ts';
import { MAX_ELIGIBILITY_RULES, MAX_FORBIDDEN_COMBINATIONS, MAX_FREQUENCY_CAPS } from './limits.ts';
import { boundedNumber, hasIssues, nonEmptyString } from './primitives.ts';

const armRefSchema = () => z.record(nonEmptyString(), nonEmptyString());

export const quietHoursSchema = z
  .strictObject({
    start: clockSchema().describe('Local time quiet hours begin, "HH:MM".'),
    end: clockSchema().describe(
      'Local time quiet hours end, "HH:MM" (exclusive); may be earlier than start to wrap midnight.',
    ),
  })
  .superRefine((q, ctx) => {
    if (!hasIssues(ctx, 'start') && !hasIssues(ctx, 'end') && q.start === q.end)
      ctx.addIssue({ code: 'custom', path: ['end'], message: `must differ from start (${q.start})`, input: q.end });
  })
  .transform((q) => ({
    start: q.start,
    end: q.end,
    startMinute: clockMinutes(q.start),
    endMinute: clockMinutes(q.end),
  }))
  .describe("No send in this local window (customer's time zone), e.g. 21:00–08:00.");
export type QuietHours = z.output<typeof quietHoursSchema>;

export const frequencyCapSchema = z
  .strictObject({
    max: boundedNumber({ min: 0, int: true }).describe('At most this many sends in the window (0 = never).'),
    per: durationSchema().describe('Rolling window, e.g. 7d.'),
    channel: nonEmptyString()
      .optional()
      .describe(
        'Count only sends on this arm of the `channel` dimension, and mask that arm; without it the cap is global and suppresses the whole decision.',
      ),
  })
  .transform((c) => ({ ...c, perMs: parseDuration(c.per)! }));
export type FrequencyCap = z.output<typeof frequencyCapSchema>;

export const eligibilityRuleSchema = z
  .strictObject({
    arm: armRefSchema()
      .refine((r) => Object.keys(r).length > 0, { error: 'must name at least one {dimension: arm}' })
      .describe(
        'The arm the rule governs, {dimension: arm}; further keys restrict it to combinations with earlier choices.',
      ),
    if: conditionSchema.optional().describe('The arm is allowed only when this holds.'),
    unless: conditionSchema.optional().describe('The arm is masked when this holds.'),
  })
  .superRefine((r, ctx) => {
    if (r.if === undefined && r.unless === undefined)
      ctx.addIssue({ code: 'custom', message: 'needs `if` or `unless`', input: r });
  });
export type EligibilityRule = z.output<typeof eligibilityRuleSchema>;

export const guardrailsSchema = z
  .strictObject({
    quiet_hours: quietHoursSchema.optional(),
    frequency_caps: z
      .array(frequencyCapSchema)
      .max(MAX_FREQUENCY_CAPS, `must have at most ${MAX_FREQUENCY_CAPS} caps`)
      .default([])
      .describe(`Maximum sends per rolling window, globally or per channel; at most ${MAX_FREQUENCY_CAPS} caps.`),
    consent: z
      .record(nonEmptyString(), nonEmptyString())
      .optional()
      .describe(
        'Channel arm → profile trait holding consent for it, e.g. {email: email_subscribed}. A channel whose consent trait is not true is never used.',
      ),
    eligibility: z
      .array(eligibilityRuleSchema)
      .max(MAX_ELIGIBILITY_RULES, `must have at most ${MAX_ELIGIBILITY_RULES} rules`)
      .default([])
      .describe(
        `Rules that allow an arm only if, or mask it unless, a condition holds; at most ${MAX_ELIGIBILITY_RULES}.`,
      ),
    forbid: z
      .array(
        armRefSchema()
          .refine((r) => Object.keys(r).length >= 2, {
            error: 'must name at least two dimensions: a combination of arms never sent together',
          })
          .describe('{dimension: arm, ...}: a combination of arms never sent together.'),
      )
      .max(MAX_FORBIDDEN_COMBINATIONS, `must have at most ${MAX_FORBIDDEN_COMBINATIONS} combinations`)
      .default([])
      .describe(`Forbidden arm combinations (brand rules); at most ${MAX_FORBIDDEN_COMBINATIONS}.`),
  })
  .describe('What may never happen: these mask arms before the policy chooses.');
export type Guardrails = z.output<typeof guardrailsSchema>;
