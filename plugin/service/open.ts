import { pino, type Logger } from 'pino';
import { readConfigFile, type ProfileSource } from '../agent/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { DecisionService } from './decision-service.ts';
import { generateApiKey, generateSecret, hashApiKey } from './keys.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { SinkFactory } from './ports.ts';

/** What `serve` and `run` need to open a workspace. */
export interface OpenOptions {
  /** Agent config file (YAML or JSON); its agents are stored as new versions when they changed. */
  configPath?: string;
  /** `sqlite:./data/nextbest.db` (default), `sqlite::memory:` or `postgres://…` (see openStore). */
  db?: string;
  /** Workspace to serve when there is no config file. */
  workspace?: string;
  /** The first admin key of the workspace; generated (and returned once) when absent and the workspace has none. */
  apiKey?: string;
  /** Seed of the decisions' randomness; defaults to the workspace secret, so it survives restarts. */
  seed?: string;
  clock?: () => number;
  profileSource?: ProfileSource;
  profileCache?: { max: number; ttlMs: number };
  logger?: Logger;
  /** Builds the sinks of the agents' `delivery` entries, for batch runs. */
  sinks?: SinkFactory;
  /** Hands the store to the connected adapters that keep what they learn in it (see Connection.useStore). */
  useStore?: (ws: { store: Store; workspace: string; userKey(userId: string): string }) => void;
  /** Generate the workspace's first key when it has none (default true; a batch run has no one to show it to). */
  ensureKey?: boolean;
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
export async function openWorkspace(options: OpenOptions = {}): Promise<OpenWorkspace> {
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const clock = options.clock ?? Date.now;
  const store = await openStore(options.db ?? 'sqlite:./data/nextbest.db');
  try {
    const source = options.configPath ? await readConfigFile(options.configPath) : undefined;
    const config = source?.config;
    const workspaceId = config?.workspace ?? options.workspace ?? 'default';
    const workspace = await store.ensureWorkspace(workspaceId, generateSecret(), clock());

    let generatedApiKey: string | undefined;
    if (options.apiKey) {
      const hash = hashApiKey(options.apiKey);
      const existing = await store.findApiKey(hash);
      if (existing && existing.workspace !== workspaceId)
        throw new Error(`this API key already belongs to workspace "${existing.workspace}"`);
      if (!existing)
        await store.addApiKey({
          keyHash: hash,
          workspace: workspaceId,
          scope: 'admin',
          label: 'NEXTBEST_API_KEY',
          createdAt: clock(),
        });
    } else if (options.ensureKey !== false && (await store.countApiKeys(workspaceId)) === 0) {
      generatedApiKey = generateApiKey();
      await store.addApiKey({
        keyHash: hashApiKey(generatedApiKey),
        workspace: workspaceId,
        scope: 'admin',
        label: 'generated at first start',
        createdAt: clock(),
      });
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
    options.useStore?.({ store, workspace: workspaceId, userKey: (userId) => service.userKey(userId) });
    await options.profileSource?.init?.();
    await service.load();
    if (source) {
      const written = (source.raw as { agents: unknown[] }).agents;
      for (const [i, agent] of source.config.agents.entries())
        await service.putAgent(agent.id, written[i], `config-file:${options.configPath}`);
    }
    return { store, service, metrics, logger, clock, generatedApiKey };
  } catch (err) {
    await store.close();
    throw err;
  }
}
