import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../helpers/poll.ts';
import { freePort } from '../helpers/free-port.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/nextbest.js');

// bin/nextbest.js runs the build in dist/: bring it up to date with the source under test (`tsc -b`
// compiles only what changed, and nothing when `npm test` has just built)
beforeAll(async () => {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: ROOT }).catch((err: { stdout: string }) => {
    throw new Error(`the build failed:\n${err.stdout}`);
  });
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('nextbest CLI', () => {
  it('validates the example config', async () => {
    const r = await cli('validate', 'examples/agents.yaml');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid \(workspace acme-sports, 1 agent: winback\)/);
  });

  it('prints every config error with its path and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nextbest-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      readFileSync('examples/agents.yaml', 'utf8')
        .replace('holdout: 0.10', 'holdout: 0.7')
        .replace('default: cb_style', 'default: cb_nope'),
    );
    const r = await cli('validate', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('agents[0].holdout: must be in [0, 0.5], got 0.7');
    expect(r.stderr).toMatch(/agents\[0\]\.dimensions\[4\]\.default: "cb_nope" is not one of the arms/);
  });

  it('prints the simulation as JSON with the documented fields', async () => {
    const r = await cli(
      'simulate',
      '--scenario',
      'retail',
      '--decisions',
      '1500',
      '--seed',
      '3',
      '--policies',
      'random,static-best,linucb',
      '--json',
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      scenario: 'retail',
      seed: '3',
      decisions: 1500,
      oracle: { reward: expect.any(Number) },
    });
    expect(report.policies.map((p: { name: string }) => p.name)).toEqual(['random', 'static-best', 'linucb']);
    for (const p of report.policies) {
      expect(p).toMatchObject({
        reward: expect.any(Number),
        oracleShare: expect.any(Number),
        regret: expect.any(Number),
        last: { reward: expect.any(Number), oracleShare: expect.any(Number) },
      });
    }
  });

  it('writes the HTML report with --out', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'nextbest-cli-')), 'report.html');
    const r = await cli('simulate', '--decisions', '1000', '--policies', 'random', '--out', out);
    expect(r.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('<svg');
  });

  it('rejects an unknown scenario as a usage error: exit 2', async () => {
    const r = await cli('simulate', '--scenario', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are retail, drift, cold-start, lull/);
  });

  it.each(['evaluate', 'evaluate --help', 'help evaluate'])(
    'rejects an unknown command, naming the commands, with exit 2: nextbest %s',
    async (line) => {
      const r = await cli(...line.split(' '));
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain("error: unknown command 'evaluate'");
      expect(r.stderr).toContain('commands: simulate, validate, serve, run, help');
    },
  );

  it('prints the help with exit 0 when asked for it', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Commands:[\s\S]*serve \[options\]/);
  });
});

/** The environment of a child: this one without vendor connections or an API key. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(BRAZE|SEGMENT|HUBSPOT|NEXTBEST)_/.test(k)) env[k] = v;
  return env;
}

interface Served {
  /** What the start printed on stdout, up to its example request. */
  banner: string;
  url: string;
  /** Everything it printed on stdout and stderr until it stopped. */
  output: string;
}

/**
 * Starts `nextbest serve` on `db` with the example config, waits for its banner, calls `whileUp`
 * with its URL and banner, and stops it with SIGTERM (it must exit 0).
 */
async function serve(
  db: string,
  env: NodeJS.ProcessEnv,
  whileUp: (url: string, banner: string) => Promise<void>,
): Promise<Served> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--config', 'examples/agents.yaml', '--db', `sqlite:${db}`, '--port', String(port)],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk), (output += chunk)));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let banner: string;
  let url: string;
  try {
    banner = await pollUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`serve exited (${child.exitCode}) before its banner:\n${output}`);
        return stdout;
      },
      (text) => /-d '\{"userId".*\n/.test(text),
      'the banner of nextbest serve',
      { everyMs: 20, attempts: 2_500 },
    );
    url = /nextbest listening on (\S+)/.exec(banner)![1];
    await whileUp(url, banner);
  } finally {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
  return { banner, url, output };
}

/** The status of an admin request with `key`: 200 when the service knows the key. */
async function reportStatus(url: string, key: string): Promise<number> {
  const res = await fetch(`${url}/v1/agents/winback/report`, { headers: { authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  return res.status;
}

const GENERATED = /API key \(shown once, stored hashed\): (nb_\S+)\n {2}export NEXTBEST_API_KEY=(\S+)/;

describe('nextbest serve: the API key in its start-up banner', () => {
  it('prints the key it generated on a first start, in the example request too, and the key works', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'nextbest-cli-')), 'nextbest.db');
    let status = 0;
    const { banner } = await serve(db, cleanEnv(), async (url, text) => {
      status = await reportStatus(url, GENERATED.exec(text)![1]);
    });
    const [, key, exported] = GENERATED.exec(banner)!;
    expect(exported).toBe(key);
    expect(banner).toContain(`-H "Authorization: Bearer ${key}"`);
    expect(status).toBe(200);
  });

  it('prints no key on a restart: the workspace already has one', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'nextbest-cli-')), 'nextbest.db');
    const first = await serve(db, cleanEnv(), async () => {});
    const key = GENERATED.exec(first.banner)![1];
    const again = await serve(db, cleanEnv(), async () => {});
    expect(again.output).not.toContain(key);
    expect(again.banner).not.toMatch(/nb_/);
    expect(again.banner).toContain('API key: this workspace already has keys');
    expect(again.banner).toContain('-H "Authorization: Bearer $NEXTBEST_API_KEY"');
  });

  it('never prints a key that comes from NEXTBEST_API_KEY, though the service accepts it', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'nextbest-cli-')), 'nextbest.db');
    const secret = 'nb_from_the_environment_0123456789';
    let status = 0;
    const { banner, output } = await serve(db, { ...cleanEnv(), NEXTBEST_API_KEY: secret }, async (url) => {
      status = await reportStatus(url, secret);
    });
    expect(status).toBe(200);
    expect(output).not.toContain(secret);
    expect(banner).not.toMatch(/nb_/);
    expect(banner).toContain('API key: from NEXTBEST_API_KEY');
    expect(banner).toContain('-H "Authorization: Bearer $NEXTBEST_API_KEY"');
  });
});

describe('the package', () => {
  it('ships the built CLI with its declarations, and no TypeScript source or test', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining(['bin/nextbest.js', 'dist/plugin/cli.js', 'dist/plugin/cli.d.ts', 'examples/agents.yaml']),
    );
    expect(files.filter((f) => /(?<!\.d)\.ts$/.test(f) || f.startsWith('test/'))).toEqual([]);
  });

  it('runs on its dependencies alone: the built code imports no devDependency (tsx, typescript, esbuild…)', () => {
    const { dependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const imported = new Set<string>();
    const built = ['dist/plugin', 'dist/adapters'].flatMap((dir) =>
      readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((file) => join(ROOT, dir, file)),
    );
    for (const file of built) {
      if (!file.endsWith('.js')) continue;
      const code = readFileSync(file, 'utf8');
      for (const [, specifier] of code.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"./][^'"]*)['"]/g))
        imported.add(/^(@[^/]+\/[^/]+|[^/]+)/.exec(specifier)![1]);
    }
    const outside = [...imported].filter(
      (name) => !(name in dependencies) && !builtinModules.includes(name.replace(/^node:/, '')),
    );
    expect(imported).toContain('commander');
    expect(outside).toEqual([]);
  });
});
