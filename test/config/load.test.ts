import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfigText } from '../../plugin/config/index.ts';
import { CONTRACT_YAML, makeWorkspace } from './contract.ts';

describe('parseConfigText', () => {
  it('reads JSON when the file name ends in .json', () => {
    const json = JSON.stringify(makeWorkspace());
    expect(parseConfigText(json, 'agents.json').workspace).toBe('acme-sports');
  });

  it('reads JSON by content when there is no file name', () => {
    expect(parseConfigText(JSON.stringify(makeWorkspace())).agents[0].id).toBe('winback');
  });

  it('names the file, line and column of a YAML syntax error', () => {
    const text = 'workspace: acme\nagents:\n  - id: a: b\n';
    expect(() => parseConfigText(text, 'agents.yaml')).toThrow(
      'agents.yaml:3:9: Nested mappings are not allowed in compact mappings',
    );
  });

  it('names the file and line of a JSON syntax error', () => {
    const text = '{\n  "workspace": "acme",\n  "agents": [,]\n}';
    expect(() => parseConfigText(text, 'agents.json')).toThrow(/agents\.json:3:14: /);
  });

  it.each([
    ['an error V8 places', '{"workspace": "acme",}', 'agents.json:1:22: Expected double-quoted property name'],
    ['an early end', '{\n  "workspace":', 'agents.json:2:15: Unexpected end of JSON input'],
    ['a token only YAML refuses as JSON', '{\n  "workspace": NaN\n}', "agents.json:2:16: Unexpected token 'N'"],
    ['CRLF line ends', '{\r\n  "workspace": "acme",\r\n  "agents": [,]\r\n}', "agents.json:3:14: Unexpected token ','"],
  ])('names the line and column of %s in JSON', (_name, text, expected) => {
    expect(() => parseConfigText(text, 'agents.json')).toThrow(expected);
  });

  it('names only the file when the place of a JSON error cannot be told, rather than a later place', () => {
    // YAML accepts a trailing comma in a list, so nothing places it; the NaN after it is not the first error
    const text = '{\n  "agents": [1,],\n  "workspace": NaN\n}';
    expect(() => parseConfigText(text, 'agents.json')).toThrow(
      expect.objectContaining({ errors: ["agents.json: Unexpected token ']'"] }),
    );
  });

  it('throws a ConfigError listing every validation error', () => {
    const text = JSON.stringify(
      makeWorkspace((a) => {
        a.holdout = 0.7;
        a.policy.floor = -1;
      }),
    );
    try {
      parseConfigText(text, 'agents.json');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({
        code: 'invalid_config',
        errors: [
          'agents[0].holdout: must be in [0, 0.5], got 0.7',
          'agents[0].policy.floor: must be in [0, 1), got -1',
        ],
      });
      expect((error as Error).message).toContain('Invalid config in agents.json');
    }
  });
});

describe('loadConfigFile', () => {
  it('loads and validates a YAML file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nextbest-config-'));
    const path = join(dir, 'agents.yaml');
    await writeFile(path, CONTRACT_YAML);
    expect((await loadConfigFile(path)).agents[0].dimensions.map((d) => d.id)).toEqual([
      'frequency',
      'channel',
      'send_time',
      'subject_line',
      'content_block',
    ]);
  });

  it('throws a ConfigError for a missing file', async () => {
    await expect(loadConfigFile('/nonexistent/agents.yaml')).rejects.toMatchObject({
      code: 'invalid_config',
      errors: ['/nonexistent/agents.yaml: cannot read: file not found'],
    });
  });
});
