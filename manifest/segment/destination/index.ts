/**
 * nextbest as a Segment Actions destination: a `DestinationDefinition` written against
 * `@segment/actions-core`, the library Segment's own destinations (segmentio/action-destinations)
 * are built with. It is what a partner submits to Segment's catalog; until it is listed there,
 * the Webhooks (Actions) destination does the outcome half (docs/segment.md).
 *
 * - settings and authentication: the nextbest URL and a workspace API key of scope `decide`,
 *   checked by `testAuthentication` against nextbest itself;
 * - `decide`: a decision when the subscribed event arrives (perform, or decide:batch);
 * - `sendOutcome`: outcome events and identify calls into `POST /v1/events` (perform, or batches);
 * - presets: outcomes and profile updates, without the decisions nextbest itself sends.
 *
 * Tested with the library's own harness (`createTestIntegration`) against a running nextbest:
 * test/adapters/segment/destination-definition.test.ts.
 */
import type { DestinationDefinition } from '@segment/actions-core';
import { DECISION_EVENT } from '../../../adapters/segment/constants.ts';
import { actionsCore } from './core.ts';
import { decideAction } from './decide.ts';
import { sendOutcomeAction } from './send-outcome.ts';
import { nextbestUrl, settingsFields, type Settings } from './settings.ts';

export type { Settings } from './settings.ts';
export type { DecidePayload } from './decide.ts';
export type { OutcomePayload } from './send-outcome.ts';

export const nextbestDestination: DestinationDefinition<Settings> = {
  name: 'nextbest',
  slug: 'actions-nextbest',
  mode: 'cloud',
  description:
    'Contextual-bandit decisioning: nextbest chooses, per customer, among the variants you approved (subject line, content block, channel, send time) and learns from the outcomes Segment sends it.',
  authentication: {
    scheme: 'custom',
    fields: settingsFields,
    // `POST /v1/events {"batch": []}`: nextbest checks the key (401/403) before the body, whose
    // empty batch it then refuses (400 invalid_request) without storing anything.
    testAuthentication: async (request, { settings }) => {
      const response = await request(nextbestUrl(settings, '/v1/events'), {
        method: 'POST',
        json: { batch: [] },
        throwHttpErrors: false,
      });
      if (response.status === 401 || response.status === 403)
        throw new actionsCore.InvalidAuthenticationError(
          'nextbest refused the API key: use a key of scope "decide" of this workspace',
        );
      if (response.status !== 400)
        throw new actionsCore.IntegrationError(
          `nextbest at ${settings.endpoint} answered ${response.status}: check the URL`,
          'NEXTBEST_UNREACHABLE',
          response.status,
        );
      return true;
    },
  },
  extendRequest: ({ settings }) => ({
    headers: { authorization: `Bearer ${settings.apiKey}`, 'content-type': 'application/json' },
  }),
  presets: [
    {
      name: 'Outcomes to nextbest',
      type: 'automatic',
      partnerAction: 'sendOutcome',
      subscribe: `type = "track" and event != "${DECISION_EVENT}"`,
      mapping: actionsCore.defaultValues(sendOutcomeAction.fields),
    },
    {
      name: 'Profile updates to nextbest',
      type: 'automatic',
      partnerAction: 'sendOutcome',
      subscribe: 'type = "identify"',
      mapping: actionsCore.defaultValues(sendOutcomeAction.fields),
    },
  ],
  actions: {
    decide: decideAction,
    sendOutcome: sendOutcomeAction,
  },
};

export default nextbestDestination;
