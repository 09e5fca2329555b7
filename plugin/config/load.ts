/**
 * Loading workspace config files (YAML or JSON): read, parse, validate.
 *
 * Every problem is reported, each as one line, e.g.
 * `agents[0].policy.epsilon: must be in [0, 1], got 1.2`, so an admin can fix a file in one pass.
 */
import { readFile } from 'node:fs/promises';
import type { WorkspaceConfig } from './agent.ts';
import { ConfigError } from './config-error.ts';
import { isJson, parseJson, parseYaml } from './syntax.ts';
import { validateConfig } from './validate.ts';

/**
 * Parses config text and validates it. JSON when `filename` ends in `.json` (or, without a
 * known extension, when the text starts with `{`), YAML otherwise.
 *
 * @throws ConfigError listing every syntax error (with file, line and column) or every validation error.
 */
export function parseConfigText(text: string, filename?: string): WorkspaceConfig {
  return parseConfigSource(text, filename).config;
}

/** Like `parseConfigText`, also returning the document as written (what the store versions). */
export function parseConfigSource(text: string, filename?: string): { config: WorkspaceConfig; raw: unknown } {
  const raw = isJson(text, filename) ? parseJson(text, filename) : parseYaml(text, filename);
  const result = validateConfig(raw);
  if (!result.ok) throw new ConfigError(result.errors, filename);
  return { config: result.config, raw };
}

/** Reads and validates a config file. @throws ConfigError (also when the file cannot be read). */
export async function loadConfigFile(path: string): Promise<WorkspaceConfig> {
  return (await readConfigFile(path)).config;
}

/** Reads and validates a config file, returning it both normalized and as written. @throws ConfigError */
export async function readConfigFile(path: string): Promise<{ config: WorkspaceConfig; raw: unknown }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (cause as Error).message;
    throw new ConfigError([`${path}: cannot read: ${reason}`], path, { cause });
  }
  return parseConfigSource(text, path);
}
