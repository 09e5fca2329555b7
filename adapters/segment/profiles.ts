import { LRUCache } from 'lru-cache';
import type { Profile, ProfileSource } from '../../plugin/agent/index.ts';
import type { RateLimiter } from '../kit/index.ts';
import { AudienceIndex, type AudienceChange, type MembershipBook } from './audiences.ts';
import { ProfileApiClient, type Fetch } from './client.ts';
import { isTimeZone, profileFromTraits } from './mapping.ts';
import { parseSettings, profileSettingsSchema, type ProfileSettings, type ProfileSettingsInput } from './settings.ts';

export interface SegmentProfileSourceOptions {
  settings: ProfileSettingsInput;
  fetch?: Fetch;
  limiter?: RateLimiter;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Clock of audience observations from the Profile API (webhook events carry their own time). */
  clock?: () => number;
  /** Where audience membership is kept (see AudienceIndex); in memory until the webhook gives it the store. */
  audienceBook?: MembershipBook;
}

/** A cache entry: `profile` undefined remembers that the Profile API does not know the user. */
interface Entry {
  profile?: Profile;
}

/** A traits update as an `identify` carries it. */
export interface IdentifyUpdate {
  userId: string;
  traits?: Record<string, unknown>;
  /** `context.timezone`, which mobile libraries collect. */
  timezone?: string;
  timestamp?: number;
}

/**
 * ProfileSource over the Segment Profile API, with an LRU cache in front (concurrent reads of one
 * user share one request) and the audience index that identify webhooks feed.
 */
export class SegmentProfileSource implements ProfileSource {
  readonly metadata = { name: 'segment' };
  readonly settings: ProfileSettings;
  readonly audiences: AudienceIndex;
  private readonly client: ProfileApiClient;
  private readonly cache: LRUCache<string, Entry>;
  private readonly clock: () => number;

  constructor(options: SegmentProfileSourceOptions) {
    this.settings = parseSettings(profileSettingsSchema, options.settings, 'Segment profile settings');
    this.clock = options.clock ?? Date.now;
    this.client = new ProfileApiClient({
      settings: this.settings,
      fetch: options.fetch,
      limiter: options.limiter,
      sleep: options.sleep,
      random: options.random,
    });
    this.audiences = new AudienceIndex({
      book: options.audienceBook,
      audienceTraits: this.settings.audienceTraits,
    });
    this.cache = new LRUCache<string, Entry>({
      max: this.settings.cacheMax,
      ttl: this.settings.cacheTtlMs,
      fetchMethod: async (userId) => {
        const traits = await this.client.traits(this.settings.idType, userId);
        if (!traits) return {};
        await this.audiences.observe(userId, traits, this.clock());
        return { profile: profileFromTraits(userId, traits, this.settings.timezoneTrait) };
      },
    });
  }

  /** The profile (cached for cacheTtlMs), or undefined when Segment does not know the user. Throws after the retries when Segment is unavailable. */
  async getProfile(userId: string): Promise<Profile | undefined> {
    const entry = await this.cache.fetch(userId);
    return entry?.profile ? cloneProfile(entry.profile) : undefined;
  }

  /**
   * The members of an audience (the trait `ref` set to true) seen so far through identify calls
   * or profile reads, each read through the cache. A member whose profile now says false leaves.
   */
  async *audience(ref: string): AsyncIterable<Profile> {
    for await (const userId of this.audiences.members(ref)) {
      const profile = await this.getProfile(userId);
      if (!profile) continue;
      if (profile.traits[ref] === false) {
        await this.audiences.observe(userId, { [ref]: false }, this.clock());
        continue;
      }
      yield profile;
    }
  }

  /**
   * Applies an identify: merges the traits into the cached profile (when there is one; an
   * identify carries only what changed, so it does not make a profile on its own), records the
   * audience changes and forgets a cached "unknown user". Resolves once audience changes are saved.
   */
  async applyIdentify(update: IdentifyUpdate): Promise<AudienceChange[]> {
    const traits = update.traits ?? {};
    const changes = await this.audiences.observe(update.userId, traits, update.timestamp ?? this.clock());
    const entry = this.cache.get(update.userId);
    if (entry && !entry.profile) this.cache.delete(update.userId);
    if (entry?.profile) {
      const merged = profileFromTraits(
        update.userId,
        { ...entry.profile.traits, ...traits },
        this.settings.timezoneTrait,
      );
      if (!merged.timezone && update.timezone && isTimeZone(update.timezone)) merged.timezone = update.timezone;
      if (!merged.timezone && entry.profile.timezone) merged.timezone = entry.profile.timezone;
      this.cache.set(update.userId, { profile: merged });
    }
    return changes;
  }

  /** Drops a user from the cache and every audience (erasure). */
  async forget(userId: string): Promise<void> {
    this.cache.delete(userId);
    await this.audiences.forget(userId);
  }
}

function cloneProfile(p: Profile): Profile {
  return { ...p, traits: { ...p.traits } };
}
