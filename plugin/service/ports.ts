import type { Router } from 'express';
import type { Logger } from 'pino';
import type { AgentConfig, DecisionSink, Delivery } from '../agent/index.ts';
import type { Store } from '../store/index.ts';
import type { DecisionService } from './decision-service.ts';
import type { Metrics } from './metrics.ts';

/** What an extension's routes may use: the workspace's service and the process's store, logger, metrics and clock. */
export interface ServerContext {
  service: DecisionService;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  clock: () => number;
}

/**
 * Routes an adapter adds to the server: vendor webhooks, OAuth install, workflow actions. They
 * are mounted before the 404 handler, parse their own bodies (raw, when a signature covers the
 * bytes) and authenticate their own way (vendor signatures rather than API keys).
 */
export interface ServerExtension {
  readonly name: string;
  routes(ctx: ServerContext): Router;
  close?(): Promise<void>;
}

/**
 * Builds the sink for one `delivery` entry of an agent, or undefined when this process is not
 * connected to that destination (the run then reports the entry as not configured).
 */
export type SinkFactory = (agent: AgentConfig, delivery: Delivery) => DecisionSink | undefined;
