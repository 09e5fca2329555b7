/**
 * The agent's cross-field rules: references between its parts (condition and rule references to
 * dimensions and arms, the order dimensions are decided in, the features a dimension sees,
 * consent and caps on channels), each reported at its exact path.
 *
 * They run once the parts they cross-reference are individually valid, so a config with a
 * malformed dimension reports that first and its dangling references after the fix.
 */
import type { z } from 'zod';
import type { Condition } from './conditions.ts';
import type { Dimension } from './dimensions.ts';
import type { FeatureSpec } from './features.ts';
import type { EligibilityRule, Guardrails } from './guardrails.ts';
import { checkCosts } from './limits.ts';
import type { PolicyConfig } from './policy.ts';
import { hasIssues } from './primitives.ts';

type Path = (string | number)[];
/** Reports a problem at `path`, relative to the agent. */
type Issue = (path: Path, message: string) => void;

/**
 * The parts of an agent the cross-field rules read, in their parsed types. (The agent's own
 * output type cannot be named here: it is inferred from the schema these rules belong to.)
 */
type AgentDraft = {
  policy?: PolicyConfig;
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
function checkConditionRefs(
  cond: Condition,
  dims: Dimension[],
  before: number,
  beforeId: string,
  path: Path,
  issue: Issue,
): void {
  switch (cond.kind) {
    case 'trait':
      return;
    case 'all':
    case 'any':
      (cond.kind === 'all' ? cond.all : cond.any).forEach((c, i) =>
        checkConditionRefs(c, dims, before, beforeId, [...path, cond.kind, i], issue),
      );
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
          issue(
            [...path, dimId],
            `dimension ${JSON.stringify(dimId)} is not decided before ${JSON.stringify(beforeId)}`,
          );
          continue;
        }
        arms.forEach((arm, j) => {
          if (!dims[index].arms.some((a) => a.id === arm)) {
            issue(
              arms.length === 1 ? [...path, dimId] : [...path, dimId, j],
              `${JSON.stringify(arm)} is not an arm of dimension ${JSON.stringify(dimId)} (${armList(dims[index])})`,
            );
          }
        });
      }
  }
}

/** `{dimension: arm}` references (eligibility `arm`, forbid entries) must exist. */
function checkArmRefs(ref: Record<string, string>, dims: Dimension[], path: Path, issue: Issue): void {
  for (const [dimId, armId] of Object.entries(ref)) {
    const dim = dims.find((d) => d.id === dimId);
    if (!dim) issue([...path, dimId], `unknown dimension ${JSON.stringify(dimId)}`);
    else if (!dim.arms.some((a) => a.id === armId))
      issue(
        [...path, dimId],
        `${JSON.stringify(armId)} is not an arm of dimension ${JSON.stringify(dimId)} (${armList(dim)})`,
      );
  }
}

function checkChannelArm(armId: string, channel: Dimension | undefined, path: Path, issue: Issue): void {
  if (!channel)
    issue(path, `refers to channel ${JSON.stringify(armId)} but the agent has no dimension with id "channel"`);
  else if (!channel.arms.some((a) => a.id === armId))
    issue(path, `${JSON.stringify(armId)} is not an arm of dimension "channel" (${armList(channel)})`);
}

/** A dimension's `features` name the agent's features and earlier dimensions, once each. */
function checkDimensionFeatures(
  names: string[],
  features: FeatureSpec[],
  dims: Dimension[],
  at: number,
  issue: Issue,
): void {
  const featureNames = features.map(featureName);
  names.forEach((name, k) => {
    const path: Path = ['dimensions', at, 'features', k];
    const dim = dims.findIndex((d) => d.id === name);
    const isFeature = featureNames.includes(name);
    if (names.indexOf(name) !== k) issue(path, `duplicate ${JSON.stringify(name)}`);
    else if (isFeature && dim >= 0)
      issue(path, `${JSON.stringify(name)} is both a feature and a dimension: rename one`);
    else if (dim >= at)
      issue(
        path,
        `${JSON.stringify(name)} is not decided before ${JSON.stringify(dims[at].id)}: a dimension sees only earlier choices`,
      );
    else if (!isFeature && dim < 0) {
      const known = [...featureNames, ...dims.slice(0, at).map((d) => d.id)];
      issue(
        path,
        `${JSON.stringify(name)} is neither a feature of the agent nor an earlier dimension (${known.join(', ') || 'none'})`,
      );
    }
  });
}

