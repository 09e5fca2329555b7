import express, { type Request, type Response, type Router } from 'express';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import {
  parseBody,
  parseJsonBytes,
  RequestError,
  type ServerContext,
  type ServerExtension,
} from '../../plugin/service/index.ts';
import { InstallGate } from './install.ts';
import { addInstallRoutes, handled, type OAuthInstall } from './install-routes.ts';
import { toPropertyValue } from './mapping.ts';
import { contactUserId, type HubSpotPortals } from './portals.ts';
import { ReplayGuard, settlesWorkflowRequest } from './replays.ts';
import { checkHubSpotSignature, signV2, type SignatureFailure, type VerifiedSignature } from './signatures.ts';

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
/** A GDPR delete in HubSpot: nextbest erases what it holds of the contact too. */
const PRIVACY_DELETION = 'contact.privacyDeletion';

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
  /** The portals this process acts for: workflow actions from any other are refused. */
  portals: HubSpotPortals;
  /** Present for OAuth (marketplace) installs; without it the install routes answer 404. */
  oauth?: OAuthInstall;
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

/** A request HubSpot signed, as the routes read it. */
interface SignedBody {
  rawBody: string;
  verified: VerifiedSignature;
  /** The full URL the signature covers. */
  uri: string;
}

/**
 * The HubSpot routes: OAuth install (`POST /v1/hubspot/install-links`, `/oauth/hubspot/install`,
 * `/oauth/hubspot/callback`; install-routes.ts), the webhook receiver (`POST /v1/webhooks/hubspot`)
 * and the custom workflow action (`POST /v1/hubspot/workflow-actions/decide`).
 */
export function hubspotExtension(options: HubSpotExtensionOptions): ServerExtension {
  return {
    name: 'hubspot',
    routes: (ctx) => hubspotRouter(ctx, options),
  };
}

function hubspotRouter(ctx: ServerContext, options: HubSpotExtensionOptions): Router {
  const router = express.Router();
  const gate = new InstallGate({ clientSecret: options.clientSecret, clock: ctx.clock });
  addInstallRoutes(router, ctx, gate, options.oauth, options.portals);
  const signed = new SignedRequests(ctx, options);
  addWebhookRoute(router, ctx, signed, options.portals);
  addWorkflowActionRoute(router, ctx, signed, options.portals);
  return router;
}

/** HubSpot's signed requests: verified, and refused when replayed. */
class SignedRequests {
  readonly replays: ReplayGuard;

  constructor(
    private readonly ctx: ServerContext,
    private readonly options: HubSpotExtensionOptions,
  ) {
    this.replays = new ReplayGuard({ clock: ctx.clock });
  }

  /** The request as signed, once its signature is valid and (v3) was not used before; else a 401. */
  read(req: Request, versions: readonly ('v3' | 'v2')[]): SignedBody {
    const rawBody = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const base = this.options.publicBaseUrl?.replace(/\/$/, '') ?? `${req.protocol}://${req.get('host')}`;
    const uri = `${base}${req.originalUrl}`;
    const checked = checkHubSpotSignature(
      { method: req.method, uri, rawBody, headers: { get: (n) => req.get(n) } },
      { secret: this.options.clientSecret, now: this.ctx.clock(), versions },
    );
    if (!checked.ok) throw new RequestError(401, checked.failure, FAILURE_MESSAGES[checked.failure]);
    const { verified } = checked;
    if (verified.version === 'v3' && !this.replays.firstUseOfV3(verified.signature, verified.timestamp))
      throw replayed('this X-HubSpot-Signature-v3 was already used');
    return { rawBody, verified, uri };
  }

  /**
   * The v2 signature of a workflow-action request, whichever version signed it: what HubSpot's
   * retries repeat byte for byte, and what a replay stripped of its v3 headers would carry.
   */
  workflowActionKey(req: Request, body: SignedBody): string {
    return body.verified.version === 'v2'
      ? body.verified.signature
      : signV2(this.options.clientSecret, req.method, body.uri, body.rawBody);
  }
}

function replayed(why: string): RequestError {
  return new RequestError(401, 'replayed_request', `${why}: a replayed request is refused and changes nothing`);
}

/** The body's JSON, with the API's limits: nesting depth checked before parsing (400 body_too_deep). */
function jsonOf(text: string): unknown {
  return parseJsonBytes(Buffer.from(text, 'utf8'));
}

