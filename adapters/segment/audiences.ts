/**
 * Who is in which Segment audience. The Profile API cannot list an audience's members, so
 * membership is learned as it is seen: an audience is a trait (the audience key) that Segment
 * sets to true on members and to false when they leave, on `identify` calls and in the traits the
 * Profile API returns.
 *
 * The index lives in memory. The store port has no place for it, so persistence is a hook: pass
 * an `AudiencePersistence` and every change is saved before it is applied (a webhook is
 * acknowledged only after that), and `load()` replays what was saved. Without one, a run over an
 * audience covers the members seen since the process started.
 */

export interface AudienceChange {
  audience: string;
  userId: string;
  member: boolean;
  /** Time of the observation (event timestamp or read time), ms since the epoch. */
  at: number;
}

export interface AudiencePersistence {
  /** Every change saved so far, in any order (the latest `at` per user and audience wins). */
  load(): Promise<Iterable<AudienceChange>>;
  /** Saves changes durably; a rejection makes the webhook answer 5xx so Segment retries. */
  save(changes: readonly AudienceChange[]): Promise<void>;
}

export interface AudienceIndexOptions {
  persistence?: AudiencePersistence;
  /** Which traits are audiences; default: every boolean trait. */
  audienceTraits?: readonly string[];
}

interface Membership {
  member: boolean;
  at: number;
}

export class AudienceIndex {
  private readonly byAudience = new Map<string, Map<string, Membership>>();
  private readonly persistence?: AudiencePersistence;
  private readonly audienceTraits?: ReadonlySet<string>;

  constructor(options: AudienceIndexOptions = {}) {
    this.persistence = options.persistence;
    this.audienceTraits = options.audienceTraits ? new Set(options.audienceTraits) : undefined;
  }

  /** Replays the saved changes (call once, before serving). */
  async load(): Promise<number> {
    if (!this.persistence) return 0;
    let n = 0;
    for (const change of await this.persistence.load()) {
      this.set(change);
      n++;
    }
    return n;
  }

  /** The audience changes `traits` imply for `userId`, observed at `at` (older than what is known → ignored). */
  changesFrom(userId: string, traits: Record<string, unknown>, at: number): AudienceChange[] {
    const out: AudienceChange[] = [];
    for (const [key, value] of Object.entries(traits)) {
      if (typeof value !== 'boolean') continue;
      if (this.audienceTraits && !this.audienceTraits.has(key)) continue;
      const known = this.byAudience.get(key)?.get(userId);
      if (known && (known.at > at || known.member === value)) continue;
      out.push({ audience: key, userId, member: value, at });
    }
    return out;
  }

  /** Saves (when persisted) and applies the changes `traits` imply; returns them. */
  async observe(userId: string, traits: Record<string, unknown>, at: number): Promise<AudienceChange[]> {
    const changes = this.changesFrom(userId, traits, at);
    if (changes.length === 0) return changes;
    await this.persistence?.save(changes);
    for (const c of changes) this.set(c);
    return changes;
  }

  /** The members of an audience now, in the order they were first seen. */
  members(audience: string): string[] {
    const out: string[] = [];
    for (const [userId, m] of this.byAudience.get(audience) ?? []) if (m.member) out.push(userId);
    return out;
  }

  isMember(audience: string, userId: string): boolean {
    return this.byAudience.get(audience)?.get(userId)?.member === true;
  }

  /** Forgets a user everywhere (erasure). */
  async forget(userId: string, at: number): Promise<void> {
    const changes: AudienceChange[] = [];
    for (const [audience, users] of this.byAudience)
      if (users.get(userId)?.member) changes.push({ audience, userId, member: false, at });
    if (changes.length > 0) await this.persistence?.save(changes);
    for (const users of this.byAudience.values()) users.delete(userId);
  }

  private set(change: AudienceChange): void {
    let users = this.byAudience.get(change.audience);
    if (!users) this.byAudience.set(change.audience, (users = new Map()));
    const known = users.get(change.userId);
    if (known && known.at > change.at) return;
    // A tombstone (member: false) is kept so an older "true" delivered late cannot re-add the user.
    users.set(change.userId, { member: change.member, at: change.at });
  }
}
