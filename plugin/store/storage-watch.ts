import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import type Database from 'better-sqlite3';
import { StorageFault, storageFaultOf } from './storage-fault.ts';

/** How often the file is looked at between writes, so that a fault is reported with no traffic. */
export const WATCH_INTERVAL_MS = 1000;
/** Bytes the disk probe writes (then removes) beside the database: a few pages' worth. */
const PROBE_BYTES = 64 * 1024;

interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * Whether the SQLite store can keep what it acknowledges. A process that has the database open
 * keeps writing into it after the file was deleted (or replaced) — into an inode no path leads to,
 * lost at the next start — so the file at the path is compared with the one opened (device and
 * inode) before and after every write, and every WATCH_INTERVAL_MS. So is its write-ahead log
 * (`<path>-wal`, known from the first commit on): the commits it holds are not in the file until a
 * checkpoint, and SQLite never removes it while a connection is open. A file that is no longer
 * writable is refused too. A write that fails for want of space or of a working disk (see
 * storageFaultOf) is remembered until a write succeeds again, or until a probe write does: the
 * probe is what lets `/healthz` recover with no traffic.
 */
export class StorageWatch {
  private readonly opened?: FileIdentity;
  /** The write-ahead log's identity, taken after the first commit (it exists from then on). */
  private wal?: FileIdentity;
  /** The fault of the last write that failed, until a write or a probe succeeds. */
  private writeFault?: StorageFault;
  /** The message last reported, so that each fault is reported once (and its end once). */
  private reported?: string;
  private readonly timer?: NodeJS.Timeout;

  /** `path` undefined: an in-memory database, which has no file to lose. */
  constructor(
    private readonly db: Database.Database,
    private readonly path: string | undefined,
    private readonly report: (message: string) => void,
    intervalMs = WATCH_INTERVAL_MS,
  ) {
    if (path === undefined) return;
    this.opened = identityOf(path);
    this.timer = setInterval(() => this.reportFault(this.fileFault() ?? this.writeFault), intervalMs);
    this.timer.unref();
  }

  /** Throws the fault that forbids writing: the file is gone or not writable. */
  beforeWrite(): void {
    const fault = this.fileFault();
    if (fault) throw this.reportFault(fault);
  }

  /** After a commit, before its caller hears of it: throws when the file vanished meanwhile; ends a write fault. */
  afterWrite(): void {
    if (this.path !== undefined && !this.wal) this.wal = identityIfAny(walOf(this.path));
    this.beforeWrite();
    this.writeFault = undefined;
    this.reportFault(undefined);
  }

  /** What to throw for a failed write: its storage fault (remembered until a write succeeds), or the error itself. */
  failedWrite(err: unknown): unknown {
    const fault = storageFaultOf(err, this.name());
    if (!fault) return err;
    this.writeFault = fault;
    return this.reportFault(fault);
  }

  /** What keeps the store from keeping writes now, if anything; a remembered write fault is probed first. */
  health(): StorageFault | undefined {
    return this.reportFault(this.fileFault() ?? this.probedWriteFault());
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private name(): string {
    return this.path ?? ':memory:';
  }

  private fileFault(): StorageFault | undefined {
    if (this.path === undefined || !this.opened) return undefined;
    return (
      vanished(this.path, this.opened) ?? (this.wal && vanished(walOf(this.path), this.wal)) ?? unwritable(this.path)
    );
  }

  private probedWriteFault(): StorageFault | undefined {
    if (this.writeFault && this.probeSucceeds()) this.writeFault = undefined;
    return this.writeFault;
  }

  /** A write that needs what a failed one lacked: room for the database to grow, and space on its disk. */
  private probeSucceeds(): boolean {
    if (atPageLimit(this.db)) return false;
    return this.path === undefined || canWriteBeside(this.path);
  }

  private reportFault(fault: StorageFault | undefined): StorageFault | undefined {
    if (fault && fault.message !== this.reported) this.report(fault.message);
    if (!fault && this.reported) this.report(`the database ${this.name()} takes writes again`);
    this.reported = fault?.message;
    return fault;
  }
}

function identityOf(path: string): FileIdentity {
  const { dev, ino } = statSync(path);
  return { dev, ino };
}

function identityIfAny(path: string): FileIdentity | undefined {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats && { dev: stats.dev, ino: stats.ino };
}

function walOf(path: string): string {
  return `${path}-wal`;
}

function vanished(path: string, opened: FileIdentity): StorageFault | undefined {
  let now: Stats | undefined;
  try {
    now = statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    return gone(path, `can no longer be looked at (${(err as Error).message})`);
  }
  if (!now) return gone(path, 'was deleted');
  if (now.dev !== opened.dev || now.ino !== opened.ino) return gone(path, 'was replaced by another file');
  return undefined;
}

function gone(path: string, what: string): StorageFault {
  if (path.endsWith('-wal'))
    return new StorageFault(
      'storage_unavailable',
      `the database's write-ahead log ${path} ${what} while the service had it open: the commits since the last checkpoint, and what is written now, would be lost at the next start, so no write is accepted; back the data up through the API before restarting the service`,
    );
  return new StorageFault(
    'storage_unavailable',
    `the database file ${path} ${what} while the service had it open: what is written now would be lost at the next start, so no write is accepted; restore the file, or restart the service`,
  );
}

function unwritable(path: string): StorageFault | undefined {
  try {
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).message;
    return new StorageFault(
      'storage_unavailable',
      `the database file ${path} is not writable (${code}): no write is accepted until it is`,
      { cause: err },
    );
  }
}

/** The database has reached the most pages it may have (PRAGMA max_page_count). */
function atPageLimit(db: Database.Database): boolean {
  const pages = db.pragma('page_count', { simple: true }) as number;
  return pages >= (db.pragma('max_page_count', { simple: true }) as number);
}

/** Writes PROBE_BYTES to `<path>.probe`, syncs and removes it: false when the disk refuses. */
function canWriteBeside(path: string): boolean {
  const probe = `${path}.probe`;
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, Buffer.alloc(PROBE_BYTES));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch {
    return false;
  } finally {
    try {
      rmSync(probe, { force: true });
    } catch {
      // a probe left behind is harmless: the next one truncates it
    }
  }
}
