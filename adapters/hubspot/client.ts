import { Client } from '@hubspot/api-client';
import { z } from 'zod';
import { RateLimiter, realPacing, type Pacing, type RequestLimit } from '../kit/index.ts';
import {
  HUBSPOT_BURST_WINDOW_MS,
  HUBSPOT_MARKETPLACE_BURST_REQUESTS,
  HUBSPOT_SEARCH_REQUESTS_PER_SECOND,
} from './constants.ts';

/**
 * A thin client over `@hubspot/api-client`: one method per HubSpot endpoint the adapter uses,
 * each reply parsed with zod, each call paced by the kit's limiter ahead of HubSpot's 429s (one
 * client per portal, so one pace per portal). Retries and batching live in the callers; the
 * SDK's own retry and limiter decorators are left off (they are process-global in the SDK: every
 * `new Client` replaces them for all clients).
 */

const contactSchema = z.object({
  id: z.string(),
  properties: z.record(z.string(), z.string().nullable().optional()).default({}),
});
export type HubSpotContact = z.infer<typeof contactSchema>;

const batchErrorSchema = z
  .object({
    status: z.string().optional(),
    category: z.string().optional(),
    message: z.string().optional(),
    context: z.record(z.string(), z.array(z.string())).optional(),
  })
  .loose();
export type HubSpotBatchError = z.infer<typeof batchErrorSchema>;

const batchReplySchema = z.object({
  status: z.string().optional(),
  results: z.array(contactSchema).default([]),
  errors: z.array(batchErrorSchema).optional(),
});
export type HubSpotBatchReply = z.infer<typeof batchReplySchema>;

const pagingSchema = z.object({ next: z.object({ after: z.string() }).optional() }).optional();

const searchReplySchema = z.object({
  total: z.number().optional(),
  results: z.array(contactSchema).default([]),
  paging: pagingSchema,
});
export type HubSpotSearchReply = z.infer<typeof searchReplySchema>;

const membershipsReplySchema = z.object({
  results: z.array(z.object({ recordId: z.string() })).default([]),
  paging: pagingSchema,
});
export type HubSpotMembershipsReply = z.infer<typeof membershipsReplySchema>;

export interface SearchFilter {
  propertyName: string;
  operator: 'EQ' | 'NEQ' | 'GT' | 'GTE' | 'LT' | 'LTE' | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY' | 'CONTAINS_TOKEN' | 'IN';
  value?: string;
  values?: string[];
}

/**
 * One sort of a CRM search, as HubSpot's search guide documents it. (Its OpenAPI spec and the
 * SDK's types say `sorts: string[]`, but HubSpot ignores a plain string sort, as SDK users report:
 * the results then come in no guaranteed order.)
 * https://developers.hubspot.com/docs/api-reference/2026-03/crm/search-the-crm
 */
export interface SearchSort {
  propertyName: string;
  direction: 'ASCENDING' | 'DESCENDING';
}

export interface SearchRequest {
  filters: SearchFilter[];
  sorts: SearchSort[];
  properties: string[];
  limit: number;
  after?: string;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  description: string;
  groupName: string;
  type: 'string' | 'number' | 'datetime' | 'bool' | 'enumeration';
  fieldType: 'text' | 'number' | 'date' | 'booleancheckbox' | 'select';
  options?: { label: string; value: string; hidden: boolean; displayOrder: number }[];
}

export interface CrmClientOptions {
  /** API origin; https://api.hubapi.com in production, a fake's in tests. */
  basePath: string;
  /** The bearer token for each call (a private-app token, or the vault's OAuth token of one portal). */
  accessToken: () => Promise<string>;
  /** The clock and sleep the limiters wait on. */
  pacing?: Pacing;
  /** Requests in any burst window, search excepted (default: a marketplace app's 110 per 10 s per portal). */
  burst?: RequestLimit;
}

export class HubSpotCrm {
  private cached: { token: string; client: Client } | undefined;
  /** Every call but search: HubSpot's per-portal burst limit. */
  private readonly burst: RateLimiter;
  /** CRM search: its own limit, 5 per second per portal, outside the burst limit. */
  private readonly searches: RateLimiter;

