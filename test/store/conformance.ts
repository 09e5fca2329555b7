/**
 * The store conformance suite: one table of behaviours that every
 * `Store` implementation passes, SQLite today and PostgreSQL when it lands. It speaks only the
 * `Store` port, so a store that passes it can stand in for any other; the one thing the port
 * cannot show (which snapshots were pruned) is asked of the implementation through `inspect`.
 *
 * Usage, from a `*.test.ts` file:
 *
 *   describeStoreConformance('SqliteStore (:memory:)', async () => new SqliteStore(':memory:'), sqliteInspector);
 *
 * Every test gets a fresh, empty store from `makeStore` and closes it afterwards.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  AudienceMemberRow,
  DecisionHead,
  DecisionRow,
  DeliveryRow,
  EventRow,
  OutcomeRow,
  RecentSend,
  ReportCell,
  ReportGroupDay,
  RunRow,
  SendRow,
  SnapshotRow,
  Store,
} from '../../plugin/store/index.ts';
import { AlreadyStoredError, SNAPSHOTS_KEPT } from '../../plugin/store/types.ts';
import { addToReplicates, emptyReplicates, userReplicateWeights } from '../../plugin/measure/bootstrap.ts';

/** What the suite needs to see beyond the `Store` port. */
export interface StoreInspector<S extends Store> {
  /** The stored snapshot seqs of one agent, in any order. */
  snapshotSeqs(store: S, workspace: string, agentId: string): Promise<number[]>;
}

export const WS = 'acme';
export const OTHER_WS = 'globex';
/** A Thursday, 12:00 UTC. */
export const T0 = Date.parse('2026-01-01T12:00:00Z');
export const HOUR_MS = 3_600_000;
export const WINDOW_MS = 72 * HOUR_MS;

/** Every agent the tests log decisions for (attribution asks for the latest decision of each). */
const ALL_AGENTS = ['winback', 'welcome', 'a', 'b'];

let counter = 0;
const nextId = (prefix: string) => `${prefix}-${String(++counter).padStart(6, '0')}`;

/** A decision of user-a for agent "winback", made at T0 with a 72 h window; `windowEnd` follows `at` unless given. */
export function makeDecision(overrides: Partial<DecisionRow> = {}): DecisionRow {
  const at = overrides.at ?? T0;
  return {
    workspace: WS,
    decisionId: nextId('dec'),
    agentId: 'winback',
    agentVersion: 1,
    userKey: 'user-a',
    requestId: null,
    at,
    windowEnd: at + WINDOW_MS,
    holdout: false,
    deliver: true,
    reason: 'explore',
    probability: 0.25,
    body: {
      choices: { channel: { arm: 'email', probability: 0.5 }, subject_line: { arm: 'sl_plain', probability: 0.5 } },
      features: [1, 0, 0.5],
    },
    reward: null,
    learned: false,
    ...overrides,
  };
}

const SINK = 'braze:attributes:nb_';

