/**
 * A local fake of Braze's Connected Content: the HTTP driver Braze runs at send time, and the
 * subset of Braze Liquid that the snippets in `manifest/braze/` use, so a test renders the very
 * files nextbest ships against a real server (docs/braze.md, sections 3 and 4).
 *
 * What the driver does, and where Braze says so:
 * - GET with `Content-Type: application/json` and `Accept: *\/*`, plus the `:headers` given
 *   ("Local Connected Content variables", https://www.braze.com/docs/user_guide/personalization_and_dynamic_content/connected_content/local_connected_content_variables/),
 *   and `User-Agent: Braze Sender <hash>` (the hash changes; match the prefix) ("Making an API
 *   call", braze-inc/braze-docs `_docs/_user_guide/personalization_and_dynamic_content/connected_content/making_an_api_call.md`).
 * - 2 s per attempt: "if the server takes longer than 2 seconds to respond, the content will not
 *   be inserted"; 404 → empty string; 500/502 "fail on retry logic" (making_an_api_call.md).
 * - `:retry`: up to 5 attempts with exponential backoff; after 5 errors "the message is aborted
 *   similar to if an abort message tag was triggered"
 *   (https://www.braze.com/docs/user_guide/personalization_and_dynamic_content/connected_content/connected_content_retries).
 * - Cache: GET responses are cached by URL (per workspace: one driver is one workspace) for 5 min
 *   by default, `:cache_max_age` 300–14,400 s, `:no_cache` disables it; POST is not cached
 *   (https://www.braze.com/docs/user_guide/personalization_and_dynamic_content/connected_content/caching_responses/).
 * - A JSON object reply is parsed into the `:save` variable (default `connected`) with
 *   `__http_status_code__` added; an array gets no status key; text is inlined
 *   (local_connected_content_variables.md, "HTTP status codes").
 *
 * Assumptions where Braze's pages are silent (kept narrow, listed in docs/braze.md):
 * - only 5xx replies, timeouts and connection failures count as "errors" for `:retry`; a 4xx other
 *   than 404 is parsed like any reply; only 2xx replies are cached;
 * - without `:retry`, a failed call inserts nothing: the `:save` variable stays unset (nil);
 * - Braze spaces its retries out by minutes (failed messages go to the back of the queue); the
 *   backoff here is a parameter so tests stay fast.
 *
 * It shares no code with nextbest, so a bug in one is not mirrored in the other.
 */
import { createHash } from 'node:crypto';

/** Braze waits this long for a reply; later, nothing is inserted. */
export const CONNECTED_CONTENT_TIMEOUT_MS = 2_000;
/** `:retry` tries a failing call up to this many times, then aborts the message. */
export const CONNECTED_CONTENT_MAX_ATTEMPTS = 5;
/** GET replies are cached this long unless `:cache_max_age` or `:no_cache` says otherwise. */
export const DEFAULT_CACHE_SECONDS = 300;
export const MIN_CACHE_SECONDS = 300;
export const MAX_CACHE_SECONDS = 14_400;

type Json = any;

/** One `{% connected_content %}` call, after its Liquid has been rendered. */
export interface ConnectedContentRequest {
  url: string;
  headers: Record<string, string>;
  retry: boolean;
  noCache: boolean;
  cacheMaxAgeSeconds?: number;
}

/** What Braze makes of a call. */
export type ConnectedContentResult =
  | { kind: 'json'; status: number; value: Json }
  | { kind: 'text'; status: number; text: string }
  /** A 404: rendered as an empty string. */
  | { kind: 'empty'; status: number }
  /** 5xx, timeout or connection failure after every attempt allowed. */
  | { kind: 'failed'; attempts: number; cause: string };

/** One HTTP attempt (or cache hit), in the order they happened. */
export interface ConnectedContentAttempt {
  url: string;
  attempt: number;
  fromCache: boolean;
  /** HTTP status, or undefined for a timeout / connection failure. */
  status?: number;
  error?: string;
  ms: number;
}

