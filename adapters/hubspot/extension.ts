import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { validateAgentConfig, type AgentConfig } from '../../plugin/agent/index.ts';
import { RequestError, parseBody, type ServerContext, type ServerExtension } from '../../plugin/service/index.ts';
import { HubSpotCrm } from './client.ts';
import { INSTALL_STATE_TTL_MS } from './constants.ts';
import { ensureDecisionProperties, type EnsureReport } from './properties.ts';
import type { HubSpotOAuth, TokenVault } from './oauth.ts';
import { InstallState } from './sealing.ts';
import { verifyHubSpotSignature, type SignatureFailure } from './signatures.ts';
import { toPropertyValue } from './mapping.ts';

/** Largest vendor body accepted on the webhook and workflow-action routes. */
const VENDOR_BODY_LIMIT = '1mb';

/**
 * One webhook event (HubSpot sends a JSON array of these).
 * https://developers.hubspot.com/docs/api/webhooks (event payload)
 */
export const webhookEventSchema = z
  .object({
    eventId: z.number().int(),
    subscriptionId: z.number().int().optional(),
    portalId: z.number().int(),
    appId: z.number().int().optional(),
    occurredAt: z.number().int(),
    subscriptionType: z.string().min(1),
    attemptNumber: z.number().int().optional(),
    objectId: z.number().int(),
    propertyName: z.string().optional(),
    propertyValue: z.string().optional(),
    changeSource: z.string().optional(),
    mergedObjectIds: z.array(z.number().int()).optional(),
  })
  .loose();
export const webhookBatchSchema = z.array(webhookEventSchema).min(1, { error: 'must contain at least one event' });
export type WebhookEvent = z.infer<typeof webhookEventSchema>;

/** Subscription types after which a cached contact profile is stale. */
const INVALIDATING = /^contact\.(propertyChange|deletion|merge|restore|privacyDeletion|associationChange)$/;

/**
 * What HubSpot POSTs to a custom workflow action's actionUrl.
 * https://developers.hubspot.com/docs/api-reference/automation-actions-v4-v4/custom-action-guide
 */
export const workflowActionRequestSchema = z
  .object({
    callbackId: z.string().min(1),
    origin: z
      .object({
        portalId: z.number().int(),
        actionDefinitionId: z.number().int().optional(),
        actionDefinitionVersion: z.number().int().optional(),
      })
      .loose(),
    context: z.object({ source: z.string().optional(), workflowId: z.number().int().optional() }).loose().optional(),
    object: z
      .object({
        objectId: z.number().int().nonnegative(),
        objectType: z.string().optional(),
        properties: z.record(z.string(), z.string().nullable()).optional(),
      })
      .loose(),
    inputFields: z.object({ agentId: z.string().min(1) }).loose(),
  })
  .loose();
export type WorkflowActionRequest = z.infer<typeof workflowActionRequestSchema>;

export interface HubSpotExtensionOptions {
  clientSecret: string;
  /** Present for OAuth (marketplace) installs; without it the install routes answer 404. */
  oauth?: { client: HubSpotOAuth; vault: TokenVault; basePath: string };
  /**
   * Public origin HubSpot calls (e.g. `https://nextbest.example.com`): the signed URI is built
   * from it. Default: the request's own protocol and Host header.
   */
  publicBaseUrl?: string;
}

const FAILURE_MESSAGES: Record<SignatureFailure, string> = {
  missing_signature: 'the request carries no HubSpot signature (X-HubSpot-Signature-v3)',
  bad_timestamp: 'X-HubSpot-Request-Timestamp is missing or not epoch milliseconds',
  stale_timestamp:
    'X-HubSpot-Request-Timestamp is more than 5 minutes away from now; replayed or delayed request refused',
  bad_signature: 'the HubSpot signature does not match this request',
};

/**
 * The HubSpot routes: OAuth install (`/oauth/hubspot/install`, `/oauth/hubspot/callback`), the
 * webhook receiver (`POST /v1/webhooks/hubspot`) and the custom workflow action
 * (`POST /v1/hubspot/workflow-actions/decide`).
 */
export function hubspotExtension(options: HubSpotExtensionOptions): ServerExtension {
  return {
    name: 'hubspot',
    routes: (ctx) => hubspotRouter(ctx, options),
  };
}

