import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { BackgroundRuns, FileAudience } from '../run/index.ts';
import { readConfigFile, type ProfileSource } from '../agent/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { createApp } from './app.ts';
import type { ServerExtension, SinkFactory } from './extensions.ts';
import { generateApiKey, generateSecret, hashApiKey } from './keys.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { DecisionService } from './service.ts';

export interface ServeOptions {
  /** Agent config file (YAML or JSON); its agents are stored as new versions when they changed. */
  configPath?: string;
  /** `sqlite:./data/nextbest.db` (default) or `sqlite::memory:`. */
  db?: string;
  port?: number;
  host?: string;
  /** Workspace to serve when there is no config file. */
  workspace?: string;
  /** The first admin key of the workspace; generated (and returned once) when absent and the workspace has none. */
  apiKey?: string;
  /** Seed of the decisions' randomness; defaults to the workspace secret, so it survives restarts. */
  seed?: string;
  clock?: () => number;
  profileSource?: ProfileSource;
  profileCache?: { max: number; ttlMs: number };
  /** How often the learner folds closed windows into the models; 0 = only on demand. Default 1 s. */
  learnerIntervalMs?: number;
  /** Days decisions and events are kept (report aggregates are kept for good); 0 keeps everything. Default DEFAULT_RETENTION_DAYS. */
  retentionDays?: number;
  logger?: Logger;
  /** Adapter routes (webhooks, OAuth install, workflow actions). */
  extensions?: ServerExtension[];
  /** Web origins allowed to call decide from a browser (see AppOptions.corsOrigins). */
  corsOrigins?: string[];
  /** Builds the sinks of the agents' `delivery` entries, for batch runs. */
  sinks?: SinkFactory;
  /** Folder of the NDJSON audiences a run started over HTTP may name as `file:NAME` (default ./data/audiences). */
  audienceDir?: string;
  /** The profile source serving a run's audience reference (default: `profileSource`). */
  audienceSource?: (ref: string) => ProfileSource | undefined;
}

/** Decisions and events older than this are deleted, a few hundred rows at a time, every RETENTION_INTERVAL_MS. */
export const DEFAULT_RETENTION_DAYS = 180;
const RETENTION_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;

export interface RunningServer {
  url: string;
  port: number;
  store: Store;
  service: DecisionService;
  /** The Prometheus metrics served on GET /metrics. */
  metrics: Metrics;
  /** Set when this start generated the workspace's first key: shown once, stored only hashed. */
  generatedApiKey?: string;
  close(): Promise<void>;
}

export interface OpenWorkspace {
  store: Store;
  service: DecisionService;
  metrics: Metrics;
  logger: Logger;
  clock: () => number;
  /** Set when this start generated the workspace's first key: shown once, stored only hashed. */
  generatedApiKey?: string;
}

/**
 * Opens the store, applies the config file (its agents become new versions when they changed),
 * makes sure the workspace has a key, and loads the models: everything `serve` and `run` share.
 */
