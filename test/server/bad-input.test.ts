import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../plugin/agent/index.ts';
import type { RunningServer } from '../../plugin/server/index.ts';
import {
  addApiKey,
  call,
  EXAMPLE_CONFIG,
  makeDecideBody,
  makeEvent,
  startTestServer,
  storeCounts,
  type CallOptions,
} from './helpers.ts';

const DECIDE_KEY = 'nb_decide_scope_key';
const FOREIGN_KEY = 'nb_other_workspace_key';
const WINBACK = ((await readConfigFile(EXAMPLE_CONFIG)).raw as { agents: Record<string, unknown>[] }).agents[0];

interface BadInputRow extends CallOptions {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  status: number;
  code: string;
  /** Text the error message must contain: it names the problem. */
  names: string;
  /** `issues[].path` entries the answer must list. */
  issuePaths?: string[];
}

const DECIDE = '/v1/agents/winback/decide';
const BATCH = '/v1/agents/winback/decide:batch';
const EVENTS = '/v1/events';

/** A JSON value nested `depth` arrays deep: `[[[…1…]]]`. */
const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
/** An event of about 10 KB whose properties nest 5,000 levels deep. */
const DEEP_EVENT = JSON.stringify(makeEvent()).replace('"properties":{}', `"properties":{"deep":${nested(5000)}}`);
const ID_DEFECTS: [string, string, string][] = [
  ['a NUL', 'user\u0000-1', 'must not contain control or bidirectional-override characters (found U+0000)'],
  [
    'a right-to-left override',
    'user-\u202Etxt.exe',
    'must not contain control or bidirectional-override characters (found U+202E)',
  ],
  ['a bidi isolate', 'user-\u2066x', 'must not contain control or bidirectional-override characters (found U+2066)'],
  ['a C1 control', 'user-\u0085', 'must not contain control or bidirectional-override characters (found U+0085)'],
  ['a lone surrogate', 'user-\uD800', 'must be well-formed Unicode (it contains a lone surrogate)'],
];

