/**
 * The workspace / agent config: the public contract admins write (docs: shared DESIGN.md,
 * "The agent config"). One zod schema is the single source of truth: TS types below are
 * `z.output` of it, `manifest/agent-config.schema.json` is generated from its input side, and
 * `validateConfig` (load.ts) turns its issues into `path: message` lines.
 *
 * Parsing also normalizes, so the decision engine never re-interprets config:
 * arms become `{id, tags, hour?}` objects, durations get a `*Ms` twin, conditions become a
 * tagged union on `kind`, `salt` defaults to the agent id, and every optional list defaults to `[]`.
 *
 * Cross-field rules (arm references, dimension order, consent channels, ...) are `superRefine`s
 * with exact paths. They run once the parts they cross-reference are individually valid, so a
 * config with a malformed dimension reports that first and its dangling references after the fix.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Building blocks

// spelled out rather than with the `i` flag: JSON Schema patterns have no flags
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Keys with a meaning in a condition; a dimension may not use them as its id. */
export const CONDITION_KEYWORDS = ['trait', 'equals', 'in', 'gte', 'lte', 'exists', 'all', 'any', 'not'] as const;

/** An id usable in attribute names and URLs: letters, digits, `_`, `-`, not starting with `_`/`-`. */
function idSchema() {
  return z.string().regex(ID_PATTERN, {
    error: (iss) => `must contain only letters, digits, "_" or "-" and start with a letter or digit, got ${JSON.stringify(iss.input)}`,
  });
}

/** Whether parsing already found a problem under `key` (paths are relative to the refined object). */
function hasIssues(ctx: { issues: { path?: PropertyKey[] }[] }, key: string): boolean {
  return ctx.issues.some((i) => i.path?.[0] === key);
}

function nonEmptyString() {
  return z.string().min(1, { error: 'must not be empty' });
}

interface Bounds {
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
function boundedNumber(b: Bounds) {
  const error = (iss: { input?: unknown }) => `must be ${boundsText(b)}, got ${String(iss.input)}`;
  let s = b.int
    ? // a non-integer number fails z.int() as invalid_type; say the same thing as for a bound
      z.int({ error: (iss) => (typeof iss.input === 'number' ? error(iss) : undefined) })
    : z.number();
  if (b.min !== undefined) s = b.minOpen ? s.gt(b.min, { error }) : s.gte(b.min, { error });
  if (b.max !== undefined) s = b.maxOpen ? s.lt(b.max, { error }) : s.lte(b.max, { error });
  return s;
}

const DURATION_PATTERN = /^([1-9][0-9]*)(s|m|h|d|w)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION_HINT = 'must be a duration like 72h, 7d, 30m, 90s or 2w';

/** Milliseconds in a duration string such as `72h`, `7d`, `30m`, `90s`, `2w`; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}

function durationSchema() {
  return z
    .string({ error: (iss) => (iss.code === 'invalid_type' && iss.input !== undefined ? `${DURATION_HINT}, got ${String(iss.input)}` : undefined) })
    .regex(DURATION_PATTERN, { error: (iss) => `${DURATION_HINT}, got ${JSON.stringify(iss.input)}` });
}

const CLOCK_PATTERN = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
const CLOCK_HINT = 'must be a time "HH:MM" from 00:00 to 23:59 (quoted in YAML)';

function clockSchema() {
  return z
    .string({ error: (iss) => (iss.code === 'invalid_type' && iss.input !== undefined ? `${CLOCK_HINT}, got ${String(iss.input)}` : undefined) })
    .regex(CLOCK_PATTERN, { error: (iss) => `${CLOCK_HINT}, got ${JSON.stringify(iss.input)}` });
}

/** Minutes since local midnight of a valid "HH:MM". */
function clockMinutes(text: string): number {
  return Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
}

// ---------------------------------------------------------------------------------------------
// Conditions
//
// Two schemas: the JSON form admins write (`conditionInputSchema`) and the normalized tagged
// union the engine evaluates (`normalizedConditionSchema`). They are recursive, and TypeScript
// cannot infer a recursive schema through a transform, so neither has one inside; a single
// `normalizeCondition` converts between their inferred types and `conditionSchema` wires it in.

const scalarSchema = z.union([z.string(), z.number(), z.boolean()]);

const traitConditionInputSchema = z
  .strictObject({
    trait: nonEmptyString().describe('Profile trait to test.'),
    equals: scalarSchema.optional().describe('Holds when the trait is strictly equal to this value (no type coercion: true is not "true").'),
    in: z.array(scalarSchema).min(1).optional().describe('Holds when the trait is strictly equal to one of these values.'),
    gte: z.number().optional().describe('Holds when the trait is a number >= this.'),
    lte: z.number().optional().describe('Holds when the trait is a number <= this.'),
    exists: z.boolean().optional().describe('true: the trait is present and not null; false: it is absent or null.'),
  })
  .superRefine((c, ctx) => {
    if (c.equals === undefined && c.in === undefined && c.gte === undefined && c.lte === undefined && c.exists === undefined) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one of equals, in, gte, lte, exists', input: c });
    }
  })
  .describe('Trait test: {trait, equals | in | gte | lte | exists}; every operator given must hold.');

