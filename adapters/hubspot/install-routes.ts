import type { CookieOptions, NextFunction, Request, Response, Router } from 'express';
import { z } from 'zod';
import { validateAgentConfig, type AgentConfig } from '../../plugin/agent/index.ts';
import { AuthError, hashApiKey, parseBody, RequestError, type ServerContext } from '../../plugin/service/index.ts';
import type { ApiKeyRow } from '../../plugin/store/index.ts';
import { AuthError as VendorAuthError } from '../kit/index.ts';
import { INSTALL_COOKIE, type InstallGate } from './install.ts';
import type { HubSpotOAuth, TokenVault } from './oauth.ts';
import type { HubSpotPortals } from './portals.ts';
import { ensureDecisionProperties, type EnsureReport } from './properties.ts';

export interface OAuthInstall {
  client: HubSpotOAuth;
  vault: TokenVault;
}

/** An async route whose failure goes to the server's one error mapping. */
export const handled =
  (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch(next);
  };

const NOT_CONFIGURED =
  'OAuth install is not configured (set HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_REDIRECT_URI, HUBSPOT_TOKEN_KEY)';
const WHO_INSTALLS =
  'an admin starts a HubSpot install: send the admin key (Authorization: Bearer <admin key>), or open a one-time install link from POST /v1/hubspot/install-links';

const installQuerySchema = z.object({ link: z.string().min(1).optional() });

const portalParamsSchema = z.object({
  portalId: z.string().regex(/^\d+$/, { error: 'must be a numeric HubSpot account (hub) id' }),
});

const callbackQuerySchema = z.object({
  code: z.string().min(1).optional(),
  state: z.string({ error: 'required' }).min(1),
  error: z.string().optional(),
  error_description: z.string().optional(),
});

/**
 * The OAuth install: `POST /v1/hubspot/install-links` (admin key) mints a one-time link;
 * `GET /oauth/hubspot/install` (the link, or the admin key) sets the browser's install cookie and
 * sends it to HubSpot; `GET /oauth/hubspot/callback` completes it in that browser, once.
 */
export function addInstallRoutes(
  router: Router,
  ctx: ServerContext,
  gate: InstallGate,
  oauth: OAuthInstall | undefined,
  portals: HubSpotPortals,
): void {
  router.post(
    '/v1/hubspot/install-links',
    handled(async (req, res) => {
      const { client } = configured(oauth);
      const admin = await adminKeyOf(req, ctx);
      const link = gate.mintLink();
      ctx.logger.info({ keyLabel: admin.label }, 'hubspot install link minted');
      res.status(201).json({ url: installLinkUrl(client.redirectUri, link.token), expiresAt: iso(link.expiresAt) });
    }),
  );

  router.get(
    '/oauth/hubspot/install',
    handled(async (req, res) => {
      const { client } = configured(oauth);
      await authorizeInstall(req, ctx, gate);
      const { browserNonce, state } = gate.begin();
      res.cookie(INSTALL_COOKIE, browserNonce, { ...installCookie(client.redirectUri), maxAge: gate.stateTtlMs });
      res.set('Referrer-Policy', 'no-referrer');
      res.redirect(302, client.authorizeUrl(state));
    }),
  );

  router.get(
    '/oauth/hubspot/callback',
    handled(async (req, res) => {
      const install = configured(oauth);
      const query = parseBody(callbackQuerySchema, req.query, 'query');
      if (query.error)
        throw new RequestError(
          400,
          'install_refused',
          `HubSpot did not grant access: ${query.error}${query.error_description ? ` (${query.error_description})` : ''}`,
        );
      const why = gate.complete(query.state, cookieOf(req, INSTALL_COOKIE));
      if (why) throw new RequestError(401, 'invalid_state', `the install callback was refused: ${why}`);
      res.clearCookie(INSTALL_COOKIE, installCookie(install.client.redirectUri));
      if (!query.code) throw new RequestError(400, 'invalid_request', 'code: required');
      res.status(200).json(await installPortal(ctx, install, portals, query.code));
    }),
  );

  router.delete(
    '/v1/hubspot/portals/:portalId',
    handled(async (req, res) => {
      const install = configured(oauth);
      const admin = await adminKeyOf(req, ctx);
      const { portalId } = parseBody(portalParamsSchema, req.params, 'path');
      if (!(await portals.isInstalled(portalId)))
        throw new RequestError(404, 'not_found', `HubSpot portal ${portalId} is not installed`);
      await uninstallInHubSpot(install, portalId);
      await install.vault.remove(portalId);
      portals.forget(portalId);
      ctx.logger.info({ portalId, keyLabel: admin.label }, 'hubspot portal uninstalled');
      res.status(200).json({ uninstalled: true, portalId });
    }),
  );
}

