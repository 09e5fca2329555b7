import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { agentConfigJsonSchemaText, SCHEMA_PATH } from '../../manifest/generate-schema.ts';
import { agentConfigSchema, parseDuration } from '../../plugin/agent/config.ts';
import { ConfigError, loadConfigFile, parseConfigText, validateAgentConfig, validateConfig } from '../../plugin/agent/load.ts';

/** The example of DESIGN.md, "The agent config (public contract)", verbatim. */
const CONTRACT_YAML = `
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

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The contract workspace as plain input, with `change` applied to its first agent. */
function makeWorkspace(change: (agent: Json) => void = () => {}): Json {
  const workspace = parse(CONTRACT_YAML) as Json;
  change(workspace.agents[0]);
  return workspace;
}

/** A minimal valid agent input, with overrides. */
function makeAgentInput(overrides: Json = {}): Json {
  return {
    id: 'a1',
    goal: { window: '24h', rewards: [{ event: 'Order Completed', value: 1 }] },
    policy: { kind: 'random' },
    dimensions: [{ id: 'channel', arms: ['email', 'sms'], default: 'email' }],
    ...overrides,
  };
}

function errorsOf(input: unknown): string[] {
  const result = validateConfig(input);
  return result.ok ? [] : result.errors;
}

describe('the contract config of DESIGN.md', () => {
  it('parses without errors', () => {
    expect(() => parseConfigText(CONTRACT_YAML, 'agents.yaml')).not.toThrow();
  });

  it('keeps the contract field names and values', () => {
    const [agent] = parseConfigText(CONTRACT_YAML).agents;
    expect(agent).toMatchObject({
      id: 'winback',
      holdout: 0.1,
      policy: { kind: 'logistic-ts', floor: 0.05, forgetting: 0.999 },
      guardrails: { consent: { email: 'email_subscribed', sms: 'sms_opt_in', push: 'push_enabled' } },
      delivery: [
        { to: 'braze', mode: 'attributes', prefix: 'nb_' },
        { to: 'braze', mode: 'campaign_trigger', campaign_id: '…' },
      ],
    });
  });

  it('is what examples/agents.yaml declares, up to the campaign id', async () => {
    const example = parseConfigText(await readFile(new URL('../../examples/agents.yaml', import.meta.url), 'utf8'), 'examples/agents.yaml');
    const contract = parseConfigText(CONTRACT_YAML);
    contract.agents[0].delivery[1].campaign_id = example.agents[0].delivery[1].campaign_id;
    expect(example).toEqual(contract);
  });
});

describe('normalization', () => {
  const [agent] = parseConfigText(CONTRACT_YAML).agents;

  it('defaults the salt to the agent id', () => {
    expect(agent.salt).toBe('winback');
  });

  it('keeps an explicit salt', () => {
    expect(agentConfigSchema.parse(makeAgentInput({ salt: 'v2' })).salt).toBe('v2');
  });

  it('adds windowMs to the goal and defaults combine to max', () => {
    expect(agent.goal).toMatchObject({ window: '72h', windowMs: 72 * 3_600_000, combine: 'max' });
  });

  it('fills policy defaults for the kind', () => {
    expect(agentConfigSchema.parse(makeAgentInput({ policy: { kind: 'lin-ts' } })).policy).toEqual({
      kind: 'lin-ts',
      floor: 0.05,
      forgetting: 1,
      v: 0.5,
      lambda: 1,
      draws: 300,
      share: 'none',
    });
  });

  it('fills the change detector\'s defaults when detect is given', () => {
    expect(agentConfigSchema.parse(makeAgentInput({ policy: { kind: 'logistic-ts', detect: {} } })).policy).toMatchObject({
      detect: { slack: 0.1, threshold: 100, warmup: 2000, retain: 750 },
    });
  });

  it('turns string arms into arm objects with empty tags', () => {
    expect(agent.dimensions[0].arms).toEqual([
      { id: 'send', tags: [] },
      { id: 'skip', tags: [] },
    ]);
  });

  it('turns local_hour numbers into arms with an hour and a string id', () => {
    expect(agent.dimensions[2]).toMatchObject({
      type: 'local_hour',
      default: '12',
      arms: [
        { id: '8', hour: 8 },
        { id: '12', hour: 12 },
        { id: '18', hour: 18 },
        { id: '20', hour: 20 },
      ],
    });
  });

  it('gives local_hour object arms the hour of their id unless they set one', () => {
    const parsed = agentConfigSchema.parse(
      makeAgentInput({ dimensions: [{ id: 'send_time', type: 'local_hour', arms: [{ id: '9' }, { id: 'evening', hour: 19 }], default: 'evening' }] }),
    );
    expect(parsed.dimensions[0].arms).toEqual([
      { id: '9', hour: 9, tags: [] },
      { id: 'evening', hour: 19, tags: [] },
    ]);
  });

  it('defaults the dimension type to categorical', () => {
    expect(agent.dimensions[1].type).toBe('categorical');
  });

  it('tags conditions by kind and turns a single arm into a list', () => {
    expect(agent.dimensions[3].when).toEqual({ kind: 'choice', choices: { channel: ['email'] } });
    expect(agent.guardrails.eligibility[0].unless).toEqual({ kind: 'trait', trait: 'vip', equals: true });
  });

  it('normalizes nested conditions', () => {
    const parsed = agentConfigSchema.parse(
      makeAgentInput({
        dimensions: [
          { id: 'channel', arms: ['email', 'sms'], default: 'email' },
          { id: 'subject', arms: ['a'], default: 'a', when: { all: [{ channel: ['email', 'sms'] }, { not: { trait: 'vip', exists: true } }] } },
        ],
      }),
    );
    expect(parsed.dimensions[1].when).toEqual({
      kind: 'all',
      all: [
        { kind: 'choice', choices: { channel: ['email', 'sms'] } },
        { kind: 'not', not: { kind: 'trait', trait: 'vip', exists: true } },
      ],
    });
  });

  it('adds startMinute and endMinute to quiet hours', () => {
    expect(agent.guardrails.quiet_hours).toEqual({ start: '21:00', end: '08:00', startMinute: 21 * 60, endMinute: 8 * 60 });
  });

  it('adds perMs to frequency caps', () => {
    expect(agent.guardrails.frequency_caps).toEqual([
      { max: 3, per: '7d', perMs: 7 * 86_400_000 },
      { max: 1, per: '7d', perMs: 7 * 86_400_000, channel: 'sms' },
    ]);
  });

  it('defaults recency max to 365', () => {
    expect(agent.features[3]).toEqual({ trait: 'last_order_at', type: 'recency', unit: 'days', max: 365 });
  });

  it('defaults holdout, features, guardrails and delivery', () => {
    expect(agentConfigSchema.parse(makeAgentInput())).toMatchObject({
      holdout: 0.1,
      features: [],
      guardrails: { frequency_caps: [], eligibility: [], forbid: [] },
      delivery: [],
    });
  });

  it('ignores a $schema key and leaves it out of the output', () => {
    const result = validateConfig({ $schema: './agent-config.schema.json', ...makeWorkspace() });
    expect(result.ok && Object.keys(result.config)).toEqual(['workspace', 'agents']);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['72h', 259_200_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
  ])('reads %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['7 days', '0h', '1.5h', '10y', ''])('rejects "%s"', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('validateConfig', () => {
  it.each<[string, (agent: Json) => void, string[]]>([
    ['a value above its range', (a) => { a.holdout = 0.7; }, ['agents[0].holdout: must be in [0, 0.5], got 0.7']],
    ['a policy parameter above its range', (a) => { a.policy = { kind: 'eps-greedy', epsilon: 1.2 }; }, ['agents[0].policy.epsilon: must be in [0, 1], got 1.2']],
    ['a floor at its open bound', (a) => { a.policy.floor = 1; }, ['agents[0].policy.floor: must be in [0, 1), got 1']],
    ['change detection on the random policy (it has no estimates)', (a) => { a.policy = { kind: 'random', detect: {} }; }, ['agents[0].policy.detect: unknown key; allowed keys are kind, floor, forgetting']],
    ['a change-detection threshold of 0', (a) => { a.policy.detect = { threshold: 0 }; }, ['agents[0].policy.detect.threshold: must be > 0, got 0']],
    ['a negative retain', (a) => { a.policy.detect = { retain: -1 }; }, ['agents[0].policy.detect.retain: must be >= 0, got -1']],
    ['a forgetting factor of 0', (a) => { a.policy.forgetting = 0; }, ['agents[0].policy.forgetting: must be in (0, 1], got 0']],
    ['a non-integer number of draws', (a) => { a.policy = { kind: 'beta-ts', draws: 5.5 }; }, ['agents[0].policy.draws: must be an integer in [10, 100000], got 5.5']],
    ['a parameter of another policy kind', (a) => { a.policy = { kind: 'linucb', epsilon: 0.1 }; }, ['agents[0].policy.epsilon: unknown key; allowed keys are kind, floor, forgetting, detect, alpha, lambda, share']],
    ['an unknown policy kind', (a) => { a.policy = { kind: 'ucb' }; }, ['agents[0].policy.kind: must be one of random, beta-ts, eps-greedy, linucb, lin-ts, logistic-ts, squarecb, got "ucb"']],
    ['a policy without kind', (a) => { a.policy = { floor: 0.1 }; }, ['agents[0].policy.kind: required, one of random, beta-ts, eps-greedy, linucb, lin-ts, logistic-ts, squarecb']],
    ['missing required fields', (a) => { delete a.goal; delete a.policy; }, ['agents[0].goal: required', 'agents[0].policy: required']],
    ['a misspelt key', (a) => { a.polcy = a.policy; }, ['agents[0].polcy: unknown key; allowed keys are id, salt, goal, holdout, policy, features, dimensions, guardrails, delivery']],
    ['a wrong type', (a) => { a.holdout = 'ten percent'; }, ['agents[0].holdout: expected a number, got string "ten percent"']],
    ['an agent id with a space', (a) => { a.id = 'win back'; }, ['agents[0].id: must contain only letters, digits, "_" or "-" and start with a letter or digit, got "win back"']],
    ['a malformed window and combine', (a) => { a.goal.window = '3 days'; a.goal.combine = 'avg'; }, [
      'agents[0].goal.window: must be a duration like 72h, 7d, 30m, 90s or 2w, got "3 days"',
      'agents[0].goal.combine: must be one of first, sum, max, got "avg"',
    ]],
    ['reward values out of range', (a) => { a.goal.rewards[0].value = 1.5; a.goal.rewards[1].value = { property: 'revenue', cap: 0 }; }, [
      'agents[0].goal.rewards[0].value: must be in [0, 1], got 1.5',
      'agents[0].goal.rewards[1].value.cap: must be > 0, got 0',
    ]],
    ['a reward value of the wrong form', (a) => { a.goal.rewards[0].value = 'high'; }, ['agents[0].goal.rewards[0].value: must be a number in [0, 1] or {property, cap}']],
    ['a numeric feature with min >= max', (a) => { a.features[0].min = 60; }, ['agents[0].features[0].max: must be greater than min (60), got 50']],
    ['a categorical feature with a repeated value', (a) => { a.features[1].values = ['running', 'running']; }, ['agents[0].features[1].values[1]: duplicate value "running"']],
    ['too few hash buckets', (a) => { a.features[2].buckets = 1; }, ['agents[0].features[2].buckets: must be an integer in [2, 4096], got 1']],
    ['an unknown feature type', (a) => { a.features[0].type = 'numric'; }, ['agents[0].features[0].type: must be one of numeric, categorical, hashed, boolean, recency, got "numric"']],
    ['an unknown derived feature', (a) => { a.features[4].derived = 'local_minute'; }, ['agents[0].features[4].derived: must be one of local_hour, local_weekday, got "local_minute"']],
    ['a feature without type', (a) => { delete a.features[0].type; }, [
      'agents[0].features[0]: must be a trait feature {trait, type: numeric|categorical|hashed|boolean|recency, ...} or {derived: local_hour|local_weekday}',
    ]],
    ['a duplicate feature trait', (a) => { a.features[2].trait = 'lifetime_orders'; }, ['agents[0].features[2].trait: duplicate feature "lifetime_orders"']],
    ['no dimensions', (a) => { a.dimensions = []; }, ['agents[0].dimensions: must have at least 1 item']],
    ['a duplicate arm id', (a) => { a.dimensions[3].arms[1].id = 'sl_plain'; }, ['agents[0].dimensions[3].arms[1].id: duplicate arm id "sl_plain"']],
    ['a dimension feature the agent does not have', (a) => { a.dimensions[3].features = ['last_category', 'age']; }, [
      'agents[0].dimensions[3].features[1]: "age" is neither a feature of the agent nor an earlier dimension (lifetime_orders, last_category, city, last_order_at, local_hour, frequency, channel, send_time)',
    ]],
    ['a dimension that sees a later one', (a) => { a.dimensions[1].features = ['content_block']; }, ['agents[0].dimensions[1].features[0]: "content_block" is not decided before "channel": a dimension sees only earlier choices']],
    ['a dimension that sees itself', (a) => { a.dimensions[1].features = ['channel']; }, ['agents[0].dimensions[1].features[0]: "channel" is not decided before "channel": a dimension sees only earlier choices']],
    ['a dimension feature listed twice', (a) => { a.dimensions[4].features = ['city', 'channel', 'city']; }, ['agents[0].dimensions[4].features[2]: duplicate "city"']],
    ['a name that is both a feature and a dimension', (a) => { a.features[2].trait = 'channel'; a.dimensions[4].features = ['channel']; }, ['agents[0].dimensions[4].features[0]: "channel" is both a feature and a dimension: rename one']],
    ['a default that is not an arm', (a) => { a.dimensions[0].default = 'maybe'; }, ['agents[0].dimensions[0].default: "maybe" is not one of the arms (send, skip)']],
    ['a duplicate dimension id', (a) => { a.dimensions[4].id = 'frequency'; a.guardrails.forbid = []; }, ['agents[0].dimensions[4].id: duplicate dimension id "frequency"']],
    ['a dimension id that is a condition keyword', (a) => { a.dimensions[4].id = 'all'; a.guardrails.forbid = []; }, ['agents[0].dimensions[4].id: "all" is reserved for conditions']],
    ['a local_hour arm that is not an hour', (a) => { a.dimensions[2].arms = [8, 'noon', { id: 'late', hour: 25 }]; a.dimensions[2].default = 8; }, [
      'agents[0].dimensions[2].arms[2].hour: must be an integer in [0, 23], got 25',
      'agents[0].dimensions[2].arms[1]: needs an hour 0–23 in a local_hour dimension: use the hour as the id or give "hour", got id "noon"',
    ]],
    ['an hour on a categorical arm', (a) => { a.dimensions[0].arms = [{ id: 'send', hour: 3 }, 'skip']; }, ['agents[0].dimensions[0].arms[0].hour: is only allowed in a local_hour dimension']],
    ['an arm of the wrong form', (a) => { a.dimensions[0].arms = [true, 'send']; }, ['agents[0].dimensions[0].arms[0]: must be an arm id, an hour (number) or {id, text?, tags?, hour?}']],
    ['a when on a later dimension', (a) => { a.dimensions[3].when = { content_block: 'cb_specs' }; }, ['agents[0].dimensions[3].when.content_block: dimension "content_block" is not decided before "subject_line"']],
    ['a when on an unknown dimension', (a) => { a.dimensions[3].when = { any: [{ chanel: 'email' }] }; }, ['agents[0].dimensions[3].when.any[0].chanel: unknown dimension "chanel"']],
    ['a when on an unknown arm', (a) => { a.dimensions[3].when = { all: [{ channel: ['email', 'fax'] }] }; }, ['agents[0].dimensions[3].when.all[0].channel[1]: "fax" is not an arm of dimension "channel" (email, sms, push)']],
    ['a trait condition without operator', (a) => { a.dimensions[3].when = { all: [{ trait: 'vip' }] }; }, ['agents[0].dimensions[3].when.all[0]: needs at least one of equals, in, gte, lte, exists']],
    ['a trait condition with a wrong type', (a) => { a.dimensions[3].when = { not: { trait: 3, equals: 1 } }; }, ['agents[0].dimensions[3].when.not.trait: expected a string, got number 3']],
    ['an empty condition', (a) => { a.dimensions[3].when = {}; }, ['agents[0].dimensions[3].when: an empty condition; give a trait test, all, any, not or {<dimension>: <arm>}']],
    ['quiet hours that are not times', (a) => { a.guardrails.quiet_hours = { start: '25:00', end: 480 }; }, [
      'agents[0].guardrails.quiet_hours.start: must be a time "HH:MM" from 00:00 to 23:59 (quoted in YAML), got "25:00"',
      'agents[0].guardrails.quiet_hours.end: must be a time "HH:MM" from 00:00 to 23:59 (quoted in YAML), got 480',
    ]],
    ['quiet hours that start when they end', (a) => { a.guardrails.quiet_hours = { start: '21:00', end: '21:00' }; }, ['agents[0].guardrails.quiet_hours.end: must differ from start (21:00)']],
    ['a negative frequency cap', (a) => { a.guardrails.frequency_caps[0].max = -1; }, ['agents[0].guardrails.frequency_caps[0].max: must be an integer >= 0, got -1']],
    ['a frequency cap on an unknown channel', (a) => { a.guardrails.frequency_caps[1].channel = 'fax'; }, ['agents[0].guardrails.frequency_caps[1].channel: "fax" is not an arm of dimension "channel" (email, sms, push)']],
    ['consent for an unknown channel', (a) => { a.guardrails.consent.fax = 'fax_ok'; }, ['agents[0].guardrails.consent.fax: "fax" is not an arm of dimension "channel" (email, sms, push)']],
    ['consent without a channel dimension', (a) => {
      a.dimensions.splice(1, 1);
      delete a.dimensions[2].when;
      a.guardrails.frequency_caps = [];
      a.guardrails.forbid = [];
    }, ['agents[0].guardrails.consent: needs a dimension with id "channel"']],
    ['an eligibility rule on an unknown arm', (a) => { a.guardrails.eligibility[0].arm = { subject_line: 'sl_x' }; }, ['agents[0].guardrails.eligibility[0].arm.subject_line: "sl_x" is not an arm of dimension "subject_line" (sl_plain, sl_urgency)']],
    ['an eligibility rule without if or unless', (a) => { delete a.guardrails.eligibility[0].unless; }, ['agents[0].guardrails.eligibility[0]: needs `if` or `unless`']],
    ['an eligibility condition on a later dimension', (a) => { a.guardrails.eligibility[0].if = { content_block: 'cb_specs' }; }, ['agents[0].guardrails.eligibility[0].if.content_block: dimension "content_block" is not decided before "subject_line"']],
    ['a forbid rule with one dimension', (a) => { a.guardrails.forbid[0] = { channel: 'sms' }; }, ['agents[0].guardrails.forbid[0]: must name at least two dimensions: a combination of arms never sent together']],
    ['a forbid rule on an unknown dimension', (a) => { a.guardrails.forbid[0] = { channel: 'sms', colour: 'red' }; }, ['agents[0].guardrails.forbid[0].colour: unknown dimension "colour"']],
    ['a forbid rule on an unknown arm', (a) => { a.guardrails.forbid[0].content_block = 'cb_loud'; }, ['agents[0].guardrails.forbid[0].content_block: "cb_loud" is not an arm of dimension "content_block" (cb_specs, cb_style, cb_bundle)']],
    ['a delivery mode the destination lacks', (a) => { a.delivery[0] = { to: 'hubspot', mode: 'attributes' }; }, ['agents[0].delivery[0].mode: hubspot supports contact_properties, got "attributes"']],
    ['a campaign trigger without campaign id', (a) => { delete a.delivery[1].campaign_id; }, ['agents[0].delivery[1].campaign_id: required when mode is campaign_trigger']],
    ['a canvas id on another mode', (a) => { a.delivery[0].canvas_id = 'c1'; }, ['agents[0].delivery[0].canvas_id: only used when mode is canvas_trigger']],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
  });

  it('reports every error, not just the first', () => {
    const errors = errorsOf(
      makeWorkspace((a) => {
        a.holdout = 0.7;
        a.dimensions[3].arms[1].id = 'sl_plain';
        a.delivery[0].prefix = 'nb-';
      }),
    );
    expect(errors).toEqual([
      'agents[0].holdout: must be in [0, 0.5], got 0.7',
      'agents[0].dimensions[3].arms[1].id: duplicate arm id "sl_plain"',
      'agents[0].delivery[0].prefix: must contain only letters, digits and "_", got "nb-"',
    ]);
  });

  it('rejects duplicate agent ids', () => {
    const workspace = makeWorkspace();
    workspace.agents.push(structuredClone(workspace.agents[0]));
    expect(errorsOf(workspace)).toEqual(['agents[1].id: duplicate agent id "winback"']);
  });

  it('refuses a second agent writing onto the same profiles under the same prefix, and allows it elsewhere', () => {
    const workspace = makeWorkspace();
    const second = structuredClone(workspace.agents[0]);
    second.id = 'browse';
    second.delivery = [
      { to: 'braze', mode: 'campaign_trigger', campaign_id: 'c2' },
      { to: 'hubspot', mode: 'contact_properties' },
      { to: 'braze', mode: 'attributes', prefix: 'nb_' },
    ];
    workspace.agents.push(second);
    expect(errorsOf(workspace)).toEqual([
      'agents[1].delivery[2].prefix: writes nb_decision_id, nb_send_at, nb_deliver, … onto braze profiles, as agent "winback" does: the two would overwrite each other; give one of them another prefix',
    ]);
    second.delivery[2].prefix = 'nb_browse_';
    expect(errorsOf(workspace)).toEqual([]);
    // a different prefix can still produce the same names: nb_ + browse_channel is nb_browse_ + channel
    workspace.agents[0].dimensions[1].id = 'browse_channel';
    workspace.agents[0].guardrails = {};
    workspace.agents[0].dimensions[3].when = { browse_channel: 'email' };
    expect(errorsOf(workspace)).toEqual(['agents[1].delivery[2].prefix: writes nb_browse_channel onto braze profiles, as agent "winback" does: the two would overwrite each other; give one of them another prefix']);
  });

  it('rejects a config that is not an object', () => {
    expect(errorsOf('agents')).toEqual(['(root): expected an object, got string "agents"']);
  });

  it('validates a single agent with paths relative to it', () => {
    expect(validateAgentConfig(makeAgentInput({ holdout: 0.7 }))).toEqual({ ok: false, errors: ['holdout: must be in [0, 0.5], got 0.7'] });
  });

  it('rejects a workspace without agents', () => {
    expect(errorsOf({ workspace: 'acme' })).toEqual(['agents: required']);
  });
});

describe('parseConfigText', () => {
  it('reads JSON when the file name ends in .json', () => {
    const json = JSON.stringify(makeWorkspace());
    expect(parseConfigText(json, 'agents.json').workspace).toBe('acme-sports');
  });

  it('reads JSON by content when there is no file name', () => {
    expect(parseConfigText(JSON.stringify(makeWorkspace())).agents[0].id).toBe('winback');
  });

  it('names the file, line and column of a YAML syntax error', () => {
    const text = 'workspace: acme\nagents:\n  - id: a: b\n';
    expect(() => parseConfigText(text, 'agents.yaml')).toThrow('agents.yaml:3:9: Nested mappings are not allowed in compact mappings');
  });

  it('names the file and line of a JSON syntax error', () => {
    const text = '{\n  "workspace": "acme",\n  "agents": [,]\n}';
    expect(() => parseConfigText(text, 'agents.json')).toThrow(/agents\.json:3:14: /);
  });

  it('throws a ConfigError listing every validation error', () => {
    const text = JSON.stringify(makeWorkspace((a) => { a.holdout = 0.7; a.policy.floor = -1; }));
    try {
      parseConfigText(text, 'agents.json');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({
        code: 'invalid_config',
        errors: ['agents[0].holdout: must be in [0, 0.5], got 0.7', 'agents[0].policy.floor: must be in [0, 1), got -1'],
      });
      expect((error as Error).message).toContain('Invalid config in agents.json');
    }
  });
});

describe('loadConfigFile', () => {
  it('loads and validates a YAML file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nextbest-config-'));
    const path = join(dir, 'agents.yaml');
    await writeFile(path, CONTRACT_YAML);
    expect((await loadConfigFile(path)).agents[0].dimensions.map((d) => d.id)).toEqual(['frequency', 'channel', 'send_time', 'subject_line', 'content_block']);
  });

  it('throws a ConfigError for a missing file', async () => {
    await expect(loadConfigFile('/nonexistent/agents.yaml')).rejects.toMatchObject({
      code: 'invalid_config',
      errors: ['/nonexistent/agents.yaml: cannot read: file not found'],
    });
  });
});

describe('manifest/agent-config.schema.json', () => {
  it('is what manifest/generate-schema.ts generates (run it after changing the schema)', async () => {
    expect(await readFile(SCHEMA_PATH, 'utf8')).toBe(agentConfigJsonSchemaText());
  });

  it('describes every property for users', () => {
    const undescribed: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}[${i}]`));
      if (!node || typeof node !== 'object') return;
      const properties = (node as Json).properties as Json | undefined;
      for (const [key, value] of Object.entries(properties ?? {})) {
        if (!('description' in value) && !('$ref' in value)) undescribed.push(`${path}.${key}`);
      }
      for (const [key, value] of Object.entries(node)) walk(value, `${path}/${key}`);
    };
    walk(JSON.parse(agentConfigJsonSchemaText()), '');
    expect(undescribed).toEqual([]);
  });
});
