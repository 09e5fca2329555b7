/**
 * Generates `manifest/segment/destination.json`: what a Segment admin (or a catalog listing)
 * needs to connect nextbest: the settings, generated from the adapter's zod schemas (input side),
 * the environment variable of each, and the Webhooks (Actions) mapping presets.
 *
 *   node --import tsx manifest/segment/generate.ts
 *
 * test/adapters/segment/manifest.test.ts fails when the committed file differs from this output.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  DECISION_EVENT,
  profileSettingsSchema,
  trackingSettingsSchema,
  WEBHOOK_PATH,
  webhookSettingsSchema,
} from '../../adapters/segment/index.ts';
import { deliverySchema } from '../../plugin/config/index.ts';

export const DESTINATION_PATH = fileURLToPath(new URL('./destination.json', import.meta.url));

/** The settings an admin fills in, one schema (what each is and where to find it is in its description). */
const destinationSettingsSchema = z.object({
  sharedSecret: webhookSettingsSchema.shape.sharedSecret,
  batchToken: webhookSettingsSchema.shape.batchToken,
  profileToken: profileSettingsSchema.shape.token,
  spaceId: profileSettingsSchema.shape.spaceId,
  profileBaseUrl: profileSettingsSchema.shape.baseUrl,
  writeKey: trackingSettingsSchema.shape.writeKey,
  host: trackingSettingsSchema.shape.host,
  prefix: deliverySchema.shape.prefix.describe(
    'Prefix of the decision traits written by identify (e.g. nb_subject_line); set per agent in its delivery entry {to: segment, mode: identify, prefix}.',
  ),
});

export function segmentDestinationManifest(): Record<string, unknown> {
  return {
    name: 'nextbest',
    slug: 'nextbest',
    description:
      'AI decisioning for your marketing stack: nextbest reads profiles from the Profile API, learns from the events your Webhooks destination forwards, and sends each decision back into Segment as identify traits and a "Decision Made" track.',
    documentation: 'docs/segment.md',
    endpoints: {
      webhook: {
        method: 'POST',
        path: WEBHOOK_PATH,
        authentication:
          'X-Signature = hex HMAC-SHA1(sharedSecret, body), for a batched Actions request over JSON.stringify of its first event; or Authorization: Bearer <batchToken>',
      },
    },
    settings: z.toJSONSchema(destinationSettingsSchema, { io: 'input', target: 'draft-2020-12' }),
    environment: {
      sharedSecret: 'SEGMENT_SHARED_SECRET',
      batchToken: 'SEGMENT_WEBHOOK_TOKEN',
      profileToken: 'SEGMENT_PROFILE_TOKEN',
      spaceId: 'SEGMENT_SPACE_ID',
      profileBaseUrl: 'SEGMENT_PROFILE_BASE_URL',
      writeKey: 'SEGMENT_WRITE_KEY',
      host: 'SEGMENT_HOST',
    },
    presets: [
      {
        name: 'Outcomes to nextbest',
        description:
          'Every track event with a userId (purchases, email engagement), except the decisions nextbest itself sent.',
        destination: 'Webhooks (Actions)',
        action: 'send',
        subscribe: `type = "track" and userId exists and event != "${DECISION_EVENT}"`,
        mapping: {
          url: `https://<your nextbest host>${WEBHOOK_PATH}`,
          method: 'POST',
          data: { '@path': '$.' },
          batch_size: 0,
        },
      },
      {
        name: 'Profile and audience updates to nextbest',
        description:
          'identify calls: refresh cached traits; an audience key set to true/false adds or removes the user.',
        destination: 'Webhooks (Actions)',
        action: 'send',
        subscribe: 'type = "identify" and userId exists',
        mapping: {
          url: `https://<your nextbest host>${WEBHOOK_PATH}`,
          method: 'POST',
          data: { '@path': '$.' },
          batch_size: 0,
        },
      },
    ],
    decisions: {
      source: 'A Segment source (Node.js or HTTP API) whose write key nextbest uses.',
      identify: {
        traits: '<prefix>decision_id, <prefix><dimension>, <prefix><dimension>_text, <prefix>send_at, <prefix>deliver',
        messageId: 'nb-identify-<decision id>',
      },
      track: {
        event: DECISION_EVENT,
        properties:
          'decision_id, agent_id, agent_version, holdout, deliver, reason, probability, send_at, <dimension>, <dimension>_probability',
        messageId: 'nb-decision-<decision id>',
      },
    },
  };
}

export function segmentDestinationManifestText(): string {
  return `${JSON.stringify(segmentDestinationManifest(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(DESTINATION_PATH, segmentDestinationManifestText());
  console.log(`wrote ${DESTINATION_PATH}`);
}
