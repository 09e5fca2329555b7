import { PgStore } from './postgres.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

export * from './types.ts';
export { SqliteStore } from './sqlite.ts';
export { PgStore } from './postgres.ts';
export { redactedUrl } from './postgres-faults.ts';
export { StorageFault, type StorageFaultCode } from './storage-fault.ts';

/**
 * Opens the store named by a URL: `sqlite:./data/nextbest.db`, `sqlite::memory:` or a bare path
 * (the embedded default), or `postgres://user:password@host:port/database` (also `postgresql://`)
 * for several instances on one database. The PostgreSQL store applies its migrations before it
 * resolves.
 */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('sqlite:')) return new SqliteStore(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(url)) return PgStore.open(url);
  if (!url.includes('://')) return new SqliteStore(url);
  throw new Error(`--db ${url}: unknown store; use sqlite:FILE or postgres://…`);
}
