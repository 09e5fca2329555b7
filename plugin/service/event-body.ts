/**
 * What a stored event keeps of its body. Nothing in the service reads it back; it is there for an
 * export or an audit, so it keeps what a goal can read (`properties`) and nothing that identifies
 * the person:
 *
 * - `userId`, `anonymousId`, `previousId`: dropped (the row's keyed hash stands for the user);
 * - `traits`, `context` (IP, user agent, page URL, device ids, `context.traits`), `groupId`,
 *   `integrations`: dropped (profile data belongs to the profile source, where erasure also goes);
 * - `properties`: kept, less the keys in IDENTIFYING_PROPERTIES, with the user id replaced by
 *   `[user]` wherever a string holds it (`"order for alice@example.com"`).
 */
import type { SegmentEvent } from './inputs.ts';

/** Property names dropped from stored events, compared case-insensitively without `_` or `-`. */
export const IDENTIFYING_PROPERTIES = [
  'email',
  'phone',
  'name',
  'firstname',
  'lastname',
  'address',
  'ip',
  'userid',
  'username',
  'anonymousid',
] as const;

const DROPPED = new Set<string>(IDENTIFYING_PROPERTIES);

/** The body stored for an event. */
export function storedEventBody(e: SegmentEvent): { properties: Record<string, unknown> } {
  return { properties: scrub(e.properties, e.userId) as Record<string, unknown> };
}

function scrub(value: unknown, userId: string): unknown {
  if (typeof value === 'string') return userId !== '' ? value.replaceAll(userId, '[user]') : value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, userId));
  if (value === null || typeof value !== 'object') return value;
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!identifying(k)) kept[k] = scrub(v, userId);
  return kept;
}

function identifying(key: string): boolean {
  return DROPPED.has(key.toLowerCase().replace(/[_-]/g, ''));
}
