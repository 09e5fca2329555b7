/**
 * Loading and validating workspace config files (YAML or JSON).
 *
 * Every problem is reported, each as one `path: message` line, e.g.
 * `agents[0].policy.epsilon: must be in [0, 1], got 1.2`, so an admin can fix a file in one pass.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { agentConfigSchema, workspaceConfigSchema, type AgentConfig, type WorkspaceConfig } from './config.ts';

/** A config that cannot be used: syntax errors or validation errors, all of them in `errors`. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  /** HTTP status when the config came in a request (admin API). */
  readonly status = 400;
  readonly errors: string[];

  constructor(errors: string[], source?: string, options?: { cause?: unknown }) {
    const head = source ? `Invalid config in ${source}` : 'Invalid config';
    super(`${head}:\n${errors.map((e) => `  - ${e}`).join('\n')}`, options);
    this.name = 'ConfigError';
    this.errors = errors;
  }
}

export type ValidationResult<T = WorkspaceConfig> = { ok: true; config: T } | { ok: false; errors: string[] };

/** Validates an already-parsed workspace config (from YAML, JSON or an API body). Never throws. */
export function validateConfig(input: unknown): ValidationResult {
  return validateWith(workspaceConfigSchema, input);
}

/** Validates one agent (as in `PUT /v1/agents/{agentId}`); paths start at the agent (`policy.epsilon`). Never throws. */
export function validateAgentConfig(input: unknown): ValidationResult<AgentConfig> {
  return validateWith(agentConfigSchema, input);
}

function validateWith<T>(schema: z.ZodType<T>, input: unknown): ValidationResult<T> {
  const result = schema.safeParse(input, { error: issueMessage, reportInput: true });
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, errors: [...new Set(formatIssues(result.error.issues))] };
}

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

// ---------------------------------------------------------------------------------------------
// Syntax

function isJson(text: string, filename: string | undefined): boolean {
  if (filename && /\.json$/i.test(filename)) return true;
  if (filename && /\.ya?ml$/i.test(filename)) return false;
  return text.trimStart().startsWith('{');
}

function where(filename: string | undefined, line: number, col: number): string {
  return `${filename ?? 'line'}${filename ? ':' : ' '}${line}:${col}`;
}

function parseYaml(text: string, filename: string | undefined): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `${where(filename, line, col)}: ${e.message.split('\n')[0]}`;
      }),
      filename,
    );
  }
  return doc.toJS();
}

function parseJson(text: string, filename: string | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    // V8 does not always say where (Node 20: `Unexpected token ',', ..."x": [,]... is not valid JSON`)
    const offset = jsonErrorOffset(text);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const col = offset - before.lastIndexOf('\n');
    const message = (cause as Error).message
      .split('\n')[0]
      .replace(/ (?:in JSON )?at position \d+.*$/, '')
      .replace(/, (?:\.\.\.)?".*$/, '');
    throw new ConfigError([`${where(filename, line, col)}: ${message}`], filename, { cause });
  }
}

const JSON_LITERAL = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null/y;

/** Offset of the first JSON syntax error in `text` (text.length when it ends too early). */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      i += text[i] === '\\' ? 2 : 1;
    }
    if (i >= text.length) fail();
    i++;
  };
  const value = (): void => {
    space();
    if (text[i] === '{' || text[i] === '[') {
      const close = text[i] === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) return void i++;
      for (;;) {
        if (close === '}') {
          space();
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        space();
        if (text[i] === close) return void i++;
        if (text[i] !== ',') fail();
        i++;
      }
    }
    if (text[i] === '"') return string();
    JSON_LITERAL.lastIndex = i;
    const literal = JSON_LITERAL.exec(text);
    if (!literal) fail();
    i += literal![0].length;
  };
  try {
    value();
    space();
    return i < text.length ? i : text.length;
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
}

// ---------------------------------------------------------------------------------------------
// Issues → "path: message"

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function expectedName(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'an object';
    case 'array':
      return 'a list';
    case 'int':
      return 'an integer';
    default:
      return `a ${expected}`;
  }
}

