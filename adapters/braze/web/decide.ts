/// <reference lib="dom" />
import * as z from 'zod/mini';
import type { OnsiteOptions } from './options.ts';

/**
 * The part of nextbest's decide answer (plugin/server/service.ts `DecisionResponse`) the page
 * uses. Unknown fields are ignored so the server may add fields; missing or mistyped ones make
 * the answer unusable and the page keeps its default content.
 */
export const decideResponseSchema = z.object({
  decisionId: z.string().check(z.minLength(1)),
  agentId: z.optional(z.string()),
  deliver: z.boolean(),
  reason: z.string(),
  choices: z.record(z.string(), z.object({ arm: z.string().check(z.minLength(1)), probability: z.number() })),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  replayed: z.optional(z.boolean()),
});
export type OnsiteDecision = z.output<typeof decideResponseSchema>;

/** Why there is no decision to show: the page keeps its default content and records nothing. */
export type DecisionFailure =
  | { kind: 'timeout'; message: string }
  | { kind: 'network'; message: string }
  | { kind: 'http'; status: number; code?: string; message: string }
  | { kind: 'invalid_response'; message: string };

export type DecisionAnswer = { ok: true; decision: OnsiteDecision } | { ok: false; failure: DecisionFailure };

/** The fetch the page has; injected so a page (or a test) can pass its own. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/**
 * The body a public key may send: exactly `userId, timezone, context, requestId`
 * (plugin/server/schemas.ts `PUBLIC_DECIDE_FIELDS`); anything else is refused with 403.
 */
export function decideBody(
  options: Pick<OnsiteOptions, 'userId'>,
  requestId: string,
  page: string,
  timezone: string | undefined,
): Record<string, unknown> {
  return { userId: options.userId, ...(timezone ? { timezone } : {}), context: { page }, requestId };
}

/** The visitor's IANA time zone as the browser reports it, if it does. */
export function browserTimezone(): string | undefined {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    return typeof zone === 'string' && zone !== '' ? zone : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Asks nextbest for one decision. Never throws: a timeout, a network error, a non-2xx status or
 * an answer that does not parse all come back as a `DecisionFailure`.
 */
export async function requestDecision(
  options: OnsiteOptions,
  body: Record<string, unknown>,
  fetchFn: FetchFunction,
): Promise<DecisionAnswer> {
  const url = `${options.nextbestUrl}/v1/agents/${encodeURIComponent(options.agentId)}/decide`;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  try {
    const res = await fetchFn(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.publicKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: controller.signal,
      credentials: 'omit',
      mode: 'cors',
    });
    const text = await res.text();
    if (!res.ok) {
      const error = parseJson(text) as { error?: { code?: unknown; message?: unknown } } | undefined;
      const code = typeof error?.error?.code === 'string' ? error.error.code : undefined;
      const detail = typeof error?.error?.message === 'string' ? `: ${error.error.message}` : '';
      return {
        ok: false,
        failure: {
          kind: 'http',
          status: res.status,
          ...(code ? { code } : {}),
          message: `decide answered ${res.status}${detail}`,
        },
      };
    }
    const parsed = decideResponseSchema.safeParse(parseJson(text));
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      return {
        ok: false,
        failure: {
          kind: 'invalid_response',
          message: `decide answered 2xx with an unusable body (${first ? `${first.path.join('.') || 'body'}: ${first.message}` : 'not JSON'})`,
        },
      };
    }
    return { ok: true, decision: parsed.data };
  } catch (err) {
    if (timedOut)
      return { ok: false, failure: { kind: 'timeout', message: `no decision within ${options.timeoutMs} ms` } };
    return {
      ok: false,
      failure: {
        kind: 'network',
        message: `decide request failed: ${err instanceof Error ? err.message : String(err)}`,
      },
    };
  } finally {
    clearTimeout(timer);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
