import type { AgentConfig, Delivery } from '../config/index.ts';
import type { Decision } from './types.ts';

/** A flat attribute value as Braze custom attributes, HubSpot properties and Liquid take it. */
export type AttributeValue = string | number | boolean | null;

/** The prefix of the agent's attribute names: the first delivery's, else `nb_`. */
export function attributePrefix(agent: AgentConfig | undefined, delivery?: Pick<Delivery, 'prefix'>): string {
  return delivery?.prefix ?? agent?.delivery[0]?.prefix ?? 'nb_';
}

/**
 * The flat attributes a decision is delivered as: `<prefix>decision_id`, `<prefix><dimension>`
 * (the arm id) and `<prefix><dimension>_text` (the approved text, when the arm has one),
 * `<prefix>send_at` and `<prefix>deliver`.
 */
export function attributesOf(
  d: Pick<Decision, 'decisionId' | 'choices' | 'sendAt' | 'deliver'>,
  agent: AgentConfig | undefined,
  prefix = attributePrefix(agent),
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = { [`${prefix}decision_id`]: d.decisionId };
  for (const [dim, choice] of Object.entries(d.choices)) {
    out[`${prefix}${dim}`] = choice.arm;
    const text = agent?.dimensions.find((x) => x.id === dim)?.arms.find((a) => a.id === choice.arm)?.text;
    if (text !== undefined) out[`${prefix}${dim}_text`] = text;
  }
  out[`${prefix}send_at`] = d.sendAt ?? null;
  out[`${prefix}deliver`] = d.deliver;
  return out;
}