const rows: BadInputRow[] = [
  // not JSON
  {
    name: 'rejects a decide body that is not JSON',
    method: 'POST',
    path: DECIDE,
    raw: '{"userId": "user-1",',
    status: 400,
    code: 'malformed_json',
    names: 'not valid JSON',
  },
  {
    name: 'rejects an events body that is not JSON',
    method: 'POST',
    path: EVENTS,
    raw: '{"batch": [{"messageId": ',
    status: 400,
    code: 'malformed_json',
    names: 'not valid JSON',
  },
  {
    name: 'rejects an agent config that is not JSON',
    method: 'PUT',
    path: '/v1/agents/winback',
    raw: 'id: winback',
    status: 400,
    code: 'malformed_json',
    names: 'not valid JSON',
  },

  // decide bodies of the wrong shape
  {
    name: 'rejects a numeric userId',
    method: 'POST',
    path: DECIDE,
    body: makeDecideBody({ userId: 5 }),
    status: 400,
    code: 'invalid_request',
    names: 'userId: must be a string',
    issuePaths: ['userId'],
  },
  {
    name: 'rejects a decide body without userId',
    method: 'POST',
    path: DECIDE,
    body: { traits: {} },
    status: 400,
    code: 'invalid_request',
    names: 'userId: is required',
    issuePaths: ['userId'],
  },
  {
    name: 'rejects traits that are not an object',
    method: 'POST',
    path: DECIDE,
    body: makeDecideBody({ traits: 'x' }),
    status: 400,
    code: 'invalid_request',
    names: 'traits',
    issuePaths: ['traits'],
  },
  {
    name: 'rejects an unknown top-level field, naming it',
    method: 'POST',
    path: DECIDE,
    body: makeDecideBody({ colour: 'red' }),
    status: 400,
    code: 'invalid_request',
    names: 'colour',
    issuePaths: ['colour'],
  },
  {
    name: 'rejects a decide:batch with no users',
    method: 'POST',
    path: BATCH,
    body: { users: [] },
    status: 400,
    code: 'invalid_request',
    names: 'at least one user',
    issuePaths: ['users'],
  },
  {
    name: 'rejects a decide:batch whose second user has no userId',
    method: 'POST',
    path: BATCH,
    body: { users: [makeDecideBody(), { traits: {} }] },
    status: 400,
    code: 'invalid_request',
    names: 'users[1].userId',
    issuePaths: ['users[1].userId'],
  },
  {
    name: 'rejects a decide:batch over 1,000 users',
    method: 'POST',
    path: BATCH,
    body: { users: Array.from({ length: 1001 }, (_, i) => ({ userId: `user-${i}` })) },
    status: 400,
    code: 'invalid_request',
    names: 'at most 1000 users',
    issuePaths: ['users'],
  },
  {
    name: 'rejects a connected-content call without user_id',
    method: 'GET',
    path: '/v1/connected-content/winback',
    status: 400,
    code: 'invalid_request',
    names: 'user_id',
    issuePaths: ['user_id'],
  },

  // unknown agents
  {
    name: 'answers 404 when deciding for an unknown agent',
    method: 'POST',
    path: '/v1/agents/nope/decide',
    body: makeDecideBody(),
    status: 404,
    code: 'not_found',
    names: 'agent "nope"',
  },
  {
    name: 'answers 404 for decide:batch on an unknown agent',
    method: 'POST',
    path: '/v1/agents/nope/decide:batch',
    body: { users: [makeDecideBody()] },
    status: 404,
    code: 'not_found',
    names: 'agent "nope"',
  },
  {
    name: 'answers 404 for connected content of an unknown agent',
    method: 'GET',
    path: '/v1/connected-content/nope?user_id=user-1',
    status: 404,
    code: 'not_found',
    names: 'agent "nope"',
  },
  {
    name: 'answers 404 for the config of an unknown agent',
    method: 'GET',
    path: '/v1/agents/nope',
    status: 404,
    code: 'not_found',
    names: 'agent "nope"',
  },
  {
    name: 'rejects a report window that is not a date, naming since',
    method: 'GET',
    path: '/v1/agents/winback/report?since=yesterday',
    status: 400,
    code: 'invalid_request',
    names: 'since:',
  },
  {
    name: 'rejects a report window that ends before it starts, naming until',
    method: 'GET',
    path: '/v1/agents/winback/report?since=2026-03-02&until=2026-03-01',
    status: 400,
    code: 'invalid_request',
    names: 'until:',
  },
  {
    name: 'rejects a report bucket other than day or week, naming bucket',
    method: 'GET',
    path: '/v1/agents/winback/report?bucket=month',
    status: 400,
    code: 'invalid_request',
    names: 'bucket:',
  },
  {
    name: 'rejects an unknown report query parameter, naming it',
    method: 'GET',
    path: '/v1/agents/winback/report?from=2026-03-01',
    status: 400,
    code: 'invalid_request',
    names: 'from',
  },
  {
    name: 'answers 404 for the report of an unknown agent',
    method: 'GET',
    path: '/v1/agents/nope/report',
    status: 404,
    code: 'not_found',
    names: 'agent "nope"',
  },

  // authentication and scopes
  {
    name: 'answers 401 without an Authorization header',
    method: 'POST',
    path: DECIDE,
    body: makeDecideBody(),
    key: null,
    status: 401,
    code: 'missing_api_key',
    names: 'Authorization',
  },
  {
    name: 'answers 401 to an unknown key',
    method: 'POST',
    path: DECIDE,
    body: makeDecideBody(),
    key: 'nb_not_a_key',
    status: 401,
    code: 'invalid_api_key',
    names: 'not valid',
  },
  {
    name: 'answers 401 to an Authorization header that is not Bearer',
    method: 'POST',
    path: EVENTS,
    body: makeEvent(),
    authorization: 'Basic dXNlcjpwYXNz',
    status: 401,
    code: 'invalid_authorization',
    names: 'Bearer',
  },
  {
    name: 'answers 401 to events posted without a key',
    method: 'POST',
    path: EVENTS,
    body: makeEvent(),
    key: null,
    status: 401,
    code: 'missing_api_key',
    names: 'Authorization',
  },
  {
    name: 'answers 401 to an admin route without a key',
    method: 'DELETE',
    path: '/v1/users/user-1',
    key: null,
    status: 401,
    code: 'missing_api_key',
    names: 'Authorization',
  },
  {
    name: 'forbids a key of a workspace this server does not serve',
    method: 'POST',
    path: DECIDE,
    body: makeDecideBody(),
    key: FOREIGN_KEY,
    status: 403,
    code: 'forbidden',
    names: 'workspace "elsewhere"',
  },
  {
    name: 'forbids reading an agent config with a decide-scope key',
    method: 'GET',
    path: '/v1/agents/winback',
    key: DECIDE_KEY,
    status: 403,
    code: 'forbidden',
    names: 'scope "decide"',
  },
  {
    name: 'forbids changing an agent config with a decide-scope key',
    method: 'PUT',
    path: '/v1/agents/winback',
    body: { ...WINBACK, holdout: 0.2 },
    key: DECIDE_KEY,
    status: 403,
    code: 'forbidden',
    names: 'scope "decide"',
  },
  {
    name: 'forbids erasing a user with a decide-scope key',
    method: 'DELETE',
    path: '/v1/users/user-1',
    key: DECIDE_KEY,
    status: 403,
    code: 'forbidden',
    names: 'scope "decide"',
  },
  {
    name: 'forbids the report with a decide-scope key',
    method: 'GET',
    path: '/v1/agents/winback/report',
    key: DECIDE_KEY,
    status: 403,
    code: 'forbidden',
    names: 'scope "decide"',
  },
  {
    name: 'forbids reading a decision with a decide-scope key',
    method: 'GET',
    path: '/v1/decisions/00000000-0000-0000-0000-000000000000',
    key: DECIDE_KEY,
    status: 403,
    code: 'forbidden',
    names: 'scope "decide"',
  },

  // oversized bodies
  {
    name: 'rejects a decide body over 1 MB',
    method: 'POST',
    path: DECIDE,
    body: makeDecideBody({ traits: { blob: 'x'.repeat(1_100_000) } }),
    status: 413,
    code: 'body_too_large',
    names: '1048576',
  },
  {
    name: 'rejects an events body over 512 KB',
    method: 'POST',
    path: EVENTS,
    body: { batch: Array.from({ length: 60 }, () => makeEvent({ properties: { blob: 'x'.repeat(10_000) } })) },
    status: 413,
    code: 'body_too_large',
    names: '524288',
  },

  // events
  {
    name: 'rejects an event without userId',
    method: 'POST',
    path: EVENTS,
    body: makeEvent({ userId: undefined, anonymousId: 'anon-1' }),
    status: 400,
    code: 'invalid_request',
    names: 'userId: is required',
    issuePaths: ['userId'],
  },
  {
    name: 'rejects a whole batch when its second event has no userId',
    method: 'POST',
    path: EVENTS,
    body: { batch: [makeEvent(), makeEvent({ userId: undefined }), makeEvent()] },
    status: 400,
    code: 'invalid_request',
    names: 'batch[1].userId',
    issuePaths: ['batch[1].userId'],
  },
  {
    name: 'rejects an event without messageId',
    method: 'POST',
    path: EVENTS,
    body: makeEvent({ messageId: undefined }),
    status: 400,
    code: 'invalid_request',
    names: 'messageId: is required',
    issuePaths: ['messageId'],
  },
  {
    name: 'rejects a track event without event name',
    method: 'POST',
    path: EVENTS,
    body: makeEvent({ event: undefined }),
    status: 400,
    code: 'invalid_request',
    names: 'event: is required for a track event',
    issuePaths: ['event'],
  },
  {
    name: 'rejects an event whose timestamp is not a date',
    method: 'POST',
    path: EVENTS,
    body: makeEvent({ timestamp: 'yesterday-ish' }),
    status: 400,
    code: 'invalid_request',
    names: 'timestamp',
    issuePaths: ['timestamp'],
  },
  {
    name: 'rejects a batch over 2,500 events',
    method: 'POST',
    path: EVENTS,
    body: { batch: Array.from({ length: 2501 }, () => makeEvent()) },
    status: 400,
    code: 'invalid_request',
    names: 'at most 2500 events',
    issuePaths: ['batch'],
  },
  {
    name: 'rejects event properties that are not an object',
    method: 'POST',
    path: EVENTS,
    body: makeEvent({ properties: 'x' }),
    status: 400,
    code: 'invalid_request',
    names: 'properties',
    issuePaths: ['properties'],
  },
  {
    name: 'rejects an empty batch',
    method: 'POST',
    path: EVENTS,
    body: { batch: [] },
    status: 400,
    code: 'invalid_request',
    names: 'at least one event',
    issuePaths: ['batch'],
  },

  // bodies nested too deep: refused while parsing, before anything recursive sees them
  {
    name: 'rejects an event nested 5,000 levels deep (10 KB)',
    method: 'POST',
    path: EVENTS,
    raw: DEEP_EVENT,
    status: 400,
    code: 'body_too_deep',
    names: 'nested deeper than 64 levels',
  },
  {
    name: 'rejects a decide body nested 65 levels deep (its traits 63)',
    method: 'POST',
    path: DECIDE,
    raw: JSON.stringify(makeDecideBody()).replace('"traits":{', `"traits":{"deep":${nested(63)},`),
    status: 400,
    code: 'body_too_deep',
    names: 'nested deeper than 64 levels',
  },
  {
    name: 'rejects an agent config nested 5,000 levels deep',
    method: 'PUT',
    path: '/v1/agents/winback',
    raw: JSON.stringify({ ...WINBACK, holdout: 0.2 }).replace('"guardrails":{', `"guardrails":{"x":${nested(5000)},`),
    status: 400,
    code: 'body_too_deep',
    names: 'nested deeper than 64 levels',
  },

  // the path
  {
    name: 'rejects a path that is not valid percent-encoding',
    method: 'POST',
    path: '/v1/agents/win%ZZback/decide',
    body: makeDecideBody(),
    status: 400,
    code: 'malformed_path',
    names: 'percent-encoding',
  },
  {
    name: 'rejects a path whose percent-encoding is not UTF-8',
    method: 'DELETE',
    path: '/v1/users/%C0%AF',
    status: 400,
    code: 'malformed_path',
    names: 'percent-encoding',
  },
  {
    name: 'rejects a decide:batch path that is not valid percent-encoding',
    method: 'POST',
    path: '/v1/agents/%E0%A4%A/decide:batch',
    body: { users: [makeDecideBody()] },
    status: 400,
    code: 'malformed_path',
    names: 'percent-encoding',
  },
  {
    name: 'rejects a user id in the path with a control character, naming it',
    method: 'DELETE',
    path: '/v1/users/user%00-1',
    status: 400,
    code: 'invalid_request',
    names: 'userId: must not contain control',
    issuePaths: ['userId'],
  },
  {
    name: 'rejects a decision id in the path with a bidi override, naming it',
    method: 'GET',
    path: '/v1/decisions/%E2%80%AE00000000',
    status: 400,
    code: 'invalid_request',
    names: 'decisionId: must not contain control',
    issuePaths: ['decisionId'],
  },

  // field limits say what the limit is
  {
    name: 'rejects a 201-character messageId saying what the limit is',
    method: 'POST',
    path: EVENTS,
    body: makeEvent({ messageId: 'm'.repeat(201) }),
    status: 400,
    code: 'invalid_request',
    names: 'messageId: must be at most 200 characters',
    issuePaths: ['messageId'],
  },
  {
    name: 'rejects a 513-character requestId saying what the limit is',
    method: 'POST',
    path: DECIDE,
    body: makeDecideBody({ requestId: 'r'.repeat(513) }),
    status: 400,
    code: 'invalid_request',
    names: 'requestId: must be at most 512 characters',
    issuePaths: ['requestId'],
  },

  // timestamps no clock means
  ...(
    [
      ['1e20', 1e20],
      ['-1e15', -1e15],
      ['9999-12-31', '9999-12-31'],
      ['seconds instead of milliseconds', 1_780_000_000],
    ] as const
  ).map(([what, timestamp]): BadInputRow => ({
    name: `rejects an event dated ${what}`,
    method: 'POST',
    path: EVENTS,
    body: { batch: [makeEvent(), makeEvent({ timestamp })] },
    status: 400,
    code: 'invalid_request',
    names: 'batch[1].timestamp: must be between 2000-01-01 and 2100-01-01',
    issuePaths: ['batch[1].timestamp'],
  })),
  {
    name: 'rejects an event dated at an infinite time',
    method: 'POST',
    path: EVENTS,
    raw: JSON.stringify(makeEvent({ timestamp: 0 })).replace('"timestamp":0', '"timestamp":1e999'),
    status: 400,
    code: 'invalid_request',
    names: 'timestamp: must be an ISO-8601 string or epoch milliseconds',
    issuePaths: ['timestamp'],
  },

  // ids: well-formed Unicode without control or bidi characters
  ...ID_DEFECTS.flatMap(([what, id, message]): BadInputRow[] => [
    {
      name: `rejects a decide userId with ${what}`,
      method: 'POST',
      path: DECIDE,
      body: makeDecideBody({ userId: id }),
      status: 400,
      code: 'invalid_request',
      names: `userId: ${message}`,
      issuePaths: ['userId'],
    },
    {
      name: `rejects an event messageId with ${what}`,
      method: 'POST',
      path: EVENTS,
      body: { batch: [makeEvent(), makeEvent({ messageId: id })] },
      status: 400,
      code: 'invalid_request',
      names: `batch[1].messageId: ${message}`,
      issuePaths: ['batch[1].messageId'],
    },
  ]),
  {
    name: 'rejects an event userId with a lone surrogate (two of them would hash alike)',
    method: 'POST',
    path: EVENTS,
    body: makeEvent({ userId: 'user-\uDC00' }),
    status: 400,
    code: 'invalid_request',
    names: 'userId: must be well-formed Unicode',
    issuePaths: ['userId'],
  },
  {
    name: 'rejects an event anonymousId with a NUL',
    method: 'POST',
    path: EVENTS,
    body: makeEvent({ anonymousId: 'anon\u0000' }),
    status: 400,
    code: 'invalid_request',
    names: 'anonymousId: must not contain control',
    issuePaths: ['anonymousId'],
  },
  {
    name: 'rejects an event whose properties.decision_id holds a control character',
    method: 'POST',
    path: EVENTS,
    body: makeEvent({ properties: { decision_id: 'abc\u0007' } }),
    status: 400,
    code: 'invalid_request',
    names: 'properties.decision_id: must not contain control',
    issuePaths: ['properties.decision_id'],
  },
  {
    name: 'rejects a decide requestId with a bidi override',
    method: 'POST',
    path: DECIDE,
    body: makeDecideBody({ requestId: 'run-1/\u202Duser-1' }),
    status: 400,
    code: 'invalid_request',
    names: 'requestId: must not contain control',
    issuePaths: ['requestId'],
  },
  {
    name: 'rejects a decide:batch whose second user has a lone surrogate in its userId',
    method: 'POST',
    path: BATCH,
    body: { users: [makeDecideBody(), makeDecideBody({ userId: '\uD83D' })] },
    status: 400,
    code: 'invalid_request',
    names: 'users[1].userId: must be well-formed Unicode',
    issuePaths: ['users[1].userId'],
  },
  {
    name: 'rejects a connected-content user_id with a NUL',
    method: 'GET',
    path: '/v1/connected-content/winback?user_id=user%00-1',
    status: 400,
    code: 'invalid_request',
    names: 'user_id: must not contain control',
    issuePaths: ['user_id'],
  },

  // time zones
  {
    name: 'rejects a timezone that is not an IANA time zone instead of deciding in UTC',
    method: 'POST',
    path: DECIDE,
    body: makeDecideBody({ timezone: 'Mars/Olympus' }),
    status: 400,
    code: 'invalid_request',
    names: 'timezone: must be an IANA time zone such as Europe/Paris, got "Mars/Olympus"',
    issuePaths: ['timezone'],
  },

  // agent configs
  {
    name: 'rejects an agent of 20,000 arms, naming the limit',
    method: 'PUT',
    path: '/v1/agents/huge',
    body: {
      ...WINBACK,
      id: 'huge',
      delivery: [],
      dimensions: [{ id: 'offer', arms: Array.from({ length: 20_000 }, (_, i) => `o${i}`), default: 'o0' }],
      guardrails: {},
    },
    status: 400,
    code: 'invalid_request',
    names: 'dimensions[0].arms: must have at most 100 arms',
    issuePaths: ['dimensions[0].arms'],
  },
  {
    name: 'rejects an invalid agent config listing every bad path',
    method: 'PUT',
    path: '/v1/agents/winback',
    body: { ...WINBACK, holdout: 2, policy: { kind: 'logistic-ts', floor: 3 } },
    status: 400,
    code: 'invalid_request',
    names: 'holdout: must be in [0, 0.5], got 2',
    issuePaths: ['holdout', 'policy.floor'],
  },
  {
    name: 'rejects a second agent that would write the same attributes onto the same profiles',
    method: 'PUT',
    path: '/v1/agents/browse',
    body: { ...WINBACK, id: 'browse' },
    status: 400,
    code: 'invalid_request',
    names: 'as agent "winback" does',
    issuePaths: ['delivery[0].prefix'],
  },
  {
    name: 'rejects an agent config whose id is not the one in the URL',
    method: 'PUT',
    path: '/v1/agents/winback',
    body: { ...WINBACK, id: 'other' },
    status: 400,
    code: 'invalid_request',
    names: 'does not match',
    issuePaths: ['id'],
  },
];

