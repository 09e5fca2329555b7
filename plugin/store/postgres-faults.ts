import { StorageFault } from './storage-fault.ts';

/**
 * SQLSTATE classes that say the database cannot take the work now, whatever the data: 08
 * connection exception, 53 insufficient resources (53100 disk full is `storage_full`), 57 operator
 * intervention (shutdown, crash recovery, cannot connect now), 58 system error (I/O), and 25006
 * read-only transaction (a standby after a failover).
 */
const UNAVAILABLE_STATES = /^(08|53|57|58)|^25006$/;

/** What the pg client says when the connection went away or never came (these errors carry no SQLSTATE). */
const CONNECTION_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|Cannot use a pool after calling end|terminating connection|the database system is/i;

/**
 * The storage fault an error of the PostgreSQL store stands for, or undefined when it is about the
 * data (a constraint, a bug): the server down, unreachable, restarting or out of room. `where`
 * names the database without its password.
 */
export function pgFaultOf(err: unknown, where: string): StorageFault | undefined {
  if (err instanceof StorageFault) return err;
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  const cause = `PostgreSQL: ${err.message}`;
  if (code === '53100')
    return new StorageFault('storage_full', `the database ${where} is full (${cause}): free disk space`, {
      cause: err,
    });
  const systemError = typeof code === 'string' && /^E[A-Z]+$/.test(code);
  if (
    (typeof code === 'string' && UNAVAILABLE_STATES.test(code)) ||
    systemError ||
    CONNECTION_MESSAGES.test(err.message)
  )
    return new StorageFault(
      'storage_unavailable',
      `the database ${where} is unavailable (${cause}${typeof code === 'string' ? `, ${code}` : ''})`,
      { cause: err },
    );
  return undefined;
}

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    // not a URL (a file path): hide anything shaped like user:password@
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}
