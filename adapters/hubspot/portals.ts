import { AuthError, ConfigError, realPacing, type Pacing, type RequestLimit } from '../kit/index.ts';
import { HubSpotCrm } from './client.ts';
import type { TokenVault } from './oauth.ts';

/** A contact of one HubSpot account (portal). */
export interface ContactRef {
  portalId: string;
  contactId: string;
}

/**
 * A HubSpot contact as a nextbest user id: `<portalId>:<contactId>` names the portal; a bare
 * `<contactId>` belongs to the default portal (see HubSpotPortals.defaultPortal). Contact ids
 * repeat across portals, so the workflow action and the webhooks always use the first form.
 */
const CONTACT_USER_ID = /^(?:(\d+):)?(\d+)$/;

/** The user id of a portal's contact: `<portalId>:<contactId>`. */
export function contactUserId(portalId: string | number, contactId: string | number): string {
  return `${portalId}:${contactId}`;
}

/** The portal (when named) and contact of a user id; undefined when it is not a HubSpot contact id. */
export function parseContactUserId(userId: string): { portalId?: string; contactId: string } | undefined {
  const m = CONTACT_USER_ID.exec(userId);
  if (!m) return undefined;
  return m[1] === undefined ? { contactId: m[2] } : { portalId: m[1], contactId: m[2] };
}

/**
 * The HubSpot accounts this process acts for: which portal a user id belongs to, and each portal's
 * CRM client (its own token, its own pace). Nothing is shared between portals.
 */
export interface HubSpotPortals {
  /** The portal of bare contact ids and unqualified audiences; throws when it cannot be known. */
  defaultPortal(): Promise<string>;
  /** The CRM client of one portal. */
  crm(portalId: string): HubSpotCrm;
  /** Whether the portal installed the app (a workflow action from any other is refused). */
  isInstalled(portalId: string): Promise<boolean>;
  /** Forgets what is kept for a portal that uninstalled the app. */
  forget(portalId: string): void;
}

/** The contact a user id names, its portal resolved; undefined when it is not a HubSpot contact id. */
export async function resolveContact(portals: HubSpotPortals, userId: string): Promise<ContactRef | undefined> {
  const parsed = parseContactUserId(userId);
  if (!parsed) return undefined;
  return { portalId: parsed.portalId ?? (await portals.defaultPortal()), contactId: parsed.contactId };
}

export interface InstalledPortalsOptions {
  vault: TokenVault;
  basePath: string;
  /** HUBSPOT_PORTAL_ID: the portal of bare contact ids when several are installed. */
  portalId?: string;
  pacing?: Pacing;
}

/** The portals that installed the marketplace app (OAuth): tokens from the vault, one CRM client per portal. */
export class InstalledPortals implements HubSpotPortals {
  private readonly clients = new Map<string, HubSpotCrm>();

  constructor(private readonly options: InstalledPortalsOptions) {}

  /**
   * HUBSPOT_PORTAL_ID when set (it must be installed), else the only portal installed. With
   * several installed and no HUBSPOT_PORTAL_ID a bare contact id is ambiguous: refused, never
   * guessed, since the same id names another customer's contact in another portal.
   */
  async defaultPortal(): Promise<string> {
    const { portalId, vault } = this.options;
    const installed = await vault.portals();
    if (portalId !== undefined) {
      if (!installed.includes(portalId))
        throw new AuthError(
          `HubSpot portal ${portalId} (HUBSPOT_PORTAL_ID) is not installed: install it, or unset the variable`,
        );
      return portalId;
    }
    if (installed.length === 1) return installed[0];
    if (installed.length === 0)
      throw new AuthError('no HubSpot portal is installed: an admin starts the install (docs/hubspot.md, "Install")');
    throw new ConfigError(
      `several HubSpot portals are installed (${installed.join(', ')}): a bare contact id is ambiguous; name the portal (<portalId>:<contactId>, list:<portalId>/<listId>) or set HUBSPOT_PORTAL_ID`,
    );
  }

  crm(portalId: string): HubSpotCrm {
    let crm = this.clients.get(portalId);
    if (!crm) {
      crm = new HubSpotCrm({
        basePath: this.options.basePath,
        accessToken: () => this.options.vault.accessToken(portalId),
        pacing: this.options.pacing ?? realPacing,
      });
      this.clients.set(portalId, crm);
    }
    return crm;
  }

  async isInstalled(portalId: string): Promise<boolean> {
    return (await this.options.vault.portals()).includes(portalId);
  }

  forget(portalId: string): void {
    this.clients.delete(portalId);
  }
}

/**
 * One account reached with one client: a private app's static token (HUBSPOT_PORTAL_ID, when
 * set, is its portal), or a test's client. Contact ids naming another portal are refused.
 */
export class OnePortal implements HubSpotPortals {
  constructor(
    private readonly client: HubSpotCrm,
    private readonly portalId?: string,
  ) {}

  async defaultPortal(): Promise<string> {
    return this.portalId ?? '';
  }

  crm(portalId: string): HubSpotCrm {
    if (portalId !== (this.portalId ?? ''))
      throw new ConfigError(
        this.portalId === undefined
          ? `contact ids of a private app name no portal (got portal ${portalId}); set HUBSPOT_PORTAL_ID to the app's account to accept <portalId>:<contactId>`
          : `portal ${portalId} is not this private app's account (HUBSPOT_PORTAL_ID=${this.portalId})`,
      );
    return this.client;
  }

  async isInstalled(portalId: string): Promise<boolean> {
    return this.portalId === portalId;
  }

  forget(): void {}
}

/** A private app's portal: its token's client paced at the private-app limit. */
export function privateAppPortal(
  options: { basePath: string; token: string; portalId?: string; pacing?: Pacing },
  burst: RequestLimit,
): OnePortal {
  const crm = new HubSpotCrm({
    basePath: options.basePath,
    accessToken: async () => options.token,
    pacing: options.pacing,
    burst,
  });
  return new OnePortal(crm, options.portalId);
}