  constructor(private readonly options: CrmClientOptions) {
    const pacing = options.pacing ?? realPacing;
    // HubSpot counts a request when it arrives: each one fills the window until it is answered
    this.burst = new RateLimiter({
      limit: options.burst ?? { requests: HUBSPOT_MARKETPLACE_BURST_REQUESTS, perMs: HUBSPOT_BURST_WINDOW_MS },
      countUntilAnswered: true,
      pacing,
    });
    this.searches = new RateLimiter({
      limit: { requests: HUBSPOT_SEARCH_REQUESTS_PER_SECOND, perMs: 1000 },
      countUntilAnswered: true,
      pacing,
    });
  }

  /** One call, once the limiter gives it a turn. */
  private async paced<T>(limiter: RateLimiter, call: (hs: Client) => Promise<T>): Promise<T> {
    const turn = await limiter.take();
    try {
      return await call(await this.client());
    } finally {
      turn?.done();
    }
  }

  private async client(): Promise<Client> {
    const token = await this.options.accessToken();
    if (this.cached?.token !== token) {
      this.cached = {
        token,
        client: new Client({ accessToken: token, basePath: this.options.basePath, numberOfApiCallRetries: 0 }),
      };
    }
    return this.cached.client;
  }

  /** `POST /crm/v3/objects/contacts/batch/read` (≤100 ids). Missing ids come back in `errors` (207). */
  async batchRead(ids: string[], properties: string[]): Promise<HubSpotBatchReply> {
    const reply = await this.paced(this.burst, (hs) =>
      hs.crm.contacts.batchApi.read(
        { inputs: ids.map((id) => ({ id })), properties, propertiesWithHistory: [] },
        false,
      ),
    );
    return batchReplySchema.parse(reply);
  }

  /** `POST /crm/v3/objects/contacts/batch/update` (≤100 inputs). 207 carries per-contact errors. */
  async batchUpdate(inputs: { id: string; properties: Record<string, string> }[]): Promise<HubSpotBatchReply> {
    const reply = await this.paced(this.burst, (hs) => hs.crm.contacts.batchApi.update({ inputs }));
    return batchReplySchema.parse(reply);
  }

  /** `POST /crm/v3/objects/contacts/search`. */
  async search(req: SearchRequest): Promise<HubSpotSearchReply> {
    type SdkSearch = Parameters<Client['crm']['contacts']['searchApi']['doSearch']>[0];
    const body = {
      filterGroups: [{ filters: req.filters }],
      sorts: req.sorts as unknown as SdkSearch['sorts'], // the SDK types sorts as string[]: see SearchSort
      properties: req.properties,
      limit: req.limit,
      ...(req.after !== undefined ? { after: req.after } : {}),
    } as SdkSearch;
    const reply = await this.paced(this.searches, (hs) => hs.crm.contacts.searchApi.doSearch(body));
    return searchReplySchema.parse(reply);
  }

  /** `GET /crm/v3/lists/{listId}/memberships`: record ids in the list, paged by `after`. */
  async listMemberships(listId: string, after: string | undefined, limit: number): Promise<HubSpotMembershipsReply> {
    const reply = await this.paced(this.burst, (hs) =>
      hs.crm.lists.membershipsApi.getPage(listId, after, undefined, limit),
    );
    return membershipsReplySchema.parse(reply);
  }

  /** `POST /crm/v3/properties/contacts/groups`. */
  async createPropertyGroup(name: string, label: string): Promise<void> {
    await this.paced(this.burst, (hs) =>
      hs.crm.properties.groupsApi.create('contacts', { name, label, displayOrder: -1 }),
    );
  }

  /** `POST /crm/v3/properties/contacts`. */
  async createProperty(def: PropertyDefinition): Promise<void> {
    const body = { ...def, hidden: false, formField: false } as Parameters<
      Client['crm']['properties']['coreApi']['create']
    >[1];
    await this.paced(this.burst, (hs) => hs.crm.properties.coreApi.create('contacts', body));
  }
}
