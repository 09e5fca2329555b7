import type { Profile, ProfileSource } from '../../plugin/agent/index.ts';
import { ConfigError, realPacing, type Pacing } from '../kit/index.ts';
import type { HubSpotCrm, SearchFilter } from './client.ts';
import {
  HUBSPOT_BATCH_MAX_INPUTS,
  HUBSPOT_LIST_PAGE_SIZE,
  HUBSPOT_SEARCH_PAGE_MAX,
  HUBSPOT_SEARCH_RESULT_CAP,
  TIMEZONE_PROPERTY,
} from './constants.ts';
import { profileOf } from './mapping.ts';
import { contactUserId, parseContactUserId, type HubSpotPortals } from './portals.ts';
import { withRetries } from './retry.ts';

export interface ProfileSourceOptions {
  /** The portals read from: each user id's own (`<portalId>:<contactId>`), bare ids the default portal's. */
  portals: HubSpotPortals;
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
 * Contacts as profiles, each read from its own portal. `getProfile` calls made in the same tick
 * are coalesced into batch reads of at most 100 ids per portal; `audience(ref)` reads a list's
 * members (`list:[<portalId>/]<id>`) or a search (`search:[<portalId>/]<property>=<value>[&…]`),
 * 200 per page, and past the 10,000-result cap by restarting the query above the last
 * hs_object_id seen (which holds only because every query is sorted by hs_object_id, ascending).
 * Each portal's client paces its calls (110 per 10 s, searches 5 per second).
 */
export class HubSpotProfileSource implements ProfileSource {
  readonly metadata = { name: 'hubspot' };
  private readonly properties: string[];
  private readonly pacing: Pacing;
  private pending = new Map<string, Waiting[]>();
  private scheduled = false;

  constructor(private readonly options: ProfileSourceOptions) {
    this.properties = [...new Set([...options.properties, TIMEZONE_PROPERTY])];
    this.pacing = options.pacing ?? realPacing;
    const size = options.searchPageSize ?? HUBSPOT_SEARCH_PAGE_MAX;
    if (!Number.isInteger(size) || size < 1 || size > HUBSPOT_SEARCH_PAGE_MAX)
      throw new ConfigError(`searchPageSize == ${size}, must be an integer in [1, ${HUBSPOT_SEARCH_PAGE_MAX}]`);
  }

