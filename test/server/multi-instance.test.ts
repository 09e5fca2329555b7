import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userKeyOf } from '../../plugin/service/index.ts';
import { CONSENT_TRAITS } from '../agent/factories.ts';
import { freePort } from '../helpers/free-port.ts';
import { postgresBinForTests, startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { API_KEY, call, consentingTraits, makeAgentInput, tempDir, writeConfigYaml } from './helpers.ts';

/**
 * Three `nextbest serve` processes (the built bin) on one PostgreSQL database, as a deployment
 * runs them behind a load balancer. Decide and event load is spread over all three; the learner
 * is killed with SIGKILL mid-load. What is checked is what the store holds against what was
 * acknowledged, never how fast: every acknowledged decision is logged and, its window closed,
 * learned exactly once (by the report cells and by the model's own count of what it learned);
 * every acknowledged event is stored once; a frequency cap of 1 holds for 50 decides of one user
 * at once over the three. The one bound on time is the issue's: another instance holds the learner
 * role within 10 s of the kill.
 */

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/nextbest.js');
const WORKSPACE = 'multi';
const USERS = 90;
const TAKEOVER_MS = 10_000;

const bin = postgresBinForTests();

interface Instance {
  url: string;
  child: ChildProcess;
  alive: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 100 ms until it returns a value, or throws `message` after `ms`. */
async function waitFor<T>(probe: () => Promise<T | undefined>, ms: number, message: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(message);
    await sleep(100);
  }
}

describe.skipIf(!bin)('three nextbest serve instances on one PostgreSQL database', () => {
  let server: TestPostgres;
  let dbUrl: string;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const instances: Instance[] = [];

  const isLearner = async (i: Instance) => (await call(i, 'GET', '/healthz', { key: null })).body?.learner === true;

  /** The instance that holds the learner role now, if one does (asked of the live ones). */
  async function learner(): Promise<Instance | undefined> {
    for (const i of instances) if (i.alive && (await isLearner(i))) return i;
    return undefined;
  }

  function kill(i: Instance): void {
    i.alive = false;
    i.child.kill('SIGKILL');
  }

  beforeAll(async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    await run(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: ROOT });
    server = await startPostgres(bin!);
    dbUrl = await server.createDatabase('multi');
    dir = await tempDir();
    const agent = makeAgentInput({
      goal: { window: '3s', rewards: [{ event: 'Order Completed', value: 1 }] },
      // the change detector counts what the model learned (warmup: never restarts)
      policy: { kind: 'logistic-ts', detect: { warmup: 1_000_000 } },
      guardrails: { consent: CONSENT_TRAITS, frequency_caps: [{ max: 1, per: '1d' }] },
    });
    const config = await writeConfigYaml(dir.path, [agent], WORKSPACE);
    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) {
      const child = spawn(
        process.execPath,
        [BIN, 'serve', '--config', config, '--port', String(port), '--retention-days', '0'],
        {
          cwd: dir.path,
          env: { ...process.env, NEXTBEST_API_KEY: API_KEY, NEXTBEST_DB_URL: dbUrl, LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      instances.push({ url: `http://127.0.0.1:${port}`, child, alive: true });
    }
    for (const i of instances)
      await waitFor(
        async () => ((await call(i, 'GET', '/healthz', { key: null })).status === 200 ? true : undefined),
        60_000,
        `instance ${i.url} did not start`,
      );
  }, 180_000);

  afterAll(async () => {
    for (const i of instances) if (i.alive) kill(i);
    server?.destroy();
    await dir?.remove();
  });

  const decide = (i: Instance, userId: string) =>
    call(i, 'POST', '/v1/agents/winback/decide', { body: { userId, timezone: 'UTC', traits: consentingTraits() } });

  it('holds a frequency cap of 1 for 50 decides of one user at once over the three instances', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, k) => decide(instances[k % 3]!, 'capped-user')));
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    const { rows: ws } = await db.query<{ secret: string }>('SELECT secret FROM workspaces WHERE id = $1', [WORKSPACE]);
    const { rows } = await db.query<{ n: string }>(
      'SELECT count(*) AS n FROM sends WHERE workspace = $1 AND user_key = $2',
      [WORKSPACE, userKeyOf(ws[0]!.secret, 'capped-user')],
    );
    await db.end();
    const delivered = answers.filter((a) => a.status === 200 && a.body.deliver === true).length;
    expect({
      answered: answers.filter((a) => a.status === 200 && !a.body.error).length,
      delivered: Math.min(delivered, 2),
      sends: Math.min(Number(rows[0]!.n), 2),
      sameCount: Number(rows[0]!.n) === delivered,
    }).toEqual({ answered: 50, delivered: Math.min(delivered, 1), sends: Math.min(delivered, 1), sameCount: true });
    expect(delivered).toBeLessThanOrEqual(1);
  });

  it('learns every acknowledged decision exactly once and keeps every acknowledged event, the learner killed mid-load', async () => {
    const first = await waitFor(learner, 30_000, 'no instance became the learner');
    const decided = new Map<string, { decisionId: string; holdout: boolean; reason: string }>();
    const events = new Set<string>();
    let killedAt = 0;
    const live = () => instances.filter((i) => i.alive);
    const load = async (u: number) => {
      const targets = live();
      const answer = await decide(targets[u % targets.length]!, `user-${u}`).catch(() => undefined);
      if (!answer || answer.status !== 200 || answer.body.error) return;
      decided.set(answer.body.decisionId, answer.body);
      const event = {
        type: 'track',
        messageId: `order-${u}`,
        userId: `user-${u}`,
        event: 'Order Completed',
        properties: {},
      };
      // the same event through two instances at once (a client retrying elsewhere)
      const sent = await Promise.all(
        [1, 2].map((k) =>
          call(targets[(u + k) % targets.length]!, 'POST', '/v1/events', { body: event }).catch(() => undefined),
        ),
      );
      if (sent.some((s) => s?.status === 200)) events.add(event.messageId);
    };
    for (let u = 0; u < USERS; u += 6) {
      await Promise.all(Array.from({ length: 6 }, (_, k) => load(u + k)));
      if (u >= USERS / 3 && killedAt === 0) {
        kill(first);
        killedAt = Date.now();
      }
    }
    const second = await waitFor(learner, TAKEOVER_MS - (Date.now() - killedAt), 'no instance took the learner role');

    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    try {
      // windows of 3 s: wait until every logged decision is learned
      await waitFor(
        async () =>
          Number((await db.query('SELECT count(*) AS n FROM decisions WHERE NOT learned')).rows[0].n) === 0
            ? true
            : undefined,
        60_000,
        'decisions stayed unlearned',
      );
      const ids = [...decided.keys()];
      const logged = await db.query('SELECT decision_id, learned FROM decisions WHERE decision_id = ANY($1)', [ids]);
      const cells = await db.query(
        "SELECT sum(decided) AS decided, sum(closed) AS closed FROM report_cells WHERE dimension = ''",
      );
      const all = await db.query(
        "SELECT count(*) FILTER (WHERE NOT holdout AND reason NOT IN ('guardrail', 'error')) AS taught, count(*) AS n FROM decisions",
      );
      const snapshot = await db.query(
        "SELECT state FROM model_snapshots WHERE workspace = $1 AND agent_id = 'winback' ORDER BY seq DESC LIMIT 1",
        [WORKSPACE],
      );
      const stored = await db.query('SELECT message_id FROM events WHERE message_id = ANY($1)', [[...events]]);
      expect({
        takeover: second !== first,
        acknowledgedLogged: logged.rows.length === ids.length && logged.rows.every((r) => r.learned),
        closedOnce: Number(cells.rows[0].closed) === Number(all.rows[0].n),
        decidedOnce: Number(cells.rows[0].decided) === Number(all.rows[0].n),
        modelLearnedOnce: (JSON.parse(snapshot.rows[0].state) as { change: { seen: number } }).change.seen,
        eventsStored: stored.rows.length,
      }).toEqual({
        takeover: true,
        acknowledgedLogged: true,
        closedOnce: true,
        decidedOnce: true,
        modelLearnedOnce: Number(all.rows[0].taught),
        eventsStored: events.size,
      });
      expect(ids.length).toBeGreaterThan(USERS / 2);
    } finally {
      await db.end();
    }
  });
});
