/**
 * zod issues → `path: message` lines, e.g. `agents[0].policy.epsilon: must be in [0, 1], got 1.2`.
 *
 * `issueMessage` words the issues whose schema does not set its own message; `formatIssues`
 * flattens them into lines, descending into the union branch that was meant.
 */
import type { z } from 'zod';

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
 * (Schema-level messages, such as ranges and cross-field rules, live with the schemas.)
 */
export function issueMessage(iss: RawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined
        ? 'required'
        : `expected ${expectedName(iss.expected)}, got ${typeName(iss.input)}`;
    case 'too_small':
      if (iss.origin === 'string' && Number(iss.minimum) === 1) return 'must not be empty';
      if (iss.origin === 'array')
        return `must have at least ${iss.minimum} item${Number(iss.minimum) === 1 ? '' : 's'}`;
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
        return given === undefined
          ? `required, one of ${list}`
          : `must be one of ${list}, got ${JSON.stringify(given)}`;
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
