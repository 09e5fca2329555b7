import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * API keys look like `nb_` + 43 base64url characters (256 bits); public keys start `nb_pk_` so
 * that one pasted into a web page is recognisable. Only their SHA-256 is stored.
 */
export function generateApiKey(prefix = 'nb_'): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A fresh workspace secret for the keyed user hash. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Who asked for a decision. `server`: a key of scope admin or decide (campaigns, Connected Content,
 * batch runs). `public`: a public key from a web page, which anyone can read; its decisions are
 * their own kind, logged under a user key and request ids of their own (see `userKeyOf`).
 */
export type DecisionKind = 'server' | 'public';

/**
 * The keyed hash that stands for a user id in every stored row and log line. Public-key decisions
 * get a key of their own for the same user, so that one a stranger asks for is never the user's
 * latest decision when an outcome is attributed to the message that was sent.
 */
export function userKeyOf(secret: string, userId: string, kind: DecisionKind = 'server'): string {
  return createHmac('sha256', secret)
    .update(kind === 'public' ? `public\u0000${userId}` : userId)
    .digest('base64url');
}

/**
 * The keyed hash that stands for a requestId in the log (request ids often hold the user id:
 * `crm-run-42/u-123`), in the namespace of its kind, so that a public key cannot take a request
 * id a campaign will use.
 */
export function requestKeyOf(secret: string, requestId: string, kind: DecisionKind = 'server'): string {
  return createHmac('sha256', secret).update(`request\u0000${kind}\u0000${requestId}`).digest('base64url');
}

/**
 * A decision id derived from an idempotency key, so the same requestId always maps to the same id
 * (public-key requests in a namespace of their own).
 */
export function decisionIdFor(
  workspace: string,
  agentId: string,
  requestId: string,
  kind: DecisionKind = 'server',
): string {
  const key = kind === 'public' ? `public\u0000${requestId}` : requestId;
  const h = createHash('sha256').update(`${workspace}\u0000${agentId}\u0000${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * A fresh decision id: a UUID version 7 (RFC 9562), whose first 48 bits are the decision time in
 * ms and the rest random. Ids made in time order land at the end of the decision log's id index
 * instead of on a random page of it, which keeps logging as cheap at 10 million decisions as at
 * none.
 */
export function timeOrderedId(now: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Math.max(0, Math.floor(now)) % 2 ** 48, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
