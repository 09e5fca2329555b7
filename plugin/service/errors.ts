import type { z } from 'zod';

/**
 * The requests the service refuses. One class per family, each with a stable `code`, the 4xx
 * status that says which family it is (the HTTP layer answers with it; an adapter's route too),
 * and a message saying what to fix.
 */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export class ValidationError extends RequestError {
  constructor(message: string, issues: { path: string; message: string }[]) {
    super(400, 'invalid_request', message, issues);
    this.name = 'ValidationError';
  }
}

export class AuthError extends RequestError {
  constructor(status: 401 | 403, code: string, message: string) {
    super(status, code, message);
    this.name = 'AuthError';
  }
}

export class ConflictError extends RequestError {
  constructor(code: string, message: string) {
    super(409, code, message);
    this.name = 'ConflictError';
  }
}

export class NotFoundError extends RequestError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
    this.name = 'NotFoundError';
  }
}

/** `a.b[2].c` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Parses `input` with `schema`, or throws a ValidationError naming every bad field. */
export function parseBody<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationErrorOf(issuesOf(result.error, [], what));
}

/** Items parsed per turn of the event loop by parseListInSlices. */
export const PARSE_SLICE = 250;

/**
 * Parses each item of a list with `schema`, PARSE_SLICE items per turn of the event loop (2,500
 * events validated in one go held it for about 20 ms), or throws a ValidationError naming every
 * bad field, its path under `prefix` (`batch[3].messageId`).
 */
export async function parseListInSlices<S extends z.ZodType>(
  schema: S,
  items: readonly unknown[],
  prefix: readonly PropertyKey[],
): Promise<z.output<S>[]> {
  const parsed: z.output<S>[] = [];
  const issues: Issue[] = [];
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % PARSE_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const result = schema.safeParse(items[i]);
    if (result.success) parsed.push(result.data);
    else issues.push(...issuesOf(result.error, [...prefix, i], 'body'));
  }
  if (issues.length > 0) throw validationErrorOf(issues);
  return parsed;
}

type Issue = { path: string; message: string };

function issuesOf(error: z.ZodError, prefix: readonly PropertyKey[], what: string): Issue[] {
  return error.issues.flatMap((i) =>
    // zod reports unknown keys once, at the parent: name each key instead
    i.code === 'unrecognized_keys'
      ? i.keys.map((key) => ({ path: formatPath([...prefix, ...i.path, key]), message: 'is not a known field' }))
      : [{ path: formatPath([...prefix, ...i.path]) || what, message: i.message }],
  );
}

function validationErrorOf(issues: Issue[]): ValidationError {
  return new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}