const NON_KEYWORD = new RegExp(`^(?!(?:${CONDITION_KEYWORDS.join('|')})$).+$`);

const choiceConditionInputSchema = z
  .record(
    z.string().regex(NON_KEYWORD, { error: (iss) => `${JSON.stringify(iss.input)} is a condition keyword, not a dimension; check the spelling of the condition` }),
    z.union([nonEmptyString(), z.array(nonEmptyString()).min(1)], { error: 'must be an arm id or a non-empty list of arm ids' }),
  )
  .refine((r) => Object.keys(r).length > 0, { error: 'an empty condition; give a trait test, all, any, not or {<dimension>: <arm>}' })
  .describe('Choice test: {<dimension>: <arm> | [<arm>, ...]}; holds when each named dimension was decided and chose one of the arms.');

export const conditionInputSchema = z.union(
  [
    traitConditionInputSchema,
    z
      .strictObject({
        get all() {
          return z.array(conditionInputSchema).min(1).describe('Holds when every condition holds.');
        },
      })
      .describe('{all: [...]}'),
    z
      .strictObject({
        get any() {
          return z.array(conditionInputSchema).min(1).describe('Holds when at least one condition holds.');
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
  { error: 'must be a condition: {trait, equals|in|gte|lte|exists}, {all: [...]}, {any: [...]}, {not: ...} or {<dimension>: <arm>}' },
).meta({
  id: 'Condition',
  description: 'A condition (JSON, never code): {trait, equals|in|gte|lte|exists}, {all: [...]}, {any: [...]}, {not: ...} or {<dimension>: <arm> | [<arm>, ...]}.',
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
  for (const [dim, arms] of Object.entries(c as Record<string, string | string[]>)) choices[dim] = typeof arms === 'string' ? [arms] : arms;
  return { kind: 'choice', choices };
}

/** A condition as written (JSON form), parsed into its tagged form. */
export const conditionSchema = conditionInputSchema.transform(normalizeCondition);

// ---------------------------------------------------------------------------------------------
// Goal

export const rewardRuleSchema = z.strictObject({
  event: nonEmptyString().describe('Outcome event name, as tracked (Segment spec `event`), e.g. "Order Completed".'),
  value: z
    .union(
      [
        boundedNumber({ min: 0, max: 1 }).describe('Fixed reward for the event, in [0, 1].'),
        z
          .strictObject({
            property: nonEmptyString().describe('Event property holding the amount, e.g. "revenue".'),
            cap: boundedNumber({ min: 0, minOpen: true }).describe('Amount that counts as reward 1; the reward is min(amount / cap, 1).'),
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
    window: durationSchema().describe('Attribution window: an outcome counts if it comes within this time of the decision, e.g. 72h.'),
    rewards: z.array(rewardRuleSchema).min(1).describe('Which outcome events earn reward, and how much.'),
    combine: z
      .enum(['first', 'sum', 'max'])
      .default('max')
      .describe('How several rewarded events of one decision combine: the first, the sum capped at 1, or the largest (default).'),
  })
  .transform((g) => ({ window: g.window, windowMs: parseDuration(g.window)!, rewards: g.rewards, combine: g.combine }));

// ---------------------------------------------------------------------------------------------
// Policy

const policyCommon = {
  floor: boundedNumber({ min: 0, max: 1, maxOpen: true })
    .default(0.05)
    .describe('Exploration floor in [0, 1): every eligible arm keeps at least floor / K probability, so propensities stay usable for evaluation.'),
  forgetting: boundedNumber({ min: 0, minOpen: true, max: 1 })
    .default(1)
    .describe('Forgetting factor in (0, 1]: how much old evidence keeps per update, for drifting behaviour (1 = never forget; 0.999 ≈ a memory of 1000 updates).'),
};

/**
 * Evidence kept at a detected change, in outcomes. Chosen in the drift scenario on seeds 4–6
 * (docs/algorithms.md reports seeds 1–3).
 */
export const RETAIN_DEFAULT = 750;

/** Change detection, for the policies that estimate rewards (all but random). */
const detect = () =>
  z
    .strictObject({
      slack: boundedNumber({ min: 0 })
        .default(0.1)
        .describe('Standardized shortfall per outcome that still counts as normal (the CUSUM allowance): shortfalls are (estimate − reward) / √(estimate·(1 − estimate)).'),
      threshold: boundedNumber({ min: 0, minOpen: true })
        .default(100)
        .describe('Accumulated standardized shortfall beyond the slack at which learning restarts.'),
      warmup: boundedNumber({ min: 0, int: true })
        .default(2000)
        .describe('Outcomes learned after a start, a restart or a change of the model\'s layout before shortfalls are counted (young estimates are rough).'),
      retain: boundedNumber({ min: 0 })
        .default(RETAIN_DEFAULT)
        .describe(
          'What each dimension keeps at a restart, in outcomes: a dimension that has learned n > retain outcomes keeps their evidence weighed retain / n (its estimates shrink toward the prior, its uncertainty grows), so what has not changed is relearned quickly and what has is overturned by a few thousand outcomes. 0 restarts from the prior. With forgetting, a dimension holds at most 1 / (1 − forgetting) outcomes\' worth, and a retain at or above that discounts nothing.',
        ),
    })
    .optional()
    .describe(
      'Restart learning when behaviour changes abruptly: a one-sided CUSUM of how far outcomes fall below what the policies expected for the chosen arms; past the threshold, every dimension keeps only `retain` outcomes\' worth of what it learned. Absent: off.',
    );

const draws = () =>
  boundedNumber({ min: 10, max: 100_000, int: true })
    .default(300)
    .describe("Monte Carlo draws that estimate Thompson sampling's arm probabilities; the arm is then sampled from exactly that estimate, so logged propensities stay exact. Standard error at most 0.5/sqrt(draws) per arm.");
const lambda = () => boundedNumber({ min: 0, minOpen: true }).default(1).describe('Ridge regularization (prior precision) of the per-arm linear model.');
const share = () =>
  z
    .enum(['none', 'tags'])
    .default('none')
    .describe(
      'How arms share what is learned. none: one model per arm. tags: in a dimension where two or more arms have a tag in common, one model learns a weight vector per tag (summed over an arm\'s tags) and an offset per arm, so variants learn from each other\'s data; an arm without tags is a group of its own. Costs memory and learn time in (features × tags)².',
    );

export const POLICY_KINDS = ['random', 'beta-ts', 'eps-greedy', 'linucb', 'lin-ts', 'logistic-ts', 'squarecb'] as const;

export const policyConfigSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('random').describe('Uniform over eligible arms: a baseline, or for collecting unbiased logs.'), ...policyCommon }),
    z.strictObject({
      kind: z.literal('beta-ts').describe('Beta–Bernoulli Thompson sampling, no context: good for cold start.'),
      ...policyCommon,
      detect: detect(),
      draws: draws(),
    }),
    z.strictObject({
      kind: z.literal('eps-greedy').describe('Epsilon-greedy over a per-arm ridge regression.'),
      ...policyCommon,
      detect: detect(),
      epsilon: boundedNumber({ min: 0, max: 1 }).default(0.1).describe('Share of probability spread uniformly over eligible arms.'),
      lambda: lambda(),
      share: share(),
    }),
    z.strictObject({
      kind: z.literal('linucb').describe('LinUCB: optimism in the face of uncertainty over a per-arm ridge regression.'),
      ...policyCommon,
      detect: detect(),
      alpha: boundedNumber({ min: 0, minOpen: true }).default(1).describe('Width of the confidence bonus; larger explores more.'),
      lambda: lambda(),
      share: share(),
    }),
    z.strictObject({
      kind: z.literal('lin-ts').describe('Linear Thompson sampling.'),
      ...policyCommon,
      detect: detect(),
      v: boundedNumber({ min: 0, minOpen: true }).default(0.5).describe('Posterior scale; larger explores more.'),
      lambda: lambda(),
      share: share(),
      draws: draws(),
    }),
    z.strictObject({
      kind: z.literal('logistic-ts').describe('Bayesian logistic regression (Laplace approximation) with Thompson sampling.'),
      ...policyCommon,
      detect: detect(),
      priorVariance: boundedNumber({ min: 0, minOpen: true }).default(1).describe('Variance of the Gaussian prior on the weights.'),
      share: share(),
      draws: draws(),
    }),
    z.strictObject({
      kind: z.literal('squarecb').describe('SquareCB: inverse-gap weighting of regression scores into an explicit distribution.'),
      ...policyCommon,
      detect: detect(),
      gamma: boundedNumber({ min: 0, minOpen: true }).default(50).describe('Learning-rate-like greediness; larger exploits more.'),
      lambda: lambda(),
      share: share(),
    }),
  ])
  .describe(`The bandit algorithm and its parameters; \`kind\` is one of ${POLICY_KINDS.join(', ')}.`);
export type PolicyConfig = z.output<typeof policyConfigSchema>;
export type ChangeDetection = NonNullable<z.output<ReturnType<typeof detect>>>;

/** The policy's change detection settings, if it has them on (see learn.ts). */
export function changeDetection(policy: PolicyConfig): ChangeDetection | undefined {
  return 'detect' in policy ? policy.detect : undefined;
}

// ---------------------------------------------------------------------------------------------
// Features

const traitName = () => nonEmptyString().describe('Profile trait to read.');

export const featureSpecSchema = z
  .union(
    [
      z.discriminatedUnion('type', [
        z
          .strictObject({
            trait: traitName(),
            type: z.literal('numeric').describe('Scaled to [0, 1] by min/max and clipped.'),
            min: z.number().describe('Value that maps to 0.'),
            max: z.number().describe('Value that maps to 1; greater than min.'),
          })
          .superRefine((f, ctx) => {
            if (!(f.min < f.max)) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be greater than min (${f.min}), got ${f.max}`, input: f.max });
          }),
        z
          .strictObject({
            trait: traitName(),
            type: z.literal('categorical').describe('One-hot over the listed values, plus one slot for anything else.'),
            values: z.array(nonEmptyString()).min(1).describe('The categories to encode, unique.'),
          })
          .superRefine((f, ctx) => {
            f.values.forEach((v, i) => {
              if (f.values.indexOf(v) !== i) ctx.addIssue({ code: 'custom', path: ['values', i], message: `duplicate value ${JSON.stringify(v)}`, input: v });
            });
          }),
        z.strictObject({
          trait: traitName(),
          type: z.literal('hashed').describe('Hashed one-hot for high-cardinality strings (city, product id).'),
          buckets: boundedNumber({ min: 2, max: 4096, int: true }).describe('Number of hash buckets, an integer in [2, 4096].'),
        }),
        z.strictObject({
          trait: traitName(),
          type: z.literal('boolean').describe('1 when the trait is true, 0 otherwise, plus a missing flag.'),
        }),
        z.strictObject({
          trait: traitName(),
          type: z.literal('recency').describe('Time since a timestamp trait, scaled by max and clipped.'),
          unit: z.enum(['hours', 'days']).describe('Unit of the elapsed time.'),
          max: boundedNumber({ min: 0, minOpen: true }).default(365).describe('Elapsed time (in `unit`) that maps to 1; older is clipped.'),
        }),
      ]),
      z.strictObject({
        derived: z.enum(['local_hour', 'local_weekday']).describe("Computed from the profile's time zone and the decision time."),
      }),
    ],
    { error: 'must be a trait feature {trait, type: numeric|categorical|hashed|boolean|recency, ...} or {derived: local_hour|local_weekday}' },
  )
  .describe('How one profile trait (or derived value) becomes context for the policy.');
export type FeatureSpec = z.output<typeof featureSpecSchema>;

// ---------------------------------------------------------------------------------------------
// Dimensions and arms

const HOUR_PATTERN = /^(?:[01]?[0-9]|2[0-3])$/;

const armObjectSchema = z.strictObject({
  id: nonEmptyString().describe('Arm id, unique within the dimension; this is what gets delivered.'),
  text: z.string().optional().describe('The approved content (subject line, block copy), for reference and delivery.'),
  tags: z.array(nonEmptyString()).default([]).describe('Free-form labels (urgency, discount, ...) for reports and rules.'),
  hour: boundedNumber({ min: 0, max: 23, int: true }).optional().describe('Local send hour 0–23 (local_hour dimensions only; defaults to the id when that is an hour).'),
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
      .refine((id) => !(CONDITION_KEYWORDS as readonly string[]).includes(id), { error: (iss) => `${JSON.stringify(iss.input)} is reserved for conditions` })
      .describe('Dimension id, unique in the agent, e.g. channel, subject_line. `channel` is the one consent and channel caps refer to.'),
    type: z
      .enum(['categorical', 'local_hour'])
      .default('categorical')
      .describe('categorical (default), or local_hour: arms are send hours in the customer\'s time zone.'),
    arms: z.array(armSchema).min(1).describe('The approved variants to choose among.'),
    default: z
      .union([nonEmptyString(), z.number()], { error: 'must be an arm id' })
      .transform(String)
      .describe('Arm used for holdout customers and when a decision cannot be made.'),
    when: conditionSchema.optional().describe('Decide (and reward) this dimension only when the condition holds; may test traits and earlier dimensions.'),
    features: z
      .array(nonEmptyString())
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
      if (ids.indexOf(arm.id) !== i) ctx.addIssue({ code: 'custom', path: ['arms', i, 'id'], message: `duplicate arm id ${JSON.stringify(arm.id)}`, input: arm.id });
      if (d.type === 'local_hour') {
        if (arm.hour === undefined && !HOUR_PATTERN.test(arm.id)) {
          ctx.addIssue({ code: 'custom', path: ['arms', i], message: `needs an hour 0–23 in a local_hour dimension: use the hour as the id or give "hour", got id ${JSON.stringify(arm.id)}`, input: arm });
        }
      } else if (arm.hour !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['arms', i, 'hour'], message: 'is only allowed in a local_hour dimension', input: arm.hour });
      }
    });
    if (!hasIssues(ctx, 'default') && !ids.includes(d.default) && d.arms.every((_, i) => armOk(i))) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: `${JSON.stringify(d.default)} is not one of the arms (${ids.join(', ')})`, input: d.default });
    }
  })
  .transform((d) => (d.type === 'local_hour' ? { ...d, arms: d.arms.map((a) => (a.hour === undefined ? { ...a, hour: Number(a.id) } : a)) } : d));
export type Dimension = z.output<typeof dimensionSchema>;

// ---------------------------------------------------------------------------------------------
// Guardrails

const armRefSchema = () => z.record(nonEmptyString(), nonEmptyString());

export const quietHoursSchema = z
  .strictObject({
    start: clockSchema().describe('Local time quiet hours begin, "HH:MM".'),
    end: clockSchema().describe('Local time quiet hours end, "HH:MM" (exclusive); may be earlier than start to wrap midnight.'),
  })
  .superRefine((q, ctx) => {
    if (!hasIssues(ctx, 'start') && !hasIssues(ctx, 'end') && q.start === q.end) ctx.addIssue({ code: 'custom', path: ['end'], message: `must differ from start (${q.start})`, input: q.end });
  })
  .transform((q) => ({ start: q.start, end: q.end, startMinute: clockMinutes(q.start), endMinute: clockMinutes(q.end) }))
  .describe("No send in this local window (customer's time zone), e.g. 21:00–08:00.");
export type QuietHours = z.output<typeof quietHoursSchema>;

export const frequencyCapSchema = z
  .strictObject({
    max: boundedNumber({ min: 0, int: true }).describe('At most this many sends in the window (0 = never).'),
    per: durationSchema().describe('Rolling window, e.g. 7d.'),
    channel: nonEmptyString().optional().describe('Count only sends on this arm of the `channel` dimension, and mask that arm; without it the cap is global and suppresses the whole decision.'),
  })
  .transform((c) => ({ ...c, perMs: parseDuration(c.per)! }));
export type FrequencyCap = z.output<typeof frequencyCapSchema>;

export const eligibilityRuleSchema = z
  .strictObject({
    arm: armRefSchema()
      .refine((r) => Object.keys(r).length > 0, { error: 'must name at least one {dimension: arm}' })
      .describe('The arm the rule governs, {dimension: arm}; further keys restrict it to combinations with earlier choices.'),
    if: conditionSchema.optional().describe('The arm is allowed only when this holds.'),
    unless: conditionSchema.optional().describe('The arm is masked when this holds.'),
  })
  .superRefine((r, ctx) => {
    if (r.if === undefined && r.unless === undefined) ctx.addIssue({ code: 'custom', message: 'needs `if` or `unless`', input: r });
  });
export type EligibilityRule = z.output<typeof eligibilityRuleSchema>;

export const guardrailsSchema = z
  .strictObject({
    quiet_hours: quietHoursSchema.optional(),
    frequency_caps: z.array(frequencyCapSchema).default([]).describe('Maximum sends per rolling window, globally or per channel.'),
    consent: z
      .record(nonEmptyString(), nonEmptyString())
      .optional()
      .describe('Channel arm → profile trait holding consent for it, e.g. {email: email_subscribed}. A channel whose consent trait is not true is never used.'),
    eligibility: z.array(eligibilityRuleSchema).default([]).describe('Rules that allow an arm only if, or mask it unless, a condition holds.'),
    forbid: z
      .array(
        armRefSchema()
          .refine((r) => Object.keys(r).length >= 2, { error: 'must name at least two dimensions: a combination of arms never sent together' })
          .describe('{dimension: arm, ...}: a combination of arms never sent together.'),
      )
      .default([])
      .describe('Forbidden arm combinations (brand rules).'),
  })
  .describe('What may never happen: these mask arms before the policy chooses.');
export type Guardrails = z.output<typeof guardrailsSchema>;

// ---------------------------------------------------------------------------------------------
// Delivery

const MODES_BY_DESTINATION = {
  braze: ['attributes', 'campaign_trigger', 'canvas_trigger'],
  hubspot: ['contact_properties'],
  segment: ['identify'],
} as const;

export const deliverySchema = z
  .strictObject({
    to: z.enum(['braze', 'hubspot', 'segment']).describe('Destination system.'),
    mode: z
      .enum(['attributes', 'campaign_trigger', 'canvas_trigger', 'contact_properties', 'identify'])
      .describe('braze: attributes | campaign_trigger | canvas_trigger; hubspot: contact_properties; segment: identify.'),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_]*$/, { error: (iss) => `must contain only letters, digits and "_", got ${JSON.stringify(iss.input)}` })
      .default('nb_')
      .describe('Prefix of the attribute / property names written, e.g. nb_subject_line.'),
    campaign_id: nonEmptyString().optional().describe('Braze API-triggered campaign id (mode campaign_trigger).'),
    canvas_id: nonEmptyString().optional().describe('Braze API-triggered canvas id (mode canvas_trigger).'),
  })
  .superRefine((d, ctx) => {
    const modes: readonly string[] = MODES_BY_DESTINATION[d.to];
    if (!modes.includes(d.mode)) {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: `${d.to} supports ${modes.join(', ')}, got ${JSON.stringify(d.mode)}`, input: d.mode });
    }
    for (const [key, mode] of [['campaign_id', 'campaign_trigger'], ['canvas_id', 'canvas_trigger']] as const) {
      if (d.mode === mode && d[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required when mode is ${mode}`, input: undefined });
      if (d.mode !== mode && d[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `only used when mode is ${mode}`, input: d[key] });
    }
  })
  .describe('Where decisions go.');
export type Delivery = z.output<typeof deliverySchema>;

// ---------------------------------------------------------------------------------------------
// Agent: cross-field rules

type Path = (string | number)[];
/**
 * The parts of an agent the cross-field rules read, in their parsed types. (The agent's own
 * output type cannot be named here: it is inferred from the schema these rules belong to.)
 */
type AgentDraft = {
  features?: FeatureSpec[];
  dimensions?: Dimension[];
  guardrails?: Guardrails;
};

function armList(dim: Dimension): string {
  return dim.arms.map((a) => a.id).join(', ');
}

/**
 * Checks that a condition's choice tests name dimensions decided before position `before`
 * (and arms they have). `path` is the condition's path in the input.
 */
function checkConditionRefs(cond: Condition, dims: Dimension[], before: number, beforeId: string, path: Path, issue: (path: Path, message: string) => void): void {
  switch (cond.kind) {
    case 'trait':
      return;
    case 'all':
    case 'any':
      (cond.kind === 'all' ? cond.all : cond.any).forEach((c, i) => checkConditionRefs(c, dims, before, beforeId, [...path, cond.kind, i], issue));
      return;
    case 'not':
      checkConditionRefs(cond.not, dims, before, beforeId, [...path, 'not'], issue);
      return;
    case 'choice':
      for (const [dimId, arms] of Object.entries(cond.choices)) {
        const index = dims.findIndex((d) => d.id === dimId);
        if (index < 0) {
          issue([...path, dimId], `unknown dimension ${JSON.stringify(dimId)}`);
          continue;
        }
        if (index >= before) {
          issue([...path, dimId], `dimension ${JSON.stringify(dimId)} is not decided before ${JSON.stringify(beforeId)}`);
          continue;
        }
        arms.forEach((arm, j) => {
          if (!dims[index].arms.some((a) => a.id === arm)) {
            issue(arms.length === 1 ? [...path, dimId] : [...path, dimId, j], `${JSON.stringify(arm)} is not an arm of dimension ${JSON.stringify(dimId)} (${armList(dims[index])})`);
          }
        });
      }
  }
}

/** `{dimension: arm}` references (eligibility `arm`, forbid entries) must exist. */
function checkArmRefs(ref: Record<string, string>, dims: Dimension[], path: Path, issue: (path: Path, message: string) => void): void {
  for (const [dimId, armId] of Object.entries(ref)) {
    const dim = dims.find((d) => d.id === dimId);
    if (!dim) issue([...path, dimId], `unknown dimension ${JSON.stringify(dimId)}`);
    else if (!dim.arms.some((a) => a.id === armId)) issue([...path, dimId], `${JSON.stringify(armId)} is not an arm of dimension ${JSON.stringify(dimId)} (${armList(dim)})`);
  }
}

function checkChannelArm(armId: string, channel: Dimension | undefined, path: Path, issue: (path: Path, message: string) => void): void {
  if (!channel) issue(path, `refers to channel ${JSON.stringify(armId)} but the agent has no dimension with id "channel"`);
  else if (!channel.arms.some((a) => a.id === armId)) issue(path, `${JSON.stringify(armId)} is not an arm of dimension "channel" (${armList(channel)})`);
}

/** A dimension's `features` name the agent's features and earlier dimensions, once each. */
function checkDimensionFeatures(names: string[], features: FeatureSpec[], dims: Dimension[], at: number, issue: (path: Path, message: string) => void): void {
  const featureNames = features.map(featureName);
  names.forEach((name, k) => {
    const path: Path = ['dimensions', at, 'features', k];
    const dim = dims.findIndex((d) => d.id === name);
    const isFeature = featureNames.includes(name);
    if (names.indexOf(name) !== k) issue(path, `duplicate ${JSON.stringify(name)}`);
    else if (isFeature && dim >= 0) issue(path, `${JSON.stringify(name)} is both a feature and a dimension: rename one`);
    else if (dim >= at) issue(path, `${JSON.stringify(name)} is not decided before ${JSON.stringify(dims[at].id)}: a dimension sees only earlier choices`);
    else if (!isFeature && dim < 0) {
      const known = [...featureNames, ...dims.slice(0, at).map((d) => d.id)];
      issue(path, `${JSON.stringify(name)} is neither a feature of the agent nor an earlier dimension (${known.join(', ') || 'none'})`);
    }
  });
}

/** The name a feature is referred to by: its trait, or the derived feature's name. */
function featureName(f: FeatureSpec): string {
  return 'derived' in f ? f.derived : f.trait;
}

function checkAgent(agent: AgentDraft, ctx: z.core.$RefinementCtx<AgentDraft>): void {
  // Issue paths here are relative to the agent; a part with issues of its own may not be
  // normalized yet, so rules that read it wait until it is valid.
  const broken = (key: string) => hasIssues(ctx, key);
  const issue = (path: Path, message: string) => ctx.addIssue({ code: 'custom', path, message, input: undefined });

  if (!broken('features') && Array.isArray(agent.features)) {
    const seen = new Set<string>();
    agent.features.forEach((f, i) => {
      const key = 'derived' in f ? 'derived' : 'trait';
      const name = featureName(f);
      if (seen.has(name)) issue(['features', i, key], `duplicate feature ${JSON.stringify(name)}`);
      seen.add(name);
    });
  }

  if (broken('dimensions') || !Array.isArray(agent.dimensions)) return;
  const dims = agent.dimensions;
  dims.forEach((d, i) => {
    if (dims.findIndex((e) => e.id === d.id) !== i) issue(['dimensions', i, 'id'], `duplicate dimension id ${JSON.stringify(d.id)}`);
    if (d.when) checkConditionRefs(d.when, dims, i, d.id, ['dimensions', i, 'when'], issue);
    if (d.features && !broken('features')) checkDimensionFeatures(d.features, agent.features ?? [], dims, i, issue);
  });

  if (broken('guardrails') || !agent.guardrails) return;
  const g = agent.guardrails;
  const channel = dims.find((d) => d.id === 'channel');
  if (g.consent) {
    if (!channel) issue(['guardrails', 'consent'], 'needs a dimension with id "channel"');
    else for (const armId of Object.keys(g.consent)) checkChannelArm(armId, channel, ['guardrails', 'consent', armId], issue);
  }
  g.frequency_caps.forEach((cap, i) => {
    if (cap.channel !== undefined) checkChannelArm(cap.channel, channel, ['guardrails', 'frequency_caps', i, 'channel'], issue);
  });
  g.eligibility.forEach((rule, i) => {
    const path: Path = ['guardrails', 'eligibility', i];
    checkArmRefs(rule.arm, dims, [...path, 'arm'], issue);
    // the rule is applied when its last-decided dimension is; conditions see what came before
    const indices = Object.keys(rule.arm).map((id) => dims.findIndex((d) => d.id === id));
    if (indices.some((x) => x < 0)) return;
    const at = Math.max(...indices);
    if (rule.if) checkConditionRefs(rule.if, dims, at, dims[at].id, [...path, 'if'], issue);
    if (rule.unless) checkConditionRefs(rule.unless, dims, at, dims[at].id, [...path, 'unless'], issue);
  });
  g.forbid.forEach((rule, i) => checkArmRefs(rule, dims, ['guardrails', 'forbid', i], issue));
}

// ---------------------------------------------------------------------------------------------
// Agent and workspace

export const agentConfigSchema = z
  .strictObject({
    id: idSchema().describe('Agent id, unique in the workspace; used in URLs and attribute names.'),
    salt: nonEmptyString()
      .optional()
      .describe('Salt of the stable holdout hash; defaults to the agent id. Change it to reshuffle who is held out.'),
    goal: goalSchema.describe('How outcome events become a reward in [0, 1], inside an attribution window.'),
    holdout: z
      .number()
      .gte(0, { error: (iss) => `must be in [0, 0.5], got ${String(iss.input)}` })
      .lte(0.5, { error: (iss) => `must be in [0, 0.5], got ${String(iss.input)}` })
      .default(0.1)
      .describe('Share of customers (stable by hashed user id) who get the default arms, to measure lift; in [0, 0.5], default 0.1.'),
    policy: policyConfigSchema,
    features: z.array(featureSpecSchema).default([]).describe('Profile traits used as context, and how each is encoded.'),
    dimensions: z
      .array(dimensionSchema)
      .min(1)
      .describe('What the agent decides, in this order; a later dimension sees earlier choices as context.'),
    guardrails: guardrailsSchema.prefault({}).describe('What may never happen: quiet hours, frequency caps, consent, eligibility and forbidden combinations. They mask arms before the policy chooses.'),
    delivery: z.array(deliverySchema).default([]).describe('Where each decision is delivered.'),
  })
  .superRefine(checkAgent, { when: (payload) => typeof payload.value === 'object' && payload.value !== null })
  .transform((a) => ({ ...a, salt: a.salt ?? a.id }))
  .describe('One decisioning agent: its goal, what it decides, and its guardrails.');
export type AgentConfig = z.output<typeof agentConfigSchema>;

/** Delivery modes that write the decision onto the profile, where agents' names would collide. */
const PROFILE_MODES: readonly string[] = ['attributes', 'contact_properties', 'identify'];

/**
 * Where agents' profile writes collide: for each agent (by index) and each of its deliveries that
 * writes onto a destination's profiles, the names (those of `attributesOf`: `<prefix>decision_id`,
 * `send_at`, `deliver`, `<prefix><dimension>` and `_text`) that an earlier agent in the list
 * already writes there, with the message for that delivery's `prefix`. Two such agents would
 * overwrite each other's values.
 */
export function profileNameClashes(agents: readonly AgentConfig[]): { agent: number; delivery: number; message: string }[] {
  const written = new Map<string, Map<string, string>>(); // destination → name → agent id
  const clashes: { agent: number; delivery: number; message: string }[] = [];
  agents.forEach((agent, i) => {
    const mine: [string, string][] = [];
    agent.delivery.forEach((d, k) => {
      if (!PROFILE_MODES.includes(d.mode)) return;
      const names = [`${d.prefix}decision_id`, `${d.prefix}send_at`, `${d.prefix}deliver`];
      for (const dim of agent.dimensions) {
        names.push(`${d.prefix}${dim.id}`);
        if (dim.arms.some((arm) => arm.text !== undefined)) names.push(`${d.prefix}${dim.id}_text`);
      }
      const taken = written.get(d.to);
      const shared = taken ? names.filter((n) => taken.has(n)) : [];
      if (shared.length > 0) {
        const shown = shared.slice(0, 3).join(', ') + (shared.length > 3 ? ', …' : '');
        const message = `writes ${shown} onto ${d.to} profiles, as agent ${JSON.stringify(taken!.get(shared[0]))} does: the two would overwrite each other; give one of them another prefix`;
        clashes.push({ agent: i, delivery: k, message });
      }
      for (const n of names) mine.push([d.to, n]);
    });
    for (const [to, n] of mine) {
      const taken = written.get(to) ?? new Map<string, string>();
      if (!taken.has(n)) taken.set(n, agent.id);
      written.set(to, taken);
    }
  });
  return clashes;
}

export const workspaceConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Optional JSON Schema reference for editors; ignored.'),
    workspace: idSchema().describe('Workspace id.'),
    agents: z.array(agentConfigSchema).min(1).describe('The agents of this workspace; ids unique.'),
  })
  .superRefine(
    (w, ctx) => {
      if (!Array.isArray(w.agents)) return;
      const ids: unknown[] = w.agents.map((a) => (a && typeof a === 'object' ? a.id : undefined));
      ids.forEach((id, i) => {
        if (typeof id === 'string' && ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: ['agents', i, 'id'], message: `duplicate agent id ${JSON.stringify(id)}`, input: id });
      });
      // only once every agent is valid: the names depend on their normalized deliveries and dimensions
      if (ctx.issues.length > 0) return;
      const agents = w.agents as AgentConfig[];
      for (const clash of profileNameClashes(agents)) {
        ctx.addIssue({ code: 'custom', path: ['agents', clash.agent, 'delivery', clash.delivery, 'prefix'], message: clash.message, input: agents[clash.agent].delivery[clash.delivery].prefix });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )
  .transform((w) => ({ workspace: w.workspace, agents: w.agents }))
  .describe('A nextbest workspace: its agents (contextual-bandit decisioning), declared in YAML or JSON.');
export type WorkspaceConfig = z.output<typeof workspaceConfigSchema>;
