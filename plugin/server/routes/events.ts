import { Router } from 'express';
import {
  eventBatchSchema,
  parseBody,
  parseListInSlices,
  segmentEventSchema,
  type SegmentEvent,
} from '../../service/index.ts';
import { ANY } from '../auth.ts';
import type { RouteContext } from './context.ts';

/** POST /v1/events: one Segment-spec event, or `{batch: [...]}` as in Segment's HTTP API; 200 once stored. */
export function eventRoutes(ctx: RouteContext): Router {
  const router = Router();
  router.post(
    '/v1/events',
    ctx.eventsJson,
    ctx.authed(ANY, async (req, res, { service }) => {
      const isBatch = typeof req.body === 'object' && req.body !== null && 'batch' in req.body;
      const events: SegmentEvent[] = isBatch
        ? await parseListInSlices(segmentEventSchema, parseBody(eventBatchSchema, req.body).batch, ['batch'])
        : [parseBody(segmentEventSchema, req.body)];
      const result = await service.ingest(events);
      res.status(200).json({ success: true, ...result });
    }),
  );
  return router;
}
