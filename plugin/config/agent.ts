/**
 * The agent and the workspace: the top of the config contract admins write, in YAML or JSON
 * (README.md, "Configure an agent"; examples/agents.yaml is a complete one).
 */
import { z } from 'zod';
import { checkAgent } from './agent-rules.ts';
import { deliverySchema, writesProfile } from './delivery.ts';
import { dimensionSchema } from './dimensions.ts';
import { featureSpecSchema } from './features.ts';
import { goalSchema } from './goal.ts';
import { guardrailsSchema } from './guardrails.ts';
import {
  MAX_AGENTS,
  MAX_CONTEXT_SLOTS,
  MAX_DIAGONAL_SLOTS,
  MAX_DELIVERIES,
  MAX_DIMENSIONS,
  MAX_FEATURES,
  MAX_MODEL_WEIGHTS,
  MAX_THOMPSON_SCORES,
  MAX_TOTAL_ARMS,
} from './limits.ts';
import { policyConfigSchema } from './policy.ts';
import { idSchema, nonEmptyString } from './primitives.ts';

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
      .describe(
        'Share of customers (stable by hashed user id) who get the default arms, to measure lift; in [0, 0.5], default 0.1.',
      ),
    policy: policyConfigSchema,
    features: z
      .array(featureSpecSchema)
      .max(MAX_FEATURES, `must have at most ${MAX_FEATURES} features`)
      .default([])
      .describe(`Profile traits used as context, and how each is encoded; at most ${MAX_FEATURES}.`),
    dimensions: z
      .array(dimensionSchema)
      .min(1)
      .max(MAX_DIMENSIONS, `must have at most ${MAX_DIMENSIONS} dimensions`)
      .describe(
        `What the agent decides, in this order; a later dimension sees earlier choices as context. At most ${MAX_DIMENSIONS}, with at most ${MAX_TOTAL_ARMS} arms in all. Budgets that keep saving, deciding and learning fast: each dimension sees at most ${MAX_CONTEXT_SLOTS} context slots with a full covariance, ${MAX_DIAGONAL_SLOTS.toLocaleString('en-US')} with a diagonal one (1 for the intercept, 2 per numeric, boolean, recency or derived feature, values + 1 per categorical one, buckets per hashed one, one per arm of each earlier dimension it sees, and one per pair of an interaction's slots); the models of a contextual policy hold at most ${MAX_MODEL_WEIGHTS.toLocaleString('en-US')} covariance entries (arms × slots² per dimension, arms × slots when diagonal; with share: tags, (slots × groups + arms)², or slots × groups + arms); a Thompson policy draws at most ${MAX_THOMPSON_SCORES.toLocaleString('en-US')} scores per decision (draws × all arms).`,
      ),
    guardrails: guardrailsSchema
      .prefault({})
      .describe(
        'What may never happen: quiet hours, frequency caps, consent, eligibility and forbidden combinations. They mask arms before the policy chooses.',
      ),
    delivery: z
      .array(deliverySchema)
      .max(MAX_DELIVERIES, `must have at most ${MAX_DELIVERIES} entries`)
      .default([])
      .describe(`Where each decision is delivered; at most ${MAX_DELIVERIES} entries.`),
  })
  .superRefine(checkAgent, { when: (payload) => typeof payload.value === 'object' && payload.value !== null })
  .transform((a) => ({ ...a, salt: a.salt ?? a.id }))
  .describe('One decisioning agent: its goal, what it decides, and its guardrails.');
export type AgentConfig = z.output<typeof agentConfigSchema>;

type Clash = { agent: number; delivery: number; message: string };

/** The names a delivery with `prefix` writes onto profiles for `agent` (those of `attributesOf`). */
function profileNames(agent: AgentConfig, prefix: string): string[] {
  const names = [`${prefix}decision_id`, `${prefix}send_at`, `${prefix}deliver`];
  for (const dim of agent.dimensions) {
    names.push(`${prefix}${dim.id}`);
    if (dim.arms.some((arm) => arm.text !== undefined)) names.push(`${prefix}${dim.id}_text`);
  }
  return names;
}

function clashMessage(shared: string[], to: string, owner: string | undefined): string {
  const shown = shared.slice(0, 3).join(', ') + (shared.length > 3 ? ', …' : '');
  return `writes ${shown} onto ${to} profiles, as agent ${JSON.stringify(owner)} does: the two would overwrite each other; give one of them another prefix`;
}

/**
 * Where agents' profile writes collide: for each agent (by index) and each of its deliveries that
 * writes onto a destination's profiles, the names (those of `attributesOf`: `<prefix>decision_id`,
 * `send_at`, `deliver`, `<prefix><dimension>` and `_text`) that an earlier agent in the list
 * already writes there, with the message for that delivery's `prefix`. Two such agents would
 * overwrite each other's values.
 */
export function profileNameClashes(agents: readonly AgentConfig[]): Clash[] {
  const written = new Map<string, Map<string, string>>(); // destination → name → agent id
  const clashes: Clash[] = [];
  agents.forEach((agent, i) => {
    const mine: [string, string][] = [];
    agent.delivery.forEach((d, k) => {
      if (!writesProfile(d.to, d.mode)) return;
      const names = profileNames(agent, d.prefix);
      const taken = written.get(d.to);
      const shared = taken ? names.filter((n) => taken.has(n)) : [];
      if (shared.length > 0)
        clashes.push({ agent: i, delivery: k, message: clashMessage(shared, d.to, taken!.get(shared[0])) });
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
    agents: z
      .array(agentConfigSchema)
      .min(1)
      .max(MAX_AGENTS, `must have at most ${MAX_AGENTS} agents`)
      .describe(`The agents of this workspace; ids unique; at most ${MAX_AGENTS}.`),
  })
  .superRefine(
    (w, ctx) => {
      if (!Array.isArray(w.agents)) return;
      const ids: unknown[] = w.agents.map((a) => (a && typeof a === 'object' ? a.id : undefined));
      ids.forEach((id, i) => {
        if (typeof id === 'string' && ids.indexOf(id) !== i)
          ctx.addIssue({
            code: 'custom',
            path: ['agents', i, 'id'],
            message: `duplicate agent id ${JSON.stringify(id)}`,
            input: id,
          });
      });
      // only once every agent is valid: the names depend on their normalized deliveries and dimensions
      if (ctx.issues.length > 0) return;
      const agents = w.agents as AgentConfig[];
      for (const clash of profileNameClashes(agents)) {
        ctx.addIssue({
          code: 'custom',
          path: ['agents', clash.agent, 'delivery', clash.delivery, 'prefix'],
          message: clash.message,
          input: agents[clash.agent].delivery[clash.delivery].prefix,
        });
      }
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )
  .transform((w) => ({ workspace: w.workspace, agents: w.agents }))
  .describe('A nextbest workspace: its agents (contextual-bandit decisioning), declared in YAML or JSON.');
export type WorkspaceConfig = z.output<typeof workspaceConfigSchema>;
