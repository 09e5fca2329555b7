/** Shared inputs of the config tests: the contract workspace, a minimal agent, and its errors. */
import { parse } from 'yaml';
import { parseConfigText, validateConfig, type AgentConfig } from '../../plugin/config/index.ts';

/**
 * The contract example: the agent of examples/agents.yaml as an admin writes it (flow style,
 * comments), kept verbatim here so that a change to the contract shows as a failing test.
 */
export const CONTRACT_YAML = `
workspace: acme-sports
agents:
  - id: winback
    goal:
      window: 72h                     # an outcome counts if it comes within this time of the decision
      rewards:
        - { event: Order Completed, value: 1 }
        - { event: Email Opened, value: 0.1 }
        # value may also be { property: revenue, cap: 200 } (scaled to 0..1 by cap)
    holdout: 0.10
    policy: { kind: logistic-ts, floor: 0.05, forgetting: 0.999 }
    features:
      - { trait: lifetime_orders, type: numeric, min: 0, max: 50 }
      - { trait: last_category, type: categorical, values: [running, athleisure, outdoor] }
      - { trait: city, type: hashed, buckets: 64 }
      - { trait: last_order_at, type: recency, unit: days }
      - { derived: local_hour }        # from the profile's timezone and the decision time
    dimensions:                         # decided in this order; later ones see earlier choices
      - { id: frequency, arms: [send, skip], default: send }
      - { id: channel, arms: [email, sms, push], default: email }
      - { id: send_time, type: local_hour, arms: [8, 12, 18, 20], default: 12 }
      - id: subject_line
        when: { channel: email }        # only decided (and only rewarded) when channel is email
        default: sl_plain
        arms:
          - { id: sl_plain, text: "New arrivals picked for you", tags: [neutral] }
          - { id: sl_urgency, text: "Ends tonight: 20% off race gear", tags: [urgency, discount] }
      - { id: content_block, arms: [cb_specs, cb_style, cb_bundle], default: cb_style }
    guardrails:
      quiet_hours: { start: "21:00", end: "08:00" }          # customer's local time
      frequency_caps:
        - { max: 3, per: 7d }
        - { channel: sms, max: 1, per: 7d }
      consent: { email: email_subscribed, sms: sms_opt_in, push: push_enabled }  # trait per channel
      eligibility:
        - { arm: { subject_line: sl_urgency }, unless: { trait: vip, equals: true } }
      forbid:
        - { channel: sms, content_block: cb_style }          # brand rule: combination never sent
    delivery:
      - { to: braze, mode: attributes, prefix: nb_ }
      - { to: braze, mode: campaign_trigger, campaign_id: "…" }
`;

export type Json = Record<string, any>;

/** The contract workspace as plain input, with `change` applied to its first agent. */
export function makeWorkspace(change: (agent: Json) => void = () => {}): Json {
  const workspace = parse(CONTRACT_YAML) as Json;
  change(workspace.agents[0]);
  return workspace;
}

/** A minimal valid agent input, with overrides. */
export function makeAgentInput(overrides: Json = {}): Json {
  return {
    id: 'a1',
    goal: { window: '24h', rewards: [{ event: 'Order Completed', value: 1 }] },
    policy: { kind: 'random' },
    dimensions: [{ id: 'channel', arms: ['email', 'sms'], default: 'email' }],
    ...overrides,
  };
}

export function errorsOf(input: unknown): string[] {
  const result = validateConfig(input);
  return result.ok ? [] : result.errors;
}

/** The contract's agent, parsed and normalized. */
export function contractAgent(): AgentConfig {
  return parseConfigText(CONTRACT_YAML).agents[0];
}
