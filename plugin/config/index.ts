/**
 * The workspace / agent config: the public contract admins write, in YAML or JSON (README.md,
 * "Configure an agent"; examples/agents.yaml is a complete one). One zod schema is the single
 * source of truth: the TS types are `z.output` of it, `manifest/agent-config.schema.json` is
 * generated from its input side, and `validateConfig` turns its issues into `path: message` lines.
 *
 * Parsing also normalizes, so the decision engine never re-interprets config: arms become
 * `{id, tags, hour?}` objects, durations get a `*Ms` twin, conditions become a tagged union on
 * `kind`, `salt` defaults to the agent id, and every optional list defaults to `[]`.
 *
 * Cross-field rules (arm references, dimension order, consent channels, ...) are `superRefine`s
 * with exact paths (agent-rules.ts).
 *
 * This folder imports nothing of the project but the bandit's list of policies and its feature
 * layout (the size budgets count slots as the model does, limits.ts); the agent and the
 * guardrails import it. The names below are the contract; the files' other exports are not.
 */
export {
  agentConfigSchema,
  profileNameClashes,
  workspaceConfigSchema,
  type AgentConfig,
  type WorkspaceConfig,
} from './agent.ts';
export {
  CONDITION_KEYWORDS,
  conditionInputSchema,
  conditionSchema,
  normalizeCondition,
  normalizedConditionSchema,
  type Condition,
  type ConditionInput,
} from './conditions.ts';
export { ConfigError } from './config-error.ts';
export {
  declareDestinations,
  declaredDestinations,
  deliverySchema,
  type Delivery,
  type DeliveryMode,
  type Destination,
} from './delivery.ts';
export { armSchema, dimensionSchema, type Arm, type Dimension } from './dimensions.ts';
export { parseDuration } from './duration.ts';
export { featureSpecSchema, type FeatureSpec } from './features.ts';
export { goalSchema, LATE_MARGIN_DEFAULT, LATE_MARGIN_DEFAULT_MS, rewardRuleSchema, type RewardRule } from './goal.ts';
export {
  eligibilityRuleSchema,
  frequencyCapSchema,
  guardrailsSchema,
  quietHoursSchema,
  type EligibilityRule,
  type FrequencyCap,
  type Guardrails,
  type QuietHours,
} from './guardrails.ts';
export { formatIssues } from './issues.ts';
export {
  MAX_AGENTS,
  MAX_ARM_TAGS,
  MAX_ARMS,
  MAX_CATEGORY_VALUES,
  MAX_CONDITION_ITEMS,
  MAX_CONDITION_VALUES,
  MAX_CONTEXT_SLOTS,
  MAX_DIAGONAL_SLOTS,
  MAX_DELIVERIES,
  MAX_DIMENSIONS,
  MAX_ELIGIBILITY_RULES,
  MAX_FEATURES,
  MAX_FORBIDDEN_COMBINATIONS,
  MAX_FREQUENCY_CAPS,
  MAX_HASH_BUCKETS,
  MAX_MODEL_WEIGHTS,
  MAX_REWARD_RULES,
  MAX_THOMPSON_SCORES,
  MAX_TOTAL_ARMS,
  modelCost,
} from './limits.ts';
export { loadConfigFile, parseConfigSource, parseConfigText, readConfigFile } from './load.ts';
export {
  changeDetection,
  POLICY_KINDS,
  policyConfigSchema,
  RETAIN_DEFAULT,
  type ChangeDetection,
  type PolicyConfig,
} from './policy.ts';
export { validateAgentConfig, validateConfig, type ValidationResult } from './validate.ts';
