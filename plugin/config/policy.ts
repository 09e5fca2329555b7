/**
 * The policy: the bandit algorithm (`kind`) and its parameters, with the change detector.
 *
 * The kinds are the bandit's own list (`POLICY_NAMES`, plugin/bandit/policies/types.ts), the one
 * place a policy is declared; this file adds each kind's parameters, and fails to compile when a
 * kind of the bandit has no branch here or a branch names a kind the bandit lacks.
 */
import { z } from 'zod';
import { POLICY_NAMES, type PolicyName } from '../bandit/index.ts';
import { boundedNumber, nonEmptyString } from './primitives.ts';

const policyCommon = {
  floor: boundedNumber({ min: 0, max: 1, maxOpen: true })
    .default(0.05)
    .describe(
      'Exploration floor in [0, 1): every eligible arm keeps at least floor / K probability, so propensities stay usable for evaluation.',
    ),
  floorMin: boundedNumber({ min: 0, max: 1, maxOpen: true })
    .optional()
    .describe(
      'The least the floor shrinks to as evidence accumulates: the floor stays at `floor` until a dimension has learned 100 outcomes per arm, then falls as 1/sqrt(outcomes), never below floorMin. Absent: the floor never shrinks. Lower floors waste fewer decisions on exploration but make importance weights (K / floor at most) larger for off-policy evaluation.',
    ),
  forgetting: boundedNumber({ min: 0, minOpen: true, max: 1 })
    .default(1)
    .describe(
      'Forgetting factor in (0, 1]: how much old evidence keeps per update, for drifting behaviour (1 = never forget; 0.999 ≈ a memory of 1000 updates).',
    ),
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
        .describe(
          'Standardized shortfall per outcome that still counts as normal (the CUSUM allowance): shortfalls are (estimate − reward) / √(estimate·(1 − estimate)).',
        ),
      threshold: boundedNumber({ min: 0, minOpen: true })
        .default(100)
        .describe('Accumulated standardized shortfall beyond the slack at which learning restarts.'),
      warmup: boundedNumber({ min: 0, int: true })
        .default(2000)
        .describe(
          "Outcomes learned after a start, a restart or a change of the model's layout before shortfalls are counted (young estimates are rough).",
        ),
      retain: boundedNumber({ min: 0 })
        .default(RETAIN_DEFAULT)
        .describe(
          "What each dimension keeps at a restart, in outcomes: a dimension that has learned n > retain outcomes keeps their evidence weighed retain / n (its estimates shrink toward the prior, its uncertainty grows), so what has not changed is relearned quickly and what has is overturned by a few thousand outcomes. 0 restarts from the prior. With forgetting, a dimension holds at most 1 / (1 − forgetting) outcomes' worth, and a retain at or above that discounts nothing.",
        ),
    })
    .optional()
    .describe(
      "Restart learning when behaviour changes abruptly: a one-sided CUSUM of how far outcomes fall below what the policies expected for the chosen arms; past the threshold, every dimension keeps only `retain` outcomes' worth of what it learned. Absent: off.",
    );

const draws = () =>
  boundedNumber({ min: 10, max: 100_000, int: true })
    .default(300)
    .describe(
      "Monte Carlo draws that estimate Thompson sampling's arm probabilities; the arm is then sampled from exactly that estimate, so logged propensities stay exact. Standard error at most 0.5/sqrt(draws) per arm.",
    );
const lambda = () =>
  boundedNumber({ min: 0, minOpen: true })
    .default(1)
    .describe('Ridge regularization (prior precision) of the per-arm linear model.');
const share = () =>
  z
    .enum(['none', 'tags'])
    .default('none')
    .describe(
      "How arms share what is learned. none: one model per arm. tags: in a dimension where two or more arms have a tag in common, one model learns a weight vector per tag (summed over an arm's tags) and an offset per arm, so variants learn from each other's data; an arm without tags is a group of its own. Costs memory and learn time in (features × tags)².",
    );

const covariance = () =>
  z
    .enum(['auto', 'full', 'diagonal'])
    .optional()
    .describe(
      'Covariance of the per-arm model. full: exact ridge / Laplace posterior, learning costs grow with the square of the context slots. diagonal: one variance per weight, deciding and learning cost linear in the nonzero context slots (for wide contexts: hashed traits, interactions). auto (the default): diagonal when a dimension sees more than 128 context slots.',
    );
