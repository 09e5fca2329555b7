/**
 * Helpers for the HTTP API tests: a real server on a free port (in-memory SQLite unless a test
 * says otherwise), a small `call` wrapper over the global fetch, factories for request bodies and
 * agent config files (each with overrides), and views of the store the tests compare before and
 * after a request.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../plugin/agent/index.ts';
import { unitHash } from '../../plugin/bandit/index.ts';
import { startServer, type RunningServer, type ServeOptions } from '../../plugin/server/index.ts';
import { hashApiKey, requestKeyOf, userKeyOf } from '../../plugin/service/index.ts';
import type { DecisionRow, KeyScope, SqliteStore, Store } from '../../plugin/store/index.ts';
import { keyBytes } from '../../plugin/store/decision-log.ts';
import { makeAgentInput, makeProfile, NOW } from '../agent/factories.ts';

export { NOW };

/** The admin key every test server is started with. */
export const API_KEY = 'nb_test_key';
/** examples/agents.yaml: workspace acme-sports, one agent `winback` (holdout 0.10, caps, quiet hours). */
export const EXAMPLE_CONFIG = 'examples/agents.yaml';
export const EXAMPLE_WORKSPACE = 'acme-sports';
export const EXAMPLE_AGENT = 'winback';

type Json = any;

/**
 * Starts a server the way `nextbest serve` does, on port 0, with a fixed clock (`NOW`), a fixed
 * seed, no background learner and a silent logger. Callers must `close()` it.
 */
export function startTestServer(overrides: Partial<ServeOptions> = {}): Promise<RunningServer> {
  return startServer({
    db: 'sqlite::memory:',
    port: 0,
    configPath: EXAMPLE_CONFIG,
    apiKey: API_KEY,
    learnerIntervalMs: 0,
    clock: () => NOW,
    seed: 'server-tests',
    logger: pino({ level: 'silent' }),
    ...overrides,
  });
}

export interface CallOptions {
  /** JSON body (serialised here). */
  body?: unknown;
  /** Body sent exactly as given (for malformed JSON). */
  raw?: string;
  /** Bearer key; `null` sends no Authorization header. Defaults to `API_KEY`. */
  key?: string | null;
  /** A literal Authorization header (wins over `key`). */
  authorization?: string;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: Json;
}

/** One request to a running server. */
export async function call(
  server: { url: string },
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  const key = options.key === undefined ? API_KEY : options.key;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  else if (key !== null) headers.authorization = `Bearer ${key}`;
  let payload: string | undefined = options.raw;
  if (payload === undefined && options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: payload,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  let body: Json;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** Adds a key with `scope` to the workspace of `server` and returns it. */
export async function addApiKey(
  server: RunningServer,
  key: string,
  scope: KeyScope,
  workspace = EXAMPLE_WORKSPACE,
): Promise<string> {
  await server.store.addApiKey({
    keyHash: hashApiKey(key),
    workspace,
    scope,
    label: `test ${scope} key`,
    createdAt: NOW,
  });
  return key;
}

/** Traits of a customer with consent on every channel of the contract agent. */
export function consentingTraits(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...makeProfile().traits, last_category: 'running', city: 'Lyon', ...overrides };
}

/** A decide body for `user-1` in UTC with consenting traits. */
export function makeDecideBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { userId: 'user-1', timezone: 'UTC', traits: consentingTraits(), ...overrides };
}

let messageSeq = 0;

/** A Segment track event (`Order Completed` by `user-1`) with a fresh messageId. */
export function makeEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  messageSeq += 1;
  return {
    type: 'track',
    messageId: `msg-${messageSeq}`,
    userId: 'user-1',
    event: 'Order Completed',
    properties: {},
    ...overrides,
  };
}

/** A temporary directory, removed by the returned `remove`. */
export async function tempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'nextbest-server-test-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Writes a workspace config YAML with the given agents (config inputs, see `makeAgentInput`) and returns its path. */
export async function writeConfigYaml(
  dir: string,
  agents: Record<string, unknown>[],
  workspace = 'test-workspace',
): Promise<string> {
  const path = join(dir, `agents-${agents.map((a) => String(a.id)).join('-')}.yaml`);
  await writeFile(path, stringify({ workspace, agents }));
  return path;
}

export { makeAgentInput };

/** Every row count a rejected request must leave as it was. */
export interface StoreCounts {
  decisions: number;
  sends: number;
  events: number;
  outcomes: number;
  agentVersion: number | undefined;
  audit: number;
  apiKeys: number;
}

