import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/nextbest.js');

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

  it('rejects an unknown scenario', async () => {
    const r = await cli('simulate', '--scenario', 'nope');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Allowed choices are retail, drift, cold-start, lull/);
  });
});
