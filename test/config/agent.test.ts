import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { agentConfigSchema, parseConfigText, validateConfig } from '../../plugin/config/index.ts';
import { CONTRACT_YAML, contractAgent, errorsOf, makeAgentInput, makeWorkspace, type Json } from './contract.ts';

describe('the contract config (examples/agents.yaml)', () => {
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
    const example = parseConfigText(
      await readFile(new URL('../../examples/agents.yaml', import.meta.url), 'utf8'),
      'examples/agents.yaml',
    );
    const contract = parseConfigText(CONTRACT_YAML);
    contract.agents[0].delivery[1].campaign_id = example.agents[0].delivery[1].campaign_id;
    expect(example).toEqual(contract);
  });
});

describe('agent and workspace', () => {
  const agent = contractAgent();

  it('defaults the salt to the agent id', () => {
    expect(agent.salt).toBe('winback');
  });

  it('keeps an explicit salt', () => {
    expect(agentConfigSchema.parse(makeAgentInput({ salt: 'v2' })).salt).toBe('v2');
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

  it.each<[string, (agent: Json) => void, string[]]>([
    [
      'a value above its range',
      (a) => {
        a.holdout = 0.7;
      },
      ['agents[0].holdout: must be in [0, 0.5], got 0.7'],
    ],
    [
      'an agent id with a space',
      (a) => {
        a.id = 'win back';
      },
      ['agents[0].id: must contain only letters, digits, "_" or "-" and start with a letter or digit, got "win back"'],
    ],
  ])('rejects %s', (_name, change, expected) => {
    expect(errorsOf(makeWorkspace(change))).toEqual(expected);
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
    expect(errorsOf(workspace)).toEqual([
      'agents[1].delivery[2].prefix: writes nb_browse_channel onto braze profiles, as agent "winback" does: the two would overwrite each other; give one of them another prefix',
    ]);
  });

  it('rejects a workspace without agents', () => {
    expect(errorsOf({ workspace: 'acme' })).toEqual(['agents: required']);
  });
});
