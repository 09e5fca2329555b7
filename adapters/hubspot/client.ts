import { Client } from '@hubspot/api-client';
import { z } from 'zod';

/**
 * A thin client over `@hubspot/api-client`: one method per HubSpot endpoint the adapter uses,
 * each reply parsed with zod. Retries, rate limits and batching live in the callers; the SDK's
 * own retry and limiter decorators are left off (they are process-global in the SDK: every
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
  /** The bearer token for each call (a private-app token, or the vault's OAuth token). */
  accessToken: () => Promise<string>;
}

export class HubSpotCrm {
  private cached: { token: string; client: Client } | undefined;

  constructor(private readonly options: CrmClientOptions) {}

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
    const hs = await this.client();
    const reply = await hs.crm.contacts.batchApi.read(
      { inputs: ids.map((id) => ({ id })), properties, propertiesWithHistory: [] },
      false,
    );
    return batchReplySchema.parse(reply);
  }

  /** `POST /crm/v3/objects/contacts/batch/update` (≤100 inputs). 207 carries per-contact errors. */
  async batchUpdate(inputs: { id: string; properties: Record<string, string> }[]): Promise<HubSpotBatchReply> {
    const hs = await this.client();
    const reply = await hs.crm.contacts.batchApi.update({ inputs });
    return batchReplySchema.parse(reply);
  }

  /** `POST /crm/v3/objects/contacts/search`. */
  async search(req: SearchRequest): Promise<HubSpotSearchReply> {
    const hs = await this.client();
    type SdkSearch = Parameters<typeof hs.crm.contacts.searchApi.doSearch>[0];
    const reply = await hs.crm.contacts.searchApi.doSearch({
      filterGroups: [{ filters: req.filters }],
      sorts: req.sorts as unknown as SdkSearch['sorts'], // the SDK types sorts as string[]: see SearchSort
      properties: req.properties,
      limit: req.limit,
      ...(req.after !== undefined ? { after: req.after } : {}),
    } as SdkSearch);
    return searchReplySchema.parse(reply);
  }

  /** `GET /crm/v3/lists/{listId}/memberships`: record ids in the list, paged by `after`. */
  async listMemberships(listId: string, after: string | undefined, limit: number): Promise<HubSpotMembershipsReply> {
    const hs = await this.client();
    return membershipsReplySchema.parse(await hs.crm.lists.membershipsApi.getPage(listId, after, undefined, limit));
  }

  /** `POST /crm/v3/properties/contacts/groups`. */
  async createPropertyGroup(name: string, label: string): Promise<void> {
    const hs = await this.client();
    await hs.crm.properties.groupsApi.create('contacts', { name, label, displayOrder: -1 });
  }

  /** `POST /crm/v3/properties/contacts`. */
  async createProperty(def: PropertyDefinition): Promise<void> {
    const hs = await this.client();
    await hs.crm.properties.coreApi.create('contacts', { ...def, hidden: false, formField: false } as Parameters<
      typeof hs.crm.properties.coreApi.create
    >[1]);
  }
}