/** A running run `run-1` of agent winback in WS. */
export function makeRun(overrides: Partial<RunRow> = {}): RunRow {
  return {
    runId: 'run-1',
    workspace: WS,
    agentId: 'winback',
    audience: 'file:members.ndjson',
    status: 'running',
    checkpoint: null,
    summary: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** A pending delivery of run-1 to the Braze attributes sink. */
export function makeDelivery(overrides: Partial<DeliveryRow> = {}): DeliveryRow {
  return {
    workspace: WS,
    decisionId: nextId('dec'),
    sink: SINK,
    runId: 'run-1',
    userKey: 'user-a',
    payload: { userId: 'raw-a' },
    status: 'pending',
    attempts: 0,
    error: null,
    updatedAt: T0,
    ...overrides,
  };
}

/** The send of a delivered decision: same workspace, user and time, channel email. */
export function makeSend(decision: DecisionRow, overrides: Partial<SendRow> = {}): SendRow {
  return {
    workspace: decision.workspace,
    userKey: decision.userKey,
    channel: 'email',
    at: decision.at,
    decisionId: decision.decisionId,
    ...overrides,
  };
}

/** A track event of user-a at T0 + 1 h. */
export function makeEvent(overrides: Partial<EventRow> = {}): EventRow {
  return {
    workspace: WS,
    messageId: nextId('msg'),
    userKey: 'user-a',
    type: 'track',
    event: 'Order Completed',
    timestamp: T0 + HOUR_MS,
    receivedAt: T0 + HOUR_MS + 500,
    body: { type: 'track', event: 'Order Completed', properties: { revenue: 42.5, currency: 'EUR' } },
    ...overrides,
  };
}

/** The outcome `event` earns `decision`: same workspace, event name and time, value 1. */
export function makeOutcome(decision: DecisionRow, event: EventRow, overrides: Partial<OutcomeRow> = {}): OutcomeRow {
  return {
    workspace: event.workspace,
    decisionId: decision.decisionId,
    messageId: event.messageId,
    event: event.event ?? 'Order Completed',
    value: 1,
    at: event.timestamp,
    ...overrides,
  };
}

export function makeSnapshot(overrides: Partial<Omit<SnapshotRow, 'seq'>> = {}): Omit<SnapshotRow, 'seq'> {
  return {
    workspace: WS,
    agentId: 'winback',
    agentVersion: 1,
    state: { version: 1, dimensions: [] },
    createdAt: T0,
    ...overrides,
  };
}

/** Logs decisions the way the service does: one `withUser` unit of work each, with its send when given. */
export async function logDecision(store: Store, decision: DecisionRow, send?: SendRow): Promise<void> {
  await store.withUser(decision.workspace, decision.userKey, (tx) => tx.insertDecision(decision, send));
}

/** A send as sendsSince reads it back: when, and on which channel. */
const recent = (send: SendRow): RecentSend => ({ at: send.at, channel: send.channel });

/** Committed sends of a user since `since`, read through a unit of work. */
async function sendsOf(store: Store, workspace: string, userKey: string, since = 0): Promise<RecentSend[]> {
  return store.withUser(workspace, userKey, (tx) => tx.sendsSince(since));
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves with `promise`, or rejects with `message` when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const byAgent = (rows: DecisionHead[]) => [...rows].sort((a, b) => a.agentId.localeCompare(b.agentId));
/** What latestDecisions answers of a decision. */
const head = ({ decisionId, agentId, userKey, at, windowEnd }: DecisionRow): DecisionHead => ({
  decisionId,
  agentId,
  userKey,
  at,
  windowEnd,
});
const bySeq = (seqs: number[]) => [...seqs].sort((a, b) => a - b);

/** A decision body with every JSON shape the decision log stores. */
const RICH_BODY = {
  choices: {
    frequency: { arm: 'send', probability: 0.9 },
    channel: { arm: 'email', probability: 0.6 },
    send_time: { arm: '18', probability: 0.3 },
    subject_line: { arm: 'sl_urgency', probability: 0.475 },
    content_block: { arm: 'cb_bundle', probability: 1 / 3 },
  },
  features: [1, 0, 0.1 + 0.2, -0.000123456789, 1e-300, 12345.678],
  sendAt: '2026-01-01T18:00:00.000Z',
  suppressed: null,
  explanation: [
    {
      dimension: 'channel',
      chosen: 'email',
      masked: [],
      drivers: [{ feature: 'city=Zürich 🏔', weight: -0.25 }],
      flags: [true, false],
    },
  ],
};

/** Registers the whole conformance suite for one store implementation. */
export function describeStoreConformance<S extends Store>(
  name: string,
  makeStore: () => Promise<S>,
  inspect?: StoreInspector<S>,
): void {
  describe(`${name} conforms to the Store contract`, () => {
    let store: S;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await store.close();
    });

    describe('workspaces', () => {
      it('creates a missing workspace with the given secret and creation time', async () => {
        expect(await store.ensureWorkspace(WS, 'secret-1', T0)).toEqual({ id: WS, secret: 'secret-1', createdAt: T0 });
      });

      it('returns the existing workspace, with its first secret, when ensured again', async () => {
        await store.ensureWorkspace(WS, 'secret-1', T0);
        expect(await store.ensureWorkspace(WS, 'secret-2', T0 + 1)).toEqual({
          id: WS,
          secret: 'secret-1',
          createdAt: T0,
        });
      });

      it('keeps the first secret for getWorkspace after a second ensure', async () => {
        await store.ensureWorkspace(WS, 'secret-1', T0);
        await store.ensureWorkspace(WS, 'secret-2', T0 + 1);
        expect(await store.getWorkspace(WS)).toEqual({ id: WS, secret: 'secret-1', createdAt: T0 });
      });

      it('returns undefined for an unknown workspace', async () => {
        expect(await store.getWorkspace('nobody')).toBeUndefined();
      });
    });

    describe('api keys', () => {
      beforeEach(async () => {
        await store.ensureWorkspace(WS, 'secret-1', T0);
        await store.ensureWorkspace(OTHER_WS, 'secret-2', T0);
      });

      it('finds a key by its hash', async () => {
        const key = {
          keyHash: 'a'.repeat(64),
          workspace: WS,
          scope: 'decide' as const,
          label: 'braze connected content',
          createdAt: T0,
        };
        await store.addApiKey(key);
        expect(await store.findApiKey(key.keyHash)).toEqual(key);
      });

      it('returns undefined for an unknown hash', async () => {
        expect(await store.findApiKey('f'.repeat(64))).toBeUndefined();
      });

      it('counts the keys of one workspace only', async () => {
        await store.addApiKey({
          keyHash: 'a'.repeat(64),
          workspace: WS,
          scope: 'admin',
          label: 'first',
          createdAt: T0,
        });
        await store.addApiKey({
          keyHash: 'b'.repeat(64),
          workspace: WS,
          scope: 'decide',
          label: 'second',
          createdAt: T0,
        });
        await store.addApiKey({
          keyHash: 'c'.repeat(64),
          workspace: OTHER_WS,
          scope: 'admin',
          label: 'other',
          createdAt: T0,
        });
        expect(await store.countApiKeys(WS)).toBe(2);
      });

      it('counts zero keys for a workspace without any', async () => {
        expect(await store.countApiKeys(WS)).toBe(0);
      });
    });

    describe('agent configs', () => {
      const V1 = {
        id: 'winback',
        holdout: 0.1,
        policy: { kind: 'logistic-ts', floor: 0.05 },
        dimensions: [{ id: 'channel', arms: ['email', 'sms'] }],
      };
      const V2 = { ...V1, holdout: 0.2 };

      it('stores the first config as version 1 and reports it changed', async () => {
        const result = await store.putAgentConfig(WS, 'winback', V1, 'alice', T0);
        expect(result).toEqual({
          changed: true,
          row: { workspace: WS, agentId: 'winback', version: 1, config: V1, createdAt: T0, actor: 'alice' },
        });
      });

      it('keeps the version and reports no change when the same config is put again', async () => {
        await store.putAgentConfig(WS, 'winback', V1, 'alice', T0);
        const again = await store.putAgentConfig(WS, 'winback', structuredClone(V1), 'bob', T0 + 1);
        expect(again).toEqual({
          changed: false,
          row: { workspace: WS, agentId: 'winback', version: 1, config: V1, createdAt: T0, actor: 'alice' },
        });
      });

      it('stores a different config as the next version', async () => {
        await store.putAgentConfig(WS, 'winback', V1, 'alice', T0);
        const result = await store.putAgentConfig(WS, 'winback', V2, 'bob', T0 + 1);
        expect(result).toEqual({
          changed: true,
          row: { workspace: WS, agentId: 'winback', version: 2, config: V2, createdAt: T0 + 1, actor: 'bob' },
        });
      });

      it('returns the latest config when no version is asked for', async () => {
        await store.putAgentConfig(WS, 'winback', V1, 'alice', T0);
        await store.putAgentConfig(WS, 'winback', V2, 'bob', T0 + 1);
        expect(await store.getAgentConfig(WS, 'winback')).toMatchObject({ version: 2, config: V2, actor: 'bob' });
      });

      it('returns an earlier version when asked for it', async () => {
        await store.putAgentConfig(WS, 'winback', V1, 'alice', T0);
        await store.putAgentConfig(WS, 'winback', V2, 'bob', T0 + 1);
        expect(await store.getAgentConfig(WS, 'winback', 1)).toEqual({
          workspace: WS,
          agentId: 'winback',
          version: 1,
          config: V1,
          createdAt: T0,
          actor: 'alice',
        });
      });

      it('returns undefined for an unknown agent or version', async () => {
        await store.putAgentConfig(WS, 'winback', V1, 'alice', T0);
        expect([
          await store.getAgentConfig(WS, 'nobody'),
          await store.getAgentConfig(WS, 'winback', 2),
          await store.getAgentConfig(OTHER_WS, 'winback'),
        ]).toEqual([undefined, undefined, undefined]);
      });

      it('lists the latest config of each agent of the workspace', async () => {
        await store.putAgentConfig(WS, 'winback', V1, 'alice', T0);
        await store.putAgentConfig(WS, 'winback', V2, 'alice', T0 + 1);
        await store.putAgentConfig(WS, 'welcome', { ...V1, id: 'welcome' }, 'alice', T0 + 2);
        await store.putAgentConfig(OTHER_WS, 'winback', V1, 'alice', T0 + 3);
        const listed = (await store.listAgentConfigs(WS)).map((r) => [r.agentId, r.version]).sort();
        expect(listed).toEqual([
          ['welcome', 1],
          ['winback', 2],
        ]);
      });

      it('audits a create and an update, newest first', async () => {
        await store.putAgentConfig(WS, 'winback', V1, 'alice', T0);
        await store.putAgentConfig(WS, 'winback', V2, 'bob', T0 + 1);
        const log = await store.auditLog(WS, 10);
        expect(log).toMatchObject([
          {
            workspace: WS,
            at: T0 + 1,
            actor: 'bob',
            action: 'agent.update',
            target: 'winback',
            detail: { version: 2 },
          },
          { workspace: WS, at: T0, actor: 'alice', action: 'agent.create', target: 'winback', detail: { version: 1 } },
        ]);
      });

      it('does not audit a put that changed nothing', async () => {
        await store.putAgentConfig(WS, 'winback', V1, 'alice', T0);
        await store.putAgentConfig(WS, 'winback', V1, 'bob', T0 + 1);
        expect(await store.auditLog(WS, 10)).toHaveLength(1);
      });

      it('caps the audit log at the requested number of entries and keeps workspaces apart', async () => {
        for (let i = 0; i < 4; i++)
          await store.putAgentConfig(WS, 'winback', { ...V1, holdout: i / 10 }, 'alice', T0 + i);
        await store.putAgentConfig(OTHER_WS, 'winback', V1, 'alice', T0 + 10);
        expect((await store.auditLog(WS, 2)).map((r) => r.at)).toEqual([T0 + 3, T0 + 2]);
      });
    });

    describe('withUser', () => {
      it('returns what the unit of work returns', async () => {
        expect(await store.withUser(WS, 'user-a', async () => 42)).toBe(42);
      });

      it('commits the writes of a unit of work only when it ends', async () => {
        const d = makeDecision();
        let during: DecisionRow | undefined = d;
        await store.withUser(WS, d.userKey, async (tx) => {
          await tx.insertDecision(d, makeSend(d));
          during = await store.getDecision(WS, d.decisionId);
        });
        expect(during).toBeUndefined();
        expect(await store.getDecision(WS, d.decisionId)).toEqual(d);
      });

      it('commits the send with its decision', async () => {
        const d = makeDecision();
        await logDecision(store, d, makeSend(d));
        expect(await sendsOf(store, WS, d.userKey)).toEqual([recent(makeSend(d))]);
      });

      it('stores no send for a decision logged without one', async () => {
        await logDecision(store, makeDecision());
        expect(await sendsOf(store, WS, 'user-a')).toEqual([]);
      });

      it('discards every write when the unit of work throws', async () => {
        const d = makeDecision();
        const failing = store.withUser(WS, d.userKey, async (tx) => {
          await tx.insertDecision(d, makeSend(d));
          throw new Error('profile source down');
        });
        await expect(failing).rejects.toThrow('profile source down');
        expect([await store.getDecision(WS, d.decisionId), await sendsOf(store, WS, d.userKey)]).toEqual([
          undefined,
          [],
        ]);
      });

      it('sees only committed sends at or after `since`, of this user and workspace', async () => {
        const sends = [T0 - 1, T0, T0 + 1].map((at) => {
          const d = makeDecision({ at });
          return { d, send: makeSend(d) };
        });
        for (const { d, send } of sends) await logDecision(store, d, send);
        const otherUser = makeDecision({ userKey: 'user-b', at: T0 });
        await logDecision(store, otherUser, makeSend(otherUser));
        const otherWorkspace = makeDecision({ workspace: OTHER_WS, at: T0 });
        await logDecision(store, otherWorkspace, makeSend(otherWorkspace));

        const seen = await sendsOf(store, WS, 'user-a', T0);
        expect([...seen].sort((a, b) => a.at - b.at)).toEqual([recent(sends[1].send), recent(sends[2].send)]);
      });

      it('keeps a null channel of a send', async () => {
        const d = makeDecision();
        await logDecision(store, d, makeSend(d, { channel: null }));
        expect(await sendsOf(store, WS, d.userKey)).toEqual([recent(makeSend(d, { channel: null }))]);
      });

      it('never interleaves concurrent units of work of the same user', async () => {
        let active = 0;
        let maxActive = 0;
        const counted: number[] = [];
        const unit = (i: number) =>
          store.withUser(WS, 'user-a', async (tx) => {
            active++;
            maxActive = Math.max(maxActive, active);
            const before = (await tx.sendsSince(0)).length;
            await delay(5); // a read-then-write that yields to the event loop in between
            const d = makeDecision({ at: T0 + i });
            await tx.insertDecision(d, makeSend(d));
            counted.push(before);
            active--;
          });
        await Promise.all([0, 1, 2, 3, 4].map(unit));
        expect({ maxActive, counted }).toEqual({ maxActive: 1, counted: [0, 1, 2, 3, 4] });
      });

      it('runs units of work of different users concurrently', async () => {
        let userBStarted!: () => void;
        const started = new Promise<void>((resolve) => (userBStarted = resolve));
        const a = store.withUser(WS, 'user-a', async () => {
          await within(started, 2000, "user-b's unit of work did not start while user-a's was running");
          return 'a';
        });
        const b = store.withUser(WS, 'user-b', async () => {
          userBStarted();
          return 'b';
        });
        await expect(Promise.all([a, b])).resolves.toEqual(['a', 'b']);
      });

      it('runs the same user key of different workspaces concurrently', async () => {
        let otherStarted!: () => void;
        const started = new Promise<void>((resolve) => (otherStarted = resolve));
        const a = store.withUser(WS, 'user-a', async () => {
          await within(started, 2000, "the other workspace's unit of work did not start");
          return 'a';
        });
        const b = store.withUser(OTHER_WS, 'user-a', async () => {
          otherStarted();
          return 'b';
        });
        await expect(Promise.all([a, b])).resolves.toEqual(['a', 'b']);
      });

      it('lets the next unit of work of a user run after one that threw', async () => {
        await expect(
          store.withUser(WS, 'user-a', async () => {
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(
          await within(
            store.withUser(WS, 'user-a', async () => 'next'),
            2000,
            'the user stayed locked',
          ),
        ).toBe('next');
      });
    });

    describe('request ids', () => {
      it('rejects a second decision with the same requestId and keeps the first', async () => {
        const first = makeDecision({ requestId: 'req-1' });
        await logDecision(store, first);
        const second = makeDecision({ requestId: 'req-1', at: T0 + 1 });
        await expect(logDecision(store, second)).rejects.toThrow();
        expect([
          await store.findDecisionByRequest(WS, 'winback', 'req-1'),
          await store.getDecision(WS, second.decisionId),
        ]).toEqual([first, undefined]);
      });

      it('stores no send of the rejected duplicate', async () => {
        await logDecision(store, makeDecision({ requestId: 'req-1' }));
        const second = makeDecision({ requestId: 'req-1', at: T0 + 1 });
        await expect(logDecision(store, second, makeSend(second))).rejects.toThrow();
        expect(await sendsOf(store, WS, 'user-a')).toEqual([]);
      });

      it('rejects the duplicate with AlreadyStoredError, whatever the database', async () => {
        await logDecision(store, makeDecision({ requestId: 'req-1' }));
        await expect(logDecision(store, makeDecision({ requestId: 'req-1' }))).rejects.toBeInstanceOf(
          AlreadyStoredError,
        );
      });

      it('rejects a second decision with the same id with AlreadyStoredError', async () => {
        const first = makeDecision();
        await logDecision(store, first);
        await expect(logDecision(store, { ...makeDecision(), decisionId: first.decisionId })).rejects.toBeInstanceOf(
          AlreadyStoredError,
        );
      });

      it('accepts the same requestId for another agent', async () => {
        await logDecision(store, makeDecision({ requestId: 'req-1' }));
        const other = makeDecision({ agentId: 'welcome', requestId: 'req-1' });
        await logDecision(store, other);
        expect(await store.findDecisionByRequest(WS, 'welcome', 'req-1')).toEqual(other);
      });

      it('accepts any number of decisions without a requestId', async () => {
        const rows = [makeDecision(), makeDecision(), makeDecision()];
        for (const d of rows) await logDecision(store, d);
        expect(await store.listDecisions(WS, 'winback', 10)).toHaveLength(3);
      });
    });

    describe('decisions', () => {
      const ROUND_TRIPS: [string, Partial<DecisionRow>][] = [
        [
          'a delivered, learned decision with a request id and a reward',
          {
            requestId: 'req-rt',
            holdout: false,
            deliver: true,
            reason: 'exploit',
            probability: 0.0625,
            reward: 0.75,
            learned: true,
            body: RICH_BODY,
          },
        ],
        [
          'a holdout decision without request id or reward',
          {
            requestId: null,
            holdout: true,
            deliver: false,
            reason: 'holdout',
            probability: 1,
            reward: null,
            learned: false,
            body: RICH_BODY,
          },
        ],
        [
          'a decision with a zero reward and a tiny probability',
          {
            requestId: 'req-zero',
            reason: 'explore',
            probability: 1e-7,
            reward: 0,
            learned: true,
            agentVersion: 7,
            body: { choices: {}, features: [] },
          },
        ],
      ];

      it.each(ROUND_TRIPS)('round-trips every field of %s through getDecision', async (_label, overrides) => {
        const d = makeDecision(overrides);
        await logDecision(store, d);
        expect(await store.getDecision(WS, d.decisionId)).toStrictEqual(d);
      });

      it('round-trips every field through findDecisionByRequest', async () => {
        const d = makeDecision(ROUND_TRIPS[0][1]);
        await logDecision(store, d);
        expect(await store.findDecisionByRequest(WS, d.agentId, 'req-rt')).toStrictEqual(d);
      });

      it('returns undefined for an unknown decision or request, and across workspaces', async () => {
        const d = makeDecision({ requestId: 'req-1' });
        await logDecision(store, d);
        expect([
          await store.getDecision(WS, 'no-such-decision'),
          await store.findDecisionByRequest(WS, 'winback', 'req-2'),
          await store.getDecision(OTHER_WS, d.decisionId),
          await store.findDecisionByRequest(OTHER_WS, 'winback', 'req-1'),
        ]).toEqual([undefined, undefined, undefined, undefined]);
      });

      it('returns the latest decision of each agent made at or before `at`', async () => {
        const a1 = makeDecision({ agentId: 'a', at: T0 });
        const a2 = makeDecision({ agentId: 'a', at: T0 + HOUR_MS });
        const b1 = makeDecision({ agentId: 'b', at: T0 + 2 * HOUR_MS });
        for (const d of [a1, a2, b1]) await logDecision(store, d);
        expect(byAgent(await store.latestDecisions(WS, 'user-a', ALL_AGENTS, T0 + 3 * HOUR_MS))).toEqual(
          [a2, b1].map(head),
        );
      });

      it('returns one decision per agent when two decisions of that agent share the latest `at`', async () => {
        // Two decisions of one user and agent in the same millisecond (decide:batch with the user twice).
        const [first, second] = [makeDecision({ at: T0 }), makeDecision({ at: T0 })];
        for (const d of [first, second]) await logDecision(store, d);
        const latest = await store.latestDecisions(WS, 'user-a', ALL_AGENTS, T0 + HOUR_MS);
        expect(latest.map((d) => d.agentId)).toEqual(['winback']);
      });

      it('leaves decisions made after `at` out of latestDecisions', async () => {
        const early = makeDecision({ at: T0 });
        await logDecision(store, early);
        await logDecision(store, makeDecision({ at: T0 + 2 * HOUR_MS }));
        expect(await store.latestDecisions(WS, 'user-a', ALL_AGENTS, T0 + HOUR_MS)).toEqual([head(early)]);
      });

      it('counts a decision made exactly at `at`', async () => {
        const d = makeDecision({ at: T0 });
        await logDecision(store, d);
        expect(await store.latestDecisions(WS, 'user-a', ALL_AGENTS, T0)).toEqual([head(d)]);
      });

      it('returns nothing from latestDecisions once the window is past', async () => {
        const d = makeDecision({ at: T0 });
        await logDecision(store, d);
        expect([
          await store.latestDecisions(WS, 'user-a', ALL_AGENTS, d.windowEnd - 1),
          await store.latestDecisions(WS, 'user-a', ALL_AGENTS, d.windowEnd),
          await store.latestDecisions(WS, 'user-a', ALL_AGENTS, d.windowEnd + HOUR_MS),
        ]).toEqual([[head(d)], [], []]);
      });

      it("leaves other users' and workspaces' decisions out of latestDecisions", async () => {
        await logDecision(store, makeDecision({ userKey: 'user-b' }));
        await logDecision(store, makeDecision({ workspace: OTHER_WS }));
        expect(await store.latestDecisions(WS, 'user-a', ALL_AGENTS, T0 + HOUR_MS)).toEqual([]);
      });

      it("lists an agent's decisions, the last logged first", async () => {
        const rows = [T0 + 2, T0, T0 + 1].map((at) => makeDecision({ at, userKey: `user-${at}` }));
        for (const d of rows) await logDecision(store, d);
        expect((await store.listDecisions(WS, 'winback', 10)).map((d) => d.at)).toEqual([T0 + 1, T0, T0 + 2]);
      });

      it('caps listDecisions at `limit`, keeping the newest', async () => {
        for (let i = 0; i < 5; i++) await logDecision(store, makeDecision({ at: T0 + i }));
        expect((await store.listDecisions(WS, 'winback', 2)).map((d) => d.at)).toEqual([T0 + 4, T0 + 3]);
      });

      it('lists only the decisions of the asked agent and workspace', async () => {
        const mine = makeDecision();
        await logDecision(store, mine);
        await logDecision(store, makeDecision({ agentId: 'welcome' }));
        await logDecision(store, makeDecision({ workspace: OTHER_WS }));
        expect(await store.listDecisions(WS, 'winback', 10)).toEqual([mine]);
      });
    });

    describe('events and outcomes', () => {
      it('inserts events with new messageIds and reports them inserted', async () => {
        const events = [
          makeEvent(),
          makeEvent({ type: 'identify', event: null, userKey: null, body: { traits: { plan: 'pro' } } }),
        ];
        expect(await store.recordEvents(events, [])).toEqual({
          inserted: events.map((e) => e.messageId),
          duplicates: [],
        });
        expect(await store.countEvents(WS)).toBe(2);
      });

      it('reports already stored messageIds as duplicates and does not insert them again', async () => {
        const first = makeEvent();
        await store.recordEvents([first], []);
        const fresh = makeEvent();
        expect(await store.recordEvents([first, fresh], [])).toEqual({
          inserted: [fresh.messageId],
          duplicates: [first.messageId],
        });
        expect(await store.countEvents(WS)).toBe(2);
      });

      it('reports a messageId repeated within one call as a duplicate', async () => {
        const e = makeEvent();
        expect(await store.recordEvents([e, { ...e }], [])).toEqual({
          inserted: [e.messageId],
          duplicates: [e.messageId],
        });
      });

      it('treats the same messageId in another workspace as new', async () => {
        const e = makeEvent();
        await store.recordEvents([e], []);
        expect(await store.recordEvents([{ ...e, workspace: OTHER_WS }], [])).toEqual({
          inserted: [e.messageId],
          duplicates: [],
        });
      });

      it('stores the outcomes of new events', async () => {
        const d = makeDecision();
        await logDecision(store, d);
        const e = makeEvent();
        const o = makeOutcome(d, e, { value: 0.4 });
        await store.recordEvents([e], [o]);
        expect(await store.outcomesOf(WS, d.decisionId)).toEqual([o]);
      });

      it('does not store the outcomes of duplicate events', async () => {
        const d1 = makeDecision();
        const d2 = makeDecision({ agentId: 'welcome' });
        for (const d of [d1, d2]) await logDecision(store, d);
        const e = makeEvent();
        await store.recordEvents([e], [makeOutcome(d1, e)]);
        await store.recordEvents([e], [makeOutcome(d2, e)]);
        expect([await store.outcomesOf(WS, d1.decisionId), await store.outcomesOf(WS, d2.decisionId)]).toEqual([
          [makeOutcome(d1, e)],
          [],
        ]);
      });

      it('keeps the outcomes of the new events of a batch that also holds duplicates', async () => {
        const d = makeDecision();
        await logDecision(store, d);
        const old = makeEvent();
        await store.recordEvents([old], []);
        const fresh = makeEvent({ timestamp: T0 + 2 * HOUR_MS });
        await store.recordEvents([old, fresh], [makeOutcome(d, old), makeOutcome(d, fresh)]);
        expect(await store.outcomesOf(WS, d.decisionId)).toEqual([makeOutcome(d, fresh)]);
      });

      it("returns a decision's outcomes in time order", async () => {
        const d = makeDecision();
        await logDecision(store, d);
        const events = [3, 1, 2].map((h) => makeEvent({ timestamp: T0 + h * HOUR_MS }));
        await store.recordEvents(
          events,
          events.map((e) => makeOutcome(d, e)),
        );
        expect((await store.outcomesOf(WS, d.decisionId)).map((o) => o.at)).toEqual([
          T0 + HOUR_MS,
          T0 + 2 * HOUR_MS,
          T0 + 3 * HOUR_MS,
        ]);
      });

      it("returns only the asked decision's outcomes", async () => {
        const [d1, d2] = [makeDecision(), makeDecision({ agentId: 'welcome' })];
        for (const d of [d1, d2]) await logDecision(store, d);
        const e = makeEvent();
        await store.recordEvents([e], [makeOutcome(d1, e), makeOutcome(d2, e, { value: 0.1 })]);
        expect(await store.outcomesOf(WS, d2.decisionId)).toEqual([makeOutcome(d2, e, { value: 0.1 })]);
      });

      it('counts the events of one workspace only', async () => {
        await store.recordEvents([makeEvent(), makeEvent({ workspace: OTHER_WS })], []);
        expect(await store.countEvents(WS)).toBe(1);
      });
    });

    describe('learning', () => {
      const NOW = T0 + 100 * HOUR_MS;

      it('returns only closed, unlearned decisions of the agent, oldest window first', async () => {
        const closedLate = makeDecision({ windowEnd: T0 + 30 });
        const closedEarly = makeDecision({ windowEnd: T0 + 10 });
        const closedAtNow = makeDecision({ windowEnd: NOW });
        const open = makeDecision({ windowEnd: NOW + 1 });
        const learned = makeDecision({ windowEnd: T0 + 5, learned: true, reward: 1 });
        const otherAgent = makeDecision({ agentId: 'welcome', windowEnd: T0 + 1 });
        const otherWorkspace = makeDecision({ workspace: OTHER_WS, windowEnd: T0 + 1 });
        for (const d of [closedLate, closedEarly, closedAtNow, open, learned, otherAgent, otherWorkspace])
          await logDecision(store, d);
        const closed = await store.closedUnlearned(WS, 'winback', NOW, 100);
        expect(closed.map((d) => d.decisionId)).toEqual([
          closedEarly.decisionId,
          closedLate.decisionId,
          closedAtNow.decisionId,
        ]);
      });

      it('orders closed decisions of the same window end by decision id', async () => {
        for (const id of ['tie-c', 'tie-a', 'tie-b'])
          await logDecision(store, makeDecision({ decisionId: id, windowEnd: T0 + 10 }));
        expect((await store.closedUnlearned(WS, 'winback', NOW, 100)).map((d) => d.decisionId)).toEqual([
          'tie-a',
          'tie-b',
          'tie-c',
        ]);
      });

      it('continues closedUnlearned after a position, in the order of window end and decision id', async () => {
        for (const id of ['tie-c', 'tie-a', 'tie-b'])
          await logDecision(store, makeDecision({ decisionId: id, windowEnd: T0 + 10 }));
        await logDecision(store, makeDecision({ decisionId: 'early', windowEnd: T0 + 5 }));
        await logDecision(store, makeDecision({ decisionId: 'late', windowEnd: T0 + 20 }));
        const after = { windowEnd: T0 + 10, decisionId: 'tie-a' };
        expect((await store.closedUnlearned(WS, 'winback', NOW, 100, after)).map((d) => d.decisionId)).toEqual([
          'tie-b',
          'tie-c',
          'late',
        ]);
      });

      it('caps closedUnlearned at `limit`, keeping the oldest windows', async () => {
        for (let i = 5; i > 0; i--) await logDecision(store, makeDecision({ windowEnd: T0 + i }));
        expect((await store.closedUnlearned(WS, 'winback', NOW, 2)).map((d) => d.windowEnd)).toEqual([T0 + 1, T0 + 2]);
      });

      it('attaches each closed decision with its outcomes in time order', async () => {
        const d = makeDecision();
        await logDecision(store, d);
        const events = [2, 1].map((h) => makeEvent({ timestamp: T0 + h * HOUR_MS }));
        await store.recordEvents(
          events,
          events.map((e, i) => makeOutcome(d, e, { value: i + 1 })),
        );
        const [closed] = await store.closedUnlearned(WS, 'winback', NOW, 10);
        expect(closed).toEqual({
          ...d,
          outcomes: [makeOutcome(d, events[1], { value: 2 }), makeOutcome(d, events[0], { value: 1 })],
        });
      });

      it('attaches an empty outcome list to a decision without outcomes', async () => {
        const d = makeDecision();
        await logDecision(store, d);
        expect(await store.closedUnlearned(WS, 'winback', NOW, 10)).toEqual([{ ...d, outcomes: [] }]);
      });

      it('marks committed decisions learned with their reward', async () => {
        const [d1, d2] = [makeDecision(), makeDecision()];
        for (const d of [d1, d2]) await logDecision(store, d);
        await store.commitLearning(
          WS,
          'winback',
          [
            { decisionId: d1.decisionId, reward: 0.6 },
            { decisionId: d2.decisionId, reward: 0 },
          ],
          makeSnapshot(),
        );
        expect([await store.getDecision(WS, d1.decisionId), await store.getDecision(WS, d2.decisionId)]).toEqual([
          { ...d1, learned: true, reward: 0.6 },
          { ...d2, learned: true, reward: 0 },
        ]);
      });

      it('no longer returns committed decisions from closedUnlearned', async () => {
        const [d1, d2] = [makeDecision({ windowEnd: T0 + 1 }), makeDecision({ windowEnd: T0 + 2 })];
        for (const d of [d1, d2]) await logDecision(store, d);
        await store.commitLearning(WS, 'winback', [{ decisionId: d1.decisionId, reward: 1 }], makeSnapshot());
        expect((await store.closedUnlearned(WS, 'winback', NOW, 10)).map((d) => d.decisionId)).toEqual([d2.decisionId]);
      });

      it('keeps the first reward of a decision committed twice', async () => {
        const d = makeDecision();
        await logDecision(store, d);
        await store.commitLearning(WS, 'winback', [{ decisionId: d.decisionId, reward: 1 }], makeSnapshot());
        await store.commitLearning(WS, 'winback', [{ decisionId: d.decisionId, reward: 0 }], makeSnapshot());
        expect(await store.getDecision(WS, d.decisionId)).toMatchObject({ learned: true, reward: 1 });
      });

      it('numbers the snapshots of each agent 1, 2, 3, …', async () => {
        const seqs: number[] = [];
        for (let i = 0; i < 3; i++) seqs.push(await store.commitLearning(WS, 'winback', [], makeSnapshot()));
        seqs.push(await store.commitLearning(WS, 'welcome', [], makeSnapshot({ agentId: 'welcome' })));
        seqs.push(await store.commitLearning(OTHER_WS, 'winback', [], makeSnapshot({ workspace: OTHER_WS })));
        expect(seqs).toEqual([1, 2, 3, 1, 1]);
      });

      it.skipIf(!inspect)(`keeps only the last ${SNAPSHOTS_KEPT} snapshots of an agent`, async () => {
        for (let i = 0; i < SNAPSHOTS_KEPT + 2; i++)
          await store.commitLearning(WS, 'winback', [], makeSnapshot({ createdAt: T0 + i }));
        await store.commitLearning(WS, 'welcome', [], makeSnapshot({ agentId: 'welcome' }));
        const kept = Array.from({ length: SNAPSHOTS_KEPT }, (_, i) => i + 3);
        expect([
          bySeq(await inspect!.snapshotSeqs(store, WS, 'winback')),
          await inspect!.snapshotSeqs(store, WS, 'welcome'),
        ]).toEqual([kept, [1]]);
      });

      it('round-trips the JSON state through latestSnapshot', async () => {
        const state = {
          version: 1,
          policy: 'logistic-ts',
          dimensions: [
            {
              id: 'channel',
              arms: {
                email: {
                  mean: [0.1, -2.5e-8, 3],
                  precision: [
                    [1, 0],
                    [0, 1],
                  ],
                },
              },
            },
          ],
          seen: 1234,
          note: null,
          ok: true,
        };
        await store.commitLearning(WS, 'winback', [], makeSnapshot({ state: { old: true } }));
        const seq = await store.commitLearning(
          WS,
          'winback',
          [],
          makeSnapshot({ agentVersion: 3, state, createdAt: T0 + 5 }),
        );
        expect(await store.latestSnapshot(WS, 'winback')).toStrictEqual({
          workspace: WS,
          agentId: 'winback',
          seq,
          agentVersion: 3,
          state,
          createdAt: T0 + 5,
        });
      });

      it("reads the seq of the agent's latest snapshot without its state, undefined when there is none", async () => {
        await store.commitLearning(WS, 'winback', [], makeSnapshot());
        await store.commitLearning(WS, 'winback', [], makeSnapshot());
        expect([
          await store.latestSnapshotSeq(WS, 'winback'),
          await store.latestSnapshotSeq(WS, 'welcome'),
          await store.latestSnapshotSeq(OTHER_WS, 'winback'),
        ]).toEqual([2, undefined, undefined]);
      });

      it('returns undefined from latestSnapshot for an agent without snapshots', async () => {
        await store.commitLearning(WS, 'winback', [], makeSnapshot());
        expect([await store.latestSnapshot(WS, 'welcome'), await store.latestSnapshot(OTHER_WS, 'winback')]).toEqual([
          undefined,
          undefined,
        ]);
      });

      it("reports the oldest window end among the agent's unlearned decisions, closed or not", async () => {
        const rows = [
          makeDecision({ agentId: 'winback', windowEnd: T0 + 50 }),
          makeDecision({ agentId: 'welcome', windowEnd: T0 + 30 }),
          makeDecision({ windowEnd: T0 + 10, learned: true, reward: 0 }),
          makeDecision({ windowEnd: NOW + 1 }),
          makeDecision({ workspace: OTHER_WS, windowEnd: T0 + 1 }),
        ];
        for (const d of rows) await logDecision(store, d);
        expect([
          await store.oldestUnlearnedWindowEnd(WS, 'winback'),
          await store.oldestUnlearnedWindowEnd(WS, 'welcome'),
        ]).toEqual([T0 + 50, T0 + 30]);
      });

      it('reports no oldest window end when the agent has no unlearned decision', async () => {
        await logDecision(store, makeDecision({ windowEnd: T0, learned: true, reward: 1 }));
        await logDecision(store, makeDecision({ agentId: 'welcome', windowEnd: NOW + 1 }));
        expect(await store.oldestUnlearnedWindowEnd(WS, 'winback')).toBeUndefined();
      });
    });

    describe('bulk insert', () => {
      it('inserts decisions with their sends in one call, read back as if logged one by one', async () => {
        const [a, b] = [makeDecision(), makeDecision({ userKey: 'user-b', holdout: true })];
        await store.insertDecisions([{ decision: a, send: makeSend(a) }, { decision: b }]);
        expect({
          decisions: [await store.getDecision(WS, a.decisionId), await store.getDecision(WS, b.decisionId)],
          sends: await sendsOf(store, WS, 'user-a'),
        }).toEqual({ decisions: [a, b], sends: [recent(makeSend(a))] });
      });

      it('inserts nothing of a batch in which one decision id is already logged', async () => {
        const logged = makeDecision();
        await logDecision(store, logged);
        const fresh = makeDecision();
        await expect(
          store.insertDecisions([
            { decision: fresh },
            { decision: { ...makeDecision(), decisionId: logged.decisionId } },
          ]),
        ).rejects.toThrow();
        expect(await store.getDecision(WS, fresh.decisionId)).toBeUndefined();
      });
    });

    describe('report cells', () => {
      const DAY_MS = 24 * HOUR_MS;
      const DAY = Math.floor(T0 / DAY_MS);
      const cellsOf = async (workspace = WS, agentId = 'winback') =>
        (await store.reportCells(workspace, agentId)).sort(
          (x, y) =>
            x.day - y.day ||
            Number(x.holdout) - Number(y.holdout) ||
            `${x.dimension ?? ''}/${x.arm ?? ''}`.localeCompare(`${y.dimension ?? ''}/${y.arm ?? ''}`),
        );
      const cell = (overrides: Partial<ReportCell>): ReportCell => ({
        day: DAY,
        holdout: false,
        dimension: null,
        arm: null,
        decided: 0,
        closed: 0,
        rewardSum: 0,
        rewardSquares: 0,
        ...overrides,
      });

      it('counts decisions by holdout group, and treatment decisions by dimension and arm, as they are logged', async () => {
        await logDecision(store, makeDecision());
        await logDecision(store, makeDecision({ userKey: 'user-b' }));
        await logDecision(store, makeDecision({ userKey: 'user-c', holdout: true }));
        expect(await cellsOf()).toEqual([
          cell({ decided: 2 }),
          cell({ dimension: 'channel', arm: 'email', decided: 2 }),
          cell({ dimension: 'subject_line', arm: 'sl_plain', decided: 2 }),
          cell({ holdout: true, decided: 1 }),
        ]);
      });

      it('adds closed counts and reward moments when rewards are committed, once', async () => {
        const [a, b] = [makeDecision(), makeDecision({ userKey: 'user-b' })];
        for (const d of [a, b]) await logDecision(store, d);
        const rewards = [
          { decisionId: a.decisionId, reward: 1 },
          { decisionId: b.decisionId, reward: 0.5 },
        ];
        await store.commitLearning(WS, 'winback', rewards, makeSnapshot());
        await store.commitLearning(WS, 'winback', rewards, makeSnapshot());
        const closed = { decided: 2, closed: 2, rewardSum: 1.5, rewardSquares: 1.25 };
        expect(await cellsOf()).toEqual([
          cell(closed),
          cell({ dimension: 'channel', arm: 'email', ...closed }),
          cell({ dimension: 'subject_line', arm: 'sl_plain', ...closed }),
        ]);
      });

      it('splits cells by the UTC day of the decision', async () => {
        await logDecision(store, makeDecision({ body: { choices: {}, features: [] } }));
        await logDecision(store, makeDecision({ at: T0 + DAY_MS, body: { choices: {}, features: [] } }));
        expect(await cellsOf()).toEqual([cell({ decided: 1 }), cell({ day: DAY + 1, decided: 1 })]);
      });

      it('counts a decision inserted already learned as closed with its reward', async () => {
        await store.insertDecisions([
          { decision: makeDecision({ learned: true, reward: 0.5, body: { choices: {}, features: [] } }) },
        ]);
        expect(await cellsOf()).toEqual([cell({ decided: 1, closed: 1, rewardSum: 0.5, rewardSquares: 0.25 })]);
      });

      it("keeps other agents' and workspaces' decisions apart", async () => {
        await logDecision(store, makeDecision({ agentId: 'welcome' }));
        await logDecision(store, makeDecision({ workspace: OTHER_WS }));
        expect([await cellsOf(), await cellsOf(WS, 'nobody')]).toEqual([[], []]);
      });
    });

    describe('report groups and exploration', () => {
      const DAY_MS = 24 * HOUR_MS;
      const DAY = Math.floor(T0 / DAY_MS);
      const ALL_DAYS = [0, 100_000] as const;
      const groupsOf = async (agentId = 'winback', [from, to]: readonly [number, number] = ALL_DAYS) =>
        (await store.reportGroups(WS, agentId, from, to))
          .map(({ replicates, ...g }) => ({ ...g, replicated: replicates !== null }))
          .sort((x, y) => x.day - y.day || Number(x.holdout) - Number(y.holdout));
      const group = (overrides: Partial<ReportGroupDay> & { replicated?: boolean }) => ({
        day: DAY,
        holdout: false,
        users: 0,
        suppressed: { decided: 0, closed: 0, rewardSum: 0 },
        replicated: false,
        ...overrides,
      });

      it('counts each user once per agent and group, on the day of their first decision', async () => {
        await logDecision(store, makeDecision({ userKey: 'user-a' }));
        await logDecision(store, makeDecision({ userKey: 'user-a', at: T0 + DAY_MS }));
        await logDecision(store, makeDecision({ userKey: 'user-b', at: T0 + DAY_MS }));
        await logDecision(store, makeDecision({ userKey: 'user-c', holdout: true }));
        await logDecision(store, makeDecision({ userKey: 'user-c', holdout: true }));
        await logDecision(store, makeDecision({ userKey: 'user-a', agentId: 'welcome' }));
        expect(await groupsOf()).toEqual([
          group({ users: 1 }),
          group({ holdout: true, users: 1 }),
          group({ day: DAY + 1, users: 1 }),
        ]);
      });

      it('reads only the days asked for', async () => {
        await logDecision(store, makeDecision({ userKey: 'user-a' }));
        await logDecision(store, makeDecision({ userKey: 'user-b', at: T0 + 2 * DAY_MS }));
        expect(await groupsOf('winback', [DAY + 1, DAY + 2])).toEqual([group({ day: DAY + 2, users: 1 })]);
      });

      it('counts decisions suppressed by guardrails, and their rewards once committed', async () => {
        const suppressed = makeDecision({ reason: 'guardrail', deliver: false, body: { choices: {}, features: [] } });
        await logDecision(store, suppressed);
        await logDecision(store, makeDecision({ userKey: 'user-b' }));
        await store.commitLearning(WS, 'winback', [{ decisionId: suppressed.decisionId, reward: 0.5 }], makeSnapshot());
        expect(await groupsOf()).toEqual([
          group({ users: 2, suppressed: { decided: 1, closed: 1, rewardSum: 0.5 }, replicated: true }),
        ]);
      });

      it("keeps per replicate the sums of each closed reward weighted by its user's bootstrap weight", async () => {
        const decisions = [
          makeDecision({ userKey: 'user-a' }),
          makeDecision({ userKey: 'user-a' }),
          makeDecision({ userKey: 'user-b' }),
        ];
        for (const d of decisions) await logDecision(store, d);
        const rewards = [0.25, 1, 0.5];
        await store.commitLearning(
          WS,
          'winback',
          decisions.map((d, i) => ({ decisionId: d.decisionId, reward: rewards[i]! })),
          makeSnapshot(),
        );
        const expected = emptyReplicates();
        decisions.forEach((d, i) => addToReplicates(expected, userReplicateWeights(d.userKey), rewards[i]!));
        const [stored] = await store.reportGroups(WS, 'winback', ...ALL_DAYS);
        expect(Array.from(stored!.replicates!)).toEqual(Array.from(expected));
      });

      it('sums, per dimension, the decisions whose arm the policy drew, how many explored, and the mass off the best arm', async () => {
        const body = (channel: number, channelBest: number) => ({
          choices: {
            channel: {
              arm: 'email',
              probability: channel,
              reason: channel < channelBest ? 'explore' : 'exploit',
              best: channelBest,
            },
            subject_line: { arm: 'sl_plain', probability: 0.5 },
          },
          features: [],
        });
        await logDecision(store, makeDecision({ body: body(0.75, 0.75) }));
        await logDecision(store, makeDecision({ body: body(0.25, 0.5) }));
        await logDecision(store, makeDecision({ holdout: true, body: body(0.25, 0.5) }));
        expect(await store.reportExploration(WS, 'winback', ...ALL_DAYS)).toEqual([
          { day: DAY, dimension: 'channel', decided: 2, explored: 1, offBest: 0.75 },
        ]);
      });

      it('forgets an erased user, so that their next decision counts them again', async () => {
        await logDecision(store, makeDecision({ userKey: 'user-a' }));
        await store.eraseUser(WS, 'user-a');
        await logDecision(store, makeDecision({ userKey: 'user-a' }));
        expect(await groupsOf()).toEqual([group({ users: 2 })]);
      });
    });

    describe('retention', () => {
      const LATER = T0 + 30 * 24 * HOUR_MS;

      it('deletes decisions made and closed before the cutoff, with their outcomes and sends, oldest first and at most `limit`', async () => {
        const old = [0, 1, 2].map((i) => makeDecision({ at: T0 + i, userKey: `user-${i}`, learned: true, reward: 1 }));
        for (const d of old) await logDecision(store, d, makeSend(d));
        const event = makeEvent({ userKey: 'user-0' });
        await store.recordEvents([event], [makeOutcome(old[0], event)]);
        const recent = makeDecision({ at: LATER });
        await logDecision(store, recent);
        expect(await store.prune(LATER, 2)).toMatchObject({ decisions: 2 });
        expect(await store.prune(LATER, 2)).toMatchObject({ decisions: 1 });
        expect({
          decisions: await Promise.all(
            [...old, recent].map(async (d) => (await store.getDecision(WS, d.decisionId))?.decisionId),
          ),
          outcomes: await store.outcomesOf(WS, old[0].decisionId),
          sends: (await Promise.all(old.map((d) => sendsOf(store, WS, d.userKey)))).flat(),
        }).toEqual({ decisions: [undefined, undefined, undefined, recent.decisionId], outcomes: [], sends: [] });
      });

      it('keeps a decision whose window is still open at the cutoff', async () => {
        const open = makeDecision({ at: T0, windowEnd: LATER + 1 });
        await logDecision(store, open);
        expect(await store.prune(LATER, 10)).toMatchObject({ decisions: 0 });
        expect(await store.getDecision(WS, open.decisionId)).toEqual(open);
      });

      it('deletes events received before the cutoff, oldest first', async () => {
        await store.recordEvents(
          [makeEvent({ receivedAt: T0 }), makeEvent({ receivedAt: T0 + 1 }), makeEvent({ receivedAt: LATER })],
          [],
        );
        expect(await store.prune(LATER, 10)).toEqual({ decisions: 0, events: 2 });
        expect(await store.countEvents(WS)).toBe(1);
      });

      it('keeps the report cells of the decisions it deletes', async () => {
        await logDecision(store, makeDecision({ learned: true, reward: 1 }));
        const before = await store.reportCells(WS, 'winback');
        await store.prune(LATER, 10);
        expect(await store.reportCells(WS, 'winback')).toEqual(before);
      });
    });

    describe('eraseUser', () => {
      /** user-a in WS: two decisions (one sent), two events (one earning outcomes on both decisions), one identify. */
      async function seed(workspace: string, userKey: string) {
        const decisions = [
          makeDecision({ workspace, userKey }),
          makeDecision({ workspace, userKey, agentId: 'welcome' }),
        ];
        await logDecision(store, decisions[0], makeSend(decisions[0]));
        await logDecision(store, decisions[1]);
        const order = makeEvent({ workspace, userKey });
        const identify = makeEvent({ workspace, userKey, type: 'identify', event: null });
        await store.recordEvents(
          [order, identify],
          [makeOutcome(decisions[0], order), makeOutcome(decisions[1], order)],
        );
        return { decisions };
      }

      it("removes the user's decisions, outcomes, events and sends and reports the counts", async () => {
        const { decisions } = await seed(WS, 'user-a');
        expect(await store.eraseUser(WS, 'user-a')).toEqual({
          decisions: 2,
          outcomes: 2,
          events: 2,
          sends: 1,
          deliveries: 0,
          audienceMemberships: 0,
        });
        expect({
          decisions: await Promise.all(decisions.map((d) => store.getDecision(WS, d.decisionId))),
          outcomes: await Promise.all(decisions.map((d) => store.outcomesOf(WS, d.decisionId))),
          events: await store.countEvents(WS),
          sends: await sendsOf(store, WS, 'user-a'),
          latest: await store.latestDecisions(WS, 'user-a', ALL_AGENTS, T0 + HOUR_MS),
        }).toEqual({ decisions: [undefined, undefined], outcomes: [[], []], events: 0, sends: [], latest: [] });
      });

      it("leaves other users' rows, and the same user in other workspaces", async () => {
        await seed(WS, 'user-a');
        const b = await seed(WS, 'user-b');
        const other = await seed(OTHER_WS, 'user-a');
        await store.eraseUser(WS, 'user-a');
        const left = async (workspace: string, userKey: string, decisions: DecisionRow[]) => ({
          decisions: (await Promise.all(decisions.map((d) => store.getDecision(workspace, d.decisionId)))).filter(
            Boolean,
          ).length,
          outcomes: (await Promise.all(decisions.map((d) => store.outcomesOf(workspace, d.decisionId)))).flat().length,
          events: await store.countEvents(workspace),
          sends: (await sendsOf(store, workspace, userKey)).length,
        });
        expect([await left(WS, 'user-b', b.decisions), await left(OTHER_WS, 'user-a', other.decisions)]).toEqual([
          { decisions: 2, outcomes: 2, events: 2, sends: 1 },
          { decisions: 2, outcomes: 2, events: 2, sends: 1 },
        ]);
      });

      it('reports zero counts for a user without rows', async () => {
        expect(await store.eraseUser(WS, 'nobody')).toEqual({
          decisions: 0,
          outcomes: 0,
          events: 0,
          sends: 0,
          deliveries: 0,
          audienceMemberships: 0,
        });
      });

      it("erases the user's queued and delivered deliveries, whose payload holds the raw id", async () => {
        await store.createRun(makeRun());
        await store.advanceRun(
          WS,
          'run-1',
          [
            makeDelivery({ userKey: 'user-a' }),
            makeDelivery({ userKey: 'user-a', sink: 'hubspot:contact_properties:nb_' }),
            makeDelivery({ userKey: 'user-b' }),
          ],
          { position: 3 },
          T0,
        );
        expect((await store.eraseUser(WS, 'user-a')).deliveries).toBe(2);
        expect((await store.deliveriesOf(WS, 'run-1', SINK, ['pending'], 10)).map((d) => d.userKey)).toEqual([
          'user-b',
        ]);
      });
    });

    describe('audience membership', () => {
      const seen = (overrides: Partial<AudienceMemberRow> = {}): AudienceMemberRow => ({
        workspace: WS,
        audience: 'vip',
        userKey: 'key-a',
        userId: 'user-a',
        member: true,
        at: T0,
        ...overrides,
      });
      const membersOf = async (workspace: string, audience: string) =>
        (await store.audienceMembers(workspace, audience, 0, 100)).map((m) => m.userId);

      it('lists the members of an audience in the order first recorded', async () => {
        await store.recordAudienceMembership([seen({ userKey: 'key-b', userId: 'user-b' }), seen()]);
        await store.recordAudienceMembership([seen({ userKey: 'key-b', userId: 'user-b', at: T0 + 1 })]);
        expect(await membersOf(WS, 'vip')).toEqual(['user-b', 'user-a']);
      });

      it('removes a user who left, and keeps the tombstone against an older observation delivered late', async () => {
        await store.recordAudienceMembership([seen(), seen({ member: false, at: T0 + HOUR_MS })]);
        await store.recordAudienceMembership([seen({ at: T0 + 1 })]);
        expect(await membersOf(WS, 'vip')).toEqual([]);
        expect(await store.audienceMembership(WS, 'vip', 'key-a')).toEqual({ member: false, at: T0 + HOUR_MS });
      });

      it('pages through the members after a position', async () => {
        const users = Array.from({ length: 5 }, (_, i) => seen({ userKey: `key-${i}`, userId: `user-${i}` }));
        await store.recordAudienceMembership(users);
        const first = await store.audienceMembers(WS, 'vip', 0, 2);
        const rest = await store.audienceMembers(WS, 'vip', first[1].position, 10);
        expect([...first, ...rest].map((m) => m.userId)).toEqual(users.map((u) => u.userId));
      });

      it('keeps audiences and workspaces apart', async () => {
        await store.recordAudienceMembership([
          seen(),
          seen({ audience: 'churn_risk', userKey: 'key-b', userId: 'user-b' }),
          seen({ workspace: OTHER_WS, userKey: 'key-c', userId: 'user-c' }),
        ]);
        expect([
          await membersOf(WS, 'vip'),
          await membersOf(WS, 'churn_risk'),
          await membersOf(OTHER_WS, 'vip'),
        ]).toEqual([['user-a'], ['user-b'], ['user-c']]);
        expect(await store.audienceMembership(WS, 'vip', 'key-b')).toBeUndefined();
      });

      it("erases the user's memberships with the user, and no one else's", async () => {
        await store.recordAudienceMembership([
          seen(),
          seen({ audience: 'churn_risk', member: false }),
          seen({ userKey: 'key-b', userId: 'user-b' }),
          seen({ workspace: OTHER_WS }),
        ]);
        expect((await store.eraseUser(WS, 'key-a')).audienceMemberships).toBe(2);
        expect(await membersOf(WS, 'vip')).toEqual(['user-b']);
        expect(await store.audienceMembership(WS, 'churn_risk', 'key-a')).toBeUndefined();
        expect(await membersOf(OTHER_WS, 'vip')).toEqual(['user-a']);
      });
    });

    describe('runs', () => {
      it('creates a run and reads it back', async () => {
        const run = makeRun({ checkpoint: { position: 0 } });
        await store.createRun(run);
        expect(await store.getRun(WS, 'run-1')).toEqual(run);
        expect(await store.getRun(OTHER_WS, 'run-1')).toBeUndefined();
      });

      it('refuses a second run with the same id', async () => {
        await store.createRun(makeRun());
        await expect(store.createRun(makeRun())).rejects.toThrow();
      });

      it('updates only the fields given', async () => {
        await store.createRun(makeRun({ checkpoint: { position: 5 } }));
        await store.updateRun(WS, 'run-1', { status: 'completed', summary: { delivered: 4 } }, T0 + 10);
        expect(await store.getRun(WS, 'run-1')).toMatchObject({
          status: 'completed',
          checkpoint: { position: 5 },
          summary: { delivered: 4 },
          updatedAt: T0 + 10,
        });
      });

      it('lists the newest first', async () => {
        await store.createRun(makeRun({ runId: 'old', createdAt: T0 }));
        await store.createRun(makeRun({ runId: 'new', createdAt: T0 + 1 }));
        expect((await store.listRuns(WS, 10)).map((r) => r.runId)).toEqual(['new', 'old']);
      });
    });

    describe('delivery outbox', () => {
      beforeEach(async () => {
        await store.createRun(makeRun());
      });

      it('queues deliveries and saves the checkpoint together', async () => {
        const queued = await store.advanceRun(
          WS,
          'run-1',
          [makeDelivery({ decisionId: 'd1' }), makeDelivery({ decisionId: 'd2' })],
          { position: 2 },
          T0 + 5,
        );
        expect(queued).toBe(2);
        expect((await store.getRun(WS, 'run-1'))?.checkpoint).toEqual({ position: 2 });
        expect((await store.deliveriesOf(WS, 'run-1', SINK, ['pending'], 10)).map((d) => d.decisionId)).toEqual([
          'd1',
          'd2',
        ]);
      });

      it('never queues the same decision twice for a sink, whatever its state', async () => {
        await store.advanceRun(WS, 'run-1', [makeDelivery({ decisionId: 'd1' })], { position: 1 }, T0);
        await store.setDeliveryStatus(WS, SINK, [{ decisionId: 'd1', status: 'delivered' }], T0 + 1);
        const queued = await store.advanceRun(
          WS,
          'run-1',
          [makeDelivery({ decisionId: 'd1' }), makeDelivery({ decisionId: 'd1', sink: 'other' })],
          { position: 1 },
          T0 + 2,
        );
        expect(queued).toBe(1);
        expect(
          (await store.deliveriesOf(WS, 'run-1', SINK, ['pending', 'sending', 'delivered', 'failed'], 10)).map(
            (d) => d.status,
          ),
        ).toEqual(['delivered']);
      });

      it('moves deliveries through their states, counting attempts', async () => {
        await store.advanceRun(
          WS,
          'run-1',
          [makeDelivery({ decisionId: 'd1' }), makeDelivery({ decisionId: 'd2' })],
          { position: 2 },
          T0,
        );
        await store.setDeliveryStatus(
          WS,
          SINK,
          [
            { decisionId: 'd1', status: 'sending', attempt: true },
            { decisionId: 'd2', status: 'sending', attempt: true },
          ],
          T0 + 1,
        );
        await store.setDeliveryStatus(
          WS,
          SINK,
          [
            { decisionId: 'd1', status: 'delivered' },
            { decisionId: 'd2', status: 'pending', error: 'rate limited' },
          ],
          T0 + 2,
        );
        const rows = await store.deliveriesOf(WS, 'run-1', SINK, ['pending', 'delivered'], 10);
        expect(rows.map((r) => [r.decisionId, r.status, r.attempts, r.error, r.updatedAt])).toEqual([
          ['d1', 'delivered', 1, null, T0 + 2],
          ['d2', 'pending', 1, 'rate limited', T0 + 2],
        ]);
      });

      it('keeps the payload as given', async () => {
        const payload = {
          userId: 'raw-id-1',
          choices: { channel: { arm: 'email', probability: 0.5 } },
          sendAt: '2026-01-01T18:00:00.000Z',
        };
        await store.advanceRun(WS, 'run-1', [makeDelivery({ decisionId: 'd1', payload })], { position: 1 }, T0);
        expect((await store.deliveriesOf(WS, 'run-1', SINK, ['pending'], 1))[0].payload).toEqual(payload);
      });

      it('gives each sink of a decision the payload they were queued with, also when one of them was queued before', async () => {
        const payload = { userId: 'raw-id-1', choices: { channel: { arm: 'email', probability: 0.5 } } };
        await store.advanceRun(WS, 'run-1', [makeDelivery({ decisionId: 'd1', payload })], { position: 1 }, T0);
        const queued = await store.advanceRun(
          WS,
          'run-1',
          [makeDelivery({ decisionId: 'd1', payload }), makeDelivery({ decisionId: 'd1', sink: 'other', payload })],
          { position: 1 },
          T0,
        );
        expect(queued).toBe(1);
        expect((await store.deliveriesOf(WS, 'run-1', SINK, ['pending'], 10)).map((d) => d.payload)).toEqual([payload]);
        expect((await store.deliveriesOf(WS, 'run-1', 'other', ['pending'], 10)).map((d) => d.payload)).toEqual([
          payload,
        ]);
        await store.setDeliveryStatus(WS, SINK, [{ decisionId: 'd1', status: 'delivered' }], T0);
        expect((await store.lastDelivered(WS, SINK, ['user-a'])).get('user-a')?.payload).toEqual(payload);
      });

      it('filters by run, sink and state, and honours the limit', async () => {
        await store.createRun(makeRun({ runId: 'run-2' }));
        await store.advanceRun(
          WS,
          'run-1',
          [
            makeDelivery({ decisionId: 'a' }),
            makeDelivery({ decisionId: 'b' }),
            makeDelivery({ decisionId: 'c', sink: 'other' }),
          ],
          { position: 3 },
          T0,
        );
        await store.advanceRun(WS, 'run-2', [makeDelivery({ decisionId: 'd', runId: 'run-2' })], { position: 1 }, T0);
        expect((await store.deliveriesOf(WS, 'run-1', SINK, ['pending'], 1)).map((d) => d.decisionId)).toEqual(['a']);
        expect(await store.deliveriesOf(WS, 'run-1', SINK, ['failed'], 10)).toEqual([]);
        expect((await store.deliveriesOf(WS, 'run-2', SINK, ['pending'], 10)).map((d) => d.decisionId)).toEqual(['d']);
      });

      it("counts a run's deliveries by sink, status and error", async () => {
        await store.advanceRun(
          WS,
          'run-1',
          [makeDelivery({ decisionId: 'a' }), makeDelivery({ decisionId: 'b' }), makeDelivery({ decisionId: 'c' })],
          { position: 3 },
          T0,
        );
        await store.setDeliveryStatus(
          WS,
          SINK,
          [
            { decisionId: 'a', status: 'delivered' },
            { decisionId: 'b', status: 'failed', error: 'invalid external_id' },
          ],
          T0,
        );
        expect(await store.deliveryCounts(WS, 'run-1')).toEqual([
          { sink: SINK, status: 'delivered', error: null, count: 1 },
          { sink: SINK, status: 'failed', error: 'invalid external_id', count: 1 },
          { sink: SINK, status: 'pending', error: null, count: 1 },
        ]);
      });

      it('numbers deliveries in queue order and reads from a position on', async () => {
        await store.advanceRun(
          WS,
          'run-1',
          ['a', 'b', 'c', 'd'].map((decisionId) => makeDelivery({ decisionId })),
          { position: 4 },
          T0,
        );
        const all = await store.deliveriesOf(WS, 'run-1', SINK, ['pending'], 10);
        expect(all.map((d) => d.seq)).toEqual([...all.map((d) => d.seq!)].sort((x, y) => x - y));
        expect(new Set(all.map((d) => d.seq)).size).toBe(4);
        expect(
          (await store.deliveriesOf(WS, 'run-1', SINK, ['pending'], 10, all[2].seq)).map((d) => d.decisionId),
        ).toEqual(['c', 'd']);
      });

      it('records, reads and clears the batch in flight per run and sink', async () => {
        expect(await store.getInFlight(WS, 'run-1', SINK)).toBeUndefined();
        await store.setInFlight(WS, 'run-1', SINK, { from: 3, to: 9 }, T0);
        await store.setInFlight(WS, 'run-1', SINK, { from: 10, to: 12 }, T0 + 1);
        await store.setInFlight(WS, 'run-1', 'other', { from: 1, to: 2 }, T0);
        expect(await store.getInFlight(WS, 'run-1', SINK)).toEqual({ from: 10, to: 12 });
        await store.setInFlight(WS, 'run-1', SINK, null, T0 + 2);
        expect(await store.getInFlight(WS, 'run-1', SINK)).toBeUndefined();
        expect(await store.getInFlight(WS, 'run-1', 'other')).toEqual({ from: 1, to: 2 });
      });

      it("finds each user's latest delivered payload for a sink", async () => {
        await store.advanceRun(
          WS,
          'run-1',
          [
            makeDelivery({ decisionId: 'a1', userKey: 'user-a', payload: { n: 1 } }),
            makeDelivery({ decisionId: 'a2', userKey: 'user-a', payload: { n: 2 } }),
            makeDelivery({ decisionId: 'a3', userKey: 'user-a', payload: { n: 3 } }),
            makeDelivery({ decisionId: 'b1', userKey: 'user-b', payload: { n: 4 } }),
          ],
          { position: 4 },
          T0,
        );
        await store.setDeliveryStatus(
          WS,
          SINK,
          ['a1', 'a2', 'b1'].map((decisionId) => ({ decisionId, status: 'delivered' as const })),
          T0,
        );
        const last = await store.lastDelivered(WS, SINK, ['user-a', 'user-b', 'user-c']);
        expect([...last.entries()].map(([k, v]) => [k, v.payload]).sort()).toEqual([
          ['user-a', { n: 2 }],
          ['user-b', { n: 4 }],
        ]);
        expect((await store.lastDelivered(WS, 'other', ['user-a'])).size).toBe(0);
      });
    });

    describe('learner role', () => {
      it('is taken by the only process using the store, confirmed, and given up on release', async () => {
        const taken = await store.learner.acquire();
        const confirmed = await store.learner.confirm();
        await store.learner.release();
        expect({ taken, confirmed, again: await store.learner.acquire() }).toEqual({
          taken: true,
          confirmed: true,
          again: true,
        });
      });
    });

    describe('send proofs', () => {
      const TARGET = 'braze:campaign:cmp-1';
      /** Queues and delivers decision `id` of `userKey` in run-1, awaiting its send proof due at T0 + 1 h. */
      const deliverAwaiting = async (id: string, userKey = 'user-a', holdout = false, at = T0) => {
        await store.advanceRun(WS, 'run-1', [makeDelivery({ decisionId: id, userKey })], { position: 1 }, at);
        const awaitSend = { target: TARGET, runId: 'run-1', agentId: 'winback', userKey, holdout, dueAt: at + HOUR_MS };
        await store.setDeliveryStatus(WS, SINK, [{ decisionId: id, status: 'delivered', awaitSend }], at);
      };
      const states = async (...ids: string[]) =>
        (await store.sendProofsOf(WS, ids)).map((p) => [p.decisionId, p.state, p.reason]);

      beforeEach(async () => {
        await store.createRun(makeRun());
      });

      it('awaits a proof for a delivery marked delivered with awaitSend, and for no other', async () => {
        await deliverAwaiting('d1');
        await store.advanceRun(WS, 'run-1', [makeDelivery({ decisionId: 'd2' })], { position: 2 }, T0);
        await store.setDeliveryStatus(WS, SINK, [{ decisionId: 'd2', status: 'delivered' }], T0);
        expect(await states('d1', 'd2')).toEqual([['d1', 'awaited', null]]);
        expect((await store.sendProofsOf(WS, ['d1']))[0]).toMatchObject({
          target: TARGET,
          userKey: 'user-a',
          runId: 'run-1',
          agentId: 'winback',
          holdout: false,
          deliveredAt: T0,
          dueAt: T0 + HOUR_MS,
        });
      });

      it("settles the user's latest proof for the target with a send or an abort", async () => {
        await deliverAwaiting('d1', 'user-a');
        await deliverAwaiting('d2', 'user-b');
        const result = await store.settleSendProofs(
          WS,
          [
            { userKey: 'user-a', target: TARGET, at: T0 + 60_000, sent: true },
            { userKey: 'user-b', target: TARGET, at: T0 + 60_000, sent: false },
            { userKey: 'user-c', target: TARGET, at: T0 + 60_000, sent: true },
            { userKey: 'user-a', target: 'braze:campaign:other', at: T0 + 60_000, sent: true },
          ],
          T0 + 120_000,
        );
        expect(result).toEqual({ settled: 2, unmatched: 2 });
        expect(await states('d1', 'd2')).toEqual([
          ['d1', 'sent', null],
          ['d2', 'not_sent', 'aborted'],
        ]);
      });

      it('matches a report a little older than the delivery, never one from long before', async () => {
        await deliverAwaiting('d1', 'user-a', false, T0 + HOUR_MS);
        await store.settleSendProofs(WS, [{ userKey: 'user-a', target: TARGET, at: T0, sent: true }], T0 + HOUR_MS);
        expect(await states('d1')).toEqual([['d1', 'awaited', null]]);
        await store.settleSendProofs(
          WS,
          [{ userKey: 'user-a', target: TARGET, at: T0 + HOUR_MS - 1000, sent: true }],
          T0 + HOUR_MS,
        );
        expect(await states('d1')).toEqual([['d1', 'sent', null]]);
      });

      it('expires awaited proofs past their due time as not sent, within the limit', async () => {
        await deliverAwaiting('d1', 'user-a');
        await deliverAwaiting('d2', 'user-b');
        await deliverAwaiting('d3', 'user-c', false, T0 + 2 * HOUR_MS);
        expect(await store.expireSendProofs(WS, T0 + HOUR_MS, 1)).toBe(1);
        expect(await store.expireSendProofs(WS, T0 + HOUR_MS, 10)).toBe(1);
        expect(await states('d1', 'd2', 'd3')).toEqual([
          ['d1', 'not_sent', 'no_send_event'],
          ['d2', 'not_sent', 'no_send_event'],
          ['d3', 'awaited', null],
        ]);
      });

      it('lets a late send report overturn a silence, but not an abort overturn a send', async () => {
        await deliverAwaiting('d1');
        await store.expireSendProofs(WS, T0 + HOUR_MS, 10);
        await store.settleSendProofs(WS, [{ userKey: 'user-a', target: TARGET, at: T0, sent: true }], T0 + 2 * HOUR_MS);
        await store.settleSendProofs(
          WS,
          [{ userKey: 'user-a', target: TARGET, at: T0, sent: false }],
          T0 + 2 * HOUR_MS,
        );
        expect(await states('d1')).toEqual([['d1', 'sent', null]]);
      });

      it("counts a run's proofs by target, state and reason", async () => {
        await deliverAwaiting('d1', 'user-a');
        await deliverAwaiting('d2', 'user-b');
        await deliverAwaiting('d3', 'user-c');
        await store.settleSendProofs(WS, [{ userKey: 'user-a', target: TARGET, at: T0, sent: true }], T0);
        await store.expireSendProofs(WS, T0 + HOUR_MS, 1);
        const counts = (await store.sendProofCounts(WS, 'run-1')).sort((a, b) => a.state.localeCompare(b.state));
        expect(counts).toEqual([
          { target: TARGET, state: 'awaited', reason: null, count: 1 },
          { target: TARGET, state: 'not_sent', reason: 'no_send_event', count: 1 },
          { target: TARGET, state: 'sent', reason: null, count: 1 },
        ]);
        expect(await store.sendProofCounts(WS, 'run-2')).toEqual([]);
      });

      it('leaves a decision out of its arm: learned without reward, out of the report cells, counted by reason', async () => {
        const [sent, skipped, heldOut] = [
          makeDecision(),
          makeDecision({ userKey: 'user-b' }),
          makeDecision({ userKey: 'user-c', holdout: true }),
        ];
        for (const d of [sent, skipped, heldOut]) await logDecision(store, d);
        await deliverAwaiting(skipped.decisionId, 'user-b');
        await store.commitLearning(WS, 'winback', [{ decisionId: sent.decisionId, reward: 1 }], makeSnapshot(), [
          { decisionId: skipped.decisionId, reason: 'no_send_event' },
          { decisionId: heldOut.decisionId, reason: 'aborted' },
        ]);
        const cells = (await store.reportCells(WS, 'winback')).filter((c) => c.dimension === null);
        expect(cells.sort((a, b) => Number(a.holdout) - Number(b.holdout))).toMatchObject([
          { holdout: false, decided: 1, closed: 1, rewardSum: 1 },
          { holdout: true, decided: 0, closed: 0 },
        ]);
        expect((await store.reportCells(WS, 'winback')).find((c) => c.arm === 'email')).toMatchObject({
          decided: 1,
          closed: 1,
        });
        expect((await store.getDecision(WS, skipped.decisionId))!).toMatchObject({ learned: true, reward: null });
        expect(await store.closedUnlearned(WS, 'winback', T0 + WINDOW_MS, 10)).toEqual([]);
        expect(
          (await store.leftOutCounts(WS, 'winback')).sort((a, b) => Number(a.holdout) - Number(b.holdout)),
        ).toEqual([
          { holdout: false, reason: 'no_send_event', count: 1 },
          { holdout: true, reason: 'aborted', count: 1 },
        ]);
        expect(await states(skipped.decisionId)).toEqual([[skipped.decisionId, 'not_sent', 'no_send_event']]);
      });

      it('counts a decision left out once, however often it is committed', async () => {
        const d = makeDecision();
        await logDecision(store, d);
        const leftOut = [{ decisionId: d.decisionId, reason: 'aborted' }];
        await store.commitLearning(WS, 'winback', [], makeSnapshot(), leftOut);
        await store.commitLearning(WS, 'winback', [], makeSnapshot(), leftOut);
        expect(await store.leftOutCounts(WS, 'winback')).toEqual([{ holdout: false, reason: 'aborted', count: 1 }]);
        expect((await store.reportCells(WS, 'winback')).find((c) => c.dimension === null)).toMatchObject({
          decided: 0,
        });
      });

      it("erases a user's send proofs with the user", async () => {
        await deliverAwaiting('d1', 'user-a');
        await deliverAwaiting('d2', 'user-b');
        await store.eraseUser(WS, 'user-a');
        expect(await states('d1', 'd2')).toEqual([['d2', 'awaited', null]]);
      });
    });

    describe('health', () => {
      it('reports no fault while writes are kept', async () => {
        await store.recordEvents([makeEvent()], []);
        expect(await store.health()).toBeUndefined();
      });
    });
  });
}
