import { randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** How long a console session lasts unless the server is told otherwise (`--session-lifetime`). */
export const DEFAULT_SESSION_LIFETIME_MS = 8 * 3_600_000;
/** The most sessions kept at once; the least recently used is dropped beyond it (its admin signs in again). */
const MAX_SESSIONS = 10_000;

/** A signed-in admin of the console: the workspace and label of the admin key it was opened with. */
export interface ConsoleSession {
  id: string;
  workspace: string;
  keyLabel: string;
  /** The token a state-changing request must repeat in the `X-Nextbest-CSRF` header. */
  csrfToken: string;
  expiresAt: number;
}

/**
 * Console sessions, in this process's memory: an admin key is exchanged for one at sign-in, and
 * the key itself is never kept (neither here nor in the browser). A restart signs everyone out.
 * Expiry is read from the injected clock, so a test moves time instead of waiting.
 */
export class ConsoleSessions {
  private readonly sessions = new LRUCache<string, ConsoleSession>({ max: MAX_SESSIONS });

  constructor(
    readonly lifetimeMs: number = DEFAULT_SESSION_LIFETIME_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  open(workspace: string, keyLabel: string): ConsoleSession {
    const session = {
      id: randomBytes(32).toString('base64url'),
      workspace,
      keyLabel,
      csrfToken: randomBytes(24).toString('base64url'),
      expiresAt: this.clock() + this.lifetimeMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id; an expired one is forgotten and not returned. */
  find(id: string): ConsoleSession | undefined {
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.clock()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }
}

/** Whether `sent` is the session's CSRF token (compared in constant time). */
export function csrfMatches(session: ConsoleSession, sent: string | undefined): boolean {
  if (!sent) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrfToken);
  return a.length === b.length && timingSafeEqual(a, b);
}
