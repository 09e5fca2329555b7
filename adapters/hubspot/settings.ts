import { z } from 'zod';
import { HUBSPOT_API_BASE } from './constants.ts';
import { ConfigError } from '../kit/index.ts';

const optionalText = () =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === '' ? undefined : v));

/** The adapter's environment. https://developers.hubspot.com/docs/api/working-with-oauth */
export const hubspotEnvSchema = z.object({
  HUBSPOT_CLIENT_ID: optionalText().describe('Client ID of the HubSpot app (Auth tab). OAuth installs.'),
  HUBSPOT_CLIENT_SECRET: optionalText().describe(
    'Client secret of the app: signs the OAuth token exchange and verifies webhook and workflow-action signatures.',
  ),
  HUBSPOT_REDIRECT_URI: optionalText()
    .pipe(
      z.url({ error: 'must be an absolute URL, e.g. https://nextbest.example.com/oauth/hubspot/callback' }).optional(),
    )
    .describe('Redirect URL registered in the app; must end in /oauth/hubspot/callback.'),
  HUBSPOT_TOKEN_KEY: optionalText().describe(
    '256-bit key (64 hex or 44 base64 characters) sealing the stored OAuth tokens with AES-256-GCM.',
  ),
  HUBSPOT_BASE_PATH: optionalText()
    .pipe(z.url({ error: 'must be an absolute URL' }).optional())
    .transform((v) => (v ?? HUBSPOT_API_BASE).replace(/\/$/, ''))
    .describe('API origin; https://api.hubapi.com unless testing against a fake.'),
  HUBSPOT_PRIVATE_APP_TOKEN: optionalText().describe('Static token of a private (single-account) app; replaces OAuth.'),
  HUBSPOT_PORTAL_ID: optionalText()
    .pipe(z.string().regex(/^\d+$/, { error: 'must be a numeric HubSpot account (hub) id' }).optional())
    .describe('Account to act for when several portals installed the app.'),
  HUBSPOT_TOKEN_DB: optionalText().describe(
    'SQLite file holding the sealed OAuth tokens (table hubspot_portal_tokens); may be the service database file.',
  ),
  HUBSPOT_PUBLIC_URL: optionalText()
    .pipe(z.url({ error: 'must be an absolute URL' }).optional())
    .describe('Public origin HubSpot calls (signatures cover the full URL); default: from the request.'),
  HUBSPOT_CONTACT_PROPERTIES: optionalText().describe('Extra contact properties to read as traits, comma-separated.'),
});
export type HubSpotEnv = z.output<typeof hubspotEnvSchema>;

export type HubSpotAuthMode =
  | { kind: 'oauth'; clientId: string; clientSecret: string; redirectUri: string; tokenKey: string }
  | { kind: 'private'; token: string; clientSecret?: string }
  | { kind: 'none'; clientSecret?: string };

const OAUTH_SET = ['HUBSPOT_CLIENT_ID', 'HUBSPOT_CLIENT_SECRET', 'HUBSPOT_REDIRECT_URI', 'HUBSPOT_TOKEN_KEY'] as const;

/** Parses the environment; throws a ConfigError naming each bad or missing variable. */
export function parseHubSpotEnv(env: Record<string, string | undefined>): { env: HubSpotEnv; auth: HubSpotAuthMode } {
  const parsed = hubspotEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${String(i.path[0] ?? 'env')}: ${i.message}`).join('; '));
  }
  const e = parsed.data;
  if (e.HUBSPOT_PRIVATE_APP_TOKEN) {
    return {
      env: e,
      auth: { kind: 'private', token: e.HUBSPOT_PRIVATE_APP_TOKEN, clientSecret: e.HUBSPOT_CLIENT_SECRET },
    };
  }
  const given = OAUTH_SET.filter((k) => e[k] !== undefined);
  if (given.length === 0) return { env: e, auth: { kind: 'none' } };
  // a client secret alone verifies signatures (webhooks, workflow actions) without OAuth installs
  if (given.length === 1 && given[0] === 'HUBSPOT_CLIENT_SECRET')
    return { env: e, auth: { kind: 'none', clientSecret: e.HUBSPOT_CLIENT_SECRET } };
  const missing = OAUTH_SET.filter((k) => e[k] === undefined);
  if (missing.length > 0) {
    throw new ConfigError(
      `HubSpot OAuth settings are incomplete: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set (an OAuth install needs ${OAUTH_SET.join(', ')}; a single-account install needs HUBSPOT_PRIVATE_APP_TOKEN instead)`,
    );
  }
  if (!e.HUBSPOT_REDIRECT_URI!.endsWith('/oauth/hubspot/callback')) {
    throw new ConfigError(
      `HUBSPOT_REDIRECT_URI must end in /oauth/hubspot/callback (the route this server serves), got ${e.HUBSPOT_REDIRECT_URI}`,
    );
  }
  return {
    env: e,
    auth: {
      kind: 'oauth',
      clientId: e.HUBSPOT_CLIENT_ID!,
      clientSecret: e.HUBSPOT_CLIENT_SECRET!,
      redirectUri: e.HUBSPOT_REDIRECT_URI!,
      tokenKey: e.HUBSPOT_TOKEN_KEY!,
    },
  };
}