export interface ConnectedContentDriverOptions {
  /** Per-attempt timeout; Braze's is 2 s. */
  timeoutMs?: number;
  /** Delay before attempt n+1 (n ≥ 1); default 100 ms · 2^(n−1). */
  backoffMs?: (attempt: number) => number;
  /** Clock of the cache (ms). */
  now?: () => number;
  /** The hash in `User-Agent: Braze Sender <hash>`. */
  senderHash?: string;
}

interface CacheEntry {
  result: ConnectedContentResult;
  expiresAt: number;
}

/** The Connected Content side of a fake Braze workspace. */
export class ConnectedContentDriver {
  /** Every attempt and cache hit, for assertions. */
  readonly attempts: ConnectedContentAttempt[] = [];
  private readonly cache = new Map<string, CacheEntry>();
  private readonly timeoutMs: number;
  private readonly backoffMs: (attempt: number) => number;
  private readonly now: () => number;
  readonly userAgent: string;

  constructor(options: ConnectedContentDriverOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? CONNECTED_CONTENT_TIMEOUT_MS;
    this.backoffMs = options.backoffMs ?? ((n) => 100 * 2 ** (n - 1));
    this.now = options.now ?? Date.now;
    this.userAgent = `Braze Sender ${options.senderHash ?? createHash('sha1').update('nextbest fake braze').digest('hex')}`;
  }

  /** Drops every cached reply, as Braze's volatile (memcached-style) cache may at any time. */
  evictCache(): void {
    this.cache.clear();
  }

  async call(request: ConnectedContentRequest): Promise<ConnectedContentResult> {
    const cacheSeconds = request.noCache
      ? 0
      : Math.min(MAX_CACHE_SECONDS, Math.max(MIN_CACHE_SECONDS, request.cacheMaxAgeSeconds ?? DEFAULT_CACHE_SECONDS));
    const hit = this.cache.get(request.url);
    if (cacheSeconds > 0 && hit && hit.expiresAt > this.now()) {
      this.attempts.push({ url: request.url, attempt: 0, fromCache: true, ms: 0 });
      return hit.result;
    }
    const maxAttempts = request.retry ? CONNECTED_CONTENT_MAX_ATTEMPTS : 1;
    let cause = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) await sleep(this.backoffMs(attempt - 1));
      const outcome = await this.attempt(request, attempt);
      if ('result' in outcome) {
        if (cacheSeconds > 0 && outcome.status >= 200 && outcome.status < 300)
          this.cache.set(request.url, { result: outcome.result, expiresAt: this.now() + cacheSeconds * 1000 });
        return outcome.result;
      }
      cause = outcome.cause;
    }
    return { kind: 'failed', attempts: maxAttempts, cause };
  }

  private async attempt(
    request: ConnectedContentRequest,
    attempt: number,
  ): Promise<{ result: ConnectedContentResult; status: number } | { cause: string }> {
    const started = performance.now();
    const record = (entry: Partial<ConnectedContentAttempt>) =>
      this.attempts.push({ url: request.url, attempt, fromCache: false, ms: performance.now() - started, ...entry });
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      const res = await fetch(request.url, {
        method: 'GET',
        headers: {
          'Content-Type': 'application/json',
          Accept: '*/*',
          ...request.headers,
          'User-Agent': this.userAgent,
        },
        redirect: 'manual', // Connected Content does not follow redirects
        signal: controller.signal,
      });
      const text = await res.text(); // the body, too, must arrive within the timeout
      record({ status: res.status });
      if (res.status >= 500) return { cause: `HTTP ${res.status}` };
      if (res.status === 404) return { result: { kind: 'empty', status: 404 }, status: 404 };
      return { result: parseReply(res.status, text), status: res.status };
    } catch (err) {
      const cause = controller.signal.aborted
        ? `no reply within ${this.timeoutMs} ms`
        : `connection failed: ${(err as Error).cause ?? (err as Error).message}`;
      record({ error: cause });
      return { cause };
    } finally {
      clearTimeout(timer);
    }
  }
}

