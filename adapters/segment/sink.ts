import { Analytics } from '@segment/analytics-node';
import type {
  AgentConfig,
  Decision,
  DecisionSink,
  DeliveryReport,
  DeliveryResult,
  Delivery,
} from '../../plugin/agent/index.ts';
import type { SinkFactory } from '../../plugin/service/ports.ts';
import { familyOf } from '../kit/index.ts';
import { decisionTrackOf, identifyOf, type IdentifyMessage, type TrackMessage } from './mapping.ts';
import {
  parseSettings,
  trackingSettingsSchema,
  type TrackingSettings,
  type TrackingSettingsInput,
} from './settings.ts';

/**
 * DecisionSink through `@segment/analytics-node`: each decision becomes an `identify` with the
 * prefixed decision traits and a `Decision Made` track, both with messageIds derived from the
 * decision id, so a delivery retried after a timeout is deduplicated by Segment.
 *
 * analytics-node reports each event's fate through the per-call callback: called with no error
 * once its batch got a 2xx, or with `failedDelivery.reason` (`Error("[<status>] <statusText>")`
 * after its own retries, or a size/timeout error). That is what `deliver` reports per decision.
 */
export class SegmentDecisionSink implements DecisionSink {
  readonly metadata = { name: 'segment' };
  private readonly analytics: Analytics;
  private readonly agent: AgentConfig;
  private readonly delivery: Pick<Delivery, 'prefix'>;
  // analytics.flush() must not overlap (it warns and returns early), so deliveries run one at a time.
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(agent: AgentConfig, delivery: Pick<Delivery, 'prefix'>, settings: TrackingSettingsInput) {
    const s: TrackingSettings = parseSettings(trackingSettingsSchema, settings, 'Segment tracking settings');
    this.agent = agent;
    this.delivery = delivery;
    this.analytics = new Analytics({
      writeKey: s.writeKey,
      host: s.host,
      flushAt: s.flushAt,
      maxRetries: s.maxRetries,
      httpRequestTimeout: s.httpRequestTimeoutMs,
      maxRateLimitDuration: s.maxRateLimitSeconds,
      maxTotalBackoffDuration: s.maxRateLimitSeconds,
    });
    // Failures are reported per event through the callbacks; this keeps the emitter from being the only witness.
    this.analytics.on('error', () => undefined);
  }

  /** One result per decision, in input order; resolves once Segment answered for every event. */
  deliver(decisions: readonly Decision[]): Promise<DeliveryReport> {
    const run = this.queue.then(() => this.deliverNow(decisions));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async deliverNow(decisions: readonly Decision[]): Promise<DeliveryReport> {
    if (this.closed)
      return { results: decisions.map(() => ({ status: 'retry', message: 'the Segment sink is closed' }) as const) };
    const pending = decisions.map((d) => {
      if (!d.userId)
        return Promise.resolve<DeliveryResult>({
          status: 'rejected',
          code: 'missing_user_id',
          message: 'a decision without userId cannot be sent to Segment',
        });
      return Promise.all([
        this.send('identify', identifyOf(d, this.agent, this.delivery)),
        this.send('track', decisionTrackOf(d)),
      ]).then(combine);
    });
    const flushed = this.analytics.flush();
    const results = await Promise.all(pending);
    await flushed;
    return { results };
  }

  private send(kind: 'identify', message: IdentifyMessage): Promise<DeliveryResult>;
  private send(kind: 'track', message: TrackMessage): Promise<DeliveryResult>;
  private send(kind: 'identify' | 'track', message: IdentifyMessage | TrackMessage): Promise<DeliveryResult> {
    return new Promise((resolve) => {
      const callback = (err?: unknown) => resolve(resultOf(err));
      try {
        if (kind === 'identify') this.analytics.identify(message as IdentifyMessage, callback);
        else this.analytics.track(message as TrackMessage, callback);
      } catch (err) {
        // analytics-node validates events synchronously (e.g. an empty event name).
        resolve({ status: 'rejected', code: 'invalid_event', message: (err as Error).message });
      }
    });
  }

  /** Sends whatever is queued and stops; later deliveries report retry. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.analytics.closeAndFlush();
  }
}

/** An event's fate from analytics-node's callback error. */
export function resultOf(err: unknown): DeliveryResult {
  if (err === undefined || err === null) return { status: 'ok' };
  const message = err instanceof Error ? err.message : String(err);
  if (/exceeds maximum event size/i.test(message))
    return { status: 'rejected', httpStatus: 413, code: 'event_too_large', message };
  const status = /^\[(\d{3})\]/.exec(message)?.[1];
  const httpStatus = status === undefined ? undefined : Number(status);
  const family = httpStatus === undefined ? 'retry' : familyOf(httpStatus);
  if (family !== 'retry') {
    const code = family === 'auth' ? 'authentication_error' : 'rejected_by_segment';
    return { status: 'rejected', httpStatus, code, message: `Segment refused the batch: ${message}` };
  }
  return {
    status: 'retry',
    ...(httpStatus === undefined ? {} : { httpStatus }),
    message: `Segment did not accept the batch: ${message}`,
  };
}

/** A decision is ok when both its events are; rejected when either was refused; otherwise retry. */
function combine(parts: DeliveryResult[]): DeliveryResult {
  return parts.find((p) => p.status === 'rejected') ?? parts.find((p) => p.status === 'retry') ?? { status: 'ok' };
}

/** The SinkFactory for `delivery` entries `{to: segment, mode: identify}`; the caller closes each sink it gets. */
export function segmentSinks(settings: TrackingSettingsInput): SinkFactory {
  const parsed = parseSettings(trackingSettingsSchema, settings, 'Segment tracking settings');
  return (agent, delivery) =>
    delivery.to === 'segment' && delivery.mode === 'identify'
      ? new SegmentDecisionSink(agent, delivery, parsed)
      : undefined;
}
