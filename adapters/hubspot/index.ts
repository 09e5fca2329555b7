import { hubspotDestination } from './destination.ts';
import type { AgentConfig, DecisionSink, Delivery } from '../../plugin/agent/index.ts';
import type { ServerExtension, SinkFactory } from '../../plugin/service/index.ts';
import { ConfigError, realPacing, type Adapter, type Pacing } from '../kit/index.ts';
import { HubSpotCrm } from './client.ts';
import { HUBSPOT_OPTIONAL_SCOPES, HUBSPOT_REQUIRED_SCOPES } from './constants.ts';
import { hubspotExtension } from './extension.ts';
import { HubSpotOAuth, TokenVault, type FetchLike } from './oauth.ts';
import { InMemoryPortalTokens, SqlitePortalTokens, type PortalTokens } from './portal-tokens.ts';
import { HubSpotProfileSource } from './profile-source.ts';
import { contactPropertiesFor } from './properties.ts';
import { parseKey, SecretBox } from './sealing.ts';
import { hubspotEnvSchema, parseHubSpotEnv } from './settings.ts';
import { HubSpotContactSink } from './sink.ts';

export * from './client.ts';
export * from './constants.ts';
export * from './errors.ts';
export * from './extension.ts';
export * from './install.ts';
export * from './mapping.ts';
export * from './oauth.ts';
export * from './portal-tokens.ts';
export * from './profile-source.ts';
export * from './properties.ts';
export * from './replays.ts';
export * from './retry.ts';
export * from './sealing.ts';
export * from './settings.ts';
export * from './signatures.ts';
export * from './sink.ts';

export interface HubSpotFromEnvOptions {
  /** The workspace's agents: their traits are the contact properties read. */
  agents?: readonly AgentConfig[];
  /** Where sealed OAuth tokens are kept; default HUBSPOT_TOKEN_DB, else ./data/hubspot-tokens.db. `:memory:` keeps them in process memory. */
  tokenDbPath?: string;
  /** Or a PortalTokens of your own (wins over tokenDbPath). */
  portalTokens?: PortalTokens;
  pacing?: Pacing;
  fetch?: FetchLike;
}

export interface HubSpotConnection {
  crm: HubSpotCrm;
  profileSource: HubSpotProfileSource;
  /** Builds the sink of a `{to: hubspot, mode: contact_properties}` delivery entry (undefined for other entries). */
  sinks: SinkFactory;
  /** The OAuth install, webhook and workflow-action routes; undefined without HUBSPOT_CLIENT_SECRET. */
  extension?: ServerExtension;
  vault?: TokenVault;
  close(): Promise<void>;
}

/**
 * Builds the HubSpot ports from environment variables (see settings.ts and docs/hubspot.md):
 * a private-app token (single account), or the OAuth set HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET,
 * HUBSPOT_REDIRECT_URI, HUBSPOT_TOKEN_KEY (marketplace). A partial set throws a ConfigError
 * naming the missing variables.
 */
export function hubspotFromEnv(
  env: Record<string, string | undefined>,
  options: HubSpotFromEnvOptions = {},
): HubSpotConnection {
  const { env: e, auth } = parseHubSpotEnv(env);
  const pacing = options.pacing ?? realPacing;
  let vault: TokenVault | undefined;
  let oauth: HubSpotOAuth | undefined;
  let tokens: PortalTokens | undefined;
  let accessToken: () => Promise<string>;
  if (auth.kind === 'oauth') {
    const box = new SecretBox(parseKey(auth.tokenKey));
    const path = options.tokenDbPath ?? e.HUBSPOT_TOKEN_DB ?? './data/hubspot-tokens.db';
    tokens = options.portalTokens ?? (path === ':memory:' ? new InMemoryPortalTokens() : new SqlitePortalTokens(path));
    oauth = new HubSpotOAuth({
      clientId: auth.clientId,
      clientSecret: auth.clientSecret,
      redirectUri: auth.redirectUri,
      basePath: e.HUBSPOT_BASE_PATH,
      scopes: HUBSPOT_REQUIRED_SCOPES,
      optionalScopes: HUBSPOT_OPTIONAL_SCOPES,
      fetch: options.fetch,
    });
    const v = new TokenVault(oauth, tokens, box, pacing.clock);
    vault = v;
    accessToken = () => v.accessToken(e.HUBSPOT_PORTAL_ID);
  } else if (auth.kind === 'private') {
    const token = auth.token;
    accessToken = async () => token;
  } else {
    accessToken = async () => {
      throw new ConfigError(
        'HubSpot is not connected: set HUBSPOT_PRIVATE_APP_TOKEN or the OAuth variables (docs/hubspot.md)',
      );
    };
  }
  const crm = new HubSpotCrm({ basePath: e.HUBSPOT_BASE_PATH, accessToken });
  const extra = (e.HUBSPOT_CONTACT_PROPERTIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const profileSource = new HubSpotProfileSource({
    crm,
    properties: [...contactPropertiesFor(options.agents ?? []), ...extra],
    pacing,
  });
  const sinks: SinkFactory = (agent: AgentConfig, delivery: Delivery): DecisionSink | undefined =>
    delivery.to === 'hubspot' && delivery.mode === 'contact_properties' && auth.kind !== 'none'
      ? new HubSpotContactSink({ crm, agent, delivery, pacing })
      : undefined;
  const secret = auth.clientSecret;
  const extension = secret
    ? hubspotExtension({
        clientSecret: secret,
        publicBaseUrl: e.HUBSPOT_PUBLIC_URL,
        oauth:
          oauth && vault
            ? { client: oauth, vault, basePath: e.HUBSPOT_BASE_PATH, portalId: e.HUBSPOT_PORTAL_ID }
            : undefined,
      })
    : undefined;
  return {
    crm,
    profileSource,
    sinks,
    extension,
    vault,
    async close() {
      await tokens?.close?.();
    },
  };
}

/** Any of these set connects HubSpot (the rest of a set is then required; see settings.ts). */
const HUBSPOT_VARS = ['HUBSPOT_PRIVATE_APP_TOKEN', 'HUBSPOT_CLIENT_ID', 'HUBSPOT_CLIENT_SECRET'];

/** The HubSpot adapter: contacts as profiles and audiences, decisions as contact properties, OAuth install, webhooks and the workflow action (docs/hubspot.md). */
export const hubspotAdapter: Adapter = {
  name: 'hubspot',
  envSchema: hubspotEnvSchema,
  destination: hubspotDestination,
  connect(env, ctx) {
    if (!HUBSPOT_VARS.some((v) => env[v])) return undefined;
    const h = hubspotFromEnv(env, { agents: ctx.agents });
    return {
      profileSource: h.profileSource,
      sinks: h.sinks,
      extensions: h.extension ? [h.extension] : [],
      audiencePrefixes: ['list:', 'search:'],
      close: () => h.close(),
    };
  },
};
