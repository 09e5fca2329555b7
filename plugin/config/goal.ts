/** The goal: which outcome events earn reward, how much, and within which attribution window. */
import { z } from 'zod';
import { durationSchema, parseDuration } from './duration.ts';
import { MAX_REWARD_RULES } from './limits.ts';
import { boundedNumber, nonEmptyString } from './primitives.ts';

/** How long after a goal window closes its events are still accepted, unless the goal says otherwise. */
export const LATE_MARGIN_DEFAULT = '7d';
export const LATE_MARGIN_DEFAULT_MS = parseDuration(LATE_MARGIN_DEFAULT)!;

export const rewardRuleSchema = z.strictObject({
  event: nonEmptyString().describe(
    'Outcome event name, as tracked (the `event` of a track call), e.g. "Order Completed".',
  ),
  value: z
    .union(
      [
        boundedNumber({ min: 0, max: 1 }).describe('Fixed reward for the event, in [0, 1].'),
        z
          .strictObject({
            property: nonEmptyString().describe('Event property holding the amount, e.g. "revenue".'),
            cap: boundedNumber({ min: 0, minOpen: true }).describe(
              'Amount that counts as reward 1; the reward is min(amount / cap, 1).',
            ),
          })
          .describe('Reward scaled from an event property: min(property / cap, 1).'),
      ],
      { error: 'must be a number in [0, 1] or {property, cap}' },
    )
    .describe('Reward the event earns: a number in [0, 1], or {property, cap} to scale an amount.'),
});
export type RewardRule = z.output<typeof rewardRuleSchema>;

export const goalSchema = z
  .strictObject({
    window: durationSchema().describe(
      'Attribution window: an outcome counts if it comes within this time of the decision, e.g. 72h.',
    ),
    rewards: z
      .array(rewardRuleSchema)
      .min(1)
      .max(MAX_REWARD_RULES, `must have at most ${MAX_REWARD_RULES} rules`)
      .describe(`Which outcome events earn reward, and how much; at most ${MAX_REWARD_RULES} rules.`),
    combine: z
      .enum(['first', 'sum', 'max'])
      .default('max')
      .describe(
        'How several rewarded events of one decision combine: the first, the sum capped at 1, or the largest (default).',
      ),
    late_margin: durationSchema()
      .default(LATE_MARGIN_DEFAULT)
      .describe(
        `How late after the window an event may still arrive (Segment retries, replays, offline devices), default ${LATE_MARGIN_DEFAULT}. Events dated before the longest window plus late_margin of the workspace's agents, or more than a day ahead of the service's clock, can earn nothing: the Segment webhook refuses them (400).`,
      ),
  })
  .transform((g) => ({
    window: g.window,
    windowMs: parseDuration(g.window)!,
    rewards: g.rewards,
    combine: g.combine,
    lateMarginMs: parseDuration(g.late_margin)!,
  }));