  getProfile(userId: string): Promise<Profile | undefined> {
    if (!parseContactUserId(userId)) return Promise.resolve(undefined); // contact ids are numeric
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

  /** Reads a batch portal by portal; the waiting of a portal that cannot be read fail with its error. */
  private async readBatch(batch: Map<string, Waiting[]>): Promise<void> {
    const byPortal = new Map<string, Map<string, string>>(); // portal → contact id → user id
    let bare: Promise<string> | undefined;
    await Promise.all(
      [...batch.keys()].map(async (userId) => {
        const parsed = parseContactUserId(userId)!;
        let portalId: string;
        try {
          portalId = parsed.portalId ?? (await (bare ??= this.options.portals.defaultPortal()));
        } catch (err) {
          for (const w of batch.get(userId)!) w.reject(err);
          return;
        }
        const ids = byPortal.get(portalId) ?? new Map<string, string>();
        ids.set(parsed.contactId, userId);
        byPortal.set(portalId, ids);
      }),
    );
    for (const [portalId, ids] of byPortal) await this.readPortalBatch(portalId, ids, batch);
  }

  private async readPortalBatch(portalId: string, ids: Map<string, string>, batch: Map<string, Waiting[]>) {
    try {
      const found = await this.readContacts(this.options.portals.crm(portalId), [...ids.keys()]);
      for (const [contactId, userId] of ids) {
        const profile = found.get(contactId);
        for (const w of batch.get(userId)!) w.resolve(profile && { ...profile, userId });
      }
    } catch (err) {
      for (const userId of ids.values()) for (const w of batch.get(userId)!) w.reject(err);
    }
  }

  /** Batch-reads a portal's contact ids (any number, in calls of ≤100); unknown ids are absent from the map. */
  private async readContacts(crm: HubSpotCrm, ids: string[]): Promise<Map<string, Profile>> {
    const out = new Map<string, Profile>();
    for (let i = 0; i < ids.length; i += HUBSPOT_BATCH_MAX_INPUTS) {
      const chunk = ids.slice(i, i + HUBSPOT_BATCH_MAX_INPUTS);
      const reply = await withRetries(() => crm.batchRead(chunk, this.properties), {
        maxAttempts: this.options.maxAttempts ?? 6,
        pacing: this.pacing,
      });
      for (const c of reply.results) out.set(c.id, profileOf(c, this.properties));
    }
    return out;
  }

  /** Members of a list or a search; of a named portal, their user ids name it too (`<portalId>:<contactId>`). */
  async *audience(ref: string): AsyncIterable<Profile> {
    const parsed = parseAudienceRef(ref);
    const portalId = parsed.portalId ?? (await this.options.portals.defaultPortal());
    const crm = this.options.portals.crm(portalId);
    const members =
      parsed.kind === 'list' ? this.listMembers(crm, parsed.listId) : this.searchContacts(crm, parsed.filters);
    for await (const p of members)
      yield parsed.portalId === undefined ? p : { ...p, userId: contactUserId(portalId, p.userId) };
  }

  private async *listMembers(crm: HubSpotCrm, listId: string): AsyncIterable<Profile> {
    let after: string | undefined;
    do {
      const page = await withRetries(() => crm.listMemberships(listId, after, HUBSPOT_LIST_PAGE_SIZE), {
        maxAttempts: this.options.maxAttempts ?? 6,
        pacing: this.pacing,
      });
      const ids = page.results.map((r) => r.recordId);
      const found = await this.readContacts(crm, ids);
      for (const id of ids) {
        const p = found.get(id);
        if (p) yield p;
      }
      after = page.paging?.next?.after;
    } while (after !== undefined);
  }

  private async *searchContacts(crm: HubSpotCrm, filters: SearchFilter[]): AsyncIterable<Profile> {
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
        const page = await withRetries(() => crm.search(req), {
          maxAttempts: this.options.maxAttempts ?? 6,
          pacing: this.pacing,
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

export type AudienceRef = ({ kind: 'list'; listId: string } | { kind: 'search'; filters: SearchFilter[] }) & {
  /** The portal the audience names (`list:<portalId>/<listId>`); else the default portal's. */
  portalId?: string;
};

/**
 * `list:123` (or `123`) → a list; `search:a=b&c=d` → EQ filters ANDed. Either may name its portal
 * after the colon: `list:<portalId>/<listId>`, `search:<portalId>/a=b`.
 */
export function parseAudienceRef(ref: string): AudienceRef {
  const list = /^(?:list:)?(?:(\d+)\/)?(\d+)$/.exec(ref);
  if (list) return { kind: 'list', listId: list[2], ...(list[1] ? { portalId: list[1] } : {}) };
  if (ref.startsWith('search:')) {
    const rest = ref.slice('search:'.length);
    const portal = /^(\d+)\//.exec(rest);
    const terms = portal ? rest.slice(portal[0].length) : rest;
    const filters = terms.split('&').map((part) => {
      const i = part.indexOf('=');
      if (i <= 0)
        throw new ConfigError(`audience "${ref}": each search term must be <property>=<value>, got "${part}"`);
      return {
        propertyName: decodeURIComponent(part.slice(0, i)),
        operator: 'EQ' as const,
        value: decodeURIComponent(part.slice(i + 1)),
      };
    });
    return { kind: 'search', filters, ...(portal ? { portalId: portal[1] } : {}) };
  }
  throw new ConfigError(
    `audience "${ref}" is not a HubSpot audience: use list:[<portalId>/]<listId> or search:[<portalId>/]<property>=<value>`,
  );
}
