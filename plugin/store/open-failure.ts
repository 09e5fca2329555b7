import { accessSync, closeSync, constants, existsSync, openSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The operating system's refusals, in words. */
const FILE_SYSTEM_REASONS: Record<string, string> = {
  ENOTDIR: 'a part of its path is a file, not a directory',
  ENOENT: 'a part of its path does not exist',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EISDIR: 'it is a directory',
  ELOOP: 'its path loops through symbolic links',
  ENAMETOOLONG: 'its path is too long',
};

/** SQLite's primary result codes (an extended code such as SQLITE_IOERR_WRITE maps by its prefix), in words. */
const SQLITE_REASONS: Record<string, string> = {
  SQLITE_NOTADB: 'the file is not a SQLite database',
  SQLITE_CORRUPT: 'the database file is corrupt',
  SQLITE_READONLY: 'the database is read-only',
  SQLITE_FULL: 'the disk is full',
  SQLITE_IOERR: 'the disk failed to read or write it',
  SQLITE_PERM: 'permission denied',
};

/**
 * The error a failed open becomes: `cannot open the database <path>: <cause in words> (<the
 * system's or SQLite's message>)`. SQLite's own "unable to open database file" names neither the
 * path nor the reason, so for it the file system is asked why: `…: its directory <dir> is not
 * writable (EACCES); SQLite: unable to open database file`.
 */
export function openFailure(path: string, err: unknown): Error {
  return new Error(`cannot open the database ${path}: ${reasonOf(path, err)}`, { cause: err });
}

function reasonOf(path: string, err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code !== 'string') return message;
  const diagnosis = code === 'SQLITE_CANTOPEN' ? whyNotOpened(path) : undefined;
  if (diagnosis) return `${diagnosis}; SQLite: ${message}`;
  const words = FILE_SYSTEM_REASONS[code] ?? SQLITE_REASONS[primaryCode(code)];
  return words ? `${words} (${message})` : `${message} (${code})`;
}

/** SQLITE_IOERR of SQLITE_IOERR_WRITE. */
function primaryCode(code: string): string {
  return /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? code;
}

/** Why SQLite could not open or create the file (or its companions -wal, -shm and .lock), as far as the file system says. */
function whyNotOpened(path: string): string | undefined {
  const dir = dirname(path);
  const file = existsSync(path) ? refusal(path, constants.R_OK | constants.W_OK) : undefined;
  if (file) return `the file is not readable and writable (${file})`;
  const folder = refusal(dir, constants.W_OK | constants.X_OK) ?? creationRefusal(dir);
  if (folder) return `its directory ${dir} is not writable (${folder})`;
  return undefined;
}

/** The error code of creating a file in `dir` (removed at once), or undefined when it can be (root passes `access`). */
function creationRefusal(dir: string): string | undefined {
  const probe = join(dir, `.nextbest-open-check-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    rmSync(probe, { force: true });
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? 'refused';
  }
}

/** The error code of `access(path, mode)`, or undefined when it is allowed. */
function refusal(path: string, mode: number): string | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? 'refused';
  }
}