function keysOf(inst: unknown): string[] | undefined {
  const shape = (inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  return shape ? Object.keys(shape) : undefined;
}

/**
 * Messages for the issues whose schema does not set its own: the parse-level error map.
 * (Schema-level messages, such as ranges and cross-field rules, live in config.ts.)
 */
function issueMessage(iss: RawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? 'required' : `expected ${expectedName(iss.expected)}, got ${typeName(iss.input)}`;
    case 'too_small':
      if (iss.origin === 'string' && Number(iss.minimum) === 1) return 'must not be empty';
      if (iss.origin === 'array') return `must have at least ${iss.minimum} item${Number(iss.minimum) === 1 ? '' : 's'}`;
      return `must be ${iss.inclusive ? '>=' : '>'} ${iss.minimum}, got ${String(iss.input)}`;
    case 'too_big':
      if (iss.origin === 'array') return `must have at most ${iss.maximum} items`;
      return `must be ${iss.inclusive ? '<=' : '<'} ${iss.maximum}, got ${String(iss.input)}`;
    case 'invalid_value':
      return iss.values.length === 1
        ? `must be ${JSON.stringify(iss.values[0])}, got ${JSON.stringify(iss.input)}`
        : `must be one of ${iss.values.join(', ')}, got ${JSON.stringify(iss.input)}`;
    case 'unrecognized_keys': {
      const allowed = keysOf(iss.inst);
      return allowed ? `unknown key; allowed keys are ${allowed.join(', ')}` : 'unknown key';
    }
    case 'invalid_union': {
      if (iss.discriminator !== undefined && iss.errors.length === 0) {
        // a discriminated union found no option for the discriminator's value
        const options = (iss as { options?: readonly unknown[] }).options ?? [];
        const given = (iss.input as Record<string, unknown> | undefined)?.[iss.discriminator];
        const list = options.join(', ');
        return given === undefined ? `required, one of ${list}` : `must be one of ${list}, got ${JSON.stringify(given)}`;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(String(key))) out += out ? `.${String(key)}` : String(key);
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out || '(root)';
}

/**
 * An issue that says "this branch is the wrong shape altogether" rather than "right shape,
 * wrong detail": a missing required key, an unknown key or a wrong type at the branch's root.
 */
function isShapeMismatch(iss: Issue): boolean {
  if (iss.path.length === 0) return iss.code === 'invalid_type' || iss.code === 'unrecognized_keys';
  if (iss.path.length === 1) {
    if (iss.code === 'invalid_key') return true;
    if (iss.code === 'invalid_type' && iss.input === undefined) return true;
    if (iss.code === 'invalid_union' && iss.discriminator !== undefined && iss.errors.length === 0) {
      // no discriminator at all (rather than an unknown value of it)
      return (iss.input as Record<string, unknown> | undefined)?.[iss.discriminator] === undefined;
    }
  }
  return false;
}

/** Flattens zod issues into `path: message` lines, descending into the union branch that was meant. */
export function formatIssues(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): string[] {
  const out: string[] = [];
  for (const iss of issues) {
    const path = [...prefix, ...iss.path];
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) out.push(`${formatPath([...path, key])}: ${iss.message}`);
    } else if (iss.code === 'invalid_key') {
      out.push(`${formatPath(path)}: ${iss.issues[0]?.message ?? iss.message}`);
    } else if (iss.code === 'invalid_union' && iss.errors.length > 0) {
      // A union fails as a whole; report the branch the input was evidently written for
      // (the only one it has the right shape for), else the union's own message.
      const meant = iss.errors.filter((branch) => !branch.some(isShapeMismatch));
      if (meant.length === 1) out.push(...formatIssues(meant[0], path));
      else out.push(`${formatPath(path)}: ${iss.message}`);
    } else {
      out.push(`${formatPath(path)}: ${iss.message}`);
    }
  }
  return out;
}
