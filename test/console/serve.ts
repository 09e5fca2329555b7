/**
 * `nextbest serve` as a user starts it: the built bin (dist/), a real SQLite file, the example
 * config, on a free port; the environment without vendor connections.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { freePort } from '../helpers/free-port.ts';
import { pollUntil } from '../helpers/poll.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/nextbest.js');
const CONFIG = join(ROOT, 'examples/agents.yaml');

export interface ServedBin {
  url: string;
  /** Everything it printed so far. */
  output: () => string;
  /** SIGTERM, and its exit code. */
  stop: () => Promise<number | null>;
}

/**
 * Starts the built `nextbest serve` on `db` and waits for its banner. It runs in the folder of
 * `db`, so that its audience folder (`./data/audiences`) is there too.
 */
export async function serveBin(db: string, env: Record<string, string>, args: string[] = []): Promise<ServedBin> {
  const port = await freePort();
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(BRAZE|SEGMENT|HUBSPOT|NEXTBEST)_/.test(k)) base[k] = v;
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--config', CONFIG, '--db', `sqlite:${db}`, '--port', String(port), ...args],
    { cwd: dirname(db), env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const banner = await pollUntil(
    () => {
      if (child.exitCode !== null) throw new Error(`serve exited (${child.exitCode}) before its banner:\n${output}`);
      return output;
    },
    (text) => /nextbest listening on \S+/.test(text),
    'the banner of nextbest serve',
  );
  return {
    url: /nextbest listening on (\S+)/.exec(banner)![1]!,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
