/**
 * The destinations every adapter of this build declares, as data: what `delivery` entries may
 * name. Loading it costs nothing (no vendor client), so tools that only parse configs can
 * declare the destinations without connecting an adapter.
 */
import { brazeDestination } from './braze/destination.ts';
import { hubspotDestination } from './hubspot/destination.ts';
import { segmentDestination } from './segment/destination.ts';

export const DESTINATIONS = [brazeDestination, segmentDestination, hubspotDestination];
