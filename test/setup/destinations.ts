/**
 * Declares the adapters' destinations in every test file, as the CLI does at start-up, so agent
 * configs with `delivery` entries parse without connecting an adapter.
 */
import { DESTINATIONS } from '../../adapters/destinations.ts';
import { declareDestinations } from '../../plugin/config/index.ts';

declareDestinations(DESTINATIONS);
