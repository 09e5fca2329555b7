import { createHash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { INSTALL_LINK_TTL_MS, INSTALL_STATE_TTL_MS } from './constants.ts';
import { InstallState, STATE_FUTURE_SKEW_MS } from './sealing.ts';

/** The cookie that binds an install's OAuth state to the browser that started it. */
export const INSTALL_COOKIE = 'nb_hubspot_install';

/** Install links and states under way kept at once; past that, the oldest is forgotten (and refused). */
const INSTALLS_MAX = 1_000;

export interface InstallLink {
  token: string;
  expiresAt: number;
}

export interface InstallGateOptions {
  clientSecret: string;
  clock: () => number;
  linkTtlMs?: number;
  stateTtlMs?: number;
}

/**
 * Who may install a HubSpot portal. An admin starts each install: with the admin key itself, or
 * with a one-time install link an admin key minted (short-lived, opened once). Starting gives the
 * browser a random nonce (its install cookie) and an OAuth state that carries the nonce's hash;
 * the callback is accepted once per state, and only from the browser holding that nonce.
 * Links and used states live in this process's memory: a restart voids links not yet opened.
 */
export class InstallGate {
  readonly linkTtlMs: number;
  readonly stateTtlMs: number;
  private readonly clock: () => number;
  private readonly states: InstallState;
  /** Links not yet opened, by the SHA-256 of their token. */
  private readonly links: LRUCache<string, true>;
  /** States already used, until they could no longer be valid. */
  private readonly usedStates: LRUCache<string, true>;

  constructor(options: InstallGateOptions) {
    this.clock = options.clock;
    this.linkTtlMs = options.linkTtlMs ?? INSTALL_LINK_TTL_MS;
    this.stateTtlMs = options.stateTtlMs ?? INSTALL_STATE_TTL_MS;
    this.states = new InstallState(options.clientSecret, this.stateTtlMs);
    const cache = { max: INSTALLS_MAX, ttlResolution: 0, perf: { now: this.clock } };
    this.links = new LRUCache(cache);
    this.usedStates = new LRUCache(cache);
  }

  /** A new one-time install link token. */
  mintLink(): InstallLink {
    const token = randomBytes(32).toString('base64url');
    this.links.set(digest(token), true, { ttl: this.linkTtlMs });
    return { token, expiresAt: this.clock() + this.linkTtlMs };
  }

  /** True once for a link minted here and not expired; the link is used up. */
  redeemLink(token: string): boolean {
    const key = digest(token);
    if (!this.links.has(key)) return false; // unknown, used or expired (`delete` alone ignores expiry)
    this.links.delete(key);
    return true;
  }

  /** A new install: the nonce for the browser's cookie, and the OAuth state bound to it. */
  begin(): { browserNonce: string; state: string } {
    const browserNonce = randomBytes(32).toString('base64url');
    return { browserNonce, state: this.states.issue(this.clock(), browserNonce) };
  }

  /** Undefined when the callback may go on (the state is then used up), else why it is refused. */
  complete(state: string, browserNonce: string | undefined): string | undefined {
    const why = this.states.check(state, this.clock(), browserNonce);
    if (why) return why;
    if (this.usedStates.has(state)) return 'this state was already used; start the install again';
    this.usedStates.set(state, true, { ttl: this.stateTtlMs + STATE_FUTURE_SKEW_MS });
    return undefined;
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
