import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The service's Prometheus metrics, on a registry of its own (so several apps can live in one process). */
export function createMetrics() {
  const registry = new Registry();
  /** Who measures the learner's lag at each scrape (each workspace's service). */
  const lagProbes: (() => Promise<number>)[] = [];
  collectDefaultMetrics({ register: registry, prefix: 'nextbest_' });
  return {
    registry,
    decideSeconds: new Histogram({
      name: 'nextbest_decide_seconds',
      help: 'Time to make and log one decision (profile read, guardrails, policy, store write).',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    decisions: new Counter({
      name: 'nextbest_decisions_total',
      help: 'Decisions made, by agent and reason.',
      labelNames: ['agent', 'reason'],
      registers: [registry],
    }),
    events: new Counter({
      name: 'nextbest_events_total',
      help: 'Events received, by status (accepted, duplicate, rejected).',
      labelNames: ['status'],
      registers: [registry],
    }),
    learningRestarts: new Counter({
      name: 'nextbest_learning_restarts_total',
      help: "Restarts of an agent's learning by its change detector (policy.detect): outcomes fell far below the estimates.",
      labelNames: ['agent'],
      registers: [registry],
    }),
    learnerLag: new Gauge({
      name: 'nextbest_learner_lag_seconds',
      help: 'Age of the oldest closed decision window not yet folded into its model, measured at each scrape.',
      registers: [registry],
      async collect() {
        if (lagProbes.length > 0) this.set(Math.max(...(await Promise.all(lagProbes.map((probe) => probe())))));
      },
    }),
    /** Makes `probe` part of the learner-lag gauge's measure at each scrape. */
    measureLagWith(probe: () => Promise<number>): void {
      lagProbes.push(probe);
    },
    learner: new Gauge({
      name: 'nextbest_learner',
      help: 'Whether this instance holds the learner role (1) or not (0): exactly one instance on one database does.',
      registers: [registry],
    }),
    httpRequests: new Counter({
      name: 'nextbest_http_requests_total',
      help: 'HTTP requests by route and status.',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