function parseReply(status: number, text: string): ConnectedContentResult {
  let value: Json;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'text', status, text };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value))
    value = { ...value, __http_status_code__: status };
  return { kind: 'json', status, value };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// The Liquid subset
// ---------------------------------------------------------------------------------------------

/**
 * Who a message is rendered for and what Braze knows at that moment. Values are looked up the
 * way Braze's Liquid names them: `{{${user_id}}}` in `attributes`, `{{campaign.${dispatch_id}}}`
 * in `campaign`, `{{custom_attribute.${x}}}`, `{{api_trigger_properties.${x}}}`,
 * `{{canvas_entry_properties.${x}}}`, and `{{content_blocks.${name}}}`, whose source is rendered
 * in place (a Content Block is Liquid included in the message).
 */
export interface RenderContext {
  attributes?: Record<string, unknown>;
  campaign?: Record<string, unknown>;
  customAttributes?: Record<string, unknown>;
  apiTriggerProperties?: Record<string, unknown>;
  canvasEntryProperties?: Record<string, unknown>;
  contentBlocks?: Record<string, string>;
}

export type RenderResult = { status: 'rendered'; output: string } | { status: 'aborted'; reason: string };

/** Liquid this subset does not implement: the test fails instead of rendering it wrongly. */
export class UnsupportedLiquidError extends Error {}

class AbortMessage {
  constructor(readonly reason: string) {}
}

type Node =
  | { type: 'text'; text: string }
  | { type: 'output'; markup: string }
  | { type: 'connected_content'; markup: string }
  | { type: 'abort'; reason: string }
  | { type: 'capture'; name: string; body: Node[] }
  | { type: 'if'; branches: { condition: string | undefined; body: Node[] }[] };

/** `{{ }}` may hold Braze's `${name}` references, whose `}` does not end the output. */
const OUTPUT = String.raw`\{\{((?:\$\{[^}]*\}|[^}])*?)\}\}`;
const TOKEN = new RegExp(`${OUTPUT}|\\{%([\\s\\S]*?)%\\}`, 'g');

/** Splits a template into text, `{{ }}` and `{% %}` tokens; `{% comment %}` bodies are dropped. */
function tokenize(template: string): { kind: 'text' | 'output' | 'tag'; value: string }[] {
  const tokens: { kind: 'text' | 'output' | 'tag'; value: string }[] = [];
  let last = 0;
  let inComment = false;
  for (const m of template.matchAll(TOKEN)) {
    const before = template.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[2] !== undefined) {
      const tag = m[2].trim();
      if (/^-|-$/.test(m[2])) throw new UnsupportedLiquidError(`whitespace control in {%${m[2]}%}`);
      if (tag === 'comment') {
        if (!inComment && before) tokens.push({ kind: 'text', value: before });
        inComment = true;
        continue;
      }
      if (tag === 'endcomment') {
        if (!inComment) throw new UnsupportedLiquidError('endcomment without comment');
        inComment = false;
        continue;
      }
      if (inComment) continue;
      if (before) tokens.push({ kind: 'text', value: before });
      tokens.push({ kind: 'tag', value: tag });
    } else {
      if (inComment) continue;
      if (before) tokens.push({ kind: 'text', value: before });
      tokens.push({ kind: 'output', value: m[1] });
    }
  }
  if (inComment) throw new UnsupportedLiquidError('comment without endcomment');
  const rest = template.slice(last);
  if (rest) tokens.push({ kind: 'text', value: rest });
  return tokens;
}

