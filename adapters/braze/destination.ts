/** The delivery entries `to: braze` the adapter serves, and how each mode writes. */
import type { Destination } from '../../plugin/config/index.ts';

export const brazeDestination: Destination = {
  to: 'braze',
  modes: [
    { name: 'attributes', writesProfile: true },
    {
      name: 'campaign_trigger',
      writesProfile: false,
      requires: { key: 'campaign_id', description: 'API-triggered campaign id.' },
    },
    {
      name: 'canvas_trigger',
      writesProfile: false,
      requires: { key: 'canvas_id', description: 'API-triggered canvas id.' },
    },
  ],
};