describe('bad input', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer();
    await addApiKey(server, DECIDE_KEY, 'decide');
    await server.store.ensureWorkspace('elsewhere', 'elsewhere-secret', 0);
    await addApiKey(server, FOREIGN_KEY, 'admin', 'elsewhere');
    // Rows for the rejected requests to leave alone: decisions, sends, events and an outcome.
    for (const userId of ['user-1', 'user-2']) {
      const decided = await call(server, 'POST', DECIDE, { body: makeDecideBody({ userId }) });
      expect(decided.status).toBe(200);
      const posted = await call(server, 'POST', EVENTS, {
        body: makeEvent({ userId, properties: { decision_id: decided.body.decisionId } }),
      });
      expect(posted.status).toBe(200);
    }
  });

  afterAll(async () => {
    await server?.close();
  });

  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const before = await storeCounts(server);
    const res = await call(server, row.method, row.path, row);
    expect(res.status).toBe(row.status);
    expect(res.body?.error?.code).toBe(row.code);
    expect(res.body.error.message).toContain(row.names);
    if (row.issuePaths)
      expect(res.body.error.issues.map((i: { path: string }) => i.path)).toEqual(
        expect.arrayContaining(row.issuePaths),
      );
    expect(await storeCounts(server)).toEqual(before);
  });

  it('keeps the stored agent config when an update is rejected', async () => {
    const before = await server.store.getAgentConfig('acme-sports', 'winback');
    await call(server, 'PUT', '/v1/agents/winback', { body: { ...WINBACK, holdout: 2 } });
    const served = await call(server, 'GET', '/v1/agents/winback');
    expect(await server.store.getAgentConfig('acme-sports', 'winback')).toEqual(before);
    expect(served.body).toMatchObject({ version: before!.version, config: WINBACK });
  });

  it('answers 404 for an unknown route with the error shape', async () => {
    const res = await call(server, 'GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'no such route' } });
  });
});
