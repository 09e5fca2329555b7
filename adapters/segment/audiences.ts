/**
 * Who is in which Segment audience. The Profile API cannot list an audience's members, so
 * membership is learned as it is seen: an audience is a trait (the audience key) that Segment
 * sets to true on members and to false when they leave, on `identify` calls and in the traits the
 * Profile API returns.
 *
 * What is learned is kept in a MembershipBook: the service's store once the webhook is mounted
 * (StoredMemberships: it survives a restart and is erased with the user), in memory before that or
 * without a store (MemoryMemberships: a run then covers the members seen since the process
 * started). Every change is saved before a webhook is acknowledged.
 */
import type { AudienceStore } from '../../plugin/store/index.ts';

export interface AudienceChange {
  audience: string;
  userId: string;
  member: boolean;
  /** Time of the observation (event timestamp or read time), ms since the epoch. */
  at: number;
}

/** Where membership is kept: the latest observation per (audience, user); a non-member is kept too. */
export interface MembershipBook {
  get(audience: string, userId: string): Promise<{ member: boolean; at: number } | undefined>;
  /** Saves changes durably (each applies only when not older than what is kept); a rejection makes the webhook answer 5xx so Segment retries. */
  save(changes: readonly AudienceChange[]): Promise<void>;
  /** Members in the order first seen, at most `limit` after `cursor` (0 to start), and the cursor of the next page. */
  page(audience: string, cursor: number, limit: number): Promise<{ userIds: string[]; next: number }>;
  /** Forgets a user everywhere (erasure). */
  forget(userId: string): Promise<void>;
}

/** Members read per page when iterating an audience. */
export const AUDIENCE_PAGE = 500;

export interface AudienceIndexOptions {
  book?: MembershipBook;
  /** Which traits are audiences; default: every boolean trait. */
  audienceTraits?: readonly string[];
}

export class AudienceIndex {
  private book: MembershipBook;
  private readonly audienceTraits?: ReadonlySet<string>;

  constructor(options: AudienceIndexOptions = {}) {
    this.book = options.book ?? new MemoryMemberships();
    this.audienceTraits = options.audienceTraits ? new Set(options.audienceTraits) : undefined;
  }

  /** Keeps membership in `book` from now on (the store, once the service has one). */
  useBook(book: MembershipBook): void {
    this.book = book;
  }

  /** The audience changes `traits` imply for `userId`, observed at `at` (older than what is known → ignored). */
  async changesFrom(userId: string, traits: Record<string, unknown>, at: number): Promise<AudienceChange[]> {
    const out: AudienceChange[] = [];
    for (const [key, value] of Object.entries(traits)) {
      if (typeof value !== 'boolean') continue;
      if (this.audienceTraits && !this.audienceTraits.has(key)) continue;
      const known = await this.book.get(key, userId);
      if (known && (known.at > at || known.member === value)) continue;
      out.push({ audience: key, userId, member: value, at });
    }
    return out;
  }

  /** Saves the changes `traits` imply; returns them. */
  async observe(userId: string, traits: Record<string, unknown>, at: number): Promise<AudienceChange[]> {
    const changes = await this.changesFrom(userId, traits, at);
    if (changes.length > 0) await this.book.save(changes);
    return changes;
  }

  /** The members of an audience now, in the order they were first seen, a page at a time. */
  async *members(audience: string): AsyncIterable<string> {
    let cursor = 0;
    for (;;) {
      const { userIds, next } = await this.book.page(audience, cursor, AUDIENCE_PAGE);
      yield* userIds;
      if (userIds.length < AUDIENCE_PAGE) return;
      cursor = next;
    }
  }

  async isMember(audience: string, userId: string): Promise<boolean> {
    return (await this.book.get(audience, userId))?.member === true;
  }

  /** Forgets a user everywhere (erasure). */
  async forget(userId: string): Promise<void> {
    await this.book.forget(userId);
  }
}

/** Membership in memory: what a process without a store has seen since it started. */
export class MemoryMemberships implements MembershipBook {
  private readonly byAudience = new Map<string, Map<string, { member: boolean; at: number }>>();

  async get(audience: string, userId: string): Promise<{ member: boolean; at: number } | undefined> {
    return this.byAudience.get(audience)?.get(userId);
  }

  async save(changes: readonly AudienceChange[]): Promise<void> {
    for (const c of changes) {
      let users = this.byAudience.get(c.audience);
      if (!users) this.byAudience.set(c.audience, (users = new Map()));
      const known = users.get(c.userId);
      // A tombstone (member: false) is kept so an older "true" delivered late cannot re-add the user.
      if (!known || known.at <= c.at) users.set(c.userId, { member: c.member, at: c.at });
    }
  }

  async page(audience: string, cursor: number, limit: number): Promise<{ userIds: string[]; next: number }> {
    const members = [...(this.byAudience.get(audience) ?? [])].filter(([, m]) => m.member).map(([id]) => id);
    const userIds = members.slice(cursor, cursor + limit);
    return { userIds, next: cursor + userIds.length };
  }

  async forget(userId: string): Promise<void> {
    for (const users of this.byAudience.values()) users.delete(userId);
  }
}

/** Membership in the service's store (migration 7), keyed by the user's keyed hash. */
export class StoredMemberships implements MembershipBook {
  constructor(
    private readonly store: AudienceStore,
    private readonly workspace: string,
    private readonly userKey: (userId: string) => string,
  ) {}

  get(audience: string, userId: string): Promise<{ member: boolean; at: number } | undefined> {
    return this.store.audienceMembership(this.workspace, audience, this.userKey(userId));
  }

  save(changes: readonly AudienceChange[]): Promise<void> {
    return this.store.recordAudienceMembership(
      changes.map((c) => ({ workspace: this.workspace, userKey: this.userKey(c.userId), ...c })),
    );
  }

  async page(audience: string, cursor: number, limit: number): Promise<{ userIds: string[]; next: number }> {
    const rows = await this.store.audienceMembers(this.workspace, audience, cursor, limit);
    return { userIds: rows.map((r) => r.userId), next: rows.at(-1)?.position ?? cursor };
  }

  /** Nothing to do: the store's eraseUser deletes the user's memberships with the rest of their rows. */
  async forget(): Promise<void> {}
}
