import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { ProfileSource } from '../agent/index.ts';
import { ConsoleSessions } from '../console/index.ts';
import { BackgroundRuns, FileAudience } from '../run/index.ts';
import {
  openWorkspace,
  type DecisionService,
  type Metrics,
  type OpenOptions,
  type ServerExtension,
} from '../service/index.ts';
import type { Store } from '../store/index.ts';
import { createApp, type AppOptions } from './app.ts';

export interface ServeOptions extends Omit<OpenOptions, 'ensureKey'> {
  port?: number;
  host?: string;
  /** How often the learner folds closed windows into the models; 0 = only on demand. Default 1 s. */
  learnerIntervalMs?: number;
  /** Days decisions and events are kept (report aggregates are kept for good); 0 keeps everything. Default DEFAULT_RETENTION_DAYS. */
  retentionDays?: number;
  /** Adapter routes (webhooks, OAuth install, workflow actions). */
  extensions?: ServerExtension[];
  /** Web origins allowed to call decide from a browser (see AppOptions.corsOrigins). */
  corsOrigins?: string[];
  /** Rate limits of public-key decisions (see AppOptions.publicRates). */
  publicRates?: AppOptions['publicRates'];
  /** Folder of the NDJSON audiences a run started over HTTP may name as `file:NAME` (default ./data/audiences). */
  audienceDir?: string;
  /** The profile source serving a run's audience reference (default: `profileSource`). */
  audienceSource?: (ref: string) => ProfileSource | undefined;
  /** How long a console session lasts (default DEFAULT_SESSION_LIFETIME_MS), on the server's clock. */
  sessionLifetimeMs?: number;
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
      return {
        metadata: files.metadata,
        getProfile: () => files.getProfile(),
        audience: () => files.audience(`file:${join(audienceDir, name)}`),
      };
    },
  });
  const extensions = options.extensions ?? [];
  const routers = extensions.map((e) => e.routes({ service, store, logger, metrics, clock }));
  const app = createApp({
    store,
    services: new Map([[workspaceId, service]]),
    logger,
    metrics,
    routers,
    corsOrigins: options.corsOrigins,
    publicRates: options.publicRates,
    runs,
    sessions: new ConsoleSessions(options.sessionLifetimeMs, clock),
  });
  const server: Server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  }).catch(async (err: unknown) => {
    // a port in use: release the database (and its writer lock) before saying so
    await store.close();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const interval = options.learnerIntervalMs ?? 1000;
  let ticking: Promise<unknown> | undefined;
  const timer =
    interval > 0
      ? setInterval(() => {
          // follow the other instances, then learn when this one is (or becomes) the learner
          ticking ??= service
            .tick()
            .catch((err: unknown) => logger.error({ err }, 'learner run failed'))
            .finally(() => (ticking = undefined));
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
      await ticking;
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
