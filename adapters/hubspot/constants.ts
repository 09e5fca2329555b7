/**
 * HubSpot limits and names, each with its source. Numbers drift: check the linked page before
 * relying on one, and change the constant (and the fake in test/fakes/hubspot.ts) with it.
 */

/** Production API origin. */
export const HUBSPOT_API_BASE = 'https://api.hubapi.com';
/** Where the installer is sent to grant scopes. https://developers.hubspot.com/docs/api/working-with-oauth */
export const HUBSPOT_AUTHORIZE_URL = 'https://app.hubspot.com/oauth/authorize';

/**
 * Scopes the app requires: read and write contacts, create the decision properties, and
 * `automation` for the custom workflow action. They must equal the `requiredScopes` of
 * manifest/hubspot/src/app/app-hsmeta.json exactly: HubSpot refuses an install whose `scope`
 * parameter lacks one of the app's required scopes ("the provided scopes are insufficient").
 * https://developers.hubspot.com/docs/api/working-with-oauth
 */
export const HUBSPOT_REQUIRED_SCOPES = [
  'oauth',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.schemas.contacts.write',
  'automation',
] as const;
/** Asked for but not required: list memberships as audiences (the manifest's `optionalScopes`, exactly). */
export const HUBSPOT_OPTIONAL_SCOPES = ['crm.lists.read'] as const;

/** Batch read / update: at most 100 inputs per call. https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/guide (batch endpoints) */
export const HUBSPOT_BATCH_MAX_INPUTS = 100;
/** CRM search: at most 200 records per page. https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm */
export const HUBSPOT_SEARCH_PAGE_MAX = 200;
/** CRM search: at most 10,000 results per query (paging past them is a 400). Same source. */
export const HUBSPOT_SEARCH_RESULT_CAP = 10_000;
/** CRM search: 5 requests per second per account. Same source. */
export const HUBSPOT_SEARCH_REQUESTS_PER_SECOND = 5;
/** List memberships page size (the API's default and the size we ask for). https://developers.hubspot.com/docs/api-reference/crm-lists-v3/guide */
export const HUBSPOT_LIST_PAGE_SIZE = 100;
/** The burst window of the per-app limit (110 requests / 10 s for marketplace apps). https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines */
export const HUBSPOT_BURST_WINDOW_MS = 10_000;
/** Marketplace (OAuth) apps: 110 requests per 10 s per installing account, search excluded. Same source. */
export const HUBSPOT_MARKETPLACE_BURST_REQUESTS = 110;
/** Private apps: 100 requests per 10 s per app on Free and Starter accounts (190 above): the lowest tier's. Same source. */
export const HUBSPOT_PRIVATE_APP_BURST_REQUESTS = 100;

/** v3 signatures older than this are refused. https://developers.hubspot.com/docs/apps/developer-platform/build-apps/authentication/request-validation */
export const HUBSPOT_SIGNATURE_MAX_AGE_MS = 5 * 60_000;

/** Refresh an access token this long before it expires (HubSpot: refresh by TTL, not on 401). */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;
/** How long the signed OAuth `state` of an install stays valid. */
export const INSTALL_STATE_TTL_MS = 10 * 60_000;
/** How long a one-time install link an admin minted can be opened. */
export const INSTALL_LINK_TTL_MS = 15 * 60_000;

/**
 * How long HubSpot keeps sending a workflow request it got no 2xx for (a timeout, a 429, a 5xx):
 * its workflow documentation retries over the next 3 days, then fails the step for good. A v2
 * signature (no timestamp) older than this is never HubSpot's.
 */
export const HUBSPOT_WORKFLOW_RETRY_HORIZON_MS = 3 * 86_400_000;

/** The contact property group the decision properties live in. */
export const PROPERTY_GROUP_NAME = 'nextbest';
export const PROPERTY_GROUP_LABEL = 'nextbest decisions';

/** Contact property holding the IANA time zone. */
export const TIMEZONE_PROPERTY = 'hs_timezone';

/** 429 `policyName`s. https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines */
export const POLICY_TEN_SECONDLY = 'TEN_SECONDLY_ROLLING';
export const POLICY_DAILY = 'DAILY';
