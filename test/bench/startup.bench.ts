import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.ts';

/**
 * Start-up as an operator sees it: from spawning `node bin/nextbest.js serve --config
 * examples/agents.yaml --db sqlite:<empty temp file> --port <free>` to the first 200 of
 * GET /healthz, beside its floor: a bare `node:http` server that answers 200 to everything,
 * spawned and polled the same way (the cost of starting Node and of the polling itself). Each run
 * starts the floor, then nextbest on an empty database (the first start, which generates and
 * hashes the API key and migrates), then nextbest again on that database (a restart). The runs
 * interleave, so a busy machine slows all three alike. `node bin/nextbest.js` runs the build in
 * dist/ (`npm run bench` builds first). Figures are printed, never asserted.
 */

export interface StartupBenchOptions {
  /** Runs of each of the three starts; the median is printed. */
  runs?: number;
}

const POLL_MS = 5;
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;
const FLOOR_SOURCE = "require('http').createServer((q,s)=>s.end('ok')).listen(Number(process.argv[1]),'127.0.0.1')";

/** The status of GET http://127.0.0.1:<port>/healthz, or 0 when nothing answers yet. */
function healthStatus(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
  });
}

/** The environment of the child: this one without vendor connections or a key, as on a fresh machine. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BRAZE|SEGMENT|HUBSPOT|NEXTBEST)_/.test(k) && k !== 'NODE_OPTIONS') env[k] = v;
  return env;
}

/** Milliseconds from spawning `node <args>` (with `<port>` replaced) to its first 200 on /healthz; stops it after. */
async function timeToHealthy(args: string[]): Promise<number> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    args.map((a) => (a === '<port>' ? String(port) : a)),
    { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(
          `node ${args.join(' ')} exited (${child.signalCode ?? child.exitCode}) before /healthz:\n${stderr}`,
        );
      if ((await healthStatus(port)) === 200) return Number(process.hrtime.bigint() - started) / 1e6;
      if (Number(process.hrtime.bigint() - started) / 1e6 > READY_TIMEOUT_MS)
        throw new Error(`node ${args.join(' ')} was not healthy within ${READY_TIMEOUT_MS / 1000} s:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function line(label: string, ms: number[], floor?: number[]): string {
  const base = `${label.padEnd(44)} median ${median(ms).toFixed(0).padStart(6)} ms   min ${Math.min(...ms)
    .toFixed(0)
    .padStart(6)} ms`;
  return floor ? `${base}   ×floor: median ${(median(ms) / median(floor)).toFixed(2)}` : base;
}

export async function benchStartup(options: StartupBenchOptions = {}): Promise<string[]> {
  const runs = options.runs ?? 5;
  const floor: number[] = [];
  const first: number[] = [];
  const restart: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'nextbest-startup-bench-'));
    try {
      const serve = [
        'bin/nextbest.js',
        'serve',
        '--config',
        'examples/agents.yaml',
        '--db',
        `sqlite:${join(dir, 'nextbest.db')}`,
        '--port',
        '<port>',
      ];
      floor.push(await timeToHealthy(['-e', FLOOR_SOURCE, '<port>']));
      first.push(await timeToHealthy(serve));
      restart.push(await timeToHealthy(serve));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return [
    `start-up: spawn → first 200 on GET /healthz, ${runs} runs of each (node bin/nextbest.js serve, examples/agents.yaml)`,
    line('floor: node -e http.createServer(…).listen', floor),
    line('nextbest serve, empty database', first, floor),
    line('nextbest serve, restart on that database', restart, floor),
  ];
}