/** The name a feature is referred to by: its trait, or the derived feature's name. */
function featureName(f: FeatureSpec): string {
  return 'derived' in f ? f.derived : f.trait;
}

/** Feature names are unique. */
function checkFeatureNames(features: FeatureSpec[], issue: Issue): void {
  const seen = new Set<string>();
  features.forEach((f, i) => {
    const key = 'derived' in f ? 'derived' : 'trait';
    const name = featureName(f);
    if (seen.has(name)) issue(['features', i, key], `duplicate feature ${JSON.stringify(name)}`);
    seen.add(name);
  });
}

/** Dimension ids are unique; `when` and `features` refer only to what is decided before. `features` is undefined while broken. */
function checkDimensions(dims: Dimension[], features: FeatureSpec[] | undefined, issue: Issue): void {
  dims.forEach((d, i) => {
    if (dims.findIndex((e) => e.id === d.id) !== i)
      issue(['dimensions', i, 'id'], `duplicate dimension id ${JSON.stringify(d.id)}`);
    if (d.when) checkConditionRefs(d.when, dims, i, d.id, ['dimensions', i, 'when'], issue);
    if (d.features && features) checkDimensionFeatures(d.features, features, dims, i, issue);
  });
}

/** An eligibility rule names existing arms; its conditions see only what is decided before the rule applies. */
function checkEligibilityRule(rule: EligibilityRule, dims: Dimension[], path: Path, issue: Issue): void {
  checkArmRefs(rule.arm, dims, [...path, 'arm'], issue);
  // the rule is applied when its last-decided dimension is; conditions see what came before
  const indices = Object.keys(rule.arm).map((id) => dims.findIndex((d) => d.id === id));
  if (indices.some((x) => x < 0)) return;
  const at = Math.max(...indices);
  if (rule.if) checkConditionRefs(rule.if, dims, at, dims[at].id, [...path, 'if'], issue);
  if (rule.unless) checkConditionRefs(rule.unless, dims, at, dims[at].id, [...path, 'unless'], issue);
}

/** Consent and channel caps refer to arms of the `channel` dimension; rules to existing arms. */
function checkGuardrails(g: Guardrails, dims: Dimension[], issue: Issue): void {
  const channel = dims.find((d) => d.id === 'channel');
  if (g.consent) {
    if (!channel) issue(['guardrails', 'consent'], 'needs a dimension with id "channel"');
    else
      for (const armId of Object.keys(g.consent))
        checkChannelArm(armId, channel, ['guardrails', 'consent', armId], issue);
  }
  g.frequency_caps.forEach((cap, i) => {
    if (cap.channel !== undefined)
      checkChannelArm(cap.channel, channel, ['guardrails', 'frequency_caps', i, 'channel'], issue);
  });
  g.eligibility.forEach((rule, i) => checkEligibilityRule(rule, dims, ['guardrails', 'eligibility', i], issue));
  g.forbid.forEach((rule, i) => checkArmRefs(rule, dims, ['guardrails', 'forbid', i], issue));
}

/** The agent's cross-field rules, as a `superRefine`. */
export function checkAgent(agent: AgentDraft, ctx: z.core.$RefinementCtx<AgentDraft>): void {
  // Issue paths here are relative to the agent; a part with issues of its own may not be
  // normalized yet, so rules that read it wait until it is valid.
  const broken = (key: string) => hasIssues(ctx, key);
  let found = 0;
  const issue: Issue = (path, message) => {
    found++;
    ctx.addIssue({ code: 'custom', path, message, input: undefined });
  };

  if (!broken('features') && Array.isArray(agent.features)) checkFeatureNames(agent.features, issue);
  if (broken('dimensions') || !Array.isArray(agent.dimensions)) return;
  checkDimensions(agent.dimensions, broken('features') ? undefined : (agent.features ?? []), issue);
  // the budgets count what the model will hold: only once every part it is built from is right
  if (found === 0 && !broken('policy') && !broken('features') && agent.policy)
    checkCosts({ policy: agent.policy, features: agent.features ?? [], dimensions: agent.dimensions }, issue);
  if (broken('guardrails') || !agent.guardrails) return;
  checkGuardrails(agent.guardrails, agent.dimensions, issue);
}