function hubspotRouter(ctx: ServerContext, options: HubSpotExtensionOptions): Router {
  const router = express.Router();
  const raw = express.raw({ type: () => true, limit: VENDOR_BODY_LIMIT });
  const states = new InstallState(options.clientSecret, INSTALL_STATE_TTL_MS);
  const seenEvents = new LRUCache<number, true>({ max: 50_000 });

  const verified = (req: Request, versions: readonly ('v3' | 'v2')[]): string => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const base = options.publicBaseUrl?.replace(/\/$/, '') ?? `${req.protocol}://${req.get('host')}`;
    const failure = verifyHubSpotSignature(
      { method: req.method, uri: `${base}${req.originalUrl}`, rawBody, headers: { get: (n) => req.get(n) } },
      { secret: options.clientSecret, now: ctx.clock(), versions },
    );
    if (failure) throw new RequestError(401, failure, FAILURE_MESSAGES[failure]);
    return rawBody;
  };

  const jsonOf = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new RequestError(400, 'malformed_json', `the body is not valid JSON: ${(err as Error).message}`);
    }
  };

  const handle =
    (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
      fn(req, res).catch(next);
    };

  router.get(
    '/oauth/hubspot/install',
    handle(async (_req, res) => {
      if (!options.oauth)
        throw new RequestError(
          404,
          'not_found',
          'OAuth install is not configured (set HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, HUBSPOT_REDIRECT_URI, HUBSPOT_TOKEN_KEY)',
        );
      res.redirect(302, options.oauth.client.authorizeUrl(states.issue(ctx.clock())));
    }),
  );

  router.get(
    '/oauth/hubspot/callback',
    handle(async (req, res) => {
      const oauth = options.oauth;
      if (!oauth) throw new RequestError(404, 'not_found', 'OAuth install is not configured');
      const query = parseBody(callbackQuerySchema, req.query, 'query');
      if (query.error)
        throw new RequestError(
          400,
          'install_refused',
          `HubSpot did not grant access: ${query.error}${query.error_description ? ` (${query.error_description})` : ''}`,
        );
      const why = states.check(query.state, ctx.clock());
      if (why) throw new RequestError(401, 'invalid_state', `the install callback was refused: ${why}`);
      if (!query.code) throw new RequestError(400, 'invalid_request', 'code: required');
      const reply = await vendorCall(() => oauth.client.exchangeCode(query.code!), 'token exchange');
      const info = await vendorCall(() => oauth.client.tokenInfo(reply.access_token), 'token info');
      const portalId = String(info.hub_id);
      await oauth.vault.save(portalId, reply, info.scopes);
      const crm = new HubSpotCrm({ basePath: oauth.basePath, accessToken: () => oauth.vault.accessToken(portalId) });
      const report: EnsureReport = await vendorCall(
        () => ensureDecisionProperties(crm, agentsOf(ctx)),
        'property creation',
      );
      ctx.logger.info(
        { portalId, created: report.created.length, existing: report.existing.length },
        'hubspot portal installed',
      );
      res.status(200).json({
        installed: true,
        portalId,
        propertyGroupCreated: report.groupCreated,
        propertiesCreated: report.created,
        propertiesExisting: report.existing,
      });
    }),
  );

  router.post(
    '/v1/webhooks/hubspot',
    raw,
    handle(async (req, res) => {
      const body = verified(req, ['v3']);
      const events = parseBody(webhookBatchSchema, jsonOf(body));
      let forgotten = 0;
      for (const e of events) {
        if (seenEvents.has(e.eventId)) continue;
        seenEvents.set(e.eventId, true);
        if (!INVALIDATING.test(e.subscriptionType)) continue;
        for (const id of [e.objectId, ...(e.mergedObjectIds ?? [])]) {
          ctx.service.forgetProfile(String(id));
          forgotten++;
        }
      }
      res.status(200).json({ received: events.length, profilesInvalidated: forgotten });
    }),
  );

  router.post(
    '/v1/hubspot/workflow-actions/decide',
    raw,
    handle(async (req, res) => {
      const body = verified(req, ['v3', 'v2']);
      const action = parseBody(workflowActionRequestSchema, jsonOf(body));
      const agentId = action.inputFields.agentId;
      if (!ctx.service.agentIds().includes(agentId)) {
        throw new RequestError(
          400,
          'invalid_request',
          `inputFields.agentId: no agent "${agentId}" in this workspace (agents: ${ctx.service.agentIds().join(', ')})`,
          [{ path: 'inputFields.agentId', message: `unknown agent "${agentId}"` }],
        );
      }
      const decision = await ctx.service.decide(agentId, {
        userId: String(action.object.objectId),
        requestId: action.callbackId,
      });
      const outputFields: Record<string, string> = {};
      for (const [name, value] of Object.entries(decision.attributes)) outputFields[name] = toPropertyValue(value);
      outputFields.hs_execution_state = 'SUCCESS';
      res.status(200).json({ outputFields });
    }),
  );

  return router;
}

const callbackQuerySchema = z.object({
  code: z.string().min(1).optional(),
  state: z.string({ error: 'required' }).min(1),
  error: z.string().optional(),
  error_description: z.string().optional(),
});

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