/**
 * Contact events forget the cached profile, so the next decision reads fresh traits; a privacy
 * deletion erases the contact. Contacts are named by the event's portal (`<portalId>:<objectId>`),
 * and by their bare id too when that portal is the default one (docs/hubspot.md, "Several portals").
 */
function addWebhookRoute(router: Router, ctx: ServerContext, signed: SignedRequests, portals: HubSpotPortals): void {
  const raw = express.raw({ type: () => true, limit: VENDOR_BODY_LIMIT });
  const seenEvents = new LRUCache<string, true>({ max: 50_000 });
  router.post(
    '/v1/webhooks/hubspot',
    raw,
    handled(async (req, res) => {
      const { rawBody } = signed.read(req, ['v3']);
      const events = parseBody(webhookBatchSchema, jsonOf(rawBody));
      const defaultPortal = await portals.defaultPortal().catch(() => undefined);
      let forgotten = 0;
      let erased = 0;
      for (const e of events) {
        const key = `${e.portalId}:${e.eventId}`;
        if (seenEvents.has(key) || !INVALIDATING.test(e.subscriptionType)) continue;
        seenEvents.set(key, true);
        for (const userId of userIdsOf(e, defaultPortal)) {
          if (e.subscriptionType === PRIVACY_DELETION) {
            await ctx.service.eraseUser(userId);
            erased++;
          } else ctx.service.forgetProfile(userId);
          forgotten++;
        }
      }
      res.status(200).json({ received: events.length, profilesInvalidated: forgotten, usersErased: erased });
    }),
  );
}

/** The user ids an event's contacts (merged ones included) go by. */
function userIdsOf(e: WebhookEvent, defaultPortal: string | undefined): string[] {
  const portalId = String(e.portalId);
  const ids = [e.objectId, ...(e.mergedObjectIds ?? [])];
  // '' is a private app's one account, its id unknown (no HUBSPOT_PORTAL_ID): every event is its
  const bareToo = portalId === defaultPortal || defaultPortal === '';
  return ids.flatMap((id) => (bareToo ? [contactUserId(portalId, id), String(id)] : [contactUserId(portalId, id)]));
}

/**
 * The workflow action decides for the enrolled contact of the calling portal, as user
 * `<portalId>:<objectId>` (the callbackId is the requestId, so HubSpot's retries get the same
 * decision). A portal that has not installed the app is refused (403). A v2-signed request is
 * refused once HubSpot got a final answer to it, or when first seen longer ago than HubSpot
 * retries (replays.ts).
 */
function addWorkflowActionRoute(
  router: Router,
  ctx: ServerContext,
  signed: SignedRequests,
  portals: HubSpotPortals,
): void {
  const raw = express.raw({ type: () => true, limit: VENDOR_BODY_LIMIT });
  router.post(
    '/v1/hubspot/workflow-actions/decide',
    raw,
    handled(async (req, res) => {
      const body = signed.read(req, ['v3', 'v2']);
      const key = signed.workflowActionKey(req, body);
      if (body.verified.version === 'v2') {
        const why = signed.replays.workflowActionReplay(key);
        if (why) throw replayed(why);
      }
      res.on('finish', () => {
        if (settlesWorkflowRequest(res.statusCode)) signed.replays.workflowActionSettled(key);
      });
      const action = parseBody(workflowActionRequestSchema, jsonOf(body.rawBody));
      const portalId = String(action.origin.portalId);
      if (!(await portals.isInstalled(portalId)))
        throw new RequestError(
          403,
          'portal_not_installed',
          `origin.portalId: HubSpot portal ${portalId} has not installed this app; nothing is decided for it`,
        );
      await answerWorkflowAction(ctx, action, res);
    }),
  );
}

async function answerWorkflowAction(ctx: ServerContext, action: WorkflowActionRequest, res: Response): Promise<void> {
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
    userId: contactUserId(action.origin.portalId, action.object.objectId),
    requestId: action.callbackId,
  });
  const outputFields: Record<string, string> = {};
  for (const [name, value] of Object.entries(decision.attributes)) outputFields[name] = toPropertyValue(value);
  outputFields.hs_execution_state = 'SUCCESS';
  res.status(200).json({ outputFields });
}
