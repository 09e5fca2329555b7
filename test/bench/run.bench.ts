import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { brazeConnection, BrazeClient } from '../../adapters/braze/index.ts';
import {
  createAgentModel,
  decide,
  InMemoryProfileSource,
  readConfigFile,
  validateAgentConfig,
} from '../../plugin/agent/index.ts';
import { Rng } from '../../plugin/bandit/index.ts';
import { runAudience } from '../../plugin/run/index.ts';
import { openWorkspace } from '../../plugin/service/index.ts';
import { audience } from '../run/helpers.ts';

/**
 * Batch-run throughput: members per minute through `runAudience` (decide, log to SQLite in WAL
 * mode, queue in the outbox, deliver through both Braze sinks of the example agent to the fake
 * Braze running in a process of its own), beside its floor: the same members through the pure
 * `decide` alone, with no store and no delivery, in the same run. Twice: with the example agent's
 * logistic-ts policy (Thompson sampling, 300 Monte Carlo draws per dimension) and with LinUCB.
 */

const KEY = 'bench-braze-key';

async function startFake(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fakes/braze-server.ts'], {
    env: { ...process.env, BRAZE_API_KEY: KEY },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fake braze exited with ${code}`)));
  });
  return { url: first.trim(), child };
}

async function measure(
  policy: Record<string, unknown> | undefined,
  members: number,
  fakeUrl: string,
  dir: string,
  label: string,
): Promise<string[]> {
  const config = await readConfigFile('examples/agents.yaml');
  const raw = structuredClone(config.raw) as { workspace: string; agents: Record<string, unknown>[] };
  if (policy) raw.agents[0].policy = policy;
  const { writeFile } = await import('node:fs/promises');
  const configPath = join(dir, `${label}.json`);
  await writeFile(configPath, JSON.stringify(raw));
  const rng = new Rng('bench-client');
  const client = new BrazeClient({ baseUrl: fakeUrl, apiKey: KEY, random: () => rng.next() });
  const ws = await openWorkspace({
    configPath,
    db: `sqlite:${join(dir, `${label}.db`)}`,
    seed: 'bench',
    logger: pino({ level: 'silent' }),
    sinks: brazeConnection(client).sinkFor,
  });
  const warm = audience(5_000, `${label}-warmup`);
  await runAudience(
    ws.service,
    { agentId: 'winback', audience: '*' },
    { store: ws.store, source: new InMemoryProfileSource(warm) },
  );
  const people = audience(members, `${label}-members`);
  const t0 = process.hrtime.bigint();
  const summary = await runAudience(
    ws.service,
    { agentId: 'winback', audience: '*' },
    { store: ws.store, source: new InMemoryProfileSource(people) },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await ws.store.close();

  // the floor: the same members through decide alone
  const parsed = validateAgentConfig(raw.agents[0]);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const model = createAgentModel(parsed.config, 1);
  const root = new Rng('bench-floor');
  const now = Date.now();
  const f0 = process.hrtime.bigint();
  for (let i = 0; i < people.length; i++)
    decide(parsed.config, model, people[i], now, root.fork(`d-${i}`), { decisionId: `d-${i}` });
  const floorSeconds = Number(process.hrtime.bigint() - f0) / 1e9;

  const perMin = (members / seconds) * 60;
  const floorPerMin = (members / floorSeconds) * 60;
  const delivered = Object.values(summary.delivered).reduce((a, b) => a + b, 0);
  return [
    `  ${label.padEnd(12)} ${Math.round(perMin).toLocaleString('en-US').padStart(9)} members/min end to end (${members.toLocaleString('en-US')} members in ${seconds.toFixed(1)} s; ${delivered.toLocaleString('en-US')} deliveries, ${summary.skipped.total.toLocaleString('en-US')} skipped)`,
    `  ${''.padEnd(12)} ${Math.round(floorPerMin).toLocaleString('en-US').padStart(9)} members/min floor: decide alone, no store, no delivery → ${(perMin / floorPerMin).toFixed(2)} × floor`,
  ];
}

export async function benchRun(members = 50_000): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nextbest-run-bench-'));
  const fake = await startFake();
  try {
    return [
      `batch run throughput (target ≥ 200,000 members/min): decide + log + outbox + deliver to the fake Braze (its own process), both sinks of the example agent`,
      ...(await measure(undefined, members, fake.url, dir, 'logistic-ts')),
      ...(await measure({ kind: 'linucb', floor: 0.05, forgetting: 0.999 }, members, fake.url, dir, 'linucb')),
    ];
  } finally {
    fake.child.stdin!.end();
    await new Promise((r) => fake.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}
