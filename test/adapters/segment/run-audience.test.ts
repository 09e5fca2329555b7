import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { SegmentProfileSource } from '../../../adapters/segment/index.ts';
import { connectFromEnv } from '../../../plugin/connections.ts';
import { openWorkspace, type OpenWorkspace } from '../../../plugin/service/index.ts';

const ENV = {
  SEGMENT_PROFILE_TOKEN: 'token',
  SEGMENT_SPACE_ID: 'spa_1',
  SEGMENT_PROFILE_BASE_URL: 'http://127.0.0.1:9',
};
const CONFIG = join(import.meta.dirname, '../../../examples/agents.yaml');

/** What a CLI command (`serve`, then `run` in another process) opens: the adapters, then the workspace on the file. */
async function openCommand(db: string) {
  const connections = connectFromEnv(ENV, []);
  const ws = await openWorkspace({
    db: `sqlite:${db}`,
    configPath: CONFIG,
    ensureKey: false,
    useStore: connections.useStore,
    profileSource: connections.profileSource,
    logger: pino({ level: 'silent' }),
  });
  return { ws, source: connections.audienceSource('vip') as SegmentProfileSource | undefined };
}

async function members(source: SegmentProfileSource | undefined): Promise<string[]> {
  const out: string[] = [];
  for await (const userId of source!.audiences.members('vip')) out.push(userId);
  return out;
}

describe('a Segment audience learned by serve, read by run', () => {
  let dir: string;
  const open: OpenWorkspace[] = [];
  afterEach(async () => {
    for (const ws of open.splice(0)) await ws.store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("finds the members a previous process kept in the workspace's store", async () => {
    dir = mkdtempSync(join(tmpdir(), 'nextbest-run-audience-'));
    const db = join(dir, 'nextbest.db');
    const serve = await openCommand(db);
    open.push(serve.ws);
    await serve.source!.audiences.observe('u-1', { vip: true }, 1_000);
    await serve.ws.store.close();
    open.length = 0;

    const run = await openCommand(db);
    open.push(run.ws);
    expect(await members(run.source)).toEqual(['u-1']);
  });
});
