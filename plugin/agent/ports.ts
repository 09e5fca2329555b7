import type { Decision, Profile } from './types.ts';

/**
 * The ports adapters implement (see docs/architecture.md, "The ports"). Small on purpose: only what every vendor
 * can serve. Lifecycle hooks are optional.
 */

/** Where customer profiles come from (Segment Profile API, HubSpot contacts, …). */
export interface ProfileSource {
  readonly metadata: { name: string };
  /** The profile, or undefined when the source does not know this user. Called by decide when the request carries no traits. */
  getProfile(userId: string): Promise<Profile | undefined>;
  /** Every member of an audience (a list, a segment), for batch runs. */
  audience(ref: string): AsyncIterable<Profile>;
  /** Drops everything the source cached about the user (DELETE /v1/users/{userId}). */
  forget?(userId: string): Promise<void>;
  init?(): Promise<void>;
  close?(): Promise<void>;
}

/** Per-input outcome of a delivery: one entry per decision, in input order. */
export type DeliveryResult =
  | { status: 'ok' }
  | { status: 'rejected'; httpStatus?: number; code: string; message: string }
  /** `inDoubt`: the destination may have it already; ask (`confirm`) before sending it again. */
  | { status: 'retry'; httpStatus?: number; retryAfterMs?: number; message: string; inDoubt?: boolean };

export interface DeliveryReport {
  results: DeliveryResult[];
}

/** What a sink may know beyond the decisions themselves. */
export interface DeliveryContext {
  /**
   * The decision this sink last delivered to the same user, by decision id of the new one: what
   * the destination holds now, so that only changed values need to be sent.
   */
  previous?: ReadonlyMap<string, Decision>;
}

/** Where decisions go (Braze attributes or triggers, HubSpot properties, Segment identify). */
export interface DecisionSink {
  readonly metadata: { name: string };
  /** Whether `deliver` reads `context.previous` (it is looked up only for sinks that do). */
  readonly usesPrevious?: boolean;
  /**
   * Delivers a batch of any size (the sink splits it into the destination's request sizes);
   * never mutates the input; a bad item fails alone. Rate limits and transient
   * failures are retried inside, within the sink's own budget; what is still failing after that
   * comes back as `retry`.
   */
  deliver(decisions: readonly Decision[], context?: DeliveryContext): Promise<DeliveryReport>;
  /**
   * Whether the destination already has each decision (asked after a crash left a batch in doubt,
   * so that it is neither lost nor delivered twice). Sinks that cannot tell leave this out, and
   * an in-doubt batch is sent again.
   */
  confirm?(decisions: readonly Decision[]): Promise<boolean[]>;
  /**
   * For a destination that may accept a send and then not make it (Braze skips recipients who
   * are not re-eligible or not in the campaign's segment, and still answers success), and that
   * reports later what it really sent (Braze Currents): each delivered decision awaits that report
   * for `target` during `withinMs`. Without it, or with an abort, the decision counts as not sent:
   * it teaches nothing and is left out of the lift's arms (docs/braze.md, "Proof of send").
   */
  readonly sendProof?: { target: string; withinMs: number };
  init?(): Promise<void>;
  close?(): Promise<void>;
}

/** A profile source over a fixed set of profiles: the default for tests and demos. */
export class InMemoryProfileSource implements ProfileSource {
  readonly metadata = { name: 'in-memory' };
  private readonly profiles = new Map<string, Profile>();
  private readonly audiences = new Map<string, string[]>();

  constructor(profiles: Iterable<Profile> = [], audiences: Record<string, string[]> = {}) {
    for (const p of profiles) this.profiles.set(p.userId, p);
    for (const [ref, ids] of Object.entries(audiences)) this.audiences.set(ref, ids);
  }

  set(profile: Profile): void {
    this.profiles.set(profile.userId, profile);
  }

  delete(userId: string): void {
    this.profiles.delete(userId);
  }

  async getProfile(userId: string): Promise<Profile | undefined> {
    return this.profiles.get(userId);
  }

  async *audience(ref: string): AsyncIterable<Profile> {
    const ids = this.audiences.get(ref) ?? (ref === '*' ? [...this.profiles.keys()] : []);
    for (const id of ids) {
      const p = this.profiles.get(id);
      if (p) yield p;
    }
  }
}

/** A sink that accepts everything and sends nothing. */
export class NoopSink implements DecisionSink {
  readonly metadata = { name: 'noop' };
  async deliver(decisions: readonly Decision[]): Promise<DeliveryReport> {
    return { results: decisions.map(() => ({ status: 'ok' as const })) };
  }
}
