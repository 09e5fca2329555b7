import Database from 'better-sqlite3';

/** Thrown when another process (or another store of this one) holds the file's writer lock. */
export class WriterLockHeldError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WriterLockHeldError';
  }
}

/**
 * One writer process per SQLite file. Two processes serving one file would both learn, fold the
 * same outcomes twice and overwrite each other's model snapshots, so the second one must not
 * start. The lock is SQLite's own exclusive lock on a companion file `<path>.lock`, held by an
 * open connection for the life of the store: the operating system drops it when the process ends,
 * however it ends (a SIGKILL leaves no stale lock to clean up). The database file itself stays
 * open to readers, such as the WAL checkpointer's thread.
 *
 * Returns the release; throws with a message saying what to do when another process holds it.
 */
export function holdWriterLock(path: string): () => void {
  const lock = new Database(`${path}.lock`, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    // The first write takes the exclusive lock; EXCLUSIVE locking mode keeps it after the commit.
    lock.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS writer (pid INTEGER); COMMIT;');
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new WriterLockHeldError(
        `${path} is already open in another nextbest process (it holds ${path}.lock): one process writes to a SQLite file; stop the other one, or give this one its own --db`,
        { cause: err },
      );
    }
    throw err;
  }
  return () => {
    if (lock.open) lock.close();
  };
}
