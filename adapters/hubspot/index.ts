import { hubspotDestination } from './destination.ts';
import type { AgentConfig, DecisionSink, Delivery } from '../../plugin/agent/index.ts';
import type { ServerExtension, SinkFactory } from '../../plugin/service/index.ts';
import { ConfigError, realPacing, type Adapter, type Pacing } from '../kit/index.ts';
import { HubSpotCrm } from './client.ts';
import {
  HUBSPOT_BURST_WINDOW_MS,
  HUBSPOT_OPTIONAL_SCOPES,
  HUBSPOT_PRIVATE_APP_BURST_REQUESTS,
  HUBSPOT_REQUIRED_SCOPES,
} from './constants.ts';
import { hubspotExtension } from './extension.ts';
import type { OAuthInstall } from './install-routes.ts';
import { HubSpotOAuth, TokenVault, type FetchLike } from './oauth.ts';
import { InMemoryPortalTokens, SqlitePortalTokens, type PortalTokens } from './portal-tokens.ts';
import { InstalledPortals, OnePortal, privateAppPortal, type HubSpotPortals } from './portals.ts';
import { HubSpotProfileSource } from './profile-source.ts';
import { contactPropertiesFor } from './properties.ts';
import { parseKey, SecretBox } from './sealing.ts';
import { hubspotEnvSchema, parseHubSpotEnv, type HubSpotAuthMode, type HubSpotEnv } from './settings.ts';
import { HubSpotContactSink } from './sink.ts';

export * from './client.ts';
export * from './constants.ts';
export * from './errors.ts';
export * from './extension.ts';
export * from './install.ts';
export * from './mapping.ts';
export * from './oauth.ts';
export * from './portal-tokens.ts';
export * from './portals.ts';
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
  /** The portals read and written: each user id's own. */
  portals: HubSpotPortals;
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
  const { portals, install, tokens } = connectPortals(e, auth, options, pacing);
  const extra = (e.HUBSPOT_CONTACT_PROPERTIES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const profileSource = new HubSpotProfileSource({
    portals,
    properties: [...contactPropertiesFor(options.agents ?? []), ...extra],
    pacing,
  });
  const sinks: SinkFactory = (agent: AgentConfig, delivery: Delivery): DecisionSink | undefined =>
    delivery.to === 'hubspot' && delivery.mode === 'contact_properties' && auth.kind !== 'none'
      ? new HubSpotContactSink({ portals, agent, delivery, pacing })
      : undefined;
  const secret = auth.clientSecret;
  const extension = secret
    ? hubspotExtension({ clientSecret: secret, publicBaseUrl: e.HUBSPOT_PUBLIC_URL, portals, oauth: install })
    : undefined;
  return {
    portals,
    profileSource,
    sinks,
    extension,
    vault: install?.vault,
    async close() {
      await tokens?.close?.();
    },
  };
}

/** The portals the environment connects: installed ones (OAuth), a private app's, or none. */
function connectPortals(
  e: HubSpotEnv,
  auth: HubSpotAuthMode,
  options: HubSpotFromEnvOptions,
  pacing: Pacing,
): { portals: HubSpotPortals; install?: OAuthInstall; tokens?: PortalTokens } {
  const basePath = e.HUBSPOT_BASE_PATH;
  if (auth.kind === 'private')
    return {
      portals: privateAppPortal(
        { basePath, token: auth.token, portalId: e.HUBSPOT_PORTAL_ID, pacing },
        { requests: HUBSPOT_PRIVATE_APP_BURST_REQUESTS, perMs: HUBSPOT_BURST_WINDOW_MS },
      ),
    };
  if (auth.kind === 'none') {
    const notConnected = async (): Promise<string> => {
      throw new ConfigError(
        'HubSpot is not connected: set HUBSPOT_PRIVATE_APP_TOKEN or the OAuth variables (docs/hubspot.md)',
      );
    };
    return { portals: new OnePortal(new HubSpotCrm({ basePath, accessToken: notConnected, pacing })) };
  }
  const box = new SecretBox(parseKey(auth.tokenKey)); // a bad key is refused before any file is opened
  const path = options.tokenDbPath ?? e.HUBSPOT_TOKEN_DB ?? './data/hubspot-tokens.db';
  const tokens =
    options.portalTokens ?? (path === ':memory:' ? new InMemoryPortalTokens() : new SqlitePortalTokens(path));
  const client = new HubSpotOAuth({
    clientId: auth.clientId,
    clientSecret: auth.clientSecret,
    redirectUri: auth.redirectUri,
    basePath,
    scopes: HUBSPOT_REQUIRED_SCOPES,
    optionalScopes: HUBSPOT_OPTIONAL_SCOPES,
    fetch: options.fetch,
  });
  const vault = new TokenVault(client, tokens, box, pacing.clock);
  const portals = new InstalledPortals({ vault, basePath, portalId: e.HUBSPOT_PORTAL_ID, pacing });
  return { portals, install: { client, vault }, tokens };
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
