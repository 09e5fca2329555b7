import type { AgentConfig } from '../../plugin/agent/index.ts';
import { attributePrefix } from '../../plugin/agent/index.ts';
import { AuthError, PermanentError } from '../kit/index.ts';
import type { HubSpotCrm, PropertyDefinition } from './client.ts';
import { PROPERTY_GROUP_LABEL, PROPERTY_GROUP_NAME, TIMEZONE_PROPERTY } from './constants.ts';
import { hubspotError } from './errors.ts';

/** The prefix of an agent's HubSpot properties: its hubspot delivery's, else the agent's default. */
export function hubspotPrefix(agent: AgentConfig): string {
  return agent.delivery.find((d) => d.to === 'hubspot')?.prefix ?? attributePrefix(agent);
}

/**
 * The contact properties a decision is written to (exactly the keys `attributesOf` produces):
 * `<prefix>decision_id`, one per dimension (the arm id), `<prefix><dim>_text` for dimensions
 * whose arms carry approved text, `<prefix>send_at` (datetime) and `<prefix>deliver` (bool).
 * Arms are written as text, not enumerations, so adding an arm to an agent never makes a write fail.
 */
export function decisionProperties(agent: AgentConfig, prefix = hubspotPrefix(agent)): PropertyDefinition[] {
  const base = { groupName: PROPERTY_GROUP_NAME };
  const out: PropertyDefinition[] = [
    {
      ...base,
      name: `${prefix}decision_id`,
      label: `${prefix}decision_id`,
      description: 'Id of the latest nextbest decision for this contact (GET /v1/decisions/{id}).',
      type: 'string',
      fieldType: 'text',
    },
  ];
  for (const dim of agent.dimensions) {
    out.push({
      ...base,
      name: `${prefix}${dim.id}`,
      label: `${prefix}${dim.id}`,
      description: `Arm chosen by nextbest for "${dim.id}" (agent ${agent.id}): one of ${dim.arms.map((a) => a.id).join(', ')}.`,
      type: 'string',
      fieldType: 'text',
    });
    if (dim.arms.some((a) => a.text !== undefined)) {
      out.push({
        ...base,
        name: `${prefix}${dim.id}_text`,
        label: `${prefix}${dim.id}_text`,
        description: `Approved text of the arm chosen for "${dim.id}".`,
        type: 'string',
        fieldType: 'text',
      });
    }
  }
  out.push({
    ...base,
    name: `${prefix}send_at`,
    label: `${prefix}send_at`,
    description: 'When to send, chosen by nextbest (local send hour outside quiet hours).',
    type: 'datetime',
    fieldType: 'date',
  });
  out.push({
    ...base,
    name: `${prefix}deliver`,
    label: `${prefix}deliver`,
    description: 'False when nextbest decided to skip this contact (frequency, guardrails).',
    type: 'bool',
    fieldType: 'booleancheckbox',
    options: [
      { label: 'Yes', value: 'true', hidden: false, displayOrder: 0 },
      { label: 'No', value: 'false', hidden: false, displayOrder: 1 },
    ],
  });
  return out;
}

/** Every decision property of the agents, each name once. */
export function decisionPropertiesOf(agents: readonly AgentConfig[]): PropertyDefinition[] {
  const seen = new Map<string, PropertyDefinition>();
  for (const agent of agents) for (const p of decisionProperties(agent)) if (!seen.has(p.name)) seen.set(p.name, p);
  return [...seen.values()];
}

export interface EnsureReport {
  groupCreated: boolean;
  created: string[];
  existing: string[];
}

/**
 * Creates the `nextbest` group and the decision properties, idempotently: a 409 (already exists)
 * counts as done, so a re-install creates nothing twice.
 */
export async function ensureDecisionProperties(crm: HubSpotCrm, agents: readonly AgentConfig[]): Promise<EnsureReport> {
  const report: EnsureReport = { groupCreated: false, created: [], existing: [] };
  report.groupCreated = await createOrExists(
    () => crm.createPropertyGroup(PROPERTY_GROUP_NAME, PROPERTY_GROUP_LABEL),
    `property group ${PROPERTY_GROUP_NAME}`,
  );
  for (const def of decisionPropertiesOf(agents)) {
    if (await createOrExists(() => crm.createProperty(def), `property ${def.name}`)) report.created.push(def.name);
    else report.existing.push(def.name);
  }
  return report;
}

async function createOrExists(create: () => Promise<void>, what: string): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (err) {
    const e = hubspotError(err);
    if (e.status === 409) return false;
    throw new PermanentError(`creating ${what} failed: ${e.message}`, {
      code: e instanceof AuthError ? e.code : 'property_create_failed',
      status: e.status,
      cause: err,
    });
  }
}

/**
 * The contact properties an agent reads as traits: its features' traits, its consent traits and
 * every trait a condition (`when`, eligibility `if`/`unless`) tests, plus hs_timezone.
 */
export function contactPropertiesFor(agents: readonly AgentConfig[]): string[] {
  const names = new Set<string>([TIMEZONE_PROPERTY]);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'trait' && typeof v === 'string') names.add(v);
        else walk(v);
      }
    }
  };
  for (const agent of agents) {
    walk(agent.features);
    walk(agent.dimensions.map((d) => d.when));
    walk(agent.guardrails.eligibility);
    for (const trait of Object.values(agent.guardrails.consent ?? {})) names.add(trait);
  }
  return [...names].sort();
}
