import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../plugin/store/index.ts';
import { startFakeBraze, type FakeBraze } from '../fakes/braze.ts';
import { pollUntil } from '../helpers/poll.ts';
import { decisionsOfRun, tempDir } from '../server/helpers.ts';
import { audience, BRAZE_KEY, writeAudience } from './helpers.ts';

/**
 * The batch run as an operator runs it: `nextbest run` in a child process over 100,000 members,
 * delivering to the fake Braze through 429s, 5xx (before and after Braze processed the request),
 * dropped connections and partial errors; SIGKILLed in the middle, then resumed with --resume.
 * Every decision that delivers reaches Braze exactly once through each sink, and none is missed.
 */

const MEMBERS = 100_000;
let fake: FakeBraze;
let dir: { path: string; remove: () => Promise<void> };

function startRun(args: string[]): {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    [
      'bin/nextbest.js',
      'run',
      '--agent',
      'winback',
      '--config',
      'examples/agents.yaml',
      '--db',
      `sqlite:${dir.path}/nextbest.db`,
      '--seed',
      'kill-test',
      '--chunk-size',
      '2000',
      '--json',
      ...args,
    ],
    {
      env: {
        ...process.env,
        BRAZE_REST_ENDPOINT: fake.url,
        BRAZE_API_KEY: BRAZE_KEY,
        // the fake's reads do not lag: confirming a send in doubt need not wait Braze's minutes
        BRAZE_CONFIRM_DELAYS_MS: '50,200',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function until(condition: () => boolean, what: string, exited?: Promise<unknown>): Promise<void> {
  let done = false;
  void exited?.then(() => (done = true));
  await pollUntil(
    () => {
      if (done && !condition()) throw new Error(`the run ended before ${what}`);
      return condition();
    },
    (met) => met,
    what,
    { everyMs: 25, attempts: 12_000 },
  );
}

beforeAll(async () => {
  dir = await tempDir();
  // Braze's /users/track limit scaled down so that the run meets it; the messaging limit is Braze's.
  fake = await startFakeBraze({
    apiKey: BRAZE_KEY,
    maxTrackObjects: 50,
    trackLimit: { requests: 400, windowMs: 1000 },
  });
  await writeAudience(`${dir.path}/members.ndjson`, audience(MEMBERS, 'kill-test'));
});

afterAll(async () => {
  await fake?.close();
  await dir?.remove();
});

describe('nextbest run, killed and resumed', () => {
  it(`delivers each of ${MEMBERS.toLocaleString('en-US')} members' decisions exactly once through a SIGKILL and a resume`, async () => {
    const faults = () => {
      fake.inject(
        '/users/track',
        { kind: 'rate-limited', resetInMs: 300 },
        { kind: 'fail-before', status: 503 },
        { kind: 'fail-after', status: 500 },
        { kind: 'drop-after' },
      );
      fake.inject(
        '/campaigns/trigger',
        { kind: 'rate-limited', resetInMs: 300 },
        { kind: 'fail-before', status: 502 },
        { kind: 'fail-after', status: 500 },
        { kind: 'drop-after' },
      );
    };
    faults();
    for (const i of [17, 4242, 77_777]) fake.rejectAttributesOf(`member-${i}`, 'Invalid value', 1); // retried, then accepted
    fake.rejectAttributesOf('member-31337', 'Invalid value', 99); // refused for good

    const audienceRef = `file:${dir.path}/members.ndjson`;
    const first = startRun(['--audience', audienceRef]);
    await until(() => /run (\S+): if it stops/.test(first.stderr()), 'it printed its run id', first.exited);
    const runId = /run (\S+): if it stops/.exec(first.stderr())![1];
    await until(() => fake.tracked.length >= 15_000, '15,000 attribute writes', first.exited);
    faults(); // more trouble while it runs
    await until(() => fake.tracked.length >= 30_000, '30,000 attribute writes', first.exited);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    const atKill = { tracked: fake.tracked.length, sends: fake.sends.length };

    const second = startRun(['--audience', audienceRef, '--resume', runId]);
    const code = await second.exited;
    expect(code, second.stderr()).toBe(0);
    const summary = JSON.parse(second.stdout());

    // What the store says must be delivered: every decision of the run that delivers.
    const store = new SqliteStore(`${dir.path}/nextbest.db`);
    const memberIds = Array.from({ length: MEMBERS }, (_, i) => `member-${i}`);
    const ofRun = await decisionsOfRun(store, 'acme-sports', 'winback', runId, memberIds);
    const rows = ofRun.filter((d) => d.deliver).map((d) => ({ decision_id: d.decisionId }));
    const decided = ofRun.length;
    const refused = store.db
      .prepare("SELECT decision_id FROM deliveries WHERE run_id = ? AND status = 'failed'")
      .all(runId) as { decision_id: string }[];
    await store.close();
    const expected = new Set(rows.map((r) => r.decision_id));
    const refusedIds = new Set(refused.map((r) => r.decision_id));

    expect(decided).toBe(MEMBERS); // one decision per member, none twice
    expect(summary).toMatchObject({ runId, status: 'completed', members: MEMBERS, decided: MEMBERS, unfinished: {} });
    expect(refusedIds.size).toBeLessThanOrEqual(1); // member-31337's attributes, if it delivers at all

    const attributeWrites = fake.tracked.map((a) => a.nb_decision_id as string);
    expect(attributeWrites.length, 'no attribute write twice').toBe(new Set(attributeWrites).size);
    expect(new Set(attributeWrites)).toEqual(new Set([...expected].filter((d) => !refusedIds.has(d))));
    const sends = fake.sends.map((s) => s.properties.nb_decision_id as string);
    expect(sends.length, 'no message twice').toBe(new Set(sends).size);
    expect(new Set(sends)).toEqual(expected);

    // the kill really fell in the middle, and the faults really happened
    expect(atKill.tracked).toBeGreaterThan(25_000);
    expect(atKill.tracked).toBeLessThan(expected.size);
    expect(fake.statuses.get(429)).toBeGreaterThanOrEqual(4);
    expect(fake.statuses.get(500)).toBeGreaterThanOrEqual(4);
    expect(
      summary.delivered['braze:attributes:nb_'] + (summary.failed['braze:attributes:nb_']?.total ?? 0),
    ).toBeLessThanOrEqual(expected.size);
  }, 600_000);
});
