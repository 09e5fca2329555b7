import type Database from 'better-sqlite3';
import type { Labels } from './decision-codec.ts';

/** Names remembered as missing, at most (names come from configs; ids from requests are never labels). */
const MISSES_KEPT = 10_000;

/**
 * The SQLite store's dictionary of names: workspaces, agents, dimensions, arms, reasons, channels
 * and event names are stored as small integers. The set of names is small (it comes from agent
 * configs), so it is cached whole. A new name is written at once in its own statement, outside the
 * caller's transaction: a name that outlives a rolled-back decision costs one unused row, while a
 * cached id whose row was rolled back would corrupt every later row that used it. A name looked up
 * and not found is remembered as missing too (an agent with no decision yet is looked up for every
 * event): only this process writes names (one writer per file, writer-lock.ts), and `id` forgets
 * the miss when it creates the name.
 */
export class SqliteLabels implements Labels {
  private readonly ids = new Map<string, number>();
  private readonly texts = new Map<number, string>();
  private readonly missing = new Set<string>();
  private readonly insert: Database.Statement;
  private readonly byText: Database.Statement;
  private readonly byId: Database.Statement;

  /** `insideTransaction`: the caller's transaction creates the names it needs (a migration, which fails whole). */
  constructor(
    private readonly db: Database.Database,
    private readonly insideTransaction = false,
  ) {
    this.insert = db.prepare('INSERT OR IGNORE INTO labels (text) VALUES (?)');
    this.byText = db.prepare('SELECT id FROM labels WHERE text = ?');
    this.byId = db.prepare('SELECT text FROM labels WHERE id = ?');
  }

  /** The name's id, created when new. Call it outside a transaction that may roll back. */
  id(text: string): number {
    const cached = this.ids.get(text);
    if (cached !== undefined) return cached;
    if (this.db.inTransaction && !this.insideTransaction)
      throw new Error(`the label "${text}" must be created before the transaction that uses it`);
    this.insert.run(text);
    this.missing.delete(text);
    return this.remember(text, (this.byText.get(text) as { id: number }).id);
  }

  /** The name's id, or undefined when it was never stored (so nothing refers to it). */
  find(text: string): number | undefined {
    const cached = this.ids.get(text);
    if (cached !== undefined || this.missing.has(text)) return cached;
    const row = this.byText.get(text) as { id: number } | undefined;
    if (row) return this.remember(text, row.id);
    if (this.missing.size >= MISSES_KEPT) this.missing.clear();
    this.missing.add(text);
    return undefined;
  }

  text(id: number): string {
    const cached = this.texts.get(id);
    if (cached !== undefined) return cached;
    const row = this.byId.get(id) as { text: string } | undefined;
    if (!row) throw new Error(`label ${id} is missing from the labels table`);
    this.remember(row.text, id);
    return row.text;
  }

  private remember(text: string, id: number): number {
    this.ids.set(text, id);
    this.texts.set(id, text);
    return id;
  }
}