/**
 * Asks HubSpot to uninstall the app from the portal, with the portal's own token. A portal whose
 * token HubSpot no longer accepts (the app was removed there already) has nothing to undo; any
 * other failure keeps the tokens, so the admin can try again.
 */
async function uninstallInHubSpot(install: OAuthInstall, portalId: string): Promise<void> {
  try {
    await install.client.uninstall(await install.vault.accessToken(portalId));
  } catch (err) {
    if (err instanceof VendorAuthError) return;
    throw new RequestError(502, 'hubspot_error', `HubSpot uninstall failed: ${(err as Error).message}`);
  }
}

function configured(oauth: OAuthInstall | undefined): OAuthInstall {
  if (!oauth) throw new RequestError(404, 'not_found', NOT_CONFIGURED);
  return oauth;
}

/** An install starts with an unused install link, else with an admin key of this workspace. */
async function authorizeInstall(req: Request, ctx: ServerContext, gate: InstallGate): Promise<void> {
  const { link } = parseBody(installQuerySchema, req.query, 'query');
  if (link === undefined) {
    await adminKeyOf(req, ctx);
    return;
  }
  if (!gate.redeemLink(link))
    throw new AuthError(
      401,
      'invalid_install_link',
      'this install link is unknown, already used or expired: ask an admin for a new one',
    );
}

/** The admin key of this workspace the request carries; 401 without a valid one, 403 for another scope. */
async function adminKeyOf(req: Request, ctx: ServerContext): Promise<ApiKeyRow> {
  const key = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
  if (!key) throw new AuthError(401, 'missing_api_key', WHO_INSTALLS);
  const row = await ctx.store.findApiKey(hashApiKey(key));
  if (!row || row.workspace !== ctx.service.workspace)
    throw new AuthError(401, 'invalid_api_key', 'this API key is not valid');
  if (row.scope !== 'admin')
    throw new AuthError(403, 'forbidden', `this key has scope "${row.scope}"; a HubSpot install needs "admin"`);
  return row;
}

/** Exchanges the code, stores the portal's tokens and creates the decision properties in it. */
async function installPortal(ctx: ServerContext, install: OAuthInstall, portals: HubSpotPortals, code: string) {
  const reply = await vendorCall(() => install.client.exchangeCode(code), 'token exchange');
  const info = await vendorCall(() => install.client.tokenInfo(reply.access_token), 'token info');
  const portalId = String(info.hub_id);
  await install.vault.save(portalId, reply, info.scopes);
  const report: EnsureReport = await vendorCall(
    () => ensureDecisionProperties(portals.crm(portalId), agentsOf(ctx)),
    'property creation',
  );
  // which portal a bare contact id now belongs to: none when several are installed without HUBSPOT_PORTAL_ID
  const defaultPortalId = await portals.defaultPortal().catch(() => null);
  ctx.logger.info(
    { portalId, defaultPortalId, created: report.created.length, existing: report.existing.length },
    'hubspot portal installed',
  );
  return {
    installed: true,
    portalId,
    defaultPortalId,
    propertyGroupCreated: report.groupCreated,
    propertiesCreated: report.created,
    propertiesExisting: report.existing,
  };
}

/**
 * The install cookie: HttpOnly, SameSite=Lax (sent on HubSpot's top-level redirect back),
 * Secure when the callback is https, on the path of the callback as the browser sees it.
 */
function installCookie(redirectUri: string): CookieOptions {
  const callback = new URL(redirectUri);
  return {
    httpOnly: true,
    secure: callback.protocol === 'https:',
    sameSite: 'lax',
    path: new URL('.', callback).pathname,
  };
}

/** The install route beside the callback, on the origin the browser comes back to (its cookie must reach the callback). */
function installLinkUrl(redirectUri: string, token: string): string {
  const url = new URL('install', redirectUri);
  url.searchParams.set('link', token);
  return url.toString();
}

/** One cookie of the request, undefined when absent. */
function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim(); // a base64url nonce: never encoded
  }
  return undefined;
}

/** The workspace's agents, parsed (an agent whose stored config no longer validates is skipped). */
function agentsOf(ctx: ServerContext): AgentConfig[] {
  const out: AgentConfig[] = [];
  for (const id of ctx.service.agentIds()) {
    const parsed = validateAgentConfig(ctx.service.getAgent(id).config);
    if (parsed.ok) out.push(parsed.config);
  }
  return out;
}

/** A vendor failure during install becomes a 502 that says which step failed. */
async function vendorCall<T>(call: () => Promise<T>, step: string): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof RequestError) throw err;
    throw new RequestError(502, 'hubspot_error', `HubSpot ${step} failed: ${(err as Error).message}`);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
