import { afterEach, describe, expect, it } from 'vitest';
import type { Profile, ProfileSource } from '../../plugin/agent/index.ts';
import type { RunningServer } from '../../plugin/server/index.ts';
import { consentingTraits, EXAMPLE_AGENT as AGENT, startTestServer } from './helpers.ts';

/** A profile source that never answers until `answering` is set. */
function slowSource(): ProfileSource & { answering: boolean } {
  const source = {
    metadata: { name: 'slow' },
    answering: false,
    getProfile: (userId: string): Promise<Profile | undefined> =>
      source.answering
        ? Promise.resolve({ userId, traits: consentingTraits(), timezone: 'UTC' })
        : new Promise<Profile | undefined>(() => undefined),
    audience: async function* () {},
  };
  return source;
}

describe('erasing a user', () => {
  let server: RunningServer;
  afterEach(() => server.close());

  it('forgets the Connected Content answers remembered for that user, so the next render decides afresh', async () => {
    const profiles = slowSource();
    server = await startTestServer({ profileSource: profiles });
    const render = () =>
      server.service.connectedContent(AGENT, 'alice@example.com', { requestId: 'send-1', profileBudgetMs: 5 });
    expect((await render()).nb_reason).toBe('error'); // failed open: remembered for the other renders
    profiles.answering = true;
    expect((await render()).nb_reason).toBe('error'); // the same send renders the same answer
    await server.service.eraseUser('alice@example.com');
    expect((await render()).nb_reason).not.toBe('error');
  });
});
