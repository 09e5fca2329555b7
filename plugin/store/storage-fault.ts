/**
 * `storage_unavailable`: the database file is gone, unwritable or failing (writes would be lost or
 * cannot be made). `storage_full`: there is no room for the write (SQLite's SQLITE_FULL).
 */
export type StorageFaultCode = 'storage_unavailable' | 'storage_full';

/**
 * Thrown instead of acknowledging a write the store cannot keep. The HTTP layer answers it with
 * 503 and its code; `/healthz` fails with it while it lasts.
 */
export class StorageFault extends Error {
  constructor(
    readonly code: StorageFaultCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageFault';
  }
}

/** SQLite's result codes (extended codes included) of a write that failed because of the disk, not of the data. */
const UNAVAILABLE_CODES = /^SQLITE_(IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB)/;

/**
 * The storage fault an error of a write stands for, or undefined when it is about the data (a
 * constraint, a bug): SQLITE_FULL is `storage_full`; an I/O error, a read-only or corrupt file is
 * `storage_unavailable`.
 */
export function storageFaultOf(err: unknown, path: string): StorageFault | undefined {
  if (err instanceof StorageFault) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  const cause = `SQLite: ${(err as Error).message}`;
  if (code === 'SQLITE_FULL')
    return new StorageFault(
      'storage_full',
      `the database ${path} is full (${cause}): free disk space; writes resume as soon as one succeeds`,
      { cause: err },
    );
  if (UNAVAILABLE_CODES.test(code))
    return new StorageFault('storage_unavailable', `writes to the database ${path} fail (${cause}, ${code})`, {
      cause: err,
    });
  return undefined;
}
