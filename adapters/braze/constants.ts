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
