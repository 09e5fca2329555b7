import type { JSONLikeObject, MultiStatusResponse } from '@segment/actions-core';
import { actionsCore } from './core.ts';

/** What one item of a batch became: stored or decided (2xx), or refused with the status that says whether Segment retries. */
export type ItemResult =
  | { ok: true; status: number; body: JSONLikeObject }
  | { ok: false; status: number; message: string; body?: JSONLikeObject };

/** One multi-status entry per payload, in payload order (what Segment reads to retry per event). */
export function multiStatus(results: readonly ItemResult[], sent: readonly JSONLikeObject[]): MultiStatusResponse {
  const out = new actionsCore.MultiStatusResponse();
  results.forEach((r, i) => {
    if (r.ok) out.setSuccessResponseAtIndex(i, { status: r.status, sent: sent[i], body: r.body });
    else
      out.setErrorResponseAtIndex(i, {
        status: r.status,
        errormessage: r.message,
        sent: sent[i],
        ...(r.body ? { body: r.body } : {}),
      });
  });
  return out;
}

/** nextbest's error body `{error: {code, message, issues?}}`, when the answer has one. */
export interface NextbestError {
  code: string;
  message: string;
  issues?: { path: string; message: string }[];
}

export function nextbestError(data: unknown): NextbestError | undefined {
  const error = (data as { error?: unknown } | undefined)?.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as Partial<NextbestError>;
  return typeof e.code === 'string' && typeof e.message === 'string' ? (e as NextbestError) : undefined;
}

/** Every item refused alike (the whole request failed): 5xx and 429 are retried by Segment, other statuses not. */
export function allFailed(count: number, status: number, data: unknown): ItemResult[] {
  const message = nextbestError(data)?.message ?? `nextbest answered ${status}`;
  return Array.from({ length: count }, () => ({ ok: false as const, status, message }));
}

/** The items a 400 names under `list` (`batch[3].userId: …` → 3 → that message), within `count`. */
export function namedItems(data: unknown, list: string, count: number): Map<number, string> {
  const out = new Map<number, string>();
  const pattern = new RegExp(`^${list}\\[(\\d+)\\]`);
  for (const issue of nextbestError(data)?.issues ?? []) {
    const m = pattern.exec(issue.path);
    const i = m ? Number(m[1]) : -1;
    if (i >= 0 && i < count) out.set(i, `${issue.path}: ${issue.message}`);
  }
  return out;
}

/**
 * Sends `items` with `send`, which nextbest accepts whole or refuses whole. When the answer is a
 * 400 naming some of them under `list`, those are refused (Segment does not retry a 400) and the
 * others sent once more without them, so one bad item never costs its batch.
 */
export async function sendLeavingOutNamed<T>(
  items: readonly T[],
  list: string,
  send: (items: readonly T[]) => Promise<{ status: number; data: unknown; results: () => ItemResult[] }>,
): Promise<ItemResult[]> {
  const first = await send(items);
  const named = first.status === 400 ? namedItems(first.data, list, items.length) : new Map<number, string>();
  if (named.size === 0 || named.size === items.length) return first.results();
  const rest = items.map((_, i) => i).filter((i) => !named.has(i));
  const second = (await send(rest.map((i) => items[i]))).results();
  const results: ItemResult[] = new Array(items.length);
  for (const [i, message] of named) results[i] = { ok: false, status: 400, message };
  rest.forEach((i, k) => (results[i] = second[k]));
  return results;
}
