/** The delivery entries `to: segment` the adapter serves, and how each mode writes. */
import type { Destination } from '../../plugin/config/index.ts';

export const segmentDestination: Destination = {
  to: 'segment',
  modes: [{ name: 'identify', writesProfile: true }],
};
