import pg from 'pg';
import type { LearnerRole } from './types.ts';

/** The key of the learner's session advisory lock ("learner!" in ASCII), one per database. */
export const LEARNER_LOCK = 0x6c6561726e657221n;

/**
 * The learner's role on PostgreSQL: `pg_try_advisory_lock` on a connection of its own, never one
 * of the pool's (a pooled connection serves other requests and would carry the lock with it).
 * The server releases a session lock when its connection ends, so when the holder dies (or its
 * connection drops) another instance takes the role at its next `acquire`, within a learner tick.
 */
export class PgLearnerRole implements LearnerRole {
  private client: pg.Client | undefined;
  private held = false;

  constructor(private readonly config: pg.ClientConfig) {}

  async acquire(): Promise<boolean> {
    if (this.held) return this.confirm();
    try {
      const client = await this.connection();
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
        LEARNER_LOCK.toString(),
      ]);
      this.held = rows[0]!.ok;
    } catch {
      this.drop();
    }
    return this.held;
  }

  async confirm(): Promise<boolean> {
    if (!this.held || !this.client) return false;
    try {
      // the lock lives as long as this session: a live session still holds it
      await this.client.query('SELECT 1');
      return true;
    } catch {
      this.drop();
      return false;
    }
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.held = false;
    await client?.end().catch(() => undefined);
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client(this.config);
    // the connection dropped (a database restart, a network partition): the role is lost with it
    client.on('error', () => this.drop());
    client.on('end', () => this.drop(client));
    await client.connect();
    this.client = client;
    return client;
  }

  private drop(client = this.client): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.held = false;
    client?.end().catch(() => undefined);
  }
}
