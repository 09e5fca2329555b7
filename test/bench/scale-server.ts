import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CONFIG_PATH } from './scale-fill.ts';
import { freePort } from '../helpers/free-port.ts';

/**
 * The service under the scale bench runs in a process of its own (`node bin/nextbest.js serve`),
 * so that its memory is its alone and the load generator does not share its event loop. This file
 * starts and stops it, reads its memory from /proc, and samples its Prometheus metrics.
 */

export interface ServerProcess {
  url: string;
  pid: number;
  /** Seconds from spawn to "listening". */
  readySeconds: number;
  /** The last lines it printed (stdout and stderr). */
  tail(): string[];
  stop(): Promise<void>;
}

const TAIL_LINES = 40;
const READY_TIMEOUT_MS = 300_000;
const STOP_TIMEOUT_MS = 60_000;

/** The environment of the child: this one without vendor connections, with the bench's admin key. */
function serverEnv(apiKey: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(BRAZE|SEGMENT|HUBSPOT)_/.test(k) && k !== 'NEXTBEST_PROFILE_SOURCE') env[k] = v;
  return { ...env, NEXTBEST_API_KEY: apiKey };
}

function keepTail(child: ChildProcess, lines: string[]): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
    });
  }
}

function waitForListening(child: ChildProcess, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not listen within ${READY_TIMEOUT_MS / 1000} s:\n${lines.join('\n')}`)),
      READY_TIMEOUT_MS,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /nextbest listening on (\S+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolve(m[1]);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${signal ?? code}) before listening:\n${lines.join('\n')}`));
    });
  });
}

/**
 * Node options for the service's process from NEXTBEST_BENCH_NODE_ARGS, to profile the service
 * under a bench's load: `NEXTBEST_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' npm run
 * bench -- blocking` (NODE_OPTIONS refuses --cpu-prof, and would profile the load generator too).
 */
function serverNodeArgs(): string[] {
  return (process.env.NEXTBEST_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
}

/**
 * `node bin/nextbest.js serve --config examples/agents.yaml --db sqlite:<dbPath> --port <free>` with
 * `apiKey` as its admin key, and `env` over the environment (a vendor's variables, say).
 */
export async function startServerProcess(
  dbPath: string,
  apiKey: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(
    process.execPath,
    [
      ...serverNodeArgs(),
      'bin/nextbest.js',
      'serve',
      '--config',
      CONFIG_PATH,
      '--db',
      `sqlite:${dbPath}`,
      '--port',
      String(port),
    ],
    {
      env: { ...serverEnv(apiKey), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  keepTail(child, lines);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let url: string;
  try {
    url = await waitForListening(child, lines);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    pid: child.pid!,
    readySeconds: Number(process.hrtime.bigint() - started) / 1e9,
    tail: () => [...lines],
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// memory

export interface Memory {
  rss: number;
  hwm: number;
  anon: number;
  file: number;
}

/** VmRSS, VmHWM, RssAnon and RssFile of a process, in bytes. */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
}

// ---------------------------------------------------------------------------------------------
// metrics

/** A gauge's value in a Prometheus text exposition (the first series of that name). */
export function gauge(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export const LOOP_MAX = 'nextbest_nodejs_eventloop_lag_max_seconds';
export const LEARNER_LAG = 'nextbest_learner_lag_seconds';

interface Sample {
  phase: string;
  /** Longest event-loop delay since the previous scrape (prom-client resets its histogram at each collect), s. */
  loopMax?: number;
  learnerLag?: number;
  rss: number;
}

/**
 * Scrapes GET /metrics and /proc/<pid>/status every `intervalMs`. prom-client's event-loop
 * histogram (perf_hooks.monitorEventLoopDelay) is reset at every collect, so each scrape gives the
 * longest block since the previous one, and the max over the scrapes of a phase is the longest
 * block of the phase. A phase change takes a sample first, so that the block before it counts for
 * the phase it happened in.
 */
export class Sampler {
  private readonly samples: Sample[] = [];
  private readonly cpuByPhase = new Map<string, CpuShare>();
  private current = 'start';
  private cpuMeter: (() => CpuShare) | undefined;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly pid: number,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.cpuMeter = measureCpu(this.pid);
  }

  /** Closes the current phase with a sample and starts `name`. */
  async phase(name: string): Promise<void> {
    await this.sample();
    this.endCpu();
    this.current = name;
    this.cpuMeter = measureCpu(this.pid);
  }

  /** Takes a last sample for the current phase and stops; later calls do nothing. */
  async stop(): Promise<void> {
    if (this.current === 'stopped') return;
    clearInterval(this.timer);
    await this.sample();
    this.endCpu();
    this.current = 'stopped';
  }

  private endCpu(): void {
    if (this.cpuMeter) this.cpuByPhase.set(this.current, this.cpuMeter());
    this.cpuMeter = undefined;
  }

  /** Who used the CPU during a phase. */
  cpu(phase: string): CpuShare | undefined {
    return this.cpuByPhase.get(phase);
  }

  private sample(): Promise<void> {
    this.chain = this.chain.then(() => this.sampleNow()).catch(() => undefined);
    return this.chain;
  }

  private async sampleNow(): Promise<void> {
    const phase = this.current;
    const text = await (await fetch(`${this.url}/metrics`)).text();
    this.samples.push({
      phase,
      loopMax: gauge(text, LOOP_MAX),
      learnerLag: gauge(text, LEARNER_LAG),
      rss: memoryOf(this.pid).rss,
    });
  }

  /** The largest value of a field over the samples of some phases (all but start when none are named). */
  max(field: 'loopMax' | 'learnerLag' | 'rss', phases?: string[]): number | undefined {
    let max: number | undefined;
    for (const s of this.samples) {
      if (phases ? !phases.includes(s.phase) : s.phase === 'start') continue;
      const v = s[field];
      if (v !== undefined && Number.isFinite(v) && (max === undefined || v > max)) max = v;
    }
    return max;
  }

  count(phase: string): number {
    return this.samples.filter((s) => s.phase === phase).length;
  }
}

// ---------------------------------------------------------------------------------------------
// the machine

/** Jiffies per second of /proc (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

function machineBusyJiffies(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return user + nice + system + irq + softirq + (steal ?? 0);
}

function processJiffies(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the fields after the command name (which may hold spaces) start at state, field 3
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export interface CpuShare {
  /** Cores' worth of CPU used over the interval by the server, by this process, and by everything else. */
  server: number;
  bench: number;
  others: number;
}

/** Starts measuring who uses the CPU; the returned function ends the interval. */
export function measureCpu(serverPid: number): () => CpuShare {
  const t0 = process.hrtime.bigint();
  const machine0 = machineBusyJiffies();
  const server0 = processJiffies(serverPid);
  const bench0 = process.cpuUsage();
  return () => {
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const bench = process.cpuUsage(bench0);
    const benchJ = ((bench.user + bench.system) / 1e6) * USER_HZ;
    const serverJ = processJiffies(serverPid) - server0;
    const othersJ = Math.max(0, machineBusyJiffies() - machine0 - serverJ - benchJ);
    const cores = (j: number) => j / USER_HZ / seconds;
    return { server: cores(serverJ), bench: cores(benchJ), others: cores(othersJ) };
  };
}
