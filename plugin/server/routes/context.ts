import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { BackgroundRuns } from '../../run/index.ts';
import type { DecisionService, Metrics } from '../../service/index.ts';
import type { Store } from '../../store/index.ts';
import type { Guard } from '../auth.ts';
import type { Rate } from '../rate-limit.ts';

/** What every router gets from createApp. */
export interface RouteContext {
  store: Store;
  services: Map<string, DecisionService>;
  logger: Logger;
  metrics: Metrics;
  /** The bearer-key check, with the scopes a route accepts. */
  authed: Guard;
  /** JSON bodies of the API (up to the app's body limit). */
  json: RequestHandler;
  /** JSON bodies of /v1/events (Segment's 500 KB). */
  eventsJson: RequestHandler;
  corsOrigins: string[];
  /** Rate limits of public-key decisions (default PUBLIC_DECIDE_RATES). */
  publicRates?: { perKey: Rate; perUser: Rate };
  runs?: BackgroundRuns;
}