/** A feature of the agent (trait or derived name) or an earlier dimension (its id). */
const interactionPart = () => nonEmptyString().describe('A feature (its trait or derived name) or a dimension id.');
const interactions = () =>
  z
    .array(z.tuple([interactionPart(), interactionPart()]))
    .max(50, 'must have at most 50 interactions')
    .optional()
    .describe(
      "Declared interactions, as pairs: two features (every pair of their encoded slots becomes one input, their product), or a feature and a dimension (the feature's slots once per arm of that dimension: a weight for the trait under each earlier choice). A dimension sees an interaction when it sees both parts (a dimension's choice only once decided before it). Encoded sparsely: a cross of a 64-bucket hashed trait and a 10-value categorical adds 704 slots but 1 nonzero input.",
    );

/** The policy kinds, in the bandit's order: its list, not a copy. */
export const POLICY_KINDS = POLICY_NAMES;

/** Each kind's branch, keyed by the kind it declares. */
const POLICY_BRANCHES = {
  random: z.strictObject({
    kind: z.literal('random').describe('Uniform over eligible arms: a baseline, or for collecting unbiased logs.'),
    ...policyCommon,
  }),
  'beta-ts': z.strictObject({
    kind: z.literal('beta-ts').describe('Beta–Bernoulli Thompson sampling, no context: good for cold start.'),
    ...policyCommon,
    detect: detect(),
    draws: draws(),
  }),
  'eps-greedy': z.strictObject({
    kind: z.literal('eps-greedy').describe('Epsilon-greedy over a per-arm ridge regression.'),
    ...policyCommon,
    detect: detect(),
    epsilon: boundedNumber({ min: 0, max: 1 })
      .default(0.1)
      .describe('Share of probability spread uniformly over eligible arms.'),
    lambda: lambda(),
    share: share(),
    covariance: covariance(),
    interactions: interactions(),
  }),
  linucb: z.strictObject({
    kind: z.literal('linucb').describe('LinUCB: optimism in the face of uncertainty over a per-arm ridge regression.'),
    ...policyCommon,
    detect: detect(),
    alpha: boundedNumber({ min: 0, minOpen: true })
      .default(1)
      .describe('Width of the confidence bonus; larger explores more.'),
    lambda: lambda(),
    share: share(),
    covariance: covariance(),
    interactions: interactions(),
  }),
  'lin-ts': z.strictObject({
    kind: z.literal('lin-ts').describe('Linear Thompson sampling.'),
    ...policyCommon,
    detect: detect(),
    v: boundedNumber({ min: 0, minOpen: true }).default(0.5).describe('Posterior scale; larger explores more.'),
    lambda: lambda(),
    share: share(),
    covariance: covariance(),
    interactions: interactions(),
    draws: draws(),
  }),
  'logistic-ts': z.strictObject({
    kind: z
      .literal('logistic-ts')
      .describe('Bayesian logistic regression (Laplace approximation) with Thompson sampling.'),
    ...policyCommon,
    detect: detect(),
    priorVariance: boundedNumber({ min: 0, minOpen: true })
      .default(1)
      .describe('Variance of the Gaussian prior on the weights.'),
    share: share(),
    covariance: covariance(),
    interactions: interactions(),
    draws: draws(),
  }),
  squarecb: z.strictObject({
    kind: z
      .literal('squarecb')
      .describe('SquareCB: inverse-gap weighting of regression scores into an explicit distribution.'),
    ...policyCommon,
    detect: detect(),
    gamma: boundedNumber({ min: 0, minOpen: true })
      .default(50)
      .describe('Learning-rate-like greediness; larger exploits more.'),
    lambda: lambda(),
    share: share(),
    covariance: covariance(),
    interactions: interactions(),
  }),
} satisfies { [K in PolicyName]: z.ZodType<{ kind: K }> };

type PolicyBranch = (typeof POLICY_BRANCHES)[PolicyName];

export const policyConfigSchema = z
  .discriminatedUnion('kind', POLICY_KINDS.map((kind) => POLICY_BRANCHES[kind]) as [PolicyBranch, ...PolicyBranch[]])
  .describe(`The bandit algorithm and its parameters; \`kind\` is one of ${POLICY_KINDS.join(', ')}.`);
export type PolicyConfig = z.output<typeof policyConfigSchema>;
export type ChangeDetection = NonNullable<z.output<ReturnType<typeof detect>>>;

/** The policy's change detection settings, if it has them on (plugin/agent/learn.ts reads them). */
export function changeDetection(policy: PolicyConfig): ChangeDetection | undefined {
  return 'detect' in policy ? policy.detect : undefined;
}
