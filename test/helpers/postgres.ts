import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.ts';

/**
 * A throwaway PostgreSQL server for tests: `initdb` into a temporary folder and `pg_ctl` on a free
 * port of 127.0.0.1, with trust authentication and without fsync (nothing in it outlives the
 * test). PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the
 * unprivileged user `nobody` (through `runuser`), which owns the folder.
 */
export interface TestPostgres {
  /** The URL of a database of this server (`postgres://nextbest@127.0.0.1:port/name`). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server immediately (as a crash would) or cleanly. */
  stop(mode?: 'immediate' | 'fast'): void;
  /** Starts it again on the same folder and port (after `stop`). */
  start(): void;
  /** Stops the server and removes its folder. */
  destroy(): void;
  readonly port: number;
}

const HOW_TO_GET_ONE =
  'install PostgreSQL server binaries (Debian/Ubuntu: apt-get update && apt-get install -y postgresql) or set PG_BIN to their folder';

/** The folder of initdb, pg_ctl and postgres: PG_BIN, else the newest /usr/lib/postgresql/<version>/bin. */
export function findPostgresBin(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.PG_BIN) return existsSync(join(env.PG_BIN, 'initdb')) ? env.PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], 'bin');
}

/**
 * The server binaries for a PostgreSQL test file, or undefined when there are none: the file's
 * tests are then skipped with one line saying how to get them. Under CI=true missing binaries
 * are an error, so CI never passes without running them.
 */
export function postgresBinForTests(env: Record<string, string | undefined> = process.env): string | undefined {
  const bin = findPostgresBin(env);
  if (bin) return bin;
  if (env.CI === 'true')
    throw new Error(`no PostgreSQL server binaries, and CI=true requires the PostgreSQL tests: ${HOW_TO_GET_ONE}`);
  console.warn(`\n[PostgreSQL tests skipped] no PostgreSQL server binaries found: ${HOW_TO_GET_ONE}\n`);
  return undefined;
}

const UNPRIVILEGED = 'nobody';

/** Runs a server binary, as `nobody` when this process is root; throws with its output when it fails. */
function runAsServerUser(bin: string, tool: string, args: string[]): void {
  const isRoot = process.getuid?.() === 0;
  const [command, argv] = isRoot
    ? ['runuser', ['-u', UNPRIVILEGED, '--', join(bin, tool), ...args]]
    : [join(bin, tool), args];
  const result = spawnSync(command, argv, { encoding: 'utf8', cwd: tmpdir() });
  if (result.status !== 0)
    throw new Error(`${tool} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
}

/** Starts a fresh server (a few seconds: initdb, then the server). */
export async function startPostgres(bin: string): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'nextbest-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { uid, gid } = userIds(UNPRIVILEGED);
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  runAsServerUser(bin, 'initdb', [
    '-D',
    data,
    '-U',
    'nextbest',
    '--auth=trust',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  const start = () =>
    runAsServerUser(bin, 'pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-o',
      options,
      '-w',
      '-t',
      '60',
      'start',
    ]);
  const stopServer = (mode: 'immediate' | 'fast' = 'fast') =>
    runAsServerUser(bin, 'pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
  start();
  const url = (database = 'postgres') => `postgres://nextbest@127.0.0.1:${port}/${database}`;
  let running = true;
  return {
    port,
    url,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop(mode) {
      stopServer(mode);
      running = false;
    },
    start() {
      start();
      running = true;
    },
    destroy() {
      if (running) stopServer('immediate');
      running = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', name], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`no user "${name}" to run PostgreSQL as`);
  return { uid, gid };
}
