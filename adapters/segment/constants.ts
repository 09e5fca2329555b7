/**
 * Segment's documented limits and addresses, each with its source. Settings whose defaults come
 * from here may lower a limit, never raise it.
 */

/** Profile API base URL (US). https://www.twilio.com/docs/segment/unify/profile-api */
export const PROFILE_API_BASE_URL = 'https://profiles.segment.com';
/** Profile API base URL for EU workspaces. https://www.twilio.com/docs/segment/unify/profile-api */
export const PROFILE_API_EU_BASE_URL = 'https://profiles.euw1.segment.com';
/** Profile API rate limit: 100 requests per second per space. https://www.twilio.com/docs/segment/unify/profile-api */
export const PROFILE_API_RATE_PER_SECOND = 100;
/** Largest `limit` the traits endpoint accepts (10 when absent). https://www.twilio.com/docs/segment/unify/profile-api */
export const PROFILE_API_TRAITS_LIMIT_MAX = 200;
/** The id types the Profile API resolves (`user_id:u123`); a bare id is a 404. https://www.twilio.com/docs/segment/unify/profile-api */
export const PROFILE_ID_TYPES = ['user_id', 'email', 'anonymous_id'] as const;
/** More pages than this for one profile means the cursor is not advancing: stop rather than loop. */
export const PROFILE_API_MAX_PAGES = 100;

/** Tracking API host. https://www.twilio.com/docs/segment/connections/sources/catalog/libraries/server/http-api */
export const TRACKING_API_HOST = 'https://api.segment.io';
/** Tracking API limits: 32 KB per event, 500 KB per batch, else 400. https://www.twilio.com/docs/segment/connections/sources/catalog/libraries/server/http-api */
export const TRACKING_API_MAX_EVENT_BYTES = 32 * 1024;
export const TRACKING_API_MAX_BATCH_BYTES = 500 * 1024;
/** analytics-node's own default batch size (events per request). https://segment.com/docs/connections/sources/catalog/libraries/server/node */
export const TRACKING_FLUSH_AT_DEFAULT = 15;

/** Where Segment's webhook destination posts. */
export const WEBHOOK_PATH = '/v1/webhooks/segment';
/** Hex HMAC-SHA1 of the body with the shared secret. https://segment.com/docs/connections/destinations/catalog/webhooks/ */
export const SIGNATURE_HEADER = 'x-signature';

/** The track event each delivered decision becomes. */
export const DECISION_EVENT = 'Decision Made';
