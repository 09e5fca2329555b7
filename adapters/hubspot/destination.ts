/** The delivery entries `to: hubspot` the adapter serves, and how each mode writes. */
import type { Destination } from '../../plugin/config/index.ts';

export const hubspotDestination: Destination = {
  to: 'hubspot',
  modes: [{ name: 'contact_properties', writesProfile: true }],
};
