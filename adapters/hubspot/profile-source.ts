import type { Profile, ProfileSource } from '../../plugin/agent/index.ts';
import { ConfigError, RateLimiter, realPacing, type Pacing } from '../kit/index.ts';
import type { HubSpotCrm, SearchFilter } from './client.ts';
import {
  HUBSPOT_BATCH_MAX_INPUTS,
  HUBSPOT_LIST_PAGE_SIZE,
  HUBSPOT_SEARCH_PAGE_MAX,
  HUBSPOT_SEARCH_REQUESTS_PER_SECOND,
  HUBSPOT_SEARCH_RESULT_CAP,
  TIMEZONE_PROPERTY,
} from './constants.ts';
import { profileOf } from './mapping.ts';
import { withRetries } from './retry.ts';

export interface ProfileSourceOptions {
  crm: HubSpotCrm;
  /** Contact properties read as traits (see contactPropertiesFor); hs_timezone is always read. */
  properties: readonly string[];
  pacing?: Pacing;
  /** Search page size, ≤ 200. */
  searchPageSize?: number;
  /** Results one search query may page through (HubSpot: 10,000); lower only in tests of the split. */
  searchResultCap?: number;
  maxAttempts?: number;
}

interface Waiting {
  resolve: (p: Profile | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Contacts as profiles. `getProfile` calls made in the same tick are coalesced into batch reads
 * of at most 100 ids; `audience(ref)` reads a list's members (`list:<id>`) or a search
 * (`search:<property>=<value>[&<property>=<value>…]`), 200 per page, at most 5 searches per
 * second, and past the 10,000-result cap by restarting the query above the last hs_object_id seen
 * (which holds only because every query is sorted by hs_object_id, ascending).
 */
export class HubSpotProfileSource implements ProfileSource {
  readonly metadata = { name: 'hubspot' };
  private readonly properties: string[];
  private readonly pacing: Pacing;
  /** HubSpot's CRM search limit, which it enforces without rate-limit headers. */
  private readonly searches: RateLimiter;
  private pending = new Map<string, Waiting[]>();
  private scheduled = false;

  constructor(private readonly options: ProfileSourceOptions) {
    this.properties = [...new Set([...options.properties, TIMEZONE_PROPERTY])];
    this.pacing = options.pacing ?? realPacing;
    this.searches = new RateLimiter({
      limit: { requests: HUBSPOT_SEARCH_REQUESTS_PER_SECOND, perMs: 1000 },
      pacing: this.pacing,
    });
    const size = options.searchPageSize ?? HUBSPOT_SEARCH_PAGE_MAX;
    if (!Number.isInteger(size) || size < 1 || size > HUBSPOT_SEARCH_PAGE_MAX)
      throw new ConfigError(`searchPageSize == ${size}, must be an integer in [1, ${HUBSPOT_SEARCH_PAGE_MAX}]`);
  }

  getProfile(userId: string): Promise<Profile | undefined> {
    if (!/^\d+$/.test(userId)) return Promise.resolve(undefined); // contact ids are numeric
    return new Promise((resolve, reject) => {
      const list = this.pending.get(userId) ?? [];
      list.push({ resolve, reject });
      this.pending.set(userId, list);
      if (this.pending.size >= HUBSPOT_BATCH_MAX_INPUTS) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size === 0) return;
    void this.readBatch(batch);
  }

  private async readBatch(batch: Map<string, Waiting[]>): Promise<void> {
    try {
      const found = await this.readContacts([...batch.keys()]);
      for (const [id, waiting] of batch) for (const w of waiting) w.resolve(found.get(id));
    } catch (err) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(err);
    }
  }

  /** Batch-reads ids (any number, in calls of ≤100); unknown ids are absent from the map. */
  private async readContacts(ids: string[]): Promise<Map<string, Profile>> {
    const out = new Map<string, Profile>();
    for (let i = 0; i < ids.length; i += HUBSPOT_BATCH_MAX_INPUTS) {
      const chunk = ids.slice(i, i + HUBSPOT_BATCH_MAX_INPUTS);
      const reply = await withRetries(() => this.options.crm.batchRead(chunk, this.properties), {
        maxAttempts: this.options.maxAttempts ?? 6,
        pacing: this.pacing,
      });
      for (const c of reply.results) out.set(c.id, profileOf(c, this.properties));
    }
    return out;
  }

  async *audience(ref: string): AsyncIterable<Profile> {
    const parsed = parseAudienceRef(ref);
    if (parsed.kind === 'list') yield* this.listMembers(parsed.listId);
    else yield* this.searchContacts(parsed.filters);
  }

  private async *listMembers(listId: string): AsyncIterable<Profile> {
    let after: string | undefined;
    do {
      const page = await withRetries(() => this.options.crm.listMemberships(listId, after, HUBSPOT_LIST_PAGE_SIZE), {
        maxAttempts: this.options.maxAttempts ?? 6,
        pacing: this.pacing,
      });
      const ids = page.results.map((r) => r.recordId);
      const found = await this.readContacts(ids);
      for (const id of ids) {
        const p = found.get(id);
        if (p) yield p;
      }
      after = page.paging?.next?.after;
    } while (after !== undefined);
  }

  private async *searchContacts(filters: SearchFilter[]): AsyncIterable<Profile> {
    const limit = this.options.searchPageSize ?? HUBSPOT_SEARCH_PAGE_MAX;
    const cap = this.options.searchResultCap ?? HUBSPOT_SEARCH_RESULT_CAP;
    let aboveId: string | undefined; // restart point: contacts with a larger hs_object_id
    for (;;) {
      let after: string | undefined;
      let seenInQuery = 0;
      let lastId: string | undefined;
      let more = false;
      for (;;) {
        const req = {
          filters:
            aboveId === undefined
              ? filters
              : [...filters, { propertyName: 'hs_object_id', operator: 'GT' as const, value: aboveId }],
          sorts: [{ propertyName: 'hs_object_id', direction: 'ASCENDING' as const }],
          properties: this.properties,
          limit: Math.min(limit, cap - seenInQuery),
          after,
        };
        const page = await withRetries(() => this.options.crm.search(req), {
          maxAttempts: this.options.maxAttempts ?? 6,
          pacing: this.pacing,
          limiter: this.searches,
        });
        for (const c of page.results) {
          lastId = c.id;
          yield profileOf(c, this.properties);
        }
        seenInQuery += page.results.length;
        after = page.paging?.next?.after;
        if (after === undefined || page.results.length === 0) break;
        if (seenInQuery >= cap) {
          more = true; // the cap: start a new query above the last id
          break;
        }
      }
      if (!more || lastId === undefined) return;
      aboveId = lastId;
    }
  }
}

export type AudienceRef = { kind: 'list'; listId: string } | { kind: 'search'; filters: SearchFilter[] };

/** `list:123` (or `123`) → a list; `search:a=b&c=d` → EQ filters ANDed. */
export function parseAudienceRef(ref: string): AudienceRef {
  const list = /^(?:list:)?(\d+)$/.exec(ref);
  if (list) return { kind: 'list', listId: list[1] };
  if (ref.startsWith('search:')) {
    const filters = ref
      .slice('search:'.length)
      .split('&')
      .map((part) => {
        const i = part.indexOf('=');
        if (i <= 0)
          throw new ConfigError(`audience "${ref}": each search term must be <property>=<value>, got "${part}"`);
        return {
          propertyName: decodeURIComponent(part.slice(0, i)),
          operator: 'EQ' as const,
          value: decodeURIComponent(part.slice(i + 1)),
        };
      });
    return { kind: 'search', filters };
  }
  throw new ConfigError(`audience "${ref}" is not a HubSpot audience: use list:<listId> or search:<property>=<value>`);
}