/** Parses a template into nodes; block tags are matched here, so a missing `endif` fails at once. */
export function parseLiquid(template: string): Node[] {
  const tokens = tokenize(template);
  let i = 0;
  const block = (ends: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i++];
      if (t.kind === 'text') nodes.push({ type: 'text', text: t.value });
      else if (t.kind === 'output') nodes.push({ type: 'output', markup: t.value });
      else {
        const [name] = t.value.split(/[\s(]/, 1);
        if (ends.includes(name)) return { nodes, end: t.value };
        if (name === 'connected_content') nodes.push({ type: 'connected_content', markup: t.value.slice(name.length) });
        else if (name === 'abort_message') nodes.push({ type: 'abort', reason: parseAbortReason(t.value) });
        else if (name === 'capture') {
          const target = t.value.slice(name.length).trim();
          if (!/^[A-Za-z_]\w*$/.test(target)) throw new UnsupportedLiquidError(`capture target "${target}"`);
          nodes.push({ type: 'capture', name: target, body: block(['endcapture']).nodes });
        } else if (name === 'if') {
          const branches: { condition: string | undefined; body: Node[] }[] = [];
          let condition: string | undefined = t.value.slice(2).trim();
          for (;;) {
            const part = block(['elsif', 'else', 'endif']);
            branches.push({ condition, body: part.nodes });
            if (part.end === 'endif') break;
            if (part.end === 'else') condition = undefined;
            else condition = part.end.slice('elsif'.length).trim();
          }
          nodes.push({ type: 'if', branches });
        } else throw new UnsupportedLiquidError(`tag {% ${t.value} %}`);
      }
    }
    if (ends.length > 0) throw new UnsupportedLiquidError(`missing {% ${ends.at(-1)} %}`);
    return { nodes, end: '' };
  };
  return block([]).nodes;
}

function parseAbortReason(markup: string): string {
  const m = /^abort_message\(\s*(?:'([^']*)'|"([^"]*)")?\s*\)$/.exec(markup);
  if (!m) throw new UnsupportedLiquidError(`{% ${markup} %}: the reason must be one quoted string without Liquid`);
  return m[1] ?? m[2] ?? '';
}

/**
 * Renders a template for one recipient, making its Connected Content calls through `driver`.
 * Aborted when an `abort_message` runs or a `:retry` call keeps failing.
 */
export async function renderLiquid(
  template: string,
  context: RenderContext,
  driver: ConnectedContentDriver,
): Promise<RenderResult> {
  const locals = new Map<string, unknown>();
  try {
    const output = await renderNodes(parseLiquid(template), { context, driver, locals, depth: 0 });
    return { status: 'rendered', output };
  } catch (err) {
    if (err instanceof AbortMessage) return { status: 'aborted', reason: err.reason };
    throw err;
  }
}

interface Scope {
  context: RenderContext;
  driver: ConnectedContentDriver;
  locals: Map<string, unknown>;
  depth: number;
}

async function renderNodes(nodes: Node[], scope: Scope): Promise<string> {
  let out = '';
  for (const node of nodes) {
    switch (node.type) {
      case 'text':
        out += node.text;
        break;
      case 'output':
        out += await renderOutput(node.markup, scope);
        break;
      case 'abort':
        throw new AbortMessage(node.reason);
      case 'capture':
        scope.locals.set(node.name, await renderNodes(node.body, scope));
        break;
      case 'if': {
        const taken = node.branches.find(
          (b) => b.condition === undefined || truthy(evaluateCondition(b.condition, scope)),
        );
        if (taken) out += await renderNodes(taken.body, scope);
        break;
      }
      case 'connected_content':
        out += await connectedContent(node.markup, scope);
        break;
    }
  }
  return out;
}

