import Database from 'better-sqlite3';

/**
 * One installed portal's OAuth tokens as stored: the tokens themselves are sealed (AES-256-GCM,
 * see SecretBox) before they reach a PortalTokens implementation, so no implementation ever
 * holds a token in clear.
 */
export interface SealedPortalTokens {
  portalId: string;
  /** `{accessToken, refreshToken, expiresAt}` sealed with the portal id as associated data. */
  sealed: Uint8Array;
  /** Epoch ms of the access token's expiry, in clear so refreshes can be planned without opening. */
  expiresAt: number;
  scopes: string[];
  updatedAt: number;
}

/** Where sealed tokens live: one row per portal. */
export interface PortalTokens {
  get(portalId: string): Promise<SealedPortalTokens | undefined>;
  /** Stores a portal's tokens; a portal installed again (or refreshed) keeps its place in the install order. */
  put(row: SealedPortalTokens): Promise<void>;
  /** Every installed portal id, first installed first. */
  portals(): Promise<string[]>;
  /** Deletes a portal's row; false when there was none. */
  remove(portalId: string): Promise<boolean>;
  close?(): Promise<void>;
}

export class InMemoryPortalTokens implements PortalTokens {
  private readonly rows = new Map<string, SealedPortalTokens>();

  async get(portalId: string): Promise<SealedPortalTokens | undefined> {
    const row = this.rows.get(portalId);
    return row ? { ...row, sealed: Buffer.from(row.sealed), scopes: [...row.scopes] } : undefined;
  }

  async put(row: SealedPortalTokens): Promise<void> {
    // a Map keeps the order of first insertion when a key is set again: the install order
    this.rows.set(row.portalId, { ...row, sealed: Buffer.from(row.sealed), scopes: [...row.scopes] });
  }

  async portals(): Promise<string[]> {
    return [...this.rows.keys()];
  }

  async remove(portalId: string): Promise<boolean> {
    return this.rows.delete(portalId);
  }
}

/**
 * Sealed tokens in a SQLite file through better-sqlite3, in a table of their own
 * (`hubspot_portal_tokens`). It may be the service's own database file: the table name does not
 * collide with the store's tables and the store never reads it.
 */
export class SqlitePortalTokens implements PortalTokens {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('secure_delete = ON'); // an uninstalled portal's sealed tokens leave no byte behind
    this.db.exec(`CREATE TABLE IF NOT EXISTS hubspot_portal_tokens (
      portal_id TEXT PRIMARY KEY,
      sealed BLOB NOT NULL,
      expires_at INTEGER NOT NULL,
      scopes TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      installed_at INTEGER
    )`);
    this.addInstallOrder();
  }

  /**
   * Files written before the install order was kept get an `installed_at` column; their rows take
   * their last update as install time (the order of those is then only approximate).
   */
  private addInstallOrder(): void {
    const columns = this.db.prepare('PRAGMA table_info(hubspot_portal_tokens)').all() as { name: string }[];
    if (columns.some((c) => c.name === 'installed_at')) return;
    this.db.exec('ALTER TABLE hubspot_portal_tokens ADD COLUMN installed_at INTEGER');
    this.db.exec('UPDATE hubspot_portal_tokens SET installed_at = updated_at');
  }

  async get(portalId: string): Promise<SealedPortalTokens | undefined> {
    const row = this.db
      .prepare(
        'SELECT portal_id, sealed, expires_at, scopes, updated_at FROM hubspot_portal_tokens WHERE portal_id = ?',
      )
      .get(portalId) as
      { portal_id: string; sealed: Buffer; expires_at: number; scopes: string; updated_at: number } | undefined;
    if (!row) return undefined;
    return {
      portalId: row.portal_id,
      sealed: row.sealed,
      expiresAt: row.expires_at,
      scopes: JSON.parse(row.scopes) as string[],
      updatedAt: row.updated_at,
    };
  }

  async put(row: SealedPortalTokens): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO hubspot_portal_tokens (portal_id, sealed, expires_at, scopes, updated_at, installed_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (portal_id) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at, scopes = excluded.scopes, updated_at = excluded.updated_at`,
      )
      .run(
        row.portalId,
        Buffer.from(row.sealed),
        row.expiresAt,
        JSON.stringify(row.scopes),
        row.updatedAt,
        row.updatedAt,
      );
  }

  async portals(): Promise<string[]> {
    return (
      this.db.prepare('SELECT portal_id FROM hubspot_portal_tokens ORDER BY installed_at, rowid').all() as {
        portal_id: string;
      }[]
    ).map((r) => r.portal_id);
  }

  async remove(portalId: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM hubspot_portal_tokens WHERE portal_id = ?').run(portalId).changes > 0;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
