import { SqliteStore } from './sqlite.ts';
import type { Store } from './types.ts';

export * from './types.ts';
export { SqliteStore } from './sqlite.ts';
export { StorageFault, type StorageFaultCode } from './storage-fault.ts';

/**
 * Opens the store named by a URL: `sqlite:./data/nextbest.db`, `sqlite::memory:` or a bare path.
 * (`postgres://…` arrives with the PostgreSQL store.)
 */
export function openStore(url: string): Store {
  if (url.startsWith('sqlite:')) return new SqliteStore(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(url))
    throw new Error(`--db ${url}: the PostgreSQL store is not available yet; use sqlite:FILE`);
  if (!url.includes('://')) return new SqliteStore(url);
  throw new Error(`--db ${url}: unknown store; use sqlite:FILE`);
}