/** Row counts of the workspace, read through the store port where it offers them and SQL otherwise. */
export async function storeCounts(
  server: RunningServer,
  workspace = EXAMPLE_WORKSPACE,
  agentId = EXAMPLE_AGENT,
): Promise<StoreCounts> {
  const db = sqlite(server).db;
  const count = (sql: string) => (db.prepare(sql).get(workspace) as { n: number }).n;
  return {
    decisions: (await server.store.listDecisions(workspace, agentId, 1_000_000)).length,
    sends: count(`SELECT count(*) AS n FROM send_log WHERE ws = ${WORKSPACE_LABEL}`),
    events: await server.store.countEvents(workspace),
    outcomes: count(
      `SELECT count(*) AS n FROM outcome_log o JOIN decision_log d ON d.seq = o.decision WHERE d.ws = ${WORKSPACE_LABEL}`,
    ),
    agentVersion: (await server.store.getAgentConfig(workspace, agentId))?.version,
    audit: (await server.store.auditLog(workspace, 1_000_000)).length,
    apiKeys: await server.store.countApiKeys(workspace),
  };
}

/** SQL for the label (small integer) the SQLite store uses for the workspace bound to the first `?`. */
const WORKSPACE_LABEL = '(SELECT id FROM labels WHERE text = ?)';

/**
 * The decisions a batch run logged for `userIds`: those whose requestId is the run's
 * (`run:<runId>:<userKey>`), found by its keyed hash, as the log keeps it.
 */
export async function decisionsOfRun(
  store: Store,
  workspace: string,
  agentId: string,
  runId: string,
  userIds: readonly string[],
): Promise<DecisionRow[]> {
  const { secret } = (await store.getWorkspace(workspace))!;
  const ours = new Set(userIds.map((id) => requestKeyOf(secret, `run:${runId}:${userKeyOf(secret, id)}`)));
  return (await store.listDecisions(workspace, agentId, 10_000_000)).filter((d) => ours.has(d.requestId ?? ''));
}

/** The SQLite store behind a test server (every test server runs on SQLite). */
export function sqlite(server: RunningServer): SqliteStore {
  return server.store as SqliteStore;
}

/** One user's rows of each kind, found by the keyed hash the service stores instead of the id. */
export function userRows(
  server: RunningServer,
  userId: string,
  workspace = EXAMPLE_WORKSPACE,
): { decisions: number; events: number; sends: { channel: string | null; at: number }[]; outcomes: number } {
  const db = sqlite(server).db;
  const userKey = server.service.userKey(userId);
  const n = (sql: string, key: unknown = keyBytes(userKey)) => (db.prepare(sql).get(workspace, key) as { n: number }).n;
  return {
    decisions: n(`SELECT count(*) AS n FROM decision_log WHERE ws = ${WORKSPACE_LABEL} AND user_key = ?`),
    events: n('SELECT count(*) AS n FROM events WHERE workspace = ? AND user_key = ?', userKey),
    outcomes: n(
      `SELECT count(*) AS n FROM outcome_log o JOIN decision_log d ON d.seq = o.decision WHERE d.ws = ${WORKSPACE_LABEL} AND d.user_key = ?`,
    ),
    sends: db
      .prepare(
        `SELECT l.text AS channel, s.at FROM send_log s LEFT JOIN labels l ON l.id = s.channel WHERE s.ws = ${WORKSPACE_LABEL} AND s.user_key = ? ORDER BY s.at`,
      )
      .all(workspace, keyBytes(userKey)) as { channel: string | null; at: number }[],
  };
}

/** The first `user-<i>` (after `prefix`) that the example agent does (or does not) hold out. */
export async function exampleUser(holdout: boolean, prefix = 'user'): Promise<string> {
  const agent = (await loadConfigFile(EXAMPLE_CONFIG)).agents.find((a) => a.id === EXAMPLE_AGENT)!;
  for (let i = 0; i < 10_000; i++) {
    const userId = `${prefix}-${i}`;
    if (unitHash(agent.salt, userId) < agent.holdout === holdout) return userId;
  }
  throw new Error('no such user');
}

/** A pino logger at debug level whose output is kept in memory. */
export function captureLogs(): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void chunks.push(line) });
  return { logger, text: () => chunks.join('') };
}

/** Parses an NDJSON body into its lines. */
export function ndjson(text: string): Json[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}
