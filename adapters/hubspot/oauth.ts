import { z } from 'zod';
import { AuthError, ConfigError, PayloadValidationError, RetryableError } from '../kit/index.ts';
import { HUBSPOT_AUTHORIZE_URL, TOKEN_REFRESH_MARGIN_MS } from './constants.ts';
import { hubspotError, readFailure } from './errors.ts';
import type { PortalTokens } from './portal-tokens.ts';
import type { SecretBox } from './sealing.ts';

/** `POST /oauth/v1/token` reply. https://developers.hubspot.com/docs/api/oauth-quickstart-guide */
export const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.number().int().positive(),
  token_type: z.string().optional(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** `GET /oauth/v1/access-tokens/{token}` reply (only what we read). */
export const tokenInfoSchema = z.object({
  hub_id: z.number().int(),
  scopes: z.array(z.string()).default([]),
  app_id: z.number().int().optional(),
  hub_domain: z.string().optional(),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<Response>;

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** API origin: https://api.hubapi.com, or a fake's. */
  basePath: string;
  scopes: readonly string[];
  optionalScopes?: readonly string[];
  fetch?: FetchLike;
}

/** The OAuth endpoints, one method each. Responses are parsed with zod; errors are classified. */
export class HubSpotOAuth {
  private readonly fetch: FetchLike;

  constructor(private readonly settings: OAuthSettings) {
    this.fetch = settings.fetch ?? ((url, init) => fetch(url, init));
  }

  /** The callback URL HubSpot sends the installer back to (HUBSPOT_REDIRECT_URI). */
  get redirectUri(): string {
    return this.settings.redirectUri;
  }

  authorizeUrl(state: string): string {
    const q = new URLSearchParams({
      client_id: this.settings.clientId,
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes.join(' '),
      state,
    });
    if (this.settings.optionalScopes?.length) q.set('optional_scope', this.settings.optionalScopes.join(' '));
    return `${HUBSPOT_AUTHORIZE_URL}?${q.toString().replace(/\+/g, '%20')}`;
  }

  exchangeCode(code: string): Promise<TokenResponse> {
    return this.token({
      grant_type: 'authorization_code',
      client_id: this.settings.clientId,
      client_secret: this.settings.clientSecret,
      redirect_uri: this.settings.redirectUri,
      code,
    });
  }

  refresh(refreshToken: string): Promise<TokenResponse> {
    return this.token({
      grant_type: 'refresh_token',
      client_id: this.settings.clientId,
      client_secret: this.settings.clientSecret,
      redirect_uri: this.settings.redirectUri,
      refresh_token: refreshToken,
    });
  }

  /**
   * `DELETE /appinstalls/v3/external-install`: uninstalls the app from the token's portal (HubSpot
   * then mails its super admins). https://developers.hubspot.com/changelog/public-beta-new-api-for-uninstalling-a-public-app-from-a-hubspot-account
   */
  async uninstall(accessToken: string): Promise<void> {
    await this.call('DELETE', '/appinstalls/v3/external-install', undefined, accessToken);
  }

  async tokenInfo(accessToken: string): Promise<TokenInfo> {
    const res = await this.call('GET', `/oauth/v1/access-tokens/${encodeURIComponent(accessToken)}`);
    return parseReply(tokenInfoSchema, res, 'access-token info');
  }

  private async token(form: Record<string, string>): Promise<TokenResponse> {
    const res = await this.call('POST', '/oauth/v1/token', new URLSearchParams(form).toString());
    return parseReply(tokenResponseSchema, res, 'token');
  }

  private async call(method: string, path: string, form?: string, bearer?: string): Promise<unknown> {
    let res: Response;
    try {
      res = await this.fetch(`${this.settings.basePath}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        },
        body: form,
        signal: AbortSignal.timeout(15_000),
      });
    } catch (cause) {
      throw new RetryableError(`HubSpot OAuth ${path} unreachable`, undefined, undefined, { cause });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    if (!res.ok) {
      const failed = { code: res.status, body, headers: Object.fromEntries(res.headers) };
      const e = hubspotError(failed);
      if (e instanceof RetryableError)
        throw new RetryableError(`HubSpot OAuth ${path}: ${e.message}`, e.status, e.retryAfterMs, { cause: e });
      // Any other refusal of the OAuth endpoints (a bad code, a revoked refresh token) means installing again.
      throw new AuthError(`HubSpot OAuth ${path} refused (${res.status}): ${readFailure(failed).message}`, {
        status: res.status,
        cause: e,
      });
    }
    return body;
  }
}

function parseReply<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new PayloadValidationError(
      `HubSpot ${what} reply is not what the OAuth docs describe: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

const sealedTokensSchema = z.object({ accessToken: z.string(), refreshToken: z.string(), expiresAt: z.number() });

/**
 * Access tokens per portal: stored sealed, opened on use, refreshed (refresh_token grant) when
 * they expire within `TOKEN_REFRESH_MARGIN_MS`. Concurrent callers share one refresh.
 */
export class TokenVault {
  private readonly refreshing = new Map<string, Promise<string>>();

  constructor(
    private readonly oauth: HubSpotOAuth,
    private readonly tokens: PortalTokens,
    private readonly box: SecretBox,
    private readonly clock: () => number,
    private readonly marginMs = TOKEN_REFRESH_MARGIN_MS,
  ) {}

  /** Stores a fresh token reply for a portal. */
  async save(portalId: string, reply: TokenResponse, scopes: string[]): Promise<void> {
    const now = this.clock();
    const expiresAt = now + reply.expires_in * 1000;
    const sealed = this.box.seal(
      JSON.stringify({ accessToken: reply.access_token, refreshToken: reply.refresh_token, expiresAt }),
      portalId,
    );
    await this.tokens.put({ portalId, sealed, expiresAt, scopes, updatedAt: now });
  }

  /** Every installed portal id, first installed first. */
  portals(): Promise<string[]> {
    return this.tokens.portals();
  }

  /** Forgets a portal's tokens (it uninstalled the app): nothing acts for it any more. */
  async remove(portalId: string): Promise<boolean> {
    this.refreshing.delete(portalId);
    return this.tokens.remove(portalId);
  }

  /** A valid access token for the portal, refreshed first when it is about to expire. */
  async accessToken(portalId: string): Promise<string> {
    const id = portalId;
    const row = await this.tokens.get(id);
    if (!row) throw new AuthError(`HubSpot portal ${id} is not installed: an admin installs it (docs/hubspot.md)`);
    const opened = this.openTokens(row.sealed, id);
    if (opened.expiresAt - this.marginMs > this.clock()) return opened.accessToken;
    let pending = this.refreshing.get(id);
    if (!pending) {
      pending = this.oauth
        .refresh(opened.refreshToken)
        .then(async (reply) => {
          await this.save(id, reply, row.scopes);
          return reply.access_token;
        })
        .finally(() => this.refreshing.delete(id));
      this.refreshing.set(id, pending);
    }
    return pending;
  }

  /** The portal's tokens in clear; a ConfigError when HUBSPOT_TOKEN_KEY is not the key they were sealed with. */
  private openTokens(sealed: Uint8Array, portalId: string): z.infer<typeof sealedTokensSchema> {
    try {
      return sealedTokensSchema.parse(JSON.parse(this.box.open(sealed, portalId)));
    } catch (cause) {
      throw new ConfigError(
        `the stored tokens of HubSpot portal ${portalId} do not open with HUBSPOT_TOKEN_KEY (was the key changed?): install the portal again`,
        { cause },
      );
    }
  }
}