/** `{{ expression | filter: arg }}`; a Content Block is rendered in place. */
async function renderOutput(markup: string, scope: Scope): Promise<string> {
  const [head, ...filters] = splitOutsideQuotes(markup, '|');
  const block = /^content_blocks\.\$\{([^}]+)\}$/.exec(head.trim());
  let value: unknown;
  if (block) {
    const source = scope.context.contentBlocks?.[block[1]];
    if (source === undefined) throw new UnsupportedLiquidError(`no content block "${block[1]}" in the render context`);
    if (scope.depth > 3) throw new UnsupportedLiquidError('content blocks nested too deep');
    value = await renderNodes(parseLiquid(source), { ...scope, depth: scope.depth + 1 });
  } else value = evaluate(head, scope);
  for (const filter of filters) value = applyFilter(filter, value, scope);
  return toOutput(value);
}

function applyFilter(markup: string, value: unknown, scope: Scope): unknown {
  const m = /^\s*(\w+)\s*(?::\s*([\s\S]*))?$/.exec(markup);
  if (!m) throw new UnsupportedLiquidError(`filter "${markup}"`);
  const [, name, arg] = m;
  switch (name) {
    case 'default':
      // Liquid's default: nil, false and empty strings/arrays take the fallback.
      return value === undefined ||
        value === null ||
        value === false ||
        value === '' ||
        (Array.isArray(value) && value.length === 0)
        ? evaluate(arg ?? "''", scope)
        : value;
    case 'url_param_escape':
      return encodeURIComponent(toOutput(value));
    case 'strip':
      return toOutput(value).trim();
    default:
      throw new UnsupportedLiquidError(`filter "${name}"`);
  }
}

/** Conditions: `a == b`, `!=`, `<`, `>`, `<=`, `>=`, a bare value, joined by `and` / `or`. */
function evaluateCondition(markup: string, scope: Scope): unknown {
  const ors = splitWords(markup, 'or');
  if (ors.length > 1) return ors.some((part) => truthy(evaluateCondition(part, scope)));
  const ands = splitWords(markup, 'and');
  if (ands.length > 1) return ands.every((part) => truthy(evaluateCondition(part, scope)));
  const m = /^([\s\S]+?)\s*(==|!=|<=|>=|<|>)\s*([\s\S]+)$/.exec(markup.trim());
  if (!m) return evaluate(markup, scope);
  const left = evaluate(m[1], scope);
  const right = evaluate(m[3], scope);
  switch (m[2]) {
    case '==':
      return liquidEquals(left, right);
    case '!=':
      return !liquidEquals(left, right);
    default: {
      if (typeof left !== 'number' || typeof right !== 'number') return false;
      return m[2] === '<' ? left < right : m[2] === '>' ? left > right : m[2] === '<=' ? left <= right : left >= right;
    }
  }
}

function liquidEquals(a: unknown, b: unknown): boolean {
  const nil = (v: unknown) => v === undefined || v === null;
  if (nil(a) || nil(b)) return nil(a) && nil(b);
  return a === b;
}

/** Only nil and false are falsy in Liquid. */
function truthy(v: unknown): boolean {
  return v !== undefined && v !== null && v !== false;
}

/** A literal or a variable path such as `nb.nb_deliver`, `${user_id}` or `campaign.${dispatch_id}`. */
function evaluate(markup: string, scope: Scope): unknown {
  const expr = markup.trim();
  if (/^'[^']*'$|^"[^"]*"$/.test(expr)) return expr.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(expr)) return Number(expr);
  if (expr === 'true') return true;
  if (expr === 'false') return false;
  if (expr === 'nil' || expr === 'null') return null;
  const segments = expr.match(/\$\{[^}]+\}|[A-Za-z_][\w]*/g);
  if (!segments || segments.join('.') !== expr) throw new UnsupportedLiquidError(`expression "${expr}"`);
  const name = (s: string) => (s.startsWith('${') ? s.slice(2, -1) : s);
  const { context, locals } = scope;
  const roots: Record<string, unknown> = {
    campaign: context.campaign,
    custom_attribute: context.customAttributes,
    api_trigger_properties: context.apiTriggerProperties,
    canvas_entry_properties: context.canvasEntryProperties,
  };
  let value: unknown;
  const first = segments[0];
  if (first.startsWith('${')) value = context.attributes?.[name(first)];
  else if (locals.has(first)) value = locals.get(first);
  else if (first in roots) value = roots[first] ?? {};
  else value = undefined;
  for (const s of segments.slice(1)) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name(s)] : undefined;
  }
  return value;
}

