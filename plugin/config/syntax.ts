/**
 * Config text → data, from YAML or JSON. Syntax errors name the file, line and column
 * (`agents.yaml:3:9: Nested mappings are not allowed in compact mappings`): every one for
 * YAML, the first for JSON (where the parser stops).
 */
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { ConfigError } from './config-error.ts';

/** JSON when `filename` ends in `.json` (or, without a known extension, when the text starts with `{`). */
export function isJson(text: string, filename: string | undefined): boolean {
  if (filename && /\.json$/i.test(filename)) return true;
  if (filename && /\.ya?ml$/i.test(filename)) return false;
  return text.trimStart().startsWith('{');
}

type Place = { line: number; col: number };

/** `agents.yaml:3:9: message`, `line 3:9: message` without a file name; no place when it is not known. */
function located(filename: string | undefined, place: Place | undefined, message: string): string {
  if (place) return `${filename ?? 'line'}${filename ? ':' : ' '}${place.line}:${place.col}: ${message}`;
  return filename ? `${filename}: ${message}` : message;
}

/** @throws ConfigError listing every syntax error. */
export function parseYaml(text: string, filename: string | undefined): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => located(filename, lineCounter.linePos(e.pos[0]), e.message.split('\n')[0])),
      filename,
    );
  }
  return doc.toJS();
}

/**
 * JSON.parse, so that exactly JSON is accepted (YAML would take more: trailing commas, single
 * quotes, comments).
 *
 * @throws ConfigError naming the place of the syntax error, and V8's words for it.
 */
export function parseJson(text: string, filename: string | undefined): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    // the first line: V8 quotes the text around the error, line breaks and all
    const reason = (cause as Error).message.split(/[\r\n]/)[0];
    throw new ConfigError([located(filename, jsonErrorPlace(text, reason), jsonErrorText(reason))], filename, {
      cause,
    });
  }
}

/** V8's message without its position and its quote of the text: `Unexpected token ','`. */
function jsonErrorText(reason: string): string {
  return reason.replace(/ (?:in JSON )?at position \d+.*$/, '').replace(/, (?:\.\.\.)?".*$/, '');
}

/**
 * Line and column of the JSON syntax error V8 reported as `reason`. V8 states the position of
 * most errors, and "Unexpected end of JSON input" is at the end. An unexpected token it does not
 * place, so the yaml parser does: JSON is YAML 1.2, and YAML's JSON schema refuses the plain
 * scalars JSON has no literal for (`NaN`, `.5`, `tru`). YAML accepts a little that JSON does not
 * (a trailing comma in a list, single quotes, anchors, tags), so its first error may come after
 * the one V8 found: it counts only when the text before it is valid JSON so far. Undefined when
 * the place cannot be told.
 */
function jsonErrorPlace(text: string, reason: string): Place | undefined {
  const lineCounter = new LineCounter();
  const { errors } = parseDocument(text, { lineCounter, schema: 'json', uniqueKeys: false, prettyErrors: false });
  const offset =
    statedOffset(reason) ??
    (reason.startsWith('Unexpected end of JSON input') ? text.length : yamlOffset(text, errors));
  return offset === undefined ? undefined : lineCounter.linePos(offset);
}

/** The offset V8 states in a JSON.parse message ("... in JSON at position 8"), if it does. */
function statedOffset(reason: string): number | undefined {
  const stated = / at position (\d+)/.exec(reason);
  return stated ? Number(stated[1]) : undefined;
}

/** The offset of the yaml parser's first error, if the text before it is valid JSON so far. */
function yamlOffset(text: string, errors: readonly YAMLError[]): number | undefined {
  if (errors.length === 0) return undefined;
  const offset = Math.min(...errors.map((e) => e.pos[0]));
  return isJsonPrefix(text, offset) ? offset : undefined;
}

/** Whether `text` up to `offset` is the beginning of a JSON text: no syntax error comes before. */
function isJsonPrefix(text: string, offset: number): boolean {
  try {
    JSON.parse(text.slice(0, offset));
    return true;
  } catch (error) {
    const reason = (error as Error).message;
    return reason.startsWith('Unexpected end of JSON input') || (statedOffset(reason) ?? -1) >= offset;
  }
}
