/**
 * The composition root over the adapters' definitions: what each environment connects, where
 * decide reads profiles, which adapter serves an audience reference, and the delivery modes.
 */
import { describe, expect, it } from 'vitest';
import { BrazeAttributesSink } from '../../adapters/braze/index.ts';
import { HubSpotContactSink, HubSpotProfileSource } from '../../adapters/hubspot/index.ts';
import { SegmentProfileSource } from '../../adapters/segment/index.ts';
import { declaredDestinations, deliverySchema, validateAgentConfig } from '../../plugin/agent/index.ts';
import { connectFromEnv } from '../../plugin/connections.ts';
import { FileAudience } from '../../plugin/run/index.ts';
import { makeAgent, makeAgentInput } from '../agent/factories.ts';

const BRAZE = { BRAZE_REST_ENDPOINT: 'https://rest.iad-01.braze.com', BRAZE_API_KEY: 'braze-key' };
const SEGMENT = { SEGMENT_PROFILE_TOKEN: 'sgp_token', SEGMENT_SPACE_ID: 'spa_1', SEGMENT_SHARED_SECRET: 'shh' };
const HUBSPOT = { HUBSPOT_PRIVATE_APP_TOKEN: 'pat-token', HUBSPOT_CLIENT_SECRET: 'client-secret' };

describe('connectFromEnv', () => {
  it('connects nothing when no vendor variable is set', async () => {
    const c = connectFromEnv({ PATH: '/usr/bin' }, []);
    expect(c.connected).toEqual([]);
    expect(c.profileSource).toBeUndefined();
    expect(c.extensions).toEqual([]);
    expect(c.audienceSource('winback_audience')).toBeUndefined();
    expect(c.audienceSource('file:members.ndjson')).toBeInstanceOf(FileAudience);
    await c.close();
  });

  it('names every connected vendor, and routes each audience reference to the adapter that serves it', async () => {
    const c = connectFromEnv({ ...BRAZE, ...SEGMENT, ...HUBSPOT, NEXTBEST_PROFILE_SOURCE: 'hubspot' }, []);
    expect(c.connected).toEqual(['braze', 'segment', 'hubspot']);
    expect(c.profileSource).toBeInstanceOf(HubSpotProfileSource);
    expect(c.audienceSource('list:42')).toBeInstanceOf(HubSpotProfileSource);
    expect(c.audienceSource('search:lifecyclestage=customer')).toBeInstanceOf(HubSpotProfileSource);
    expect(c.audienceSource('winback_audience')).toBeInstanceOf(SegmentProfileSource);
    expect(c.extensions.map((e) => e.name)).toEqual(['segment-webhook', 'hubspot']);
    await c.close();
  });

  it('builds the sink of each delivery entry from the adapter of its destination', async () => {
    const agent = makeAgent({
      delivery: [
        { to: 'braze', mode: 'attributes', prefix: 'nb_' },
        { to: 'hubspot', mode: 'contact_properties', prefix: 'hs_nb_' },
      ],
    });
    const c = connectFromEnv({ ...BRAZE, ...HUBSPOT }, [agent]);
    expect(c.sinks(agent, agent.delivery[0])).toBeInstanceOf(BrazeAttributesSink);
    expect(c.sinks(agent, agent.delivery[1])).toBeInstanceOf(HubSpotContactSink);
    expect(c.sinks(agent, deliverySchema.parse({ to: 'segment', mode: 'identify' }))).toBeUndefined();
    await c.close();
  });

  it('reads profiles from the only profile source connected, and asks to choose between two', () => {
    expect(connectFromEnv({ ...BRAZE, ...SEGMENT }, []).profileSource).toBeInstanceOf(SegmentProfileSource);
    expect(() => connectFromEnv({ ...SEGMENT, ...HUBSPOT }, [])).toThrow(
      /NEXTBEST_PROFILE_SOURCE: segment and hubspot are connected; choose/,
    );
    expect(() => connectFromEnv({ ...SEGMENT, NEXTBEST_PROFILE_SOURCE: 'hubspot' }, [])).toThrow(
      /NEXTBEST_PROFILE_SOURCE: hubspot is chosen but not connected/,
    );
    expect(() => connectFromEnv({ ...SEGMENT, NEXTBEST_PROFILE_SOURCE: 'salesforce' }, [])).toThrow(
      /NEXTBEST_PROFILE_SOURCE: must be the name of a connected profile source \(segment\)/,
    );
  });

  it('names the variable of an incomplete set', () => {
    expect(() => connectFromEnv({ BRAZE_API_KEY: 'k' }, [])).toThrow('BRAZE_REST_ENDPOINT: is required');
    expect(() => connectFromEnv({ SEGMENT_PROFILE_TOKEN: 't' }, [])).toThrow(/SEGMENT_SPACE_ID: is required/);
    expect(() => connectFromEnv({ HUBSPOT_CLIENT_ID: 'id' }, [])).toThrow(
      /HUBSPOT_CLIENT_SECRET, HUBSPOT_REDIRECT_URI, HUBSPOT_TOKEN_KEY are not set/,
    );
  });
});

describe('delivery destinations', () => {
  it('are what the adapters declare, once this module is loaded', () => {
    const modes = Object.fromEntries(declaredDestinations().map((d) => [d.to, d.modes.map((m) => m.name)]));
    expect(modes).toEqual({
      braze: ['attributes', 'campaign_trigger', 'canvas_trigger'],
      segment: ['identify'],
      hubspot: ['contact_properties'],
    });
  });

  it('each declared mode is accepted with the id it requires, and refused without it', () => {
    for (const { to, modes } of declaredDestinations()) {
      for (const { name, requires } of modes) {
        const ids = requires ? { [requires.key]: 'c' } : {};
        expect(() => deliverySchema.parse({ to, mode: name, ...ids }), `${to}: ${name}`).not.toThrow();
        if (requires) expect(() => deliverySchema.parse({ to, mode: name })).toThrow(/required when mode is/);
      }
    }
  });

  it('an undeclared destination or mode, or an id of another mode, is refused by name', () => {
    expect(validateAgentConfig({ ...makeAgentInput(), delivery: [{ to: 'iterable', mode: 'x' }] })).toMatchObject({
      ok: false,
      errors: ['delivery[0].to: unknown destination "iterable"; known: braze, segment, hubspot'],
    });
    expect(
      validateAgentConfig({ ...makeAgentInput(), delivery: [{ to: 'braze', mode: 'attributes', campaign_id: 'c' }] }),
    ).toMatchObject({ ok: false, errors: ['delivery[0].campaign_id: only used when mode is campaign_trigger'] });
    expect(validateAgentConfig({ ...makeAgentInput(), delivery: [{ to: 'segment', mode: 'track' }] })).toMatchObject({
      ok: false,
      errors: ['delivery[0].mode: segment supports identify, got "track"'],
    });
  });
});
