/**
 * Braze's limits that shape the requests, each with its source
 * (https://www.braze.com/docs/api/api_limits/ and the endpoint pages it links).
 */

/** Objects per `/users/track` request: 75, or 50 on MAU plans (the safe default). https://www.braze.com/docs/api/api_limits/ */
export const TRACK_BATCH_DEFAULT = 50;
export const TRACK_BATCH_MAX = 75;
/** Recipients per triggered send or schedule (campaigns and Canvases). https://www.braze.com/docs/api/endpoints/messaging/send_messages/post_send_triggered_campaigns/ */
export const TRIGGER_RECIPIENTS_MAX = 50;
/** External ids per `/users/export/ids` request. https://www.braze.com/docs/api/endpoints/export/user_data/post_users_identifier/ */
export const EXPORT_IDS_MAX = 50;

/** Where a Braze Currents custom HTTP connector posts its batches. */
export const CURRENTS_PATH = '/v1/webhooks/braze-currents';
/**
 * Events per Currents batch accepted: Braze sends 100 by default, and the batch size is
 * configurable. https://www.braze.com/docs/user_guide/data/distribution/braze_currents/setting_up_currents/custom_http_connector/
 */
export const CURRENTS_BATCH_MAX = 2500;
/** Largest Currents body accepted (Braze drops events larger than 900 KB). */
export const CURRENTS_BODY_LIMIT = '8mb';
/**
 * Default wait for Currents to report a triggered send before the decision counts as not sent.
 * Currents batches each event type on its own queue and holds a batch up to about 15 minutes.
 */
export const CURRENTS_WAIT_MINUTES_DEFAULT = 60;

/** The send-proof target of a campaign or Canvas: what Currents events name as `campaign_id` / `canvas_id`. */
export function sendTarget(kind: 'campaign' | 'canvas', id: string): string {
  return `braze:${kind}:${id}`;
}