function toOutput(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The Liquid inside a tag's markup (`{{ }}` only), rendered to text. */
async function renderInline(markup: string, scope: Scope): Promise<string> {
  let out = '';
  let last = 0;
  for (const m of markup.matchAll(new RegExp(OUTPUT, 'g'))) {
    out += markup.slice(last, m.index) + (await renderOutput(m[1], scope));
    last = m.index + m[0].length;
  }
  return out + markup.slice(last);
}

/**
 * `{% connected_content <url> [:headers {json}] [:save name] [:retry] [:cache_max_age s] [:no_cache] %}`:
 * GET only, as every snippet nextbest ships. A JSON reply is saved (default variable `connected`);
 * a text reply without `:save` is inlined; a failure inserts nothing, or aborts under `:retry`.
 */
async function connectedContent(markup: string, scope: Scope): Promise<string> {
  const rendered = (await renderInline(markup, scope)).trim();
  const [url] = rendered.split(/\s+/, 1);
  if (!/^https?:\/\//.test(url)) throw new UnsupportedLiquidError(`connected_content URL "${url}"`);
  let rest = rendered.slice(url.length).trim();
  const request: ConnectedContentRequest = { url, headers: {}, retry: false, noCache: false };
  let save = 'connected';
  let saveGiven = false;
  while (rest) {
    const option = /^:(\w+)\s*/.exec(rest);
    if (!option) throw new UnsupportedLiquidError(`connected_content option at "${rest.slice(0, 30)}"`);
    rest = rest.slice(option[0].length);
    const value = (pattern: RegExp) => {
      const m = pattern.exec(rest);
      if (!m) throw new UnsupportedLiquidError(`connected_content :${option[1]} value at "${rest.slice(0, 30)}"`);
      rest = rest.slice(m[0].length).trim();
      return m[1];
    };
    switch (option[1]) {
      case 'save':
        save = value(/^([A-Za-z_]\w*)/);
        saveGiven = true;
        break;
      case 'headers': {
        const json = balancedObject(rest);
        rest = rest.slice(json.length).trim();
        request.headers = JSON.parse(json) as Record<string, string>;
        break;
      }
      case 'retry':
        request.retry = true;
        break;
      case 'no_cache':
        request.noCache = true;
        break;
      case 'cache_max_age':
        request.cacheMaxAgeSeconds = Number(value(/^(\d+)/));
        break;
      case 'method':
        if (value(/^(\w+)/).toLowerCase() !== 'get')
          throw new UnsupportedLiquidError('connected_content :method other than get');
        break;
      default:
        throw new UnsupportedLiquidError(`connected_content :${option[1]}`);
    }
  }
  const result = await scope.driver.call(request);
  switch (result.kind) {
    case 'json':
      scope.locals.set(save, result.value);
      return '';
    case 'text':
      if (saveGiven) {
        scope.locals.set(save, result.text);
        return '';
      }
      return result.text;
    case 'empty':
      return '';
    case 'failed':
      if (request.retry) throw new AbortMessage(`Connected Content failed ${result.attempts} times (${result.cause})`);
      return '';
  }
}

/** The `{...}` at the start of `text`, braces balanced outside JSON strings. */
function balancedObject(text: string): string {
  if (!text.startsWith('{')) throw new UnsupportedLiquidError(':headers must be followed by a JSON object');
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(0, i + 1);
  }
  throw new UnsupportedLiquidError(':headers JSON object is not closed');
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote = '';
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === separator) {
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts;
}

function splitWords(text: string, word: string): string[] {
  return text.split(new RegExp(`\\s+${word}\\s+(?=(?:[^'"]|'[^']*'|"[^"]*")*$)`));
}
