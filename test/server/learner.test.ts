import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../plugin/server/index.ts';
import { consentingTraits, EXAMPLE_AGENT as AGENT, NOW, startTestServer } from './helpers.ts';

/** The example agent's goal window. */
const WINDOW_MS = 72 * 3_600_000;
/** More closed decisions than the learner reads at a time, so that it must come back for more. */
const BACKLOG = 600;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the learner', () => {
  let server: RunningServer;
  let now = NOW;

  beforeEach(async () => {
    now = NOW;
    server = await startTestServer({ clock: () => now });
    for (let i = 0; i < BACKLOG; i++)
      await server.service.decide(AGENT, { userId: `user-${i}`, timezone: 'UTC', traits: consentingTraits() });
    now = NOW + WINDOW_MS + 60_000; // every window closed a minute ago
  });
  afterEach(() => server.close());

  const lagSeconds = async () => (await server.metrics.learnerLag.get()).values[0]?.value;

  it('lets a decision through while it folds a backlog, instead of holding the event loop until it is done', async () => {
    let done = false;
    const learning = server.service.learnClosed().then((n) => ((done = true), n));
    const decided = await server.service.decide(AGENT, {
      userId: 'while-learning',
      timezone: 'UTC',
      traits: consentingTraits(),
    });
    expect({ decided: decided.reason !== 'error', learnerDoneFirst: done }).toEqual({
      decided: true,
      learnerDoneFirst: false,
    });
    expect(await learning).toBe(BACKLOG);
  });

  it('reports the age of the oldest closed decision not yet learned while it works, and 0 once it is done', async () => {
    const learning = server.service.learnClosed();
    await nextTurn();
    const during = await lagSeconds();
    await learning;
    expect({ during, after: await lagSeconds() }).toEqual({ during: 60, after: 0 });
  });

  it('shows the lag at any scrape, between learner passes too', async () => {
    expect(await lagSeconds()).toBe(60); // no pass has run since the windows closed
    await server.service.learnClosed();
    now += 30_000;
    expect(await lagSeconds()).toBe(0);
  });

  it('learns every closed decision exactly once, however many commits it takes', async () => {
    expect([await server.service.learnClosed(), await server.service.learnClosed()]).toEqual([BACKLOG, 0]);
    const decisions = await server.store.listDecisions('acme-sports', AGENT, 10_000);
    expect(decisions.filter((d) => d.learned)).toHaveLength(BACKLOG);
  });
});
