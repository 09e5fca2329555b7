import { describe, expect, it } from 'vitest';
import { ReplayGuard, settlesWorkflowRequest } from '../../../adapters/hubspot/index.ts';
import { VirtualClock } from '../../fakes/hubspot.ts';
import { NOW } from './setup.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

function guard(max?: number): { clock: VirtualClock; replays: ReplayGuard } {
  const clock = new VirtualClock(NOW);
  return { clock, replays: new ReplayGuard({ clock: clock.now, max }) };
}

describe('ReplayGuard: v3 signatures', () => {
  it('refuses a v3 signature seen before, within its 5-minute window', () => {
    const { clock, replays } = guard();
    expect(replays.firstUseOfV3('sig-a', NOW)).toBe(true);
    clock.current += 4 * MINUTE;
    expect(replays.firstUseOfV3('sig-a', NOW)).toBe(false);
    expect(replays.firstUseOfV3('sig-b', NOW)).toBe(true);
  });

  it('forgets a v3 signature once its timestamp has left the window (the signature check refuses it then)', () => {
    const { clock, replays } = guard();
    expect(replays.firstUseOfV3('sig-a', NOW + 2 * MINUTE)).toBe(true); // dated ahead: valid until +7 minutes
    clock.current += 7 * MINUTE;
    expect(replays.firstUseOfV3('sig-a', NOW + 2 * MINUTE)).toBe(false);
    clock.current += 1;
    expect(replays.firstUseOfV3('sig-a', NOW + 2 * MINUTE)).toBe(true);
  });

  it('holds a bounded number of signatures, forgetting the least recently seen first', () => {
    const { replays } = guard(2);
    for (const s of ['a', 'b', 'c']) expect(replays.firstUseOfV3(s, NOW)).toBe(true);
    expect(replays.firstUseOfV3('c', NOW)).toBe(false);
    expect(replays.firstUseOfV3('a', NOW)).toBe(true); // forgotten
  });
});

describe('ReplayGuard: v2-signed workflow actions', () => {
  it("accepts HubSpot's retries of a request that got no final answer, for 3 days after it was first seen", () => {
    const { clock, replays } = guard();
    expect(replays.workflowActionReplay('req')).toBeUndefined();
    clock.current += 3 * DAY;
    expect(replays.workflowActionReplay('req')).toBeUndefined();
    clock.current += 1;
    expect(replays.workflowActionReplay('req')).toContain('first seen longer ago than HubSpot retries');
  });

  it('refuses a request once it was settled', () => {
    const { replays } = guard();
    expect(replays.workflowActionReplay('req')).toBeUndefined();
    replays.workflowActionSettled('req');
    expect(replays.workflowActionReplay('req')).toContain('already answered');
    expect(replays.workflowActionReplay('other')).toBeUndefined();
  });

  it.each([
    [200, true],
    [400, true],
    [401, true],
    [429, false],
    [500, false],
    [503, false],
  ])('counts an answer %i as final for HubSpot: %s', (status, final) => {
    expect(settlesWorkflowRequest(status)).toBe(final);
  });
});