export async function openWorkspace(
  options: Omit<ServeOptions, 'port' | 'host' | 'extensions' | 'corsOrigins' | 'learnerIntervalMs' | 'retentionDays'> & {
    /** Generate the workspace's first key when it has none (default true; a batch run has no one to show it to). */
    ensureKey?: boolean;
  } = {},
): Promise<OpenWorkspace> {
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const clock = options.clock ?? Date.now;
  const store = openStore(options.db ?? 'sqlite:./data/nextbest.db');
  try {
    const source = options.configPath ? await readConfigFile(options.configPath) : undefined;
    const config = source?.config;
    const workspaceId = config?.workspace ?? options.workspace ?? 'default';
    const workspace = await store.ensureWorkspace(workspaceId, generateSecret(), clock());

    let generatedApiKey: string | undefined;
    if (options.apiKey) {
      const hash = hashApiKey(options.apiKey);
      const existing = await store.findApiKey(hash);
      if (existing && existing.workspace !== workspaceId) throw new Error(`this API key already belongs to workspace "${existing.workspace}"`);
      if (!existing) await store.addApiKey({ keyHash: hash, workspace: workspaceId, scope: 'admin', label: 'NEXTBEST_API_KEY', createdAt: clock() });
    } else if (options.ensureKey !== false && (await store.countApiKeys(workspaceId)) === 0) {
      generatedApiKey = generateApiKey();
      await store.addApiKey({ keyHash: hashApiKey(generatedApiKey), workspace: workspaceId, scope: 'admin', label: 'generated at first start', createdAt: clock() });
    }

    const metrics = createMetrics();
    const service = new DecisionService({
      store,
      workspace: workspaceId,
      secret: workspace.secret,
      seed: options.seed ?? workspace.secret,
      clock,
      profileSource: options.profileSource,
      profileCache: options.profileCache,
      logger,
      metrics,
      sinks: options.sinks,
    });
    await options.profileSource?.init?.();
    await service.load();
    if (source) {
      const written = (source.raw as { agents: unknown[] }).agents;
      for (const [i, agent] of source.config.agents.entries()) await service.putAgent(agent.id, written[i], `config-file:${options.configPath}`);
    }
    return { store, service, metrics, logger, clock, generatedApiKey };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Opens the workspace (see openWorkspace) and listens. */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const { store, service, metrics, logger, clock, generatedApiKey } = await openWorkspace(options);
  const workspaceId = service.workspace;
  // A run left `running` by a process that is gone can only be resumed.
  for (const run of await store.listRuns(workspaceId, 1000)) {
    if (run.status === 'running') await store.updateRun(workspaceId, run.runId, { status: 'interrupted' }, clock());
  }
  const audienceDir = resolve(options.audienceDir ?? './data/audiences');
  const files = new FileAudience();
  const runs = new BackgroundRuns({
    store,
    logger,
    sourceFor: (ref) => {
      if (!FileAudience.isRef(ref)) return options.audienceSource ? options.audienceSource(ref) : options.profileSource;
      // Over HTTP a file audience is a name inside the audience folder, never a path elsewhere.
      const name = ref.slice('file:'.length);
      if (!/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) return undefined;
      return { metadata: files.metadata, getProfile: () => files.getProfile(), audience: () => files.audience(`file:${join(audienceDir, name)}`) };
    },
  });
  const extensions = options.extensions ?? [];
  const routers = extensions.map((e) => e.routes({ service, store, logger, metrics, clock }));
  const app = createApp({ store, services: new Map([[workspaceId, service]]), logger, metrics, routers, corsOrigins: options.corsOrigins, runs });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const interval = options.learnerIntervalMs ?? 1000;
  const timer =
    interval > 0
      ? setInterval(() => {
          service.learnClosed().catch((err: unknown) => logger.error({ err }, 'learner run failed'));
        }, interval)
      : undefined;
  timer?.unref();
  const retentionDays = options.retentionDays ?? DEFAULT_RETENTION_DAYS;
  let pruning: Promise<unknown> | undefined;
  const retention =
    retentionDays > 0
      ? setInterval(() => {
          pruning ??= service
            .prune(retentionDays * DAY_MS)
            .catch((err: unknown) => logger.error({ err }, 'retention run failed'))
            .finally(() => (pruning = undefined));
        }, RETENTION_INTERVAL_MS)
      : undefined;
  retention?.unref();

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    store,
    service,
    metrics,
    generatedApiKey,
    async close() {
      if (timer) clearInterval(timer);
      if (retention) clearInterval(retention);
      await pruning;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await runs.close();
      await service.learnClosed().catch(() => 0);
      for (const e of extensions) await e.close?.();
      for (const t of service.agentIds().flatMap((id) => service.deliveryTargets(id))) await t.sink?.close?.();
      await options.profileSource?.close?.();
      await store.close();
    },
  };
}
