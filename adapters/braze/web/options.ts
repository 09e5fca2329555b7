// zod/mini, not zod: the same validation in ~25 KiB of bundle instead of ~450 KiB (this file ships to browsers).
import * as z from 'zod/mini';
import { DEFAULT_DECIDE_TIMEOUT_MS, MAX_DECIDE_TIMEOUT_MS, PUBLIC_KEY_PREFIX } from './constants.ts';
import { OnsiteConfigError } from './errors.ts';

const text = (what: string, description: string, max = 1000) =>
  z
    .string({ error: (i) => (i.input === undefined ? 'is required' : `must be a string (${what})`) })
    .check(
      z.minLength(1, 'must not be empty'),
      z.maxLength(max, `must be at most ${max} characters`),
      z.describe(description),
    );

/** Messages for object-level problems, which zod/mini (no locale bundled) would call "Invalid input". */
const objectError = (what?: string) => ({
  error: (issue: { code?: string; input?: unknown; keys?: string[] }) =>
    issue.code === 'unrecognized_keys'
      ? `has unknown option${issue.keys!.length > 1 ? 's' : ''} ${issue.keys!.map((k) => `"${k}"`).join(', ')}`
      : issue.input === undefined
        ? 'is required'
        : `must be an object${what ? ` (${what})` : ''}`,
});

/**
 * What a page passes to `renderOnsiteContent`. Validated in the browser before anything is sent,
 * so a typo fails loudly in the console instead of silently showing the default content forever.
 */
export const onsiteOptionsSchema = z.strictObject(
  {
    nextbestUrl: z.pipe(
      z
        .url({
          protocol: /^https?$/,
          error: (i) =>
            i.input === undefined ? 'is required' : 'must be an http(s) URL, e.g. https://nextbest.example.com',
        })
        .check(
          z.describe(
            "Base URL of the nextbest server; the page calls POST {nextbestUrl}/v1/agents/{agentId}/decide. The server's --cors-origin must list this page's origin.",
          ),
        ),
      z.transform((u: string) => u.replace(/\/+$/, '')),
    ),
    publicKey: text(
      'the nb_pk_… key',
      'A public-scope API key (POST /v1/keys {"scope":"public","label":"…"}). It may only ask for decisions and may not send traits.',
      200,
    ).check(
      z.refine(
        (k: string) => k.startsWith(PUBLIC_KEY_PREFIX),
        `must be a public-scope key (starting "${PUBLIC_KEY_PREFIX}"); never put an admin or decide key in a web page — create one with POST /v1/keys {"scope":"public","label":"…"}`,
      ),
    ),
    agentId: text('the agent id', 'The agent whose dimensions the slots show, e.g. "winback".', 200),
    userId: text(
      'the visitor id',
      "Your id for the visitor: the Braze external_id, and the id the server's profile source knows.",
      256,
    ),
    braze: z.strictObject(
      {
        apiKey: text(
          'the Braze Web SDK API key',
          'The Braze Web SDK API key (app identifier) of the website app. https://www.braze.com/docs/developer_guide/sdk_integration/?sdktab=web',
          200,
        ),
        baseUrl: text(
          'the Braze SDK endpoint',
          'The Braze SDK endpoint of your cluster, e.g. "sdk.iad-01.braze.com" (the SDK endpoint, not the REST endpoint).',
          500,
        ),
      },
      objectError('{ apiKey, baseUrl }'),
    ),
    timeoutMs: z._default(
      z.number({ error: 'must be a number of milliseconds' }).check(
        z.refine((n: number) => Number.isInteger(n), 'must be a whole number of milliseconds'),
        z.positive('must be more than 0'),
        z.lte(MAX_DECIDE_TIMEOUT_MS, `must be at most ${MAX_DECIDE_TIMEOUT_MS}`),
        z.describe(
          `How long to wait for the decision before keeping the default content (default ${DEFAULT_DECIDE_TIMEOUT_MS} ms).`,
        ),
      ),
      DEFAULT_DECIDE_TIMEOUT_MS,
    ),
    requestId: z.optional(
      text(
        'an idempotency key',
        "Idempotency key of this page view's decision; by default one is generated per page view, agent and visitor.",
        200,
      ),
    ),
  },
  objectError(),
);

export type OnsiteOptionsInput = z.input<typeof onsiteOptionsSchema>;
export type OnsiteOptions = z.output<typeof onsiteOptionsSchema>;

/** Validates the options; throws an `OnsiteConfigError` naming each bad option. */
export function parseOnsiteOptions(input: unknown): OnsiteOptions {
  const result = onsiteOptionsSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path === '' ? `options ${issue.message}` : `${path} ${issue.message}`;
  });
  throw new OnsiteConfigError(`nextbest: invalid options: ${problems.join('; ')}`, problems);
}
